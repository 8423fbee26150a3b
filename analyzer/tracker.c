/* tracker: the per-packet path from a decoded packet to its connection, and the connection
 * lifecycle: creation, timeouts, eviction, close. Closed TCP connections move to time_wait.c; the
 * host-level detectors (host_detect.c) and the detail texts (anomaly.c) live apart. One exit
 * path, report_and_remove(), is the only place a live connection leaves its table, so each is
 * reported exactly once; every anomaly event leaves through tr->anomaly. Time is capture time:
 * the latest packet timestamp seen drives every timeout, so a file replays the same way. */
#include "tracker.h"

#include <stdlib.h>
#include <string.h>

#include "anomaly_detail.h"
#include "block_pool.h"
#include "flow_table.h"
#include "host_detect.h"
#include "siphash.h"
#include "time_wait.h"

/* A packet's flow key, the side it came from, and the key's hash, worked out ahead of time; for
 * a TCP packet that may open or close a connection (SYN, FIN, RST), whether to load its place in
 * the table of closed connections too, which a new connection looks up and a closing one is added
 * to. */
struct lookup_hint {
    uint64_t frame;
    struct flow_key key;
    int side;
    bool closed_too;
    uint64_t hash; /* both tables hash alike (time_wait_hash_as) */
};

struct tracker {
    struct tracker_config cfg;
    struct flow_table *table;         /* struct conn, timers enum conn_timer */
    struct time_wait *time_wait;      /* closed TCP connections, for their late packets */
    struct hosts *hosts;              /* syn_flood and port_scan counters: its own, or share's */
    struct tracker_hosts_share share; /* share.hosts NULL: hosts is the tracker's own */
    /* The cold parts of live connections, one block at most of each per connection, so each
     * pool holds max_flows blocks and never runs out: anomaly lists, TCP sequence holes. */
    struct block_pool *anomaly_lists; /* struct conn_anomalies */
    struct block_pool *holes;         /* struct tcp_holes */
    tracker_report_fn report;
    tracker_anomaly_fn anomaly;
    void *ctx;
    tracker_segment_fn segment; /* NULL unless a view of single connections asked for it */
    void *segment_ctx;
    int64_t now_ns;
    bool have_now;
    struct tracker_counts counts;
    /* What tracker_prefetch worked out for the packet of frame `frame` (0: nothing), in slot
     * frame % TRACKER_LOOKAHEAD: one per packet a caller may have prefetched and not yet handed
     * over. */
    struct lookup_hint hint[TRACKER_LOOKAHEAD];
};

void tracker_config_defaults(struct tracker_config *cfg) {
    const int64_t s = 1000000000;
    cfg->max_flows = 262144;
    cfg->timeout_ns[CONN_TIMER_HANDSHAKE] = 30 * s;
    cfg->timeout_ns[CONN_TIMER_ESTABLISHED] = 300 * s;
    cfg->timeout_ns[CONN_TIMER_HALF_CLOSED] = 120 * s;
    cfg->timeout_ns[CONN_TIMER_CLOSING] = 30 * s;
    cfg->time_wait_ns = 240 * s;
    cfg->timeout_ns[CONN_TIMER_UDP] = 60 * s;
    cfg->timeout_ns[CONN_TIMER_ICMP] = 60 * s;
    cfg->answer_grace_ns = 1 * s;
    cfg->fold_host_events = true;
    host_config_defaults(&cfg->hosts);
}

static void host_aggregate(void *ctx, const struct host_fold *f);

struct tracker *tracker_new(const struct tracker_config *cfg, tracker_report_fn report,
                            tracker_anomaly_fn anomaly, void *ctx) {
    return tracker_new_sharing(cfg, report, anomaly, ctx, NULL);
}

struct tracker *tracker_new_sharing(const struct tracker_config *cfg, tracker_report_fn report,
                                    tracker_anomaly_fn anomaly, void *ctx,
                                    const struct tracker_hosts_share *share) {
    struct tracker *tr = calloc(1, sizeof *tr);
    if (!tr)
        return NULL;
    tr->cfg = *cfg;
    tr->report = report;
    tr->anomaly = anomaly;
    tr->ctx = ctx;
    tr->table = flow_table_new(cfg->max_flows, sizeof(struct conn));
    tr->time_wait = time_wait_new(cfg->max_flows, cfg->time_wait_ns);
    if (tr->table && tr->time_wait) /* one hash of a packet's key serves both tables */
        time_wait_hash_as(tr->time_wait, tr->table);
    if (share)
        tr->share = *share;
    tr->hosts = share ? share->hosts : hosts_new(&cfg->hosts);
    tr->anomaly_lists = block_pool_new(sizeof(struct conn_anomalies), cfg->max_flows);
    tr->holes = block_pool_new(sizeof(struct tcp_holes), cfg->max_flows);
    if (!tr->table || !tr->time_wait || !tr->hosts || !tr->anomaly_lists || !tr->holes) {
        tracker_free(tr);
        return NULL;
    }
    if (cfg->fold_host_events && !share)
        hosts_on_fold_end(tr->hosts, host_aggregate, tr, tracker_fold_linger_ns(cfg));
    return tr;
}

