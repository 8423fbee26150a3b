/* test_ipv4: the IPv4 dissector through packet_decode(): header fields, options, bad versions and
 * lengths, Ethernet padding, snaplen truncation at every byte, fragments, header checksum, TSO. */
#include "dissect_helpers.h"

enum { IP = DH_ETH }; /* offset of the IPv4 header in an Ethernet frame */

static const uint8_t src4[4] = {192, 0, 2, 1};
static const uint8_t dst4[4] = {198, 51, 100, 7};

/* Ethernet / IPv4 / TCP 40000 → 80 with payload bytes of pktbuild's 0, 1, 2 … pattern. */
static struct pb_frame tcp4(size_t payload) {
    struct pb_frame f = pb_tcp4();
    memcpy(f.src, src4, 4);
    memcpy(f.dst, dst4, 4);
    f.seq = 1000;
    f.ack = 2000;
    f.flags = PB_ACK | PB_PSH;
    f.payload_len = payload;
    return f;
}

static enum decode_status decode_spec(const struct pb_frame *f, struct packet *p) {
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(f, buf);
    return dh_decode_full(p, LINK_ETHERNET, buf, n);
}

Test(ipv4, header_fields) {
    struct pb_frame f = tcp4(10);
    f.ttl = 37;
    f.ip_id = 0x1234;
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    cr_assert_eq(n, DH_ETH + DH_IPV4 + DH_TCP + 10);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.net, NET_IPV4);
    cr_assert_eq(p.ip_version, 4);
    cr_assert_arr_eq(p.src, src4, 4);
    cr_assert_arr_eq(p.dst, dst4, 4);
    cr_assert_eq(p.ttl, 37);
    cr_assert_eq(p.ip_proto, DH_PROTO_TCP);
    cr_assert_eq(p.ip_len, DH_IPV4 + DH_TCP + 10);
    cr_assert_eq(p.ip_checksum, CHECKSUM_GOOD);
    cr_assert_not(p.fragment);
    cr_assert_eq(p.frag_offset, 0);
    cr_assert_eq(p.transport, TRANSPORT_TCP);
    cr_assert_eq(p.payload_len, 10);
    cr_assert_eq(p.payload_captured, 10);
    cr_assert_eq(p.payload, dh_captured + DH_ETH + DH_IPV4 + DH_TCP);
    cr_assert_not(p.truncated);
}

Test(ipv4, options_nop_record_route_eol_accepted) {
    /* NOP, record route (type 7, length 7, pointer 4, one empty slot), EOL, padding. */
    static const uint8_t opts[12] = {1, 7, 7, 4, 0, 0, 0, 0, 0, 0, 0, 0};
    struct pb_frame f = tcp4(3);
    f.ip_options = opts;
    f.ip_optlen = sizeof opts;
    struct packet p;
    cr_assert_eq(decode_spec(&f, &p), DECODE_OK);
    cr_assert_eq(p.ip_len, DH_IPV4 + 12 + DH_TCP + 3);
    cr_assert_eq(p.ip_checksum, CHECKSUM_GOOD); /* the sum covers the options */
    /* TCP found after the 32-byte header. */
    cr_assert_eq(p.transport, TRANSPORT_TCP);
    cr_assert_eq(p.sport, 40000);
    cr_assert_eq(p.tcp.seq, 1000);
    cr_assert_eq(p.l4_checksum, CHECKSUM_GOOD);
    cr_assert_eq(p.payload_len, 3);
}

Test(ipv4, options_filling_the_header_accepted) {
    /* IHL 15: 40 bytes of NOP (pktbuild's default option bytes). */
    struct pb_frame f = tcp4(0);
    f.ip_optlen = 40;
    struct packet p;
    cr_assert_eq(decode_spec(&f, &p), DECODE_OK);
    cr_assert_eq(p.ip_len, 60 + DH_TCP);
    cr_assert_eq(p.transport, TRANSPORT_TCP);
    cr_assert_eq(p.dport, 80);
}

Test(ipv4, option_ending_exactly_at_header_end_accepted) {
    /* Router alert (type 0x94, length 4) fills the area; NOP then a 7-byte LSRR fills 8 bytes. */
    static const uint8_t ra[4] = {0x94, 4, 0, 0};
    static const uint8_t lsrr[8] = {1, 0x83, 7, 4, 10, 0, 0, 9};
    const uint8_t *opts[] = {ra, lsrr};
    size_t lens[] = {sizeof ra, sizeof lsrr};
    for (size_t i = 0; i < 2; i++) {
        struct pb_frame f = tcp4(0);
        f.ip_options = opts[i];
        f.ip_optlen = lens[i];
        struct packet p;
        cr_assert_eq(decode_spec(&f, &p), DECODE_OK, "case %zu", i);
        cr_assert_eq(p.transport, TRANSPORT_TCP);
    }
}

