/* Unit tests of tcp_conn: each endpoint's RFC 793 state through opens and closes (normal,
 * simultaneous, FIN+ACK shortcut, reset), what counts as acknowledging a SYN or FIN, sequence
 * accounting across wraparound, retransmissions and gaps, and Zeek's history and conn_state. */
#include <criterion/criterion.h>
#include <string.h>

#include "tcp_conn.h"

enum { O = 0, R = 1 }; /* originator, responder */

/* Holes blocks for the connection under test, as the tracker would lend them. Criterion runs
 * each test in a process of its own; the suite's fini gives the pool back after each. */
static struct block_pool *holes_pool;

static void holes_pool_fini(void) {
    block_pool_free(holes_pool);
    holes_pool = NULL;
}

TestSuite(tcp_conn, .fini = holes_pool_fini);

/* A conversation: both ISNs and each side's next sequence number, so tests read like the
 * packet list they describe. */
struct talk {
    struct tcp_conn t;
    uint32_t nxt[2];
    int64_t now;
};

static bool seg(struct talk *k, int from, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len) {
    struct packet p;
    memset(&p, 0, sizeof p);
    p.transport = TRANSPORT_TCP;
    p.tcp.flags = flags;
    p.tcp.seq = seq;
    p.tcp.ack = ack;
    p.tcp.window = 1000;
    p.payload_len = len;
    k->now += 1000000; /* 1 ms per packet */
    if (!holes_pool)
        holes_pool = block_pool_new(sizeof(struct tcp_holes), 1);
    cr_assert_not_null(holes_pool);
    return tcp_conn_on_segment(&k->t, from, &p, k->now, holes_pool);
}

/* Sends from `from` with its tracked sequence number, acking everything of the peer's. */
static bool send_(struct talk *k, int from, uint8_t flags, uint32_t len) {
    uint32_t ack = (flags & TCP_ACK) ? k->nxt[!from] : 0;
    bool closed = seg(k, from, flags, k->nxt[from], ack, len);
    k->nxt[from] += len + ((flags & TCP_SYN) ? 1u : 0u) + ((flags & TCP_FIN) ? 1u : 0u);
    return closed;
}

static void start(struct talk *k, uint32_t isn_o, uint32_t isn_r) {
    memset(k, 0, sizeof *k);
    tcp_conn_init(&k->t, false, false);
    k->nxt[O] = isn_o;
    k->nxt[R] = isn_r;
}

static void handshake(struct talk *k) {
    send_(k, O, TCP_SYN, 0);
    send_(k, R, TCP_SYN | TCP_ACK, 0);
    send_(k, O, TCP_ACK, 0);
}

#define STATES(k, so, sr)                                                                          \
    do {                                                                                           \
        cr_expect_str_eq(tcp_state_name(tcp_conn_state(&(k)->t, O)), tcp_state_name(so));          \
        cr_expect_str_eq(tcp_state_name(tcp_conn_state(&(k)->t, R)), tcp_state_name(sr));          \
    } while (0)

/* RFC 9293 figure 6 as seen on the wire: the responder listens once addressed, answers into
 * SYN_RECEIVED; the originator is ESTABLISHED once it acknowledged the SYN/ACK (one packet
 * later than its own stack, which we cannot see), and the responder when that ACK arrives. */
Test(tcp_conn, three_way_handshake) {
    struct talk k;
    start(&k, 100, 5000);
    send_(&k, O, TCP_SYN, 0);
    STATES(&k, TCP_STATE_SYN_SENT, TCP_STATE_LISTEN);
    send_(&k, R, TCP_SYN | TCP_ACK, 0);
    STATES(&k, TCP_STATE_SYN_SENT, TCP_STATE_SYN_RECEIVED);
    send_(&k, O, TCP_ACK, 0);
    STATES(&k, TCP_STATE_ESTABLISHED, TCP_STATE_ESTABLISHED);
    cr_expect(k.t.handshake_done);
    cr_expect_eq(k.t.syn_ns, 1000000);
    cr_expect_eq(k.t.synack_ns, 2000000);
    cr_expect_eq(k.t.ack_ns, 3000000);
}

