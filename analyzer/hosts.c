/* hosts: one fixed array of host entries, each with a syn_flood window (half-open connections to
 * the host) and a port_scan window (distinct failed targets of the host). Open addressing over a
 * bounded neighbourhood: slots are claimed, never freed, only reused for another host. Hashes are
 * keyed with a random key per table, so nobody can choose addresses that crowd one neighbourhood
 * or targets that count as one. */
#include "hosts.h"

#include <stdlib.h>
#include <string.h>

#include "siphash.h"

/* (ip_version, address); IPv4 addresses are zero-padded, so the version tells 10.0.0.1 from the
 * IPv6 address 0a00:0001:: that has the same leading bytes. ip_version 0 marks a free slot. */
struct host_key {
    uint8_t ip_version;
    uint8_t addr[16];
};

/* The events folded in one window so far (hosts.h, folding). */
struct host_fold_acc {
    uint64_t events, kinds, last_frame;
    int64_t first_ns, last_ns;
    uint32_t conns;
    bool ended; /* handed out by time: what comes later for this window is not folded */
};

/* One fixed window: starts at the first event, lasts T. */
struct host_window {
    int64_t start_ns;
    uint32_t count;
    bool active; /* a window has started */
    bool fired;  /* its alert fired (once per window) */
    bool hot;    /* it follows straight on a window whose alert fired: it folds from its start */
    bool listed; /* in the pending list (kept across new windows and reuse of the entry) */
    struct host_fold_acc fold;
};

struct host_entry {
    struct host_key key;
    struct host_window syn;                   /* count: half-open connections to this host */
    struct host_window scan;                  /* count: distinct failed targets of this host */
    uint32_t targets[HOSTS_MAX_SCAN_TARGETS]; /* hashes of the scan window's first targets */
};

/* A window with folded events, waiting for its aggregate to end by time. */
struct pending_fold {
    uint32_t entry;
    uint8_t alarm; /* enum host_alarm */
};

struct hosts {
    struct host_config cfg;
    struct host_entry *entries; /* cfg.capacity slots */
    struct sip_key hash_key;    /* random, per table */
    uint32_t count;             /* slots in use */
    /* folding: off until hosts_on_fold_end */
    host_fold_fn fold_fn;
    void *fold_ctx;
    int64_t fold_linger_ns;       /* after a window's end, how long its aggregate stays open */
    struct pending_fold *pending; /* each (entry, alarm) at most once: 2 × capacity slots */
    uint32_t pending_count;
    int64_t next_end_ns; /* no listed aggregate ends before this (INT64_MAX: none listed) */
    int64_t now_ns;      /* capture time, for the aggregates that end (hosts_set_now) */
};

void host_config_defaults(struct host_config *c) {
    c->capacity = 16384;
    c->syn_flood_threshold = 200;
    c->syn_flood_window_ns = 10 * 1000000000ll;
    c->port_scan_threshold = 20;
    c->port_scan_window_ns = 60 * 1000000000ll;
}

struct hosts *hosts_new(const struct host_config *c) {
    if (c->capacity == 0)
        return NULL;
    struct hosts *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->cfg = *c;
    sip_key_random(&h->hash_key);
    if (h->cfg.port_scan_threshold > HOSTS_MAX_SCAN_TARGETS)
        h->cfg.port_scan_threshold = HOSTS_MAX_SCAN_TARGETS;
    h->entries = calloc(c->capacity, sizeof *h->entries);
    h->pending = calloc((size_t)c->capacity * 2, sizeof *h->pending);
    h->next_end_ns = INT64_MAX;
    if (!h->entries || !h->pending) {
        free(h->entries);
        free(h->pending);
        free(h);
        return NULL;
    }
    return h;
}

void hosts_free(struct hosts *h) {
    if (!h)
        return;
    free(h->pending);
    free(h->entries);
    free(h);
}

/* --- keys and hashes --- */

static bool key_make(struct host_key *k, const uint8_t *addr, uint8_t ip_version) {
    if (ip_version != 4 && ip_version != 6)
        return false;
    memset(k, 0, sizeof *k);
    k->ip_version = ip_version;
    memcpy(k->addr, addr, ip_version == 4 ? 4 : 16);
    return true;
}

static uint64_t key_hash(const struct hosts *h, const struct host_key *k) {
    return siphash13(&h->hash_key, k, sizeof *k);
}

