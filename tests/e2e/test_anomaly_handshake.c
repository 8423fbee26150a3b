/* End-to-end tests of the anomaly catalog (issue 4), opening a connection: syn_unanswered,
 * synack_unanswered, synack_bad_ack, handshake_bad_ack, syn_isn_changed, syn_on_established,
 * simultaneous_open, and flag combinations no stack sends (invalid_flags). For each, a capture
 * that triggers it and a near-miss twin that must not. Conventions and helpers:
 * anomaly_helpers.h. */
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

/* ==== handshake =============================================================================== */

/* 1 SYN 10.0.0.1:51000 -> :80 at T0, nothing back; 5 s later the filler (frames 2..12). The
 * connection is still open at the end of the input (30 s handshake timeout not reached); its SYN
 * is 5 s older than the last packet, past the 1 s answer grace, so it is judged: neither SYN/ACK
 * nor RST came → syn_unanswered, originator, frame 1 (the connection's last packet), at the
 * time of the last packet of the capture. */
Test(syn_unanswered, trigger_lone_syn_at_capture_end) {
    struct cap c;
    struct session s;
    cap_open(&c, "syn-unanswered.pcap");
    conn_init(&s, &c, 51000, CISN, SISN);
    struct mark syn = put(&c, session_syn(&s));
    struct span f = filler(&c, 51001, syn.ts + 5 * SEC);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {
        {.name = "syn_unanswered", .dir = "orig", .at = {syn.frame, f.last.ts}, .conn = 1}};
    expect_anomalies(&r, w, 1);
    expect_str(conn_by_frame(&r, 1), "close.how", "capture_end");
    run_free(&r);
}

/* The same lone SYN, but the filler starts 31 s later: at its first packet the handshake
 * timeout (30 s) expires the SYN's connection, which is judged then (a timeout is not the end of
 * the input: no grace) → syn_unanswered at frame 1 with the time of frame 2, the packet whose
 * arrival expired it. */
Test(syn_unanswered, trigger_lone_syn_handshake_timeout) {
    struct cap c;
    struct session s;
    cap_open(&c, "syn-unanswered-timeout.pcap");
    conn_init(&s, &c, 51002, CISN, SISN);
    struct mark syn = put(&c, session_syn(&s));
    struct span f = filler(&c, 51003, syn.ts + 31 * SEC);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {
        {.name = "syn_unanswered", .dir = "orig", .at = {syn.frame, f.first.ts}, .conn = 1}};
    expect_anomalies(&r, w, 1);
    expect_str(conn_by_frame(&r, 1), "close.how", "timeout");
    run_free(&r);
}

/* Near miss: 1 SYN, 2 RST|ACK from the server (ack = CISN + 1: the refusal of a closed port),
 * filler 5 s later. The SYN was answered — by a RST — so no syn_unanswered (Zeek REJ), and a
 * single refused port is no port scan: nothing at all. */
Test(syn_unanswered, near_miss_syn_answered_by_rst) {
    struct cap c;
    struct session s;
    cap_open(&c, "syn-rst.pcap");
    conn_init(&s, &c, 51004, CISN, SISN);
    struct mark syn = put(&c, session_syn(&s));
    put(&c, session_rst(&s, SESSION_SERVER));
    filler(&c, 51005, syn.ts + 5 * SEC);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_not(&r, "syn_unanswered");
    expect_no_anomalies(&r);
    expect_str(conn_by_frame(&r, 1), "conn_state", "REJ");
    run_free(&r);
}

/* Near miss: the lone SYN at T0, then a filler that ends 0.9 s later (it starts at T0 + 0.8 s):
 * at the end of the input the SYN is within the 1 s answer grace — its answer may simply not
 * have been captured — so it is not judged. */
Test(syn_unanswered, near_miss_syn_within_answer_grace) {
    struct cap c;
    struct session s;
    cap_open(&c, "syn-grace.pcap");
    conn_init(&s, &c, 51006, CISN, SISN);
    struct mark syn = put(&c, session_syn(&s));
    struct span f = filler(&c, 51007, syn.ts + 800 * (SEC / 1000));
    cr_assert_lt(f.last.ts - syn.ts, SEC);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_no_anomalies(&r);
    run_free(&r);
}