/* RFC 9293 figure 13: FIN → ACK → FIN → ACK. The active closer passes FIN_WAIT_1, FIN_WAIT_2 to
 * TIME_WAIT; the passive one CLOSE_WAIT, LAST_ACK to CLOSED; the last ACK completes the close. */
Test(tcp_conn, normal_close) {
    struct talk k;
    start(&k, 100, 5000);
    handshake(&k);
    cr_expect_not(send_(&k, O, TCP_FIN | TCP_ACK, 0));
    STATES(&k, TCP_STATE_FIN_WAIT_1, TCP_STATE_ESTABLISHED);
    cr_expect_not(send_(&k, R, TCP_ACK, 0));
    STATES(&k, TCP_STATE_FIN_WAIT_2, TCP_STATE_CLOSE_WAIT);
    cr_expect_not(send_(&k, R, TCP_FIN | TCP_ACK, 0));
    STATES(&k, TCP_STATE_FIN_WAIT_2, TCP_STATE_LAST_ACK);
    cr_expect(send_(&k, O, TCP_ACK, 0), "the last ACK completes the close");
    STATES(&k, TCP_STATE_TIME_WAIT, TCP_STATE_CLOSED);
    cr_expect_eq(k.t.close_how, TCP_CLOSE_FIN);
    cr_expect_eq(k.t.close_initiator, O);
    cr_expect_str_eq(k.t.history, "ShAFaf");
}

/* The responder's FIN carries the ACK of the originator's FIN (three-packet close): it is the
 * passive closer (LAST_ACK), the originator goes to FIN_WAIT_2 and then TIME_WAIT. */
Test(tcp_conn, fin_ack_shortcut) {
    struct talk k;
    start(&k, 100, 5000);
    handshake(&k);
    send_(&k, O, TCP_FIN | TCP_ACK, 0);
    send_(&k, R, TCP_FIN | TCP_ACK, 0);
    STATES(&k, TCP_STATE_FIN_WAIT_2, TCP_STATE_LAST_ACK);
    cr_expect(send_(&k, O, TCP_ACK, 0));
    STATES(&k, TCP_STATE_TIME_WAIT, TCP_STATE_CLOSED);
}

/* RFC 9293 figure 14: FINs cross (neither acknowledges the other's), then both ACK: both pass
 * CLOSING and end in TIME_WAIT; the close is simultaneous. */
Test(tcp_conn, simultaneous_close) {
    struct talk k;
    start(&k, 100, 5000);
    handshake(&k);
    uint32_t fo = k.nxt[O], fr = k.nxt[R];
    seg(&k, O, TCP_FIN | TCP_ACK, fo, fr, 0); /* acks up to, not including, R's FIN */
    seg(&k, R, TCP_FIN | TCP_ACK, fr, fo, 0); /* likewise */
    STATES(&k, TCP_STATE_FIN_WAIT_1, TCP_STATE_FIN_WAIT_1);
    cr_expect_not(seg(&k, O, TCP_ACK, fo + 1, fr + 1, 0));
    STATES(&k, TCP_STATE_CLOSING, TCP_STATE_FIN_WAIT_2);
    cr_expect(seg(&k, R, TCP_ACK, fr + 1, fo + 1, 0));
    STATES(&k, TCP_STATE_TIME_WAIT, TCP_STATE_TIME_WAIT);
    cr_expect_eq(k.t.close_how, TCP_CLOSE_SIMULTANEOUS_FIN);
}

/* RFC 9293 §3.5: crossing SYNs, each answered by a SYN/ACK: both ESTABLISHED. */
Test(tcp_conn, simultaneous_open) {
    struct talk k;
    start(&k, 100, 5000);
    seg(&k, O, TCP_SYN, 100, 0, 0);
    seg(&k, R, TCP_SYN, 5000, 0, 0);
    STATES(&k, TCP_STATE_SYN_SENT, TCP_STATE_SYN_SENT);
    seg(&k, O, TCP_SYN | TCP_ACK, 100, 5001, 0);
    seg(&k, R, TCP_SYN | TCP_ACK, 5000, 101, 0);
    STATES(&k, TCP_STATE_ESTABLISHED, TCP_STATE_ESTABLISHED);
    cr_expect(k.t.simultaneous_open);
}

