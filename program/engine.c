/* engine: one tracker, or N worker threads each with a tracker, fed from one ring (engine.h).
 *
 * The ring holds slots: a decoded packet (its payload pointer cleared: no tracker reads the
 * bytes, and the capture's buffer is reused at the next read), or an order for every worker
 * (move time on, interim records, flush). The reading thread writes slots and publishes them in
 * batches while the input is a regular file (engine_set_input_at_hand), else each at once, so a
 * pipe's records are not held back; every worker reads every slot, at its own pace; a slot
 * is written again only once every worker is past it. Everything the workers and the reader
 * share is under `lock`, taken once per batch; a worker's copy of its counts is refreshed at the
 * end of each batch, so the reader's stats records never read a tracker that is in use.
 *
 * One tracker reading files: each packet waits in a short delay line (ENGINE_LOOKAHEAD packets)
 * before the tracker takes it. When it enters, its flow-table bucket starts loading; halfway, the
 * entry the bucket leads to; so by the time it is analysed both are in the cache, instead of two
 * cache misses in a row on the packet's path (with 50k connections open, the table is far larger
 * than the cache). The tracker reads nothing of a packet but the struct packet itself (its payload
 * pointer is not followed), so the capture's buffer may be reused meanwhile. Every other call
 * empties the line first, so the tracker is exactly as it would be without it whenever the
 * caller looks (counts, time, interim records, flush). Only inputs read from regular files use
 * it (engine_set_input_at_hand): from a live capture or a pipe the packets after one may be long
 * in coming, and its records must not wait for them. */
#include "engine.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "hosts.h"

#define ENGINE_RING_SLOTS 8192 /* per engine: ~2.5 MB of decoded packets in flight */
#define ENGINE_BATCH 256       /* slots handed over at once when reading files */
#define OWNER_NONE UINT16_MAX  /* a packet no worker analyses (another --shard's) */
#define ENGINE_LOOKAHEAD 8     /* packets in the delay line (≤ TRACKER_LOOKAHEAD) */

_Static_assert(ENGINE_LOOKAHEAD <= TRACKER_LOOKAHEAD, "each delayed packet keeps its hint");

enum slot_kind { SLOT_PACKET, SLOT_ADVANCE, SLOT_INTERIM, SLOT_FLUSH };

struct slot {
    struct packet p;
    int64_t arg; /* ADVANCE: the time; INTERIM: the interval; FLUSH: enum conn_end */
    uint16_t owner;
    uint8_t kind;
    bool bad_checksum;
};

/* Where a worker is in the ring: the slot it is in, every slot before it done. Each on a cache
 * line of its own, written by its worker at every slot and read by the others only when one
 * waits for its turn at the host table. */
struct worker_place {
    _Atomic uint64_t slot;
    char pad[64 - sizeof(uint64_t)];
};

struct worker {
    struct engine *e;
    unsigned index;
    struct worker_place *place; /* in e->places */
    pthread_t thread;
    bool started;
    struct tracker *tr;
    /* under e->lock: */
    uint64_t head;                /* slots done */
    struct tracker_counts counts; /* as of head */
    size_t memory_used;           /* as of head */
    int64_t now_ns;               /* the tracker's capture time as of head */
};

/* A packet in the delay line: for tracker_on_packet (pass false) or tracker_pass. */
struct delayed {
    struct packet p;
    bool bad_checksum, pass;
};

struct engine {
    struct engine_config cfg;
    struct tracker *single;                /* one worker: the tracker itself */
    struct delayed line[ENGINE_LOOKAHEAD]; /* one tracker, files: packets not yet analysed */
    unsigned line_head, line_len;
    bool at_hand; /* the input's next packets are at hand: delay line, batches (above) */

    unsigned n;
    struct worker *w;
    struct worker_place *places; /* one per worker */
    struct slot *ring;
    uint64_t written;  /* slots written (the reader's own) */
    uint64_t min_head; /* the reader's last look at the slowest worker */
    int64_t now_ns;    /* capture time as the reader has seen it */
    bool have_now;

    pthread_mutex_t lock; /* the ring's tail and the workers' heads and copies */
    pthread_cond_t work, space;
    uint64_t tail; /* slots published */
    unsigned idle; /* workers waiting for slots */
    bool quit;

