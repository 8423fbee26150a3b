/* End-to-end tests of the per-connection metrics (issue 15, orig.metrics / resp.metrics,
 * docs/metrics.md): RTT samples and Karn's rule, throughput, a segment captured twice told from
 * a resend, duplicate ACKs, windows and zero-window time. Conventions and helpers:
 * conn_helpers.h (client 10.0.0.1, server 10.0.0.2:80, frame k at T0 + k × 10 ms, ISNs CISN and
 * SISN; every non-SYN segment advertises window 502, scaled by 7: 64256 bytes; SYNs 64240). Every
 * expected value is worked out from the frames written. */
#include <criterion/criterion.h>
#include <string.h>

#include "conn_helpers.h"
#include "pktbuild.h"
#include "run.h"
#include "session.h"

/* A capture named name holding a connection from client port sport to the server, its
 * handshake written (frames 0..2). */
static void start(struct cap *c, struct session *s, const char *name, uint16_t sport) {
    cap_open(c, name);
    conn_init(s, c, sport, 80, CISN, SISN);
    session_handshake(s);
}

/* Closes the capture and returns its only connection record. */
static struct json_object *finish(struct cap *c, const struct session *s, struct run *r) {
    conn_done(s);
    cap_close(c);
    return only_record(r, c->path, NULL);
}

/* 0..2 handshake; 3 client 100 bytes, 4 server ACK (ack 101): RTT sample, 10 ms. 5 client 100
 * bytes (timed), 6 the client resends them (seq 101): Karn's rule, no sample from 7's ACK. 8
 * client 100 bytes (timed), 9 client 100 more (not timed: one at a time), 10 server ACK of both
 * (ack 401, past frame 8's end 301): sample 20 ms. 11 server 300 bytes, 12 client ACK: the
 * server's sample, 10 ms. The SYN's round trip is not a sample (handshake.* has it). */
Test(metrics, rtt_samples_follow_karns_rule) {
    struct cap c;
    struct session s;
    struct run r;
    start(&c, &s, "metrics-rtt.pcap", 51000);
    session_data(&s, SESSION_CLIENT, 100);
    session_ack(&s, SESSION_SERVER);
    session_data(&s, SESSION_CLIENT, 100);
    session_write_segment(&s, SESSION_CLIENT, PB_PSH | PB_ACK, CISN + 101, SISN + 1, 100);
    session_ack(&s, SESSION_SERVER);
    session_data(&s, SESSION_CLIENT, 100);
    session_data(&s, SESSION_CLIENT, 100);
    session_ack(&s, SESSION_SERVER);
    session_data(&s, SESSION_SERVER, 300);
    session_ack(&s, SESSION_CLIENT);
    struct json_object *rec = finish(&c, &s, &r);
    expect_int(rec, "orig.metrics.rtt.samples", 2);
    expect_int(rec, "orig.metrics.rtt.min_us", 10000);
    expect_int(rec, "orig.metrics.rtt.avg_us", 15000);
    expect_int(rec, "orig.metrics.rtt.max_us", 20000);
    expect_int(rec, "resp.metrics.rtt.samples", 1);
    expect_int(rec, "resp.metrics.rtt.min_us", 10000);
    expect_int(rec, "resp.metrics.rtt.max_us", 10000);
    /* Frame 6 is a resend by the client (20 ms after the first copy, another IP id). */
    expect_int(rec, "orig.retransmits", 1);
    expect_int(rec, "orig.metrics.resent_segments", 1);
    expect_int(rec, "orig.metrics.duplicate_segments", 0);
    expect_int(rec, "orig.metrics.duplicate_acks", 0);
    /* Largest payloads 100 and 300. Throughput over the duration T0..T12 = 0.12 s: 400
     * distinct bytes → 3333 bytes/s; 300 → 2500. */
    expect_int(rec, "orig.metrics.max_segment", 100);
    expect_int(rec, "resp.metrics.max_segment", 300);
    expect_int(rec, "orig.metrics.throughput_bytes_per_s", 3333);
    expect_int(rec, "resp.metrics.throughput_bytes_per_s", 2500);
    /* Windows: 502 << 7 = 64256 in every segment after the SYN (whose 64240 is never scaled
     * and not counted); both offered scale 7. */
    expect_int(rec, "orig.metrics.window.min", 64256);
    expect_int(rec, "orig.metrics.window.max", 64256);
    expect_int(rec, "orig.metrics.window.scale", 7);
    expect_int(rec, "orig.metrics.window.zero_us", 0);
    run_free(&r);
}

