/* sink: one record at a time to standard output or a file, with reopen and rotation between
 * records. stdio buffers a record and the explicit flush after it hands the whole line to the
 * kernel, so a reader tailing the output sees complete lines as soon as they exist. */
#include "sink.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "community_id.h"
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
    s->record.hasher = s->hasher = community_id_hasher_new();
    return true;
}

static void writer_stop(struct sink *s);

bool sink_close(struct sink *s) {
    writer_stop(s);
    community_id_hasher_free(s->hasher);
    s->hasher = NULL;
    s->record.hasher = NULL;
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
    sink_check(s, fclose(s->out) == 0);
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
    sink_drain(s);
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
    if (s->opt.rotate_ns <= 0 || wall_ns - s->opened_ns < s->opt.rotate_ns)
        return; /* opened_ns is atomic: the writer thread sets it when it rotates by size */
    sink_drain(s);
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

/* Ends a record: flush it whole, count it, rotate by size between records. (With the writer
 * thread too: one write per record keeps every record all-or-nothing on a pipe and the count of
 * lost records exact, and the write costs the writer's core, not the analysis'.) */
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

static void write_connection(struct sink *s, const struct conn *c, bool final) {
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

static void write_anomaly(struct sink *s, const struct anomaly_event *ev) {
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
    sink_drain(s);
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
    sink_drain(s);
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

/* ---- the writer thread ----------------------------------------------------------------------
 * A ring of jobs with one producer (the analysis) and one consumer (the writer). The producer
 * fills the slot at `tail` on its own and then publishes it under the lock (a cheap, uncontended
 * lock per record, and a wake-up only when the writer sleeps, so a record never waits for others
 * to come: `shakedown -r -` fed by tcpdump writes each one at once). The writer takes everything
 * published, writes it without the lock, and only then moves `head` on, so head == tail means
 * every record handed over has been written. */

#define WRITER_QUEUE_LEN 16384 /* jobs, about 10 MB: absorbs the burst of a mass close */

enum writer_job_kind { JOB_CONNECTION, JOB_ANOMALY };

struct writer_job {
    uint8_t kind; /* enum writer_job_kind */
    bool final;
    union {
        struct {
            struct conn conn; /* its anomalies point to the copy below */
            struct conn_anomalies anomalies;
        } connection;
        struct {
            struct anomaly_event ev; /* key and host point into this job */
            struct flow_key key;
            uint8_t host[16];
        } anomaly;
    } u;
};

struct sink_writer {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t work;  /* a job published, or quit */
    pthread_cond_t space; /* head moved on */
    struct writer_job *jobs;
    uint64_t head;              /* lock: jobs before it have been written */
    uint64_t tail;              /* lock: jobs before it are published */
    _Atomic uint64_t tail_hint; /* tail, readable without the lock (the writer's short wait) */
    bool idle;                  /* lock: the writer waits for work */
    bool quit;                  /* lock: no more jobs will come */
};

static void writer_run_job(struct sink *s, struct writer_job *j) {
    if (j->kind == JOB_CONNECTION) {
        write_connection(s, &j->u.connection.conn, j->final);
        return;
    }
    struct anomaly_event *ev = &j->u.anomaly.ev;
    if (ev->key)
        ev->key = &j->u.anomaly.key;
    if (ev->host)
        ev->host = j->u.anomaly.host;
    write_anomaly(s, ev);
}

/* Before sleeping, the writer watches for the next job for a few microseconds: records often
 * come a few microseconds apart, and a sleeping writer costs the analysis a wake-up (a system
 * call and a context switch) per record. */
#define WRITER_SPIN_NS 50000

static void writer_spin(struct sink_writer *w, uint64_t head) {
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (unsigned i = 1;; i++) {
        if (atomic_load_explicit(&w->tail_hint, memory_order_relaxed) != head)
            return;
        if (i % 64 == 0) {
            clock_gettime(CLOCK_MONOTONIC, &t);
            if ((t.tv_sec - t0.tv_sec) * 1000000000 + (t.tv_nsec - t0.tv_nsec) > WRITER_SPIN_NS)
                return;
        }
    }
}

static void *writer_main(void *arg) {
    struct sink *s = arg;
    struct sink_writer *w = s->writer;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        if (w->head == w->tail && !w->quit) {
            uint64_t head = w->head;
            pthread_mutex_unlock(&w->lock);
            writer_spin(w, head);
            pthread_mutex_lock(&w->lock);
        }
        while (w->head == w->tail && !w->quit) {
            w->idle = true;
            pthread_cond_wait(&w->work, &w->lock);
        }
        w->idle = false;
        if (w->head == w->tail)
            break;
        uint64_t from = w->head, to = w->tail;
        pthread_mutex_unlock(&w->lock);
        for (uint64_t i = from; i < to; i++)
            writer_run_job(s, &w->jobs[i % WRITER_QUEUE_LEN]);
        pthread_mutex_lock(&w->lock);
        w->head = to;
        pthread_cond_signal(&w->space);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

bool sink_start_writer(struct sink *s) {
    struct sink_writer *w = calloc(1, sizeof *w);
    if (!w)
        return false;
    w->jobs = calloc(WRITER_QUEUE_LEN, sizeof *w->jobs);
    if (!w->jobs || pthread_mutex_init(&w->lock, NULL) != 0) {
        free(w->jobs);
        free(w);
        return false;
    }
    pthread_cond_init(&w->work, NULL);
    pthread_cond_init(&w->space, NULL);
    s->writer = w;
    /* Signals are for the main thread (its handlers set the flags the analysis polls), except
     * those a write itself raises: past a file size limit (SIGXFSZ) the writer dies as the
     * single-threaded program would. */
    sigset_t all, old;
    sigfillset(&all);
    sigdelset(&all, SIGXFSZ);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    bool started = pthread_create(&w->thread, NULL, writer_main, s) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!started) {
        s->writer = NULL;
        pthread_cond_destroy(&w->work);
        pthread_cond_destroy(&w->space);
        pthread_mutex_destroy(&w->lock);
        free(w->jobs);
        free(w);
    }
    return started;
}

/* The slot for the next job (the producer's alone until writer_publish), waiting for the writer
 * while the ring is full. */
static struct writer_job *writer_slot(struct sink_writer *w) {
    pthread_mutex_lock(&w->lock);
    while (w->tail - w->head >= WRITER_QUEUE_LEN)
        pthread_cond_wait(&w->space, &w->lock);
    pthread_mutex_unlock(&w->lock);
    return &w->jobs[w->tail % WRITER_QUEUE_LEN];
}

static void writer_publish(struct sink_writer *w) {
    pthread_mutex_lock(&w->lock);
    w->tail++;
    atomic_store_explicit(&w->tail_hint, w->tail, memory_order_relaxed);
    if (w->idle)
        pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->lock);
}

void sink_drain(struct sink *s) {
    struct sink_writer *w = s->writer;
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    while (w->head != w->tail)
        pthread_cond_wait(&w->space, &w->lock);
    pthread_mutex_unlock(&w->lock);
}

static void writer_stop(struct sink *s) {
    struct sink_writer *w = s->writer;
    if (!w)
        return;
    sink_drain(s);
    pthread_mutex_lock(&w->lock);
    w->quit = true;
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->work);
    pthread_cond_destroy(&w->space);
    pthread_mutex_destroy(&w->lock);
    free(w->jobs);
    free(w);
    s->writer = NULL;
}

void sink_connection(struct sink *s, const struct conn *c, bool final) {
    if (!s->writer) {
        write_connection(s, c, final);
        return;
    }
    struct writer_job *j = writer_slot(s->writer);
    j->kind = JOB_CONNECTION;
    j->final = final;
    j->u.connection.conn = *c;
    if (c->anomalies) { /* a block of the tracker's pool, reused once the connection is gone */
        j->u.connection.anomalies = *c->anomalies;
        j->u.connection.conn.anomalies = &j->u.connection.anomalies;
    }
    writer_publish(s->writer);
}

void sink_anomaly(struct sink *s, const struct anomaly_event *ev) {
    if (!s->writer) {
        write_anomaly(s, ev);
        return;
    }
    struct writer_job *j = writer_slot(s->writer);
    j->kind = JOB_ANOMALY;
    j->u.anomaly.ev = *ev;
    if (ev->key)
        j->u.anomaly.key = *ev->key;
    if (ev->host)
        memcpy(j->u.anomaly.host, ev->host, ev->host_version == 4 ? 4 : 16);
    writer_publish(s->writer);
}
