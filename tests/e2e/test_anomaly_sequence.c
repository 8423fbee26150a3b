/* End-to-end tests of the anomaly catalog (issue 4), sequence space and windows: resets outside
 * the receive window (rst_out_of_window), retransmission, out_of_order, segment_out_of_window,
 * segment_not_captured, ack_unseen_segment and zero_window. For each, a capture that triggers it
 * and a near-miss twin that must not. Conventions and helpers: anomaly_helpers.h. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anomaly_helpers.h"
#include "capwrite.h"
#include "pktbuild.h"
#include "run.h"
#include "session.h"

#define WIN_SCALED (502u << 7) /* the receive window of every non-SYN segment: 64256 bytes */
#define WIN_SYN 64240u         /* the window of SYN and SYN/ACK, unscaled (RFC 7323 §2.2) */

/* ==== RST ===================================================================================== */

/* 1..3 handshake, 4 client 100 bytes, 5 server ACK (ack CISN + 101, window 502 << 7 = 64256), so
 * the server accepts a RST with seq in [CISN + 101, CISN + 101 + 64256). Then `rst_seq`. */
static void write_rst_after_data(struct cap *c, struct session *s, uint16_t port, uint32_t rst_seq,
                                 struct mark *rst) {
    conn_init(s, c, port, CISN, SISN);
    handshake(c, s);
    put(c, session_data(s, SESSION_CLIENT, 100));
    put(c, session_ack(s, SESSION_SERVER));
    *rst = put(c, session_write_segment(s, SESSION_CLIENT, PB_RST, rst_seq, 0, 0));
}

/* 6 a RST "from the client" at CISN + 101 + 64256, one past the server's window (a blind
 * injection): rst_out_of_window, originator, frame 6. The server ignores it and the connection
 * goes on: 7 server 50 bytes, 8 ACK, 9..12 client-initiated close. */
Test(rst_out_of_window, trigger_rst_one_past_window) {
    struct cap c;
    struct session s;
    struct mark rst;
    cap_open(&c, "rst-oow.pcap");
    write_rst_after_data(&c, &s, 51140, CISN + 101 + WIN_SCALED, &rst);
    put(&c, session_data(&s, SESSION_SERVER, 50));
    put(&c, session_ack(&s, SESSION_CLIENT));
    close_from(&c, &s, SESSION_CLIENT);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {{.name = "rst_out_of_window", .dir = "orig", .at = rst, .conn = 1}};
    expect_anomalies(&r, w, 1);
    expect_str(conn_by_frame(&r, 1), "close.how", "fin");
    run_free(&r);
}

/* 1 SYN; 2 a RST+ACK "from the server" whose ack is the client's ISN itself, not ISN + 1. A
 * receiver in SYN_SENT drops it (RFC 9293 3.10.7.3: the check that defeats a blind RST racing the
 * SYN/ACK): rst_out_of_window, responder, frame 2 — and since the window played no part, the
 * detail names the ACK that failed, not a window. */
Test(rst_out_of_window, trigger_rst_in_syn_sent_with_wrong_ack) {
    struct cap c;
    struct session s;
    cap_open(&c, "rst-synsent.pcap");
    conn_init(&s, &c, 51150, CISN, SISN);
    put(&c, session_syn(&s));
    struct mark rst =
        put(&c, session_write_segment(&s, SESSION_SERVER, PB_RST | PB_ACK, 0, CISN, 0));
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {{.name = "rst_out_of_window", .dir = "resp", .at = rst, .conn = 1}};
    expect_anomalies(&r, w, 1);
    for (int j = 0; j < r.nanom; j++)
        if (strcmp(json_str_or(r.anom[j], "name"), "rst_out_of_window") == 0)
            cr_expect(strstr(json_str_or(r.anom[j], "detail"), "does not acknowledge the SYN"),
                      "detail: %s", json_str_or(r.anom[j], "detail"));
    run_free(&r);
}

/* Near miss: 6 the RST exactly at the server's next expected byte (CISN + 101): acceptable, the
 * connection ends by RST, nothing raised. */