    pthread_mutex_t out; /* the callbacks, one at a time */

    struct hosts *hosts; /* shared by the workers' trackers */
    pthread_mutex_t hosts_lock;
    uint64_t aggregates; /* host aggregates ended (under hosts_lock) */
};

/* ---- the callbacks, one at a time ---------------------------------------------------------- */

static void out_report(void *ctx, const struct conn *c) {
    struct engine *e = ctx;
    pthread_mutex_lock(&e->out);
    e->cfg.report(e->cfg.ctx, c);
    pthread_mutex_unlock(&e->out);
}

static void out_anomaly(void *ctx, const struct anomaly_event *ev) {
    struct engine *e = ctx;
    pthread_mutex_lock(&e->out);
    e->cfg.anomaly(e->cfg.ctx, ev);
    pthread_mutex_unlock(&e->out);
}

static void out_interim(void *ctx, const struct conn *c) {
    struct engine *e = ctx;
    pthread_mutex_lock(&e->out);
    e->cfg.interim(e->cfg.ctx, c);
    pthread_mutex_unlock(&e->out);
}

static void out_segment(void *ctx, const struct conn *c, int dir, const struct packet *p) {
    struct engine *e = ctx;
    pthread_mutex_lock(&e->out);
    e->cfg.segment(e->cfg.ctx, c, dir, p);
    pthread_mutex_unlock(&e->out);
}

/* The shared host table: its guard, and its aggregates as they end (called under hosts_lock). */
static void hosts_guard(void *ctx, bool hold) {
    struct engine *e = ctx;
    if (hold)
        pthread_mutex_lock(&e->hosts_lock);
    else
        pthread_mutex_unlock(&e->hosts_lock);
}

/* A worker's turn at the shared host table, for a connection ended in the slot it is in: once
 * every other worker is at that slot or past it, so that the connection ends of earlier packets
 * have all been counted, in packet order, whichever worker had them. Counting order matters:
 * a host's window starts at the first event counted, so two workers counting out of order could
 * split one burst across two windows (and fire an alert one thread would not, or miss one). The
 * worker furthest behind never waits, so neither do all of them at once. Ends in the same slot
 * (timeouts at one moment, the flush at the end of the input) are counted in the order the
 * workers get here; one thread counts those in its table's order, itself keyed per run. */
static void worker_wait_turn(const struct worker *w) {
    const struct engine *e = w->e;
    uint64_t mine = atomic_load_explicit(&w->place->slot, memory_order_relaxed);
    for (unsigned k = 0; k < e->n; k++)
        while (atomic_load_explicit(&e->places[k].slot, memory_order_acquire) < mine)
            sched_yield();
}

/* The guard of a worker's tracker: its turn (above), then the table's lock. */
static void worker_hosts_guard(void *ctx, bool hold) {
    struct worker *w = ctx;
    if (hold)
        worker_wait_turn(w);
    hosts_guard(w->e, hold);
}

static void hosts_aggregate(void *ctx, const struct host_fold *f) {
    struct engine *e = ctx;
    struct anomaly_event ev;
    tracker_aggregate_event(&ev, f);
    e->aggregates++;
    out_anomaly(e, &ev);
}

/* ---- the workers --------------------------------------------------------------------------- */

static void run_slot(struct worker *w, const struct slot *s) {
    struct engine *e = w->e;
    switch ((enum slot_kind)s->kind) {
    case SLOT_PACKET:
        if (s->owner == w->index)
            tracker_on_packet(w->tr, &s->p, s->bad_checksum);
        else
            tracker_pass(w->tr, &s->p);
        break;
    case SLOT_ADVANCE:
        tracker_advance(w->tr, s->arg);
        break;
    case SLOT_INTERIM:
        tracker_interim(w->tr, s->arg, out_interim, e);
        break;
    case SLOT_FLUSH:
        tracker_flush(w->tr, (enum conn_end)s->arg);
        break;
    }
}

/* The lookahead of the delay line (above), for a worker going through its slots: the packets of
 * its share ENGINE_LOOKAHEAD slots on have their bucket loaded (stage 0), those half as far on
 * their entry (stage 1). Slots of other shares, and orders, are left alone. */