/* A port_scan target: destination address (the source's ip_version) and port. */
static uint32_t target_hash(const struct hosts *h, const struct host_key *dst, uint16_t dport) {
    uint8_t b[sizeof *dst + 2];
    memcpy(b, dst, sizeof *dst);
    b[sizeof *dst] = (uint8_t)(dport >> 8);
    b[sizeof *dst + 1] = (uint8_t)dport;
    return (uint32_t)(siphash13(&h->hash_key, b, sizeof b) >> 32);
}

/* --- windows --- */

/* An event at t belongs to window w (length window_ns) unless it is at or after start + T; an
 * event before the start counts too (windows only move forward). The difference is taken in
 * uint64_t: exact for t ≥ start, and no signed overflow for timestamps far apart. */
static bool window_holds(const struct host_window *w, int64_t window_ns, int64_t t) {
    if (!w->active)
        return false;
    if (t < w->start_ns)
        return true;
    return window_ns > 0 && (uint64_t)t - (uint64_t)w->start_ns < (uint64_t)window_ns;
}

/* Counts one more event; true when the count goes above threshold for the first time in the
 * window. */
static bool window_count(struct host_window *w, uint32_t threshold) {
    if (w->count < UINT32_MAX)
        w->count++;
    if (w->count <= threshold || w->fired)
        return false;
    w->fired = true;
    return true;
}

/* --- folding --- */

static struct host_window *entry_window(struct host_entry *e, enum host_alarm a) {
    return a == HOST_SYN_FLOOD ? &e->syn : &e->scan;
}

static int64_t alarm_window_ns(const struct hosts *h, enum host_alarm a) {
    return a == HOST_SYN_FLOOD ? h->cfg.syn_flood_window_ns : h->cfg.port_scan_window_ns;
}

/* t + d for d ≥ 0, held at INT64_MAX instead of overflowing. */
static int64_t add_saturated(int64_t t, int64_t d) {
    return t > INT64_MAX - d ? INT64_MAX : t + d;
}

/* When w's aggregate ends by time: the window's end plus the linger. */
static int64_t fold_deadline(const struct hosts *h, const struct host_window *w,
                             enum host_alarm a) {
    int64_t window = alarm_window_ns(h, a), linger = h->fold_linger_ns;
    return add_saturated(add_saturated(w->start_ns, window > 0 ? window : 0),
                         linger > 0 ? linger : 0);
}

/* Hands out the aggregate of e's window for alarm a, if it holds any, and empties it. */
static void fold_end(struct hosts *h, struct host_entry *e, enum host_alarm a) {
    struct host_window *w = entry_window(e, a);
    if (!w->fold.events)
        return;
    struct host_fold f = {.alarm = a,
                          .host = e->key.addr,
                          .ip_version = e->key.ip_version,
                          .window_start_ns = w->start_ns,
                          .window_ns = alarm_window_ns(h, a),
                          .count = w->count,
                          .conns = w->fold.conns,
                          .events = w->fold.events,
                          .kinds = w->fold.kinds,
                          .first_ns = w->fold.first_ns,
                          .last_ns = w->fold.last_ns,
                          .last_frame = w->fold.last_frame,
                          .ended_ns = h->now_ns};
    w->fold = (struct host_fold_acc){.ended = true};
    h->fold_fn(h->fold_ctx, &f);
}

/* Lists w (of entry e, alarm a) as holding an aggregate that must end by time. */
static void pending_add(struct hosts *h, const struct host_entry *e, enum host_alarm a,
                        struct host_window *w) {
    if (!w->listed) {
        h->pending[h->pending_count++] =
            (struct pending_fold){(uint32_t)(e - h->entries), (uint8_t)a};
        w->listed = true;
    }
    int64_t d = fold_deadline(h, w, a);
    if (d < h->next_end_ns)
        h->next_end_ns = d;
}

/* Makes the window of alarm a of e the window of an event at t: a new one when t is past the
 * current one, whose aggregate then ends. */
static void window_advance(struct hosts *h, struct host_entry *e, enum host_alarm a, int64_t t) {
    struct host_window *w = entry_window(e, a);
    int64_t window_ns = alarm_window_ns(h, a);
    if (window_holds(w, window_ns, t))
        return;
    fold_end(h, e, a);
    bool hot = w->active && w->fired && window_ns > 0 &&
               (uint64_t)t - (uint64_t)w->start_ns < 2 * (uint64_t)window_ns;
    *w = (struct host_window){.start_ns = t, .active = true, .hot = hot, .listed = w->listed};
}

/* --- the table --- */

