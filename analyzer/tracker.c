/* tracker: the per-packet path from a decoded packet to its connection. Two tables: live
 * connections, and the compact records of closed TCP connections kept for TIME_WAIT. One exit
 * path, report_and_remove(), is the only place a live connection leaves its table, so each is
 * reported exactly once. Time is capture time: the latest packet timestamp seen drives every
 * timeout, so a file replays the same way every time. */
#include "tracker.h"

#include <stdlib.h>
#include <string.h>

#include "flow_table.h"
#include "seq.h"

struct tracker {
    struct tracker_config cfg;
    struct flow_table *table;  /* struct conn, timers enum conn_timer */
    struct flow_table *closed; /* struct closed_conn, timers enum closed_timer */
    tracker_report_fn report;
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
}

struct tracker *tracker_new(const struct tracker_config *cfg, tracker_report_fn report, void *ctx) {
    struct tracker *tr = calloc(1, sizeof *tr);
    if (!tr)
        return NULL;
    tr->cfg = *cfg;
    tr->report = report;
    tr->ctx = ctx;
    tr->table = flow_table_new(cfg->max_flows, sizeof(struct conn));
    tr->closed = flow_table_new(cfg->max_flows, sizeof(struct closed_conn));
    if (!tr->table || !tr->closed) {
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
    free(tr);
}

const struct tracker_counts *tracker_counts(const struct tracker *tr) {
    return &tr->counts;
}

size_t tracker_memory(const struct tracker *tr) {
    return sizeof *tr + flow_table_memory(tr->table) + flow_table_memory(tr->closed);
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

/* ---- the one exit path --------------------------------------------------------------------- */

static void report(struct tracker *tr, struct conn *c, enum conn_end why) {
    c->end = (uint8_t)why;
    tr->counts.reported++;
    tr->counts.by_end[why]++;
    tr->counts.open_now--;
    tr->report(tr->ctx, c);
}

static void report_and_remove(struct tracker *tr, struct conn *c, enum conn_end why) {
    report(tr, c, why);
    flow_table_remove(tr->table, &c->e);
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
    struct closed_conn *z;
    while ((z = (struct closed_conn *)flow_table_oldest(tr->closed, CLOSED_TIMER_TIME_WAIT)) &&
           tr->now_ns - z->close_ns >= tr->cfg.time_wait_ns)
        flow_table_remove(tr->closed, &z->e); /* 2×MSL is over: forgotten */
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
    flow_table_remove(tr->table, &c->e);
    struct flow_entry *e = flow_table_find(tr->closed, &k);
    if (e)
        flow_table_remove(tr->closed, e);
    if (!(e = flow_table_insert(tr->closed, &k, CLOSED_TIMER_TIME_WAIT))) {
        flow_table_remove(tr->closed, flow_table_oldest(tr->closed, CLOSED_TIMER_TIME_WAIT));
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

/* A packet on the ports of a closed connection: a SYN (or one outside the old sequence space)
 * starts a new connection; anything else is a late packet of the old one (delayed in the network
 * — what TIME_WAIT exists for) and is only counted. */
static bool closed_takes(struct tracker *tr, struct closed_conn *z, const struct packet *p,
                         int side) {
    if (p->transport != TRANSPORT_TCP)
        return false;
    if ((p->tcp.flags & TCP_SYN) && !(p->tcp.flags & TCP_ACK))
        return false;
    if (!closed_in_space(z, side == z->orig_side ? 0 : 1, p->tcp.seq))
        return false;
    z->late_pkts++;
    tr->counts.late_packets++;
    return true;
}

/* ---- per packet ---------------------------------------------------------------------------- */

static bool trackable(const struct packet *p) {
    return p->transport == TRANSPORT_TCP || p->transport == TRANSPORT_UDP ||
           p->transport == TRANSPORT_ICMP || p->transport == TRANSPORT_ICMPV6;
}

/* The live connection of key k, or NULL if there is none — after giving a closed connection on
 * the same ports its chance to claim the packet (*claimed). */
static struct conn *lookup(struct tracker *tr, const struct flow_key *k, const struct packet *p,
                           int side, bool *claimed) {
    struct conn *c = (struct conn *)flow_table_find(tr->table, k);
    *claimed = false;
    if (c)
        return c;
    struct closed_conn *z = (struct closed_conn *)flow_table_find(tr->closed, k);
    if (z && closed_takes(tr, z, p, side))
        *claimed = true;
    else if (z) /* port reuse, or a packet unrelated to the old connection */
        flow_table_remove(tr->closed, &z->e);
    return NULL;
}

static void update_counters(struct conn *c, int dir, const struct packet *p, int64_t ts) {
    c->pkts[dir]++;
    c->ip_bytes[dir] += p->ip_len;
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
    struct conn *c = lookup(tr, &k, p, side, &claimed);
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
    update_counters(c, dir, p, ts);
    if (p->transport == TRANSPORT_TCP && tcp_conn_on_segment(&c->tcp, dir, p, ts)) {
        report(tr, c, close_reason((enum tcp_close_how)c->tcp.close_how));
        remember_closed(tr, c, ts); /* TIME_WAIT (2×MSL) runs from the close */
        return;
    }
    flow_table_touch(tr->table, &c->e, timer_for(c, p));
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
    struct flow_entry *e;
    while ((e = flow_table_oldest(tr->closed, CLOSED_TIMER_TIME_WAIT)) != NULL)
        flow_table_remove(tr->closed, e);
}