/* 1 SYN, 2 SYN/ACK, then the client never acknowledges it; filler 5 s later. The responder sits
 * in SYN_RECEIVED: synack_unanswered, responder, frame 2, at the end. The SYN itself was
 * answered (no syn_unanswered). */
Test(synack_unanswered, trigger_synack_never_acknowledged) {
    struct cap c;
    struct session s;
    cap_open(&c, "synack-unanswered.pcap");
    conn_init(&s, &c, 51010, CISN, SISN);
    put(&c, session_syn(&s));
    struct mark sa = put(&c, session_syn_ack(&s));
    struct span f = filler(&c, 51011, sa.ts + 5 * SEC);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {
        {.name = "synack_unanswered", .dir = "resp", .at = {sa.frame, f.last.ts}, .conn = 1}};
    expect_anomalies(&r, w, 1);
    run_free(&r);
}

/* Near miss: 1 SYN, 2 SYN/ACK, the client's handshake ACK is lost from the capture, but 3 the
 * client's first data (ack = SISN + 1) acknowledges the SYN/ACK; 4 the server ACKs the data;
 * filler 5 s later. The SYN/ACK was acknowledged and the data too: nothing. */
Test(synack_unanswered, near_miss_synack_acknowledged_by_data) {
    struct cap c;
    struct session s;
    cap_open(&c, "synack-acked-by-data.pcap");
    conn_init(&s, &c, 51012, CISN, SISN);
    put(&c, session_syn(&s));
    put(&c, session_syn_ack(&s));
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    struct mark ack = put(&c, session_ack(&s, SESSION_SERVER));
    filler(&c, 51013, ack.ts + 5 * SEC);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_not(&r, "synack_unanswered");
    expect_no_anomalies(&r);
    run_free(&r);
}

/* 1 SYN (ISN CISN), 2 SYN/ACK acknowledging CISN + 1000 — not ISN + 1 — and 3 the client's RST
 * with seq = that ack (RFC 9293 §3.10.7.3: an unacceptable ACK in SYN-SENT is answered
 * <SEQ=SEG.ACK><CTL=RST>). synack_bad_ack, responder, frame 2. The RST falls in the window the
 * server offered from CISN + 1000 (its last ack) and closes the connection; nothing else. */
Test(synack_bad_ack, trigger_synack_acks_wrong_number) {
    struct cap c;
    struct session s;
    cap_open(&c, "synack-bad-ack.pcap");
    conn_init(&s, &c, 51020, CISN, SISN);
    put(&c, session_syn(&s));
    struct mark sa =
        put(&c, session_write_segment(&s, SESSION_SERVER, PB_SYN | PB_ACK, SISN, CISN + 1000, 0));
    put(&c, session_write_segment(&s, SESSION_CLIENT, PB_RST, CISN + 1000, 0, 0));
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {{.name = "synack_bad_ack", .dir = "resp", .at = sa, .conn = 1}};
    expect_anomalies(&r, w, 1);
    expect_str(conn_by_frame(&r, 1), "close.how", "rst");
    run_free(&r);
}

/* Near miss (TCP Fast Open, RFC 7413): 1 SYN carrying 20 bytes, 2 SYN/ACK acknowledging them
 * (ack = CISN + 21), 3 ACK, 4 server 100 bytes, 5 client ACK, 6..9 client-initiated close. The
 * SYN/ACK acknowledges exactly what the SYN sent: not a bad ack; nothing at all. */
Test(synack_bad_ack, near_miss_tfo_syn_data_acknowledged) {
    struct cap c;
    struct session s;
    cap_open(&c, "tfo.pcap");
    conn_init(&s, &c, 51021, CISN, SISN);
    put(&c, session_segment(&s, SESSION_CLIENT, PB_SYN, 20));
    put(&c, session_syn_ack(&s));
    cr_assert_eq(s.snd_nxt[SESSION_CLIENT], CISN + 21);
    put(&c, session_ack(&s, SESSION_CLIENT));
    put(&c, session_data(&s, SESSION_SERVER, 100));
    put(&c, session_ack(&s, SESSION_CLIENT));
    close_from(&c, &s, SESSION_CLIENT);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_not(&r, "synack_bad_ack");
    expect_no_anomalies(&r);
    expect_int(conn_by_frame(&r, 1), "orig.payload_bytes", 20);
    run_free(&r);
}

