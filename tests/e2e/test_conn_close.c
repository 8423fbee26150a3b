/* End-to-end tests of connection tracking (issue 3), how a connection ends: one scenario per close
 * kind (FIN from either side or both, RST from either side, half-closed, the idle, handshake and
 * closing timeouts, the end of the capture, eviction from a full table), and the endpoint states
 * midway through a simultaneous close. Conventions and helpers: conn_helpers.h. */
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

/* ==== close kinds ============================================================================= */

/* The standard exchange, client closing: frames 0 SYN, 1 SYN/ACK, 2 ACK, 3 client 100 bytes,
 * 4 ACK, 5 server 200 bytes, 6 ACK, 7 client FIN|ACK, 8 server ACK, 9 server FIN|ACK,
 * 10 client ACK. */
Test(close, fin_client_closes_first) {
    struct cap c;
    struct session s;
    cap_open(&c, "fin-client.pcap");
    conn_init(&s, &c, 50000, 80, CISN, SISN);
    standard_exchange(&s, 100, 200, SESSION_CLIENT, 11);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* History: S (SYN), h (SYN/ACK), A (first pure ACK), D (client data), a (server's first pure
     * ACK), d (server data); frame 6's ACK repeats A (once per direction); F (client FIN), frame
     * 8's ACK repeats a, f (server FIN), frame 10 repeats A. Both sides FIN → Zeek SF. Frame 10
     * acknowledges the server's FIN (ack = FIN seq + 1) after frame 8 acknowledged the client's:
     * both FINs acknowledged, so the close completes as "fin", initiated by the originator. */
    expect_conn(rec, "SF", "ShADadFf", "fin");
    expect_str(rec, "close.initiator", "orig");
    /* The client sent its FIN before acknowledging the server's (active closer); its FIN is
     * acknowledged (frame 8) and it acknowledged the server's FIN (frame 10) → TIME_WAIT. The
     * server's FIN answered the client's (passive closer) and frame 10 acknowledged it →
     * CLOSED. */
    expect_states(rec, "TIME_WAIT", "CLOSED");
    /* orig: SYN 60, ACK 52, data 52+100, ACK 52, FIN 52, ACK 52 = 6 packets, 420 bytes.
     * resp: SYN/ACK 60, ACK 52, data 52+200, ACK 52, FIN 52 = 5 packets, 468 bytes. */
    expect_counts(rec, 6, 420, 5, 468);
    expect_payload(rec, 100, 200);
    expect_str(rec, "src_ip", "10.0.0.1");
    expect_int(rec, "src_port", 50000);
    expect_str(rec, "dest_ip", "10.0.0.2");
    expect_int(rec, "dest_port", 80);
    expect_int(rec, "ip_version", 4);
    /* SYN at T(0), SYN/ACK at T(1), ACK at T(2): 10 ms = 10000 µs each. */
    expect_bool(rec, "handshake.observed", true);
    expect_bool(rec, "handshake.completed", true);
    expect_bool(rec, "handshake.simultaneous_open", false);
    expect_int(rec, "handshake.syn_to_synack_us", 10000);
    expect_int(rec, "handshake.synack_to_ack_us", 10000);
    expect_bool(rec, "midstream", false);
    /* First packet T(0), last T(10) (the final ACK closes it). */
    expect_time(rec, "ts", T(0));
    expect_time(rec, "end_ts", T(10));
    expect_time(rec, "duration", 10 * STEP);
    expect_int(rec, "first_frame", 1);
    expect_int(rec, "orig.retransmits", 0);
    expect_int(rec, "resp.retransmits", 0);
    expect_int(rec, "orig.missed_bytes", 0);
    expect_int(rec, "resp.missed_bytes", 0);
    /* SYN options as session.h writes them: MSS 1460, window scale 7, SACK, timestamps. */
    expect_int(rec, "orig.options.mss", 1460);
    expect_int(rec, "resp.options.window_scale", 7);
    expect_bool(rec, "orig.options.sack_permitted", true);
    expect_bool(rec, "resp.options.timestamps", true);
    run_free(&r);
}