Test(ipv4, options_after_eol_ignored) {
    /* After EOL the bytes would be a bad option (type 0x44, length 0) if they were read. */
    static const uint8_t opts[4] = {0, 0x44, 0, 0};
    struct pb_frame f = tcp4(0);
    f.ip_options = opts;
    f.ip_optlen = sizeof opts;
    struct packet p;
    cr_assert_eq(decode_spec(&f, &p), DECODE_OK);
    cr_assert_eq(p.transport, TRANSPORT_TCP);
}

Test(ipv4, bad_options) {
    static const struct {
        const char *why;
        uint8_t bytes[8];
        size_t len;
    } cases[] = {
        {"length 0", {0x44, 0, 0, 0}, 4},
        {"length 1", {0x44, 1, 0, 0}, 4},
        {"length 5 in a 4-byte area", {7, 5, 4, 0}, 4},
        {"type in the last byte, no room for its length", {1, 1, 1, 7}, 4},
        {"after a NOP, length 8 runs one past the end", {1, 7, 8, 4, 0, 0, 0, 0}, 8},
        {"second option of length 0", {0x94, 4, 0, 0, 0x83, 0, 0, 0}, 8},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct pb_frame f = tcp4(0);
        f.ttl = 99;
        f.ip_options = cases[i].bytes;
        f.ip_optlen = cases[i].len;
        struct packet p;
        cr_assert_eq(decode_spec(&f, &p), DECODE_IPV4_BAD_OPTIONS, "%s", cases[i].why);
        cr_assert_eq(p.net, NET_IPV4);
        cr_assert_eq(p.transport, TRANSPORT_NONE, "%s", cases[i].why);
    }
}

Test(ipv4, header_len_below_5) {
    struct pb_frame f = tcp4(0);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    for (uint8_t ihl = 0; ihl < 5; ihl++) {
        buf[IP] = (uint8_t)(0x40 | ihl);
        struct packet p;
        cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_IPV4_BAD_HEADER_LEN,
                     "IHL %u", ihl);
    }
}

Test(ipv4, header_len_beyond_capture_is_truncated) {
    /* IHL 15 (60 bytes) in a frame whose whole IPv4 packet is 40 bytes: the header is not there. */
    struct pb_frame f = tcp4(0);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    buf[IP] = 0x4f;
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_IPV4_TRUNCATED);
}

Test(ipv4, version_not_4) {
    static const uint8_t versions[] = {0, 5, 6, 15};
    struct pb_frame f = tcp4(0);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    for (size_t i = 0; i < sizeof versions; i++) {
        buf[IP] = (uint8_t)(versions[i] << 4 | 5);
        struct packet p;
        cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_IPV4_BAD_VERSION,
                     "version %u", versions[i]);
        cr_assert_eq(p.ip_version, 0);
    }
}

Test(ipv4, total_len_below_header) {
    struct pb_frame f = tcp4(0);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    struct packet p;
    dh_put16(buf + IP + 2, 19);
    dh_ipv4_fix_checksum(buf + IP);
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_IPV4_BAD_TOTAL_LEN);

    /* With 4 option bytes the header is 24: 23 is too short even though it exceeds 20. */
    static const uint8_t opts[4] = {1, 1, 1, 0};
    f.ip_options = opts;
    f.ip_optlen = 4;
    n = dh_build(&f, buf);
    dh_put16(buf + IP + 2, 23);
    dh_ipv4_fix_checksum(buf + IP);
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_IPV4_BAD_TOTAL_LEN);
}

Test(ipv4, total_len_equal_to_header_ok) {
    /* An opaque protocol with no payload: total length 20 is exactly the header. */
    struct pb_frame f = tcp4(0);
    f.proto = 253;
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    cr_assert_eq(dh_get16(buf + IP + 2), 20);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.ip_len, 20);
    cr_assert_eq(p.transport, TRANSPORT_OTHER);
    cr_assert_eq(p.payload_len, 0);
}

Test(ipv4, total_len_beyond_frame) {
    struct pb_frame f = tcp4(10);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf); /* total length 50 = n - 14 */
    dh_put16(buf + IP + 2, 51);
    dh_ipv4_fix_checksum(buf + IP);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_IPV4_BAD_TOTAL_LEN);
    dh_put16(buf + IP + 2, 0xffff);
    dh_ipv4_fix_checksum(buf + IP);
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_IPV4_BAD_TOTAL_LEN);
}