/* A FIN is acknowledged only by ack = FIN seq + 1: an ACK up to the FIN's own sequence number
 * (data before it) leaves the closer in FIN_WAIT_1. */
Test(tcp_conn, fin_needs_ack_of_fin_plus_one) {
    struct talk k;
    start(&k, 100, 5000);
    handshake(&k);
    uint32_t fin = k.nxt[O];
    send_(&k, O, TCP_FIN | TCP_ACK, 0);
    seg(&k, R, TCP_ACK, k.nxt[R], fin, 0);
    STATES(&k, TCP_STATE_FIN_WAIT_1, TCP_STATE_ESTABLISHED);
    seg(&k, R, TCP_ACK, k.nxt[R], fin + 1, 0);
    STATES(&k, TCP_STATE_FIN_WAIT_2, TCP_STATE_CLOSE_WAIT);
}

/* A SYN/ACK acknowledging something other than ISN + 1 does not acknowledge the SYN. */
Test(tcp_conn, synack_with_wrong_ack_does_not_ack_syn) {
    struct talk k;
    start(&k, 100, 5000);
    seg(&k, O, TCP_SYN, 100, 0, 0);
    seg(&k, R, TCP_SYN | TCP_ACK, 5000, 777, 0);
    cr_expect_not(k.t.ep[O].syn_acked);
    STATES(&k, TCP_STATE_SYN_SENT, TCP_STATE_SYN_SENT);
}

Test(tcp_conn, reset_closes_both) {
    struct talk k;
    start(&k, 100, 5000);
    handshake(&k);
    cr_expect(send_(&k, R, TCP_RST | TCP_ACK, 0));
    STATES(&k, TCP_STATE_CLOSED, TCP_STATE_CLOSED);
    cr_expect_eq(k.t.close_how, TCP_CLOSE_RST);
    cr_expect_eq(k.t.close_initiator, R);
    cr_expect_eq(tcp_conn_zeek_state(&k.t), ZEEK_RSTR);
}

/* RFC 5961: a RST far outside the receiver's window (blind injection) closes nothing. */
Test(tcp_conn, out_of_window_reset_is_ignored) {
    struct talk k;
    start(&k, 100, 5000);
    handshake(&k);
    cr_expect_not(seg(&k, R, TCP_RST, k.nxt[R] + 1000000, 0, 0));
    STATES(&k, TCP_STATE_ESTABLISHED, TCP_STATE_ESTABLISHED);
}

/* SYN → RST/ACK: Zeek's REJ with history "Sr". */
Test(tcp_conn, rejected) {
    struct talk k;
    start(&k, 100, 5000);
    send_(&k, O, TCP_SYN, 0);
    cr_expect(seg(&k, R, TCP_RST | TCP_ACK, 0, 101, 0));
    cr_expect_str_eq(k.t.history, "Sr");
    cr_expect_eq(tcp_conn_zeek_state(&k.t), ZEEK_REJ);
}

/* ISN 16 bytes below 2^32: 100 + 100 bytes cross zero; each byte counted once, none as
 * retransmitted, and the close still completes. */
Test(tcp_conn, sequence_wraparound) {
    struct talk k;
    start(&k, 0xfffffff0u, 0x7ffffff0u);
    handshake(&k);
    send_(&k, O, TCP_ACK | TCP_PSH, 100);
    send_(&k, O, TCP_ACK | TCP_PSH, 100);
    send_(&k, R, TCP_ACK, 0);
    cr_expect_eq(k.t.ep[O].payload_bytes, 200);
    cr_expect_eq(k.t.ep[O].retrans_pkts, 0);
    send_(&k, O, TCP_FIN | TCP_ACK, 0);
    send_(&k, R, TCP_FIN | TCP_ACK, 0);
    cr_expect(send_(&k, O, TCP_ACK, 0));
}

