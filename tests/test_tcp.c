/* test_tcp: the TCP dissector through packet_decode() (flags, numbers, offsets, truncation,
 * checksums over IPv4 and IPv6, payload length) and tcp_options_parse() directly for options. */
#include "dissect_helpers.h"
#include "tcp.h"

enum {
    TCP4 = DH_ETH + DH_IPV4, /* offset of the TCP header in Ethernet / IPv4 */
    TCP6 = DH_ETH + DH_IPV6,
};

static struct pb_frame tcp4(size_t payload) {
    struct pb_frame f = pb_tcp4();
    f.payload_len = payload;
    return f;
}

static struct pb_frame tcp6(size_t payload) {
    struct pb_frame f = pb_tcp6();
    f.payload_len = payload;
    return f;
}

static enum decode_status decode_spec(const struct pb_frame *f, struct packet *p) {
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(f, buf);
    return dh_decode_full(p, LINK_ETHERNET, buf, n);
}

static struct tcp_options parse(const uint8_t *opt, size_t len) {
    struct tcp_options o;
    memset(&o, 0, sizeof o);
    tcp_options_parse(opt, len, &o);
    return o;
}

/* ---- header fields ------------------------------------------------------------------------- */

/* A packet with this flags byte decodes with exactly these flags. */
static void flags_decode_as_sent(size_t flags) {
    struct pb_frame f = tcp4(0);
    f.flags = (uint8_t)flags;
    struct packet p;
    cr_assert_eq(decode_spec(&f, &p), DECODE_OK);
    cr_assert_eq(p.tcp.flags, flags, "flags 0x%02zx decoded as 0x%02x", flags, p.tcp.flags);
    cr_assert_eq(p.l4_checksum, CHECKSUM_GOOD);
}

/* Every value of the flags byte, each in a packet of its own. */
Test(tcp, every_flag_combination) {
    for (size_t flags = 0; flags < 256; flags++)
        flags_decode_as_sent(flags);
}

Test(tcp, flag_bits_are_the_wire_bits) {
    /* RFC 9293 §3.1 and RFC 3168: FIN is the low bit of byte 13, CWR the high one. */
    cr_assert_eq(TCP_FIN, PB_FIN);
    cr_assert_eq(TCP_SYN, PB_SYN);
    cr_assert_eq(TCP_RST, PB_RST);
    cr_assert_eq(TCP_PSH, PB_PSH);
    cr_assert_eq(TCP_ACK, PB_ACK);
    cr_assert_eq(TCP_URG, PB_URG);
    cr_assert_eq(TCP_ECE, PB_ECE);
    cr_assert_eq(TCP_CWR, PB_CWR);
}

Test(tcp, ns_bit_is_not_a_flag) {
    /* The low bit of byte 12 (the old NS bit) sits next to the data offset, outside the flags. */
    struct pb_frame f = tcp4(0);
    f.flags = PB_SYN;
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    buf[TCP4 + 12] = (uint8_t)(buf[TCP4 + 12] | 0x01);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.tcp.flags, TCP_SYN);
    cr_assert_eq(p.tcp.header_len, 20);
}

Test(tcp, header_fields) {
    static const uint8_t data[5] = {'h', 'e', 'l', 'l', 'o'};
    struct pb_frame f = tcp4(sizeof data);
    f.payload = data;
    f.sport = 65535;
    f.dport = 1;
    f.seq = 0xdeadbeefu;
    f.ack = 0x80000001u;
    f.win = 0x1234;
    f.urg_ptr = 0xabcd;
    f.flags = PB_ACK | PB_URG | PB_PSH;
    struct packet p;
    cr_assert_eq(decode_spec(&f, &p), DECODE_OK);
    cr_assert_eq(p.transport, TRANSPORT_TCP);
    cr_assert_eq(p.sport, 65535);
    cr_assert_eq(p.dport, 1);
    cr_assert_eq(p.tcp.seq, 0xdeadbeefu);
    cr_assert_eq(p.tcp.ack, 0x80000001u);
    cr_assert_eq(p.tcp.window, 0x1234);
    cr_assert_eq(p.tcp.urgent, 0xabcd);
    cr_assert_eq(p.tcp.flags, TCP_ACK | TCP_URG | TCP_PSH);
    cr_assert_eq(p.tcp.header_len, 20);
    cr_assert_eq(p.payload_len, 5);
    cr_assert_eq(p.payload_captured, 5);
    cr_assert_eq(p.payload, dh_captured + TCP4 + DH_TCP);
    cr_assert_arr_eq(p.payload, data, 5);
    cr_assert_eq(p.l4_checksum, CHECKSUM_GOOD);
    cr_assert_not(p.tcp.opt.malformed);
    cr_assert_not(p.tcp.opt.has_mss);
}