void tracker_free(struct tracker *tr) {
    if (!tr)
        return;
    flow_table_free(tr->table);
    time_wait_free(tr->time_wait);
    if (!tr->share.hosts)
        hosts_free(tr->hosts);
    block_pool_free(tr->anomaly_lists);
    block_pool_free(tr->holes);
    free(tr);
}

void tracker_set_segment_hook(struct tracker *tr, tracker_segment_fn fn, void *ctx) {
    tr->segment = fn;
    tr->segment_ctx = ctx;
}

const struct tracker_counts *tracker_counts(const struct tracker *tr) {
    return &tr->counts;
}

/* A shared host table is its owner's to count. */
size_t tracker_memory(const struct tracker *tr) {
    return sizeof *tr + flow_table_memory(tr->table) + time_wait_memory(tr->time_wait) +
           (tr->share.hosts ? 0 : hosts_memory(tr->hosts)) + block_pool_memory(tr->anomaly_lists) +
           block_pool_memory(tr->holes);
}

size_t tracker_memory_used(const struct tracker *tr) {
    return sizeof *tr + flow_table_memory_used(tr->table) + time_wait_memory_used(tr->time_wait) +
           (tr->share.hosts ? 0 : hosts_memory_used(tr->hosts)) +
           block_pool_memory_used(tr->anomaly_lists) + block_pool_memory_used(tr->holes);
}

size_t tracker_memory_for(const struct tracker_config *cfg) {
    return sizeof(struct tracker) + flow_table_memory_for(cfg->max_flows, sizeof(struct conn)) +
           time_wait_memory_for(cfg->max_flows) + hosts_memory_for(&cfg->hosts) +
           block_pool_memory_for(sizeof(struct conn_anomalies), cfg->max_flows) +
           block_pool_memory_for(sizeof(struct tcp_holes), cfg->max_flows);
}

bool tracker_port_is_server(uint16_t port) {
    static const uint16_t well_known[] = {
        1080, 1194, 1433, 1521, 1723, 1883, 2049, 2375, 2376, 3128, 3306, 3389, 5060, 5061,  5222,
        5432, 5671, 5672, 5900, 5984, 6379, 6443, 6660, 6661, 6662, 6663, 6664, 6665, 6666,  6667,
        6668, 6669, 8000, 8008, 8080, 8081, 8443, 8888, 9000, 9092, 9200, 9300, 9418, 11211, 27017,
    };
    if (port != 0 && port < 1024)
        return true;
    for (size_t i = 0; i < sizeof well_known / sizeof well_known[0]; i++)
        if (well_known[i] == port)
            return true;
    return false;
}

/* ---- keys and roles ------------------------------------------------------------------------ */

/* A protocol the tracker follows as connections. */
static bool trackable(const struct packet *p) {
    return p->transport == TRANSPORT_TCP || p->transport == TRANSPORT_UDP ||
           p->transport == TRANSPORT_ICMP || p->transport == TRANSPORT_ICMPV6;
}

/* Fills the canonical key of p; returns the key side (0/1) of p's sender. */
static int key_make(const struct packet *p, struct flow_key *k) {
    size_t alen = p->ip_version == 4 ? 4 : 16;
    memset(k, 0, sizeof *k);
    k->proto = p->ip_proto;
    k->ip_version = p->ip_version;
    k->vlan[0] = p->vlan_count > 0 ? p->vlan_id[0] : 0;
    k->vlan[1] = p->vlan_count > 1 ? p->vlan_id[1] : 0;
    uint16_t sport = p->sport, dport = p->dport;
    if (p->transport == TRANSPORT_ICMP || p->transport == TRANSPORT_ICMPV6)
        sport = dport = 0; /* ICMP flows are keyed by address pair and protocol only */
    int c = memcmp(p->src, p->dst, alen);
    int side = c < 0 || (c == 0 && sport <= dport) ? 0 : 1;
    memcpy(k->addr[side], p->src, alen);
    memcpy(k->addr[!side], p->dst, alen);
    k->port[side] = sport;
    k->port[!side] = dport;
    return side;
}

