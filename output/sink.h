/* sink: where records go — one or more outputs (-o may repeat), each a format (how records are
 * written: format.h) over a transport (where the bytes go: transport.h); every record goes to
 * every output. Each record is formatted whole into a reused buffer and handed to the
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

/* One file or stream of an output: a format over a transport. */
struct sink_log {
    const struct format_ops *format;
    struct transport transport;
    struct outbuf buf; /* the record being written (the writer thread's, if any) */
    char *path;        /* -o DIR: DIR/<the log's file>, owned */
};

/* -o DIR with a format of several logs (Zeek: conn.log and weird.log) */
#define SINK_LOGS_MAX 4

/* What became of the records an output was given. */
struct sink_counts {
    _Atomic uint64_t written; /* handed to the transport and not reported lost by it */
    _Atomic uint64_t dropped; /* never delivered: a live receiver that was down or too slow */
    _Atomic uint64_t failed;  /* a write that failed (a full disk, out of memory) */
};

/* One -o: its logs (one, or one per log file in a directory), which rotate and reopen
 * together, written by one writer thread in the order records were produced. */
struct sink_output {
    struct sink *sink; /* the owner, whose totals it adds to */
    const char *shown; /* as records and messages name it ("-", a password as ***) */
    struct sink_log logs[SINK_LOGS_MAX];
    size_t nlogs;
    struct record_options record;
    struct community_id_hasher *hasher;
    struct writer *writer; /* the writer thread, if started */
    struct sink_counts counts;
    _Atomic bool broken_pipe; /* its reader went away: nothing more can be written */
};

#define SINK_OUTPUTS_MAX 16

struct sink {
    struct sink_output *outputs[SINK_OUTPUTS_MAX];
    size_t noutputs;
    bool dropping;                 /* the writers drop what their full queue cannot take (live) */
    _Atomic bool broken_pipe;      /* an output's reader went away: the run stops */
    _Atomic uint64_t lost_records; /* records that could not be written, all outputs */
};

/* An empty sink: add its outputs with sink_add. */
void sink_init(struct sink *s);

/* Adds an output writing records in the given format to opt's target; false with a one-line
 * reason in err. A directory (an existing one, or a path ending in '/', created if missing)
 * takes one file per log of the format (format_ops.logs); a format of one stream refuses it.
 * An existing file is opened as it is: sink_begin empties it. */
bool sink_add(struct sink *s, const struct transport_options *opt, const struct format_ops *format,
              const struct record_options *record, char *err, size_t errlen);

/* Every output has been added: their files are emptied now (transport_ops.begin), so an output
 * that could not be added left every other as it was. False with a one-line reason in err. */
bool sink_begin(struct sink *s, char *err, size_t errlen);

/* sink_init, sink_add and sink_begin: a sink of one output. */
bool sink_open(struct sink *s, const struct transport_options *opt, const struct format_ops *format,
               const struct record_options *record, char *err, size_t errlen);

/* Rotations that did not happen, all outputs. */
uint64_t sink_rotations_failed(const struct sink *s);

/* Every output's counts as of now (a[SINK_OUTPUTS_MAX]), for the records that carry them;
 * returns how many outputs. */
size_t sink_accounts(const struct sink *s, struct output_account *a);

/* True if the output is a terminal (to pick the default format before sink_open). */
bool sink_is_terminal(const struct transport_options *opt);

/* True if any of the sink's outputs writes to a terminal. */
bool sink_any_terminal(const struct sink *s);

/* Starts a writer thread per output, each with a queue of queue_len records (0: the default,
 * writer.h's, live or for files): from now on connection and anomaly records are queued and written
 * by them. live: the capture must never wait for an output, so a record its full queue cannot take
 * is dropped and counted (the output's `dropped`), and stats records are queued too; else the
 * analysis waits for room. False if a thread cannot be started (its output is then written
 * synchronously, as before). */
bool sink_start_writer(struct sink *s, size_t queue_len, bool live);

/* Waits until every queued record has been written (a no-op without a writer thread). */
void sink_drain(struct sink *s);

/* Flushes and closes every output (stopping the writer threads); false if one failed. */
bool sink_close(struct sink *s);

/* SIGHUP: closes and reopens each file by its name (appending), so a file renamed away by
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
