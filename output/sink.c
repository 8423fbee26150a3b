/* sink: one record at a time to every output — format it into each log's buffer, hand it to the
 * transport, account for it — the writer threads' callbacks, and the logs of an output that
 * rotate and reopen together. */
/* TIOCGWINSZ and struct winsize (the terminal width) are BSD/Linux, outside strict POSIX. */
#define _DEFAULT_SOURCE 1
#include "sink.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture.h"
#include "community_id.h"
#include "safe_open.h"
#include "writer.h"

bool sink_is_terminal(const struct transport_options *opt) {
    return !opt->path && isatty(STDOUT_FILENO);
}

#define TEXT_COLUMNS_DEFAULT 120

bool sink_any_terminal(const struct sink *s) {
    for (size_t k = 0; k < s->noutputs; k++)
        for (size_t i = 0; i < s->outputs[k]->nlogs; i++)
            if (sink_is_terminal(&s->outputs[k]->logs[i].transport.opt))
                return true;
    return false;
}

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

void sink_init(struct sink *s) {
    memset(s, 0, sizeof *s);
}

/* ---- opening ------------------------------------------------------------------------------- */

/* -o DIR: an existing directory, or a path ending in '/' (created if missing). */
static bool is_directory_target(const char *path) {
    struct stat st;
    size_t n = path ? strlen(path) : 0;
    return n && (path[n - 1] == '/' || (stat(path, &st) == 0 && S_ISDIR(st.st_mode)));
}

/* Room reserved in each log's buffer when it is opened, for the largest record (a JSON
 * connection record stays under 2 KB, docs/schema.md; a summary of many inputs is longer): the
 * memory of a record is had before any output is emptied, not at its first record. */
#define RECORD_RESERVE 16384

static bool log_open(struct sink_log *l, const struct transport_options *opt,
                     const struct format_ops *format, char *err, size_t errlen) {
    l->format = format;
    if (!outbuf_reserve(&l->buf, RECORD_RESERVE)) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    return transport_open(&l->transport, opt, err, errlen);
}

/* One file per log of the format, in the directory opt->path. */
static bool open_directory(struct sink_output *o, const struct transport_options *opt,
                           const struct format_ops *format, char *err, size_t errlen) {
    const char *dir = opt->path;
    if (!format->logs) {
        snprintf(err, errlen,
                 "-o %s is a directory: -F %s writes one stream, give a file name (a directory "
                 "takes -F zeek or zeek-json: DIR/conn.log and DIR/weird.log)",
                 dir, format->name);
        return false;
    }
    char why[512];
    if (!safe_open_path_allowed(dir, why, sizeof why)) { /* the directory a planted symlink? */
        snprintf(err, errlen, "-o %s: %s", dir, why);
        return false;
    }
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create the directory %s: %s", dir, strerror(errno));
        return false;
    }
    size_t n = strlen(dir);
    for (const struct format_log *fl = format->logs; fl->file && o->nlogs < SINK_LOGS_MAX; fl++) {
        struct sink_log *l = &o->logs[o->nlogs];
        size_t len = n + strlen(fl->file) + 2;
        l->path = malloc(len);
        if (!l->path) {
            snprintf(err, errlen, "out of memory");
            return false;
        }
        snprintf(l->path, len, "%s%s%s", dir, dir[n - 1] == '/' ? "" : "/", fl->file);
        struct transport_options file_opt = *opt;
        file_opt.path = l->path;
        if (!log_open(l, &file_opt, fl->format, err, errlen))
            return false;
        o->nlogs++;
    }
    return true;
}

static void output_free(struct sink_output *o) {
    for (size_t i = 0; i < SINK_LOGS_MAX; i++) {
        outbuf_free(&o->logs[i].buf);
        free(o->logs[i].path);
    }
    community_id_hasher_free(o->hasher);
    free(o);
}