Test(rst_out_of_window, near_miss_rst_at_next_expected_byte) {
    struct cap c;
    struct session s;
    struct mark rst;
    cap_open(&c, "rst-rcv-nxt.pcap");
    write_rst_after_data(&c, &s, 51141, CISN + 101, &rst);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_not(&r, "rst_out_of_window");
    expect_no_anomalies(&r);
    expect_str(conn_by_frame(&r, 1), "close.how", "rst");
    run_free(&r);
}

/* Near miss: 6 the RST at the window's last byte (CISN + 101 + 64255): still acceptable. */
Test(rst_out_of_window, near_miss_rst_at_last_byte_of_window) {
    struct cap c;
    struct session s;
    struct mark rst;
    cap_open(&c, "rst-win-edge.pcap");
    write_rst_after_data(&c, &s, 51142, CISN + 101 + WIN_SCALED - 1, &rst);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_no_anomalies(&r);
    expect_str(conn_by_frame(&r, 1), "close.how", "rst");
    run_free(&r);
}

/* 1..3 handshake; the server has sent nothing but its SYN/ACK, whose window (64240) is never
 * scaled (RFC 7323 §2.2), and acknowledged CISN + 1: it accepts a RST with seq in
 * [CISN + 1, CISN + 1 + 64240). 4 a RST at CISN + 1 + 64240 is one past it: rst_out_of_window,
 * originator, frame 4. The server drops it; 5 client 100 bytes, 6 ACK, 7..10 close. */
Test(rst_out_of_window, trigger_rst_past_unscaled_synack_window) {
    struct cap c;
    struct session s;
    cap_open(&c, "rst-oow-synack-win.pcap");
    conn_init(&s, &c, 51143, CISN, SISN);
    handshake(&c, &s);
    struct mark rst =
        put(&c, session_write_segment(&s, SESSION_CLIENT, PB_RST, CISN + 1 + WIN_SYN, 0, 0));
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_ack(&s, SESSION_SERVER));
    close_from(&c, &s, SESSION_CLIENT);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {{.name = "rst_out_of_window", .dir = "orig", .at = rst, .conn = 1}};
    expect_anomalies(&r, w, 1);
    cr_expect_eq(r.nconn, 1, "%d records: the ignored RST must not end the connection", r.nconn);
    run_free(&r);
}

/* ==== sequence space ========================================================================== */

/* 1..3 handshake, 4 client bytes 1..100, 5 and 6 the same bytes again, 7 ACK, 8..11 close. */
static const struct cap *write_retransmission(void) {
    static struct cap c;
    struct session s;
    cap_open(&c, "retx.pcap");
    conn_init(&s, &c, 51160, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_write_segment(&s, SESSION_CLIENT, PB_PSH | PB_ACK, CISN + 1, SISN + 1, 100));
    put(&c, session_write_segment(&s, SESSION_CLIENT, PB_PSH | PB_ACK, CISN + 1, SISN + 1, 100));
    put(&c, session_ack(&s, SESSION_SERVER));
    close_from(&c, &s, SESSION_CLIENT);
    cap_close(&c);
    return &c;
}

/* Frames 5 and 6 hold only bytes already seen: two retransmissions, one record (the first, at
 * frame 5), the connection and the summary counting 2. */
Test(retransmission, trigger_data_resent_twice) {
    const struct cap *c = write_retransmission();
    struct run r;
    run_cap(&r, c, NULL);
    struct want w[] = {
        {.name = "retransmission", .dir = "orig", .at = {5, T0 + 4 * STEP}, .conn = 1, .count = 2}};
    expect_anomalies(&r, w, 1);
    expect_int(conn_by_frame(&r, 1), "orig.retransmits", 2);
    run_free(&r);
}

/* Near miss of out_of_order: a plain retransmission fills no gap: no out_of_order. */
Test(out_of_order, near_miss_plain_retransmission) {
    const struct cap *c = write_retransmission();
    struct run r;
    run_cap(&r, c, NULL);
    expect_not(&r, "out_of_order");
    run_free(&r);
}

/* 1..3 handshake, 4 client bytes 101..200 (bytes 1..100 not seen yet: a gap —
 * segment_not_captured, frame 4), 5 bytes 1..100 (sent before, captured after: fill the gap —
 * out_of_order, frame 5), 6 ACK of all 200, 7..10 close. */