/* The same 100 bytes twice: one retransmitted segment of 100 bytes, payload counted once. */
Test(tcp_conn, retransmission_counts_once) {
    struct talk k;
    start(&k, 100, 5000);
    handshake(&k);
    uint32_t s = k.nxt[O];
    send_(&k, O, TCP_ACK | TCP_PSH, 100);
    seg(&k, O, TCP_ACK | TCP_PSH, s, k.nxt[R], 100);
    cr_expect_eq(k.t.ep[O].payload_bytes, 100);
    cr_expect_eq(k.t.ep[O].retrans_pkts, 1);
    cr_expect_eq(k.t.ep[O].retrans_bytes, 100);
    cr_expect_str_eq(k.t.history, "ShADT");
}

/* Bytes 1-100 never captured, 101-200 seen, then the responder acknowledges all 200: the hole
 * was received but not captured — 100 missed bytes, history g-letter for the originator (G). A
 * late copy of the hole would instead have filled it as new data. */
Test(tcp_conn, acknowledged_gap_is_missed) {
    struct talk k;
    start(&k, 100, 5000);
    handshake(&k);
    uint32_t s = k.nxt[O];
    seg(&k, O, TCP_ACK | TCP_PSH, s + 100, k.nxt[R], 100);
    cr_expect_eq(k.t.ep[O].missed_bytes, 0, "not yet acknowledged");
    seg(&k, R, TCP_ACK, k.nxt[R], s + 200, 0);
    cr_expect_eq(k.t.ep[O].missed_bytes, 100);
    cr_expect_eq(k.t.ep[O].payload_bytes, 100);
    cr_expect(strchr(k.t.history, 'G'), "%s", k.t.history);
}

Test(tcp_conn, hole_filled_by_late_segment_is_new_data) {
    struct talk k;
    start(&k, 100, 5000);
    handshake(&k);
    uint32_t s = k.nxt[O];
    seg(&k, O, TCP_ACK | TCP_PSH, s + 100, k.nxt[R], 100);
    seg(&k, O, TCP_ACK | TCP_PSH, s, k.nxt[R], 100);
    cr_expect_eq(k.t.ep[O].payload_bytes, 200);
    cr_expect_eq(k.t.ep[O].retrans_pkts, 0);
    seg(&k, R, TCP_ACK, k.nxt[R], s + 200, 0);
    cr_expect_eq(k.t.ep[O].missed_bytes, 0);
}

/* Zeek's logarithmic letters: T at the 1st and the 10th retransmission, not in between. */
Test(tcp_conn, history_retransmission_letters_are_logarithmic) {
    struct talk k;
    start(&k, 100, 5000);
    handshake(&k);
    uint32_t s = k.nxt[O];
    send_(&k, O, TCP_ACK | TCP_PSH, 10);
    for (int i = 0; i < 9; i++)
        seg(&k, O, TCP_ACK | TCP_PSH, s, k.nxt[R], 10);
    cr_expect_str_eq(k.t.history, "ShADT");
    seg(&k, O, TCP_ACK | TCP_PSH, s, k.nxt[R], 10);
    cr_expect_str_eq(k.t.history, "ShADTT");
}

/* A keep-alive (one byte below the next sequence number) is neither data nor retransmission. */
Test(tcp_conn, keepalive_is_not_a_retransmission) {
    struct talk k;
    start(&k, 100, 5000);
    handshake(&k);
    send_(&k, O, TCP_ACK | TCP_PSH, 10);
    seg(&k, O, TCP_ACK, k.nxt[O] - 1, k.nxt[R], 1);
    cr_expect_eq(k.t.ep[O].retrans_pkts, 0);
    cr_expect_eq(k.t.ep[O].payload_bytes, 10);
}

