/* test_host_detect: what an ended connection counts for (analyzer/host_detect.h). Connections
 * from 10.0.0.1 to 10.0.0.2, each on a port of its own; thresholds of 2, so the third connection
 * that counts against a host goes above them. */
#include <criterion/criterion.h>
#include <string.h>

#include "host_detect.h"

static const int64_t S = 1000000000;

static struct host_config config(void) {
    struct host_config cfg;
    host_config_defaults(&cfg);
    cfg.syn_flood_threshold = 2;
    cfg.port_scan_threshold = 2;
    return cfg;
}

/* A TCP connection from 10.0.0.1:40000 to 10.0.0.2:dport at t, after segments given as
 * (direction, flags, seq, ack): ISNs 100 (client) and 900 (server). */
struct seg {
    int dir;
    uint8_t flags;
    uint32_t seq, ack;
};

static struct conn tcp_conn_after(uint16_t dport, int64_t t, const struct seg *segs, int n) {
    struct conn c;
    memset(&c, 0, sizeof c);
    c.e.key.addr[0][0] = 10, c.e.key.addr[0][3] = 1;
    c.e.key.addr[1][0] = 10, c.e.key.addr[1][3] = 2;
    c.e.key.port[0] = 40000;
    c.e.key.port[1] = dport;
    c.e.key.proto = 6;
    c.e.key.ip_version = 4;
    c.first_ns = t;
    tcp_conn_init(&c.tcp, false, !(segs[0].flags & TCP_SYN));
    struct block_pool *holes = block_pool_new(sizeof(struct tcp_holes), 1);
    for (int i = 0; i < n; i++) {
        struct packet p;
        memset(&p, 0, sizeof p);
        p.transport = TRANSPORT_TCP;
        p.tcp.flags = segs[i].flags;
        p.tcp.seq = segs[i].seq;
        p.tcp.ack = segs[i].ack;
        p.tcp.window = 1000;
        tcp_conn_on_segment(&c.tcp, segs[i].dir, &p, t + i, holes);
    }
    tcp_conn_release(&c.tcp, holes);
    block_pool_free(holes);
    return c;
}

static const struct seg syn_only[] = {{0, TCP_SYN, 100, 0}};
static const struct seg refused[] = {{0, TCP_SYN, 100, 0}, {1, TCP_RST | TCP_ACK, 0, 101}};
static const struct seg completed[] = {
    {0, TCP_SYN, 100, 0}, {1, TCP_SYN | TCP_ACK, 900, 101}, {0, TCP_ACK, 101, 901}};

/* A connection's end judged and counted, as the tracker does, with nothing to fold; returns how
 * many alerts fired. */
static unsigned conn_end(struct hosts *h, const struct host_config *cfg, const struct conn *c,
                         enum conn_end why, anomaly_set end_set, struct host_verdict *v) {
    host_detect_count(h, cfg, c, host_detect_judge(c, why, end_set), NULL, v);
    cr_expect_not(v->folded, "nothing to fold, nothing folded");
    return v->alerts;
}

static const anomaly_set unanswered = (anomaly_set)1u << ANOMALY_SYN_UNANSWERED;

