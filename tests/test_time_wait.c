/* test_time_wait: the memory of closed TCP connections (analyzer/time_wait.h). A connection
 * 10.0.0.1:40000 → 10.0.0.2:80 closed with FINs at 100 s: the client's ISN 100 and FIN at 101
 * (next sequence number 102), the server's ISN 900 and FIN at 901 (next 902). TIME_WAIT is 10 s. */
#include <criterion/criterion.h>
#include <string.h>

#include "time_wait.h"

static const int64_t S = 1000000000;
static const int64_t CLOSE = 100 * 1000000000ll;

/* The closed connection: key side 0 is the client, its originator. */
static struct conn closed_conn(enum conn_end end, uint64_t serial) {
    struct conn c;
    memset(&c, 0, sizeof c);
    c.e.key.addr[0][0] = 10, c.e.key.addr[0][3] = 1;
    c.e.key.addr[1][0] = 10, c.e.key.addr[1][3] = 2;
    c.e.key.port[0] = 40000;
    c.e.key.port[1] = 80;
    c.e.key.proto = 6;
    c.e.key.ip_version = 4;
    c.orig_side = 0;
    c.end = (uint8_t)end;
    c.first_frame = serial;
    c.first_ns = CLOSE - 5 * S;
    c.tcp.ep[0].isn = 100;
    c.tcp.ep[0].hi = 2; /* SYN at 0, FIN at 1 */
    c.tcp.ep[0].base_known = true;
    c.tcp.ep[1].isn = 900;
    c.tcp.ep[1].hi = 2;
    c.tcp.ep[1].base_known = true;
    return c;
}

static struct packet tcp_seg(uint8_t flags, uint32_t seq, uint32_t len) {
    struct packet p;
    memset(&p, 0, sizeof p);
    p.transport = TRANSPORT_TCP;
    p.tcp.flags = flags;
    p.tcp.seq = seq;
    p.payload_len = len;
    return p;
}

static struct time_wait *remembered(struct conn *c) {
    struct time_wait *tw = time_wait_new(4, 10 * S);
    cr_assert_not_null(tw);
    time_wait_remember(tw, c, time_wait_hash(tw, &c->e.key), CLOSE);
    return tw;
}

/* Offers p from `side` and returns what it was. */
static struct time_wait_match offer(struct time_wait *tw, const struct conn *c, uint8_t flags,
                                    uint32_t seq, uint32_t len, int side) {
    struct time_wait_match m;
    memset(&m, 0xa5, sizeof m); /* every field must be written */
    struct packet p = tcp_seg(flags, seq, len);
    time_wait_offer(tw, &c->e.key, time_wait_hash(tw, &c->e.key), &p, side, &m);
    return m;
}

Test(time_wait, nothing_remembered) {
    struct conn c = closed_conn(CONN_END_FIN, 1);
    struct time_wait *tw = time_wait_new(4, 10 * S);
    struct time_wait_match m = offer(tw, &c, TCP_ACK, 101, 0, 0);
    cr_expect_not(m.claimed);
    cr_expect_not(m.raised);
    cr_expect_not(m.port_reuse);
    time_wait_free(tw);
}

Test(time_wait, late_data_during_time_wait_claimed_and_flagged_once) {
    /* Client data at 101 after its FIN: inside its old sequence space, not an echo of the close. */
    struct conn c = closed_conn(CONN_END_FIN, 7);
    struct time_wait *tw = remembered(&c);
    struct time_wait_match m = offer(tw, &c, TCP_ACK | TCP_PSH, 101, 5, 0);
    cr_expect(m.claimed);
    cr_expect(m.raised);
    cr_expect_eq(m.anomaly, ANOMALY_PACKET_DURING_TIME_WAIT);
    cr_expect(m.first);
    cr_expect(m.in_time_wait);
    cr_expect_eq(m.dir, 0);
    cr_expect_eq(m.serial, 7);
    cr_expect_eq(m.first_ns, CLOSE - 5 * S);
    cr_expect_eq(m.close_ns, CLOSE);
    cr_expect_eq(m.end, CONN_END_FIN);
    /* Again from the client: still claimed and counted, but not the first. */
    m = offer(tw, &c, TCP_ACK | TCP_PSH, 101, 5, 0);
    cr_expect(m.claimed);
    cr_expect(m.raised);
    cr_expect_not(m.first);
    /* From the server (key side 1, the responder): a direction of its own. */
    m = offer(tw, &c, TCP_ACK | TCP_PSH, 901, 5, 1);
    cr_expect(m.claimed);
    cr_expect_eq(m.dir, 1);
    cr_expect(m.first);
    time_wait_free(tw);
}

