/* test_icmp: the ICMP and ICMPv6 dissectors through packet_decode(): type and code (also in the
 * ports), checksums (ICMPv6 with a pseudo-header), short headers, each protocol in the wrong IP. */
#include "dissect_helpers.h"

enum {
    ICMP4 = DH_ETH + DH_IPV4, /* offset of the ICMP header in Ethernet / IPv4 */
    ICMP6 = DH_ETH + DH_IPV6,
};

/* An echo request (8 / 128) with identifier, sequence number and 56 bytes of data, like ping. */
static struct pb_frame echo(int version) {
    struct pb_frame f = version == 4 ? pb_tcp4() : pb_tcp6();
    f.proto = version == 4 ? DH_PROTO_ICMP : DH_PROTO_ICMPV6;
    f.icmp_type = version == 4 ? 8 : 128;
    f.icmp_code = 0;
    f.icmp_id = 0x1234;
    f.icmp_seq = 7;
    f.payload_len = 56;
    return f;
}

static size_t icmp_offset(int version) {
    return version == 4 ? ICMP4 : ICMP6;
}

Test(icmp, echo_request_ipv4) {
    struct pb_frame f = echo(4);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.transport, TRANSPORT_ICMP);
    cr_assert_eq(p.ip_proto, DH_PROTO_ICMP);
    cr_assert_eq(p.icmp_type, 8);
    cr_assert_eq(p.icmp_code, 0);
    cr_assert_eq(p.sport, 8); /* type and code stand in for ports (flow keys, Community ID) */
    cr_assert_eq(p.dport, 0);
    cr_assert_eq(p.payload_len, 56);
    cr_assert_eq(p.payload_captured, 56);
    cr_assert_eq(p.payload, dh_captured + ICMP4 + DH_ICMP);
    cr_assert_eq(p.l4_checksum, CHECKSUM_GOOD);
}

Test(icmp, echo_request_ipv6) {
    struct pb_frame f = echo(6);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.transport, TRANSPORT_ICMPV6);
    cr_assert_eq(p.ip_proto, DH_PROTO_ICMPV6);
    cr_assert_eq(p.icmp_type, 128);
    cr_assert_eq(p.icmp_code, 0);
    cr_assert_eq(p.sport, 128);
    cr_assert_eq(p.dport, 0);
    cr_assert_eq(p.payload_len, 56);
    cr_assert_eq(p.payload, dh_captured + ICMP6 + DH_ICMP);
    /* pktbuild's checksum includes the pseudo-header: GOOD only if the dissector's does too. */
    cr_assert_eq(p.l4_checksum, CHECKSUM_GOOD);
}

Test(icmp, type_and_code_in_ports) {
    /* Destination unreachable / port unreachable (3/3), time exceeded (11/1); ICMPv6 1/4, 135/0. */
    static const struct {
        int version;
        uint8_t type, code;
    } cases[] = {{4, 3, 3}, {4, 11, 1}, {4, 0, 0}, {6, 1, 4}, {6, 135, 0}, {6, 129, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct pb_frame f = echo(cases[i].version);
        f.icmp_type = cases[i].type;
        f.icmp_code = cases[i].code;
        f.payload_len = 28;
        uint8_t buf[DH_FRAME_CAP];
        size_t n = dh_build(&f, buf);
        struct packet p;
        cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
        cr_assert_eq(p.icmp_type, cases[i].type, "case %zu", i);
        cr_assert_eq(p.icmp_code, cases[i].code, "case %zu", i);
        cr_assert_eq(p.sport, cases[i].type, "case %zu", i);
        cr_assert_eq(p.dport, cases[i].code, "case %zu", i);
        cr_assert_eq(p.l4_checksum, CHECKSUM_GOOD, "case %zu", i);
    }
}

static void assert_checksums(int version) {
    struct pb_frame f = echo(version);
    f.payload_len = 33; /* odd: the last byte is padded for the sum */
    uint8_t good[DH_FRAME_CAP], bad[DH_FRAME_CAP];
    size_t n = dh_build(&f, good);
    f.bad_l4_checksum = true;
    cr_assert_eq(dh_build(&f, bad), n);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, good, n), DECODE_OK);
    cr_assert_eq(p.l4_checksum, CHECKSUM_GOOD, "IPv%d", version);
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, bad, n), DECODE_OK);
    cr_assert_eq(p.l4_checksum, CHECKSUM_BAD, "IPv%d", version);
    cr_assert_eq(dh_decode(&p, LINK_ETHERNET, bad, n, n, false), DECODE_OK);
    cr_assert_eq(p.l4_checksum, CHECKSUM_UNVERIFIED, "IPv%d", version);
    cr_assert_eq(dh_decode(&p, LINK_ETHERNET, good, n - 1, n, true), DECODE_OK);
    cr_assert_eq(p.l4_checksum, CHECKSUM_UNVERIFIED, "IPv%d", version);
    cr_assert(p.truncated);
    cr_assert_eq(p.payload_captured, 32);
}

Test(icmp, checksum_ipv4) {
    assert_checksums(4);
}

Test(icmp, checksum_ipv6) {
    assert_checksums(6);
}

Test(icmp, icmpv6_checksum_covers_pseudo_header) {
    /* RFC 4443 §2.3: changing the source address alone must break it. */
    struct pb_frame f = echo(6);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    buf[DH_ETH + 8 + 15] ^= 0x02;
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.l4_checksum, CHECKSUM_BAD);
}