/* The fixed-key hash of p's connection that --shard and --workers split by. */
static uint64_t split_hash(const struct packet *p) {
    struct flow_key k;
    key_make(p, &k);
    /* The key's fields as bytes in a fixed order (ports and VLANs big-endian): the same on every
     * machine, whatever struct flow_key's layout. */
    uint8_t b[2 + sizeof k.addr + 8];
    size_t n = 0;
    b[n++] = k.ip_version;
    b[n++] = k.proto;
    memcpy(b + n, k.addr, sizeof k.addr);
    n += sizeof k.addr;
    for (int i = 0; i < 2; i++) {
        b[n++] = (uint8_t)(k.port[i] >> 8), b[n++] = (uint8_t)k.port[i];
        b[n++] = (uint8_t)(k.vlan[i] >> 8), b[n++] = (uint8_t)k.vlan[i];
    }
    static const struct sip_key shard_key = {0x7368616b65646f77ull, 0x6e2d7368617264ull};
    return siphash13(&shard_key, b, n);
}

uint32_t tracker_shard_of(const struct packet *p, uint32_t shards) {
    return shards <= 1 || !trackable(p) ? 0 : (uint32_t)(split_hash(p) % shards);
}

/* The high half of the hash, where --shard takes the hash modulo its count: the shares and the
 * workers do not split by the same bits, so a share's connections spread over every worker
 * (with the same, --shard 1/2 --workers 2 would give worker 1 nothing). */
uint32_t tracker_worker_of(const struct packet *p, uint32_t workers) {
    return workers <= 1 || !trackable(p) ? 0 : (uint32_t)((split_hash(p) >> 32) % workers);
}

/* Ephemeral ports: what a client's stack picks for its side of a connection. 32768 and above
 * covers Linux's range (32768-60999) and the IANA dynamic range the BSDs' and Windows' defaults
 * fall in (49152-65535). */
#define EPHEMERAL_PORT_MIN 32768

/* Who is the originator of a connection whose first packet is p (sent by key side `side`)?
 * 1. A SYN's sender; a SYN/ACK's receiver (the client, as Zeek's history `^` flip makes it: its
 *    SYN was lost or not captured).
 * 2. Picked up mid-stream: the side whose port does not look like a server port; both looking
 *    like one, the sender unless its port is the lower (Zeek's rule for likely server ports).
 * 3. TCP, neither port looking like one: a segment from a port below the ephemeral range to one
 *    inside it comes from the server — a local service on a port of its own (3000, 8765) talking
 *    to a client's ephemeral port; on a host capture the first segment kept is often the
 *    server's (issue 13). Not for UDP: in tunnels_Teredo.pcap a client's first datagram goes
 *    from its port 3797 to a Teredo relay's 32900. Not Zeek's rule (docs/zeek-comparison.md).
 * 4. Otherwise the sender. */
static int originator_side(const struct packet *p, int side, bool *flipped) {
    bool tcp = p->transport == TRANSPORT_TCP;
    uint8_t f = p->tcp.flags;
    bool flip = false;
    if (tcp && (f & TCP_SYN))
        flip = (f & TCP_ACK) != 0;
    else if (tcp || p->transport == TRANSPORT_UDP) {
        bool s = tracker_port_is_server(p->sport), d = tracker_port_is_server(p->dport);
        if (s || d)
            flip = s && (!d || (p->sport < p->dport));
        else
            flip = tcp && p->sport != 0 && p->sport < EPHEMERAL_PORT_MIN &&
                   p->dport >= EPHEMERAL_PORT_MIN;
    }
    *flipped = flip;
    return flip ? !side : side;
}

static enum conn_timer timer_for(const struct conn *c, const struct packet *p) {
    if (p->transport == TRANSPORT_UDP)
        return CONN_TIMER_UDP;
    if (p->transport != TRANSPORT_TCP)
        return CONN_TIMER_ICMP;
    const struct tcp_conn *t = &c->tcp;
    if (t->ep[0].fin_sent && t->ep[1].fin_sent)
        return CONN_TIMER_CLOSING;
    if (tcp_conn_any_fin(t))
        return CONN_TIMER_HALF_CLOSED;
    return tcp_conn_established(t) ? CONN_TIMER_ESTABLISHED : CONN_TIMER_HANDSHAKE;
}

