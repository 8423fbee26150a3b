/* test_ipv6: the IPv6 dissector through packet_decode(): fixed header, each extension header and
 * chains (too long, too short), bad lengths and versions, jumbograms, truncation at every byte. */
#include "dissect_helpers.h"
#include "ipv6.h"

enum {
    IP = DH_ETH, /* offset of the IPv6 header in an Ethernet frame */
    L3 = DH_ETH + DH_IPV6,
    NH_DSTOPTS = 60,
};

static const uint8_t src6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x11};
static const uint8_t dst6[16] = {0x20, 0x01, 0x0d, 0xb8, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x22};

/* Ethernet / IPv6 / TCP 40000 → 80. */
static struct pb_frame tcp6(size_t payload) {
    struct pb_frame f = pb_tcp6();
    memcpy(f.src, src6, 16);
    memcpy(f.dst, dst6, 16);
    f.seq = 77;
    f.flags = PB_ACK;
    f.payload_len = payload;
    return f;
}

static struct pb_frame with_ext(struct pb_frame f, const uint8_t *ext, size_t n) {
    f.n_ext = n;
    memcpy(f.ext, ext, n);
    return f;
}

static enum decode_status decode_spec(const struct pb_frame *f, struct packet *p) {
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(f, buf);
    return dh_decode_full(p, LINK_ETHERNET, buf, n);
}

/* The TCP header after the extensions was found: ports, sequence number and length. */
static void assert_tcp_after(const struct packet *p, size_t ext_len, size_t payload) {
    cr_assert_eq(p->transport, TRANSPORT_TCP);
    cr_assert_eq(p->ip_proto, DH_PROTO_TCP);
    cr_assert_eq(p->sport, 40000);
    cr_assert_eq(p->dport, 80);
    cr_assert_eq(p->tcp.seq, 77);
    cr_assert_eq(p->ip_len, DH_IPV6 + ext_len + DH_TCP + payload);
    cr_assert_eq(p->payload_len, payload);
    cr_assert_eq(p->payload_captured, payload);
    cr_assert_eq(p->payload, dh_captured + L3 + ext_len + DH_TCP);
}

Test(ipv6, header_fields) {
    struct pb_frame f = tcp6(9);
    f.ttl = 200;
    struct packet p;
    cr_assert_eq(decode_spec(&f, &p), DECODE_OK);
    cr_assert_eq(p.net, NET_IPV6);
    cr_assert_eq(p.ip_version, 6);
    cr_assert_arr_eq(p.src, src6, 16);
    cr_assert_arr_eq(p.dst, dst6, 16);
    cr_assert_eq(p.ttl, 200);
    cr_assert_not(p.fragment);
    cr_assert_not(p.truncated);
    cr_assert_eq(p.ip_checksum, CHECKSUM_UNVERIFIED); /* IPv6 has no header checksum */
    cr_assert_eq(p.l4_checksum, CHECKSUM_GOOD);
    assert_tcp_after(&p, 0, 9);
}

Test(ipv6, version_not_6) {
    static const uint8_t versions[] = {0, 4, 7, 15};
    struct pb_frame f = tcp6(0);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    for (size_t i = 0; i < sizeof versions; i++) {
        buf[IP] = (uint8_t)(versions[i] << 4);
        struct packet p;
        cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_IPV6_BAD_VERSION,
                     "version %u", versions[i]);
        cr_assert_eq(p.ip_version, 0);
    }
}

Test(ipv6, payload_len_beyond_frame) {
    struct pb_frame f = tcp6(10);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    cr_assert_eq(dh_get16(buf + IP + 4), DH_TCP + 10);
    dh_put16(buf + IP + 4, DH_TCP + 11);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_IPV6_BAD_PAYLOAD_LEN);
    cr_assert_arr_eq(p.src, src6, 16); /* the fixed header was read */
    dh_put16(buf + IP + 4, 0xffff);
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_IPV6_BAD_PAYLOAD_LEN);
    /* One byte more is fine when the wire held it and only snaplen cut it. */
    dh_put16(buf + IP + 4, DH_TCP + 11);
    cr_assert_eq(dh_decode(&p, LINK_ETHERNET, buf, n, n + 1, true), DECODE_OK);
    cr_assert(p.truncated);
    cr_assert_eq(p.payload_len, 11);
    cr_assert_eq(p.payload_captured, 10);
}

