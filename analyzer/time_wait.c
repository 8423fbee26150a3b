/* time_wait: closed TCP connections in a flow table of their own, as compact records (a fraction
 * of a live connection) on two timer lists: in TIME_WAIT, then expired but still remembered so
 * that packets coming after TIME_WAIT are recognised. */
#include "time_wait.h"

#include <stdlib.h>
#include <string.h>

#include "flow_table.h"
#include "seq.h"

/* A TCP connection after it closed and was reported: only what is needed to recognise its late
 * packets (and to name it). */
struct closed_conn {
    struct flow_entry e;
    uint8_t orig_side;
    uint8_t end;        /* enum conn_end: how it closed */
    uint8_t known;      /* bit per role: isn/nxt of that endpoint are valid */
    uint64_t serial;    /* the live connection's first frame */
    int64_t first_ns;   /* as the live connection's */
    int64_t close_ns;   /* TIME_WAIT runs from here */
    uint32_t isn[2];    /* by role: sequence base of each endpoint */
    uint32_t nxt[2];    /* by role: one past the highest sequence number sent */
    uint64_t late_pkts; /* packets that arrived after the close */
    uint64_t emitted;   /* anomalies already raised: bit 2 × anomaly + direction */
};

/* Timer lists: during TIME_WAIT, then for as long again after it expired, so packets that come
 * too late are recognised (packet_after_time_wait). */
enum closed_timer { CLOSED_TIMER_TIME_WAIT, CLOSED_TIMER_EXPIRED, CLOSED_TIMER_COUNT };

struct time_wait {
    struct flow_table *table; /* struct closed_conn, timers enum closed_timer */
    int64_t time_wait_ns;
};

struct time_wait *time_wait_new(uint32_t capacity, int64_t time_wait_ns) {
    struct time_wait *tw = calloc(1, sizeof *tw);
    if (!tw)
        return NULL;
    tw->time_wait_ns = time_wait_ns;
    tw->table = flow_table_new(capacity, sizeof(struct closed_conn));
    if (!tw->table) {
        free(tw);
        return NULL;
    }
    return tw;
}

void time_wait_free(struct time_wait *tw) {
    if (!tw)
        return;
    flow_table_free(tw->table);
    free(tw);
}

size_t time_wait_memory(const struct time_wait *tw) {
    return sizeof *tw + flow_table_memory(tw->table);
}

size_t time_wait_memory_for(uint32_t capacity) {
    return sizeof(struct time_wait) + flow_table_memory_for(capacity, sizeof(struct closed_conn));
}

size_t time_wait_memory_used(const struct time_wait *tw) {
    return sizeof *tw + flow_table_memory_used(tw->table);
}