/* 0..2 handshake; 3 client 100 bytes at T3; the same frame again at T3 (same IP id, numbers,
 * timestamps: a copy the capture made, as a SPAN port duplicating does); at T3 + 300 ms the
 * client resends the bytes itself (its retransmission timer: another IP id, another TSval);
 * then the server's ACK. Both repeats count as retransmits (bytes seen before), but only the
 * second was resent by the client: duplicate_segments 1, resent_segments 1. The resend cancels
 * the timing of frame 3 (Karn), so there is no RTT sample; the copy alone would not have. */
Test(metrics, copy_captured_twice_is_not_a_resend) {
    struct cap c;
    struct session s;
    struct run r;
    start(&c, &s, "metrics-copy.pcap", 51001);
    int64_t t3 = T(3);
    session_data(&s, SESSION_CLIENT, 100);
    cap_at(&c, t3);
    s.ip_id[SESSION_CLIENT]--; /* the copy: the identical packet */
    session_write_segment(&s, SESSION_CLIENT, PB_PSH | PB_ACK, CISN + 1, SISN + 1, 100);
    cap_at(&c, t3 + 300 * 1000000);
    session_write_segment(&s, SESSION_CLIENT, PB_PSH | PB_ACK, CISN + 1, SISN + 1, 100);
    session_ack(&s, SESSION_SERVER);
    struct json_object *rec = finish(&c, &s, &r);
    expect_int(rec, "orig.retransmits", 2);
    expect_int(rec, "orig.metrics.duplicate_segments", 1);
    expect_int(rec, "orig.metrics.resent_segments", 1);
    expect_int(rec, "orig.metrics.rtt.samples", 0);
    expect_absent(rec, "orig.metrics.rtt.min_us");
    run_free(&r);
}

/* The same packet twice, then a resend 10 ms later sent with the same IP id but a new TSval (the
 * clock moved on): the 10 ms copy window (5 ms) and the timestamps tell the second from a copy.
 * Near miss for the rule above: only the exact copy within 5 ms counts. */
Test(metrics, resend_soon_after_is_not_a_copy) {
    struct cap c;
    struct session s;
    struct run r;
    start(&c, &s, "metrics-nearcopy.pcap", 51002);
    session_data(&s, SESSION_CLIENT, 100);
    s.ip_id[SESSION_CLIENT]--; /* same IP id; the clock is 10 ms on */
    session_write_segment(&s, SESSION_CLIENT, PB_PSH | PB_ACK, CISN + 1, SISN + 1, 100);
    session_ack(&s, SESSION_SERVER);
    struct json_object *rec = finish(&c, &s, &r);
    expect_int(rec, "orig.metrics.duplicate_segments", 0);
    expect_int(rec, "orig.metrics.resent_segments", 1);
    run_free(&r);
}

/* 0..2 handshake; 3 client 100 bytes; 4, 5, 6 the server ACKs it three times (ack 101, window
 * 502 each): 5 and 6 repeat the last ack and window — two duplicate ACKs (each is its own
 * packet: the IP id counts up and 10 ms pass). 7 and 8 the server advertises a zero window
 * (ack 101): a window change and then a zero window, neither a duplicate ACK. 9 the window opens
 * again (502): a change. Zero window from T7 to T9: 20 ms. resp windows after the SYN/ACK: 64256
 * and 0. */
