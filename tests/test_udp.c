/* test_udp: the UDP dissector through packet_decode(): ports, payload length from the UDP length,
 * bad lengths, truncation, and checksums over IPv4 (where 0 means none) and IPv6. */
#include "dissect_helpers.h"

enum {
    UDP4 = DH_ETH + DH_IPV4, /* offset of the UDP header in Ethernet / IPv4 */
    UDP6 = DH_ETH + DH_IPV6,
};

/* Ethernet / IPv{4,6} / UDP 5353 → 53 with `payload` bytes of pktbuild's pattern. */
static struct pb_frame udp(int version, size_t payload) {
    struct pb_frame f = version == 4 ? pb_tcp4() : pb_tcp6();
    f.proto = DH_PROTO_UDP;
    f.sport = 5353;
    f.dport = 53;
    f.payload_len = payload;
    return f;
}

static size_t udp_offset(int version) {
    return version == 4 ? UDP4 : UDP6;
}

/* Rewrites the UDP checksum over the UDP length only (RFC 768 pseudo-header: addresses,
 * protocol, UDP length), independently of both pktbuild and the dissector. */
static void udp_fix_checksum(uint8_t *buf, int version) {
    uint8_t *ip = buf + DH_ETH;
    uint8_t *u = buf + udp_offset(version);
    uint16_t len = dh_get16(u + 4);
    uint64_t acc = version == 4 ? dh_sum(0, ip + 12, 8) : dh_sum(0, ip + 8, 32);
    acc += DH_PROTO_UDP + (uint64_t)len;
    dh_put16(u + 6, 0);
    uint16_t sum = dh_finish(dh_sum(acc, u, len));
    dh_put16(u + 6, sum ? sum : 0xffff);
}

static void assert_fields(int version) {
    static const uint8_t data[13] = "dns question";
    struct pb_frame f = udp(version, sizeof data);
    f.payload = data;
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.transport, TRANSPORT_UDP);
    cr_assert_eq(p.ip_proto, DH_PROTO_UDP);
    cr_assert_eq(p.sport, 5353);
    cr_assert_eq(p.dport, 53);
    cr_assert_eq(p.payload_len, 13);
    cr_assert_eq(p.payload_captured, 13);
    cr_assert_eq(p.payload, dh_captured + udp_offset(version) + DH_UDP);
    cr_assert_arr_eq(p.payload, data, 13);
    cr_assert_eq(p.l4_checksum, CHECKSUM_GOOD);
    cr_assert_not(p.truncated);
}

Test(udp, fields_ipv4) {
    assert_fields(4);
}

Test(udp, fields_ipv6) {
    assert_fields(6);
}

Test(udp, empty_datagram) {
    struct pb_frame f = udp(4, 0);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    cr_assert_eq(dh_get16(buf + UDP4 + 4), 8);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.payload_len, 0);
    cr_assert_eq(p.l4_checksum, CHECKSUM_GOOD);
}

Test(udp, payload_len_from_udp_length) {
    /* IP payload 8 + 20, UDP length 8 + 5: the 15 bytes after the datagram are not payload, and
     * the checksum (rewritten over 13 bytes) covers the datagram only. */
    for (int v = 4; v <= 6; v += 2) {
        struct pb_frame f = udp(v, 20);
        uint8_t buf[DH_FRAME_CAP];
        size_t n = dh_build(&f, buf);
        dh_put16(buf + udp_offset(v) + 4, 13);
        udp_fix_checksum(buf, v);
        struct packet p;
        cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK, "IPv%d", v);
        cr_assert_eq(p.ip_len, (v == 4 ? DH_IPV4 : DH_IPV6) + 28);
        cr_assert_eq(p.payload_len, 5, "IPv%d", v);
        cr_assert_eq(p.payload_captured, 5, "IPv%d", v);
        cr_assert_eq(p.l4_checksum, CHECKSUM_GOOD, "IPv%d", v);
    }
}