/* The compact record of a TCP connection that just closed. */
static struct closed_conn closed_from(const struct conn *c, int64_t close_ns) {
    struct closed_conn z = {.orig_side = c->orig_side,
                            .end = c->end,
                            .serial = c->first_frame,
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

void time_wait_hash_as(struct time_wait *tw, const struct flow_table *table) {
    flow_table_hash_as(tw->table, table);
}

uint64_t time_wait_hash(const struct time_wait *tw, const struct flow_key *k) {
    return flow_table_hash(tw->table, k);
}

void time_wait_prefetch(const struct time_wait *tw, uint64_t hash, int stage) {
    if (stage == 0)
        flow_table_prefetch(tw->table, hash);
    else
        flow_table_prefetch_entry(tw->table, hash);
}

/* When the table is full its oldest record is forgotten: an expired one first. */
void time_wait_remember(struct time_wait *tw, const struct conn *c, uint64_t hash,
                        int64_t close_ns) {
    struct closed_conn z = closed_from(c, close_ns);
    const struct flow_key *k = &c->e.key;
    struct flow_entry *e = flow_table_find_hashed(tw->table, k, hash);
    if (e)
        flow_table_remove_hashed(tw->table, e, hash);
    if (!(e = flow_table_insert_hashed(tw->table, k, hash, CLOSED_TIMER_TIME_WAIT))) {
        struct flow_entry *old = flow_table_oldest(tw->table, CLOSED_TIMER_EXPIRED);
        flow_table_remove(tw->table,
                          old ? old : flow_table_oldest(tw->table, CLOSED_TIMER_TIME_WAIT));
        e = flow_table_insert_hashed(tw->table, k, hash, CLOSED_TIMER_TIME_WAIT);
    }
    z.e = *e; /* keep the table's links */
    memcpy(e, &z, sizeof z);
}

void time_wait_expire(struct time_wait *tw, int64_t now_ns) {
    struct closed_conn *z;
    while ((z = (struct closed_conn *)flow_table_oldest(tw->table, CLOSED_TIMER_TIME_WAIT)) &&
           now_ns - z->close_ns >= tw->time_wait_ns)
        flow_table_touch(tw->table, &z->e, CLOSED_TIMER_EXPIRED);
    while ((z = (struct closed_conn *)flow_table_oldest(tw->table, CLOSED_TIMER_EXPIRED)) &&
           now_ns - z->close_ns >= 2 * tw->time_wait_ns)
        flow_table_remove(tw->table, &z->e);
}

void time_wait_clear(struct time_wait *tw) {
    for (unsigned t = 0; t < CLOSED_TIMER_COUNT; t++) {
        struct flow_entry *e;
        while ((e = flow_table_oldest(tw->table, t)) != NULL)
            flow_table_remove(tw->table, e);
    }
}

/* Does seq lie in endpoint `role`'s old sequence space: from its first sequence number up to a
 * maximal (scaled) window past the last one it sent? */
static bool closed_in_space(const struct closed_conn *z, int role, uint32_t seq) {
    if (!(z->known & (1u << role)))
        return false;
    return seq_diff(seq, z->isn[role]) >= 0 &&
           seq_diff(seq, z->nxt[role]) <= (int32_t)(65535u << 14);
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

/* Records anomaly a in m; it is m->first once per kind and direction of the closed connection. */
static void closed_raise(struct closed_conn *z, struct time_wait_match *m, enum anomaly a) {
    uint64_t bit = 1ull << (2 * a + (unsigned)m->dir);
    m->raised = true;
    m->anomaly = a;
    m->first = !(z->emitted & bit);
    z->emitted |= bit;
}

static bool is_pure_syn(const struct packet *p) {
    return p->transport == TRANSPORT_TCP && (p->tcp.flags & (TCP_SYN | TCP_ACK)) == TCP_SYN;
}

/* Sets m->claimed if the closed connection z takes p as a late packet of its own (the rules are
 * time_wait_offer's, in time_wait.h). */
static void closed_judge(struct closed_conn *z, const struct packet *p, struct time_wait_match *m) {
    bool reset = z->end == CONN_END_RST;
    if (p->transport != TRANSPORT_TCP || is_pure_syn(p) || !closed_in_space(z, m->dir, p->tcp.seq))
        return;
    if (!m->in_time_wait) {
        if (!reset)
            closed_raise(z, m, ANOMALY_PACKET_AFTER_TIME_WAIT);
        return;
    }
    m->claimed = true;
    z->late_pkts++;
    if (reset && p->payload_len > 0)
        closed_raise(z, m, ANOMALY_DATA_AFTER_RST);
    else if (!reset && !closing_echo(z, m->dir, p))
        closed_raise(z, m, ANOMALY_PACKET_DURING_TIME_WAIT);
}

void time_wait_offer(struct time_wait *tw, const struct flow_key *k, uint64_t hash,
                     const struct packet *p, int side, struct time_wait_match *m) {
    memset(m, 0, sizeof *m);
    struct closed_conn *z = (struct closed_conn *)flow_table_find_hashed(tw->table, k, hash);
    if (!z)
        return;
    m->dir = side == z->orig_side ? 0 : 1;
    m->in_time_wait = z->e.timer == CLOSED_TIMER_TIME_WAIT;
    m->end = z->end;
    m->orig_side = z->orig_side;
    m->serial = z->serial;
    m->first_ns = z->first_ns;
    m->close_ns = z->close_ns;
    closed_judge(z, p, m);
    if (m->claimed)
        return;
    m->port_reuse = is_pure_syn(p);
    flow_table_remove_hashed(tw->table, &z->e, hash);
}
