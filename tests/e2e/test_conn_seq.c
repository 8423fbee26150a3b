/* End-to-end tests of connection tracking (issue 3), sequence space: wraparound,
 * retransmissions, bytes missing from the capture and overlapping segments, and what they do to
 * the payload and missed byte counts. Conventions and helpers: conn_helpers.h. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capwrite.h"
#include "conn_helpers.h"
#include "pktbuild.h"
#include "run.h"
#include "session.h"

/* ==== sequence space ========================================================================== */

/* Client ISN 0xFFFFFF00, server ISN 0xFFFFFFF0. The client sends 100 bytes (seq 0xFFFFFF01 ..
 * 0xFFFFFF64), 200 bytes from 0xFFFFFF65 that run past 2^32 (the last at 0x0000002C), then 100
 * bytes wholly after the wrap (0x0000002D .. 0x00000090); the server sends 100 bytes from
 * 0xFFFFFFF1 (crossing zero after 15 bytes), then 50 from 0x00000055.
 * Frames: 0..2 handshake, 3..5 client data, 6 server ACK, 7..8 server data, 9 client ACK,
 * 10..13 client-initiated close. */
Test(seq, wraparound) {
    struct cap c;
    struct session s;
    cap_open(&c, "wrap.pcap");
    conn_init(&s, &c, 50300, 80, 0xFFFFFF00u, 0xFFFFFFF0u);
    session_handshake(&s);
    session_data(&s, SESSION_CLIENT, 100);
    session_data(&s, SESSION_CLIENT, 200);
    cr_assert_eq(s.snd_nxt[SESSION_CLIENT], 0x0000002Du, "the client's bytes crossed zero");
    session_data(&s, SESSION_CLIENT, 100);
    session_ack(&s, SESSION_SERVER);
    session_data(&s, SESSION_SERVER, 100);
    cr_assert_eq(s.snd_nxt[SESSION_SERVER], 0x00000055u, "the server's bytes crossed zero");
    session_data(&s, SESSION_SERVER, 50);
    session_ack(&s, SESSION_CLIENT);
    session_close(&s, SESSION_CLIENT);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* Every byte sent once, in order: exact payload counts (the segments after the wrap are new
     * bytes, not old ones), nothing retransmitted or missed, and the FINs (past the wrap)
     * acknowledged → SF, fin. */
    expect_conn(rec, "SF", "ShADadFf", "fin");
    expect_payload(rec, 400, 150);
    expect_int(rec, "orig.retransmits", 0);
    expect_int(rec, "orig.retransmitted_bytes", 0);
    expect_int(rec, "resp.retransmits", 0);
    expect_int(rec, "resp.retransmitted_bytes", 0);
    expect_int(rec, "orig.missed_bytes", 0);
    expect_int(rec, "resp.missed_bytes", 0);
    expect_states(rec, "TIME_WAIT", "CLOSED");
    /* orig: SYN 60, ACK 52, 152, 252, 152, ACK 52, FIN 52, ACK 52 = 8, 824;
     * resp: SYN/ACK 60, ACK 52, 152, 102, ACK 52, FIN 52 = 6, 470. */
    expect_counts(rec, 8, 824, 6, 470);
    run_free(&r);
}

/* 0 SYN, 1 SYN/ACK, 2 ACK, 3 client 100 bytes, 4 the same 100 bytes again (same seq), 5 server
 * ACK, 6..9 client-initiated close. */
Test(seq, retransmitted_segment) {
    struct cap c;
    struct session s;
    cap_open(&c, "retx.pcap");
    conn_init(&s, &c, 50301, 80, CISN, SISN);
    session_handshake(&s);
    session_data(&s, SESSION_CLIENT, 100);
    session_write_segment(&s, SESSION_CLIENT, PB_PSH | PB_ACK, CISN + 1, SISN + 1, 100);
    session_ack(&s, SESSION_SERVER);
    session_close(&s, SESSION_CLIENT);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* Frame 4 covers only bytes already seen: one retransmission of 100 bytes; the payload is
     * counted once. History: D for the first copy, T for the retransmission. */
    expect_conn(rec, "SF", "ShADTaFf", "fin");
    expect_int(rec, "orig.retransmits", 1);
    expect_int(rec, "orig.retransmitted_bytes", 100);
    expect_payload(rec, 100, 0);
    expect_int(rec, "orig.missed_bytes", 0);
    expect_int(rec, "resp.retransmits", 0);
    /* orig: SYN 60, ACK 52, 152, 152, FIN 52, ACK 52 = 6, 520; resp: SYN/ACK 60, ACK 52,
     * ACK 52, FIN 52 = 4, 216. */
    expect_counts(rec, 6, 520, 4, 216);
    run_free(&r);
}

/* 0 SYN, 1 SYN/ACK, 2 ACK, 3 client bytes 1..100; bytes 101..200 are sent but not captured;
 * 4 client bytes 201..300; 5 server ACK of all 300; 6..9 client-initiated close. */
Test(seq, capture_gap_is_missed) {
    struct cap c;
    struct session s;
    cap_open(&c, "gap.pcap");
    conn_init(&s, &c, 50302, 80, CISN, SISN);
    session_handshake(&s);
    session_data(&s, SESSION_CLIENT, 100);
    s.snd_nxt[SESSION_CLIENT] += 100; /* the segment the capture lost */
    session_data(&s, SESSION_CLIENT, 100);
    session_ack(&s, SESSION_SERVER);
    session_close(&s, SESSION_CLIENT);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* The server's ACK (frame 5) covers bytes 101..200 that were never captured: 100 missed
     * bytes (a content gap, history G after the a of that ACK); the 200 captured bytes are the
     * payload; nothing was sent twice. */
    expect_int(rec, "orig.missed_bytes", 100);
    expect_payload(rec, 200, 0);
    expect_int(rec, "orig.retransmits", 0);
    expect_int(rec, "orig.retransmitted_bytes", 0);
    expect_conn(rec, "SF", "ShADaGFf", "fin");
    /* orig: SYN 60, ACK 52, 152, 152, FIN 52, ACK 52 = 6, 520. */
    expect_counts(rec, 6, 520, 4, 216);
    run_free(&r);
}