/* ---- options through packet_decode --------------------------------------------------------- */

Test(tcp, linux_syn_with_all_options) {
    /* What Linux sends in a SYN: MSS 1460, SACK-permitted, timestamps, NOP, window scale 7. */
    static const uint8_t opts[20] = {2,    4,    0x05, 0xb4, 4, 2, 8, 10, 0x01, 0x02,
                                     0x03, 0x04, 0,    0,    0, 0, 1, 3,  3,    7};
    struct pb_frame f = tcp4(0);
    f.flags = PB_SYN;
    f.tcp_options = opts;
    f.tcp_optlen = sizeof opts;
    struct packet p;
    cr_assert_eq(decode_spec(&f, &p), DECODE_OK);
    const struct tcp_options *o = &p.tcp.opt;
    cr_assert_eq(p.tcp.header_len, 40);
    cr_assert(o->has_mss);
    cr_assert_eq(o->mss, 1460);
    cr_assert(o->sack_permitted);
    cr_assert(o->has_timestamps);
    cr_assert_eq(o->ts_val, 0x01020304u);
    cr_assert_eq(o->ts_ecr, 0);
    cr_assert(o->has_wscale);
    cr_assert_eq(o->wscale, 7);
    cr_assert_eq(o->sack_count, 0);
    cr_assert_not(o->malformed);
    cr_assert_eq(p.payload_len, 0);
    cr_assert_eq(p.l4_checksum, CHECKSUM_GOOD);
}

Test(tcp, sack_blocks_one_to_four) {
    /* NOP NOP SACK(2 + 8k) fits 40 option bytes for k ≤ 4. */
    for (uint8_t k = 1; k <= TCP_MAX_SACK_BLOCKS; k++) {
        /* 4 + 8k ≤ 36 bytes used; sized for 5 blocks only to quiet GCC's overflow analysis. */
        uint8_t opts[4 + 8 * (TCP_MAX_SACK_BLOCKS + 1)] = {1, 1, 5, (uint8_t)(2 + 8 * k)};
        for (uint8_t i = 0; i < k; i++) {
            dh_put32(opts + 4 + 8 * i, 1000u * (i + 1u));
            dh_put32(opts + 8 + 8 * i, 1000u * (i + 1u) + 500u);
        }
        struct pb_frame f = tcp6(0);
        f.flags = PB_ACK;
        f.tcp_options = opts;
        f.tcp_optlen = 4u + 8u * k;
        struct packet p;
        cr_assert_eq(decode_spec(&f, &p), DECODE_OK, "%u blocks", k);
        const struct tcp_options *o = &p.tcp.opt;
        cr_assert_not(o->malformed, "%u blocks", k);
        cr_assert_eq(o->sack_count, k);
        for (uint8_t i = 0; i < k; i++) {
            cr_assert_eq(o->sack[i].left, 1000u * (i + 1u), "block %u of %u", i, k);
            cr_assert_eq(o->sack[i].right, 1000u * (i + 1u) + 500u, "block %u of %u", i, k);
        }
    }
}