bool sink_add(struct sink *s, const struct transport_options *opt, const struct format_ops *format,
              const struct record_options *record, char *err, size_t errlen) {
    if (s->noutputs == SINK_OUTPUTS_MAX) {
        snprintf(err, errlen, "at most %d outputs", SINK_OUTPUTS_MAX);
        return false;
    }
    struct sink_output *o = calloc(1, sizeof *o);
    if (!o) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    o->sink = s;
    o->record = *record;
    if (!o->record.text_columns)
        o->record.text_columns = text_columns(opt);
    bool dir = is_directory_target(opt->path);
    bool ok = dir ? open_directory(o, opt, format, err, errlen)
                  : log_open(&o->logs[0], opt, format, err, errlen);
    if (!ok) {
        for (size_t i = 0; i < o->nlogs; i++)
            o->logs[i].transport.ops->close(&o->logs[i].transport);
        output_free(o);
        return false;
    }
    if (!dir)
        o->nlogs = 1;
    /* a Redis transport has put *** for the password in its copy of the target */
    const char *t = o->logs[0].transport.opt.path;
    o->shown = dir ? opt->path : t ? t : "-";
    o->record.hasher = o->hasher = community_id_hasher_new();
    s->outputs[s->noutputs++] = o;
    return true;
}

bool sink_begin(struct sink *s, char *err, size_t errlen) {
    for (size_t k = 0; k < s->noutputs; k++)
        for (size_t i = 0; i < s->outputs[k]->nlogs; i++) {
            struct transport *t = &s->outputs[k]->logs[i].transport;
            if (t->ops->begin && !t->ops->begin(t, err, errlen))
                return false;
        }
    return true;
}

bool sink_open(struct sink *s, const struct transport_options *opt, const struct format_ops *format,
               const struct record_options *record, char *err, size_t errlen) {
    sink_init(s);
    return sink_add(s, opt, format, record, err, errlen) && sink_begin(s, err, errlen);
}

bool sink_close(struct sink *s) {
    bool ok = true;
    for (size_t k = 0; k < s->noutputs; k++) {
        struct sink_output *o = s->outputs[k];
        writer_stop(o->writer);
        bool closed = true;
        for (size_t i = 0; i < o->nlogs; i++)
            closed = o->logs[i].transport.ops->close(&o->logs[i].transport) && closed;
        ok = ok && (closed || o->broken_pipe); /* a reader gone: not this output's failure */
        output_free(o);
    }
    s->noutputs = 0;
    return ok;
}

uint64_t sink_rotations_failed(const struct sink *s) {
    uint64_t n = 0;
    for (size_t k = 0; k < s->noutputs; k++)
        for (size_t i = 0; i < s->outputs[k]->nlogs; i++)
            n += s->outputs[k]->logs[i].transport.rotations_failed;
    return n;
}

/* ---- accounting ---------------------------------------------------------------------------- */

static void count_lost(struct sink_output *o, _Atomic uint64_t *counter, uint64_t n) {
    *counter += n;
    o->sink->lost_records += n;
}

/* Records the transport took (counted written) and then could not deliver (a receiver that
 * went away): dropped instead, so written + dropped + failed is every record handed over. */
static void collect_transport_lost(struct sink_output *o, struct transport *t) {
    if (t->lost) {
        o->counts.written -= t->lost <= o->counts.written ? t->lost : o->counts.written;
        count_lost(o, &o->counts.dropped, t->lost);
    }
    t->lost = 0;
}

/* A failed write: a vanished reader ends the output quietly; a live receiver that is down
 * (ENOTCONN) drops the record; anything else (a full disk) is reported once and counted, and
 * later records are still attempted. */
static void write_failed(struct sink_output *o, struct transport *t) {
    if (errno == ENOTCONN && t->opt.live) { /* a receiver that is down (netout said so): dropped */
        count_lost(o, &o->counts.dropped, 1);
        return;
    }
    count_lost(o, &o->counts.failed, 1);
    if (errno == EPIPE) {
        o->broken_pipe = true;
        o->sink->broken_pipe = true;
        return;
    }
    if (!t->failed)
        fprintf(stderr, "shakedown: cannot write output%s%s: %s\n", t->opt.path ? " " : "",
                t->opt.path ? t->opt.path : "", strerror(errno));
    t->failed = true;
}

size_t sink_accounts(const struct sink *s, struct output_account *a) {
    for (size_t k = 0; k < s->noutputs; k++) {
        const struct sink_output *o = s->outputs[k];
        a[k] = (struct output_account){o->shown, o->logs[0].format->name, o->counts.written,
                                       o->counts.dropped, o->counts.failed};
    }
    return s->noutputs;
}