/* 0 SYN, 1 SYN/ACK, 2 ACK, 3 client bytes 1..100; bytes 101..200 are sent but not captured;
 * 4 server ACK of all 200; then nothing (open at EOF). */
Test(seq, capture_gap_at_end_is_missed) {
    struct cap c;
    struct session s;
    cap_open(&c, "gap-end.pcap");
    conn_init(&s, &c, 50303, 80, CISN, SISN);
    session_handshake(&s);
    session_data(&s, SESSION_CLIENT, 100);
    s.snd_nxt[SESSION_CLIENT] += 100; /* the last segment, lost */
    session_ack(&s, SESSION_SERVER);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* The ACK acknowledges 100 bytes beyond anything captured from the client: missed. */
    expect_int(rec, "orig.missed_bytes", 100);
    expect_payload(rec, 100, 0);
    expect_int(rec, "orig.retransmits", 0);
    expect_conn(rec, "S1", "ShADa", "capture_end");
    run_free(&r);
}

/* 0 SYN, 1 SYN/ACK, 2 ACK, 3 client bytes 1..100; bytes 101..200 sent but not captured; 4 the
 * client's FIN|ACK (seq = CISN + 201, after the lost bytes); 5 server ACK of the FIN (ack =
 * CISN + 202); 6 server FIN|ACK; 7 client ACK. */
Test(seq, capture_gap_before_fin_is_missed) {
    struct cap c;
    struct session s;
    cap_open(&c, "gap-fin.pcap");
    conn_init(&s, &c, 50304, 80, CISN, SISN);
    session_handshake(&s);
    session_data(&s, SESSION_CLIENT, 100);
    s.snd_nxt[SESSION_CLIENT] += 100; /* the segment the capture lost */
    session_segment(&s, SESSION_CLIENT, PB_FIN | PB_ACK, 0);
    session_ack(&s, SESSION_SERVER);
    session_segment(&s, SESSION_SERVER, PB_FIN | PB_ACK, 0);
    session_ack(&s, SESSION_CLIENT);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* The FIN sits at relative position 201, so positions 101..200 were sent before it; the
     * server's ACK of the FIN acknowledges them, and they were never captured: 100 missed bytes,
     * exactly as in capture_gap_is_missed where a data segment rather than the FIN follows the
     * hole (Zeek: the ACK passes a hole → content gap of 100). */
    expect_int(rec, "orig.missed_bytes", 100);
    expect_payload(rec, 100, 0);
    expect_conn(rec, "SF", "ShADFaGf", "fin");
    run_free(&r);
}

/* 0 SYN, 1 SYN/ACK, 2 ACK, 3 client bytes 1..100, 4 client bytes 51..150 (50 old, 50 new),
 * 5 server ACK of 150; open at EOF. */
Test(seq, partial_overlap) {
    struct cap c;
    struct session s;
    cap_open(&c, "overlap.pcap");
    conn_init(&s, &c, 50305, 80, CISN, SISN);
    session_handshake(&s);
    session_data(&s, SESSION_CLIENT, 100);
    session_write_segment(&s, SESSION_CLIENT, PB_PSH | PB_ACK, CISN + 51, SISN + 1, 100);
    s.snd_nxt[SESSION_CLIENT] = CISN + 151;
    session_ack(&s, SESSION_SERVER);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* 150 distinct bytes; 50 of frame 4's were sent before. */
    expect_payload(rec, 150, 0);
    expect_int(rec, "orig.retransmitted_bytes", 50);
    expect_int(rec, "orig.missed_bytes", 0);
    /* Zeek's T is for a payload segment whose end is not past the highest byte already seen;
     * an overlap that also extends past it is not a T (reference, history table): S h A D a. */
    expect_conn(rec, "S1", "ShADa", "capture_end");
    run_free(&r);
}

/* Frames 0..7 of the client-close exchange, the client's FIN|ACK again (same seq, ack), then
 * server ACK, server FIN|ACK, client ACK. */
Test(seq, retransmitted_fin) {
    struct cap c;
    struct session s;
    cap_open(&c, "fin-retx.pcap");
    conn_init(&s, &c, 50306, 80, CISN, SISN);
    standard_exchange(&s, 100, 200, SESSION_CLIENT, 7);
    uint32_t cf = s.snd_nxt[SESSION_CLIENT], ack = s.snd_nxt[SESSION_SERVER];
    session_segment(&s, SESSION_CLIENT, PB_FIN | PB_ACK, 0);                /* 7 */
    session_write_segment(&s, SESSION_CLIENT, PB_FIN | PB_ACK, cf, ack, 0); /* 8: again */
    session_ack(&s, SESSION_SERVER);
    session_segment(&s, SESSION_SERVER, PB_FIN | PB_ACK, 0);
    session_ack(&s, SESSION_CLIENT);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* The second FIN is at the same position: no second F, one retransmission of no payload. */
    expect_conn(rec, "SF", "ShADadFf", "fin");
    expect_int(rec, "orig.retransmits", 1);
    expect_int(rec, "orig.retransmitted_bytes", 0);
    expect_payload(rec, 100, 200);
    expect_states(rec, "TIME_WAIT", "CLOSED");
    /* orig: 420 of the ordinary close plus the second FIN, 52 → 7, 472. */
    expect_counts(rec, 7, 472, 5, 468);
    run_free(&r);
}