/* The same exchange with the server closing first: 7 server FIN|ACK, 8 client ACK, 9 client
 * FIN|ACK, 10 server ACK. */
Test(close, fin_server_closes_first) {
    struct cap c;
    struct session s;
    cap_open(&c, "fin-server.pcap");
    conn_init(&s, &c, 50001, 80, CISN, SISN);
    standard_exchange(&s, 100, 200, SESSION_SERVER, 11);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* Letters as in the client-close case, but the server's f comes before the client's F. */
    expect_conn(rec, "SF", "ShADadfF", "fin");
    expect_str(rec, "close.initiator", "resp");
    /* The server's FIN came first (active closer): acknowledged at frame 8, and it acknowledged
     * the client's FIN at frame 10 → TIME_WAIT. The client's FIN followed its ACK of the
     * server's FIN (passive closer) and was acknowledged at frame 10 → CLOSED. */
    expect_states(rec, "CLOSED", "TIME_WAIT");
    /* orig: SYN 60, ACK 52, data 152, ACK 52, ACK 52, FIN 52 = 6, 420;
     * resp: SYN/ACK 60, ACK 52, data 252, FIN 52, ACK 52 = 5, 468. */
    expect_counts(rec, 6, 420, 5, 468);
    expect_time(rec, "end_ts", T(10));
    run_free(&r);
}

/* A three-way close: 7 client FIN|ACK, 8 server FIN|ACK whose ack already covers the client's
 * FIN, 9 client ACK. */
Test(close, fin_ack_shortcut) {
    struct cap c;
    struct session s;
    cap_open(&c, "fin-3way.pcap");
    conn_init(&s, &c, 50002, 80, CISN, SISN);
    standard_exchange(&s, 100, 200, SESSION_CLIENT, 8);      /* frames 0..7 */
    session_segment(&s, SESSION_SERVER, PB_FIN | PB_ACK, 0); /* 8: acks client FIN + its own */
    session_ack(&s, SESSION_CLIENT);                         /* 9: acks the server's FIN */
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    expect_conn(rec, "SF", "ShADadFf", "fin");
    expect_str(rec, "close.initiator", "orig");
    /* Frame 8 acknowledges the client's FIN in the very packet that carries the server's FIN:
     * the server had received the client's FIN before sending its own, so it is the passive
     * closer, and frame 9 acknowledges its FIN → CLOSED. The client (active) has its FIN
     * acknowledged and acknowledged the server's → TIME_WAIT. */
    expect_states(rec, "TIME_WAIT", "CLOSED");
    /* orig: SYN, ACK, data 100, ACK, FIN, ACK = 6 pkts, 420; resp: SYN/ACK, ACK, data 200, FIN
     * = 4 pkts, 60 + 52 + 252 + 52 = 416. */
    expect_counts(rec, 6, 420, 4, 416);
    expect_time(rec, "end_ts", T(9));
    run_free(&r);
}

/* Crossing FINs: 7 client FIN|ACK (seq cf), 8 server FIN|ACK whose ack is cf (it has not seen
 * the client's FIN), 9 client ACK of the server's FIN, 10 server ACK of the client's FIN.
 * frames says how many are written in all: 9 (up to both FINs), 10 or 11. */
static void write_simultaneous_close(struct cap *c, uint16_t port, int frames) {
    struct session s;
    conn_init(&s, c, port, 80, CISN, SISN);
    standard_exchange(&s, 100, 200, SESSION_CLIENT, 7); /* frames 0..6 */
    uint32_t cfin = s.snd_nxt[SESSION_CLIENT];
    session_segment(&s, SESSION_CLIENT, PB_FIN | PB_ACK, 0); /* 7 */
    uint32_t sfin = s.snd_nxt[SESSION_SERVER];
    session_write_segment(&s, SESSION_SERVER, PB_FIN | PB_ACK, sfin, cfin, 0); /* 8 */
    s.snd_nxt[SESSION_SERVER] = sfin + 1;
    if (frames > 9)
        session_ack(&s, SESSION_CLIENT); /* 9: ack = sfin + 1 */
    if (frames > 10)
        session_ack(&s, SESSION_SERVER); /* 10: ack = cfin + 1 */
    conn_done(&s);
}