Test(ipv6, ethernet_padding_is_not_payload) {
    struct pb_frame f = tcp6(1);
    f.eth_padding = 5;
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    memset(buf + n - 5, 0xee, 5);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_not(p.truncated);
    cr_assert_eq(p.l4_checksum, CHECKSUM_GOOD);
    assert_tcp_after(&p, 0, 1);
}

Test(ipv6, jumbogram) {
    /* RFC 2675: payload length 0 with a hop-by-hop header carrying the real length. */
    static const uint8_t ext[] = {PB_EXT_HOPOPTS};
    struct pb_frame f = with_ext(tcp6(0), ext, 1);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    dh_put16(buf + IP + 4, 0);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_IPV6_JUMBOGRAM);
}

Test(ipv6, payload_len_zero_without_hop_by_hop_is_not_jumbogram) {
    /* Next header TCP with no payload: TCP finds no room for its header. */
    struct pb_frame f = tcp6(0);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    dh_put16(buf + IP + 4, 0);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_TCP_BAD_OFFSET);
    cr_assert_eq(p.ip_len, DH_IPV6);
}

/* ---- extension headers one at a time ------------------------------------------------------- */

static void assert_single_ext(uint8_t type, size_t ext_len, enum checksum_state l4) {
    const uint8_t ext[] = {type};
    struct pb_frame f = with_ext(tcp6(6), ext, 1);
    struct packet p;
    cr_assert_eq(decode_spec(&f, &p), DECODE_OK, "extension %u", type);
    assert_tcp_after(&p, ext_len, 6);
    cr_assert_eq(p.l4_checksum, l4, "extension %u", type);
    cr_assert_not(p.fragment);
}

Test(ipv6, hop_by_hop_then_tcp) {
    assert_single_ext(PB_EXT_HOPOPTS, 8, CHECKSUM_GOOD);
}

Test(ipv6, destination_options_then_tcp) {
    assert_single_ext(PB_EXT_DSTOPTS, 8, CHECKSUM_GOOD);
}

Test(ipv6, ah_then_tcp) {
    /* AH's length is in 32-bit words minus 2 (RFC 4302): pktbuild's is 16 bytes. */
    assert_single_ext(PB_EXT_AH, 16, CHECKSUM_GOOD);
}

Test(ipv6, routing_then_tcp) {
    /* pktbuild's routing header has Segments Left 0: the destination is final, verifiable. */
    assert_single_ext(PB_EXT_ROUTING, 8, CHECKSUM_GOOD);
}

Test(ipv6, routing_with_segments_left_is_unverified) {
    static const uint8_t ext[] = {PB_EXT_ROUTING};
    struct pb_frame f = with_ext(tcp6(6), ext, 1);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    cr_assert_eq(buf[L3 + 3], 0);
    /* Segments Left 2: the pseudo-header needs the final destination, which is in the routing
     * header, not the IPv6 dst; so the (otherwise right) checksum cannot be verified. The TCP
     * checksum does not cover this byte. */
    buf[L3 + 3] = 2;
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    assert_tcp_after(&p, 8, 6);
    cr_assert_eq(p.l4_checksum, CHECKSUM_UNVERIFIED);
}

Test(ipv6, first_fragment_then_tcp) {
    static const uint8_t ext[] = {PB_EXT_FRAGMENT};
    struct pb_frame f = with_ext(tcp6(6), ext, 1);
    f.more_fragments = true;
    struct packet p;
    cr_assert_eq(decode_spec(&f, &p), DECODE_OK);
    assert_tcp_after(&p, 8, 6);
    cr_assert(p.fragment);
    cr_assert_eq(p.frag_offset, 0);
    cr_assert_eq(p.l4_checksum, CHECKSUM_UNVERIFIED); /* covers the whole datagram */
}

/* KNOWN BUG at the time of writing (ipv6.c ext_header_skip): an atomic fragment (RFC 6946: offset
 * 0, M clear) is a whole datagram to be processed in isolation, and IPv4's equivalent (MF clear,
 * offset 0) is not a fragment; but any IPv6 fragment header sets fragment = true, which also
 * leaves the (verifiable) TCP checksum unverified. */