static const struct cap *write_out_of_order(void) {
    static struct cap c;
    struct session s;
    cap_open(&c, "ooo.pcap");
    conn_init(&s, &c, 51161, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_write_segment(&s, SESSION_CLIENT, PB_PSH | PB_ACK, CISN + 101, SISN + 1, 100));
    put(&c, session_write_segment(&s, SESSION_CLIENT, PB_PSH | PB_ACK, CISN + 1, SISN + 1, 100));
    s.snd_nxt[SESSION_CLIENT] = CISN + 201;
    put(&c, session_ack(&s, SESSION_SERVER));
    close_from(&c, &s, SESSION_CLIENT);
    cap_close(&c);
    return &c;
}

Test(out_of_order, trigger_segment_fills_gap) {
    const struct cap *c = write_out_of_order();
    struct run r;
    run_cap(&r, c, NULL);
    struct want w[] = {
        {.name = "segment_not_captured", .dir = "orig", .at = {4, T0 + 3 * STEP}, .conn = 1},
        {.name = "out_of_order", .dir = "orig", .at = {5, T0 + 4 * STEP}, .conn = 1},
    };
    expect_anomalies(&r, w, 2);
    expect_int(conn_by_frame(&r, 1), "orig.retransmits", 0);
    run_free(&r);
}

/* Near miss of retransmission: the segment that fills the gap was never seen before: no
 * retransmission. */
Test(retransmission, near_miss_segment_fills_gap) {
    const struct cap *c = write_out_of_order();
    struct run r;
    run_cap(&r, c, NULL);
    expect_not(&r, "retransmission");
    run_free(&r);
}

/* Near miss: keep-alives. 1..3 handshake, 4 client 100 bytes, 5 ACK; 6 a keep-alive of no byte
 * at seq = snd_nxt − 1 (Linux), 7 the server's ACK, 8 a keep-alive of one byte at snd_nxt − 1
 * (the last byte again: Windows, BSD), 9 ACK, 10..13 close. Neither is a retransmission:
 * nothing at all. */
Test(retransmission, near_miss_keepalives) {
    struct cap c;
    struct session s;
    cap_open(&c, "keepalive.pcap");
    conn_init(&s, &c, 51162, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_ack(&s, SESSION_SERVER));
    put(&c, session_write_segment(&s, SESSION_CLIENT, PB_ACK, CISN + 100, SISN + 1, 0));
    put(&c, session_ack(&s, SESSION_SERVER));
    put(&c, session_write_segment(&s, SESSION_CLIENT, PB_ACK, CISN + 100, SISN + 1, 1));
    put(&c, session_ack(&s, SESSION_SERVER));
    close_from(&c, &s, SESSION_CLIENT);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_not(&r, "retransmission");
    expect_no_anomalies(&r);
    expect_int(conn_by_frame(&r, 1), "orig.retransmits", 0);
    run_free(&r);
}

/* 1..3 handshake, 4 client 100 bytes, 5 server ACK with window 0; 6 a zero-window probe (the
 * next byte, CISN + 101, one byte), 7 the server's ACK, still window 0 (the byte is not
 * accepted: ack stays CISN + 101), 8 the same probe again, 9 ACK with window 0. */
static void write_zero_window_probes(struct cap *c, struct session *s, uint16_t port) {
    conn_init(s, c, port, CISN, SISN);
    handshake(c, s);
    put(c, session_data(s, SESSION_CLIENT, 100));
    s->win[SESSION_SERVER] = 0;
    put(c, session_ack(s, SESSION_SERVER));
    for (int i = 0; i < 2; i++) {
        put(c, session_write_segment(s, SESSION_CLIENT, PB_ACK, CISN + 101, SISN + 1, 1));
        put(c, session_write_segment(s, SESSION_SERVER, PB_ACK, SISN + 1, CISN + 101, 0));
    }
}

/* Near miss: the probes (frames 6 and 8, the second resending the first's byte) are neither
 * retransmissions; the server's three window-0 ACKs are zero_window (responder, first at frame
 * 5, count 3). The input ends at frame 9, all within the answer grace (the probe byte, never
 * acknowledged, is not judged). */