Test(close, simultaneous_fin) {
    struct cap c;
    cap_open(&c, "simfin.pcap");
    write_simultaneous_close(&c, 50003, 11);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* Each side sent its FIN before acknowledging the other's (frame 8's ack = the client's FIN
     * sequence number, not past it): both are active closers → "simultaneous_fin"; the first
     * FIN was the client's. Frames 9 and 10 acknowledge both FINs (ack = FIN seq + 1), so both
     * active closers have their FIN acknowledged and acknowledged the peer's → both TIME_WAIT.
     * History: F then f; the two final ACKs repeat A / a. Both closed → SF. */
    expect_conn(rec, "SF", "ShADadFf", "simultaneous_fin");
    expect_str(rec, "close.initiator", "orig");
    expect_states(rec, "TIME_WAIT", "TIME_WAIT");
    /* 6 / 5 packets with the same sizes as the ordinary close: 420 / 468. */
    expect_counts(rec, 6, 420, 5, 468);
    expect_time(rec, "end_ts", T(10));
    run_free(&r);
}

/* The same crossing FINs, capture cut before the close completes (no close yet: capture_end). */
Test(endpoint_state, simultaneous_close_intermediate) {
    struct cap c;
    cap_open(&c, "simfin8.pcap");
    write_simultaneous_close(&c, 50004, 9);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* Frames 0..8: both FINs sent, neither acknowledged by anyone (frame 8's ack stops at the
     * client's FIN): each side has sent a FIN with no evidence yet of the other's → both
     * FIN_WAIT_1. Zeek: both endpoints CLOSED → SF. */
    expect_conn(rec, "SF", "ShADadFf", "capture_end");
    expect_states(rec, "FIN_WAIT_1", "FIN_WAIT_1");
    expect_str(rec, "close.initiator", "orig");
    run_free(&r);

    cap_open(&c, "simfin9.pcap");
    write_simultaneous_close(&c, 50005, 10);
    cap_close(&c);
    rec = only_record(&r, c.path, NULL);
    /* Frame 9: the client acknowledges the server's FIN while its own FIN is still
     * unacknowledged — RFC 793's CLOSING (FIN_WAIT_1 + FIN received). The server's FIN is now
     * acknowledged but the server has not yet acknowledged the client's FIN: FIN_WAIT_2 (the
     * one-packet lag of inferring receipt from the receiver's own ACK, docs/schema.md "TCP
     * endpoint states"). */
    expect_conn(rec, "SF", "ShADadFf", "capture_end");
    expect_states(rec, "CLOSING", "FIN_WAIT_2");
    run_free(&r);
}

/* 0 SYN, 1 SYN/ACK, 2 ACK, 3 client 100 bytes, 4 server ACK, 5 client RST|ACK. */
Test(close, rst_from_orig) {
    struct cap c;
    struct session s;
    cap_open(&c, "rsto.pcap");
    conn_init(&s, &c, 50010, 80, CISN, SISN);
    standard_exchange(&s, 100, 0, SESSION_CLIENT, 5);
    session_rst(&s, SESSION_CLIENT); /* seq = the client's next sequence number: acceptable */
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* Established (S h A), data D, ACK a, then the originator's R: Zeek orig RESET, resp
     * ESTABLISHED → RSTO. A reset connection is gone on both sides: CLOSED, CLOSED. */
    expect_conn(rec, "RSTO", "ShADaR", "rst");
    expect_str(rec, "close.initiator", "orig");
    expect_states(rec, "CLOSED", "CLOSED");
    /* orig: SYN 60, ACK 52, data 152, RST 40 = 4, 304; resp: SYN/ACK 60, ACK 52 = 2, 112. */
    expect_counts(rec, 4, 304, 2, 112);
    expect_payload(rec, 100, 0);
    expect_time(rec, "end_ts", T(5));
    run_free(&r);
}

/* 0 SYN, 1 SYN/ACK, 2 ACK, 3 client 100 bytes, 4 server RST|ACK. */
Test(close, rst_from_resp) {
    struct cap c;
    struct session s;
    cap_open(&c, "rstr.pcap");
    conn_init(&s, &c, 50011, 80, CISN, SISN);
    standard_exchange(&s, 100, 0, SESSION_CLIENT, 4);
    session_rst(&s, SESSION_SERVER);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* Zeek: resp RESET, orig ESTABLISHED → RSTR. */
    expect_conn(rec, "RSTR", "ShADr", "rst");
    expect_str(rec, "close.initiator", "resp");
    expect_states(rec, "CLOSED", "CLOSED");
    /* orig: SYN 60, ACK 52, data 152 = 3, 264; resp: SYN/ACK 60, RST 40 = 2, 100. */
    expect_counts(rec, 3, 264, 2, 100);
    run_free(&r);
}

/* Connection A (port 50020): frames 0..6 = SYN, SYN/ACK, ACK, client 100 bytes, server ACK,
 * client FIN|ACK, server ACK; the server never closes. At T0 + 20 s a SYN on port 50021 moves
 * capture time past --half-closed-timeout 5. */
Test(close, half_closed) {
    struct cap c;
    struct session s;
    cap_open(&c, "half.pcap");
    conn_init(&s, &c, 50020, 80, CISN, SISN);
    standard_exchange(&s, 100, 0, SESSION_CLIENT, 5);        /* 0..4 */
    session_segment(&s, SESSION_CLIENT, PB_FIN | PB_ACK, 0); /* 5 */
    session_ack(&s, SESSION_SERVER);                         /* 6 */
    conn_done(&s);
    lone_syn(&c, 50021, T0 + 20 * SEC);
    cap_close(&c);
    const char *opts[] = {"--half-closed-timeout", "5", NULL};
    struct run r;
    run_capture(&r, c.path, opts);
    cr_assert_eq(r.n, 2);
    /* A expires when the packet 20 s later arrives (20 s > 5 s of silence after one FIN), so
     * it is reported before B, which is still open at the end of the capture. */
    struct json_object *a = r.rec[0], *b = r.rec[1];
    expect_int(a, "src_port", 50020);
    expect_int(b, "src_port", 50021);
    /* One FIN (the client's), acknowledged; the server stayed open: Zeek orig CLOSED, resp
     * ESTABLISHED → S2. Client: active closer, FIN acknowledged, no FIN from the peer →
     * FIN_WAIT_2; server: acknowledged the client's FIN, sent none → CLOSE_WAIT. */
    expect_conn(a, "S2", "ShADaF", "half_closed");
    expect_str(a, "close.initiator", "orig");
    expect_states(a, "FIN_WAIT_2", "CLOSE_WAIT");
    /* end_ts is A's own last packet (frame 6), not the time it expired. */
    expect_time(a, "ts", T(0));
    expect_time(a, "end_ts", T(6));
    expect_time(a, "duration", 6 * STEP);
    /* orig: SYN 60, ACK 52, data 152, FIN 52 = 4, 316; resp: SYN/ACK 60, ACK 52, ACK 52 = 3,
     * 164. */
    expect_counts(a, 4, 316, 3, 164);
    expect_conn(b, "S0", "S", "capture_end");
    expect_time(b, "ts", T0 + 20 * SEC);
    run_free(&r);
}

/* Frames 0..6 (SYN … client ACK of the server's 200 bytes), then nothing from it; a SYN on
 * another port 20 s later, --idle-timeout 5. */
Test(close, idle_timeout) {
    struct cap c;
    struct session s;
    cap_open(&c, "idle.pcap");
    conn_init(&s, &c, 50030, 80, CISN, SISN);
    standard_exchange(&s, 100, 200, SESSION_CLIENT, 7);
    conn_done(&s);
    lone_syn(&c, 50031, T0 + 20 * SEC);
    cap_close(&c);
    const char *opts[] = {"--idle-timeout", "5", NULL};
    struct run r;
    run_capture(&r, c.path, opts);
    cr_assert_eq(r.n, 2);
    struct json_object *a = r.rec[0];
    expect_int(a, "src_port", 50030);
    /* Established, no FIN or RST, idle 20 s > 5 s → timeout; Zeek S1 (both ESTABLISHED). */
    expect_conn(a, "S1", "ShADad", "timeout");
    expect_states(a, "ESTABLISHED", "ESTABLISHED");
    expect_absent(a, "close.initiator"); /* nobody closed it */
    expect_time(a, "end_ts", T(6));
    expect_int(r.rec[1], "src_port", 50031);
    run_free(&r);
}

/* A lone SYN, then a SYN on another port 20 s later, --handshake-timeout 5. */
Test(close, handshake_timeout) {
    struct cap c;
    cap_open(&c, "hs-timeout.pcap");
    lone_syn(&c, 50040, T0);
    lone_syn(&c, 50041, T0 + 20 * SEC);
    cap_close(&c);
    const char *opts[] = {"--handshake-timeout", "5", NULL};
    struct run r;
    run_capture(&r, c.path, opts);
    cr_assert_eq(r.n, 2);
    /* The first SYN's connection never completed its handshake and is silent for 20 s > 5 s. */
    expect_int(r.rec[0], "src_port", 50040);
    expect_conn(r.rec[0], "S0", "S", "timeout");
    expect_int(r.rec[1], "src_port", 50041);
    expect_conn(r.rec[1], "S0", "S", "capture_end");
    run_free(&r);
}

/* Frames 0..9 of the client-close exchange (both FINs, the client's final ACK missing), then a
 * SYN on another port 20 s later, --closing-timeout 5. */
Test(close, closing_timeout) {
    struct cap c;
    struct session s;
    cap_open(&c, "closing.pcap");
    conn_init(&s, &c, 50050, 80, CISN, SISN);
    standard_exchange(&s, 100, 200, SESSION_CLIENT, 10);
    conn_done(&s);
    lone_syn(&c, 50051, T0 + 20 * SEC);
    cap_close(&c);
    const char *opts[] = {"--closing-timeout", "5", NULL};
    struct run r;
    run_capture(&r, c.path, opts);
    cr_assert_eq(r.n, 2);
    struct json_object *a = r.rec[0];
    expect_int(a, "src_port", 50050);
    /* Both FINs sent (Zeek: both CLOSED → SF) but the server's FIN is never acknowledged: the
     * close does not complete and the connection expires. Client: active closer, FIN
     * acknowledged (frame 8), server's FIN not acknowledged → FIN_WAIT_2; server: passive
     * closer, FIN unacknowledged → LAST_ACK. */
    expect_conn(a, "SF", "ShADadFf", "timeout");
    expect_str(a, "close.initiator", "orig");
    expect_states(a, "FIN_WAIT_2", "LAST_ACK");
    expect_time(a, "end_ts", T(9));
    run_free(&r);
}

/* Frames 0..6 and the end of the file. */
Test(close, capture_end) {
    struct cap c;
    struct session s;
    cap_open(&c, "eof.pcap");
    conn_init(&s, &c, 50060, 80, CISN, SISN);
    standard_exchange(&s, 100, 200, SESSION_CLIENT, 7);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* Still open at EOF: capture_end. Handshake and data both ways, no close → S1. */
    expect_conn(rec, "S1", "ShADad", "capture_end");
    expect_states(rec, "ESTABLISHED", "ESTABLISHED");
    /* orig: SYN 60, ACK 52, data 152, ACK 52 = 4, 316; resp: SYN/ACK 60, ACK 52, data 252 = 3,
     * 364. */
    expect_counts(rec, 4, 316, 3, 364);
    expect_payload(rec, 100, 200);
    expect_time(rec, "end_ts", T(6));
    run_free(&r);
}

/* --max-flows 2, three connections at once. A (50070): handshake at frames 0..2; B (50071): a
 * SYN at frame 3, unanswered so far; A sends 100 bytes at frame 4; C (50072): SYN at frame 5
 * (table full), SYN/ACK 6, ACK 7. A started first, but B has been silent longest. */
Test(close, evicted_least_recently_active) {
    struct cap c;
    struct session a, b, cc;
    cap_open(&c, "evict.pcap");
    conn_init(&a, &c, 50070, 80, 0x11000000u, 0x21000000u);
    conn_init(&b, &c, 50071, 80, 0x12000000u, 0x22000000u);
    conn_init(&cc, &c, 50072, 80, 0x13000000u, 0x23000000u);
    session_handshake(&a);                 /* 0..2 */
    session_syn(&b);                       /* 3 */
    session_data(&a, SESSION_CLIENT, 100); /* 4 */
    session_handshake(&cc);                /* 5..7 */
    conn_done(&a);
    conn_done(&b);
    conn_done(&cc);
    cap_close(&c);
    const char *opts[] = {"--max-flows", "2", NULL};
    struct run r;
    run_capture(&r, c.path, opts);
    /* Three connections, each reported exactly once (check_run: distinct uids, totals). */
    cr_assert_eq(r.n, 3);
    /* C's SYN finds the table full (A and B). B's last packet is frame 3, A's frame 4: B is the
     * least recently active (though created after A) and is reported as evicted at once, before
     * anything else. A and C are open at the end of the capture, reported in the order they
     * started. */
    expect_int(r.rec[0], "src_port", 50071);
    expect_int(r.rec[1], "src_port", 50070);
    expect_int(r.rec[2], "src_port", 50072);
    /* B: a lone SYN (S0), as it was when evicted. */
    expect_conn(r.rec[0], "S0", "S", "evicted");
    expect_states(r.rec[0], "SYN_SENT", "LISTEN");
    expect_time(r.rec[0], "end_ts", T(3));
    expect_counts(r.rec[0], 1, IP_SYN, 0, 0);
    /* A: SYN 60, ACK 52, data 152 = 3, 264; SYN/ACK 60 = 1, 60. */
    expect_conn(r.rec[1], "S1", "ShAD", "capture_end");
    expect_counts(r.rec[1], 3, 264, 1, IP_SYN);
    expect_payload(r.rec[1], 100, 0);
    expect_conn(r.rec[2], "S1", "ShA", "capture_end");
    expect_int(r.summary, "connections.by_close.evicted", 1);
    expect_int(r.summary, "connections.by_close.capture_end", 2);
    /* Never more than two at once: the table's limit. */
    expect_int(r.summary, "connections.peak_open", 2);
    run_free(&r);
}

/* --max-flows 2. A (50075): the whole client-close exchange, frames 0..10 (closed, remembered
 * for TIME_WAIT); B (50076): handshake, frames 11..13; C (50077): SYN at frame 14. */
Test(close, time_wait_entry_goes_before_eviction) {
    struct cap c;
    struct session a, b, cc;
    cap_open(&c, "evict-tw.pcap");
    conn_init(&a, &c, 50075, 80, 0x14000000u, 0x24000000u);
    conn_init(&b, &c, 50076, 80, 0x15000000u, 0x25000000u);
    conn_init(&cc, &c, 50077, 80, 0x16000000u, 0x26000000u);
    standard_exchange(&a, 100, 200, SESSION_CLIENT, 11);
    session_handshake(&b);
    session_syn(&cc);
    conn_done(&a);
    conn_done(&b);
    conn_done(&cc);
    cap_close(&c);
    const char *opts[] = {"--max-flows", "2", NULL};
    struct run r;
    run_capture(&r, c.path, opts);
    /* A was reported at its close (frame 10). When C needs room, A's remembered entry is
     * forgotten rather than B evicted (man page, --max-flows): no "evicted" at all. */
    cr_assert_eq(r.n, 3);
    expect_int(r.rec[0], "src_port", 50075);
    expect_conn(r.rec[0], "SF", "ShADadFf", "fin");
    expect_int(r.rec[1], "src_port", 50076);
    expect_conn(r.rec[1], "S1", "ShA", "capture_end");
    expect_int(r.rec[2], "src_port", 50077);
    expect_conn(r.rec[2], "S0", "S", "capture_end");
    expect_absent(r.summary, "connections.by_close.evicted");
    run_free(&r);
}