/* 1 SYN, 2 SYN/ACK, 3 the client's ACK acknowledging SISN + 1000 (not the SYN/ACK's ISN + 1),
 * 4 the server's RST with seq = that ack (RFC 9293: an unacceptable ACK in SYN-RECEIVED is
 * answered <SEQ=SEG.ACK><CTL=RST>). handshake_bad_ack, originator, frame 3; the RST lies at the
 * client's last ack, in its window, and closes the connection. */
Test(handshake_bad_ack, trigger_ack_of_wrong_number) {
    struct cap c;
    struct session s;
    cap_open(&c, "handshake-bad-ack.pcap");
    conn_init(&s, &c, 51030, CISN, SISN);
    put(&c, session_syn(&s));
    put(&c, session_syn_ack(&s));
    struct mark ack =
        put(&c, session_write_segment(&s, SESSION_CLIENT, PB_ACK, CISN + 1, SISN + 1000, 0));
    put(&c, session_write_segment(&s, SESSION_SERVER, PB_RST, SISN + 1000, 0, 0));
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {{.name = "handshake_bad_ack", .dir = "orig", .at = ack, .conn = 1}};
    expect_anomalies(&r, w, 1);
    expect_str(conn_by_frame(&r, 1), "close.how", "rst");
    run_free(&r);
}

/* Near miss: 1 SYN, 2 SYN/ACK carrying 5 bytes (server data in the SYN/ACK), 3 the client's ACK
 * acknowledging them too (SISN + 6: past the ISN, not beyond what was sent), 4 client 100 bytes,
 * 5 ACK, 6..9 client-initiated close. A correct handshake ACK: nothing at all. */
Test(handshake_bad_ack, near_miss_ack_covers_synack_data) {
    struct cap c;
    struct session s;
    cap_open(&c, "synack-data.pcap");
    conn_init(&s, &c, 51031, CISN, SISN);
    put(&c, session_syn(&s));
    put(&c, session_segment(&s, SESSION_SERVER, PB_SYN | PB_ACK, 5));
    put(&c, session_ack(&s, SESSION_CLIENT));
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_ack(&s, SESSION_SERVER));
    close_from(&c, &s, SESSION_CLIENT);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_not(&r, "handshake_bad_ack");
    expect_no_anomalies(&r);
    run_free(&r);
}

/* 1 SYN with ISN CISN; 1 s later 2 a SYN with a new ISN (CISN2) on the same ports (the client
 * gave up the first attempt); 3 SYN/ACK acknowledging CISN2 + 1, 4 ACK, 5 data, 6 ACK, 7..10
 * close. syn_isn_changed, originator, frame 2; the handshake then completes on the new ISN. */
Test(syn_isn_changed, trigger_new_isn_before_handshake) {
    struct cap c;
    struct session s;
    const uint32_t cisn2 = 0x18000000u;
    cap_open(&c, "isn-changed.pcap");
    conn_init(&s, &c, 51040, CISN, SISN);
    struct mark syn = put(&c, session_syn(&s));
    cap_at(&c, syn.ts + SEC);
    s.snd_nxt[SESSION_CLIENT] = cisn2;
    struct mark syn2 = put(&c, session_syn(&s));
    put(&c, session_syn_ack(&s));
    put(&c, session_ack(&s, SESSION_CLIENT));
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_ack(&s, SESSION_SERVER));
    close_from(&c, &s, SESSION_CLIENT);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {{.name = "syn_isn_changed", .dir = "orig", .at = syn2, .conn = 1}};
    expect_anomalies(&r, w, 1);
    expect_str(conn_by_frame(&r, 1), "close.how", "fin");
    run_free(&r);
}

/* Near miss: the same, but 2 repeats the SYN with the same ISN (the client's SYN retransmission
 * timer): a retransmission (originator, frame 2), not syn_isn_changed. */
Test(syn_isn_changed, near_miss_syn_retransmitted_same_isn) {
    struct cap c;
    struct session s;
    cap_open(&c, "syn-retx.pcap");
    conn_init(&s, &c, 51041, CISN, SISN);
    struct mark syn = put(&c, session_syn(&s));
    cap_at(&c, syn.ts + SEC);
    struct mark syn2 = put(&c, session_write_segment(&s, SESSION_CLIENT, PB_SYN, CISN, 0, 0));
    put(&c, session_syn_ack(&s));
    put(&c, session_ack(&s, SESSION_CLIENT));
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_ack(&s, SESSION_SERVER));
    close_from(&c, &s, SESSION_CLIENT);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_not(&r, "syn_isn_changed");
    struct want w[] = {{.name = "retransmission", .dir = "orig", .at = syn2, .conn = 1}};
    expect_anomalies(&r, w, 1);
    run_free(&r);
}

