/* End-to-end tests of hostile input (issue 7), malformed and adversarial packets: broken headers
 * counted by reason, all 256 TCP flag combinations, sequence numbers jumping by 2^31 and ACKs for
 * data never sent. Each run's output is checked and validated against the schema
 * (hostile_helpers.h). */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capwrite.h"
#include "hostile_helpers.h"
#include "pktbuild.h"
#include "run.h"
#include "session.h"

/* ==== malformed packets ======================================================================= */

enum { ETH = 14, IP4 = 20, IP6 = 40 };

/* Writes frame f from 10.0.0.1:sport (sport counts up from 30000 for each packet, so every
 * packet that is analysed is a connection of its own). */
struct pkts {
    struct capwrite *w;
    uint64_t t;
    uint16_t sport;
};

static void pkts_put(struct pkts *p, const uint8_t *buf, size_t len) {
    cr_assert(capwrite_packet(p->w, 0, p->t, buf, len));
    p->t += 1000000; /* 1 ms */
}

static struct pb_frame pkts_tcp4(struct pkts *p) {
    struct pb_frame f = pb_tcp4();
    f.sport = p->sport++;
    f.flags = PB_SYN;
    return f;
}

/* An IPv6 SYN whose extension headers are the 8-byte headers of types[0..n-1], each pointing to
 * the next (`next_after_last` after the last), built by hand since pktbuild stops at 8 headers;
 * payload_len_override, if not 0, replaces the payload length. */
static size_t ipv6_chain(struct pkts *p, uint8_t *buf, size_t cap, const uint8_t *types, size_t n,
                         uint16_t payload_len_override) {
    struct pb_frame f = pb_tcp6();
    f.sport = p->sport++;
    f.flags = PB_SYN;
    uint8_t base[256];
    size_t bn = frame(&f, base, sizeof base);
    cr_assert_eq(bn, ETH + IP6 + 20);
    size_t len = ETH + IP6 + 8 * n + 20;
    cr_assert_leq(len, cap);
    memcpy(buf, base, ETH + IP6);
    for (size_t i = 0; i < n; i++) {
        uint8_t *e = buf + ETH + IP6 + 8 * i;
        static const uint8_t padn[8] = {0, 0, 1, 4, 0, 0, 0, 0};
        static const uint8_t rh0[8] = {0, 0, 0, 0, 0, 0, 0, 0}; /* type 0, segments left 0 */
        memcpy(e, types[i] == PB_EXT_ROUTING ? rh0 : padn, 8);
        e[0] = i + 1 < n ? types[i + 1] : 6;
    }
    memcpy(buf + ETH + IP6 + 8 * n, base + ETH + IP6, 20);
    uint16_t pl = payload_len_override ? payload_len_override : (uint16_t)(8 * n + 20);
    buf[ETH + 4] = (uint8_t)(pl >> 8);
    buf[ETH + 5] = (uint8_t)pl;
    buf[ETH + 6] = n > 0 ? types[0] : 6;
    return len;
}

/* One capture with every packet-level malformation of issue 7, each reason with its own count,
 * plus good packets. What each should be, from the wire formats (and the reasons' names in
 * shakedown(1)):
 *  - IPv4 IHL 0..4 (a header below 20 bytes): 5 × ipv4_bad_header_len;
 *  - IPv4 IHL 11, 13, 15 (44..60 bytes) in a packet of 40 bytes, the frame's end: the header runs
 *    past what was captured: 3 × ipv4_truncated;
 *  - IPv6 extension-header "loops" and long chains, all longer than the 16 headers shakedown walks
 *    (shakedown(1), "at most 16 headers"): 17 destination options each naming the next; 20
 *    routing headers each naming a routing header; 18 alternating destination options and
 *    routing; a chain of 200 (1600 bytes): 4 × ipv6_ext_too_many;
 *  - IPv6 extension headers past the payload: a destination-options header claiming 2048 bytes
 *    (length 255) in a 28-byte payload, and a payload length of 12 that ends inside the second of
 *    three headers: 2 × ipv6_ext_truncated;
 *  - TCP data offset 0..4 (below the 20-byte header) and 6, 10, 15 in a 20-byte IP payload (past
 *    the packet): 8 × tcp_bad_offset;
 *  - a TCP header of 60 bytes (offset 15, 40 option bytes) in a record whose caplen (70) stops
 *    inside it, the wire length (94) having it all: 1 × tcp_truncated;
 *  - TCP options of length 0, of length 1, and a timestamp option (length 10) in a 4-byte option
 *    area: decoded and analysed, 3 × tcp_options_malformed;
 *  - good: an IPv4 SYN and an IPv6 SYN behind exactly 16 destination-options headers.
 * 5 + 3 + 4 + 2 + 8 + 1 = 23 decode failures and 3 + 2 = 5 packets analysed, of 28; each analysed
 * packet is a connection of its own (its own source port): 5 records. */
