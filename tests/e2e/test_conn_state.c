/* End-to-end tests of connection tracking (issue 3), states: one scenario per Zeek conn_state
 * (S0, S1, REJ, S2, S3, RSTOS0, RSTRH, SH, SHR, OTH), and the RFC 793 state of each endpoint as a
 * close progresses. Conventions and helpers: conn_helpers.h. */
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

/* ==== conn_state ============================================================================== */

Test(conn_state, S0_lone_syn) {
    struct cap c;
    cap_open(&c, "s0.pcap");
    lone_syn(&c, 50100, T0);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* One SYN, no reply: Zeek orig SYN_SENT, resp INACTIVE → S0. The client sent a SYN that
     * nobody acknowledged → SYN_SENT; the server was addressed by a SYN and is silent →
     * LISTEN. */
    expect_conn(rec, "S0", "S", "capture_end");
    expect_states(rec, "SYN_SENT", "LISTEN");
    expect_counts(rec, 1, IP_SYN, 0, 0);
    expect_bool(rec, "handshake.observed", true);
    expect_bool(rec, "handshake.completed", false);
    expect_absent(rec, "handshake.syn_to_synack_us"); /* there was no SYN/ACK */
    expect_time(rec, "duration", 0);
    run_free(&r);
}

/* The SYN, and the same SYN (same ISN) again 1 s later. */
Test(conn_state, S0_syn_retransmitted) {
    struct cap c;
    struct session s;
    cap_open(&c, "s0-retx.pcap");
    conn_init(&s, &c, 50101, 80, CISN, SISN);
    session_syn(&s);
    cap_at(&c, T0 + SEC);
    session_write_segment(&s, SESSION_CLIENT, PB_SYN, CISN, 0, 0);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* Same sequence position → no second S; one retransmission of no payload. */
    expect_conn(rec, "S0", "S", "capture_end");
    expect_states(rec, "SYN_SENT", "LISTEN");
    expect_counts(rec, 2, 2 * IP_SYN, 0, 0);
    expect_int(rec, "orig.retransmits", 1);
    expect_int(rec, "orig.retransmitted_bytes", 0);
    expect_time(rec, "end_ts", T0 + SEC);
    run_free(&r);
}

/* SYN, then SYN/ACK, no third ACK. */
Test(conn_state, S1_syn_synack_only) {
    struct cap c;
    struct session s;
    cap_open(&c, "s1-sh.pcap");
    conn_init(&s, &c, 50102, 80, CISN, SISN);
    session_syn(&s);
    session_syn_ack(&s);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* Zeek: the SYN/ACK establishes both endpoints → S1 with history Sh. The server answered the
     * SYN (its SYN/ACK acknowledges it) and its own SYN is not acknowledged → SYN_RECEIVED.
     * The client's SYN is acknowledged but the client has acknowledged nothing yet: no
     * evidence it received the SYN/ACK → still SYN_SENT. */
    expect_conn(rec, "S1", "Sh", "capture_end");
    expect_states(rec, "SYN_SENT", "SYN_RECEIVED");
    expect_bool(rec, "handshake.completed", false);
    expect_int(rec, "handshake.syn_to_synack_us", 10000);
    expect_absent(rec, "handshake.synack_to_ack_us");
    run_free(&r);
}

/* SYN, then the server's RST|ACK with seq 0 and ack = CISN + 1 (how a closed port answers). */
Test(conn_state, REJ) {
    struct cap c;
    struct session s;
    cap_open(&c, "rej.pcap");
    conn_init(&s, &c, 50103, 80, CISN, SISN);
    session_syn(&s);
    session_write_segment(&s, SESSION_SERVER, PB_RST | PB_ACK, 0, CISN + 1, 0);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* Zeek: resp RESET while orig SYN_SENT → REJ, history Sr. */
    expect_conn(rec, "REJ", "Sr", "rst");
    expect_str(rec, "close.initiator", "resp");
    expect_states(rec, "CLOSED", "CLOSED");
    expect_counts(rec, 1, IP_SYN, 1, IP_RST);
    expect_bool(rec, "handshake.completed", false);
    run_free(&r);
}

/* Frames 0..7 of the client-close exchange: the client's FIN is the last packet. */
Test(conn_state, S2_orig_fin_unanswered) {
    struct cap c;
    struct session s;
    cap_open(&c, "s2.pcap");
    conn_init(&s, &c, 50104, 80, CISN, SISN);
    standard_exchange(&s, 100, 200, SESSION_CLIENT, 8);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* Zeek: orig CLOSED, resp ESTABLISHED → S2. The client's FIN is unacknowledged →
     * FIN_WAIT_1; the server has not acknowledged it → still ESTABLISHED. */
    expect_conn(rec, "S2", "ShADadF", "capture_end");
    expect_states(rec, "FIN_WAIT_1", "ESTABLISHED");
    expect_str(rec, "close.initiator", "orig");
    run_free(&r);
}