/* 1..3 handshake, 4 client 100 bytes, 5 ACK; 6 a SYN from the client with a new ISN inside the
 * established connection (a rebooted client reusing its port); 7 the server's challenge ACK
 * (RFC 5961 §4: ack = CISN + 101), 8 the new client's RST at seq = that ack — exactly the
 * server's next expected byte, so acceptable: the connection ends by RST. syn_on_established,
 * originator, frame 6. */
Test(syn_on_established, trigger_new_syn_in_established_connection) {
    struct cap c;
    struct session s;
    cap_open(&c, "syn-on-established.pcap");
    conn_init(&s, &c, 51050, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_ack(&s, SESSION_SERVER));
    struct mark syn =
        put(&c, session_write_segment(&s, SESSION_CLIENT, PB_SYN, CISN + 0x01000000u, 0, 0));
    put(&c, session_ack(&s, SESSION_SERVER));
    put(&c, session_write_segment(&s, SESSION_CLIENT, PB_RST, CISN + 101, 0, 0));
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {{.name = "syn_on_established", .dir = "orig", .at = syn, .conn = 1}};
    expect_anomalies(&r, w, 1);
    expect_str(conn_by_frame(&r, 1), "close.how", "rst");
    run_free(&r);
}

/* Near miss: 1..3 handshake, 4 the server's SYN/ACK again with the same ISN (it did not see the
 * handshake ACK yet), 5 the client's ACK again, 6 data, 7 ACK, 8..11 close. A SYN/ACK resent
 * with its ISN is a retransmission (responder, frame 4), not a SYN on an established
 * connection. */
Test(syn_on_established, near_miss_synack_retransmitted_same_isn) {
    struct cap c;
    struct session s;
    cap_open(&c, "synack-retx.pcap");
    conn_init(&s, &c, 51051, CISN, SISN);
    handshake(&c, &s);
    struct mark sa =
        put(&c, session_write_segment(&s, SESSION_SERVER, PB_SYN | PB_ACK, SISN, CISN + 1, 0));
    put(&c, session_ack(&s, SESSION_CLIENT));
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_ack(&s, SESSION_SERVER));
    close_from(&c, &s, SESSION_CLIENT);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_not(&r, "syn_on_established");
    struct want w[] = {{.name = "retransmission", .dir = "resp", .at = sa, .conn = 1}};
    expect_anomalies(&r, w, 1);
    run_free(&r);
}

/* RFC 9293 §3.5 figure 8: 1 client SYN (CISN), 2 server SYN (SISN) crossing it, 3 client
 * SYN/ACK (seq CISN, ack SISN + 1), 4 server SYN/ACK (seq SISN, ack CISN + 1): each side's
 * SYN,ACK is the SYN-RECEIVED answer the RFC prescribes (not a retransmission: it is how a
 * simultaneous open proceeds). Then 5 client 100 bytes, 6 ACK, 7..10 client-initiated close.
 * simultaneous_open, responder (its SYN crossed the client's), frame 2; nothing else. */
Test(simultaneous_open, trigger_crossing_syns) {
    struct cap c;
    struct session s;
    cap_open(&c, "simultaneous-open.pcap");
    conn_init(&s, &c, 51060, CISN, SISN);
    put(&c, session_syn(&s));
    struct mark ssyn = put(&c, session_write_segment(&s, SESSION_SERVER, PB_SYN, SISN, 0, 0));
    s.snd_nxt[SESSION_SERVER] = SISN + 1;
    put(&c, session_write_segment(&s, SESSION_CLIENT, PB_SYN | PB_ACK, CISN, SISN + 1, 0));
    put(&c, session_write_segment(&s, SESSION_SERVER, PB_SYN | PB_ACK, SISN, CISN + 1, 0));
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_ack(&s, SESSION_SERVER));
    close_from(&c, &s, SESSION_CLIENT);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {{.name = "simultaneous_open", .dir = "resp", .at = ssyn, .conn = 1}};
    expect_anomalies(&r, w, 1);
    run_free(&r);
}