Test(tcp, timestamps_and_three_sack_blocks) {
    /* Linux's usual ACK with SACK: NOP NOP TS, NOP NOP SACK ×3 = 12 + 28 = 40 bytes. */
    uint8_t opts[40] = {1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 8, 1, 1, 5, 26};
    for (uint32_t i = 0; i < 3; i++) {
        dh_put32(opts + 16 + 8 * i, 0xfffffff0u + 100 * i); /* wraps past 2^32: raw values */
        dh_put32(opts + 20 + 8 * i, 0xfffffff0u + 100 * i + 50);
    }
    struct pb_frame f = tcp4(0);
    f.tcp_options = opts;
    f.tcp_optlen = sizeof opts;
    struct packet p;
    cr_assert_eq(decode_spec(&f, &p), DECODE_OK);
    cr_assert_eq(p.tcp.header_len, 60);
    cr_assert(p.tcp.opt.has_timestamps);
    cr_assert_eq(p.tcp.opt.ts_val, 9);
    cr_assert_eq(p.tcp.opt.ts_ecr, 8);
    cr_assert_eq(p.tcp.opt.sack_count, 3);
    cr_assert_eq(p.tcp.opt.sack[0].left, 0xfffffff0u);
    cr_assert_eq(p.tcp.opt.sack[2].right, 0xfffffff0u + 250u);
}

Test(tcp, malformed_option_still_decodes) {
    /* MSS, then a timestamp option of length 8 (it must be 10): parsing stops there. */
    static const uint8_t opts[12] = {2, 4, 0x05, 0xb4, 8, 8, 0, 0, 0, 1, 0, 0};
    struct pb_frame f = tcp4(3);
    f.flags = PB_SYN;
    f.tcp_options = opts;
    f.tcp_optlen = sizeof opts;
    struct packet p;
    cr_assert_eq(decode_spec(&f, &p), DECODE_OK);
    cr_assert(p.tcp.opt.malformed);
    cr_assert(p.tcp.opt.has_mss);
    cr_assert_eq(p.tcp.opt.mss, 1460);
    cr_assert_not(p.tcp.opt.has_timestamps);
    cr_assert_eq(p.tcp.header_len, 32);
    cr_assert_eq(p.payload_len, 3);
    cr_assert_eq(p.l4_checksum, CHECKSUM_GOOD);
}

/* ---- options through tcp_options_parse ----------------------------------------------------- */

Test(tcp, options_each_alone) {
    static const uint8_t mss[4] = {2, 4, 0x02, 0x18};
    struct tcp_options o = parse(mss, sizeof mss);
    cr_assert(o.has_mss);
    cr_assert_eq(o.mss, 536);
    cr_assert_not(o.has_wscale || o.sack_permitted || o.has_timestamps || o.malformed);

    static const uint8_t ws[3] = {3, 3, 14};
    o = parse(ws, sizeof ws);
    cr_assert(o.has_wscale);
    cr_assert_eq(o.wscale, 14);
    cr_assert_not(o.has_mss || o.malformed);

    static const uint8_t ws_big[3] = {3, 3, 200}; /* kept as sent; clamping is the receiver's */
    o = parse(ws_big, sizeof ws_big);
    cr_assert_eq(o.wscale, 200);

    static const uint8_t sp[2] = {4, 2};
    o = parse(sp, sizeof sp);
    cr_assert(o.sack_permitted);
    cr_assert_not(o.has_mss || o.malformed);

    static const uint8_t ts[10] = {8, 10, 0xff, 0xff, 0xff, 0xfe, 0x80, 0, 0, 1};
    o = parse(ts, sizeof ts);
    cr_assert(o.has_timestamps);
    cr_assert_eq(o.ts_val, 0xfffffffeu);
    cr_assert_eq(o.ts_ecr, 0x80000001u);
    cr_assert_not(o.malformed);
}

Test(tcp, options_empty_and_nop_only) {
    struct tcp_options o = parse(NULL, 0);
    cr_assert_not(o.malformed || o.has_mss);
    uint8_t nops[40];
    memset(nops, 1, sizeof nops);
    o = parse(nops, sizeof nops);
    cr_assert_not(o.malformed || o.has_mss || o.has_wscale || o.sack_permitted);
}

Test(tcp, options_after_eol_ignored) {
    /* An MSS after EOL is not read; neither is garbage that would be malformed. */
    static const uint8_t after_eol[8] = {0, 2, 4, 0x05, 0xb4, 0, 0, 0};
    struct tcp_options o = parse(after_eol, sizeof after_eol);
    cr_assert_not(o.has_mss);
    cr_assert_not(o.malformed);

    static const uint8_t mss_eol_ws[8] = {2, 4, 0x05, 0xb4, 0, 3, 3, 7};
    o = parse(mss_eol_ws, sizeof mss_eol_ws);
    cr_assert(o.has_mss);
    cr_assert_not(o.has_wscale);

    static const uint8_t eol_garbage[4] = {0, 8, 0, 1};
    o = parse(eol_garbage, sizeof eol_garbage);
    cr_assert_not(o.malformed);
    cr_assert_not(o.has_timestamps);
}

