/* End-to-end tests of issue 13 §4, roles when the SYN is lost: when a connection's first packet
 * is the server's — its SYN/ACK, or a segment from a well-known port to the client's — the
 * client is the originator, as Zeek's history `^` flip makes it; near misses where the first
 * packet decides nothing of the kind. Conventions and helpers: conn_helpers.h. */
#include <criterion/criterion.h>

#include "conn_helpers.h"
#include "pktbuild.h"
#include "run.h"
#include "session.h"

/* The client's SYN was lost before the capture point: 0 the server's SYN/ACK (10.0.0.2:80 →
 * 10.0.0.1:40000), 1 the client's ACK, 2 its 100 bytes, 3 the server's ACK, 4 its 200 bytes,
 * 5 the client's ACK, 6..9 the client-initiated close. The SYN/ACK's receiver, the client, is the
 * originator: history ^ (flipped at creation), h, then A D a d F f as in a full exchange — Zeek's
 * own row for tcp_http-on-irc-port-missing-syn.pcapng. Its ack implies the SYN, so the handshake
 * completes at frame 1 (handshake_reordered, not midstream); both FINs acknowledged: SF, fin. */
Test(roles, synack_first_makes_its_receiver_the_originator) {
    struct cap c;
    struct session s;
    cap_open(&c, "syn-lost.pcap");
    conn_init(&s, &c, 40000, 80, CISN, SISN);
    s.snd_nxt[SESSION_CLIENT]++; /* the SYN, sent and lost */
    session_syn_ack(&s);
    session_ack(&s, SESSION_CLIENT);
    session_data(&s, SESSION_CLIENT, 100);
    session_ack(&s, SESSION_SERVER);
    session_data(&s, SESSION_SERVER, 200);
    session_ack(&s, SESSION_CLIENT);
    session_close(&s, SESSION_CLIENT);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    expect_str(rec, "src_ip", "10.0.0.1");
    expect_int(rec, "src_port", 40000);
    expect_int(rec, "dest_port", 80);
    expect_conn(rec, "SF", "^hADadFf", "fin");
    expect_bool(rec, "handshake.completed", true);
    expect_bool(rec, "handshake_reordered", true);
    expect_bool(rec, "midstream", false);
    expect_states(rec, "TIME_WAIT", "CLOSED");
    run_free(&r);
}

/* A lone RST|ACK from the server's port 80 to the client's 40000 (backscatter, or the rest of the
 * connection not captured): the RST's receiver is the originator, history ^r, and — the
 * responder reset, the originator never seen — RSTRH, as Zeek logs tunnels_Teredo.pcap's late
 * RSTs. */
Test(roles, server_first_segment_makes_the_client_the_originator) {
    struct cap c;
    struct session s;
    cap_open(&c, "server-rst-first.pcap");
    conn_init(&s, &c, 40000, 80, CISN, SISN);
    session_rst(&s, SESSION_SERVER);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    expect_str(rec, "src_ip", "10.0.0.1");
    expect_int(rec, "src_port", 40000);
    expect_conn(rec, "RSTRH", "^r", "rst");
    expect_bool(rec, "midstream", true);
    run_free(&r);
}

/* The server on 10.0.0.2:5000 sends first: its 100 bytes to the client 10.0.0.1:client_port,
 * then the client's ACK. Returns the capture's path. */
static const char *write_server_first(uint16_t client_port, const char *name) {
    static struct cap c;
    struct session s;
    cap_open(&c, name);
    conn_init(&s, &c, client_port, 5000, CISN, SISN);
    session_data(&s, SESSION_SERVER, 100);
    session_ack(&s, SESSION_CLIENT);
    conn_done(&s);
    cap_close(&c);
    return c.path;
}

/* A local service on port 5000 — neither below 1024 nor a listed service port — whose 100
 * bytes to the client's ephemeral port 40000 are the first packet (a host capture that lost the
 * client's segments to checksum offload, say), then the client's ACK. A TCP segment from a port
 * below the ephemeral range (32768) to one inside it comes from the server: the client is the
 * originator, history ^ d A, both endpoints PARTIAL for Zeek: OTH. (Zeek, for which 5000 is no
 * likely server port, would keep the sender: docs/zeek-comparison.md.) */
Test(roles, unlisted_server_port_to_an_ephemeral_one) {
    struct run r;
    struct json_object *rec = only_record(&r, write_server_first(40000, "to-ephemeral.pcap"), NULL);
    expect_str(rec, "src_ip", "10.0.0.1");
    expect_int(rec, "src_port", 40000);
    expect_int(rec, "dest_port", 5000);
    expect_conn(rec, "OTH", "^dA", "capture_end");
    run_free(&r);
}

/* Near miss: the same with the client on port 20000, below the ephemeral range (a FreeBSD or
 * old Windows client): nothing tells the server apart, so the sender of the first packet is
 * taken as the originator, as Zeek does: src 10.0.0.2:5000, no ^, history D a. */
Test(roles, near_miss_no_ephemeral_port_keeps_the_sender) {
    struct run r;
    struct json_object *rec = only_record(&r, write_server_first(20000, "low-client.pcap"), NULL);
    expect_str(rec, "src_ip", "10.0.0.2");
    expect_int(rec, "src_port", 5000);
    expect_int(rec, "dest_port", 20000);
    expect_conn(rec, "OTH", "Da", "capture_end");
    run_free(&r);
}

/* Near miss: a SYN decides whatever the ports. Active-mode FTP data: the server dials from its
 * port 20 to the client's 40000 — SYN, SYN/ACK, ACK. The SYN's sender is the originator although
 * its port is a well-known one: src port 20, history ShA (no ^), S1. */
Test(roles, near_miss_syn_from_a_well_known_port) {
    struct cap c;
    struct session s;
    cap_open(&c, "ftp-active-data.pcap");
    conn_init(&s, &c, 20, 40000, CISN, SISN);
    session_handshake(&s);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    expect_int(rec, "src_port", 20);
    expect_int(rec, "dest_port", 40000);
    expect_conn(rec, "S1", "ShA", "capture_end");
    run_free(&r);
}