/* ---- anomaly events ------------------------------------------------------------------------ */

static void event_of_conn(struct anomaly_event *ev, enum anomaly a, int dir, int64_t ts,
                          uint64_t frame, const struct flow_key *k, uint8_t orig_side,
                          uint64_t serial, int64_t first_ns) {
    memset(ev, 0, sizeof *ev);
    ev->id = a;
    ev->dir = dir;
    ev->ts_ns = ts;
    ev->frame = frame;
    ev->key = k;
    ev->orig_side = orig_side;
    ev->serial = serial;
    ev->first_ns = first_ns;
}

/* Counts an anomaly of a live connection and lists it on the connection; true when it is the
 * first of its kind and direction, the one that becomes an event. */
static bool conn_anomaly_note(struct tracker *tr, struct conn *c, enum anomaly a, int dir,
                              int64_t ts) {
    tr->counts.anomalies[a]++;
    if (!c->anomalies)
        c->anomalies = block_pool_get(tr->anomaly_lists);
    return !c->anomalies || conn_anomalies_add(c->anomalies, a, dir, ts);
}

/* conn_anomaly_note, and when it is the first of its kind and direction, the event to emit
 * (whose detail the caller writes, only then). */
static bool conn_anomaly(struct tracker *tr, struct conn *c, enum anomaly a, int dir, int64_t ts,
                         uint64_t frame, struct anomaly_event *ev) {
    if (!conn_anomaly_note(tr, c, a, dir, ts))
        return false;
    event_of_conn(ev, a, dir, ts, frame, &c->e.key, c->orig_side, c->first_frame, c->first_ns);
    return true;
}

static void segment_anomalies(struct tracker *tr, struct conn *c, int dir, const struct packet *p,
                              int64_t ts) {
    for (anomaly_set set = c->tcp.raised; set; set &= set - 1) {
        enum anomaly a = (enum anomaly)__builtin_ctz(set);
        struct anomaly_event ev;
        if (conn_anomaly(tr, c, a, dir, ts, p->frame, &ev)) {
            anomaly_describe_segment(ev.detail, sizeof ev.detail, a, c, dir, p);
            tr->anomaly(tr->ctx, &ev);
        }
    }
}

/* The events a connection's end raises (first of their kind and direction), held until host
 * detection says whether they are reported one by one or folded into a host's aggregate. */
struct end_events {
    unsigned n;
    anomaly_set kinds;
    struct {
        uint8_t anomaly, dir;
    } list[2 * ANOMALY_COUNT]; /* each anomaly at most once per direction */
};

/* What a connection's end reveals, counted and listed on the connection; the events it raises
 * go to ends. When the input ended (rather than the connection), what was sent within the answer
 * grace before the last packet is not judged: its answer may simply not have been captured. The
 * same holds for an endpoint that ended the connection with its own RST (now is that RST's
 * time): what it sent just before may have been on its way to being acknowledged. */
static anomaly_set end_anomalies(struct tracker *tr, struct conn *c, enum conn_end why,
                                 struct end_events *ends) {
    ends->n = 0;
    ends->kinds = 0;
    if (c->e.key.proto != 6)
        return 0;
    bool cut = why == CONN_END_CAPTURE_END || why == CONN_END_SHUTDOWN || why == CONN_END_EVICTED;
    int64_t graced = tr->now_ns - tr->cfg.answer_grace_ns;
    anomaly_set all = 0;
    for (int dir = 0; dir < 2; dir++) {
        bool own_rst = why == CONN_END_RST && c->tcp.ep[dir].rst_sent;
        int64_t judge_until = cut || own_rst ? graced : INT64_MAX;
        anomaly_set set = tcp_conn_end_anomalies(&c->tcp, dir, judge_until);
        all |= set;
        for (; set; set &= set - 1) {
            enum anomaly a = (enum anomaly)__builtin_ctz(set);
            if (conn_anomaly_note(tr, c, a, dir, tr->now_ns)) {
                ends->list[ends->n].anomaly = (uint8_t)a;
                ends->list[ends->n++].dir = (uint8_t)dir;
                ends->kinds |= anomaly_bit(a);
            }
        }
    }
    return all;
}