Test(retransmission, near_miss_zero_window_probes) {
    struct cap c;
    struct session s;
    cap_open(&c, "zwp.pcap");
    write_zero_window_probes(&c, &s, 51163);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_not(&r, "retransmission");
    struct want w[] = {
        {.name = "zero_window", .dir = "resp", .at = {5, T0 + 4 * STEP}, .conn = 1, .count = 3}};
    expect_anomalies(&r, w, 1);
    run_free(&r);
}

/* The zero-window episode of the previous test, then the window opens: 10 the server's window
 * update (window 502, ack CISN + 101: the probe byte was never accepted), 11 the client sends
 * its data from snd_una, CISN + 101 (100 bytes, the probe's byte first — it was never
 * delivered), 12 ACK, 13..16 close. The probe was not data (tcp_conn.c, account_segment:
 * probes "are neither data nor retransmissions"), so frame 11 sends no byte twice: no
 * retransmission; only the three zero_window ACKs. */
Test(retransmission, near_miss_data_resuming_after_zero_window_probes) {
    struct cap c;
    struct session s;
    cap_open(&c, "zwp-reopen.pcap");
    write_zero_window_probes(&c, &s, 51164);
    s.win[SESSION_SERVER] = 502;
    put(&c, session_write_segment(&s, SESSION_SERVER, PB_ACK, SISN + 1, CISN + 101, 0));
    put(&c, session_write_segment(&s, SESSION_CLIENT, PB_PSH | PB_ACK, CISN + 101, SISN + 1, 100));
    s.snd_nxt[SESSION_CLIENT] = CISN + 201;
    put(&c, session_ack(&s, SESSION_SERVER));
    close_from(&c, &s, SESSION_CLIENT);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_not(&r, "retransmission");
    struct want w[] = {
        {.name = "zero_window", .dir = "resp", .at = {5, T0 + 4 * STEP}, .conn = 1, .count = 3}};
    expect_anomalies(&r, w, 1);
    expect_int(conn_by_frame(&r, 1), "orig.retransmits", 0);
    expect_int(conn_by_frame(&r, 1), "orig.payload_bytes", 200);
    run_free(&r);
}

/* 1..3 handshake, 4 client bytes 1..100, 5 the server's ACK; 6 100 bytes "from the client" at
 * 2^31 - 1 past its next byte (a forged sequence number: the segment would end 2^31 + 99 ahead,
 * within 16 MiB of 2^31): segment_out_of_window, originator, frame 6, left out of the byte
 * accounting; 7 client 50 real bytes, 8 ACK, 9..12 client-initiated close. Nothing else: no gap,
 * no missed bytes (the server never acknowledged the forged bytes), 150 payload bytes. */
Test(segment_out_of_window, trigger_forged_jump_near_2_to_the_31) {
    struct cap c;
    struct session s;
    cap_open(&c, "seq-oow.pcap");
    conn_init(&s, &c, 51160, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_ack(&s, SESSION_SERVER));
    struct mark f = put(&c, session_write_segment(&s, SESSION_CLIENT, PB_PSH | PB_ACK,
                                                  s.snd_nxt[SESSION_CLIENT] + 0x7fffffffu,
                                                  s.snd_nxt[SESSION_SERVER], 100));
    put(&c, session_data(&s, SESSION_CLIENT, 50));
    put(&c, session_ack(&s, SESSION_SERVER));
    close_from(&c, &s, SESSION_CLIENT);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {{.name = "segment_out_of_window", .dir = "orig", .at = f, .conn = 1}};
    expect_anomalies(&r, w, 1);
    expect_str(conn_by_frame(&r, 1), "close.how", "fin");
    cr_expect_eq(json_int_at(conn_by_frame(&r, 1), "orig.missed_bytes"), 0);
    cr_expect_eq(json_int_at(conn_by_frame(&r, 1), "orig.payload_bytes"), 150);
    run_free(&r);
}

