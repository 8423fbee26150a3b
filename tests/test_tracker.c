/* Unit tests of the tracker: roles, exactly-once reporting, timeouts on capture time, TIME_WAIT
 * (late packets vs a new connection), port reuse and eviction, driven by hand-made packets. */
#include <criterion/criterion.h>
#include <string.h>

#include "tracker.h"

#define MAX_REPORTS 16

struct reports {
    int n;
    struct conn c[MAX_REPORTS]; /* copies: their anomaly list is not theirs (see listed) */
    int listed[MAX_REPORTS];    /* anomalies the connection's list held when it was reported */
    int nev;
    enum anomaly ev[MAX_REPORTS];
    uint64_t folded[MAX_REPORTS]; /* the event's folded.events (0: not an aggregate) */
};

static void collect(void *ctx, const struct conn *c) {
    struct reports *r = ctx;
    cr_assert_lt(r->n, MAX_REPORTS);
    r->listed[r->n] = c->anomalies ? c->anomalies->n : 0;
    r->c[r->n++] = *c;
}

static void collect_anomaly(void *ctx, const struct anomaly_event *ev) {
    struct reports *r = ctx;
    cr_assert_lt(r->nev, MAX_REPORTS);
    r->folded[r->nev] = ev->folded.events;
    r->ev[r->nev++] = ev->id;
}

static const int64_t S = 1000000000;

/* A TCP/IPv4 packet between 10.0.0.1:port_a and 10.0.0.2:80 at time t_ns. */
static struct packet tcp_pkt(int64_t t_ns, bool from_client, uint16_t port_a, uint8_t flags,
                             uint32_t seq, uint32_t ack, uint32_t len) {
    struct packet p;
    memset(&p, 0, sizeof p);
    p.ts_sec = t_ns / S;
    p.ts_nsec = (uint32_t)(t_ns % S);
    p.frame = (uint64_t)t_ns + 1; /* frames in time order, as a capture numbers them */
    p.net = NET_IPV4;
    p.ip_version = 4;
    p.ip_proto = 6;
    p.transport = TRANSPORT_TCP;
    uint8_t a[4] = {10, 0, 0, 1}, b[4] = {10, 0, 0, 2};
    memcpy(p.src, from_client ? a : b, 4);
    memcpy(p.dst, from_client ? b : a, 4);
    p.sport = from_client ? port_a : 80;
    p.dport = from_client ? 80 : port_a;
    p.tcp.flags = flags;
    p.tcp.seq = seq;
    p.tcp.ack = ack;
    p.tcp.window = 1000;
    p.payload_len = len;
    p.ip_len = 40 + len;
    return p;
}

static struct tracker *new_tracker(struct reports *r, uint32_t max_flows) {
    struct tracker_config cfg;
    tracker_config_defaults(&cfg);
    cfg.max_flows = max_flows;
    cfg.time_wait_ns = 10 * S;
    cfg.timeout_ns[CONN_TIMER_HANDSHAKE] = 5 * S;
    memset(r, 0, sizeof *r);
    return tracker_new(&cfg, collect, collect_anomaly, r);
}

static void feed(struct tracker *tr, struct packet p) {
    tracker_on_packet(tr, &p, false);
}

/* Client 10.0.0.1:port, ISN 100, server ISN 900: handshake and 4-way close starting at t. */
static void clean_conn(struct tracker *tr, int64_t t, uint16_t port) {
    feed(tr, tcp_pkt(t, true, port, TCP_SYN, 100, 0, 0));
    feed(tr, tcp_pkt(t + 1, false, port, TCP_SYN | TCP_ACK, 900, 101, 0));
    feed(tr, tcp_pkt(t + 2, true, port, TCP_ACK, 101, 901, 0));
    feed(tr, tcp_pkt(t + 3, true, port, TCP_FIN | TCP_ACK, 101, 901, 0));
    feed(tr, tcp_pkt(t + 4, false, port, TCP_FIN | TCP_ACK, 901, 102, 0));
    feed(tr, tcp_pkt(t + 5, true, port, TCP_ACK, 102, 902, 0));
}