static void worker_prefetch(struct worker *w, const struct slot *s, int stage) {
    if (s->kind != SLOT_PACKET || s->owner != w->index)
        return;
    if (stage == 0)
        tracker_prefetch(w->tr, &s->p);
    else
        tracker_prefetch_entry(w->tr, &s->p);
}

/* Runs slots [from, to) of the ring, looking ahead within them. */
static void worker_run_slots(struct worker *w, uint64_t from, uint64_t to) {
    const struct slot *ring = w->e->ring;
    for (uint64_t i = from; i < to; i++) {
        if (i + ENGINE_LOOKAHEAD < to)
            worker_prefetch(w, &ring[(i + ENGINE_LOOKAHEAD) % ENGINE_RING_SLOTS], 0);
        if (i + ENGINE_LOOKAHEAD / 2 < to)
            worker_prefetch(w, &ring[(i + ENGINE_LOOKAHEAD / 2) % ENGINE_RING_SLOTS], 1);
        atomic_store_explicit(&w->place->slot, i, memory_order_release);
        run_slot(w, &ring[i % ENGINE_RING_SLOTS]);
    }
    atomic_store_explicit(&w->place->slot, to, memory_order_release);
}

/* The capture time every worker has reached (under e->lock). */
static int64_t workers_now(const struct engine *e) {
    int64_t t = INT64_MAX;
    for (unsigned i = 0; i < e->n; i++)
        if (e->w[i].now_ns < t)
            t = e->w[i].now_ns;
    return t;
}

static void *worker_main(void *arg) {
    struct worker *w = arg;
    struct engine *e = w->e;
    pthread_mutex_lock(&e->lock);
    for (;;) {
        while (w->head == e->tail && !e->quit) {
            e->idle++;
            pthread_cond_wait(&e->work, &e->lock);
            e->idle--;
        }
        if (w->head == e->tail)
            break;
        uint64_t from = w->head, to = e->tail;
        pthread_mutex_unlock(&e->lock);
        worker_run_slots(w, from, to);
        pthread_mutex_lock(&e->lock);
        w->head = to;
        w->counts = *tracker_counts(w->tr);
        w->memory_used = tracker_memory_used(w->tr);
        w->now_ns = tracker_now(w->tr);
        int64_t all_now = workers_now(e);
        pthread_cond_broadcast(&e->space);
        pthread_mutex_unlock(&e->lock);
        /* Host aggregates end by time once every worker is past it: a connection a slower
         * worker still reports may yet fold into one. */
        if (all_now != INT64_MIN) {
            hosts_guard(e, true);
            hosts_close_ended(e->hosts, all_now);
            hosts_guard(e, false);
        }
        pthread_mutex_lock(&e->lock);
    }
    pthread_mutex_unlock(&e->lock);
    return NULL;
}

/* ---- the reader's side of the ring --------------------------------------------------------- */

static void publish(struct engine *e) {
    pthread_mutex_lock(&e->lock);
    e->tail = e->written;
    if (e->idle)
        pthread_cond_broadcast(&e->work);
    pthread_mutex_unlock(&e->lock);
}

static uint64_t slowest_head(const struct engine *e) {
    uint64_t h = UINT64_MAX;
    for (unsigned i = 0; i < e->n; i++)
        if (e->w[i].head < h)
            h = e->w[i].head;
    return h;
}

/* The next slot to write, once every worker is past its previous use. */
static struct slot *next_slot(struct engine *e) {
    if (e->written - e->min_head >= ENGINE_RING_SLOTS) {
        publish(e);
        pthread_mutex_lock(&e->lock);
        while (e->written - (e->min_head = slowest_head(e)) >= ENGINE_RING_SLOTS)
            pthread_cond_wait(&e->space, &e->lock);
        pthread_mutex_unlock(&e->lock);
    }
    return &e->ring[e->written % ENGINE_RING_SLOTS];
}

static void slot_done(struct engine *e, bool now) {
    e->written++;
    if (now || !e->at_hand || e->written - e->tail >= ENGINE_BATCH)
        publish(e);
}