/* Whether all of e's windows have ended by now. */
static bool entry_expired(const struct hosts *h, const struct host_entry *e, int64_t now) {
    return !window_holds(&e->syn, h->cfg.syn_flood_window_ns, now) &&
           !window_holds(&e->scan, h->cfg.port_scan_window_ns, now);
}

/* Start of e's newest window (how recently the host was seen opening one). */
static int64_t entry_newest_start(const struct host_entry *e) {
    int64_t t = INT64_MIN;
    if (e->syn.active)
        t = e->syn.start_ns;
    if (e->scan.active && e->scan.start_ns > t)
        t = e->scan.start_ns;
    return t;
}

/* How much e has counted in its windows: the evidence that would be lost with it. */
static uint64_t entry_weight(const struct host_entry *e) {
    return (e->syn.active ? e->syn.count : 0) + (e->scan.active ? e->scan.count : 0);
}

/* Eviction order: an entry whose windows have all ended before a live one, then the one that
 * has counted least, then the one whose newest window is oldest. Counting first protects the
 * host under attack: a spoofed flood brings a new one-attempt host with every SYN, and pushing
 * out the oldest entry would push out the victim's count over and over. */
static bool entry_evicts_before(const struct hosts *h, const struct host_entry *a,
                                const struct host_entry *b, int64_t now) {
    bool a_expired = entry_expired(h, a, now), b_expired = entry_expired(h, b, now);
    if (a_expired != b_expired)
        return a_expired;
    uint64_t wa = entry_weight(a), wb = entry_weight(b);
    if (wa != wb)
        return wa < wb;
    return entry_newest_start(a) < entry_newest_start(b);
}

static uint32_t slot_first(const struct hosts *h, const struct host_key *k) {
    return (uint32_t)(key_hash(h, k) % h->cfg.capacity);
}

static uint32_t probe_count(const struct hosts *h) {
    return h->cfg.capacity < HOSTS_PROBE ? h->cfg.capacity : HOSTS_PROBE;
}

/* The entry of host k, claiming a free slot of its neighbourhood or reusing the entry there that
 * evicts first (see hosts.h) when the host is new. */
static struct host_entry *table_get(struct hosts *h, const struct host_key *k, int64_t now) {
    uint32_t i = slot_first(h, k);
    struct host_entry *victim = NULL;
    for (uint32_t n = probe_count(h); n > 0; n--) {
        struct host_entry *e = &h->entries[i];
        if (e->key.ip_version == 0) {
            h->count++;
            victim = e;
            break;
        }
        if (memcmp(&e->key, k, sizeof *k) == 0)
            return e;
        if (!victim || entry_evicts_before(h, e, victim, now))
            victim = e;
        if (++i == h->cfg.capacity)
            i = 0;
    }
    bool listed[2] = {victim->syn.listed, victim->scan.listed};
    if (victim->key.ip_version) {
        fold_end(h, victim, HOST_SYN_FLOOD);
        fold_end(h, victim, HOST_PORT_SCAN);
    }
    memset(victim, 0, sizeof *victim);
    victim->key = *k;
    victim->syn.listed = listed[0];
    victim->scan.listed = listed[1];
    return victim;
}

/* The entry of host k, or NULL: never claims a slot. */
static struct host_entry *table_find(struct hosts *h, const struct host_key *k) {
    uint32_t i = slot_first(h, k);
    for (uint32_t n = probe_count(h); n > 0; n--) {
        struct host_entry *e = &h->entries[i];
        if (e->key.ip_version == 0)
            return NULL;
        if (memcmp(&e->key, k, sizeof *k) == 0)
            return e;
        if (++i == h->cfg.capacity)
            i = 0;
    }
    return NULL;
}

/* --- syn_flood --- */

bool hosts_syn_attempt(struct hosts *h, const uint8_t *dst, uint8_t ip_version, int64_t now_ns,
                       uint32_t *half_open) {
    struct host_key k;
    bool fired = false;
    uint32_t count = 0;
    if (key_make(&k, dst, ip_version)) {
        struct host_entry *e = table_get(h, &k, now_ns);
        window_advance(h, e, HOST_SYN_FLOOD, now_ns);
        struct host_window *w = &e->syn;
        fired = window_count(w, h->cfg.syn_flood_threshold);
        count = w->count;
    }
    if (half_open)
        *half_open = count;
    return fired;
}

/* --- port_scan --- */

/* Adds target t to the window's set; true if it was not there. Once the set is full a target
 * outside it is new only the first time: the count stops at HOSTS_MAX_SCAN_TARGETS + 1. */