Test(tcp, options_after_eol_ignored_in_a_packet) {
    static const uint8_t opts[8] = {1, 0, 2, 4, 0x05, 0xb4, 3, 3};
    struct pb_frame f = tcp4(0);
    f.tcp_options = opts;
    f.tcp_optlen = sizeof opts;
    struct packet p;
    cr_assert_eq(decode_spec(&f, &p), DECODE_OK);
    cr_assert_not(p.tcp.opt.has_mss);
    cr_assert_not(p.tcp.opt.malformed);
}

Test(tcp, unknown_option_kinds_skipped) {
    /* MPTCP (30, length 4), TFO cookie (34, length 10), an unassigned kind of length 2, then MSS.
     */
    static const uint8_t opts[20] = {30, 4, 0, 0, 34, 10, 1, 2, 3,    4,
                                     5,  6, 7, 8, 99, 2,  2, 4, 0x23, 0x28};
    struct tcp_options o = parse(opts, sizeof opts);
    cr_assert_not(o.malformed);
    cr_assert(o.has_mss);
    cr_assert_eq(o.mss, 9000);
}

Test(tcp, malformed_options) {
    static const struct {
        const char *why;
        uint8_t bytes[42];
        size_t len;
    } cases[] = {
        {"length 0", {2, 0, 5, 0xb4}, 4},
        {"length 1", {2, 1, 5, 0xb4}, 4},
        {"unknown kind, length 0", {99, 0, 0, 0}, 4},
        {"unknown kind, length 1", {99, 1, 0, 0}, 4},
        {"MSS runs past the end", {2, 4, 5}, 3},
        {"unknown kind runs past the end", {1, 1, 99, 3}, 4},
        {"kind in the last byte, no length", {1, 1, 1, 2}, 4},
        {"MSS length 3", {2, 3, 5, 0}, 4},
        {"MSS length 5", {2, 5, 5, 0xb4, 0, 0, 0, 0}, 8},
        {"window scale length 2", {3, 2, 0, 0}, 4},
        {"window scale length 4", {3, 4, 7, 0}, 4},
        {"SACK-permitted length 3", {4, 3, 0, 0}, 4},
        {"timestamps length 8", {8, 8, 0, 0, 0, 1, 0, 0}, 8},
        {"timestamps length 11", {8, 11, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0}, 12},
        {"SACK length 2 (no block)", {5, 2, 0, 0}, 4},
        {"SACK length 9", {5, 9, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0}, 12},
        {"SACK length 11", {5, 11, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0}, 12},
        {"SACK length 18 in 12 bytes", {5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0}, 12},
        /* 5 blocks cannot fit in a real header's 40 bytes; given 42 bytes it is still refused,
         * as sack[] holds TCP_MAX_SACK_BLOCKS. */
        {"SACK with 5 blocks", {5, 42}, 42},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct tcp_options o = parse(cases[i].bytes, cases[i].len);
        cr_assert(o.malformed, "%s", cases[i].why);
        cr_assert_not(o.has_mss, "%s", cases[i].why);
        cr_assert_not(o.has_wscale, "%s", cases[i].why);
        cr_assert_not(o.sack_permitted, "%s", cases[i].why);
        cr_assert_not(o.has_timestamps, "%s", cases[i].why);
        cr_assert_eq(o.sack_count, 0, "%s", cases[i].why);
    }
}

Test(tcp, malformed_option_stops_parsing) {
    /* MSS, a window scale of length 4, then SACK-permitted: MSS kept, nothing after. */
    static const uint8_t opts[10] = {2, 4, 0x05, 0xb4, 3, 4, 7, 0, 4, 2};
    struct tcp_options o = parse(opts, sizeof opts);
    cr_assert(o.malformed);
    cr_assert(o.has_mss);
    cr_assert_not(o.has_wscale);
    cr_assert_not(o.sack_permitted);
}