Test(hostile_packet, malformed_headers_counted_by_reason) {
    const char *path = tmp_path("malformed.pcap");
    struct pkts p = {capwrite_open(path, CAPWRITE_PCAP_USEC, 1, 65535), T0, 30000};
    cr_assert(p.w);
    uint8_t buf[2048];
    struct pb_frame f;
    size_t n;

    for (uint8_t ihl = 0; ihl < 5; ihl++) {
        f = pkts_tcp4(&p);
        n = frame(&f, buf, sizeof buf);
        buf[ETH] = (uint8_t)(0x40 | ihl);
        pkts_put(&p, buf, n);
    }
    static const uint8_t long_ihl[] = {11, 13, 15};
    for (size_t i = 0; i < 3; i++) {
        f = pkts_tcp4(&p);
        n = frame(&f, buf, sizeof buf);
        cr_assert_eq(n, ETH + IP4 + 20);
        buf[ETH] = (uint8_t)(0x40 | long_ihl[i]);
        pkts_put(&p, buf, n);
    }

    uint8_t types[200];
    memset(types, PB_EXT_DSTOPTS, sizeof types);
    pkts_put(&p, buf, ipv6_chain(&p, buf, sizeof buf, types, 17, 0));
    uint8_t routing[20];
    memset(routing, PB_EXT_ROUTING, sizeof routing);
    pkts_put(&p, buf, ipv6_chain(&p, buf, sizeof buf, routing, 20, 0));
    uint8_t alternating[18];
    for (size_t i = 0; i < 18; i++)
        alternating[i] = i % 2 ? PB_EXT_ROUTING : PB_EXT_DSTOPTS;
    pkts_put(&p, buf, ipv6_chain(&p, buf, sizeof buf, alternating, 18, 0));
    pkts_put(&p, buf, ipv6_chain(&p, buf, sizeof buf, types, 200, 0));

    n = ipv6_chain(&p, buf, sizeof buf, types, 1, 0);
    buf[ETH + IP6 + 1] = 255; /* (255 + 1) × 8 bytes */
    pkts_put(&p, buf, n);
    pkts_put(&p, buf, ipv6_chain(&p, buf, sizeof buf, types, 3, 12));

    static const uint8_t offsets[] = {0, 1, 2, 3, 4, 6, 10, 15};
    for (size_t i = 0; i < sizeof offsets; i++) {
        f = pkts_tcp4(&p);
        n = frame(&f, buf, sizeof buf);
        buf[ETH + IP4 + 12] = (uint8_t)(offsets[i] << 4);
        pkts_put(&p, buf, n);
    }

    static const uint8_t nops[40] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                                     1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0};
    f = pkts_tcp4(&p);
    f.tcp_options = nops;
    f.tcp_optlen = sizeof nops;
    n = frame(&f, buf, sizeof buf);
    cr_assert_eq(n, 94);
    struct bytes rec = {0};
    put_le32(&rec, (uint32_t)(p.t / SEC));
    put_le32(&rec, 0);
    put_le32(&rec, 70);
    put_le32(&rec, 94);
    put(&rec, buf, 70);
    cr_assert(capwrite_raw(p.w, rec.b, rec.n));
    free(rec.b);

    static const uint8_t bad_opts[3][4] = {{2, 0, 5, 0xb4}, {2, 1, 5, 0xb4}, {1, 1, 8, 10}};
    for (size_t i = 0; i < 3; i++) {
        f = pkts_tcp4(&p);
        f.tcp_options = bad_opts[i];
        f.tcp_optlen = 4;
        pkts_put(&p, buf, frame(&f, buf, sizeof buf));
    }

    f = pkts_tcp4(&p);
    pkts_put(&p, buf, frame(&f, buf, sizeof buf));
    pkts_put(&p, buf, ipv6_chain(&p, buf, sizeof buf, types, 16, 0));
    cr_assert(capwrite_close(p.w));

    struct outputs outs = {.n = 0};
    struct result r;
    run_on(&r, &outs, path, NULL);
    cr_expect_eq(r.status, 0, "%s", r.err);
    struct json_object *s = r.summary;
    cr_expect_eq(json_int_at(s, "packets"), 28);
    cr_expect_eq(json_int_at(s, "decode_failed"), 23);
    cr_expect_eq(json_int_at(s, "analysed"), 5);
    static const struct {
        const char *reason;
        int64_t count;
    } want[] = {{"ipv4_bad_header_len", 5}, {"ipv4_truncated", 3}, {"ipv6_ext_too_many", 4},
                {"ipv6_ext_truncated", 2},  {"tcp_bad_offset", 8}, {"tcp_truncated", 1}};
    char key[64];
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        snprintf(key, sizeof key, "decode_errors.%s", want[i].reason);
        cr_expect_eq(json_int_at(s, key), want[i].count, "%s is %" PRId64 ", want %" PRId64, key,
                     json_int_at(s, key), want[i].count);
    }
    cr_expect_eq(json_object_object_length(json_at(s, "decode_errors")), 6,
                 "decode_errors has other reasons: %s", text_at(s, "decode_errors"));
    cr_expect_eq(json_int_at(s, "tcp_options_malformed"), 3);
    cr_expect_eq(r.nconn, 5);
    result_free(&r);
    outputs_validate(&outs);
}