/* Frames 0..8 of the server-close exchange: server FIN|ACK (7), client ACK (8). */
Test(conn_state, S3_resp_fin_only) {
    struct cap c;
    struct session s;
    cap_open(&c, "s3.pcap");
    conn_init(&s, &c, 50105, 80, CISN, SISN);
    standard_exchange(&s, 100, 200, SESSION_SERVER, 9);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* Zeek: resp CLOSED, orig ESTABLISHED → S3; frame 8 repeats A. Server: active closer, FIN
     * acknowledged → FIN_WAIT_2; client: acknowledged the server's FIN, sent none →
     * CLOSE_WAIT. */
    expect_conn(rec, "S3", "ShADadf", "capture_end");
    expect_states(rec, "CLOSE_WAIT", "FIN_WAIT_2");
    expect_str(rec, "close.initiator", "resp");
    run_free(&r);
}

/* SYN, then an RST from the client (seq CISN + 1, no ACK): it gave up before any answer. */
Test(conn_state, RSTOS0) {
    struct cap c;
    struct session s;
    cap_open(&c, "rstos0.pcap");
    conn_init(&s, &c, 50106, 80, CISN, SISN);
    session_syn(&s);
    session_write_segment(&s, SESSION_CLIENT, PB_RST, CISN + 1, 0, 0);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* Zeek: orig RESET, resp INACTIVE, history SR matches ^?S[^HAFGIQ]*R → RSTOS0. */
    expect_conn(rec, "RSTOS0", "SR", "rst");
    expect_str(rec, "close.initiator", "orig");
    expect_states(rec, "CLOSED", "CLOSED");
    expect_counts(rec, 2, IP_SYN + IP_RST, 0, 0);
    run_free(&r);
}

/* A lone RST|ACK from 10.0.0.2:80 to 10.0.0.1:50107. */
Test(conn_state, RSTRH_lone_rst_from_server_port) {
    struct cap c;
    struct session s;
    cap_open(&c, "rstrh.pcap");
    conn_init(&s, &c, 50107, 80, CISN, SISN);
    session_rst(&s, SESSION_SERVER);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* No SYN: picked up mid-stream. Port 80 looks like a server and 50107 does not, so the
     * originator is the RST's receiver: the history starts with ^, and the RST is the
     * responder's r. Zeek: resp RESET, orig INACTIVE → RSTRH. */
    expect_conn(rec, "RSTRH", "^r", "rst");
    expect_str(rec, "src_ip", "10.0.0.1");
    expect_int(rec, "src_port", 50107);
    expect_int(rec, "dest_port", 80);
    expect_bool(rec, "midstream", true);
    expect_str(rec, "close.initiator", "resp");
    expect_states(rec, "CLOSED", "CLOSED");
    expect_counts(rec, 0, 0, 1, IP_RST);
    run_free(&r);
}

/* A SYN/ACK from the server (ack = CISN + 1), then its RST|ACK; no SYN captured. */
Test(conn_state, RSTRH_synack_then_rst) {
    struct cap c;
    struct session s;
    cap_open(&c, "rstrh2.pcap");
    conn_init(&s, &c, 50108, 80, CISN, SISN);
    session_write_segment(&s, SESSION_SERVER, PB_SYN | PB_ACK, SISN, CISN + 1, 0);
    session_write_segment(&s, SESSION_SERVER, PB_RST | PB_ACK, SISN + 1, CISN + 1, 0);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* A SYN/ACK's receiver is the originator (^, then h); the RST is r. Zeek: resp RESET, orig
     * INACTIVE → RSTRH. */
    expect_conn(rec, "RSTRH", "^hr", "rst");
    expect_int(rec, "src_port", 50108);
    expect_states(rec, "CLOSED", "CLOSED");
    expect_counts(rec, 0, 0, 2, IP_SYN + IP_RST);
    run_free(&r);
}