/* Zeek conn_state by endpoint outcomes (main.zeek conn_state()). */
Test(tcp_conn, zeek_conn_states) {
    struct talk k;
    start(&k, 100, 5000);
    send_(&k, O, TCP_SYN, 0);
    cr_expect_eq(tcp_conn_zeek_state(&k.t), ZEEK_S0);
    send_(&k, R, TCP_SYN | TCP_ACK, 0);
    cr_expect_eq(tcp_conn_zeek_state(&k.t), ZEEK_S1, "Sh is enough for S1");
    send_(&k, O, TCP_ACK, 0);
    send_(&k, O, TCP_FIN | TCP_ACK, 0);
    cr_expect_eq(tcp_conn_zeek_state(&k.t), ZEEK_S2);
    send_(&k, R, TCP_FIN | TCP_ACK, 0);
    cr_expect_eq(tcp_conn_zeek_state(&k.t), ZEEK_SF);

    start(&k, 100, 5000);
    send_(&k, O, TCP_SYN, 0);
    send_(&k, O, TCP_RST, 0);
    cr_expect_eq(tcp_conn_zeek_state(&k.t), ZEEK_RSTOS0);

    start(&k, 100, 5000);
    handshake(&k);
    send_(&k, R, TCP_FIN | TCP_ACK, 0);
    cr_expect_eq(tcp_conn_zeek_state(&k.t), ZEEK_S3);
    send_(&k, O, TCP_RST | TCP_ACK, 0);
    cr_expect_eq(tcp_conn_zeek_state(&k.t), ZEEK_RSTO);
}

/* Mid-stream pickup: both endpoints count as established; a FIN exchange closes normally. */
Test(tcp_conn, midstream_pickup) {
    struct talk k;
    memset(&k, 0, sizeof k);
    tcp_conn_init(&k.t, false, true);
    k.nxt[O] = 1000;
    k.nxt[R] = 9000;
    send_(&k, O, TCP_ACK | TCP_PSH, 50);
    STATES(&k, TCP_STATE_ESTABLISHED, TCP_STATE_ESTABLISHED);
    cr_expect_eq(k.t.ep[O].payload_bytes, 50);
    send_(&k, O, TCP_FIN | TCP_ACK, 0);
    send_(&k, R, TCP_FIN | TCP_ACK, 0);
    cr_expect(send_(&k, O, TCP_ACK, 0));
    STATES(&k, TCP_STATE_TIME_WAIT, TCP_STATE_CLOSED);
}

/* The responder's last data was never captured and its FIN arrives beyond it: the originator's
 * ACK of the FIN covers those bytes too, so they are missed bytes (found in a loopback capture
 * whose kernel dropped packets). */
Test(tcp_conn, gap_before_fin_is_missed) {
    struct talk k;
    start(&k, 100, 5000);
    handshake(&k);
    uint32_t s = k.nxt[R];
    seg(&k, R, TCP_FIN | TCP_ACK, s + 300, k.nxt[O], 0);
    seg(&k, O, TCP_ACK, k.nxt[O], s + 301, 0);
    cr_expect_eq(k.t.ep[R].missed_bytes, 300);
    cr_expect(k.t.ep[R].fin_acked);
}

/* RFC 9293 §3.10.7.3: in SYN_SENT a RST is accepted only with ack = ISN + 1. A RST racing the
 * SYN/ACK with another ack (blind injection) neither closes nor keeps the handshake from
 * completing; the connection then ends with the real peers' FINs. */
Test(tcp_conn, rst_in_syn_sent_needs_ack_of_syn) {
    struct talk k;
    start(&k, 100, 5000);
    send_(&k, O, TCP_SYN, 0);
    cr_expect_not(seg(&k, R, TCP_RST | TCP_ACK, 0, 100, 0), "ack = ISN, not ISN + 1");
    cr_expect_not(seg(&k, R, TCP_RST, 0, 0, 0), "no ACK at all");
    send_(&k, R, TCP_SYN | TCP_ACK, 0);
    send_(&k, O, TCP_ACK, 0);
    STATES(&k, TCP_STATE_ESTABLISHED, TCP_STATE_ESTABLISHED);
    /* Both RSTs carry seq 0: one r (Zeek repeats R only for a new position), then h and A. */
    cr_expect_str_eq(k.t.history, "SrhA");
}