/* Near miss: a real capture gap of 1.5 GiB. 4 client bytes 1..100; the next 1.5 GiB were sent
 * but never captured; 5 100 bytes past them: segment_not_captured (a gap, not a forgery); 6 the
 * server acknowledges everything: ack_unseen_segment. No segment_out_of_window. */
Test(segment_out_of_window, near_miss_gigabyte_capture_gap) {
    struct cap c;
    struct session s;
    cap_open(&c, "seq-biggap.pcap");
    conn_init(&s, &c, 51161, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    s.snd_nxt[SESSION_CLIENT] += 0x60000000u; /* 1.5 GiB lost from the capture */
    struct mark d = put(&c, session_data(&s, SESSION_CLIENT, 100));
    struct mark a = put(&c, session_ack(&s, SESSION_SERVER));
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {{.name = "segment_not_captured", .dir = "orig", .at = d, .conn = 1},
                       {.name = "ack_unseen_segment", .dir = "resp", .at = a, .conn = 1}};
    expect_anomalies(&r, w, 2);
    expect_not(&r, "segment_out_of_window");
    run_free(&r);
}

/* 1..3 handshake, 4 client bytes 1..100; bytes 101..200 are sent but never captured; 5 client
 * bytes 201..300 — past the next expected byte: segment_not_captured, originator, frame 5; 6 the
 * server's duplicate ACK of 101 (it is missing the same bytes). The input ends there, 60 ms
 * after the data: within the answer grace, nothing judged. */
Test(segment_not_captured, trigger_gap_in_data) {
    struct cap c;
    struct session s;
    cap_open(&c, "gap.pcap");
    conn_init(&s, &c, 51170, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    s.snd_nxt[SESSION_CLIENT] += 100; /* lost from the capture */
    struct mark d = put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_write_segment(&s, SESSION_SERVER, PB_ACK, SISN + 1, CISN + 101, 0));
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {{.name = "segment_not_captured", .dir = "orig", .at = d, .conn = 1}};
    expect_anomalies(&r, w, 1);
    run_free(&r);
}

/* Near miss: a connection picked up mid-stream — what came before the capture started is no
 * gap. 1 client 100 bytes at CISN + 5000, 2 server 50 bytes (ack of them), 3 client ACK,
 * 4 client FIN|ACK, 5 server FIN|ACK acknowledging it, 6 client ACK: nothing at all. */
Test(segment_not_captured, near_miss_midstream_pickup) {
    struct cap c;
    struct session s;
    cap_open(&c, "midstream.pcap");
    conn_init(&s, &c, 51171, CISN, SISN);
    s.snd_nxt[SESSION_CLIENT] = CISN + 5000;
    s.snd_nxt[SESSION_SERVER] = SISN + 9000;
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_data(&s, SESSION_SERVER, 50));
    put(&c, session_ack(&s, SESSION_CLIENT));
    put(&c, session_segment(&s, SESSION_CLIENT, PB_FIN | PB_ACK, 0));
    put(&c, session_segment(&s, SESSION_SERVER, PB_FIN | PB_ACK, 0));
    put(&c, session_ack(&s, SESSION_CLIENT));
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_not(&r, "segment_not_captured");
    expect_no_anomalies(&r);
    run_free(&r);
}

/* 1..3 handshake, 4 client bytes 1..100; bytes 101..200 never captured; 5 the server's ACK of
 * all 200 — acknowledging bytes the capture never saw: ack_unseen_segment, responder (the side
 * that acknowledges), frame 5; 6..9 client-initiated close (its FIN after byte 200). */