static bool scan_add_target(struct host_entry *e, uint32_t t) {
    uint32_t stored =
        e->scan.count < HOSTS_MAX_SCAN_TARGETS ? e->scan.count : HOSTS_MAX_SCAN_TARGETS;
    for (uint32_t i = 0; i < stored; i++)
        if (e->targets[i] == t)
            return false;
    if (stored < HOSTS_MAX_SCAN_TARGETS) {
        e->targets[stored] = t;
        return true;
    }
    return e->scan.count == HOSTS_MAX_SCAN_TARGETS;
}

bool hosts_failed_attempt(struct hosts *h, const uint8_t *src, const uint8_t *dst, uint16_t dport,
                          uint8_t ip_version, int64_t start_ns, uint32_t *distinct) {
    struct host_key ks, kd;
    bool fired = false;
    uint32_t count = 0;
    if (key_make(&ks, src, ip_version) && key_make(&kd, dst, ip_version)) {
        struct host_entry *e = table_get(h, &ks, start_ns);
        window_advance(h, e, HOST_PORT_SCAN, start_ns);
        if (scan_add_target(e, target_hash(h, &kd, dport)))
            fired = window_count(&e->scan, h->cfg.port_scan_threshold);
        count = e->scan.count;
    }
    if (distinct)
        *distinct = count;
    return fired;
}

/* --- folding: the public side --- */

void hosts_on_fold_end(struct hosts *h, host_fold_fn fn, void *ctx, int64_t linger_ns) {
    h->fold_fn = fn;
    h->fold_ctx = ctx;
    h->fold_linger_ns = linger_ns;
}

bool hosts_fold(struct hosts *h, enum host_alarm alarm, const uint8_t *host, uint8_t ip_version,
                int64_t attempt_ns, const struct host_fold_in *in) {
    struct host_key k;
    if (!h->fold_fn || !key_make(&k, host, ip_version))
        return false;
    struct host_entry *e = table_find(h, &k);
    if (!e)
        return false;
    struct host_window *w = entry_window(e, alarm);
    if (!window_holds(w, alarm_window_ns(h, alarm), attempt_ns) || !(w->fired || w->hot) ||
        w->fold.ended)
        return false;
    struct host_fold_acc *f = &w->fold;
    if (!f->events) {
        f->first_ns = f->last_ns = in->ts_ns;
        pending_add(h, e, alarm, w);
    }
    f->events += in->events;
    f->conns++;
    f->kinds |= in->kinds;
    if (in->ts_ns < f->first_ns)
        f->first_ns = in->ts_ns;
    if (in->ts_ns >= f->last_ns) {
        f->last_ns = in->ts_ns;
        f->last_frame = in->frame;
    }
    return true;
}

/* Ends the listed aggregates that are due (all of them when all), keeps the rest listed. */
static void pending_sweep(struct hosts *h, int64_t now_ns, bool all) {
    uint32_t kept = 0;
    int64_t next = INT64_MAX;
    for (uint32_t i = 0; i < h->pending_count; i++) {
        struct pending_fold p = h->pending[i];
        struct host_entry *e = &h->entries[p.entry];
        enum host_alarm a = (enum host_alarm)p.alarm;
        struct host_window *w = entry_window(e, a);
        int64_t d = fold_deadline(h, w, a);
        if (w->fold.events && (all || now_ns >= d))
            fold_end(h, e, a);
        if (!w->fold.events) {
            w->listed = false;
            continue;
        }
        if (d < next)
            next = d;
        h->pending[kept++] = p;
    }
    h->pending_count = kept;
    h->next_end_ns = next;
}

void hosts_set_now(struct hosts *h, int64_t now_ns) {
    h->now_ns = now_ns;
}

void hosts_close_ended(struct hosts *h, int64_t now_ns) {
    h->now_ns = now_ns;
    if (now_ns >= h->next_end_ns)
        pending_sweep(h, now_ns, false);
}

void hosts_close_all(struct hosts *h) {
    pending_sweep(h, 0, true);
}

uint32_t hosts_count(const struct hosts *h) {
    return h->count;
}

size_t hosts_memory(const struct hosts *h) {
    return hosts_memory_for(&h->cfg);
}

size_t hosts_memory_for(const struct host_config *c) {
    return sizeof(struct hosts) +
           (size_t)c->capacity * (sizeof(struct host_entry) + 2 * sizeof(struct pending_fold));
}

size_t hosts_memory_used(const struct hosts *h) {
    return sizeof *h + (size_t)h->count * sizeof *h->entries +
           (size_t)h->pending_count * sizeof *h->pending;
}
