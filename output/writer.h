/* writer: a thread of its own (the second core) that writes connection and anomaly records, fed
 * through a bounded queue in the order they were produced. The analysis hands over a copy of
 * each record's data and goes on; the writer calls back into its owner to format and write it.
 *
 * What a job copies: the struct conn and its anomaly list (a block of the tracker's pool, reused
 * once the connection is gone), an anomaly event with its flow key and host address. A copied
 * connection's tcp.holes is set to NULL: it points into the tracker's pool, which the analysis
 * goes on changing, and no record reads it (the byte counts it feeds are in the endpoints). */
#ifndef SHAKEDOWN_WRITER_H
#define SHAKEDOWN_WRITER_H

#include <stdbool.h>

#include "conn.h"
#include "tracker.h"

struct writer_callbacks {
    void (*connection)(void *ctx, const struct conn *c, bool final);
    void (*anomaly)(void *ctx, const struct anomaly_event *ev);
    /* Everything queued has been written and nothing more came for a moment (NULL: not
     * wanted). Called before writer_drain returns, so the owner may finish a batch here. */
    void (*idle)(void *ctx);
};

struct writer;

/* Starts the thread; NULL if it cannot be started (the caller then writes synchronously). */
struct writer *writer_start(const struct writer_callbacks *cb, void *ctx);

/* Queue a record (waits while the queue is full). */
void writer_connection(struct writer *w, const struct conn *c, bool final);
void writer_anomaly(struct writer *w, const struct anomaly_event *ev);

/* Waits until every queued record has been written. */
void writer_drain(struct writer *w);

/* Drains the queue, stops the thread and frees w (NULL: nothing to do). */
void writer_stop(struct writer *w);

#endif
