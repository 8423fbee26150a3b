/* sink: an output — a format (how records are written: format.h) over a transport (where the
 * bytes go: transport.h). Each record is formatted whole into a reused buffer and handed to the
 * transport in one write as soon as it exists. A reader that goes away (broken pipe) is noticed;
 * a failing write is reported once, counted, and writing goes on.
 *
 * With sink_start_writer, connection and anomaly records are formatted and written by a writer
 * thread of their own (writer.h), in the order they were produced. Everything else (stats,
 * summary, reopen, rotation, close) first waits for its queue to drain, so the order of records
 * never changes. */
#ifndef SHAKEDOWN_SINK_H
#define SHAKEDOWN_SINK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "conn.h"
#include "format.h"
#include "outbuf.h"
#include "stats.h"
#include "tracker.h"
#include "transport.h"

struct sink {
    const struct format_ops *format;
    struct record_options record;
    struct transport transport;
    struct outbuf buf;             /* the record being written (the writer thread's, if any) */
    _Atomic bool broken_pipe;      /* the reader went away: nothing more can be written */
    _Atomic uint64_t lost_records; /* records that could not be written */
    struct writer *writer;         /* the writer thread, if started */
    struct community_id_hasher *hasher;
};

/* Opens the output, writing records in the given format; false with a one-line reason in err. */
bool sink_open(struct sink *s, const struct transport_options *opt, const struct format_ops *format,
               const struct record_options *record, char *err, size_t errlen);

/* True if the output is a terminal (to pick the default format before sink_open). */
bool sink_is_terminal(const struct transport_options *opt);

/* Starts the writer thread: from now on connection records and anomalies are queued and written
 * by it. False (and records are written synchronously, as before) if it cannot be started. */
bool sink_start_writer(struct sink *s);

/* Waits until every queued record has been written (a no-op without a writer thread). */
void sink_drain(struct sink *s);

/* Flushes and closes the output (stopping the writer thread); false if that failed. */
bool sink_close(struct sink *s);

/* SIGHUP: closes and reopens a file by its name (appending), so a file renamed away by
 * logrotate is left complete and a new one is started. */
void sink_reopen(struct sink *s);

/* Time-based rotation: call now and then with the wall clock. */
void sink_tick(struct sink *s, int64_t wall_ns);

/* One connection that has ended (final) or is still open (interim). */
void sink_connection(struct sink *s, const struct conn *c, bool final);

/* One anomaly, as it is detected (the format decides whether it is a record of its own). */
void sink_anomaly(struct sink *s, const struct anomaly_event *ev);

/* A periodic statistics record (live capture). */
void sink_stats(struct sink *s, const struct live_stats *ls);

/* The run summary (last record). */
void sink_summary(struct sink *s, const struct run_stats *st, const struct input_report *inputs,
                  size_t ninputs, double run_seconds);

#endif