Test(host_detect, unanswered_syns_count_for_flood_and_scan) {
    /* Each unanswered SYN is half-open (against 10.0.0.2) and a failed attempt (of 10.0.0.1);
     * the third goes above both thresholds: syn_flood first, then port_scan. */
    struct host_config cfg = config();
    struct hosts *h = hosts_new(&cfg);
    struct host_verdict v;
    for (uint16_t i = 0; i < 2; i++) {
        struct conn c = tcp_conn_after((uint16_t)(80 + i), i * S, syn_only, 1);
        cr_expect_eq(conn_end(h, &cfg, &c, CONN_END_TIMEOUT, unanswered, &v), 0);
    }
    struct conn c = tcp_conn_after(82, 2 * S, syn_only, 1);
    cr_assert_eq(conn_end(h, &cfg, &c, CONN_END_TIMEOUT, unanswered, &v), 2);
    cr_expect_eq(v.alert[0].id, ANOMALY_SYN_FLOOD);
    cr_expect_eq(v.alert[0].host, conn_addr(&c, 1));
    cr_expect_eq(v.alert[0].ip_version, 4);
    cr_expect_eq(v.alert[0].count, 3);
    cr_expect_eq(v.alert[0].threshold, 2);
    cr_expect_eq(v.alert[0].window_ns, cfg.syn_flood_window_ns);
    cr_expect_eq(v.alert[1].id, ANOMALY_PORT_SCAN);
    cr_expect_eq(v.alert[1].host, conn_addr(&c, 0));
    cr_expect_eq(v.alert[1].count, 3);
    cr_expect_eq(v.alert[1].window_ns, cfg.port_scan_window_ns);
    hosts_free(h);
}

Test(host_detect, refused_counts_for_scan_only) {
    /* A RST answering the SYN (REJ) is a failed attempt, not a half-open connection. */
    struct host_config cfg = config();
    struct hosts *h = hosts_new(&cfg);
    struct host_verdict v;
    unsigned n = 0;
    for (uint16_t i = 0; i < 3; i++) {
        struct conn c = tcp_conn_after((uint16_t)(80 + i), i * S, refused, 2);
        cr_assert_eq(conn_zeek_state(&c), ZEEK_REJ);
        n = conn_end(h, &cfg, &c, CONN_END_RST, 0, &v);
    }
    cr_assert_eq(n, 1);
    cr_expect_eq(v.alert[0].id, ANOMALY_PORT_SCAN);
    hosts_free(h);
}

Test(host_detect, completed_connections_count_for_nothing) {
    struct host_config cfg = config();
    struct hosts *h = hosts_new(&cfg);
    struct host_verdict v;
    for (uint16_t i = 0; i < 5; i++) {
        struct conn c = tcp_conn_after((uint16_t)(80 + i), i * S, completed, 3);
        cr_expect_eq(conn_end(h, &cfg, &c, CONN_END_TIMEOUT, 0, &v), 0);
    }
    cr_expect_eq(hosts_count(h), 0, "no host was counted");
    hosts_free(h);
}

Test(host_detect, evicted_judged_without_answer_grace) {
    /* Ended with the input, within the answer grace, unanswered SYNs are not blamed (end set
     * empty) — but the grace protects a connection's record, not the host-level count (issue 13:
     * a SYN flood that ends with the capture must still be seen): they count for syn_flood, and
     * the third goes above the threshold of 2. Not blamed, they are no failed attempt: no
     * port_scan count. (Before issue 13 they counted for nothing.) Evicted, they count against
     * the host all the same, for both. */
    struct host_config cfg = config();
    struct hosts *h = hosts_new(&cfg);
    struct host_verdict v;
    unsigned n = 0;
    for (uint16_t i = 0; i < 3; i++) {
        struct conn c = tcp_conn_after((uint16_t)(80 + i), i * S, syn_only, 1);
        n = conn_end(h, &cfg, &c, CONN_END_CAPTURE_END, 0, &v);
        cr_expect_eq(n, i == 2 ? 1u : 0u, "connection %u", i);
    }
    cr_expect_eq(v.alert[0].id, ANOMALY_SYN_FLOOD, "three distinct ports, yet no port_scan");
    cr_expect_eq(v.alert[0].count, 3);
    hosts_free(h);
    h = hosts_new(&cfg);
    for (uint16_t i = 0; i < 3; i++) {
        struct conn c = tcp_conn_after(80, i * S, syn_only, 1);
        n = conn_end(h, &cfg, &c, CONN_END_EVICTED, 0, &v);
    }
    cr_assert_eq(n, 1); /* the same port each time: one failed target, no scan */
    cr_expect_eq(v.alert[0].id, ANOMALY_SYN_FLOOD);
    cr_expect_eq(v.alert[0].count, 3);
    hosts_free(h);
}
