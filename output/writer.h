/* writer: a thread of its own (the second core) that writes connection, anomaly and (live)
 * stats records, fed through a bounded queue in the order they were produced. The analysis hands
 * over a copy of each record's data and goes on; the writer calls back into its owner to format
 * and write it. While the queue is full the analysis waits (reading files: nothing is dropped),
 * or, started with drop_when_full (live: the capture must never wait for an output), the record
 * is not queued and the call says so, for the owner to count.
 *
 * What a job copies: the struct conn and its anomaly list (a block of the tracker's pool, reused
 * once the connection is gone), an anomaly event with its flow key and host address. A copied
 * connection's tcp.holes is set to NULL: it points into the tracker's pool, which the analysis
 * goes on changing, and no record reads it (the byte counts it feeds are in the endpoints). */
#ifndef SHAKEDOWN_WRITER_H
#define SHAKEDOWN_WRITER_H

#include <stdbool.h>
#include <stddef.h>

#include "conn.h"
#include "stats.h"
#include "tracker.h"

struct writer_callbacks {
    void (*connection)(void *ctx, const struct conn *c, bool final);
    void (*anomaly)(void *ctx, const struct anomaly_event *ev);
    void (*stats)(void *ctx, const struct live_stats *ls);
    /* Everything queued has been written and nothing more came for a moment (NULL: not
     * wanted). Called before writer_drain returns, so the owner may finish a batch here. */
    void (*idle)(void *ctx);
};

struct writer;

/* The queue's length by default, in records (about 750 bytes each). Live, the
 * queue is all that absorbs a mass close or a receiver that is slow for a while, since the capture
 * never waits: 16384 (about 12 MB). Reading files the analysis waits for room, so the queue only
 * smooths the two threads' pace: 1024 (under 1 MB) is as fast and 11 MB smaller (W2). */
#define WRITER_QUEUE_LIVE_DEFAULT 16384
#define WRITER_QUEUE_FILE_DEFAULT 1024

/* Starts the thread with a queue of queue_len records (0: the default for drop_when_full, i.e.
 * live, or for files); NULL if it cannot be started (the caller then writes synchronously). */
struct writer *writer_start(const struct writer_callbacks *cb, void *ctx, size_t queue_len,
                            bool drop_when_full);

/* Queue a record; false if it was dropped (drop_when_full, and the queue was full). */
bool writer_connection(struct writer *w, const struct conn *c, bool final);
bool writer_anomaly(struct writer *w, const struct anomaly_event *ev);
bool writer_stats(struct writer *w, const struct live_stats *ls);

/* Waits until every queued record has been written. */
void writer_drain(struct writer *w);

/* Drains the queue, stops the thread and frees w (NULL: nothing to do). */
void writer_stop(struct writer *w);

#endif
