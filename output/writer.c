/* writer: the writer thread and its queue. */
#include "writer.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A ring of jobs with one producer (the analysis, or whoever holds the engine's output lock) and
 * one consumer (the writer). The producer fills the slot at `tail` on its own and publishes it
 * by moving `tail` on; the writer takes everything published, writes it, and only then moves
 * `head` on, so head == tail means every record handed over has been written. Neither takes the
 * lock while the other keeps up: the producer finds room by reading `head`, the writer finds work
 * by reading `tail` (a lock per record cost the analysis 3 % of W2, most of it the lock's cache
 * line going back and forth between the cores). The lock and the two conditions are only for
 * sleeping: a side that is about to wait says so in a flag (`writer_idle`, `producer_waiting`)
 * and then looks once more; the other side moves its index first and then looks at the flag. All
 * four are sequentially consistent, so of "set my flag, read your index" and "move my index, read
 * your flag" at least one sees the other's write: either the sleeper sees the new index and does
 * not sleep, or the mover sees the flag and wakes it — under the lock, which the sleeper holds
 * from before it sets its flag until it waits, so the wake-up cannot come between its last look
 * and its wait. A record is still handed over the moment it exists (`shakedown -r -` fed by
 * tcpdump writes each one at once). */

enum writer_job_kind { JOB_CONNECTION, JOB_ANOMALY, JOB_STATS };

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
        struct live_stats stats;
    } u;
};

struct writer {
    const struct writer_callbacks *cb;
    void *ctx;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t work;  /* a job published, or quit */
    pthread_cond_t space; /* head moved on */
    struct writer_job *jobs;
    size_t len;                    /* jobs the ring holds */
    bool drop_when_full;           /* a full ring drops the record instead of waiting */
    _Atomic uint64_t head;         /* the writer's: jobs before it have been written */
    _Atomic uint64_t tail;         /* the producer's: jobs before it are published */
    _Atomic bool writer_idle;      /* the writer is about to wait for work, or waits */
    _Atomic bool producer_waiting; /* the producer is about to wait for head, or waits */
    bool quit;                     /* lock: no more jobs will come */
};

static void writer_run_job(struct writer *w, struct writer_job *j) {
    if (j->kind == JOB_CONNECTION) {
        w->cb->connection(w->ctx, &j->u.connection.conn, j->final);
        return;
    }
    if (j->kind == JOB_STATS) {
        w->cb->stats(w->ctx, &j->u.stats);
        return;
    }
    struct anomaly_event *ev = &j->u.anomaly.ev;
    if (ev->key)
        ev->key = &j->u.anomaly.key;
    if (ev->host)
        ev->host = j->u.anomaly.host;
    w->cb->anomaly(w->ctx, ev);
}

/* The next job's connection, asked for while the current one is formatted: it was written on the
 * other core, often long ago, and a JSON record reads most of its ~660 bytes, so without this
 * the writer waits for a cache miss on nearly every line of it. */
static void writer_prefetch(const struct writer_job *j) {
    const char *p = (const char *)j;
    size_t end = offsetof(struct writer_job, u.connection.conn) + sizeof(struct conn);
    for (size_t off = 0; off < end; off += 64)
        __builtin_prefetch(p + off);
}

/* Before sleeping, the writer watches for the next job for a few microseconds: records often
 * come a few microseconds apart, and a sleeping writer costs the analysis a wake-up (a system
 * call and a context switch) per record. */
#define WRITER_SPIN_NS 50000

static void writer_spin(struct writer *w, uint64_t head) {
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (unsigned i = 1;; i++) {
        if (atomic_load_explicit(&w->tail, memory_order_relaxed) != head)
            return;
        if (i % 64 == 0) {
            clock_gettime(CLOCK_MONOTONIC, &t);
            if ((t.tv_sec - t0.tv_sec) * 1000000000 + (t.tv_nsec - t0.tv_nsec) > WRITER_SPIN_NS)
                return;
        }
    }
}

/* The end of the published jobs once there are some after from; from itself once there are none
 * and quit was asked. Sleeps meanwhile (see the ring's comment at the top). */
static uint64_t writer_wait_work(struct writer *w, uint64_t from) {
    uint64_t to = atomic_load(&w->tail);
    if (to != from)
        return to;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        atomic_store(&w->writer_idle, true);
        to = atomic_load(&w->tail);
        if (to != from || w->quit)
            break;
        pthread_cond_wait(&w->work, &w->lock);
    }
    atomic_store(&w->writer_idle, false);
    pthread_mutex_unlock(&w->lock);
    return to;
}

/* head moves on to `to`; a producer waiting for room (or for the ring to empty) is woken. */
static void writer_release(struct writer *w, uint64_t to) {
    atomic_store(&w->head, to);
    if (atomic_load(&w->producer_waiting)) {
        pthread_mutex_lock(&w->lock);
        pthread_cond_broadcast(&w->space);
        pthread_mutex_unlock(&w->lock);
    }
}