Test(ipv6, atomic_fragment_is_not_a_fragment) {
    static const uint8_t ext[] = {PB_EXT_FRAGMENT};
    struct pb_frame f = with_ext(tcp6(6), ext, 1); /* frag_offset 0, more_fragments false */
    struct packet p;
    cr_assert_eq(decode_spec(&f, &p), DECODE_OK);
    assert_tcp_after(&p, 8, 6);
    cr_expect_not(p.fragment, "atomic fragment marked as a fragment");
    cr_expect_eq(p.l4_checksum, CHECKSUM_GOOD, "checksum of a whole datagram not verified");
}

Test(ipv6, non_first_fragment) {
    static const uint8_t ext[] = {PB_EXT_FRAGMENT};
    struct pb_frame f = with_ext(tcp6(64), ext, 1);
    f.frag_offset = 181; /* × 8 = 1448 bytes */
    f.more_fragments = true;
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    cr_assert_eq(n, L3 + 8 + 64);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.transport, TRANSPORT_FRAGMENT);
    cr_assert(p.fragment);
    cr_assert_eq(p.frag_offset, 1448);
    cr_assert_eq(p.ip_proto, DH_PROTO_TCP);
    cr_assert_eq(p.ip_len, DH_IPV6 + 8 + 64);
    cr_assert_eq(p.sport, 0);
    cr_assert_not(p.truncated);
    cr_assert_eq(dh_decode(&p, LINK_ETHERNET, buf, n - 1, n, true), DECODE_OK);
    cr_assert_eq(p.transport, TRANSPORT_FRAGMENT);
    cr_assert(p.truncated);
}

Test(ipv6, last_fragment) {
    static const uint8_t ext[] = {PB_EXT_FRAGMENT};
    struct pb_frame f = with_ext(tcp6(16), ext, 1);
    f.frag_offset = 0x1fff; /* the largest offset, MF clear */
    struct packet p;
    cr_assert_eq(decode_spec(&f, &p), DECODE_OK);
    cr_assert_eq(p.transport, TRANSPORT_FRAGMENT);
    cr_assert_eq(p.frag_offset, 0x1fff * 8);
}

/* ---- chains -------------------------------------------------------------------------------- */

Test(ipv6, chain_of_several) {
    static const uint8_t ext[] = {PB_EXT_HOPOPTS, PB_EXT_DSTOPTS, PB_EXT_AH, PB_EXT_DSTOPTS};
    struct pb_frame f = with_ext(tcp6(3), ext, sizeof ext);
    struct packet p;
    cr_assert_eq(decode_spec(&f, &p), DECODE_OK);
    assert_tcp_after(&p, 8 + 8 + 16 + 8, 3);
    cr_assert_eq(p.l4_checksum, CHECKSUM_GOOD);
}

Test(ipv6, chain_with_routing_and_first_fragment) {
    static const uint8_t ext[] = {PB_EXT_HOPOPTS, PB_EXT_ROUTING, PB_EXT_FRAGMENT, PB_EXT_AH,
                                  PB_EXT_DSTOPTS};
    struct pb_frame f = with_ext(tcp6(3), ext, sizeof ext);
    f.more_fragments = true;
    struct packet p;
    cr_assert_eq(decode_spec(&f, &p), DECODE_OK);
    assert_tcp_after(&p, 8 + 8 + 8 + 16 + 8, 3);
    cr_assert(p.fragment);
}

/* Hand-built (pktbuild stops at PB_MAX_EXT): Ethernet / IPv6 / count × 8-byte destination options
 * / TCP, reusing pktbuild's headers. The TCP checksum stays right: its pseudo-header holds the
 * addresses and TCP length, none of which the extra headers change. */
static size_t dstopts_chain(uint8_t *buf, size_t count) {
    uint8_t base[DH_FRAME_CAP];
    struct pb_frame f = tcp6(0);
    size_t n = dh_build(&f, base);
    cr_assert_eq(n, L3 + DH_TCP);
    memcpy(buf, base, L3);
    for (size_t i = 0; i < count; i++) {
        uint8_t *e = buf + L3 + 8 * i;
        static const uint8_t padn[8] = {0, 0, 1, 4, 0, 0, 0, 0};
        memcpy(e, padn, 8);
        e[0] = i + 1 < count ? NH_DSTOPTS : DH_PROTO_TCP;
    }
    memcpy(buf + L3 + 8 * count, base + L3, DH_TCP);
    dh_put16(buf + IP + 4, (uint16_t)(8 * count + DH_TCP));
    buf[IP + 6] = count > 0 ? NH_DSTOPTS : DH_PROTO_TCP;
    return L3 + 8 * count + DH_TCP;
}