/* SYN, then a FIN from the client (seq CISN + 1, no ACK), no reply. */
Test(conn_state, SH) {
    struct cap c;
    struct session s;
    cap_open(&c, "sh.pcap");
    conn_init(&s, &c, 50109, 80, CISN, SISN);
    session_syn(&s);
    session_write_segment(&s, SESSION_CLIENT, PB_FIN, CISN + 1, 0, 0);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* Zeek: orig CLOSED, resp INACTIVE → SH. Client: FIN sent, not acknowledged, no FIN from
     * the peer → FIN_WAIT_1; server silent after a SYN → LISTEN. */
    expect_conn(rec, "SH", "SF", "capture_end");
    expect_states(rec, "FIN_WAIT_1", "LISTEN");
    expect_str(rec, "close.initiator", "orig");
    expect_counts(rec, 2, IP_SYN + IP_SEG, 0, 0);
    run_free(&r);
}

/* SYN/ACK from the server (ack = CISN + 1), then its FIN|ACK; no SYN, nothing from the client. */
Test(conn_state, SHR) {
    struct cap c;
    struct session s;
    cap_open(&c, "shr.pcap");
    conn_init(&s, &c, 50110, 80, CISN, SISN);
    session_write_segment(&s, SESSION_SERVER, PB_SYN | PB_ACK, SISN, CISN + 1, 0);
    session_write_segment(&s, SESSION_SERVER, PB_FIN | PB_ACK, SISN + 1, CISN + 1, 0);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* Zeek: resp CLOSED, orig INACTIVE → SHR; history ^hf. Server: FIN sent first and not
     * acknowledged → FIN_WAIT_1. Client: the SYN/ACK acknowledges a SYN of its own (never
     * captured) and the client has acknowledged nothing → SYN_SENT. */
    expect_conn(rec, "SHR", "^hf", "capture_end");
    expect_int(rec, "src_port", 50110);
    expect_states(rec, "SYN_SENT", "FIN_WAIT_1");
    expect_str(rec, "close.initiator", "resp");
    expect_counts(rec, 0, 0, 2, IP_SYN + IP_SEG);
    run_free(&r);
}

/* A lone data segment (10 bytes) from 10.0.0.1:51001 to 10.0.0.2:443. */
Test(conn_state, OTH_lone_midstream_data) {
    struct cap c;
    struct session s;
    cap_open(&c, "oth.pcap");
    conn_init(&s, &c, 51001, 443, CISN, SISN);
    session_data(&s, SESSION_CLIENT, 10);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* No SYN: mid-stream; the sender's port is not a server port and the receiver's (443) is,
     * so the sender is the originator (no ^). Zeek: orig PARTIAL, resp INACTIVE → OTH.
     * Picked up mid-stream, both sides count as ESTABLISHED. */
    expect_conn(rec, "OTH", "D", "capture_end");
    expect_int(rec, "src_port", 51001);
    expect_bool(rec, "midstream", true);
    expect_bool(rec, "handshake.observed", false);
    expect_states(rec, "ESTABLISHED", "ESTABLISHED");
    expect_counts(rec, 1, IP_SEG + 10, 0, 0);
    expect_payload(rec, 10, 0);
    run_free(&r);
}