Test(ipv4, total_len_bounded_by_wire_length_not_caplen) {
    /* Total length 51 with 50 bytes captured: fine if the wire held 51 (snaplen cut one byte). */
    struct pb_frame f = tcp4(10);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    dh_put16(buf + IP + 2, 51);
    dh_ipv4_fix_checksum(buf + IP);
    struct packet p;
    cr_assert_eq(dh_decode(&p, LINK_ETHERNET, buf, n, n + 1, true), DECODE_OK);
    cr_assert_eq(p.ip_len, 51);
    cr_assert_eq(p.payload_len, 11);
    cr_assert_eq(p.payload_captured, 10);
    cr_assert(p.truncated);
    cr_assert_eq(p.l4_checksum, CHECKSUM_UNVERIFIED);
}

Test(ipv4, caplen_above_wirelen_taken_at_caplen) {
    /* A damaged file record claiming wirelen 0: the captured bytes are what the wire held. */
    struct pb_frame f = tcp4(10);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    struct packet p;
    cr_assert_eq(dh_decode(&p, LINK_ETHERNET, buf, n, 0, true), DECODE_OK);
    cr_assert_eq(p.ip_len, n - DH_ETH);
    cr_assert_not(p.truncated);
    cr_assert_eq(p.l4_checksum, CHECKSUM_GOOD);
}

Test(ipv4, ethernet_padding_is_not_payload) {
    /* 2 payload bytes padded by 4 to the 60-byte Ethernet minimum (the padding made non-zero, so
     * counting or summing it would show). */
    struct pb_frame f = tcp4(2);
    f.eth_padding = 4;
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    cr_assert_eq(n, 60);
    memset(buf + n - 4, 0xee, 4);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.ip_len, DH_IPV4 + DH_TCP + 2);
    cr_assert_eq(p.payload_len, 2);
    cr_assert_eq(p.payload_captured, 2);
    cr_assert_not(p.truncated);
    cr_assert_eq(p.l4_checksum, CHECKSUM_GOOD);
}

Test(ipv4, ethernet_padding_after_opaque_protocol) {
    struct pb_frame f = tcp4(5);
    f.proto = 132; /* SCTP: not decoded, payload is the whole IP payload */
    f.eth_padding = 21;
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    memset(buf + n - 21, 0xee, 21);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.transport, TRANSPORT_OTHER);
    cr_assert_eq(p.ip_proto, 132);
    cr_assert_eq(p.payload_len, 5);
    cr_assert_eq(p.payload_captured, 5);
    cr_assert_eq(p.payload, dh_captured + DH_ETH + DH_IPV4);
}

/* ---- snaplen truncation -------------------------------------------------------------------- */

/* Ethernet 14 + IPv4 with 4 option bytes 24 + TCP with 12 option bytes 32 + 10 payload = 80. */
enum { TR_IP_END = 14 + 24, TR_TCP_END = TR_IP_END + 32, TR_LEN = TR_TCP_END + 10 };

static size_t truncation_frame(uint8_t *buf) {
    static const uint8_t ipopt[4] = {0x94, 4, 0, 0};
    static const uint8_t tcpopt[12] = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2};
    struct pb_frame f = tcp4(10);
    f.ip_options = ipopt;
    f.ip_optlen = sizeof ipopt;
    f.tcp_options = tcpopt;
    f.tcp_optlen = sizeof tcpopt;
    return dh_build(&f, buf);
}

/* The frame of truncation_frame, captured up to c bytes. */
static void truncated_at(size_t c) {
    uint8_t buf[DH_FRAME_CAP];
    size_t n = truncation_frame(buf);
    cr_assert_eq(n, TR_LEN);
    struct packet p;
    enum decode_status st = dh_decode(&p, LINK_ETHERNET, buf, c, n, true);
    if (c < DH_ETH) {
        cr_assert_eq(st, DECODE_LINK_TRUNCATED, "caplen %zu", c);
        cr_assert_eq(p.net, NET_NONE);
    } else if (c < TR_IP_END) {
        cr_assert_eq(st, DECODE_IPV4_TRUNCATED, "caplen %zu", c);
        cr_assert_eq(p.net, NET_IPV4);
    } else if (c < TR_TCP_END) {
        cr_assert_eq(st, DECODE_TCP_TRUNCATED, "caplen %zu", c);
        cr_assert_arr_eq(p.src, src4, 4); /* the IPv4 layer before the failure is filled in */
        cr_assert_eq(p.ip_len, TR_LEN - DH_ETH);
        cr_assert(p.truncated);
    } else {
        cr_assert_eq(st, DECODE_OK, "caplen %zu", c);
        cr_assert(p.truncated);
        cr_assert_eq(p.ip_len, TR_LEN - DH_ETH);
        cr_assert_eq(p.transport, TRANSPORT_TCP);
        cr_assert_eq(p.tcp.header_len, 32);
        cr_assert(p.tcp.opt.has_timestamps);
        cr_assert_eq(p.tcp.opt.ts_ecr, 2);
        cr_assert_eq(p.payload_len, 10);
        cr_assert_eq(p.payload_captured, c - TR_TCP_END);
        cr_assert_eq(p.ip_checksum, CHECKSUM_GOOD); /* the header is whole */
        cr_assert_eq(p.l4_checksum, CHECKSUM_UNVERIFIED);
    }
}