/* The close is reported at the final ACK, not at the end; roles follow the SYN. */
Test(tracker, reported_when_closed) {
    struct reports r;
    struct tracker *tr = new_tracker(&r, 16);
    clean_conn(tr, 0, 40000);
    cr_assert_eq(r.n, 1, "reported at its last ACK, before any flush");
    cr_expect_eq(r.c[0].end, CONN_END_FIN);
    cr_expect_eq(conn_port(&r.c[0], 0), 40000);
    cr_expect_eq(r.c[0].pkts[0], 4, "client: SYN, ACK, FIN/ACK, ACK");
    cr_expect_eq(r.c[0].pkts[1], 2, "server: SYN/ACK, FIN/ACK");
    tracker_flush(tr, CONN_END_CAPTURE_END);
    cr_expect_eq(r.n, 1, "a closed connection is not reported twice");
    tracker_free(tr);
}

/* TIME_WAIT is 10 s here: a retransmitted FIN/ACK of the server 9 s after the close is a late
 * packet of the old connection; the same 11 s after the close starts a new (mid-stream) one. */
Test(tracker, time_wait_expiry_at_the_right_capture_time) {
    struct reports r;
    struct tracker *tr = new_tracker(&r, 16);
    clean_conn(tr, 0, 40000);
    feed(tr, tcp_pkt(9 * S, false, 40000, TCP_FIN | TCP_ACK, 901, 102, 0));
    cr_expect_eq(r.n, 1);
    cr_expect_eq(tracker_counts(tr)->late_packets, 1);
    feed(tr, tcp_pkt(5 + 11 * S, false, 40000, TCP_FIN | TCP_ACK, 901, 102, 0));
    tracker_flush(tr, CONN_END_CAPTURE_END);
    cr_assert_eq(r.n, 2, "after 2×MSL the packet is a new connection");
    cr_expect_eq(r.c[1].end, CONN_END_CAPTURE_END);
    cr_expect(r.c[1].tcp.midstream);
    cr_expect_eq(tracker_counts(tr)->late_packets, 1);
    tracker_free(tr);
}

/* A new SYN on the same ports right after the close is a new connection (port reuse). */
Test(tracker, port_reuse_starts_a_new_connection) {
    struct reports r;
    struct tracker *tr = new_tracker(&r, 16);
    clean_conn(tr, 0, 40000);
    feed(tr, tcp_pkt(1 * S, true, 40000, TCP_SYN, 5555, 0, 0));
    tracker_flush(tr, CONN_END_CAPTURE_END);
    cr_assert_eq(r.n, 2);
    cr_expect_neq(r.c[0].first_frame, r.c[1].first_frame);
    cr_expect_eq(r.c[1].tcp.ep[0].isn, 5555);
    tracker_free(tr);
}

/* A lone SYN expires 5 s (the handshake timeout here) after it was sent, when capture time
 * passes that point — on the first later packet, not at the end. */
Test(tracker, handshake_timeout_on_capture_time) {
    struct reports r;
    struct tracker *tr = new_tracker(&r, 16);
    feed(tr, tcp_pkt(0, true, 40001, TCP_SYN, 100, 0, 0));
    feed(tr, tcp_pkt(4 * S, true, 40002, TCP_SYN, 100, 0, 0));
    cr_expect_eq(r.n, 0, "4 s later: still waiting");
    feed(tr, tcp_pkt(5 * S, true, 40003, TCP_SYN, 100, 0, 0));
    cr_assert_eq(r.n, 1, "5 s later: expired");
    cr_expect_eq(conn_port(&r.c[0], 0), 40001);
    cr_expect_eq(r.c[0].end, CONN_END_TIMEOUT);
    tracker_free(tr);
}

/* Two slots, three connections: the least recently active one is evicted (reported once), and
 * the flush reports the other two: three reports in all. */
Test(tracker, eviction_when_full) {
    struct reports r;
    struct tracker *tr = new_tracker(&r, 2);
    feed(tr, tcp_pkt(0, true, 40001, TCP_SYN, 100, 0, 0));
    feed(tr, tcp_pkt(1, true, 40002, TCP_SYN, 100, 0, 0));
    feed(tr, tcp_pkt(2, true, 40001, TCP_SYN, 100, 0, 0)); /* 40001 active again */
    feed(tr, tcp_pkt(3, true, 40003, TCP_SYN, 100, 0, 0));
    cr_assert_eq(r.n, 1);
    cr_expect_eq(r.c[0].end, CONN_END_EVICTED);
    cr_expect_eq(conn_port(&r.c[0], 0), 40002);
    tracker_flush(tr, CONN_END_CAPTURE_END);
    cr_expect_eq(r.n, 3);
    cr_expect_eq(tracker_counts(tr)->evicted, 1);
    tracker_free(tr);
}