static void end_events_emit(struct tracker *tr, const struct conn *c,
                            const struct end_events *ends) {
    for (unsigned i = 0; i < ends->n; i++) {
        enum anomaly a = (enum anomaly)ends->list[i].anomaly;
        int dir = ends->list[i].dir;
        struct anomaly_event ev;
        event_of_conn(&ev, a, dir, tr->now_ns, c->last_frame, &c->e.key, c->orig_side,
                      c->first_frame, c->first_ns);
        anomaly_describe_end(ev.detail, sizeof ev.detail, a, c, dir);
        tr->anomaly(tr->ctx, &ev);
    }
}

/* A host-level anomaly host_detect found as connection reporting ended (frame: its last). */
static void host_anomaly(struct tracker *tr, const struct host_alert *h, uint64_t frame) {
    struct anomaly_event ev;
    memset(&ev, 0, sizeof ev);
    ev.id = h->id;
    ev.dir = -1;
    ev.ts_ns = tr->now_ns;
    ev.frame = frame;
    ev.host = h->host;
    ev.host_version = h->ip_version;
    ev.count = h->count;
    ev.window_ns = h->window_ns;
    anomaly_describe_host(ev.detail, sizeof ev.detail, h->id, h->count, h->window_ns, h->threshold);
    tr->counts.anomalies[h->id]++;
    tr->anomaly(tr->ctx, &ev);
}

void tracker_aggregate_event(struct anomaly_event *ev, const struct host_fold *f) {
    memset(ev, 0, sizeof *ev);
    ev->id = f->alarm == HOST_SYN_FLOOD ? ANOMALY_SYN_FLOOD : ANOMALY_PORT_SCAN;
    ev->dir = -1;
    ev->ts_ns = f->ended_ns;
    ev->frame = f->last_frame;
    ev->host = f->host;
    ev->host_version = f->ip_version;
    ev->count = f->count;
    ev->window_ns = f->window_ns;
    ev->folded = (struct anomaly_fold){.events = f->events,
                                       .conns = f->conns,
                                       .kinds = (anomaly_set)f->kinds,
                                       .window_start_ns = f->window_start_ns,
                                       .first_ns = f->first_ns,
                                       .last_ns = f->last_ns};
    anomaly_describe_fold(ev->detail, sizeof ev->detail, ev->id, &ev->folded, f->window_ns);
}

/* Expiry runs as packets arrive or time advances, so a half-open connection is reported (and
 * counted against its host) at the latest its handshake timeout after it was attempted, plus the
 * grace for an answer: an aggregate stays open that long after its window. */
int64_t tracker_fold_linger_ns(const struct tracker_config *cfg) {
    return cfg->timeout_ns[CONN_TIMER_HANDSHAKE] + cfg->answer_grace_ns;
}

/* A host's aggregate of folded events ended (hosts.h, folding): one event says what it holds. */
static void host_aggregate(void *ctx, const struct host_fold *f) {
    struct tracker *tr = ctx;
    struct anomaly_event ev;
    tracker_aggregate_event(&ev, f);
    tr->counts.aggregates++;
    tr->anomaly(tr->ctx, &ev);
}

/* Holds or releases a shared host table (nothing for a table of its own). */
static void hosts_hold(struct tracker *tr, bool hold) {
    if (tr->share.guard)
        tr->share.guard(tr->share.ctx, hold);
}

/* ---- the one exit path --------------------------------------------------------------------- */

static void report(struct tracker *tr, struct conn *c, enum conn_end why) {
    c->end = (uint8_t)why;
    struct end_events ends;
    anomaly_set end_set = end_anomalies(tr, c, why, &ends);
    struct host_fold_in fold = {ends.kinds, ends.n, tr->now_ns, c->last_frame};
    struct host_verdict v = {.alerts = 0};
    /* Most connections count for nothing at the host level: a shared table is held (and the
     * workers sharing it kept in order, engine.c) only for those that do. */
    struct host_counting counts = host_detect_judge(c, why, end_set);
    if (counts.half_open || counts.failed_attempt) {
        hosts_hold(tr, true);
        hosts_set_now(tr->hosts, tr->now_ns);
        host_detect_count(tr->hosts, &tr->cfg.hosts, c, counts, ends.n ? &fold : NULL, &v);
        hosts_hold(tr, false);
    }
    if (v.folded)
        tr->counts.folded_events += ends.n;
    else
        end_events_emit(tr, c, &ends);
    for (unsigned i = 0; i < v.alerts; i++)
        host_anomaly(tr, &v.alert[i], c->last_frame);
    tr->counts.reported++;
    tr->counts.by_end[why]++;
    tr->counts.open_now--;
    tr->report(tr->ctx, c);
}

