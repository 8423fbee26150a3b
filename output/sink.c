/* sink: one record at a time — format it into the buffer, hand it to the transport, account
 * for it — and the writer thread's callbacks. */
/* TIOCGWINSZ and struct winsize (the terminal width) are BSD/Linux, outside strict POSIX. */
#define _DEFAULT_SOURCE 1
#include "sink.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "capture.h"
#include "community_id.h"
#include "writer.h"

bool sink_is_terminal(const struct transport_options *opt) {
    return !opt->path && isatty(STDOUT_FILENO);
}

#define TEXT_COLUMNS_DEFAULT 120

/* The width text rows must fit: the terminal's (standard output), else $COLUMNS as shells and
 * tools set it, else 120. */
static unsigned text_columns(const struct transport_options *opt) {
    struct winsize ws;
    if (!opt->path && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    const char *env = getenv("COLUMNS");
    char *end;
    unsigned long n = env ? strtoul(env, &end, 10) : 0;
    return env && *env && !*end && n >= 40 && n <= 1000 ? (unsigned)n : TEXT_COLUMNS_DEFAULT;
}

bool sink_open(struct sink *s, const struct transport_options *opt, const struct format_ops *format,
               const struct record_options *record, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    s->format = format;
    s->record = *record;
    if (!s->record.text_columns)
        s->record.text_columns = text_columns(opt);
    if (!transport_open(&s->transport, opt, err, errlen))
        return false;
    s->record.hasher = s->hasher = community_id_hasher_new();
    return true;
}

bool sink_close(struct sink *s) {
    writer_stop(s->writer);
    s->writer = NULL;
    community_id_hasher_free(s->hasher);
    s->hasher = NULL;
    s->record.hasher = NULL;
    outbuf_free(&s->buf);
    return s->transport.ops->close(&s->transport) || s->broken_pipe;
}

/* A failed write: a vanished reader ends the output quietly; anything else (a full disk) is
 * reported once and counted, and later records are still attempted. */
static void write_failed(struct sink *s) {
    struct transport *t = &s->transport;
    s->lost_records++;
    if (errno == EPIPE) {
        s->broken_pipe = true;
        return;
    }
    if (!t->failed)
        fprintf(stderr, "shakedown: cannot write output%s%s: %s\n", t->opt.path ? " " : "",
                t->opt.path ? t->opt.path : "", strerror(errno));
    t->failed = true;
}

/* The context for formatting one record into the reset buffer; the transport is told what the
 * record is. */
static struct format_ctx record_start(struct sink *s, enum transport_record_kind kind,
                                      enum anomaly_severity severity) {
    outbuf_reset(&s->buf);
    s->transport.record = (struct transport_record){kind, severity};
    return (struct format_ctx){&s->buf, &s->record, s->transport.bytes == 0};
}

/* Writes the formatted record (if the format wrote one) in one call to the transport. */
static void record_finish(struct sink *s) {
    if (s->buf.len == 0 && !outbuf_failed(&s->buf))
        return;
    if (s->broken_pipe)
        return;
    if (outbuf_failed(&s->buf)) {
        errno = ENOMEM;
        write_failed(s);
        return;
    }
    if (!s->transport.ops->write(&s->transport, s->buf.data, s->buf.len))
        write_failed(s);
    s->lost_records += s->transport.lost; /* records of an earlier batch it could not deliver */
    s->transport.lost = 0;
}

static void write_connection(void *ctx, const struct conn *c, bool final) {
    struct sink *s = ctx;
    struct format_ctx f = record_start(s, TRANSPORT_RECORD_CONNECTION, SEVERITY_INFO);
    s->format->connection(&f, c, final);
    record_finish(s);
}

static void write_anomaly(void *ctx, const struct anomaly_event *ev) {
    struct sink *s = ctx;
    struct format_ctx f = record_start(s, TRANSPORT_RECORD_ANOMALY, anomaly_severity_of(ev->id));
    s->format->anomaly(&f, ev);
    record_finish(s);
}

/* The writer has nothing more for now: a transport that batches delivers its batch. */
static void writer_idle(void *ctx) {
    struct sink *s = ctx;
    if (!s->transport.ops->flush)
        return;
    s->transport.ops->flush(&s->transport);
    s->lost_records += s->transport.lost;
    s->transport.lost = 0;
}

static const struct writer_callbacks sink_writer_callbacks = {write_connection, write_anomaly,
                                                              writer_idle};

bool sink_start_writer(struct sink *s) {
    s->writer = writer_start(&sink_writer_callbacks, s);
    return s->writer != NULL;
}

void sink_drain(struct sink *s) {
    if (s->writer)
        writer_drain(s->writer);
}

void sink_connection(struct sink *s, const struct conn *c, bool final) {
    if (s->writer)
        writer_connection(s->writer, c, final);
    else
        write_connection(s, c, final);
}

void sink_anomaly(struct sink *s, const struct anomaly_event *ev) {
    if (s->writer)
        writer_anomaly(s->writer, ev);
    else
        write_anomaly(s, ev);
}

void sink_stats(struct sink *s, const struct live_stats *ls) {
    sink_drain(s);
    struct format_ctx f = record_start(s, TRANSPORT_RECORD_STATS, SEVERITY_INFO);
    s->format->stats(&f, ls);
    record_finish(s);
}

void sink_summary(struct sink *s, const struct run_stats *st, const struct input_report *inputs,
                  size_t ninputs, double run_seconds) {
    sink_drain(s);
    struct format_ctx f = record_start(s, TRANSPORT_RECORD_SUMMARY, SEVERITY_INFO);
    s->format->summary(&f, st, inputs, ninputs, run_seconds);
    record_finish(s);
}

void sink_reopen(struct sink *s) {
    if (!s->transport.ops->reopen)
        return;
    sink_drain(s);
    s->transport.ops->reopen(&s->transport, capture_wall_ns());
}

void sink_tick(struct sink *s, int64_t wall_ns) {
    const struct transport_ops *ops = s->transport.ops;
    if (!ops->rotation_due || !ops->rotation_due(&s->transport, wall_ns))
        return;
    sink_drain(s);
    ops->rotate(&s->transport, wall_ns);
}