Test(ack_unseen_segment, trigger_ack_beyond_captured_data) {
    struct cap c;
    struct session s;
    cap_open(&c, "ack-unseen.pcap");
    conn_init(&s, &c, 51180, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    s.snd_nxt[SESSION_CLIENT] += 100; /* lost from the capture */
    struct mark a = put(&c, session_ack(&s, SESSION_SERVER));
    close_from(&c, &s, SESSION_CLIENT);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {{.name = "ack_unseen_segment", .dir = "resp", .at = a, .conn = 1}};
    expect_anomalies(&r, w, 1);
    expect_int(conn_by_frame(&r, 1), "orig.missed_bytes", 100);
    run_free(&r);
}

/* 1..3 handshake, 4 bytes 1..100, (101..200 never captured), 5 bytes 201..300
 * (segment_not_captured, frame 5), 6 the server's ACK of all 300 passes the gap:
 * ack_unseen_segment, responder, frame 6; 7..10 close. */
Test(ack_unseen_segment, trigger_ack_passes_gap) {
    struct cap c;
    struct session s;
    cap_open(&c, "ack-passes-gap.pcap");
    conn_init(&s, &c, 51181, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    s.snd_nxt[SESSION_CLIENT] += 100; /* lost from the capture */
    struct mark d = put(&c, session_data(&s, SESSION_CLIENT, 100));
    struct mark a = put(&c, session_ack(&s, SESSION_SERVER));
    close_from(&c, &s, SESSION_CLIENT);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {
        {.name = "segment_not_captured", .dir = "orig", .at = d, .conn = 1},
        {.name = "ack_unseen_segment", .dir = "resp", .at = a, .conn = 1},
    };
    expect_anomalies(&r, w, 2);
    run_free(&r);
}

/* Near miss: the same, but 6 the missing bytes 101..200 are captured after all (reordered)
 * before 7 the server's ACK of 300: the ACK covers only bytes seen. segment_not_captured (frame
 * 5) and out_of_order (frame 6), no ack_unseen_segment. */
Test(ack_unseen_segment, near_miss_gap_filled_before_ack) {
    struct cap c;
    struct session s;
    cap_open(&c, "gap-filled.pcap");
    conn_init(&s, &c, 51182, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    struct mark d = put(
        &c, session_write_segment(&s, SESSION_CLIENT, PB_PSH | PB_ACK, CISN + 201, SISN + 1, 100));
    struct mark fill = put(
        &c, session_write_segment(&s, SESSION_CLIENT, PB_PSH | PB_ACK, CISN + 101, SISN + 1, 100));
    s.snd_nxt[SESSION_CLIENT] = CISN + 301;
    put(&c, session_ack(&s, SESSION_SERVER));
    close_from(&c, &s, SESSION_CLIENT);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_not(&r, "ack_unseen_segment");
    struct want w[] = {
        {.name = "segment_not_captured", .dir = "orig", .at = d, .conn = 1},
        {.name = "out_of_order", .dir = "orig", .at = fill, .conn = 1},
    };
    expect_anomalies(&r, w, 2);
    expect_int(conn_by_frame(&r, 1), "orig.missed_bytes", 0);
    run_free(&r);
}

/* ==== windows ================================================================================= */

/* 1..3 handshake, 4 client 100 bytes, 5 the server's ACK advertising window 0 (its buffer is
 * full): zero_window, responder, frame 5. 6 its window update (502), 7 client 100 bytes, 8 ACK,
 * 9..12 close. */
Test(zero_window, trigger_window_zero_advertised) {
    struct cap c;
    struct session s;
    cap_open(&c, "zero-window.pcap");
    conn_init(&s, &c, 51190, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    s.win[SESSION_SERVER] = 0;
    struct mark z = put(&c, session_ack(&s, SESSION_SERVER));
    s.win[SESSION_SERVER] = 502;
    put(&c, session_ack(&s, SESSION_SERVER));
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_ack(&s, SESSION_SERVER));
    close_from(&c, &s, SESSION_CLIENT);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {{.name = "zero_window", .dir = "resp", .at = z, .conn = 1}};
    expect_anomalies(&r, w, 1);
    run_free(&r);
}

/* Near miss: 1..3 handshake, 4 data, 5 ACK, 6 the server's RST|ACK with window 0 (as stacks send
 * it): a RST advertises no receive window, so no zero_window; the RST (at the server's next
 * byte) is acceptable: nothing at all. */
Test(zero_window, near_miss_rst_with_window_zero) {
    struct cap c;
    struct session s;
    cap_open(&c, "rst-win0.pcap");
    conn_init(&s, &c, 51191, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_ack(&s, SESSION_SERVER));
    s.win[SESSION_SERVER] = 0;
    put(&c, session_rst(&s, SESSION_SERVER));
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_not(&r, "zero_window");
    expect_no_anomalies(&r);
    run_free(&r);
}