Test(tcp, option_ending_exactly_at_end) {
    /* A timestamp option whose 10 bytes end exactly at the end of the option area. */
    static const uint8_t opts[12] = {1, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6};
    struct tcp_options o = parse(opts, sizeof opts);
    cr_assert_not(o.malformed);
    cr_assert(o.has_timestamps);
    cr_assert_eq(o.ts_val, 5);
    o = parse(opts, sizeof opts - 1); /* one byte short */
    cr_assert(o.malformed);
    cr_assert_not(o.has_timestamps);
}

/* ---- data offset and truncation ------------------------------------------------------------ */

Test(tcp, data_offset_below_5) {
    struct pb_frame f = tcp4(8);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    for (uint8_t off = 0; off < 5; off++) {
        buf[TCP4 + 12] = (uint8_t)(off << 4);
        struct packet p;
        cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_TCP_BAD_OFFSET, "offset %u",
                     off);
        cr_assert_eq(p.transport, TRANSPORT_TCP);
    }
}

Test(tcp, data_offset_beyond_ip_payload) {
    struct pb_frame f = tcp4(0);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    struct packet p;
    buf[TCP4 + 12] = 6 << 4; /* 24 bytes in a 20-byte IP payload */
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_TCP_BAD_OFFSET);

    f = tcp4(39); /* IP payload 59; offset 15 wants 60 */
    n = dh_build(&f, buf);
    buf[TCP4 + 12] = 15 << 4;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_TCP_BAD_OFFSET);

    f = tcp6(39);
    n = dh_build(&f, buf);
    buf[TCP6 + 12] = 15 << 4;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_TCP_BAD_OFFSET);
}

Test(tcp, data_offset_equal_to_ip_payload) {
    /* Offset 15 with 40 payload bytes: the header takes the whole IP payload. pktbuild's payload
     * pattern starts with 0 (EOL), so the "options" end at once. */
    struct pb_frame f = tcp4(40);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    buf[TCP4 + 12] = 15 << 4;
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.tcp.header_len, 60);
    cr_assert_eq(p.payload_len, 0);
    cr_assert_eq(p.payload_captured, 0);
}

/* An IP payload of `len` bytes of protocol 6 that is too short for a TCP header: built as an
 * opaque protocol and relabelled (IPv4's header checksum rewritten). */
static size_t short_ip_payload(uint8_t *buf, int version, size_t len) {
    struct pb_frame f = version == 4 ? tcp4(len) : tcp6(len);
    f.proto = 253;
    size_t n = dh_build(&f, buf);
    if (version == 4) {
        buf[DH_ETH + 9] = DH_PROTO_TCP;
        dh_ipv4_fix_checksum(buf + DH_ETH);
    } else {
        buf[DH_ETH + 6] = DH_PROTO_TCP;
    }
    return n;
}

Test(tcp, ip_payload_shorter_than_header) {
    static const size_t lens[] = {0, 1, 12, 19};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        for (int v = 4; v <= 6; v += 2) {
            uint8_t buf[DH_FRAME_CAP];
            size_t n = short_ip_payload(buf, v, lens[i]);
            struct packet p;
            cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_TCP_BAD_OFFSET,
                         "IPv%d payload %zu", v, lens[i]);
            cr_assert_eq(p.transport, TRANSPORT_TCP);
        }
    }
}

Test(tcp, header_cut_by_caplen) {
    /* 20 + 12 option bytes: cut anywhere inside is TCP_TRUNCATED (the wire held it all). */
    static const uint8_t opts[12] = {2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 2};
    struct pb_frame f = tcp4(5);
    f.tcp_options = opts;
    f.tcp_optlen = sizeof opts;
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    struct packet p;
    for (size_t cut = 0; cut < 32; cut++) {
        cr_assert_eq(dh_decode(&p, LINK_ETHERNET, buf, TCP4 + cut, n, true), DECODE_TCP_TRUNCATED,
                     "cut %zu bytes in", cut);
        cr_assert_eq(p.transport, TRANSPORT_TCP);
    }
    cr_assert_eq(dh_decode(&p, LINK_ETHERNET, buf, TCP4 + 32, n, true), DECODE_OK);
    cr_assert(p.truncated);
    cr_assert(p.tcp.opt.has_wscale);
    cr_assert_eq(p.tcp.opt.wscale, 2);
    cr_assert_eq(p.payload_len, 5);
    cr_assert_eq(p.payload_captured, 0);
}