/* The frame cut at every byte: each length is checked in turn (one process for all: a process
 * per length cost a second or more under ASan for nothing). */
Test(ipv4, snaplen_truncation_every_byte) {
    uint8_t buf[DH_FRAME_CAP];
    size_t n = truncation_frame(buf);
    for (size_t caplen = 0; caplen < n; caplen++)
        truncated_at(caplen);
}

Test(ipv4, truncation_frame_whole) {
    uint8_t buf[DH_FRAME_CAP];
    size_t n = truncation_frame(buf);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_not(p.truncated);
    cr_assert_eq(p.payload_captured, 10);
    cr_assert_eq(p.l4_checksum, CHECKSUM_GOOD);
}

/* ---- fragments ----------------------------------------------------------------------------- */

Test(ipv4, first_fragment_keeps_tcp_header) {
    struct pb_frame f = tcp4(24);
    f.more_fragments = true;
    struct packet p;
    cr_assert_eq(decode_spec(&f, &p), DECODE_OK);
    cr_assert(p.fragment);
    cr_assert_eq(p.frag_offset, 0);
    cr_assert_eq(p.transport, TRANSPORT_TCP);
    cr_assert_eq(p.sport, 40000);
    cr_assert_eq(p.tcp.seq, 1000);
    cr_assert_eq(p.payload_len, 24);
    cr_assert_eq(p.ip_checksum, CHECKSUM_GOOD);
    /* The TCP checksum covers the whole datagram, not this fragment: not verifiable. */
    cr_assert_eq(p.l4_checksum, CHECKSUM_UNVERIFIED);
}

Test(ipv4, non_first_fragment) {
    struct pb_frame f = tcp4(100);
    f.frag_offset = 185; /* 185 × 8 = 1480 bytes */
    f.more_fragments = true;
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    cr_assert_eq(n, DH_ETH + DH_IPV4 + 100); /* no TCP header in it */
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.transport, TRANSPORT_FRAGMENT);
    cr_assert(p.fragment);
    cr_assert_eq(p.frag_offset, 1480);
    cr_assert_eq(p.ip_proto, DH_PROTO_TCP);
    cr_assert_eq(p.ip_len, DH_IPV4 + 100);
    cr_assert_eq(p.ip_checksum, CHECKSUM_GOOD);
    cr_assert_eq(p.sport, 0); /* the payload bytes were not taken for ports */
    cr_assert_eq(p.dport, 0);
    cr_assert_eq(p.l4_checksum, CHECKSUM_UNVERIFIED);
    cr_assert_not(p.truncated);
}

Test(ipv4, last_fragment) {
    struct pb_frame f = tcp4(30);
    f.frag_offset = 10; /* MF clear: the last piece */
    struct packet p;
    cr_assert_eq(decode_spec(&f, &p), DECODE_OK);
    cr_assert_eq(p.transport, TRANSPORT_FRAGMENT);
    cr_assert(p.fragment);
    cr_assert_eq(p.frag_offset, 80);
}

Test(ipv4, non_first_fragment_cut_by_snaplen) {
    struct pb_frame f = tcp4(100);
    f.frag_offset = 1;
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    struct packet p;
    cr_assert_eq(dh_decode(&p, LINK_ETHERNET, buf, n - 1, n, true), DECODE_OK);
    cr_assert_eq(p.transport, TRANSPORT_FRAGMENT);
    cr_assert(p.truncated);
}

Test(ipv4, dont_fragment_is_not_a_fragment) {
    struct pb_frame f = tcp4(0);
    f.dont_fragment = true;
    struct packet p;
    cr_assert_eq(decode_spec(&f, &p), DECODE_OK);
    cr_assert_not(p.fragment);
    cr_assert_eq(p.transport, TRANSPORT_TCP);
    cr_assert_eq(p.l4_checksum, CHECKSUM_GOOD);
}