/* Roles without a SYN: a SYN/ACK's receiver is the originator; a mid-stream packet from port 80
 * to port 40000 makes port 40000 the originator. */
Test(tracker, originator_rules) {
    struct reports r;
    struct tracker *tr = new_tracker(&r, 16);
    feed(tr, tcp_pkt(0, false, 40001, TCP_SYN | TCP_ACK, 900, 101, 0));
    feed(tr, tcp_pkt(1, false, 40002, TCP_ACK | TCP_PSH, 900, 101, 10));
    tracker_flush(tr, CONN_END_CAPTURE_END);
    cr_assert_eq(r.n, 2);
    for (int i = 0; i < 2; i++) {
        cr_expect_eq(conn_port(&r.c[i], 1), 80, "the server is the responder");
        cr_expect(r.c[i].tcp.flipped);
    }
    cr_expect_not(r.c[0].tcp.midstream);
    cr_expect(r.c[1].tcp.midstream);
    cr_expect_str_eq(r.c[0].tcp.history, "^h");
    tracker_free(tr);
}

/* A connection's list holds eight (anomaly, direction) pairs; one more pair is counted as
 * unlisted and still emitted exactly once, however often it recurs. */
Test(tracker, unlisted_anomalies_are_emitted_once) {
    struct conn_anomalies l;
    memset(&l, 0, sizeof l);
    for (int i = 0; i < CONN_MAX_ANOMALIES; i++)
        cr_assert(conn_anomalies_add(&l, (enum anomaly)i, 0, 0));
    cr_expect(conn_anomalies_add(&l, ANOMALY_ZERO_WINDOW, 1, 0), "first of its kind");
    cr_expect_not(conn_anomalies_add(&l, ANOMALY_ZERO_WINDOW, 1, 0), "seen before");
    cr_expect_not(conn_anomalies_add(&l, ANOMALY_SYN_UNANSWERED, 0, 0), "listed: counted");
    cr_expect_eq(l.overflow, 2);
    cr_expect_eq(l.list[0].count, 2);
}

/* The cold blocks (anomaly list, sequence holes) go back to their pools when a connection
 * leaves the table; each pool holds max_flows blocks. Six connections one after the other through
 * a 2-flow tracker, each with a capture gap: the client sends 101..200, then 301..400 (201..300
 * never captured: a hole, segment_not_captured), the server acknowledges 401 (past the hole:
 * ack_unseen_segment, 100 missed bytes), then a clean close. Every connection must list both
 * anomalies and count 100 missed bytes: had the blocks of the first two not come back, the third
 * would get no list, and no hole (its gap counted missed at once, no ack_unseen_segment). */
Test(tracker, cold_blocks_return_to_their_pools) {
    struct reports r;
    struct tracker *tr = new_tracker(&r, 2);
    cr_assert_not_null(tr);
    for (int i = 0; i < 6; i++) {
        int64_t t = (int64_t)i * S;
        uint16_t port = (uint16_t)(1000 + i);
        feed(tr, tcp_pkt(t, true, port, TCP_SYN, 100, 0, 0));
        feed(tr, tcp_pkt(t + 1, false, port, TCP_SYN | TCP_ACK, 900, 101, 0));
        feed(tr, tcp_pkt(t + 2, true, port, TCP_ACK, 101, 901, 0));
        feed(tr, tcp_pkt(t + 3, true, port, TCP_ACK | TCP_PSH, 101, 901, 100));
        feed(tr, tcp_pkt(t + 4, true, port, TCP_ACK | TCP_PSH, 301, 901, 100));
        feed(tr, tcp_pkt(t + 5, false, port, TCP_ACK, 901, 401, 0));
        feed(tr, tcp_pkt(t + 6, true, port, TCP_FIN | TCP_ACK, 401, 901, 0));
        feed(tr, tcp_pkt(t + 7, false, port, TCP_FIN | TCP_ACK, 901, 402, 0));
        feed(tr, tcp_pkt(t + 8, true, port, TCP_ACK, 402, 902, 0));
    }
    cr_assert_eq(r.n, 6);
    for (int i = 0; i < 6; i++) {
        cr_expect_eq(r.listed[i], 2, "connection %d lists %d anomalies", i, r.listed[i]);
        cr_expect_eq(r.c[i].tcp.ep[0].missed_bytes, 100, "connection %d", i);
        cr_expect_eq(r.c[i].end, CONN_END_FIN, "connection %d", i);
    }
    tracker_free(tr);
}