/* What one segment raises is in t.raised right after it. */
Test(tcp_conn, segment_anomalies_are_raised) {
    struct talk k;
    start(&k, 100, 5000);
    seg(&k, O, TCP_SYN | TCP_FIN, 100, 0, 0);
    cr_expect(k.t.raised & anomaly_bit(ANOMALY_INVALID_FLAGS), "SYN+FIN is no valid combination");
    start(&k, 100, 5000);
    handshake(&k);
    cr_expect_eq(k.t.raised, 0, "a clean handshake raises nothing");
    uint32_t s = k.nxt[O];
    send_(&k, O, TCP_ACK | TCP_PSH, 10);
    seg(&k, O, TCP_ACK | TCP_PSH, s, k.nxt[R], 10);
    cr_expect_eq(k.t.raised, anomaly_bit(ANOMALY_RETRANSMISSION));
    seg(&k, O, TCP_ACK, k.nxt[O] - 1, k.nxt[R], 1);
    cr_expect_eq(k.t.raised, 0, "a keep-alive raises nothing");
}

/* Data the peer never acknowledged is judged at the end — unless it was sent after the judging
 * time (the capture may have ended before the ACK could be seen). */
Test(tcp_conn, end_anomalies_respect_judging_time) {
    struct talk k;
    start(&k, 100, 5000);
    handshake(&k);
    send_(&k, O, TCP_ACK | TCP_PSH, 10); /* at 4 ms, never acknowledged */
    anomaly_set all = tcp_conn_end_anomalies(&k.t, O, INT64_MAX);
    cr_expect_eq(all, anomaly_bit(ANOMALY_DATA_UNACKED));
    cr_expect_eq(tcp_conn_end_anomalies(&k.t, O, 3000000), 0, "sent after 3 ms: not judged");
    cr_expect_eq(tcp_conn_end_anomalies(&k.t, R, INT64_MAX), 0);
}

Test(tcp_conn, syn_unanswered_only_without_any_answer) {
    struct talk k;
    start(&k, 100, 5000);
    send_(&k, O, TCP_SYN, 0);
    cr_expect_eq(tcp_conn_end_anomalies(&k.t, O, INT64_MAX), anomaly_bit(ANOMALY_SYN_UNANSWERED));
    seg(&k, R, TCP_RST | TCP_ACK, 0, 101, 0);
    cr_expect_eq(tcp_conn_end_anomalies(&k.t, O, INT64_MAX), 0, "refused is an answer");
}

/* A real capture gap can be gigabytes (Zeek's ftp bigtransfer trace misses 5.4 GB): the client
 * sends 100 bytes, then — 1.5 GiB later in sequence space, everything between lost by the
 * capture — 100 more, which the server acknowledges. The gap is 1.5 GiB of missed bytes and both
 * segments are payload. Only a jump within 16 MiB of 2^31, where later bytes could no longer be
 * ordered, is set aside as forged (the 2^31 − 1 jump here: not counted at all). */
Test(tcp_conn, gigabyte_capture_gap_is_missed_bytes) {
    struct talk k;
    start(&k, 1000, 9000);
    handshake(&k);
    send_(&k, O, TCP_ACK | TCP_PSH, 100);
    const uint32_t gap = 0x60000000u; /* 1.5 GiB */
    seg(&k, O, TCP_ACK | TCP_PSH, k.nxt[O] + gap, k.nxt[R], 100);
    seg(&k, R, TCP_ACK, k.nxt[R], k.nxt[O] + gap + 100, 0);
    cr_expect_eq(k.t.ep[O].missed_bytes, gap);
    cr_expect_eq(k.t.ep[O].payload_bytes, 200);

    struct talk f;
    start(&f, 1000, 9000);
    handshake(&f);
    send_(&f, O, TCP_ACK | TCP_PSH, 100);
    seg(&f, O, TCP_ACK | TCP_PSH, f.nxt[O] + 0x7fffffffu, f.nxt[R], 100); /* forged */
    send_(&f, O, TCP_ACK | TCP_PSH, 50);
    send_(&f, R, TCP_ACK, 0);
    cr_expect_eq(f.t.ep[O].missed_bytes, 0);
    cr_expect_eq(f.t.ep[O].payload_bytes, 150);
}