Test(time_wait, closing_echo_claimed_not_flagged) {
    /* The client's FIN again (seq 101 + FIN = 102) and its final ACK again (seq 102): what
     * TIME_WAIT is for. */
    struct conn c = closed_conn(CONN_END_FIN, 1);
    struct time_wait *tw = remembered(&c);
    struct time_wait_match m = offer(tw, &c, TCP_FIN | TCP_ACK, 101, 0, 0);
    cr_expect(m.claimed);
    cr_expect_not(m.raised);
    m = offer(tw, &c, TCP_ACK, 102, 0, 0);
    cr_expect(m.claimed);
    cr_expect_not(m.raised);
    time_wait_free(tw);
}

Test(time_wait, after_rst_only_data_is_flagged) {
    struct conn c = closed_conn(CONN_END_RST, 1);
    struct time_wait *tw = remembered(&c);
    struct time_wait_match m = offer(tw, &c, TCP_ACK, 102, 0, 0);
    cr_expect(m.claimed);
    cr_expect_not(m.raised);
    m = offer(tw, &c, TCP_ACK, 102, 10, 0);
    cr_expect(m.claimed);
    cr_expect(m.raised);
    cr_expect_eq(m.anomaly, ANOMALY_DATA_AFTER_RST);
    time_wait_free(tw);
}

Test(time_wait, syn_reuses_the_ports_and_forgets) {
    struct conn c = closed_conn(CONN_END_FIN, 1);
    struct time_wait *tw = remembered(&c);
    struct time_wait_match m = offer(tw, &c, TCP_SYN, 5000, 0, 0);
    cr_expect_not(m.claimed);
    cr_expect_not(m.raised);
    cr_expect(m.port_reuse);
    cr_expect(m.in_time_wait);
    m = offer(tw, &c, TCP_ACK, 101, 5, 0); /* the record is gone */
    cr_expect_not(m.claimed);
    cr_expect_not(m.raised);
    time_wait_free(tw);
}

Test(time_wait, outside_old_space_starts_anew) {
    /* seq 50 is before the client's ISN: not the old connection's; forgotten, no port reuse. */
    struct conn c = closed_conn(CONN_END_FIN, 1);
    struct time_wait *tw = remembered(&c);
    struct time_wait_match m = offer(tw, &c, TCP_ACK, 50, 5, 0);
    cr_expect_not(m.claimed);
    cr_expect_not(m.raised);
    cr_expect_not(m.port_reuse);
    m = offer(tw, &c, TCP_ACK, 101, 5, 0);
    cr_expect_not(m.claimed);
    time_wait_free(tw);
}

Test(time_wait, after_time_wait_flagged_not_claimed) {
    /* 10 s after the close TIME_WAIT is over: a late packet is flagged, but starts anew. */
    struct conn c = closed_conn(CONN_END_FIN, 1);
    struct time_wait *tw = remembered(&c);
    time_wait_expire(tw, CLOSE + 10 * S - 1);
    struct time_wait_match m = offer(tw, &c, TCP_FIN | TCP_ACK, 101, 0, 0);
    cr_expect(m.claimed, "1 ns before its end, TIME_WAIT still claims the echo");
    time_wait_expire(tw, CLOSE + 10 * S);
    m = offer(tw, &c, TCP_ACK, 101, 5, 0);
    cr_expect_not(m.claimed);
    cr_expect_not(m.in_time_wait);
    cr_expect(m.raised);
    cr_expect_eq(m.anomaly, ANOMALY_PACKET_AFTER_TIME_WAIT);
    time_wait_free(tw);
}

Test(time_wait, forgotten_after_twice_time_wait) {
    struct conn c = closed_conn(CONN_END_FIN, 1);
    struct time_wait *tw = remembered(&c);
    time_wait_expire(tw, CLOSE + 20 * S);
    struct time_wait_match m = offer(tw, &c, TCP_ACK, 101, 5, 0);
    cr_expect_not(m.raised, "forgotten: nothing to be late for");
    time_wait_free(tw);
}

Test(time_wait, full_table_forgets_the_oldest) {
    /* Capacity 4: the fifth closed connection pushes out the first. */
    struct time_wait *tw = time_wait_new(4, 10 * S);
    struct conn c[5];
    for (int i = 0; i < 5; i++) {
        c[i] = closed_conn(CONN_END_FIN, (uint64_t)i + 1);
        c[i].e.key.port[0] = (uint16_t)(40000 + i);
        time_wait_remember(tw, &c[i], time_wait_hash(tw, &c[i].e.key), CLOSE + i);
    }
    cr_expect_not(offer(tw, &c[0], TCP_ACK, 101, 5, 0).claimed);
    for (int i = 1; i < 5; i++)
        cr_expect(offer(tw, &c[i], TCP_ACK, 101, 5, 0).claimed, "connection %d", i);
    cr_expect_gt(time_wait_memory(tw), 4 * sizeof(struct flow_entry));
    time_wait_clear(tw);
    cr_expect_not(offer(tw, &c[4], TCP_ACK, 101, 5, 0).claimed, "cleared");
    time_wait_free(tw);
}
