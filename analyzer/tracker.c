/* tracker: the per-packet path from a decoded packet to its connection. One exit path,
 * report_and_remove(), is the only place a live connection leaves the table, so each is reported
 * exactly once. Time is capture time: the latest packet timestamp seen drives every timeout, so
 * a file replays the same way every time. */
#include "tracker.h"

#include <stdlib.h>
#include <string.h>

#include "flow_table.h"

struct tracker {
    struct tracker_config cfg;
    struct flow_table *table;
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
    cfg->timeout_ns[CONN_TIMER_TIME_WAIT] = 240 * s;
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
    tr->table = flow_table_new(cfg->max_flows);
    if (!tr->table) {
        free(tr);
        return NULL;
    }
    return tr;
}

void tracker_free(struct tracker *tr) {
    if (!tr)
        return;
    flow_table_free(tr->table);
    free(tr);
}

const struct tracker_counts *tracker_counts(const struct tracker *tr) {
    return &tr->counts;
}

size_t tracker_memory(const struct tracker *tr) {
    return sizeof *tr + flow_table_memory(tr->table);
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
    c->reported = true;
    tr->counts.reported++;
    tr->counts.by_end[why]++;
    tr->counts.open_now--;
    tr->report(tr->ctx, c);
}

static void report_and_remove(struct tracker *tr, struct conn *c, enum conn_end why) {
    report(tr, c, why);
    flow_table_remove(tr->table, c);
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
        while ((c = flow_table_oldest(tr->table, (enum conn_timer)t)) != NULL &&
               tr->now_ns - c->last_ns >= tr->cfg.timeout_ns[t]) {
            if (t == CONN_TIMER_TIME_WAIT)
                flow_table_remove(tr->table, c); /* reported at close; 2×MSL is over */
            else
                report_and_remove(tr, c, expiry_reason(c, (enum conn_timer)t));
        }
    }
}

/* Makes room for one more connection: a closed one still remembered for TIME_WAIT goes first
 * (it was reported already), else the least recently active live connection is evicted. */
static void make_room(struct tracker *tr) {
    struct conn *victim = flow_table_oldest(tr->table, CONN_TIMER_TIME_WAIT);
    if (victim) {
        flow_table_remove(tr->table, victim);
        return;
    }
    for (unsigned t = 0; t < CONN_TIMER_COUNT; t++) {
        struct conn *c = flow_table_oldest(tr->table, (enum conn_timer)t);
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
    struct conn *c = flow_table_insert(tr->table, k, CONN_TIMER_HANDSHAKE);
    if (!c) {
        make_room(tr);
        c = flow_table_insert(tr->table, k, CONN_TIMER_HANDSHAKE);
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

/* A packet for a connection already closed and reported: a SYN (or one outside the old sequence
 * space) starts a new connection on the same ports; anything else is a late packet of the old
 * one (delayed in the network — what TIME_WAIT exists for) and is only counted. */
static bool closed_conn_takes(struct tracker *tr, struct conn *c, const struct packet *p, int dir) {
    bool tcp = p->transport == TRANSPORT_TCP;
    if (tcp && (p->tcp.flags & TCP_SYN) && !(p->tcp.flags & TCP_ACK))
        return false;
    if (tcp && !tcp_conn_in_sequence_space(&c->tcp, dir, p->tcp.seq))
        return false;
    c->late_pkts++;
    tr->counts.late_packets++;
    return true;
}

static bool trackable(const struct packet *p) {
    return p->transport == TRANSPORT_TCP || p->transport == TRANSPORT_UDP ||
           p->transport == TRANSPORT_ICMP || p->transport == TRANSPORT_ICMPV6;
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
    struct conn *c = flow_table_find(tr->table, &k);
    if (c && c->reported) {
        if (closed_conn_takes(tr, c, p, side == c->orig_side ? 0 : 1))
            return;
        flow_table_remove(tr->table, c); /* port reuse: the old one was reported already */
        c = NULL;
    }
    if (!c && bad_checksum) {
        tr->counts.untracked_packets++;
        return; /* a corrupt packet does not start a connection */
    }
    if (!c && !(c = conn_create(tr, &k, p, side, ts))) {
        tr->counts.untracked_packets++;
        return;
    }
    int dir = side == c->orig_side ? 0 : 1;
    if (bad_checksum) {
        if (p->transport == TRANSPORT_TCP)
            tcp_conn_on_bad_checksum(&c->tcp, dir);
        return;
    }
    c->pkts[dir]++;
    c->ip_bytes[dir] += p->ip_len;
    if (ts > c->last_ns)
        c->last_ns = ts;
    if (p->transport == TRANSPORT_ICMP || p->transport == TRANSPORT_ICMPV6) {
        if (c->pkts[dir] == 1) {
            c->icmp_type[dir] = p->icmp_type;
            c->icmp_code[dir] = p->icmp_code;
        }
    }
    if (p->transport == TRANSPORT_TCP && tcp_conn_on_segment(&c->tcp, dir, p, ts)) {
        enum tcp_close_how how = c->tcp.close_how;
        report(tr, c,
               how == TCP_CLOSE_RST   ? CONN_END_RST
               : how == TCP_CLOSE_FIN ? CONN_END_FIN
                                      : CONN_END_SIMULTANEOUS_FIN);
        c->last_ns = ts; /* TIME_WAIT (2×MSL) runs from the close */
        flow_table_touch(tr->table, c, CONN_TIMER_TIME_WAIT);
        return;
    }
    flow_table_touch(tr->table, c, timer_for(c, p));
}

static int by_serial(const void *a, const void *b) {
    uint64_t x = (*(struct conn *const *)a)->serial, y = (*(struct conn *const *)b)->serial;
    return x < y ? -1 : x > y;
}

/* Reports the open connections in the order they started (readable, reproducible output); if the
 * array cannot be allocated, in timer-list order instead — never not at all. */
void tracker_flush(struct tracker *tr, enum conn_end why) {
    uint32_t n = flow_table_count(tr->table), k = 0;
    struct conn **all = n ? malloc(n * sizeof *all) : NULL;
    for (unsigned t = 0; all && t < CONN_TIMER_COUNT; t++) {
        if (t == CONN_TIMER_TIME_WAIT)
            continue;
        for (struct conn *c = flow_table_oldest(tr->table, (enum conn_timer)t); c;
             c = flow_table_next(tr->table, c))
            all[k++] = c;
    }
    if (all)
        qsort(all, k, sizeof *all, by_serial);
    for (uint32_t i = 0; i < k; i++)
        report_and_remove(tr, all[i], why);
    free(all);
    for (unsigned t = 0; t < CONN_TIMER_COUNT; t++) {
        struct conn *c;
        while ((c = flow_table_oldest(tr->table, (enum conn_timer)t)) != NULL) {
            if (t == CONN_TIMER_TIME_WAIT)
                flow_table_remove(tr->table, c); /* reported at close */
            else
                report_and_remove(tr, c, why);
        }
    }
}