/* Every one of the 256 values of the TCP flags byte, each as the first packet of its own
 * connection (source port 20000 + flags), 1 ms apart. Each is decoded and analysed and makes one
 * connection: 256 records, 256 distinct uids. docs/anomalies.md (invalid_flags): after ignoring
 * PSH, ECE and CWR, exactly 9 of the 32 combinations of FIN, SYN, RST, ACK, URG are valid (SYN,
 * SYN+URG, SYN+ACK, RST, RST+ACK, FIN+ACK, FIN+ACK+URG, ACK, ACK+URG), and the first segment of a
 * connection is checked too: 256 − 9 × 8 = 184 invalid_flags occurrences, one anomaly record
 * each, and the connection record of each of those 184 lists it. */
Test(hostile_packet, all_256_tcp_flag_combinations) {
    const char *path = tmp_path("flags.pcap");
    struct capwrite *w = capwrite_open(path, CAPWRITE_PCAP_USEC, 1, 65535);
    cr_assert(w);
    uint8_t buf[256];
    for (unsigned flags = 0; flags < 256; flags++) {
        struct pb_frame f = pb_tcp4();
        f.sport = (uint16_t)(20000 + flags);
        f.flags = (uint8_t)flags;
        f.seq = 1000;
        f.ack = flags & PB_ACK ? 5000u : 0u;
        cr_assert(capwrite_packet(w, 0, T0 + flags * 1000000ull, buf, frame(&f, buf, sizeof buf)));
    }
    cr_assert(capwrite_close(w));
    struct outputs outs = {.n = 0};
    struct result r;
    run_on(&r, &outs, path, NULL);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(json_int_at(r.summary, "analysed"), 256);
    cr_expect_eq(r.nconn, 256);
    cr_expect_eq(json_int_at(r.summary, "anomalies.invalid_flags"), 184);
    cr_expect_eq(anomaly_records(&r, "invalid_flags"), 184);
    int listed = 0;
    for (int i = 0; i < r.nconn; i++) {
        struct json_object *list = json_at(r.conn[i], "anomalies");
        for (size_t k = 0; list && k < json_object_array_length(list); k++)
            listed += strcmp(json_str_or(json_object_array_get_idx(list, k), "name"),
                             "invalid_flags") == 0;
    }
    cr_expect_eq(listed, 184);
    result_free(&r);
    outputs_validate(&outs);
}

/* ---- sequence and acknowledgement numbers -------------------------------------------------- */

/* Three connections (ports 41000..41002). Each: handshake; the client sends 100 bytes, the server
 * ACKs; then the client sends 100 bytes at a sequence number `jump` past its next one — 2^31 − 1,
 * exactly 2^31 (serial arithmetic cannot order them, RFC 1982 §3.2), 2^31 + 1 — which the server
 * never acknowledges (it ACKs the real next byte again); then 50 real bytes, ACKed, and a normal
 * client-first close. The bogus segment must not derail the tracking:
 *  - the close completes: fin, SF, orig TIME_WAIT, resp CLOSED;
 *  - nothing the server acknowledged was missed: orig.missed_bytes 0 (it never acked past 150);
 *  - payload_bytes counts bytes really sent, at most once: 150 real, plus at most the 100 bogus;
 *  - no counter explodes to the size of the jump. */