/* ---- writing ------------------------------------------------------------------------------- */

/* The context for formatting one record into the log's reset buffer; the transport is told
 * what the record is. */
static struct format_ctx record_start(struct sink_output *o, struct sink_log *l,
                                      enum transport_record_kind kind,
                                      enum anomaly_severity severity) {
    outbuf_reset(&l->buf);
    l->transport.record = (struct transport_record){kind, severity};
    return (struct format_ctx){&l->buf, &o->record, l->transport.bytes == 0};
}

/* Every log of the output with something written moved aside at once (the same time stamp in
 * their names), each ended by its format's trailer (Zeek's #close) first. */
static void output_rotate(struct sink_output *o, int64_t wall_ns) {
    for (size_t i = 0; i < o->nlogs; i++) {
        struct sink_log *l = &o->logs[i];
        if (l->format->trailer && l->transport.bytes > 0 && l->transport.out) {
            struct format_ctx f = record_start(o, l, TRANSPORT_RECORD_SUMMARY, SEVERITY_INFO);
            l->format->trailer(&f);
            if (l->buf.len && !l->transport.ops->write(&l->transport, l->buf.data, l->buf.len))
                write_failed(o, &l->transport);
        }
        if (l->transport.ops->rotate)
            l->transport.ops->rotate(&l->transport, wall_ns);
    }
}

/* Writes the formatted record (if the format wrote one) in one call to the transport. A log
 * that reached its size rotates its whole output. */
static void record_finish(struct sink_output *o, struct sink_log *l) {
    struct transport *t = &l->transport;
    if ((l->buf.len == 0 && !outbuf_failed(&l->buf)) || o->broken_pipe)
        return;
    if (outbuf_failed(&l->buf)) {
        errno = ENOMEM;
        write_failed(o, t);
        return;
    }
    if (t->ops->write(t, l->buf.data, l->buf.len))
        o->counts.written++;
    else
        write_failed(o, t);
    collect_transport_lost(o, t);
    if (t->rotate_pending)
        output_rotate(o, capture_wall_ns());
}

static void write_connection(void *ctx, const struct conn *c, bool final) {
    struct sink_output *o = ctx;
    for (size_t i = 0; i < o->nlogs; i++) {
        struct sink_log *l = &o->logs[i];
        struct format_ctx f = record_start(o, l, TRANSPORT_RECORD_CONNECTION, SEVERITY_INFO);
        l->format->connection(&f, c, final);
        record_finish(o, l);
    }
}

static void write_anomaly(void *ctx, const struct anomaly_event *ev) {
    struct sink_output *o = ctx;
    for (size_t i = 0; i < o->nlogs; i++) {
        struct sink_log *l = &o->logs[i];
        struct format_ctx f =
            record_start(o, l, TRANSPORT_RECORD_ANOMALY, anomaly_severity_of(ev->id));
        l->format->anomaly(&f, ev);
        record_finish(o, l);
    }
}

/* The writer has nothing more for now: a transport that batches delivers its batch. */
static void writer_idle(void *ctx) {
    struct sink_output *o = ctx;
    for (size_t i = 0; i < o->nlogs; i++) {
        struct transport *t = &o->logs[i].transport;
        if (!t->ops->flush)
            continue;
        t->ops->flush(t);
        collect_transport_lost(o, t);
    }
}

/* A stats record with every output's accounting as of now (on the writer's thread, live). */
static void write_stats(void *ctx, const struct live_stats *ls) {
    struct sink_output *o = ctx;
    struct output_account accounts[SINK_OUTPUTS_MAX];
    struct live_stats st = *ls;
    st.outputs = accounts;
    st.noutputs = sink_accounts(o->sink, accounts);
    st.records_lost = o->sink->lost_records;
    st.rotations_failed = sink_rotations_failed(o->sink);
    for (size_t i = 0; i < o->nlogs; i++) {
        struct sink_log *l = &o->logs[i];
        struct format_ctx f = record_start(o, l, TRANSPORT_RECORD_STATS, SEVERITY_INFO);
        l->format->stats(&f, &st);
        record_finish(o, l);
    }
}