Test(ipv6, chain_of_max_ext_headers_accepted) {
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dstopts_chain(buf, IPV6_MAX_EXT_HEADERS);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.transport, TRANSPORT_TCP);
    cr_assert_eq(p.sport, 40000);
    cr_assert_eq(p.l4_checksum, CHECKSUM_GOOD);
    cr_assert_eq(p.payload_len, 0);
}

Test(ipv6, chain_longer_than_max_is_too_many) {
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dstopts_chain(buf, IPV6_MAX_EXT_HEADERS + 1);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_IPV6_EXT_TOO_MANY);
    n = dstopts_chain(buf, 40);
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_IPV6_EXT_TOO_MANY);
}

Test(ipv6, ext_length_past_payload_length) {
    /* Hop-by-hop + TCP, payload length 8 + 20 = 28; the header then claims (3 + 1) × 8 = 32. */
    static const uint8_t ext[] = {PB_EXT_HOPOPTS};
    struct pb_frame f = with_ext(tcp6(0), ext, 1);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    buf[L3 + 1] = 3;
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_IPV6_EXT_TRUNCATED);
    /* Length 2 (24 bytes) still fits in 28: then the TCP header does not (4 bytes left). */
    buf[L3 + 1] = 2;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_TCP_BAD_OFFSET);
}

Test(ipv6, ah_length_past_payload_length) {
    /* AH + TCP, payload length 16 + 20 = 36; AH length 8 means (8 + 2) × 4 = 40 bytes. */
    static const uint8_t ext[] = {PB_EXT_AH};
    struct pb_frame f = with_ext(tcp6(0), ext, 1);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    cr_assert_eq(buf[L3 + 1], 2);
    buf[L3 + 1] = 8;
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_IPV6_EXT_TRUNCATED);
}

Test(ipv6, ext_header_longer_than_payload_left) {
    /* Payload length 4 with next header hop-by-hop: not even the 8-byte minimum fits. */
    static const uint8_t ext[] = {PB_EXT_HOPOPTS};
    struct pb_frame f = with_ext(tcp6(0), ext, 1);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    dh_put16(buf + IP + 4, 4);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_IPV6_EXT_TRUNCATED);
}

Test(ipv6, ext_length_past_caplen) {
    /* Destination options of (1 + 1) × 8 = 16 bytes inside a 16 + 20 + 8 payload (so within the
     * payload length); the capture stops 12 bytes into the header. */
    static const uint8_t ext[] = {PB_EXT_DSTOPTS};
    struct pb_frame f = with_ext(tcp6(16), ext, 1);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    buf[L3 + 1] = 1;
    struct packet p;
    cr_assert_eq(dh_decode(&p, LINK_ETHERNET, buf, L3 + 12, n, true), DECODE_IPV6_EXT_TRUNCATED);
    cr_assert_eq(dh_decode(&p, LINK_ETHERNET, buf, L3 + 15, n, true), DECODE_IPV6_EXT_TRUNCATED);
    /* With all 16 captured the walk goes on to TCP (whose header is then cut). */
    cr_assert_eq(dh_decode(&p, LINK_ETHERNET, buf, L3 + 16, n, true), DECODE_TCP_TRUNCATED);
}

/* ---- unknown next headers ------------------------------------------------------------------ */

Test(ipv6, unknown_next_header_is_transport_other) {
    static const uint8_t protos[] = {132, 50, 59, 1}; /* SCTP, ESP, no next header, ICMP (v4) */
    for (size_t i = 0; i < sizeof protos; i++) {
        struct pb_frame f = tcp6(protos[i] == 59 ? 0 : 12);
        f.proto = protos[i];
        uint8_t buf[DH_FRAME_CAP];
        size_t n = dh_build(&f, buf);
        struct packet p;
        cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK, "nh %u", protos[i]);
        cr_assert_eq(p.transport, TRANSPORT_OTHER, "nh %u", protos[i]);
        cr_assert_eq(p.ip_proto, protos[i]);
        cr_assert_eq(p.payload_len, n - L3, "nh %u", protos[i]); /* all of the payload */
        cr_assert_eq(p.payload, dh_captured + L3);
        cr_assert_eq(p.sport, 0);
    }
}