static void put_packet(struct engine *e, const struct packet *p, uint16_t owner, bool bad) {
    struct slot *s = next_slot(e);
    s->p = *p;
    s->p.payload = NULL; /* the capture's buffer; no tracker reads it */
    s->kind = SLOT_PACKET;
    s->owner = owner;
    s->bad_checksum = bad;
    int64_t t = packet_ts_ns(p);
    if (!e->have_now || t > e->now_ns)
        e->now_ns = t, e->have_now = true;
    slot_done(e, false);
}

static void put_order(struct engine *e, enum slot_kind kind, int64_t arg) {
    struct slot *s = next_slot(e);
    s->kind = (uint8_t)kind;
    s->arg = arg;
    slot_done(e, true);
}

/* Waits until every worker has done every slot written. */
static void wait_all_done(struct engine *e) {
    publish(e);
    pthread_mutex_lock(&e->lock);
    while ((e->min_head = slowest_head(e)) != e->written)
        pthread_cond_wait(&e->space, &e->lock);
    pthread_mutex_unlock(&e->lock);
}

/* ---- the interface ------------------------------------------------------------------------- */

static bool workers_start(struct engine *e) {
    e->n = e->cfg.workers;
    e->w = calloc(e->n, sizeof *e->w);
    e->places = aligned_alloc(sizeof *e->places, e->n * sizeof *e->places);
    e->ring = calloc(ENGINE_RING_SLOTS, sizeof *e->ring);
    e->hosts = hosts_new(&e->cfg.tracker.hosts);
    if (!e->w || !e->places || !e->ring || !e->hosts)
        return false;
    for (unsigned i = 0; i < e->n; i++)
        atomic_init(&e->places[i].slot, 0);
    pthread_mutex_init(&e->lock, NULL);
    pthread_cond_init(&e->work, NULL);
    pthread_cond_init(&e->space, NULL);
    pthread_mutex_init(&e->out, NULL);
    pthread_mutex_init(&e->hosts_lock, NULL);
    if (e->cfg.tracker.fold_host_events)
        hosts_on_fold_end(e->hosts, hosts_aggregate, e, tracker_fold_linger_ns(&e->cfg.tracker));
    for (unsigned i = 0; i < e->n; i++) {
        struct worker *w = &e->w[i];
        w->e = e;
        w->index = i;
        w->place = &e->places[i];
        struct tracker_hosts_share share = {e->hosts, worker_hosts_guard, w};
        w->now_ns = INT64_MIN;
        w->tr = tracker_new_sharing(&e->cfg.tracker, out_report, out_anomaly, e, &share);
        if (!w->tr)
            return false;
        if (e->cfg.segment)
            tracker_set_segment_hook(w->tr, out_segment, e);
    }
    /* Signals are the reading thread's (its handlers set the flags it polls). */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    bool ok = true;
    for (unsigned i = 0; i < e->n && ok; i++)
        ok = e->w[i].started = pthread_create(&e->w[i].thread, NULL, worker_main, &e->w[i]) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return ok;
}

struct engine *engine_new(const struct engine_config *cfg) {
    struct engine *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->cfg = *cfg;
    if (cfg->workers <= 1) {
        e->single = tracker_new(&cfg->tracker, cfg->report, cfg->anomaly, cfg->ctx);
        if (e->single && cfg->segment)
            tracker_set_segment_hook(e->single, cfg->segment, cfg->ctx);
        if (e->single)
            return e;
    } else if (cfg->workers <= ENGINE_MAX_WORKERS && workers_start(e)) {
        return e;
    }
    engine_free(e);
    return NULL;
}

void engine_free(struct engine *e) {
    if (!e)
        return;
    tracker_free(e->single);
    if (e->w) {
        pthread_mutex_lock(&e->lock);
        e->quit = true;
        pthread_cond_broadcast(&e->work);
        pthread_mutex_unlock(&e->lock);
        for (unsigned i = 0; i < e->n; i++) {
            if (e->w[i].started)
                pthread_join(e->w[i].thread, NULL);
            tracker_free(e->w[i].tr);
        }
        pthread_mutex_destroy(&e->lock);
        pthread_cond_destroy(&e->work);
        pthread_cond_destroy(&e->space);
        pthread_mutex_destroy(&e->out);
        pthread_mutex_destroy(&e->hosts_lock);
    }
    hosts_free(e->hosts);
    free(e->ring);
    free(e->places);
    free(e->w);
    free(e);
}