/* Issue 13 §2, a capture of the responder's direction only: its SYN/ACK (the originator's SYN,
 * never captured, implied by the ack), then — the originator's ACK and 10 bytes not captured —
 * the responder's ACK of those 10 bytes. Bytes past the SYN are sent only once synchronized
 * (RFC 9293 §3.10.7.4): the originator had the SYN/ACK, the handshake completed by inference;
 * both ESTABLISHED, no synack_unanswered, no SYN/ACK-to-ACK time. */
Test(tcp_conn, responder_acking_past_the_syn_proves_the_handshake) {
    struct talk k;
    start(&k, 100, 5000);
    k.nxt[O]++; /* the SYN, not captured */
    send_(&k, R, TCP_SYN | TCP_ACK, 0);
    k.nxt[O] += 10; /* its ACK and 10 bytes, not captured */
    send_(&k, R, TCP_ACK, 0);
    cr_expect(k.t.handshake_done && k.t.sync_inferred);
    cr_expect_eq(k.t.ack_ns, 0);
    STATES(&k, TCP_STATE_ESTABLISHED, TCP_STATE_ESTABLISHED);
    cr_expect_eq(tcp_conn_end_anomalies(&k.t, R, INT64_MAX), 0);
}

/* Near misses: an ACK of exactly the SYN (ISN + 1) proves nothing — a spoofed SYN gets one too:
 * still SYN_RECEIVED, synack_unanswered at the end. And once the originator itself is seen, the
 * responder's ack past everything it sent is no proof either (the originator's own ACK shows
 * the handshake, or handshake_bad_ack judges it). */
Test(tcp_conn, ack_of_the_syn_alone_proves_nothing) {
    struct talk k;
    start(&k, 100, 5000);
    k.nxt[O]++;
    send_(&k, R, TCP_SYN | TCP_ACK, 0);
    send_(&k, R, TCP_ACK, 0);
    cr_expect_not(k.t.handshake_done);
    cr_expect_eq(tcp_state_name(tcp_conn_state(&k.t, R)), tcp_state_name(TCP_STATE_SYN_RECEIVED));
    cr_expect_eq(tcp_conn_end_anomalies(&k.t, R, INT64_MAX),
                 anomaly_bit(ANOMALY_SYNACK_UNANSWERED));
    start(&k, 100, 5000);
    send_(&k, O, TCP_SYN, 0);
    send_(&k, R, TCP_SYN | TCP_ACK, 0);
    seg(&k, R, TCP_ACK, k.nxt[R], k.nxt[O] + 10, 0);
    cr_expect_not(k.t.handshake_done, "the originator was seen: no inference");
}

/* The mirror, only the originator's direction: SYN, its ACK of the SYN/ACK (server ISN + 1,
 * the SYN/ACK not captured), then its ACK of 20 bytes the server sent: its acknowledgements
 * moved past the first, so the server sent bytes after its SYN — it was synchronized. An ACK
 * repeating the first one (near miss) proves nothing. */
Test(tcp_conn, originator_acks_moving_on_prove_the_handshake) {
    struct talk k;
    start(&k, 100, 5000);
    send_(&k, O, TCP_SYN, 0);
    k.nxt[R]++; /* the SYN/ACK, not captured */
    send_(&k, O, TCP_ACK, 0);
    send_(&k, O, TCP_ACK | TCP_PSH, 10);
    cr_expect_not(k.t.handshake_done, "the same ack again");
    k.nxt[R] += 20;
    send_(&k, O, TCP_ACK, 0);
    cr_expect(k.t.handshake_done && k.t.sync_inferred);
    STATES(&k, TCP_STATE_ESTABLISHED, TCP_STATE_ESTABLISHED);
    cr_expect_eq(tcp_conn_end_anomalies(&k.t, O, INT64_MAX), 0);
}