Test(icmp, icmpv4_checksum_has_no_pseudo_header) {
    /* RFC 792: the checksum covers the message only; a new source address (header checksum
     * fixed) leaves it good. */
    struct pb_frame f = echo(4);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    buf[DH_ETH + 15] ^= 0x02;
    dh_ipv4_fix_checksum(buf + DH_ETH);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.ip_checksum, CHECKSUM_GOOD);
    cr_assert_eq(p.l4_checksum, CHECKSUM_GOOD);
}

Test(icmp, fewer_than_8_bytes_in_ip_payload) {
    /* An opaque IP payload of 0…7 bytes relabelled as ICMP / ICMPv6. */
    for (int v = 4; v <= 6; v += 2) {
        for (size_t len = 0; len < DH_ICMP; len++) {
            struct pb_frame f = echo(v);
            f.proto = 253;
            f.payload_len = len;
            uint8_t buf[DH_FRAME_CAP];
            size_t n = dh_build(&f, buf);
            if (v == 4) {
                buf[DH_ETH + 9] = DH_PROTO_ICMP;
                dh_ipv4_fix_checksum(buf + DH_ETH);
            } else {
                buf[DH_ETH + 6] = DH_PROTO_ICMPV6;
            }
            struct packet p;
            cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_ICMP_TRUNCATED,
                         "IPv%d, %zu bytes", v, len);
            cr_assert_eq(p.transport, v == 4 ? TRANSPORT_ICMP : TRANSPORT_ICMPV6);
        }
    }
}

Test(icmp, header_cut_by_caplen) {
    for (int v = 4; v <= 6; v += 2) {
        struct pb_frame f = echo(v);
        uint8_t buf[DH_FRAME_CAP];
        size_t n = dh_build(&f, buf);
        for (size_t cut = 0; cut < DH_ICMP; cut++) {
            struct packet p;
            cr_assert_eq(dh_decode(&p, LINK_ETHERNET, buf, icmp_offset(v) + cut, n, true),
                         DECODE_ICMP_TRUNCATED, "IPv%d cut %zu bytes in", v, cut);
        }
        struct packet p;
        cr_assert_eq(dh_decode(&p, LINK_ETHERNET, buf, icmp_offset(v) + DH_ICMP, n, true),
                     DECODE_OK);
        cr_assert_eq(p.payload_captured, 0);
        cr_assert_eq(p.payload_len, 56);
    }
}

Test(icmp, icmp_inside_ipv6_is_other) {
    /* Protocol 1 is ICMP for IPv4 only; IPv6 uses 58. pktbuild still writes an 8-byte header. */
    struct pb_frame f = echo(6);
    f.proto = DH_PROTO_ICMP;
    f.icmp_type = 8;
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.transport, TRANSPORT_OTHER);
    cr_assert_eq(p.ip_proto, DH_PROTO_ICMP);
    cr_assert_eq(p.icmp_type, 0);
    cr_assert_eq(p.sport, 0);
    cr_assert_eq(p.payload_len, DH_ICMP + 56);
}

Test(icmp, icmpv6_inside_ipv4_is_other) {
    struct pb_frame f = echo(4);
    f.proto = DH_PROTO_ICMPV6;
    f.icmp_type = 128;
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.transport, TRANSPORT_OTHER);
    cr_assert_eq(p.ip_proto, DH_PROTO_ICMPV6);
    cr_assert_eq(p.icmp_type, 0);
    cr_assert_eq(p.payload_len, DH_ICMP + 56);
}

Test(icmp, icmpv6_after_extension_header) {
    /* A destination-options header before ICMPv6: the pseudo-header length is the ICMPv6 length. */
    struct pb_frame f = echo(6);
    f.n_ext = 1;
    f.ext[0] = PB_EXT_DSTOPTS;
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.transport, TRANSPORT_ICMPV6);
    cr_assert_eq(p.icmp_type, 128);
    cr_assert_eq(p.payload_len, 56);
    cr_assert_eq(p.l4_checksum, CHECKSUM_GOOD);
}

Test(icmp, icmpv6_offloaded_checksum_is_recognised) {
    /* ICMPv6 sums a pseudo-header too (RFC 4443 §2.3), so its field can hold the partial sum. */
    struct pb_frame f = echo(6);
    f.offloaded_l4_checksum = true;
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.l4_checksum, CHECKSUM_OFFLOADED);
    dh_put16(buf + ICMP6 + 2, (uint16_t)(dh_get16(buf + ICMP6 + 2) + 1));
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.l4_checksum, CHECKSUM_BAD);
}

Test(icmp, icmpv4_has_no_offloaded_checksum) {
    /* RFC 792 has no pseudo-header: a field holding what an IPv4 pseudo-header (addresses,
     * protocol 1, length 64) would sum to is just wrong. */
    struct pb_frame f = echo(4);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    uint64_t pseudo = dh_sum(dh_sum(0, f.src, 4), f.dst, 4) + DH_PROTO_ICMP + DH_ICMP + 56;
    dh_put16(buf + ICMP4 + 2, (uint16_t)~dh_finish(pseudo));
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.l4_checksum, CHECKSUM_BAD);
}