/* Drops a live connection (whose key hashes to hash) from its table, its cold blocks back to their
 * pools. */
static void conn_remove_hashed(struct tracker *tr, struct conn *c, uint64_t hash) {
    block_pool_put(tr->anomaly_lists, c->anomalies);
    c->anomalies = NULL;
    if (c->e.key.proto == 6)
        tcp_conn_release(&c->tcp, tr->holes);
    flow_table_remove_hashed(tr->table, &c->e, hash);
}

static void conn_remove(struct tracker *tr, struct conn *c) {
    conn_remove_hashed(tr, c, flow_table_hash(tr->table, &c->e.key));
}

static void report_and_remove(struct tracker *tr, struct conn *c, enum conn_end why) {
    report(tr, c, why);
    conn_remove(tr, c);
}

/* Why an idle connection of timer class t expires. */
static enum conn_end expiry_reason(const struct conn *c, enum conn_timer t) {
    if (t == CONN_TIMER_HALF_CLOSED && !(c->tcp.ep[0].fin_sent && c->tcp.ep[1].fin_sent))
        return CONN_END_HALF_CLOSED;
    return CONN_END_TIMEOUT;
}

static void expire(struct tracker *tr) {
    for (unsigned t = 0; t < CONN_TIMER_COUNT; t++) {
        struct conn *c;
        while ((c = (struct conn *)flow_table_oldest(tr->table, t)) != NULL &&
               tr->now_ns - c->last_ns >= tr->cfg.timeout_ns[t])
            report_and_remove(tr, c, expiry_reason(c, (enum conn_timer)t));
    }
    time_wait_expire(tr->time_wait, tr->now_ns);
    if (!tr->share.hosts) /* a shared table's owner ends its aggregates */
        hosts_close_ended(tr->hosts, tr->now_ns);
}

/* Makes room for one more live connection: the least recently active one is evicted. */
static void make_room(struct tracker *tr) {
    struct conn *victim = NULL;
    for (unsigned t = 0; t < CONN_TIMER_COUNT; t++) {
        struct conn *c = (struct conn *)flow_table_oldest(tr->table, t);
        if (c && (!victim || c->last_ns < victim->last_ns))
            victim = c;
    }
    if (victim) {
        tr->counts.evicted++;
        report_and_remove(tr, victim, CONN_END_EVICTED);
    }
}

static struct conn *conn_create(struct tracker *tr, const struct flow_key *k, uint64_t hash,
                                const struct packet *p, int side, int64_t ts) {
    struct conn *c =
        (struct conn *)flow_table_insert_hashed(tr->table, k, hash, CONN_TIMER_HANDSHAKE);
    if (!c) {
        make_room(tr);
        c = (struct conn *)flow_table_insert_hashed(tr->table, k, hash, CONN_TIMER_HANDSHAKE);
        if (!c)
            return NULL;
    }
    bool flipped;
    c->orig_side = (uint8_t)originator_side(p, side, &flipped);
    c->first_frame = p->frame;
    c->first_ns = c->last_ns = ts;
    if (p->transport == TRANSPORT_TCP)
        tcp_conn_init(&c->tcp, flipped, !(p->tcp.flags & TCP_SYN));
    tr->counts.created++;
    if (++tr->counts.open_now > tr->counts.peak_open)
        tr->counts.peak_open = tr->counts.open_now;
    return c;
}

/* ---- per packet ---------------------------------------------------------------------------- */

/* A late packet of a closed connection showed an anomaly: counted, and the first of its kind and
 * direction emitted, naming the closed connection (key k). */
static void late_anomaly(struct tracker *tr, const struct flow_key *k,
                         const struct time_wait_match *m, const struct packet *p, int64_t ts) {
    tr->counts.anomalies[m->anomaly]++;
    if (!m->first)
        return;
    struct anomaly_event ev;
    event_of_conn(&ev, m->anomaly, m->dir, ts, p->frame, k, m->orig_side, m->serial, m->first_ns);
    anomaly_describe_late(ev.detail, sizeof ev.detail, m->anomaly, m->dir, p->payload_len,
                          (long long)((ts - m->close_ns) / 1000000));
    tr->anomaly(tr->ctx, &ev);
}

