/* fanout: one capture thread per socket of a PACKET_FANOUT group, each feeding its own tracker of
 * the engine (fanout.h). A thread's packets and counts are its own. What is shared: the run's
 * checksum policy (auto's sources are judged once for the run, under its lock, only until each
 * source's verdict is decided: checksum_policy_new_thread), the engine's host table and output
 * lock (taken per record, inside the tracker's callbacks), and the counts each thread publishes
 * under `lock` ten times a second for the run driver's stats records and status line. */
#include "fanout.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "packet_path.h"

struct thread {
    struct fanout *f;
    unsigned index;
    pthread_t id;
    bool started;
    struct capture *cap;
    int link;
    struct tracker *tr;
    struct run_stats stats; /* this thread's packets; merged into the run's at the end */
    struct packet_path path;
    uint64_t packets;        /* read from its socket */
    int64_t next_note_ns;    /* monotonic clock */
    int64_t next_interim_ns; /* capture time */
    bool damaged;
    char why[256];
    atomic_int_least64_t noted_ns; /* monotonic clock of its last note: it is making progress */
    /* under f->lock: */
    struct fanout_view published;
};

struct fanout {
    struct fanout_config cfg;
    unsigned n;
    struct thread *t;
    atomic_bool stop;    /* set by fanout_stop: every thread leaves its loop */
    atomic_bool stopped; /* a thread left on its own (its capture ended) */
    pthread_mutex_t lock;
};

/* ---- a capture thread ---------------------------------------------------------------------- */

/* Ten times a second (on the monotonic clock), and whenever the socket is idle: capture time
 * follows the wall clock (so timeouts fire on a quiet link), interim records, the counts
 * published, and the time of the note, the watchdog's sign that this thread is not stuck. */
static void thread_note(struct thread *t) {
    struct fanout *f = t->f;
    int64_t mono = capture_mono_ns();
    t->next_note_ns = mono + FANOUT_NOTE_NS;
    tracker_advance(t->tr, capture_wall_ns());
    int64_t ctime = tracker_now(t->tr);
    if (f->cfg.interim_ns > 0 && ctime >= t->next_interim_ns) {
        engine_worker_interim(f->cfg.engine, t->index, f->cfg.interim_ns);
        t->next_interim_ns = ctime + f->cfg.interim_ns / 4 + 1;
    }
    struct fanout_view v = {.packets = t->stats.read.packets, .bytes = t->stats.read.bytes};
    memcpy(v.checksums, t->stats.checksums, sizeof v.checksums);
    v.have_capture = capture_group_member_stats(f->cfg.group, t->index, &v.capture);
    pthread_mutex_lock(&f->lock);
    t->published = v;
    pthread_mutex_unlock(&f->lock);
    engine_worker_note(f->cfg.engine, t->index);
    atomic_store_explicit(&t->noted_ns, mono, memory_order_relaxed);
}

/* The per-packet path of analyze.c, on this thread's socket and tracker. */
static void thread_packet(struct thread *t, const struct capture_packet *cp, bool filtered) {
    struct packet p;
    enum decode_status st;
    if (!packet_path_decode(&t->path, cp, t->link, filtered, &p, &st))
        return;
    if (st == DECODE_OK) /* the bucket loads while checksums are verified */
        tracker_prefetch(t->tr, &p);
    enum packet_fate fate = packet_path_judge(&t->path, &p, st);
    if (fate == PACKET_FATE_ANALYSE || fate == PACKET_FATE_BAD_CHECKSUM)
        tracker_on_packet(t->tr, &p, fate == PACKET_FATE_BAD_CHECKSUM);
    else if (fate == PACKET_FATE_PASS)
        tracker_pass(t->tr, &p);
}

static void *thread_main(void *arg) {
    struct thread *t = arg;
    struct fanout *f = t->f;
    struct capture_packet cp;
    while (!atomic_load_explicit(&f->stop, memory_order_relaxed)) {
        enum capture_status cs = capture_next(t->cap, &cp);
        if (cs == CAPTURE_PACKET || cs == CAPTURE_FILTERED) {
            t->packets++;
            thread_packet(t, &cp, cs == CAPTURE_FILTERED);
            if (capture_mono_ns() >= t->next_note_ns) /* cheap at live rates (vDSO) */
                thread_note(t);
        } else if (cs == CAPTURE_IDLE) {
            thread_note(t);
        } else {
            t->damaged = cs == CAPTURE_DAMAGED;
            snprintf(t->why, sizeof t->why, "%s", t->damaged ? capture_error(t->cap) : "");
            atomic_store(&f->stopped, true);
            break;
        }
    }
    thread_note(t);
    return NULL;
}