Test(metrics, duplicate_acks_and_zero_window) {
    struct cap c;
    struct session s;
    struct run r;
    start(&c, &s, "metrics-dupack.pcap", 51003);
    session_data(&s, SESSION_CLIENT, 100);
    for (int i = 0; i < 3; i++)
        session_ack(&s, SESSION_SERVER);
    s.win[SESSION_SERVER] = 0;
    session_ack(&s, SESSION_SERVER);
    session_ack(&s, SESSION_SERVER);
    s.win[SESSION_SERVER] = 502;
    session_ack(&s, SESSION_SERVER);
    struct json_object *rec = finish(&c, &s, &r);
    expect_int(rec, "resp.metrics.duplicate_acks", 2);
    expect_int(rec, "orig.metrics.duplicate_acks", 0);
    expect_int(rec, "resp.metrics.duplicate_segments", 0);
    expect_int(rec, "resp.metrics.window.min", 0);
    expect_int(rec, "resp.metrics.window.max", 64256);
    expect_int(rec, "resp.metrics.window.zero_us", 20000);
    expect_int(rec, "resp.metrics.window.scale", 7);
    /* the one data segment, acknowledged at once by frame 4: one sample of 10 ms */
    expect_int(rec, "orig.metrics.rtt.samples", 1);
    expect_int(rec, "orig.metrics.rtt.avg_us", 10000);
    run_free(&r);
}

/* A zero window still advertised when the input ends counts up to the connection's last packet:
 * 0..2 handshake, 3 server ACK with window 0 at T3, 4 and 5 client pure ACKs (T4, T5): zero for
 * T3..T5 = 20 ms. */
Test(metrics, zero_window_open_at_the_end) {
    struct cap c;
    struct session s;
    struct run r;
    start(&c, &s, "metrics-zero-end.pcap", 51004);
    s.win[SESSION_SERVER] = 0;
    session_ack(&s, SESSION_SERVER);
    session_ack(&s, SESSION_CLIENT);
    session_ack(&s, SESSION_CLIENT);
    struct json_object *rec = finish(&c, &s, &r);
    expect_int(rec, "resp.metrics.window.zero_us", 20000);
    expect_int(rec, "resp.metrics.window.min", 0);
    run_free(&r);
}

/* Throughput is over the sender's bytes by sequence space, the bytes its peer acknowledged
 * though the capture lost them included, rounded to the nearest. 0..2 handshake; 3 client 100
 * bytes (seq 1..100); 4 client 100 bytes at seq 901 (800 bytes between were never captured); 5
 * the server acknowledges all of it (ack 1001); 6 client pure ACK. Duration T0..T6 = 60 ms:
 * 1000 bytes / 0.06 s = 16666.67 → 16667 (counting only the 200 captured bytes would give
 * 3333; cutting the fraction off, 16666). */
Test(metrics, throughput_counts_acknowledged_bytes_and_rounds) {
    struct cap c;
    struct session s;
    struct run r;
    start(&c, &s, "metrics-throughput.pcap", 51005);
    session_data(&s, SESSION_CLIENT, 100);
    session_write_segment(&s, SESSION_CLIENT, PB_PSH | PB_ACK, CISN + 901, SISN + 1, 100);
    session_write_segment(&s, SESSION_SERVER, PB_ACK, SISN + 1, CISN + 1001, 0);
    session_ack(&s, SESSION_CLIENT);
    struct json_object *rec = finish(&c, &s, &r);
    expect_int(rec, "orig.payload_bytes", 200);
    expect_int(rec, "orig.missed_bytes", 800);
    expect_int(rec, "orig.metrics.throughput_bytes_per_s", 16667);
    expect_int(rec, "resp.metrics.throughput_bytes_per_s", 0);
    run_free(&r);
}