/* A lone SYN/ACK from 10.0.0.2:80 to 10.0.0.1:50111 (ack = CISN + 1). */
Test(conn_state, OTH_lone_synack) {
    struct cap c;
    struct session s;
    cap_open(&c, "oth-synack.pcap");
    conn_init(&s, &c, 50111, 80, CISN, SISN);
    session_write_segment(&s, SESSION_SERVER, PB_SYN | PB_ACK, SISN, CISN + 1, 0);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* The SYN/ACK's receiver is the originator: ^h. Zeek: orig INACTIVE, resp not closed or
     * reset → none of the other states → OTH. The server answered a SYN (its ack covers the
     * client's implied SYN) and its own SYN is unacknowledged → SYN_RECEIVED; the client's SYN
     * is implied by that ack, and it has acknowledged nothing → SYN_SENT. */
    expect_conn(rec, "OTH", "^h", "capture_end");
    expect_int(rec, "src_port", 50111);
    expect_states(rec, "SYN_SENT", "SYN_RECEIVED");
    expect_counts(rec, 0, 0, 1, IP_SYN);
    expect_bool(rec, "handshake.completed", false);
    run_free(&r);
}

/* SYN, RST|ACK (seq 0, ack = CISN + 1); 1 s later the same SYN again and the same RST|ACK. */
Test(conn_state, REJ_then_syn_again_is_a_new_connection) {
    struct cap c;
    struct session s;
    cap_open(&c, "rej2.pcap");
    conn_init(&s, &c, 50112, 80, CISN, SISN);
    session_write_segment(&s, SESSION_CLIENT, PB_SYN, CISN, 0, 0);
    session_write_segment(&s, SESSION_SERVER, PB_RST | PB_ACK, 0, CISN + 1, 0);
    cap_at(&c, T0 + SEC);
    session_write_segment(&s, SESSION_CLIENT, PB_SYN, CISN, 0, 0);
    session_write_segment(&s, SESSION_SERVER, PB_RST | PB_ACK, 0, CISN + 1, 0);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    run_capture(&r, c.path, NULL);
    /* The first attempt closed with the RST and was reported; a SYN on its ports starts a new
     * connection (as Zeek logs each rejected attempt as its own REJ row): two REJ records. */
    cr_assert_eq(r.n, 2);
    for (int i = 0; i < 2; i++) {
        expect_conn(r.rec[i], "REJ", "Sr", "rst");
        expect_counts(r.rec[i], 1, IP_SYN, 1, IP_RST);
    }
    expect_time(r.rec[1], "ts", T0 + SEC);
    expect_int(r.summary, "connections.late_packets", 0);
    run_free(&r);
}

/* ==== endpoint states through a close ========================================================= */

/* The first n frames of the standard exchange with the given closer, in their own capture. */
static struct json_object *prefix_record(struct run *r, const char *name, uint16_t port,
                                         enum session_side closer, int n) {
    struct cap c;
    struct session s;
    cap_open(&c, name);
    conn_init(&s, &c, port, 80, CISN, SISN);
    standard_exchange(&s, 100, 200, closer, n);
    conn_done(&s);
    cap_close(&c);
    return only_record(r, c.path, NULL);
}

Test(endpoint_state, client_close_progression) {
    struct run r;
    struct json_object *rec = prefix_record(&r, "cp7.pcap", 50200, SESSION_CLIENT, 7);
    /* After frame 6: handshake done both ways → ESTABLISHED, ESTABLISHED. */
    expect_states(rec, "ESTABLISHED", "ESTABLISHED");
    run_free(&r);
    rec = prefix_record(&r, "cp8.pcap", 50201, SESSION_CLIENT, 8);
    /* Frame 7 client FIN, unacknowledged → FIN_WAIT_1; server unaware → ESTABLISHED. */
    expect_states(rec, "FIN_WAIT_1", "ESTABLISHED");
    run_free(&r);
    rec = prefix_record(&r, "cp9.pcap", 50202, SESSION_CLIENT, 9);
    /* Frame 8 server ACK of the FIN → client FIN_WAIT_2, server CLOSE_WAIT. */
    expect_states(rec, "FIN_WAIT_2", "CLOSE_WAIT");
    run_free(&r);
    rec = prefix_record(&r, "cp10.pcap", 50203, SESSION_CLIENT, 10);
    /* Frame 9 server FIN: passive closer's FIN unacknowledged → LAST_ACK; the client has not
     * acknowledged it yet → still FIN_WAIT_2. */
    expect_states(rec, "FIN_WAIT_2", "LAST_ACK");
    expect_str(rec, "close.how", "capture_end");
    run_free(&r);
    rec = prefix_record(&r, "cp11.pcap", 50204, SESSION_CLIENT, 11);
    /* Frame 10 acknowledges the server's FIN → TIME_WAIT, CLOSED; the close is complete. */
    expect_states(rec, "TIME_WAIT", "CLOSED");
    expect_str(rec, "close.how", "fin");
    run_free(&r);
}

Test(endpoint_state, server_close_progression) {
    struct run r;
    struct json_object *rec = prefix_record(&r, "sp8.pcap", 50210, SESSION_SERVER, 8);
    /* Frame 7 server FIN, unacknowledged. */
    expect_states(rec, "ESTABLISHED", "FIN_WAIT_1");
    run_free(&r);
    rec = prefix_record(&r, "sp9.pcap", 50211, SESSION_SERVER, 9);
    /* Frame 8 client ACK of it. */
    expect_states(rec, "CLOSE_WAIT", "FIN_WAIT_2");
    run_free(&r);
    rec = prefix_record(&r, "sp10.pcap", 50212, SESSION_SERVER, 10);
    /* Frame 9 client FIN (passive closer), unacknowledged. */
    expect_states(rec, "LAST_ACK", "FIN_WAIT_2");
    run_free(&r);
    rec = prefix_record(&r, "sp11.pcap", 50213, SESSION_SERVER, 11);
    /* Frame 10 server ACK of the client's FIN. */
    expect_states(rec, "CLOSED", "TIME_WAIT");
    run_free(&r);
}