static const struct writer_callbacks sink_writer_callbacks = {write_connection, write_anomaly,
                                                              write_stats, writer_idle};

bool sink_start_writer(struct sink *s, size_t queue_len, bool live) {
    bool all = true;
    s->dropping = live;
    for (size_t k = 0; k < s->noutputs; k++) {
        struct sink_output *o = s->outputs[k];
        o->writer = writer_start(&sink_writer_callbacks, o, queue_len, live);
        all = all && o->writer;
    }
    return all;
}

void sink_drain(struct sink *s) {
    for (size_t k = 0; k < s->noutputs; k++)
        if (s->outputs[k]->writer)
            writer_drain(s->outputs[k]->writer);
}

/* A record the output's full queue could not take (live). */
static void queue_dropped(struct sink_output *o) {
    count_lost(o, &o->counts.dropped, 1);
}

void sink_connection(struct sink *s, const struct conn *c, bool final) {
    for (size_t k = 0; k < s->noutputs; k++) {
        struct sink_output *o = s->outputs[k];
        if (!o->writer)
            write_connection(o, c, final);
        else if (!writer_connection(o->writer, c, final))
            queue_dropped(o);
    }
}

void sink_anomaly(struct sink *s, const struct anomaly_event *ev) {
    for (size_t k = 0; k < s->noutputs; k++) {
        struct sink_output *o = s->outputs[k];
        if (!o->writer)
            write_anomaly(o, ev);
        else if (!writer_anomaly(o->writer, ev))
            queue_dropped(o);
    }
}

/* Live, stats records are queued like the others (the capture never waits for an output);
 * else they are written once every record before them is. */
void sink_stats(struct sink *s, const struct live_stats *ls) {
    if (!s->dropping)
        sink_drain(s);
    for (size_t k = 0; k < s->noutputs; k++) {
        struct sink_output *o = s->outputs[k];
        if (!o->writer || !s->dropping)
            write_stats(o, ls);
        else if (!writer_stats(o->writer, ls))
            queue_dropped(o);
    }
}

void sink_summary(struct sink *s, const struct run_stats *st, const struct input_report *inputs,
                  size_t ninputs, double run_seconds) {
    sink_drain(s);
    struct output_account accounts[SINK_OUTPUTS_MAX];
    struct run_stats summary = *st;
    summary.outputs = accounts;
    summary.noutputs = sink_accounts(s, accounts);
    st = &summary;
    for (size_t k = 0; k < s->noutputs; k++) {
        struct sink_output *o = s->outputs[k];
        for (size_t i = 0; i < o->nlogs; i++) {
            struct sink_log *l = &o->logs[i];
            struct format_ctx f = record_start(o, l, TRANSPORT_RECORD_SUMMARY, SEVERITY_INFO);
            l->format->summary(&f, st, inputs, ninputs, run_seconds);
            record_finish(o, l);
        }
    }
}

/* Only outputs that reopen are drained first: a slow network receiver must not hold up the
 * capture (live). */
void sink_reopen(struct sink *s) {
    int64_t now = capture_wall_ns();
    for (size_t k = 0; k < s->noutputs; k++) {
        struct sink_output *o = s->outputs[k];
        if (!o->logs[0].transport.ops->reopen)
            continue;
        if (o->writer)
            writer_drain(o->writer);
        for (size_t i = 0; i < o->nlogs; i++)
            o->logs[i].transport.ops->reopen(&o->logs[i].transport, now);
    }
}

/* Rotation by age: when any log of an output is due, the whole output rotates. */
void sink_tick(struct sink *s, int64_t wall_ns) {
    for (size_t k = 0; k < s->noutputs; k++) {
        struct sink_output *o = s->outputs[k];
        bool due = false;
        for (size_t i = 0; i < o->nlogs && !due; i++) {
            const struct transport *t = &o->logs[i].transport;
            due = t->ops->rotation_due && t->ops->rotation_due(t, wall_ns);
        }
        if (!due)
            continue;
        if (o->writer)
            writer_drain(o->writer);
        output_rotate(o, wall_ns);
    }
}