Test(udp, payload_len_with_ethernet_padding) {
    struct pb_frame f = udp(4, 3);
    f.eth_padding = 15; /* 14 + 20 + 8 + 3 = 45, padded to 60 */
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    cr_assert_eq(n, 60);
    memset(buf + 45, 0x5c, 15);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.payload_len, 3);
    cr_assert_eq(p.payload_captured, 3);
    cr_assert_eq(p.l4_checksum, CHECKSUM_GOOD);
}

Test(udp, length_below_header) {
    static const uint16_t lens[] = {0, 1, 7};
    for (int v = 4; v <= 6; v += 2) {
        struct pb_frame f = udp(v, 10);
        uint8_t buf[DH_FRAME_CAP];
        size_t n = dh_build(&f, buf);
        for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
            dh_put16(buf + udp_offset(v) + 4, lens[i]);
            struct packet p;
            cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_UDP_BAD_LENGTH,
                         "IPv%d length %u", v, lens[i]);
            cr_assert_eq(p.transport, TRANSPORT_UDP);
        }
    }
}

Test(udp, length_beyond_ip_payload) {
    for (int v = 4; v <= 6; v += 2) {
        struct pb_frame f = udp(v, 10);
        uint8_t buf[DH_FRAME_CAP];
        size_t n = dh_build(&f, buf);
        struct packet p;
        dh_put16(buf + udp_offset(v) + 4, 19); /* IP payload is 18 */
        cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_UDP_BAD_LENGTH, "IPv%d", v);
        dh_put16(buf + udp_offset(v) + 4, 0xffff);
        cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_UDP_BAD_LENGTH, "IPv%d", v);
    }
}

Test(udp, ip_payload_shorter_than_header) {
    /* An opaque 6-byte IP payload relabelled as UDP: the length field itself is not all there. */
    for (int v = 4; v <= 6; v += 2) {
        struct pb_frame f = udp(v, 6);
        f.proto = 253;
        uint8_t buf[DH_FRAME_CAP];
        size_t n = dh_build(&f, buf);
        if (v == 4) {
            buf[DH_ETH + 9] = DH_PROTO_UDP;
            dh_ipv4_fix_checksum(buf + DH_ETH);
        } else {
            buf[DH_ETH + 6] = DH_PROTO_UDP;
        }
        struct packet p;
        cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_UDP_BAD_LENGTH, "IPv%d", v);
    }
}

Test(udp, header_cut_by_caplen) {
    for (int v = 4; v <= 6; v += 2) {
        struct pb_frame f = udp(v, 10);
        uint8_t buf[DH_FRAME_CAP];
        size_t n = dh_build(&f, buf);
        for (size_t cut = 0; cut < DH_UDP; cut++) {
            struct packet p;
            cr_assert_eq(dh_decode(&p, LINK_ETHERNET, buf, udp_offset(v) + cut, n, true),
                         DECODE_UDP_TRUNCATED, "IPv%d cut %zu bytes in", v, cut);
            cr_assert_eq(p.transport, TRANSPORT_UDP);
        }
    }
}

Test(udp, payload_cut_by_caplen) {
    struct pb_frame f = udp(6, 40);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    struct packet p;
    cr_assert_eq(dh_decode(&p, LINK_ETHERNET, buf, n - 15, n, true), DECODE_OK);
    cr_assert(p.truncated);
    cr_assert_eq(p.payload_len, 40);
    cr_assert_eq(p.payload_captured, 25);
    cr_assert_eq(p.l4_checksum, CHECKSUM_UNVERIFIED);
}

/* ---- checksums ----------------------------------------------------------------------------- */

static void assert_checksums(int version) {
    struct pb_frame f = udp(version, 21);
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
    cr_assert_eq(dh_decode(&p, LINK_ETHERNET, bad, n - 1, n, true), DECODE_OK);
    cr_assert_eq(p.l4_checksum, CHECKSUM_UNVERIFIED, "IPv%d", version);
}

Test(udp, checksum_ipv4) {
    assert_checksums(4);
}