/* The live connection of key k, or NULL if there is none — after the closed connection on the
 * same key (if any) was offered the packet: *late says whether it claimed it and whether a new
 * SYN reuses its ports. */
static struct conn *lookup(struct tracker *tr, const struct flow_key *k, uint64_t hash,
                           const struct packet *p, int side, int64_t ts,
                           struct time_wait_match *late) {
    struct conn *c = (struct conn *)flow_table_find_hashed(tr->table, k, hash);
    if (c) {
        late->claimed = late->port_reuse = false;
        return c;
    }
    time_wait_offer(tr->time_wait, k, hash, p, side, late);
    if (late->raised)
        late_anomaly(tr, k, late, p, ts);
    if (late->claimed)
        tr->counts.late_packets++;
    return NULL;
}

/* A new SYN on the ports of closed connection `old`: said on the new connection c. */
static void port_reuse(struct tracker *tr, struct conn *c, const struct time_wait_match *old,
                       const struct packet *p, int64_t ts) {
    struct anomaly_event ev;
    if (!conn_anomaly(tr, c, ANOMALY_PORT_REUSE, 0, ts, p->frame, &ev))
        return;
    char uid[CONN_UID_LEN];
    conn_uid_make(old->serial, old->first_ns, &c->e.key, uid);
    anomaly_describe_port_reuse(ev.detail, sizeof ev.detail, uid, old->end == CONN_END_RST,
                                old->in_time_wait);
    tr->anomaly(tr->ctx, &ev);
}

static void update_counters(struct conn *c, int dir, const struct packet *p, int64_t ts) {
    c->pkts[dir]++;
    c->ip_bytes[dir] += p->ip_len;
    c->last_frame = p->frame;
    if (ts > c->last_ns)
        c->last_ns = ts;
    if (p->transport == TRANSPORT_TCP)
        return; /* its payload is counted by sequence space (tcp_conn.c) */
    c->datagram_payload[dir] += p->payload_len;
    if ((p->transport == TRANSPORT_ICMP || p->transport == TRANSPORT_ICMPV6) && c->pkts[dir] == 1) {
        c->icmp_type[dir] = p->icmp_type;
        c->icmp_code[dir] = p->icmp_code;
    }
}

static enum conn_end close_reason(enum tcp_close_how how) {
    switch (how) {
    case TCP_CLOSE_RST:
        return CONN_END_RST;
    case TCP_CLOSE_SIMULTANEOUS_FIN:
        return CONN_END_SIMULTANEOUS_FIN;
    default:
        return CONN_END_FIN;
    }
}

/* hash: the hash of c's key (both tables hash alike). */
static void tcp_segment(struct tracker *tr, struct conn *c, uint64_t hash, int dir,
                        const struct packet *p, int64_t ts) {
    bool closed = tcp_conn_on_segment(&c->tcp, dir, p, ts, tr->holes);
    if (tr->segment)
        tr->segment(tr->segment_ctx, c, dir, p);
    segment_anomalies(tr, c, dir, p, ts);
    if (closed) {
        report(tr, c, close_reason((enum tcp_close_how)c->tcp.close_how));
        time_wait_remember(tr->time_wait, c, hash, ts); /* TIME_WAIT (2×MSL) runs from here */
        conn_remove_hashed(tr, c, hash);
        return;
    }
    flow_table_touch(tr->table, &c->e, timer_for(c, p));
}

/* p's time, and capture time moved forward to it (expiring what that times out). */
static int64_t packet_time(struct tracker *tr, const struct packet *p) {
    int64_t ts = packet_ts_ns(p);
    if (!tr->have_now || ts > tr->now_ns) { /* capture time never runs backwards */
        tr->now_ns = ts;
        tr->have_now = true;
        expire(tr);
    }
    return ts;
}

void tracker_prefetch(struct tracker *tr, const struct packet *p) {
    if (!trackable(p) || !p->frame)
        return;
    struct lookup_hint *h = &tr->hint[p->frame % TRACKER_LOOKAHEAD];
    if (h->frame == p->frame)
        return; /* already under way */
    h->frame = p->frame;
    h->side = key_make(p, &h->key);
    h->hash = flow_table_hash(tr->table, &h->key);
    flow_table_prefetch(tr->table, h->hash);
    h->closed_too = p->transport == TRANSPORT_TCP && (p->tcp.flags & (TCP_SYN | TCP_FIN | TCP_RST));
    if (h->closed_too)
        time_wait_prefetch(tr->time_wait, h->hash, 0);
}