/* ---- checksums ----------------------------------------------------------------------------- */

static void assert_checksums(struct pb_frame f) {
    uint8_t good[DH_FRAME_CAP], bad[DH_FRAME_CAP];
    size_t n = dh_build(&f, good);
    f.bad_l4_checksum = true;
    cr_assert_eq(dh_build(&f, bad), n);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, good, n), DECODE_OK);
    cr_assert_eq(p.l4_checksum, CHECKSUM_GOOD, "IPv%d", f.ip_version);
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, bad, n), DECODE_OK);
    cr_assert_eq(p.l4_checksum, CHECKSUM_BAD, "IPv%d", f.ip_version);
    /* Not asked to verify. */
    cr_assert_eq(dh_decode(&p, LINK_ETHERNET, bad, n, n, false), DECODE_OK);
    cr_assert_eq(p.l4_checksum, CHECKSUM_UNVERIFIED);
    /* One payload byte not captured: neither can be verified. */
    cr_assert_eq(dh_decode(&p, LINK_ETHERNET, good, n - 1, n, true), DECODE_OK);
    cr_assert_eq(p.l4_checksum, CHECKSUM_UNVERIFIED);
    cr_assert_eq(dh_decode(&p, LINK_ETHERNET, bad, n - 1, n, true), DECODE_OK);
    cr_assert_eq(p.l4_checksum, CHECKSUM_UNVERIFIED);
}

Test(tcp, checksum_ipv4) {
    assert_checksums(tcp4(11)); /* odd length: the last byte is padded for the sum */
}

Test(tcp, checksum_ipv6) {
    assert_checksums(tcp6(11));
}

Test(tcp, checksum_covers_pseudo_header) {
    /* Changing an IPv4 address (header checksum fixed) breaks only the TCP checksum. */
    struct pb_frame f = tcp4(4);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    buf[DH_ETH + 15] ^= 0x01; /* last byte of the source address */
    dh_ipv4_fix_checksum(buf + DH_ETH);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.ip_checksum, CHECKSUM_GOOD);
    cr_assert_eq(p.l4_checksum, CHECKSUM_BAD);
}

Test(tcp, checksum_covers_payload) {
    struct pb_frame f = tcp6(30);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    buf[n - 1] ^= 0x40;
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.l4_checksum, CHECKSUM_BAD);
}

Test(tcp, payload_len_from_ip_length_with_ethernet_padding) {
    /* A bare ACK: 54 bytes padded to the 60-byte minimum with non-zero bytes. */
    struct pb_frame f = tcp4(0);
    f.flags = PB_ACK;
    f.eth_padding = 6;
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    cr_assert_eq(n, 60);
    memset(buf + 54, 0xaa, 6);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.payload_len, 0);
    cr_assert_eq(p.payload_captured, 0);
    cr_assert_not(p.truncated);
    cr_assert_eq(p.l4_checksum, CHECKSUM_GOOD); /* the padding is not summed */
}

Test(tcp, payload_cut_by_snaplen) {
    struct pb_frame f = tcp6(100);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    struct packet p;
    cr_assert_eq(dh_decode(&p, LINK_ETHERNET, buf, TCP6 + DH_TCP + 37, n, true), DECODE_OK);
    cr_assert(p.truncated);
    cr_assert_eq(p.payload_len, 100);
    cr_assert_eq(p.payload_captured, 37);
    cr_assert_eq(p.payload, dh_captured + TCP6 + DH_TCP);
}

/* ---- checksum offload ---------------------------------------------------------------------- */

/* The TCP checksum field of a built frame, and the frame decoded with it replaced by v. */
static enum checksum_state checksum_state_with(struct pb_frame f, uint16_t v) {
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    dh_put16(buf + (f.ip_version == 4 ? TCP4 : TCP6) + 16, v);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    return p.l4_checksum;
}

/* The pseudo-header alone (RFC 9293 §3.1 / RFC 8200 §8.1: addresses, protocol 6, TCP length),
 * folded and not complemented, computed here independently of the dissector. */