/* Memory (issue 18.8): tracker_memory_for predicts what tracker_new reserves (main says it when
 * the allocation fails); of that, in use at first are only the two flow tables' hash indexes
 * (1024 buckets of 4 bytes at least each, far below the pools of 1000 entries), and every
 * connection opened takes one more entry from the live table's pool, never freed. */
Test(tracker, memory_reserved_and_used) {
    struct reports r;
    struct tracker *tr = new_tracker(&r, 1000);
    cr_assert(tr);
    struct tracker_config cfg;
    tracker_config_defaults(&cfg);
    cfg.max_flows = 1000;
    cr_expect_eq(tracker_memory_for(&cfg), tracker_memory(tr));
    size_t reserved = tracker_memory(tr), used0 = tracker_memory_used(tr);
    cr_expect_gt(used0, 2 * 1024 * sizeof(uint32_t));
    cr_expect_lt(used0, reserved / 10, "used %zu of %zu at the start", used0, reserved);
    clean_conn(tr, 1 * S, 40000);
    size_t used1 = tracker_memory_used(tr);
    cr_expect_gt(used1, used0, "one connection more in use");
    for (uint16_t i = 1; i < 10; i++) /* MAX_REPORTS reports at most */
        clean_conn(tr, 2 * S + i, (uint16_t)(40000 + i));
    cr_expect_gt(tracker_memory_used(tr), used1);
    cr_expect_leq(tracker_memory_used(tr), reserved);
    cr_expect_eq(tracker_memory(tr), reserved, "reserved does not change");
    tracker_free(tr);
}

/* Issue 13 §4, neither port a listed server port: a TCP segment from a port below the ephemeral
 * range (8765) to one inside it (50000) comes from the server, so its receiver is the originator
 * (flipped); from 20000 — below the range, a FreeBSD or old Windows client — to 8765 the sender
 * stays the originator; and a UDP datagram from 3797 to 32900 (tunnels_Teredo.pcap's Teredo
 * client to its relay) keeps its sender too: the guess is for TCP only. */
Test(tracker, ephemeral_port_rule_for_tcp_only) {
    struct reports r;
    struct tracker *tr = new_tracker(&r, 16);
    struct packet p = tcp_pkt(0, false, 50000, TCP_ACK | TCP_PSH, 900, 101, 10);
    p.sport = 8765;
    feed(tr, p);
    p = tcp_pkt(1, false, 20000, TCP_ACK | TCP_PSH, 900, 101, 10);
    p.sport = 8765;
    feed(tr, p);
    p = tcp_pkt(2, true, 3797, 0, 0, 0, 10);
    p.transport = TRANSPORT_UDP;
    p.ip_proto = 17;
    p.dport = 32900;
    feed(tr, p);
    tracker_flush(tr, CONN_END_CAPTURE_END);
    cr_assert_eq(r.n, 3);
    cr_expect_eq(conn_port(&r.c[0], 0), 50000, "the ephemeral port's side originates");
    cr_expect(r.c[0].tcp.flipped);
    cr_expect_eq(conn_port(&r.c[1], 0), 8765, "20000 is no ephemeral port: the sender");
    cr_expect_not(r.c[1].tcp.flipped);
    cr_expect_eq(conn_port(&r.c[2], 0), 3797, "UDP: the sender");
    tracker_free(tr);
}

/* Live, an aggregate of folded events ends by capture time. syn_flood threshold 2 in 10 s,
 * handshake timeout 5 s, answer grace 1 s: five unanswered SYNs at 0..4 ms (ports 1..5) expire
 * half-open at 6 s. The first two give syn_unanswered each; the third crosses the threshold
 * (syn_flood) and its event and the next two are folded. The window [0, 10 s) ends at 10 s; its
 * aggregate stays open for the handshake timeout and the grace, 6 s more (a connection of the
 * window may still be reported until then), and is written at 16 s with 3 events — before
 * the input ends, with no new packet. */