void tracker_prefetch_entry(struct tracker *tr, const struct packet *p) {
    const struct lookup_hint *h = &tr->hint[p->frame % TRACKER_LOOKAHEAD];
    if (!p->frame || h->frame != p->frame)
        return;
    flow_table_prefetch_entry(tr->table, h->hash);
    if (h->closed_too)
        time_wait_prefetch(tr->time_wait, h->hash, 1);
}

void tracker_pass(struct tracker *tr, const struct packet *p) {
    if (trackable(p))
        packet_time(tr, p);
}

void tracker_on_packet(struct tracker *tr, const struct packet *p, bool bad_checksum) {
    if (!trackable(p)) {
        tr->counts.untracked_packets++;
        return;
    }
    int64_t ts = packet_time(tr, p);
    struct flow_key k;
    int side;
    uint64_t hash;
    const struct lookup_hint *h = &tr->hint[p->frame % TRACKER_LOOKAHEAD];
    if (p->frame && h->frame == p->frame) { /* tracker_prefetch did it */
        k = h->key;
        side = h->side;
        hash = h->hash;
    } else {
        side = key_make(p, &k);
        hash = flow_table_hash(tr->table, &k);
    }
    struct time_wait_match late;
    struct conn *c = lookup(tr, &k, hash, p, side, ts, &late);
    if (late.claimed)
        return;
    if (!c && (bad_checksum || !(c = conn_create(tr, &k, hash, p, side, ts)))) {
        tr->counts.untracked_packets++; /* a corrupt packet does not start a connection */
        return;
    }
    int dir = side == c->orig_side ? 0 : 1;
    if (bad_checksum) {
        if (p->transport == TRANSPORT_TCP)
            tcp_conn_on_bad_checksum(&c->tcp, dir);
        return;
    }
    if (late.port_reuse)
        port_reuse(tr, c, &late, p, ts);
    update_counters(c, dir, p, ts);
    if (p->transport == TRANSPORT_TCP)
        tcp_segment(tr, c, hash, dir, p, ts);
    else
        flow_table_touch(tr->table, &c->e, timer_for(c, p));
}

void tracker_advance(struct tracker *tr, int64_t now_ns) {
    if (tr->have_now && now_ns > tr->now_ns) {
        tr->now_ns = now_ns;
        expire(tr);
    }
}

int64_t tracker_now(const struct tracker *tr) {
    return tr->now_ns;
}

void tracker_interim(struct tracker *tr, int64_t interval_ns, tracker_report_fn fn, void *ctx) {
    for (unsigned t = 0; t < CONN_TIMER_COUNT; t++) {
        for (struct flow_entry *e = flow_table_oldest(tr->table, t); e;
             e = flow_table_next(tr->table, e)) {
            struct conn *c = (struct conn *)e;
            if (tr->now_ns - c->first_ns < interval_ns ||
                tr->now_ns - c->last_interim_ns < interval_ns)
                continue;
            c->last_interim_ns = tr->now_ns;
            fn(ctx, c);
        }
    }
}

static int by_first_frame(const void *a, const void *b) {
    uint64_t x = (*(struct conn *const *)a)->first_frame;
    uint64_t y = (*(struct conn *const *)b)->first_frame;
    return x < y ? -1 : x > y;
}

/* Reports the open connections in the order they started (readable, reproducible output); if the
 * array cannot be allocated, in timer-list order instead — never not at all. Closed connections
 * were reported already and are simply forgotten. */
void tracker_flush(struct tracker *tr, enum conn_end why) {
    uint32_t n = flow_table_count(tr->table), k = 0;
    struct conn **all = n ? malloc(n * sizeof *all) : NULL;
    for (unsigned t = 0; all && t < CONN_TIMER_COUNT; t++)
        for (struct flow_entry *e = flow_table_oldest(tr->table, t); e;
             e = flow_table_next(tr->table, e))
            all[k++] = (struct conn *)e;
    if (all)
        qsort(all, k, sizeof *all, by_first_frame);
    for (uint32_t i = 0; i < k; i++)
        report_and_remove(tr, all[i], why);
    free(all);
    for (unsigned t = 0; t < CONN_TIMER_COUNT; t++) {
        struct flow_entry *e;
        while ((e = flow_table_oldest(tr->table, t)) != NULL)
            report_and_remove(tr, (struct conn *)e, why);
    }
    time_wait_clear(tr->time_wait);
    if (!tr->share.hosts)
        hosts_close_all(tr->hosts);
}