Test(udp, checksum_ipv6) {
    assert_checksums(6);
}

Test(udp, checksum_zero_over_ipv4_is_unverified) {
    /* RFC 768: 0 means the sender computed none. pktbuild's real checksum here is not 0 (it
     * writes 0xffff for a computed 0), so verifying it would say BAD. */
    struct pb_frame f = udp(4, 21);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    cr_assert_neq(dh_get16(buf + UDP4 + 6), 0);
    dh_put16(buf + UDP4 + 6, 0);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.l4_checksum, CHECKSUM_UNVERIFIED);
    cr_assert_eq(p.payload_len, 21);
}

Test(udp, checksum_zero_over_ipv6_is_bad) {
    /* RFC 8200 §8.1: IPv6 has no "no checksum"; a zero field is verified like any other. */
    struct pb_frame f = udp(6, 21);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    uint16_t real = dh_get16(buf + UDP6 + 6);
    cr_assert(real != 0 && real != 0xffff, "pick another payload: 0 would verify here");
    dh_put16(buf + UDP6 + 6, 0);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.l4_checksum, CHECKSUM_BAD);
}

Test(udp, checksum_covers_pseudo_header) {
    /* Swapping in another IPv6 destination breaks the UDP checksum (the ports stay). */
    struct pb_frame f = udp(6, 4);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    buf[DH_ETH + 39] ^= 0x80;
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.l4_checksum, CHECKSUM_BAD);
    cr_assert_eq(p.dport, 53);
}

/* ---- checksum offload ---------------------------------------------------------------------- */

/* The frame decoded with its UDP checksum field replaced by v. */
static enum checksum_state udp_state_with(const struct pb_frame *f, uint16_t v) {
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(f, buf);
    dh_put16(buf + udp_offset(f->ip_version) + 6, v);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    return p.l4_checksum;
}

Test(udp, offloaded_checksum_is_recognised) {
    /* pktbuild writes the pseudo-header's folded sum: OFFLOADED over both IPs; one off: BAD. */
    for (int v = 4; v <= 6; v += 2) {
        struct pb_frame f = udp(v, 21);
        f.offloaded_l4_checksum = true;
        uint8_t buf[DH_FRAME_CAP];
        size_t n = dh_build(&f, buf);
        uint16_t partial = dh_get16(buf + udp_offset(v) + 6);
        struct packet p;
        cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
        cr_assert_eq(p.l4_checksum, CHECKSUM_OFFLOADED, "IPv%d", v);
        cr_assert_eq(udp_state_with(&f, (uint16_t)~partial), CHECKSUM_OFFLOADED, "IPv%d", v);
        cr_assert_eq(udp_state_with(&f, (uint16_t)(partial + 1)), CHECKSUM_BAD, "IPv%d", v);
    }
}

Test(udp, offloaded_checksum_as_linux_loopback_leaves_it) {
    /* From `tcpdump -i lo`: 5 bytes 127.0.0.1 → 127.0.0.1 carried 0xfe20 = 0x7f00 + 1 + 0x7f00 + 1
     * + 17 + 13 (UDP length); 6 bytes ::1 → ::1 carried 0x0021 = 1 + 1 + 17 + 14. */
    struct pb_frame f4 = udp(4, 5), f6 = udp(6, 6);
    memset(f4.src, 0, sizeof f4.src), memset(f4.dst, 0, sizeof f4.dst);
    memset(f6.src, 0, sizeof f6.src), memset(f6.dst, 0, sizeof f6.dst);
    f4.src[0] = f4.dst[0] = 127, f4.src[3] = f4.dst[3] = 1;
    f6.src[15] = f6.dst[15] = 1;
    cr_assert_eq(udp_state_with(&f4, 0xfe20), CHECKSUM_OFFLOADED);
    cr_assert_eq(udp_state_with(&f6, 0x0021), CHECKSUM_OFFLOADED);
    cr_assert_eq(udp_state_with(&f6, 0x0022), CHECKSUM_BAD);
}
