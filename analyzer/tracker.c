/* tracker: the per-packet path from a decoded packet to its connection. Two tables: live
 * connections, and the compact records of closed TCP connections kept for TIME_WAIT. One exit
 * path, report_and_remove(), is the only place a live connection leaves its table, so each is
 * reported exactly once. Time is capture time: the latest packet timestamp seen drives every
 * timeout, so a file replays the same way every time. */
#include "tracker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block_pool.h"
#include "flow_table.h"
#include "seq.h"

struct tracker {
    struct tracker_config cfg;
    struct flow_table *table;  /* struct conn, timers enum conn_timer */
    struct flow_table *closed; /* struct closed_conn, timers enum closed_timer */
    struct hosts *hosts;       /* syn_flood and port_scan counters */
    /* The cold parts of live connections, one block at most of each per connection, so each
     * pool holds max_flows blocks and never runs out: anomaly lists, TCP sequence holes. */
    struct block_pool *anomaly_lists; /* struct conn_anomalies */
    struct block_pool *holes;         /* struct tcp_holes */
    tracker_report_fn report;
    tracker_anomaly_fn anomaly;
    void *ctx;
    int64_t now_ns;
    bool have_now;
    uint64_t serial;
    struct tracker_counts counts;
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
    host_config_defaults(&cfg->hosts);
}

struct tracker *tracker_new(const struct tracker_config *cfg, tracker_report_fn report,
                            tracker_anomaly_fn anomaly, void *ctx) {
    struct tracker *tr = calloc(1, sizeof *tr);
    if (!tr)
        return NULL;
    tr->cfg = *cfg;
    tr->report = report;
    tr->anomaly = anomaly;
    tr->ctx = ctx;
    tr->table = flow_table_new(cfg->max_flows, sizeof(struct conn));
    tr->closed = flow_table_new(cfg->max_flows, sizeof(struct closed_conn));
    tr->hosts = hosts_new(&cfg->hosts);
    tr->anomaly_lists = block_pool_new(sizeof(struct conn_anomalies), cfg->max_flows);
    tr->holes = block_pool_new(sizeof(struct tcp_holes), cfg->max_flows);
    if (!tr->table || !tr->closed || !tr->hosts || !tr->anomaly_lists || !tr->holes) {
        tracker_free(tr);
        return NULL;
    }
    return tr;
}

void tracker_free(struct tracker *tr) {
    if (!tr)
        return;
    flow_table_free(tr->table);
    flow_table_free(tr->closed);
    hosts_free(tr->hosts);
    block_pool_free(tr->anomaly_lists);
    block_pool_free(tr->holes);
    free(tr);
}

const struct tracker_counts *tracker_counts(const struct tracker *tr) {
    return &tr->counts;
}