/* ---- header checksum ----------------------------------------------------------------------- */

Test(ipv4, header_checksum_good_bad_unverified) {
    uint8_t good[DH_FRAME_CAP], bad[DH_FRAME_CAP];
    struct pb_frame f = tcp4(4);
    size_t n = dh_build(&f, good);
    f.bad_ip_checksum = true;
    cr_assert_eq(dh_build(&f, bad), n);
    struct packet p;

    cr_assert_eq(dh_decode(&p, LINK_ETHERNET, good, n, n, true), DECODE_OK);
    cr_assert_eq(p.ip_checksum, CHECKSUM_GOOD);

    /* A bad header checksum is reported, not a reason to stop decoding. */
    cr_assert_eq(dh_decode(&p, LINK_ETHERNET, bad, n, n, true), DECODE_OK);
    cr_assert_eq(p.ip_checksum, CHECKSUM_BAD);
    cr_assert_eq(p.transport, TRANSPORT_TCP);
    cr_assert_eq(p.l4_checksum, CHECKSUM_GOOD);

    cr_assert_eq(dh_decode(&p, LINK_ETHERNET, good, n, n, false), DECODE_OK);
    cr_assert_eq(p.ip_checksum, CHECKSUM_UNVERIFIED);
    cr_assert_eq(dh_decode(&p, LINK_ETHERNET, bad, n, n, false), DECODE_OK);
    cr_assert_eq(p.ip_checksum, CHECKSUM_UNVERIFIED);
    cr_assert_eq(p.l4_checksum, CHECKSUM_UNVERIFIED);
}

Test(ipv4, header_checksum_covers_options) {
    static const uint8_t opts[8] = {1, 7, 7, 4, 0, 0, 0, 0};
    struct pb_frame f = tcp4(0);
    f.ip_options = opts;
    f.ip_optlen = sizeof opts;
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    buf[IP + 20 + 4] = 0x0a; /* an address byte in the record-route slot, checksum not fixed */
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.ip_checksum, CHECKSUM_BAD);
}

/* ---- TSO and other protocols --------------------------------------------------------------- */

Test(ipv4, tso_total_length_zero_uses_frame_length) {
    struct pb_frame f = tcp4(100);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    dh_put16(buf + IP + 2, 0); /* what a sender's capture shows under segmentation offload */
    dh_ipv4_fix_checksum(buf + IP);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.ip_len, n - DH_ETH);
    cr_assert_eq(p.transport, TRANSPORT_TCP);
    cr_assert_eq(p.payload_len, 100);
    cr_assert_eq(p.payload_captured, 100);
    cr_assert_not(p.truncated);
    cr_assert_eq(p.ip_checksum, CHECKSUM_GOOD);
    /* The TCP checksum here happens to be right, but offloaded ones are not: never verified. */
    cr_assert_eq(p.l4_checksum, CHECKSUM_UNVERIFIED);
}

Test(ipv4, tso_total_length_zero_uses_wire_length) {
    /* Cut by snaplen: the length comes from the wire length, so the packet is truncated. */
    struct pb_frame f = tcp4(100);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    dh_put16(buf + IP + 2, 0);
    dh_ipv4_fix_checksum(buf + IP);
    struct packet p;
    cr_assert_eq(dh_decode(&p, LINK_ETHERNET, buf, n - 40, n, true), DECODE_OK);
    cr_assert_eq(p.ip_len, n - DH_ETH);
    cr_assert_eq(p.payload_len, 100);
    cr_assert_eq(p.payload_captured, 60);
    cr_assert(p.truncated);
}

Test(ipv4, unknown_protocol_is_transport_other) {
    static const uint8_t protos[] = {132, 50, 47, 58}; /* SCTP, ESP, GRE, ICMPv6 (not over v4) */
    for (size_t i = 0; i < sizeof protos; i++) {
        struct pb_frame f = tcp4(12);
        f.proto = protos[i];
        struct packet p;
        cr_assert_eq(decode_spec(&f, &p), DECODE_OK, "proto %u", protos[i]);
        cr_assert_eq(p.transport, TRANSPORT_OTHER, "proto %u", protos[i]);
        cr_assert_eq(p.ip_proto, protos[i]);
        /* For 58, pktbuild writes an 8-byte ICMPv6 header before the 12 bytes. */
        cr_assert_eq(p.payload_len, protos[i] == DH_PROTO_ICMPV6 ? DH_ICMP + 12 : 12);
        cr_assert_eq(p.payload, dh_captured + DH_ETH + DH_IPV4);
        cr_assert_eq(p.sport, 0);
    }
}