static uint16_t tcp_partial_sum(const struct pb_frame *f) {
    size_t alen = f->ip_version == 4 ? 4 : 16;
    uint64_t acc = dh_sum(dh_sum(0, f->src, alen), f->dst, alen);
    acc += DH_PROTO_TCP + DH_TCP + f->tcp_optlen + f->payload_len;
    return (uint16_t)~dh_finish(acc);
}

Test(tcp, offloaded_checksum_is_recognised) {
    /* pktbuild's offloaded frame carries the partial sum: OFFLOADED, not BAD, in both IPs. */
    for (int v = 4; v <= 6; v += 2) {
        struct pb_frame f = v == 4 ? tcp4(11) : tcp6(11);
        f.offloaded_l4_checksum = true;
        struct packet p;
        cr_assert_eq(decode_spec(&f, &p), DECODE_OK);
        cr_assert_eq(p.l4_checksum, CHECKSUM_OFFLOADED, "IPv%d", v);
        /* The same partial sum written by this test, and its complement (both forms are left
         * by senders: Linux writes the first). */
        uint16_t partial = tcp_partial_sum(&f);
        cr_assert_eq(checksum_state_with(f, partial), CHECKSUM_OFFLOADED, "IPv%d", v);
        cr_assert_eq(checksum_state_with(f, (uint16_t)~partial), CHECKSUM_OFFLOADED, "IPv%d", v);
    }
}

Test(tcp, offloaded_checksum_near_misses_are_bad) {
    /* One off the partial sum either way, or the partial sum of a segment one byte longer (the
     * length is part of the pseudo-header): a corrupt checksum, not an offloaded one. */
    struct pb_frame f = tcp4(11);
    uint16_t partial = tcp_partial_sum(&f);
    cr_assert_eq(checksum_state_with(f, (uint16_t)(partial + 1)), CHECKSUM_BAD);
    cr_assert_eq(checksum_state_with(f, (uint16_t)(partial - 1)), CHECKSUM_BAD);
    struct pb_frame longer = tcp4(12);
    cr_assert_eq(checksum_state_with(f, tcp_partial_sum(&longer)), CHECKSUM_BAD);
    /* A zero field: TCP has no "no checksum". */
    cr_assert_eq(checksum_state_with(f, 0), CHECKSUM_BAD);
}

Test(tcp, offloaded_checksum_covers_addresses) {
    /* The partial sum includes the addresses: a new source address (IPv4 header checksum fixed)
     * makes an offloaded segment's field a mismatch. */
    struct pb_frame f = tcp4(11);
    f.offloaded_l4_checksum = true;
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    buf[DH_ETH + 15] ^= 0x02;
    dh_ipv4_fix_checksum(buf + DH_ETH);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.l4_checksum, CHECKSUM_BAD);
    /* Not asked to verify: nothing is classified. */
    cr_assert_eq(dh_decode(&p, LINK_ETHERNET, buf, n, n, false), DECODE_OK);
    cr_assert_eq(p.l4_checksum, CHECKSUM_UNVERIFIED);
}

Test(tcp, offloaded_checksum_as_linux_loopback_leaves_it) {
    /* Taken from `tcpdump -i lo` of curl against a local server: a bare ACK 127.0.0.1 →
     * 127.0.0.1 with a 12-byte timestamp option (TCP length 32) carried 0xfe28 =
     * 0x7f00 + 0x0001 + 0x7f00 + 0x0001 + 6 + 32, the pseudo-header folded. */
    static const uint8_t ts_opt[12] = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2};
    struct pb_frame f = tcp4(0);
    f.flags = PB_ACK;
    f.src[0] = f.dst[0] = 127, f.src[1] = f.dst[1] = 0, f.src[2] = f.dst[2] = 0;
    f.src[3] = f.dst[3] = 1;
    f.tcp_options = ts_opt;
    f.tcp_optlen = sizeof ts_opt;
    cr_assert_eq(checksum_state_with(f, 0xfe28), CHECKSUM_OFFLOADED);
    cr_assert_eq(checksum_state_with(f, 0xfe29), CHECKSUM_BAD);
}