Test(tracker, fold_aggregate_ends_by_capture_time) {
    struct reports r;
    struct tracker_config cfg;
    tracker_config_defaults(&cfg);
    cfg.max_flows = 16;
    cfg.timeout_ns[CONN_TIMER_HANDSHAKE] = 5 * S;
    cfg.hosts.syn_flood_threshold = 2;
    memset(&r, 0, sizeof r);
    struct tracker *tr = tracker_new(&cfg, collect, collect_anomaly, &r);
    cr_assert(tr);
    for (uint16_t port = 1; port <= 5; port++)
        feed(tr, tcp_pkt((port - 1) * 1000000, true, port, TCP_SYN, 100, 0, 0));
    tracker_advance(tr, 6 * S);
    cr_assert_eq(r.n, 5, "the five expired");
    cr_assert_eq(r.nev, 3);
    cr_expect_eq(r.ev[0], ANOMALY_SYN_UNANSWERED);
    cr_expect_eq(r.ev[1], ANOMALY_SYN_UNANSWERED);
    cr_expect_eq(r.ev[2], ANOMALY_SYN_FLOOD);
    cr_expect_eq(r.folded[2], 0, "the alert is no aggregate");
    tracker_advance(tr, 16 * S - 1);
    cr_expect_eq(r.nev, 3, "the aggregate is still open");
    tracker_advance(tr, 16 * S);
    cr_assert_eq(r.nev, 4);
    cr_expect_eq(r.ev[3], ANOMALY_SYN_FLOOD);
    cr_expect_eq(r.folded[3], 3);
    const struct tracker_counts *tc = tracker_counts(tr);
    cr_expect_eq(tc->anomalies[ANOMALY_SYN_UNANSWERED], 5, "every occurrence counted");
    cr_expect_eq(tc->anomalies[ANOMALY_SYN_FLOOD], 1, "the aggregate is no occurrence");
    cr_expect_eq(tc->folded_events, 3);
    cr_expect_eq(tc->aggregates, 1);
    tracker_flush(tr, CONN_END_CAPTURE_END);
    cr_expect_eq(r.nev, 4, "nothing more at the end");
    tracker_free(tr);
}

/* tracker_prefetch is a hint: a hint for one packet followed by another packet (a different
 * frame) is not used for it, and a hint used for its own packet gives the result without one.
 * Two connections; before each packet, a prefetch of the other connection's packet (a stale
 * hint) or of the packet itself: both connections come out complete and separate. */
Test(tracker, prefetch_hint_only_for_its_own_packet) {
    struct reports r;
    struct tracker *tr = new_tracker(&r, 16);
    struct packet a = tcp_pkt(0, true, 40000, TCP_SYN, 100, 0, 0);
    struct packet b = tcp_pkt(1, true, 40001, TCP_SYN, 300, 0, 0);
    tracker_prefetch(tr, &b);
    feed(tr, a); /* the hint is b's: a must still land in its own connection */
    tracker_prefetch(tr, &b);
    feed(tr, b);
    struct packet a2 = tcp_pkt(2, false, 40000, TCP_SYN | TCP_ACK, 900, 101, 0);
    tracker_prefetch(tr, &a2);
    feed(tr, a2);
    tracker_flush(tr, CONN_END_CAPTURE_END);
    cr_assert_eq(r.n, 2);
    cr_expect_eq(r.c[0].e.key.port[0] + r.c[0].e.key.port[1] - 80, 40000);
    cr_expect_eq(r.c[0].pkts[0] + r.c[0].pkts[1], 2, "SYN and SYN/ACK of 40000 together");
    cr_expect_eq(r.c[1].pkts[0] + r.c[1].pkts[1], 1);
    cr_expect_eq(r.c[1].tcp.ep[0].isn, 300);
    tracker_free(tr);
}

/* --shard and --workers split by one fixed hash of the connection, but not by the same bits: the
 * connections of share 1 of 2 (ports 1..2000 from the client) fall on both of 2 workers, each
 * taking about half; and both directions of a connection go to the same worker. */
Test(tracker, workers_split_a_share_independently) {
    unsigned in_share = 0, on_worker[2] = {0, 0};
    for (uint16_t port = 1; port <= 2000; port++) {
        struct packet out = tcp_pkt(0, true, port, TCP_SYN, 0, 0, 0);
        struct packet back = tcp_pkt(0, false, port, TCP_SYN | TCP_ACK, 0, 0, 0);
        cr_assert_eq(tracker_worker_of(&out, 2), tracker_worker_of(&back, 2), "port %u", port);
        cr_assert_eq(tracker_shard_of(&out, 2), tracker_shard_of(&back, 2), "port %u", port);
        if (tracker_shard_of(&out, 2) != 0)
            continue;
        in_share++;
        on_worker[tracker_worker_of(&out, 2)]++;
    }
    cr_expect_gt(in_share, 800);
    cr_expect_gt(on_worker[0], in_share / 3, "%u of %u", on_worker[0], in_share);
    cr_expect_gt(on_worker[1], in_share / 3, "%u of %u", on_worker[1], in_share);
}