/* ---- the interface ------------------------------------------------------------------------- */

static bool threads_prepare(struct fanout *f) {
    for (unsigned i = 0; i < f->n; i++) {
        struct thread *t = &f->t[i];
        t->f = f;
        t->index = i;
        t->cap = capture_group_member(f->cfg.group, i);
        t->link = capture_link(t->cap);
        t->tr = engine_worker_tracker(f->cfg.engine, i);
        atomic_init(&t->noted_ns, capture_mono_ns()); /* its start counts as progress */
        stats_set_shard(&t->stats, f->cfg.shard_index, f->cfg.shard_count);
        /* Frame numbers i + 1, i + 1 + N, ...: unique in the run, in order within a thread. */
        t->path = (struct packet_path){
            .stats = &t->stats,
            .decode = {checksum_mode_verifies(f->cfg.checksums)},
            .checksums = checksum_policy_new_thread(f->cfg.run_checksums, CHECKSUM_POLICY_SOURCES),
            .shard_index = f->cfg.shard_index,
            .shard_count = f->cfg.shard_count,
            .next_frame = i + 1,
            .frame_step = f->n,
            .say_offload = f->cfg.offload,
            .ctx = f->cfg.ctx};
        if (!t->path.checksums)
            return false;
    }
    return true;
}

struct fanout *fanout_start(const struct fanout_config *cfg, char *err, size_t errlen) {
    struct fanout *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    f->cfg = *cfg;
    f->n = capture_group_size(cfg->group);
    f->t = calloc(f->n, sizeof *f->t);
    pthread_mutex_init(&f->lock, NULL);
    if (!f->t || !threads_prepare(f)) {
        snprintf(err, errlen, "out of memory for the capture threads' tables");
        fanout_free(f);
        return NULL;
    }
    /* Signals are the run driver's (its handlers set the flags it polls). */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    bool ok = true;
    for (unsigned i = 0; i < f->n && ok; i++)
        ok = f->t[i].started = pthread_create(&f->t[i].id, NULL, thread_main, &f->t[i]) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!ok) {
        snprintf(err, errlen, "cannot start the capture threads");
        fanout_stop(f, &(const char *){NULL});
        fanout_free(f);
        return NULL;
    }
    return f;
}

bool fanout_running(struct fanout *f) {
    return !atomic_load(&f->stopped);
}

void fanout_view(struct fanout *f, struct fanout_view *v) {
    memset(v, 0, sizeof *v);
    v->have_capture = true;
    pthread_mutex_lock(&f->lock);
    for (unsigned i = 0; i < f->n; i++) {
        const struct fanout_view *t = &f->t[i].published;
        v->packets += t->packets;
        v->bytes += t->bytes;
        stats_add_checksums(v->checksums, t->checksums);
        v->have_capture = v->have_capture && t->have_capture;
        capture_stats_add(&v->capture, &t->capture);
    }
    pthread_mutex_unlock(&f->lock);
}

int64_t fanout_progress_ns(struct fanout *f) {
    int64_t oldest = INT64_MAX;
    for (unsigned i = 0; i < f->n; i++) {
        int64_t noted = atomic_load_explicit(&f->t[i].noted_ns, memory_order_relaxed);
        if (noted < oldest)
            oldest = noted;
    }
    return oldest;
}

bool fanout_stop(struct fanout *f, const char **why) {
    atomic_store(&f->stop, true);
    bool ok = true;
    for (unsigned i = 0; i < f->n; i++) {
        struct thread *t = &f->t[i];
        if (t->started)
            pthread_join(t->id, NULL);
        t->started = false;
        if (t->damaged && ok) {
            ok = false;
            *why = t->why;
        }
    }
    return ok;
}

void fanout_account(struct fanout *f, struct run_stats *stats, uint64_t *packets) {
    *packets = 0;
    for (unsigned i = 0; i < f->n; i++) {
        stats_merge(stats, &f->t[i].stats);
        *packets += f->t[i].packets;
    }
}

void fanout_free(struct fanout *f) {
    if (!f)
        return;
    for (unsigned i = 0; f->t && i < f->n; i++)
        checksum_policy_free(f->t[i].path.checksums);
    pthread_mutex_destroy(&f->lock);
    free(f->t);
    free(f);
}