/* Issue 13 §3: the sender's own RST settles nothing (data_unacked stays judged), the peer's does;
 * and data the sender resent is judged whatever the judging limit. */
Test(tcp_conn, own_rst_settles_nothing_a_resend_lifts_the_limit) {
    struct talk k;
    start(&k, 100, 5000);
    handshake(&k);
    send_(&k, O, TCP_ACK | TCP_PSH, 10); /* at 4 ms */
    seg(&k, O, TCP_RST, k.nxt[O], 0, 0);
    cr_expect_eq(tcp_conn_end_anomalies(&k.t, O, INT64_MAX), anomaly_bit(ANOMALY_DATA_UNACKED));
    start(&k, 100, 5000);
    handshake(&k);
    send_(&k, O, TCP_ACK | TCP_PSH, 10);
    seg(&k, R, TCP_RST, k.nxt[R], 0, 0);
    cr_expect_eq(tcp_conn_end_anomalies(&k.t, O, INT64_MAX), 0, "the peer's RST settles it");
    start(&k, 100, 5000);
    handshake(&k);
    uint32_t s = k.nxt[O];
    send_(&k, O, TCP_ACK | TCP_PSH, 10);
    cr_expect_eq(tcp_conn_end_anomalies(&k.t, O, 3000000), 0, "sent after 3 ms: not judged");
    seg(&k, O, TCP_ACK | TCP_PSH, s, k.nxt[R], 10);
    cr_expect_eq(tcp_conn_end_anomalies(&k.t, O, 3000000), anomaly_bit(ANOMALY_DATA_UNACKED),
                 "resent: judged");
}

/* The timed data's end is kept as a relative position truncated to 32 bits (struct tcp_metrics,
 * timed_end) and compared by serial-number arithmetic. Here the originator's relative positions
 * cross 2^32 inside the timed segment: the responder's ACKs of bytes never captured move its
 * highest position to 2^32 − 500 in three jumps (each below the 2^31 − 16 MiB that would be
 * taken as forged), then 1000 bytes are sent, ending at 2^32 + 500, whose truncated end is 500.
 * An ACK of 2^32 − 100 lies inside the timed data (as a plain unsigned comparison it is far above
 * 500): no sample. The ACK of 2^32 + 500 one millisecond later (seg() adds 1 ms per packet) ends
 * the timing: one sample of 2 ms. */
Test(tcp_conn, rtt_sample_across_32_bit_position_wrap) {
    struct talk k;
    start(&k, 100, 5000);
    handshake(&k);
    const uint32_t isn = 100, jumps[] = {0x60000000u, 0xC0000000u, 0xFFFFFE0Cu};
    for (unsigned i = 0; i < 3; i++)
        seg(&k, R, TCP_ACK, k.nxt[R], isn + jumps[i], 0);
    cr_assert_eq(k.t.ep[O].hi, INT64_C(0xFFFFFE0C), "the jumps moved the highest position");
    k.nxt[O] = isn + 0xFFFFFE0Cu;
    send_(&k, O, TCP_ACK | TCP_PSH, 1000);
    cr_assert(k.t.ep[O].m.timing, "the new data is timed");
    seg(&k, R, TCP_ACK, k.nxt[R], isn + 0xFFFFFF9Cu, 0); /* 2^32 − 100: inside it */
    cr_expect_eq(k.t.ep[O].m.rtt_count, 0, "a partial ACK gives no sample");
    cr_expect(k.t.ep[O].m.timing);
    seg(&k, R, TCP_ACK, k.nxt[R], k.nxt[O], 0); /* 2^32 + 500: all of it */
    cr_expect_eq(k.t.ep[O].m.rtt_count, 1);
    cr_expect_eq(k.t.ep[O].m.rtt_min_us, 2000);
    cr_expect_eq(k.t.ep[O].m.rtt_max_us, 2000);
    cr_expect_not(k.t.ep[O].m.timing);
}
