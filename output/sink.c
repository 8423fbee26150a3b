/* sink: one record at a time to standard output or a file, with reopen and rotation between
 * records. stdio buffers a record and the explicit flush after it hands the whole line to the
 * kernel, so a reader tailing the output sees complete lines as soon as they exist. */
#include "sink.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "text.h"
#include "timefmt.h"

static int64_t wall_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static FILE *open_path(const char *path, const char *mode) {
    FILE *f = fopen(path, mode);
    if (f)
        setvbuf(f, NULL, _IOFBF, 1 << 16);
    return f;
}

bool sink_is_terminal(const struct sink_options *opt) {
    return !opt->path && isatty(STDOUT_FILENO);
}

bool sink_open(struct sink *s, const struct sink_options *opt, enum sink_format format,
               const struct record_options *record, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    s->opt = *opt;
    s->format = format;
    s->record = *record;
    s->opened_ns = wall_now_ns();
    s->out = opt->path ? open_path(opt->path, "w") : stdout;
    if (!s->out) {
        snprintf(err, errlen, "cannot open output %s: %s", opt->path, strerror(errno));
        return false;
    }
    return true;
}

bool sink_close(struct sink *s) {
    for (int i = 0; i < 2; i++) {
        json_object_put(s->conn_tree[i]);
        s->conn_tree[i] = NULL;
    }
    if (!s->out || s->out == stdout)
        return s->out ? fflush(stdout) == 0 || s->broken_pipe : true;
    bool ok = fclose(s->out) == 0;
    s->out = NULL;
    return ok;
}

/* A failed write: a vanished reader ends the output quietly; anything else (a full disk) is
 * reported once and counted, and later records are still attempted. */
static void sink_check(struct sink *s, bool ok) {
    if (ok)
        return;
    s->lost_records++;
    if (errno == EPIPE) {
        s->broken_pipe = true;
        return;
    }
    if (!s->failed)
        fprintf(stderr, "shakedown: cannot write output%s%s: %s\n", s->opt.path ? " " : "",
                s->opt.path ? s->opt.path : "", strerror(errno));
    s->failed = true;
    if (s->out)
        clearerr(s->out);
}

/* The name a rotated file is given: path.YYYYmmddTHHMMSSZ, with .N added if that exists. */
static void rotated_name(char *buf, size_t len, const char *path, int64_t wall_ns) {
    time_t t = (time_t)(wall_ns / 1000000000);
    struct tm tm;
    char stamp[32] = "unknown";
    if (gmtime_r(&t, &tm))
        strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(buf, len, "%s.%s", path, stamp);
    struct stat st;
    for (int n = 1; stat(buf, &st) == 0 && n < 1000; n++)
        snprintf(buf, len, "%s.%s.%d", path, stamp, n);
}

static void sink_rotate(struct sink *s, int64_t wall_ns) {
    char name[4096];
    if (!s->opt.path || !s->out)
        return;
    fclose(s->out);
    rotated_name(name, sizeof name, s->opt.path, wall_ns);
    if (rename(s->opt.path, name) != 0)
        fprintf(stderr, "shakedown: cannot rotate %s: %s\n", s->opt.path, strerror(errno));
    s->out = open_path(s->opt.path, "w");
    if (!s->out) {
        fprintf(stderr, "shakedown: cannot open output %s: %s\n", s->opt.path, strerror(errno));
        s->failed = true;
    }
    s->file_bytes = 0;
    s->opened_ns = wall_ns;
    s->header_written = false;
    s->rotations++;
}

void sink_reopen(struct sink *s) {
    if (!s->opt.path)
        return;
    if (s->out)
        fclose(s->out);
    s->out = open_path(s->opt.path, "a");
    if (!s->out) {
        fprintf(stderr, "shakedown: cannot reopen output %s: %s\n", s->opt.path, strerror(errno));
        s->failed = true;
        return;
    }
    struct stat st;
    s->file_bytes = fstat(fileno(s->out), &st) == 0 ? (uint64_t)st.st_size : 0;
    s->opened_ns = wall_now_ns();
    s->header_written = s->file_bytes > 0;
}

void sink_tick(struct sink *s, int64_t wall_ns) {
    if (s->opt.rotate_ns > 0 && s->file_bytes > 0 && wall_ns - s->opened_ns >= s->opt.rotate_ns)
        sink_rotate(s, wall_ns);
}

/* Starts a record: nothing can be written once the reader is gone or the file is lost. */
static bool record_begin(struct sink *s) {
    if (s->broken_pipe)
        return false;
    if (!s->out) {
        s->lost_records++;
        return false;
    }
    return true;
}

/* Ends a record: flush it whole, count it, rotate by size between records. */
static void record_end(struct sink *s, long start) {
    bool ok = fflush(s->out) == 0 && !ferror(s->out);
    sink_check(s, ok);
    if (!ok || !s->opt.path)
        return;
    long end = ftell(s->out);
    if (end >= start && start >= 0)
        s->file_bytes += (uint64_t)(end - start);
    if (s->opt.rotate_bytes && s->file_bytes >= s->opt.rotate_bytes)
        sink_rotate(s, wall_now_ns());
}

static void sink_json(struct sink *s, struct json_object *rec) {
    if (record_begin(s)) {
        long start = s->opt.path ? ftell(s->out) : 0;
        json_write_record(s->out, rec);
        record_end(s, start);
    }
    json_object_put(rec);
}

void sink_connection(struct sink *s, const struct conn *c, bool final) {
    if (s->format == SINK_JSON) {
        struct json_object **tree = &s->conn_tree[c->e.key.proto == 6 ? 0 : 1];
        if (!*tree && !(*tree = json_object_new_object())) {
            s->lost_records++;
            return;
        }
        record_connection_fill(*tree, c, final, &s->record);
        if (record_begin(s)) {
            long start = s->opt.path ? ftell(s->out) : 0;
            json_write_record(s->out, *tree);
            record_end(s, start);
        }
        return;
    }
    if (!record_begin(s))
        return;
    long start = s->opt.path ? ftell(s->out) : 0;
    if (!s->header_written) {
        text_write_connection_header(s->out);
        s->header_written = true;
    }
    text_write_connection(s->out, c, final);
    record_end(s, start);
}

void sink_anomaly(struct sink *s, const struct anomaly_event *ev) {
    if (s->format == SINK_JSON) {
        sink_json(s, record_anomaly(ev, &s->record));
        return;
    }
    /* In text, connection anomalies are listed under their connection; those that come after
     * its line (late packets) and host-level ones get a line of their own. */
    if ((ev->key && !anomaly_after_close(ev->id)) || !record_begin(s))
        return;
    long start = s->opt.path ? ftell(s->out) : 0;
    text_write_anomaly(s->out, ev);
    record_end(s, start);
}

void sink_stats(struct sink *s, const struct live_stats *ls) {
    if (s->format == SINK_JSON) {
        sink_json(s, record_stats(ls, &s->record));
        return;
    }
    if (!record_begin(s))
        return;
    long start = s->opt.path ? ftell(s->out) : 0;
    text_write_stats(s->out, ls);
    record_end(s, start);
}

void sink_summary(struct sink *s, const struct run_stats *st, const struct input_report *inputs,
                  size_t ninputs, double run_seconds) {
    if (s->format == SINK_JSON) {
        sink_json(s, record_summary(st, inputs, ninputs, run_seconds, &s->record));
        return;
    }
    if (!record_begin(s))
        return;
    long start = s->opt.path ? ftell(s->out) : 0;
    text_write_summary(s->out, st, inputs, ninputs);
    record_end(s, start);
}