/* ---- one tracker: the delay line ---------------------------------------------------------- */

static void single_run(struct engine *e, const struct packet *p, bool bad_checksum, bool pass) {
    if (pass)
        tracker_pass(e->single, p);
    else
        tracker_on_packet(e->single, p, bad_checksum);
}

static void line_run(struct engine *e, const struct delayed *d) {
    single_run(e, &d->p, d->bad_checksum, d->pass);
}

/* Analyses every packet still in the line, in order. */
static void line_empty(struct engine *e) {
    for (; e->line_len > 0; e->line_len--) {
        line_run(e, &e->line[e->line_head]);
        e->line_head = (e->line_head + 1) % ENGINE_LOOKAHEAD;
    }
}

/* p enters the line (its bucket starts loading); the packet halfway along has its entry loaded;
 * once the line is full, its oldest packet is analysed. Live: p is analysed at once. */
static void line_put(struct engine *e, const struct packet *p, bool bad_checksum, bool pass) {
    if (!e->at_hand) {
        line_empty(e);
        single_run(e, p, bad_checksum, pass);
        return;
    }
    if (!pass)
        tracker_prefetch(e->single, p);
    if (e->line_len == ENGINE_LOOKAHEAD) {
        line_run(e, &e->line[e->line_head]);
        e->line_head = (e->line_head + 1) % ENGINE_LOOKAHEAD;
        e->line_len--;
    }
    struct delayed *d = &e->line[(e->line_head + e->line_len++) % ENGINE_LOOKAHEAD];
    d->p = *p;
    d->p.payload = NULL; /* the capture's buffer, reused by the time the packet is analysed */
    d->bad_checksum = bad_checksum;
    d->pass = pass;
    if (e->line_len > ENGINE_LOOKAHEAD / 2) {
        const struct delayed *half =
            &e->line[(e->line_head + e->line_len - 1 - ENGINE_LOOKAHEAD / 2) % ENGINE_LOOKAHEAD];
        if (!half->pass)
            tracker_prefetch_entry(e->single, &half->p);
    }
}

void engine_set_input_at_hand(struct engine *e, bool at_hand) {
    line_empty(e);
    if (!e->single && e->written != e->tail)
        publish(e);
    e->at_hand = at_hand;
}

void engine_packet(struct engine *e, const struct packet *p, bool bad_checksum) {
    if (e->single)
        line_put(e, p, bad_checksum, false);
    else
        put_packet(e, p, (uint16_t)tracker_worker_of(p, e->n), bad_checksum);
}

void engine_pass(struct engine *e, const struct packet *p) {
    if (e->single)
        line_put(e, p, false, true);
    else
        put_packet(e, p, OWNER_NONE, false);
}

void engine_prefetch(struct engine *e, const struct packet *p) {
    if (e->single)
        tracker_prefetch(e->single, p);
}

void engine_advance(struct engine *e, int64_t now_ns) {
    if (e->single) {
        line_empty(e);
        tracker_advance(e->single, now_ns);
        return;
    }
    if (!e->have_now || now_ns <= e->now_ns)
        return; /* as tracker_advance: only once time has started, only forward */
    e->now_ns = now_ns;
    put_order(e, SLOT_ADVANCE, now_ns);
}

int64_t engine_now(struct engine *e) {
    if (!e->single)
        return e->now_ns;
    line_empty(e);
    return tracker_now(e->single);
}

void engine_interim(struct engine *e, int64_t interval_ns) {
    line_empty(e);
    if (e->single)
        tracker_interim(e->single, interval_ns, e->cfg.interim, e->cfg.ctx);
    else
        put_order(e, SLOT_INTERIM, interval_ns);
}

void engine_hold_output(struct engine *e, bool hold) {
    line_empty(e); /* what the caller writes comes after the records of the packets before */
    if (e->single)
        return;
    if (hold)
        pthread_mutex_lock(&e->out);
    else
        pthread_mutex_unlock(&e->out);
}