static void *writer_main(void *arg) {
    struct writer *w = arg;
    uint64_t from = 0, to;
    while ((to = writer_wait_work(w, from)) != from) {
        for (uint64_t i = from; i < to; i++) {
            if (i + 1 < to)
                writer_prefetch(&w->jobs[(i + 1) % w->len]);
            writer_run_job(w, &w->jobs[i % w->len]);
        }
        /* A short watch for more before going to sleep; nothing came: the idle callback, before
         * head moves on, so that writer_drain returns only once it is done (the owner then
         * writes on its own). */
        writer_spin(w, to);
        if (w->cb->idle && atomic_load_explicit(&w->tail, memory_order_relaxed) == to)
            w->cb->idle(w->ctx);
        writer_release(w, to);
        from = to;
    }
    return NULL;
}

struct writer *writer_start(const struct writer_callbacks *cb, void *ctx, size_t queue_len,
                            bool drop_when_full) {
    struct writer *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->cb = cb;
    w->ctx = ctx;
    w->len = queue_len        ? queue_len
             : drop_when_full ? WRITER_QUEUE_LIVE_DEFAULT
                              : WRITER_QUEUE_FILE_DEFAULT;
    w->drop_when_full = drop_when_full;
    w->jobs = calloc(w->len, sizeof *w->jobs);
    if (!w->jobs || pthread_mutex_init(&w->lock, NULL) != 0) {
        free(w->jobs);
        free(w);
        return NULL;
    }
    pthread_cond_init(&w->work, NULL);
    pthread_cond_init(&w->space, NULL);
    /* Signals are for the main thread (its handlers set the flags the analysis polls), except
     * those a write itself raises: past a file size limit (SIGXFSZ) the writer dies as the
     * single-threaded program would. */
    sigset_t all, old;
    sigfillset(&all);
    sigdelset(&all, SIGXFSZ);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    bool started = pthread_create(&w->thread, NULL, writer_main, w) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (started)
        return w;
    pthread_cond_destroy(&w->work);
    pthread_cond_destroy(&w->space);
    pthread_mutex_destroy(&w->lock);
    free(w->jobs);
    free(w);
    return NULL;
}

/* Waits until head has reached `until` minus `room` or more (room free slots, or with room 0 every
 * job written). See the ring's comment at the top. */
static void producer_wait_head(struct writer *w, uint64_t until, uint64_t room) {
    pthread_mutex_lock(&w->lock);
    for (;;) {
        atomic_store(&w->producer_waiting, true);
        if (until - atomic_load(&w->head) <= room)
            break;
        pthread_cond_wait(&w->space, &w->lock);
    }
    atomic_store(&w->producer_waiting, false);
    pthread_mutex_unlock(&w->lock);
}

/* The slot for the next job (the producer's alone until writer_publish), waiting for the writer
 * while the ring is full; NULL if it is full and records are dropped instead. */
static struct writer_job *writer_slot(struct writer *w) {
    uint64_t tail = atomic_load_explicit(&w->tail, memory_order_relaxed); /* the producer's own */
    if (tail - atomic_load(&w->head) >= w->len) {
        if (w->drop_when_full)
            return NULL;
        producer_wait_head(w, tail, w->len - 1);
    }
    return &w->jobs[tail % w->len];
}

static void writer_publish(struct writer *w) {
    atomic_store(&w->tail, atomic_load_explicit(&w->tail, memory_order_relaxed) + 1);
    if (atomic_load(&w->writer_idle)) {
        pthread_mutex_lock(&w->lock);
        pthread_cond_signal(&w->work);
        pthread_mutex_unlock(&w->lock);
    }
}

void writer_drain(struct writer *w) {
    uint64_t tail = atomic_load(&w->tail);
    if (atomic_load(&w->head) != tail)
        producer_wait_head(w, tail, 0);
}

void writer_stop(struct writer *w) {
    if (!w)
        return;
    writer_drain(w);
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
}

bool writer_connection(struct writer *w, const struct conn *c, bool final) {
    struct writer_job *j = writer_slot(w);
    if (!j)
        return false;
    j->kind = JOB_CONNECTION;
    j->final = final;
    j->u.connection.conn = *c;
    j->u.connection.conn.tcp.holes = NULL; /* the tracker's; no record reads it (writer.h) */
    if (c->anomalies) { /* a block of the tracker's pool, reused once the connection is gone */
        j->u.connection.anomalies = *c->anomalies;
        j->u.connection.conn.anomalies = &j->u.connection.anomalies;
    }
    writer_publish(w);
    return true;
}

bool writer_anomaly(struct writer *w, const struct anomaly_event *ev) {
    struct writer_job *j = writer_slot(w);
    if (!j)
        return false;
    j->kind = JOB_ANOMALY;
    j->u.anomaly.ev = *ev;
    if (ev->key)
        j->u.anomaly.key = *ev->key;
    if (ev->host)
        memcpy(j->u.anomaly.host, ev->host, ev->host_version == 4 ? 4 : 16);
    writer_publish(w);
    return true;
}

bool writer_stats(struct writer *w, const struct live_stats *ls) {
    struct writer_job *j = writer_slot(w);
    if (!j)
        return false;
    j->kind = JOB_STATS;
    j->u.stats = *ls;
    writer_publish(w);
    return true;
}
