/* sink: where records go — standard output or a file (-o), as text or JSON lines — written and
 * flushed one whole record at a time as soon as it exists. The file can be reopened (SIGHUP,
 * for logrotate's create mode) or rotated by size or age to a timestamped name, always between
 * records. A reader that goes away (broken pipe) is noticed; a failing write is reported once,
 * counted, and writing goes on.
 *
 * With sink_start_writer, records are formatted and written by a writer thread of their own (the
 * second core), fed through a bounded queue in the order they were produced: the analysis hands
 * over a copy of each connection and goes on. Everything else (stats, summary, reopen,
 * rotation, close) first waits for the queue to drain, so the order of records never changes.
 * Every record is still written and flushed whole, one at a time, as soon as the writer gets to
 * it. */
#ifndef SHAKEDOWN_SINK_H
#define SHAKEDOWN_SINK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "conn.h"
#include "record.h"
#include "stats.h"
#include "tracker.h"

enum sink_format { SINK_TEXT, SINK_JSON };

struct sink_options {
    const char *path;      /* NULL: standard output */
    uint64_t rotate_bytes; /* rotate once the file holds this much (0: never) */
    int64_t rotate_ns;     /* rotate when the file is this old (0: never) */
};

struct sink {
    FILE *out;
    struct sink_options opt;
    enum sink_format format;
    struct record_options record;
    bool header_written;
    bool failed;                   /* a write failed (reported once on stderr) */
    _Atomic bool broken_pipe;      /* the reader went away: nothing more can be written */
    _Atomic uint64_t lost_records; /* records that could not be written */
    uint64_t file_bytes;           /* bytes in the current file */
    _Atomic int64_t opened_ns;     /* wall clock when the current file was opened */
    uint32_t rotations;
    struct json_object *conn_tree[2]; /* reused connection record: [0] TCP, [1] UDP/ICMP */
    struct sink_writer *writer;       /* the writer thread, if started */
    struct community_id_hasher *hasher;
};

/* Opens the output; false with a one-line reason in err. The format may be SINK_TEXT or
 * SINK_JSON; main decides (text on a terminal). */
bool sink_open(struct sink *s, const struct sink_options *opt, enum sink_format format,
               const struct record_options *record, char *err, size_t errlen);

/* True if the output is a terminal (to pick the default format before sink_open). */
bool sink_is_terminal(const struct sink_options *opt);

/* Starts the writer thread: from now on connection records and anomalies are queued and written
 * by it. False (and records are written synchronously, as before) if it cannot be started. */
bool sink_start_writer(struct sink *s);

/* Waits until every queued record has been written (a no-op without a writer thread). */
void sink_drain(struct sink *s);

/* Flushes and closes a file output (stopping the writer thread); false if that failed. */
bool sink_close(struct sink *s);

/* SIGHUP: closes and reopens the file by its name (appending), so a file renamed away by
 * logrotate is left complete and a new one is started. */
void sink_reopen(struct sink *s);

/* Time-based rotation: call now and then with the wall clock. */
void sink_tick(struct sink *s, int64_t wall_ns);

/* One connection that has ended (final) or is still open (interim). */
void sink_connection(struct sink *s, const struct conn *c, bool final);

/* One anomaly, as it is detected. In text form only host-level anomalies and those that come
 * after their connection's line (late packets) are written here; the others are listed under
 * their connection. */
void sink_anomaly(struct sink *s, const struct anomaly_event *ev);

/* A periodic statistics record (live capture). */
void sink_stats(struct sink *s, const struct live_stats *ls);

/* The run summary (last record). */
void sink_summary(struct sink *s, const struct run_stats *st, const struct input_report *inputs,
                  size_t ninputs, double run_seconds);

#endif