Test(ipv6, chain_then_no_next_header) {
    static const uint8_t ext[] = {PB_EXT_HOPOPTS, PB_EXT_DSTOPTS};
    struct pb_frame f = with_ext(tcp6(0), ext, 2);
    f.proto = 59;
    struct packet p;
    cr_assert_eq(decode_spec(&f, &p), DECODE_OK);
    cr_assert_eq(p.transport, TRANSPORT_OTHER);
    cr_assert_eq(p.ip_proto, 59);
    cr_assert_eq(p.payload_len, 0);
    cr_assert_eq(p.ip_len, DH_IPV6 + 16);
}

Test(ipv6, chain_then_esp) {
    static const uint8_t ext[] = {PB_EXT_HOPOPTS};
    struct pb_frame f = with_ext(tcp6(24), ext, 1);
    f.proto = 50;
    struct packet p;
    cr_assert_eq(decode_spec(&f, &p), DECODE_OK);
    cr_assert_eq(p.transport, TRANSPORT_OTHER);
    cr_assert_eq(p.ip_proto, 50);
    cr_assert_eq(p.payload_len, 24);
    cr_assert_eq(p.payload, dh_captured + L3 + 8);
}

/* ---- truncation at every byte -------------------------------------------------------------- */

/* Ethernet 14 + IPv6 40 + hop-by-hop 8 + AH 16 + TCP 20 with 12 option bytes + 7 payload = 117. */
enum {
    TR_HBH_END = L3 + 8,
    TR_AH_END = TR_HBH_END + 16,
    TR_TCP_END = TR_AH_END + 32,
    TR_LEN = TR_TCP_END + 7,
};

static size_t truncation_frame(uint8_t *buf) {
    static const uint8_t ext[] = {PB_EXT_HOPOPTS, PB_EXT_AH};
    static const uint8_t tcpopt[12] = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2};
    struct pb_frame f = with_ext(tcp6(7), ext, 2);
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
    } else if (c < L3) {
        cr_assert_eq(st, DECODE_IPV6_TRUNCATED, "caplen %zu", c);
        cr_assert_eq(p.net, NET_IPV6);
    } else if (c < TR_AH_END) {
        cr_assert_eq(st, DECODE_IPV6_EXT_TRUNCATED, "caplen %zu", c);
        cr_assert_arr_eq(p.dst, dst6, 16);
    } else if (c < TR_TCP_END) {
        cr_assert_eq(st, DECODE_TCP_TRUNCATED, "caplen %zu", c);
        cr_assert_eq(p.ip_proto, DH_PROTO_TCP);
        cr_assert(p.truncated);
    } else {
        cr_assert_eq(st, DECODE_OK, "caplen %zu", c);
        cr_assert(p.truncated);
        cr_assert_eq(p.transport, TRANSPORT_TCP);
        cr_assert_eq(p.tcp.header_len, 32);
        cr_assert_eq(p.tcp.opt.ts_val, 1);
        cr_assert_eq(p.ip_len, TR_LEN - DH_ETH);
        cr_assert_eq(p.payload_len, 7);
        cr_assert_eq(p.payload_captured, c - TR_TCP_END);
        cr_assert_eq(p.l4_checksum, CHECKSUM_UNVERIFIED);
    }
}

/* The frame cut at every byte: each length is checked in turn (one process for all: a process
 * per length cost a second or more under ASan for nothing). */
Test(ipv6, truncation_every_byte) {
    uint8_t buf[DH_FRAME_CAP];
    size_t n = truncation_frame(buf);
    for (size_t caplen = 0; caplen < n; caplen++)
        truncated_at(caplen);
}

Test(ipv6, truncation_frame_whole) {
    uint8_t buf[DH_FRAME_CAP];
    size_t n = truncation_frame(buf);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_not(p.truncated);
    cr_assert_eq(p.payload_captured, 7);
    cr_assert_eq(p.l4_checksum, CHECKSUM_GOOD);
}