void engine_sync(struct engine *e) {
    line_empty(e);
    if (!e->single)
        wait_all_done(e);
}

void engine_flush(struct engine *e, enum conn_end why) {
    line_empty(e);
    if (e->single) {
        tracker_flush(e->single, why);
        return;
    }
    put_order(e, SLOT_FLUSH, why);
    wait_all_done(e);
    hosts_guard(e, true);
    hosts_close_all(e->hosts);
    hosts_guard(e, false);
}

/* Sums every member; a member added to struct tracker_counts must be added here too. */
_Static_assert(sizeof(struct tracker_counts) ==
                   (7 + CONN_END_COUNT + ANOMALY_COUNT) * sizeof(uint64_t) + 2 * sizeof(uint32_t),
               "counts_add does not sum a member of struct tracker_counts");
static void counts_add(struct tracker_counts *sum, const struct tracker_counts *c) {
    sum->created += c->created;
    sum->reported += c->reported;
    sum->late_packets += c->late_packets;
    sum->untracked_packets += c->untracked_packets;
    sum->evicted += c->evicted;
    for (unsigned i = 0; i < CONN_END_COUNT; i++)
        sum->by_end[i] += c->by_end[i];
    for (unsigned i = 0; i < ANOMALY_COUNT; i++)
        sum->anomalies[i] += c->anomalies[i];
    sum->folded_events += c->folded_events;
    sum->aggregates += c->aggregates;
    sum->open_now += c->open_now;
    sum->peak_open += c->peak_open;
}

void engine_counts(struct engine *e, struct tracker_counts *out) {
    line_empty(e);
    if (e->single) {
        *out = *tracker_counts(e->single);
        return;
    }
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&e->lock);
    for (unsigned i = 0; i < e->n; i++)
        counts_add(out, &e->w[i].counts);
    pthread_mutex_unlock(&e->lock);
    hosts_guard(e, true);
    out->aggregates += e->aggregates;
    hosts_guard(e, false);
}

size_t engine_memory(struct engine *e) {
    if (e->single)
        return tracker_memory(e->single);
    size_t m = sizeof *e + ENGINE_RING_SLOTS * sizeof *e->ring + hosts_memory(e->hosts);
    for (unsigned i = 0; i < e->n; i++)
        m += tracker_memory(e->w[i].tr); /* fixed at tracker_new: no lock needed */
    return m;
}

size_t engine_memory_used(struct engine *e) {
    line_empty(e);
    if (e->single)
        return tracker_memory_used(e->single);
    size_t m = sizeof *e + ENGINE_RING_SLOTS * sizeof *e->ring;
    pthread_mutex_lock(&e->lock);
    for (unsigned i = 0; i < e->n; i++)
        m += e->w[i].memory_used;
    pthread_mutex_unlock(&e->lock);
    hosts_guard(e, true);
    m += hosts_memory_used(e->hosts);
    hosts_guard(e, false);
    return m;
}

/* ---- trackers driven by threads of the caller's -------------------------------------------- */

struct tracker *engine_worker_tracker(struct engine *e, unsigned i) {
    return e->w[i].tr;
}

void engine_worker_interim(struct engine *e, unsigned i, int64_t interval_ns) {
    tracker_interim(e->w[i].tr, interval_ns, out_interim, e);
}

void engine_worker_note(struct engine *e, unsigned i) {
    struct worker *w = &e->w[i];
    pthread_mutex_lock(&e->lock);
    w->counts = *tracker_counts(w->tr);
    w->memory_used = tracker_memory_used(w->tr);
    w->now_ns = tracker_now(w->tr); /* 0 until its first packet */
    int64_t started_now = INT64_MAX;
    for (unsigned k = 0; k < e->n; k++)
        if (e->w[k].now_ns > 0 && e->w[k].now_ns < started_now)
            started_now = e->w[k].now_ns;
    pthread_mutex_unlock(&e->lock);
    if (started_now != INT64_MAX) {
        hosts_guard(e, true);
        hosts_close_ended(e->hosts, started_now);
        hosts_guard(e, false);
    }
}