size_t tracker_memory(const struct tracker *tr) {
    return sizeof *tr + flow_table_memory(tr->table) + flow_table_memory(tr->closed) +
           hosts_memory(tr->hosts) + block_pool_memory(tr->anomaly_lists) +
           block_pool_memory(tr->holes);
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

/* Who is the originator of a connection whose first packet is p (sent by key side `side`)?
 * A SYN's sender; a SYN/ACK's receiver; otherwise (picked up mid-stream) the side whose port does
 * not look like a server port, or — both or neither looking like one — the sender, unless both
 * do and the sender's port is the lower (Zeek's rule for likely server ports). */
static int originator_side(const struct packet *p, int side, bool *flipped) {
    bool tcp = p->transport == TRANSPORT_TCP;
    uint8_t f = p->tcp.flags;
    bool flip = false;
    if (tcp && (f & TCP_SYN))
        flip = (f & TCP_ACK) != 0;
    else if (p->transport == TRANSPORT_TCP || p->transport == TRANSPORT_UDP) {
        bool s = tracker_port_is_server(p->sport), d = tracker_port_is_server(p->dport);
        flip = s && (!d || (p->sport < p->dport));
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

static const char *role_name(int dir) {
    return dir == 0 ? "originator" : "responder";
}

/* The short human detail of an anomaly one segment showed. */
static void segment_detail(char *buf, size_t len, enum anomaly a, const struct conn *c, int dir,
                           const struct packet *p) {
    const struct tcp_endpoint *peer = &c->tcp.ep[!dir];
    char flags[48];
    tcp_flags_format(p->tcp.flags, flags, sizeof flags);
    const char *who = role_name(dir);
    unsigned seq = p->tcp.seq, ack = p->tcp.ack, n = p->payload_len;
    switch (a) {
    case ANOMALY_INVALID_FLAGS:
        snprintf(buf, len, "%s sent a segment with flags %s", who, flags);
        break;
    case ANOMALY_SYNACK_BAD_ACK:
        snprintf(buf, len, "SYN/ACK acknowledges %u; the SYN's seq + 1 is %u", ack, peer->isn + 1u);
        break;
    case ANOMALY_HANDSHAKE_BAD_ACK:
        snprintf(buf, len, "handshake ACK acknowledges %u; the SYN/ACK's ISN + 1 is %u", ack,
                 peer->isn + 1u);
        break;
    case ANOMALY_SYN_ISN_CHANGED:
        snprintf(buf, len, "%s repeated its SYN with a new ISN %u", who, seq);
        break;
    case ANOMALY_SYN_ON_ESTABLISHED:
        snprintf(buf, len, "%s sent %s (seq %u) inside an established connection", who, flags, seq);
        break;
    case ANOMALY_SIMULTANEOUS_OPEN:
        snprintf(buf, len, "both sides sent a SYN before any SYN/ACK");
        break;
    case ANOMALY_DATA_AFTER_FIN:
        snprintf(buf, len, "%s sent %u bytes at seq %u reaching past its own FIN", who, n, seq);
        break;
    case ANOMALY_LATE_SEGMENT_AFTER_FIN:
        snprintf(buf, len, "%s's segment seq %u (%u bytes) from before its FIN arrived after it",
                 who, seq, n);
        break;
    case ANOMALY_RST_OUT_OF_WINDOW:
        if (peer->syn_sent && !peer->syn_acked && !peer->ack_sent) /* RFC 9293 3.10.7.3 */
            snprintf(buf, len,
                     "RST from the %s with ack %u does not acknowledge the SYN of a receiver "
                     "in SYN_SENT",
                     who, ack);
        else
            snprintf(buf, len, "RST from the %s with seq %u is outside the receiver's window", who,
                     seq);
        break;
    case ANOMALY_SEGMENT_OUT_OF_WINDOW:
        snprintf(buf, len,
                 "%s sent seq %u (%u bytes), ack %u: nearly 2^31 past anything seen, left out of "
                 "the byte accounting",
                 who, seq, n, ack);
        break;
    case ANOMALY_RETRANSMISSION:
        snprintf(buf, len, "%s resent seq %u (%s, %u bytes)", who, seq, flags, n);
        break;
    case ANOMALY_OUT_OF_ORDER:
        snprintf(buf, len, "%s's seq %u (%u bytes) arrived after later data", who, seq, n);
        break;
    case ANOMALY_SEGMENT_NOT_CAPTURED:
        snprintf(buf, len, "%s's seq %u starts past the next expected byte: data not captured", who,
                 seq);
        break;
    case ANOMALY_ACK_UNSEEN_SEGMENT:
        snprintf(buf, len, "%s acknowledges %u, past data the capture saw", who, ack);
        break;
    case ANOMALY_ZERO_WINDOW:
        snprintf(buf, len, "%s advertised a zero receive window", who);
        break;
    default:
        snprintf(buf, len, "%s (%s seq %u)", anomaly_name(a), flags, seq);
    }
}

/* The detail of an anomaly known at a connection's end. */
static void end_detail(char *buf, size_t len, enum anomaly a, const struct conn *c, int dir) {
    switch (a) {
    case ANOMALY_SYN_UNANSWERED:
        snprintf(buf, len, "SYN got neither SYN/ACK nor RST (%s)",
                 conn_end_name((enum conn_end)c->end));
        break;
    case ANOMALY_SYNACK_UNANSWERED:
        snprintf(buf, len, "SYN/ACK never acknowledged: responder left in SYN_RECEIVED");
        break;
    case ANOMALY_DATA_UNACKED:
        snprintf(buf, len, "%s's last %llu payload bytes were never acknowledged", role_name(dir),
                 (unsigned long long)tcp_conn_unacked_bytes(&c->tcp, dir));
        break;
    case ANOMALY_FIN_UNACKED:
        snprintf(buf, len, "%s's FIN was never acknowledged", role_name(dir));
        break;
    default:
        snprintf(buf, len, "%s", anomaly_name(a));
    }
}

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

/* Counts an anomaly of a live connection; the first of its kind and direction is also emitted
 * as an event (whose detail `describe` writes, only then). */
static bool conn_anomaly(struct tracker *tr, struct conn *c, enum anomaly a, int dir, int64_t ts,
                         uint64_t frame, struct anomaly_event *ev) {
    tr->counts.anomalies[a]++;
    if (!c->anomalies)
        c->anomalies = block_pool_get(tr->anomaly_lists);
    if (c->anomalies && !conn_anomalies_add(c->anomalies, a, dir, ts))
        return false;
    event_of_conn(ev, a, dir, ts, frame, &c->e.key, c->orig_side, c->serial, c->first_ns);
    return true;
}

static void segment_anomalies(struct tracker *tr, struct conn *c, int dir, const struct packet *p,
                              int64_t ts) {
    for (anomaly_set set = c->tcp.raised; set; set &= set - 1) {
        enum anomaly a = (enum anomaly)__builtin_ctz(set);
        struct anomaly_event ev;
        if (conn_anomaly(tr, c, a, dir, ts, p->frame, &ev)) {
            segment_detail(ev.detail, sizeof ev.detail, a, c, dir, p);
            tr->anomaly(tr->ctx, &ev);
        }
    }
}

/* What a connection's end reveals. When the input ended (rather than the connection), what was
 * sent within the answer grace before the last packet is not judged: its answer may simply not
 * have been captured. */
static anomaly_set end_anomalies(struct tracker *tr, struct conn *c, enum conn_end why) {
    if (c->e.key.proto != 6)
        return 0;
    bool cut = why == CONN_END_CAPTURE_END || why == CONN_END_SHUTDOWN || why == CONN_END_EVICTED;
    int64_t judge_until = cut ? tr->now_ns - tr->cfg.answer_grace_ns : INT64_MAX;
    anomaly_set all = 0;
    for (int dir = 0; dir < 2; dir++) {
        anomaly_set set = tcp_conn_end_anomalies(&c->tcp, dir, judge_until);
        all |= set;
        for (; set; set &= set - 1) {
            enum anomaly a = (enum anomaly)__builtin_ctz(set);
            struct anomaly_event ev;
            if (conn_anomaly(tr, c, a, dir, tr->now_ns, c->last_frame, &ev)) {
                end_detail(ev.detail, sizeof ev.detail, a, c, dir);
                tr->anomaly(tr->ctx, &ev);
            }
        }
    }
    return all;
}

static void host_anomaly(struct tracker *tr, enum anomaly a, const uint8_t *host, uint8_t ver,
                         uint32_t count, int64_t window_ns, uint64_t frame) {
    struct anomaly_event ev;
    memset(&ev, 0, sizeof ev);
    ev.id = a;
    ev.dir = -1;
    ev.ts_ns = tr->now_ns;
    ev.frame = frame;
    ev.host = host;
    ev.host_version = ver;
    ev.count = count;
    ev.window_ns = window_ns;
    if (a == ANOMALY_SYN_FLOOD)
        snprintf(ev.detail, sizeof ev.detail,
                 "%u half-open connections to this host within %lld s (threshold %u)", count,
                 (long long)(window_ns / 1000000000), tr->cfg.hosts.syn_flood_threshold);
    else
        snprintf(ev.detail, sizeof ev.detail,
                 "%u distinct ports or hosts unanswered or refused within %lld s (threshold %u)",
                 count, (long long)(window_ns / 1000000000), tr->cfg.hosts.port_scan_threshold);
    tr->counts.anomalies[a]++;
    tr->anomaly(tr->ctx, &ev);
}

/* A connection that ended half-open — its SYN never answered, or its SYN/ACK never
 * acknowledged — counts against its destination for syn_flood, at the time it was attempted.
 * Judging at the end (handshake timeout, or the input's end past the answer grace) rather than
 * at the SYN keeps a burst of connections that all complete from looking like a flood. */
static void note_half_open(struct tracker *tr, const struct conn *c, anomaly_set end_set) {
    if (!(end_set & (anomaly_bit(ANOMALY_SYN_UNANSWERED) | anomaly_bit(ANOMALY_SYNACK_UNANSWERED))))
        return;
    uint32_t half_open;
    const uint8_t *dst = conn_addr(c, 1);
    if (hosts_syn_attempt(tr->hosts, dst, c->e.key.ip_version, c->first_ns, &half_open))
        host_anomaly(tr, ANOMALY_SYN_FLOOD, dst, c->e.key.ip_version, half_open,
                     tr->cfg.hosts.syn_flood_window_ns, c->last_frame);
}

/* An attempt this connection made (a SYN) that failed: nothing came back, or it was refused.
 * Feeds port_scan. */
static void note_failed_attempt(struct tracker *tr, const struct conn *c, anomaly_set end_set) {
    if (c->e.key.proto != 6 || c->tcp.midstream)
        return;
    bool unanswered = end_set & anomaly_bit(ANOMALY_SYN_UNANSWERED);
    bool refused = conn_zeek_state(c) == ZEEK_REJ;
    if (!unanswered && !refused)
        return;
    uint32_t distinct;
    const uint8_t *src = conn_addr(c, 0);
    if (hosts_failed_attempt(tr->hosts, src, conn_addr(c, 1), conn_port(c, 1), c->e.key.ip_version,
                             c->first_ns, &distinct))
        host_anomaly(tr, ANOMALY_PORT_SCAN, src, c->e.key.ip_version, distinct,
                     tr->cfg.hosts.port_scan_window_ns, c->last_frame);
}

/* ---- the one exit path --------------------------------------------------------------------- */

static void report(struct tracker *tr, struct conn *c, enum conn_end why) {
    c->end = (uint8_t)why;
    anomaly_set end_set = end_anomalies(tr, c, why);
    /* The host counters judge an evicted connection without the answer grace: a table so full
     * of unanswered SYNs that they are pushed out before their answer could come is what a
     * flood (or a scan) looks like, and waiting would let any flood larger than the table pass
     * unseen. The connection's own record still does not blame it within the grace. */
    anomaly_set host_set = end_set;
    if (why == CONN_END_EVICTED && c->e.key.proto == 6)
        host_set |= tcp_conn_end_anomalies(&c->tcp, 0, INT64_MAX) &
                    (anomaly_bit(ANOMALY_SYN_UNANSWERED) | anomaly_bit(ANOMALY_SYNACK_UNANSWERED));
    note_half_open(tr, c, host_set);
    note_failed_attempt(tr, c, host_set);
    tr->counts.reported++;
    tr->counts.by_end[why]++;
    tr->counts.open_now--;
    tr->report(tr->ctx, c);
}

/* Drops a live connection from its table, its cold blocks back to their pools. */
static void conn_remove(struct tracker *tr, struct conn *c) {
    block_pool_put(tr->anomaly_lists, c->anomalies);
    c->anomalies = NULL;
    if (c->e.key.proto == 6)
        tcp_conn_release(&c->tcp, tr->holes);
    flow_table_remove(tr->table, &c->e);
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

/* Closed connections leave TIME_WAIT after 2×MSL and are then remembered as long again, only to
 * recognise packets that come after TIME_WAIT (packet_after_time_wait). */
static void expire_closed(struct tracker *tr) {
    struct closed_conn *z;
    while ((z = (struct closed_conn *)flow_table_oldest(tr->closed, CLOSED_TIMER_TIME_WAIT)) &&
           tr->now_ns - z->close_ns >= tr->cfg.time_wait_ns)
        flow_table_touch(tr->closed, &z->e, CLOSED_TIMER_EXPIRED);
    while ((z = (struct closed_conn *)flow_table_oldest(tr->closed, CLOSED_TIMER_EXPIRED)) &&
           tr->now_ns - z->close_ns >= 2 * tr->cfg.time_wait_ns)
        flow_table_remove(tr->closed, &z->e);
}

static void expire(struct tracker *tr) {
    for (unsigned t = 0; t < CONN_TIMER_COUNT; t++) {
        struct conn *c;
        while ((c = (struct conn *)flow_table_oldest(tr->table, t)) != NULL &&
               tr->now_ns - c->last_ns >= tr->cfg.timeout_ns[t])
            report_and_remove(tr, c, expiry_reason(c, (enum conn_timer)t));
    }
    expire_closed(tr);
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

static struct conn *conn_create(struct tracker *tr, const struct flow_key *k,
                                const struct packet *p, int side, int64_t ts) {
    struct conn *c = (struct conn *)flow_table_insert(tr->table, k, CONN_TIMER_HANDSHAKE);
    if (!c) {
        make_room(tr);
        c = (struct conn *)flow_table_insert(tr->table, k, CONN_TIMER_HANDSHAKE);
        if (!c)
            return NULL;
    }
    bool flipped;
    c->orig_side = (uint8_t)originator_side(p, side, &flipped);
    c->serial = ++tr->serial;
    c->first_frame = p->frame;
    c->first_ns = c->last_ns = ts;
    if (p->transport == TRANSPORT_TCP)
        tcp_conn_init(&c->tcp, flipped, !(p->tcp.flags & TCP_SYN));
    tr->counts.created++;
    if (++tr->counts.open_now > tr->counts.peak_open)
        tr->counts.peak_open = tr->counts.open_now;
    return c;
}

/* ---- closed connections -------------------------------------------------------------------- */

/* The compact record of a TCP connection that just closed. */
static struct closed_conn closed_from(const struct conn *c, int64_t close_ns) {
    struct closed_conn z = {.orig_side = c->orig_side,
                            .end = c->end,
                            .serial = c->serial,
                            .first_ns = c->first_ns,
                            .close_ns = close_ns};
    for (int role = 0; role < 2; role++) {
        const struct tcp_endpoint *x = &c->tcp.ep[role];
        z.isn[role] = x->isn;
        z.nxt[role] = x->isn + (uint32_t)x->hi;
        if (x->base_known)
            z.known |= (uint8_t)(1u << role);
    }
    return z;
}

/* Replaces a live TCP connection that just closed (and was reported) by its compact record in
 * the closed table, which recognises its late packets for TIME_WAIT. When that table is full its
 * oldest entry is forgotten. */
static void remember_closed(struct tracker *tr, struct conn *c, int64_t ts) {
    struct closed_conn z = closed_from(c, ts);
    struct flow_key k = c->e.key;
    conn_remove(tr, c);
    struct flow_entry *e = flow_table_find(tr->closed, &k);
    if (e)
        flow_table_remove(tr->closed, e);
    if (!(e = flow_table_insert(tr->closed, &k, CLOSED_TIMER_TIME_WAIT))) {
        struct flow_entry *old = flow_table_oldest(tr->closed, CLOSED_TIMER_EXPIRED);
        flow_table_remove(tr->closed,
                          old ? old : flow_table_oldest(tr->closed, CLOSED_TIMER_TIME_WAIT));
        e = flow_table_insert(tr->closed, &k, CLOSED_TIMER_TIME_WAIT);
    }
    z.e = *e; /* keep the table's links */
    memcpy(e, &z, sizeof z);
}

/* Does seq lie in endpoint `role`'s old sequence space: from its first sequence number up to a
 * maximal (scaled) window past the last one it sent? */
static bool closed_in_space(const struct closed_conn *z, int role, uint32_t seq) {
    if (!(z->known & (1u << role)))
        return false;
    return seq_diff(seq, z->isn[role]) >= 0 &&
           seq_diff(seq, z->nxt[role]) <= (int32_t)(65535u << 14);
}

/* An anomaly of a closed connection (named by its compact record), emitted once per kind and
 * direction. */
static void closed_anomaly(struct tracker *tr, struct closed_conn *z, enum anomaly a, int dir,
                           const struct packet *p, int64_t ts) {
    tr->counts.anomalies[a]++;
    uint64_t bit = 1ull << (2 * a + (unsigned)dir);
    if (z->emitted & bit)
        return;
    z->emitted |= bit;
    struct anomaly_event ev;
    event_of_conn(&ev, a, dir, ts, p->frame, &z->e.key, z->orig_side, z->serial, z->first_ns);
    long long since = (long long)((ts - z->close_ns) / 1000000);
    if (a == ANOMALY_DATA_AFTER_RST)
        snprintf(ev.detail, sizeof ev.detail, "%s sent %u bytes %lld ms after the RST",
                 role_name(dir), p->payload_len, since);
    else
        snprintf(ev.detail, sizeof ev.detail, "%s sent a segment %lld ms after the close%s",
                 role_name(dir), since,
                 a == ANOMALY_PACKET_AFTER_TIME_WAIT ? ", after TIME_WAIT expired" : "");
    tr->anomaly(tr->ctx, &ev);
}

/* The last steps of a close seen again during TIME_WAIT — a retransmitted FIN (its ACK was lost)
 * or a repeated final ACK — are what TIME_WAIT is there to answer, not an anomaly. */
static bool closing_echo(const struct closed_conn *z, int dir, const struct packet *p) {
    uint8_t f = p->tcp.flags;
    if (f & (TCP_SYN | TCP_RST))
        return false;
    uint32_t end = p->tcp.seq + p->payload_len + ((f & TCP_FIN) ? 1u : 0u);
    return end == z->nxt[dir] && (f & TCP_FIN ? true : p->payload_len == 0);
}

/* A packet on the ports of a closed connection. A SYN starts a new connection (port reuse, said
 * on the new one); so does a packet outside the old sequence space. A packet inside it is a late
 * packet of the old connection: during TIME_WAIT (or after a RST) it is only counted and
 * flagged; after TIME_WAIT the endpoint has forgotten the connection, so it is flagged
 * (packet_after_time_wait) and starts a new, mid-stream connection — as it would on the host.
 * Returns true if the closed connection claimed the packet. */
static bool closed_takes(struct tracker *tr, struct closed_conn *z, const struct packet *p,
                         int side, int64_t ts) {
    int dir = side == z->orig_side ? 0 : 1;
    bool in_tw = z->e.timer == CLOSED_TIMER_TIME_WAIT;
    bool reset = z->end == CONN_END_RST;
    if (p->transport != TRANSPORT_TCP || (p->tcp.flags & (TCP_SYN | TCP_ACK)) == TCP_SYN ||
        !closed_in_space(z, dir, p->tcp.seq))
        return false;
    if (!in_tw) {
        if (!reset)
            closed_anomaly(tr, z, ANOMALY_PACKET_AFTER_TIME_WAIT, dir, p, ts);
        return false;
    }
    z->late_pkts++;
    tr->counts.late_packets++;
    if (reset && p->payload_len > 0)
        closed_anomaly(tr, z, ANOMALY_DATA_AFTER_RST, dir, p, ts);
    else if (!reset && !closing_echo(z, dir, p))
        closed_anomaly(tr, z, ANOMALY_PACKET_DURING_TIME_WAIT, dir, p, ts);
    return true;
}

/* ---- per packet ---------------------------------------------------------------------------- */

static bool trackable(const struct packet *p) {
    return p->transport == TRANSPORT_TCP || p->transport == TRANSPORT_UDP ||
           p->transport == TRANSPORT_ICMP || p->transport == TRANSPORT_ICMPV6;
}

/* What a new connection inherits from a closed one on the same ports (port reuse). */
struct reuse {
    bool seen;
    bool in_time_wait;
    uint8_t end;
    char uid[CONN_UID_LEN];
};

/* The live connection of key k, or NULL if there is none — after giving a closed connection on
 * the same ports its chance to claim the packet (*claimed); *reuse describes a closed connection
 * a new SYN replaces. */
static struct conn *lookup(struct tracker *tr, const struct flow_key *k, const struct packet *p,
                           int side, int64_t ts, bool *claimed, struct reuse *reuse) {
    struct conn *c = (struct conn *)flow_table_find(tr->table, k);
    *claimed = false;
    reuse->seen = false;
    if (c)
        return c;
    struct closed_conn *z = (struct closed_conn *)flow_table_find(tr->closed, k);
    if (!z)
        return NULL;
    if (closed_takes(tr, z, p, side, ts)) {
        *claimed = true;
        return NULL;
    }
    if (p->transport == TRANSPORT_TCP && (p->tcp.flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
        reuse->seen = true;
        reuse->in_time_wait = z->e.timer == CLOSED_TIMER_TIME_WAIT;
        reuse->end = z->end;
        conn_uid_make(z->serial, z->first_ns, &z->e.key, reuse->uid);
    }
    flow_table_remove(tr->closed, &z->e);
    return NULL;
}

static void port_reuse(struct tracker *tr, struct conn *c, const struct reuse *r,
                       const struct packet *p, int64_t ts) {
    struct anomaly_event ev;
    if (!conn_anomaly(tr, c, ANOMALY_PORT_REUSE, 0, ts, p->frame, &ev))
        return;
    snprintf(ev.detail, sizeof ev.detail, "new SYN on the ports of %s (closed by %s) %s", r->uid,
             r->end == CONN_END_RST ? "RST" : "FIN",
             r->in_time_wait ? "during its TIME_WAIT" : "after its TIME_WAIT");
    tr->anomaly(tr->ctx, &ev);
}

static void update_counters(struct conn *c, int dir, const struct packet *p, int64_t ts) {
    c->pkts[dir]++;
    c->ip_bytes[dir] += p->ip_len;
    c->last_frame = p->frame;
    if (ts > c->last_ns)
        c->last_ns = ts;
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

static void tcp_segment(struct tracker *tr, struct conn *c, int dir, const struct packet *p,
                        int64_t ts) {
    bool closed = tcp_conn_on_segment(&c->tcp, dir, p, ts, tr->holes);
    segment_anomalies(tr, c, dir, p, ts);
    if (closed) {
        report(tr, c, close_reason((enum tcp_close_how)c->tcp.close_how));
        remember_closed(tr, c, ts); /* TIME_WAIT (2×MSL) runs from the close */
        return;
    }
    flow_table_touch(tr->table, &c->e, timer_for(c, p));
}

void tracker_on_packet(struct tracker *tr, const struct packet *p, bool bad_checksum) {
    if (!trackable(p)) {
        tr->counts.untracked_packets++;
        return;
    }
    int64_t ts = p->ts_sec * 1000000000 + p->ts_nsec;
    if (!tr->have_now || ts > tr->now_ns) { /* capture time never runs backwards */
        tr->now_ns = ts;
        tr->have_now = true;
        expire(tr);
    }
    struct flow_key k;
    int side = key_make(p, &k);
    bool claimed;
    struct reuse reuse;
    struct conn *c = lookup(tr, &k, p, side, ts, &claimed, &reuse);
    if (claimed)
        return;
    if (!c && (bad_checksum || !(c = conn_create(tr, &k, p, side, ts)))) {
        tr->counts.untracked_packets++; /* a corrupt packet does not start a connection */
        return;
    }
    int dir = side == c->orig_side ? 0 : 1;
    if (bad_checksum) {
        if (p->transport == TRANSPORT_TCP)
            tcp_conn_on_bad_checksum(&c->tcp, dir);
        return;
    }
    if (reuse.seen)
        port_reuse(tr, c, &reuse, p, ts);
    update_counters(c, dir, p, ts);
    if (p->transport == TRANSPORT_TCP)
        tcp_segment(tr, c, dir, p, ts);
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

static int by_serial(const void *a, const void *b) {
    uint64_t x = (*(struct conn *const *)a)->serial, y = (*(struct conn *const *)b)->serial;
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
        qsort(all, k, sizeof *all, by_serial);
    for (uint32_t i = 0; i < k; i++)
        report_and_remove(tr, all[i], why);
    free(all);
    for (unsigned t = 0; t < CONN_TIMER_COUNT; t++) {
        struct flow_entry *e;
        while ((e = flow_table_oldest(tr->table, t)) != NULL)
            report_and_remove(tr, (struct conn *)e, why);
    }
    for (unsigned t = 0; t < CLOSED_TIMER_COUNT; t++) {
        struct flow_entry *e;
        while ((e = flow_table_oldest(tr->closed, t)) != NULL)
            flow_table_remove(tr->closed, e);
    }
}