/* Near miss: the capture shows the server's SYN/ACK (frame 1) before the client's SYN (frame 2)
 * it answers — reordered, not crossing SYNs — then 3 ACK, 4 data, 5 ACK, 6..9 close. Only one
 * side sent a bare SYN: no simultaneous open, and the late SYN is the handshake's first packet
 * (no retransmission): nothing at all. */
Test(simultaneous_open, near_miss_reordered_handshake) {
    struct cap c;
    struct session s;
    cap_open(&c, "reordered.pcap");
    conn_init(&s, &c, 51061, CISN, SISN);
    put(&c, session_write_segment(&s, SESSION_SERVER, PB_SYN | PB_ACK, SISN, CISN + 1, 0));
    s.snd_nxt[SESSION_SERVER] = SISN + 1;
    put(&c, session_syn(&s));
    put(&c, session_ack(&s, SESSION_CLIENT));
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_ack(&s, SESSION_SERVER));
    close_from(&c, &s, SESSION_CLIENT);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_not(&r, "simultaneous_open");
    expect_no_anomalies(&r);
    run_free(&r);
}

/* ==== flags =================================================================================== */

/* 1..3 handshake, 4 data, 5 ACK, 6 a segment from the client with no flag at all (a NULL-scan
 * probe), 7..10 client-initiated close. invalid_flags, originator, frame 6. */
Test(invalid_flags, trigger_null_flags_segment) {
    struct cap c;
    struct session s;
    cap_open(&c, "null-flags.pcap");
    conn_init(&s, &c, 51070, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_ack(&s, SESSION_SERVER));
    struct mark null =
        put(&c, session_write_segment(&s, SESSION_CLIENT, 0, s.snd_nxt[SESSION_CLIENT], 0, 0));
    close_from(&c, &s, SESSION_CLIENT);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {{.name = "invalid_flags", .dir = "orig", .at = null, .conn = 1}};
    expect_anomalies(&r, w, 1);
    run_free(&r);
}

/* A lone SYN+FIN (the classic scanner's combination) as the last packet of the input:
 * invalid_flags, originator, frame 1. (Its SYN is within the answer grace: not judged.) */
Test(invalid_flags, trigger_syn_fin) {
    struct cap c;
    struct session s;
    cap_open(&c, "syn-fin.pcap");
    conn_init(&s, &c, 51071, CISN, SISN);
    struct mark sf = put(&c, session_segment(&s, SESSION_CLIENT, PB_SYN | PB_FIN, 0));
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {{.name = "invalid_flags", .dir = "orig", .at = sf, .conn = 1}};
    expect_anomalies(&r, w, 1);
    run_free(&r);
}

/* Near miss: flags a stack does send, with PSH, ECE, CWR and URG about: 1 SYN|ECE|CWR (ECN
 * setup), 2 SYN|ACK|ECE, 3 ACK, 4 PSH|ACK 100 bytes, 5 ACK|ECE (congestion echo), 6 PSH|ACK|CWR
 * 100 bytes, 7 ACK, 8 URG|PSH|ACK 10 bytes, 9 ACK, 10..13 close. All on the whitelist:
 * nothing. */
Test(invalid_flags, near_miss_ecn_and_urgent) {
    struct cap c;
    struct session s;
    cap_open(&c, "ecn.pcap");
    conn_init(&s, &c, 51072, CISN, SISN);
    put(&c, session_segment(&s, SESSION_CLIENT, PB_SYN | PB_ECE | PB_CWR, 0));
    put(&c, session_segment(&s, SESSION_SERVER, PB_SYN | PB_ACK | PB_ECE, 0));
    put(&c, session_ack(&s, SESSION_CLIENT));
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_segment(&s, SESSION_SERVER, PB_ACK | PB_ECE, 0));
    put(&c, session_segment(&s, SESSION_CLIENT, PB_PSH | PB_ACK | PB_CWR, 100));
    put(&c, session_ack(&s, SESSION_SERVER));
    put(&c, session_segment(&s, SESSION_CLIENT, PB_URG | PB_PSH | PB_ACK, 10));
    put(&c, session_ack(&s, SESSION_SERVER));
    close_from(&c, &s, SESSION_CLIENT);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_not(&r, "invalid_flags");
    expect_no_anomalies(&r);
    run_free(&r);
}