Test(hostile_packet, sequence_numbers_jumping_by_2_to_the_31) {
    const char *path = tmp_path("jump.pcap");
    struct capwrite *w = capwrite_open(path, CAPWRITE_PCAP_USEC, 1, 65535);
    cr_assert(w);
    struct session_clock clock = {T0, 10000000};
    static const uint32_t jumps[] = {0x7fffffffu, 0x80000000u, 0x80000001u};
    for (int i = 0; i < 3; i++) {
        struct session s;
        session_on(&s, w, &clock, (uint16_t)(41000 + i));
        session_handshake(&s);
        session_data(&s, SESSION_CLIENT, 100);
        session_ack(&s, SESSION_SERVER);
        uint32_t nxt = s.snd_nxt[SESSION_CLIENT];
        session_write_segment(&s, SESSION_CLIENT, PB_PSH | PB_ACK, nxt + jumps[i],
                              s.snd_nxt[SESSION_SERVER], 100);
        session_ack(&s, SESSION_SERVER);
        session_data(&s, SESSION_CLIENT, 50);
        session_ack(&s, SESSION_SERVER);
        session_close(&s, SESSION_CLIENT);
        cr_assert(s.ok);
    }
    cr_assert(capwrite_close(w));
    struct outputs outs = {.n = 0};
    struct result r;
    run_on(&r, &outs, path, NULL);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_assert_eq(r.nconn, 3);
    for (int i = 0; i < 3; i++) {
        struct json_object *c = r.conn[i];
        cr_expect_eq(json_int_at(c, "src_port"), 41000 + i);
        cr_expect_str_eq(json_str_or(c, "close.how"), "fin", "jump %#x", jumps[i]);
        cr_expect_str_eq(json_str_or(c, "conn_state"), "SF", "jump %#x", jumps[i]);
        cr_expect_str_eq(json_str_or(c, "orig.state"), "TIME_WAIT", "jump %#x", jumps[i]);
        cr_expect_str_eq(json_str_or(c, "resp.state"), "CLOSED", "jump %#x", jumps[i]);
        cr_expect_eq(json_int_at(c, "orig.missed_bytes"), 0, "jump %#x: %" PRId64, jumps[i],
                     json_int_at(c, "orig.missed_bytes"));
        cr_expect_eq(json_int_at(c, "resp.missed_bytes"), 0, "jump %#x", jumps[i]);
        int64_t pb = json_int_at(c, "orig.payload_bytes");
        cr_expect(pb >= 150 && pb <= 250, "jump %#x: orig.payload_bytes %" PRId64, jumps[i], pb);
        cr_expect_leq(json_int_at(c, "orig.retransmitted_bytes"), 100, "jump %#x", jumps[i]);
    }
    result_free(&r);
    outputs_validate(&outs);
}

/* ACK numbers for data never sent: after the handshake the client sends 100 bytes; the server
 * acknowledges 5000 bytes beyond them (ack = client ISN + 1 + 5100); then a normal close by the
 * client, whose FIN takes the sequence number the server's ACK implied (otherwise the server
 * would be acking past the FIN). docs/schema.md (missed_bytes) and docs/anomalies.md
 * (ack_unseen_segment, rule 2): an ACK above everything captured of the peer, after a captured
 * handshake, counts the difference as the peer's missed bytes — shakedown cannot tell bytes that
 * were never sent from bytes it did not capture: orig.missed_bytes 5000, orig.payload_bytes 100,
 * one ack_unseen_segment from the responder. */
Test(hostile_packet, ack_for_data_never_sent) {
    const char *path = tmp_path("overack.pcap");
    struct capwrite *w = capwrite_open(path, CAPWRITE_PCAP_USEC, 1, 65535);
    cr_assert(w);
    struct session_clock clock = {T0, 10000000};
    struct session s;
    session_on(&s, w, &clock, 41100);
    session_handshake(&s);
    session_data(&s, SESSION_CLIENT, 100);
    s.snd_nxt[SESSION_CLIENT] += 5000; /* the server acks 5000 bytes never sent ... */
    session_ack(&s, SESSION_SERVER);
    session_close(&s, SESSION_CLIENT); /* ... and the client's FIN follows them */
    cr_assert(s.ok);
    cr_assert(capwrite_close(w));
    struct outputs outs = {.n = 0};
    struct result r;
    run_on(&r, &outs, path, NULL);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_assert_eq(r.nconn, 1);
    struct json_object *c = r.conn[0];
    cr_expect_str_eq(json_str_or(c, "close.how"), "fin");
    cr_expect_eq(json_int_at(c, "orig.payload_bytes"), 100);
    cr_expect_eq(json_int_at(c, "orig.missed_bytes"), 5000);
    cr_expect_eq(json_int_at(r.summary, "anomalies.ack_unseen_segment"), 1);
    cr_expect_eq(anomaly_records(&r, "ack_unseen_segment"), 1);
    if (r.nanomaly > 0)
        cr_expect_str_eq(json_str_or(r.anomaly[0], "direction"), "resp");
    result_free(&r);
    outputs_validate(&outs);
}
