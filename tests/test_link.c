/* test_link: the link-layer dissectors through packet_decode(): Ethernet with 802.1Q/802.1ad tags
 * and MPLS, Linux SLL/SLL2, raw IP, BSD null/loop, truncated link headers; and the status names. */
#include "dissect_helpers.h"
#include "link.h"

enum {
    ETHERTYPE_IPV4 = 0x0800,
    ETHERTYPE_ARP = 0x0806,
    ETHERTYPE_VLAN = 0x8100,
    ETHERTYPE_QINQ = 0x88a8,
    ETHERTYPE_IPV6 = 0x86dd,
    ETHERTYPE_MPLS = 0x8847,
};

/* A TCP segment with 4 payload bytes in the given link layer. */
static struct pb_frame tcp_on(enum pb_link link, int version) {
    struct pb_frame f = version == 4 ? pb_tcp4() : pb_tcp6();
    f.link = link;
    f.payload_len = 4;
    return f;
}

/* The network and transport layers were found where the link dissector left the cursor: the
 * ports and a good checksum can only come out of correctly aligned headers. */
static void assert_tcp_decoded(const struct packet *p, int version) {
    cr_assert_eq(p->net, version == 4 ? NET_IPV4 : NET_IPV6);
    cr_assert_eq(p->ip_version, version);
    cr_assert_eq(p->transport, TRANSPORT_TCP);
    cr_assert_eq(p->sport, 40000);
    cr_assert_eq(p->dport, 80);
    cr_assert_eq(p->l4_checksum, CHECKSUM_GOOD);
    cr_assert_eq(p->payload_len, 4);
}

static void assert_decodes_tcp(const struct pb_frame *f, int link, int version) {
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(f, buf);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, link, buf, n), DECODE_OK, "link %d", link);
    assert_tcp_decoded(&p, version);
}

/* Ethernet header (zero MACs) with the given ethertype, then body. */
static size_t ether_frame(uint8_t *buf, uint16_t type, const uint8_t *body, size_t len) {
    memset(buf, 0, 12);
    dh_put16(buf + 12, type);
    memcpy(buf + DH_ETH, body, len);
    return DH_ETH + len;
}

/* An ARP request body (RFC 826, Ethernet/IPv4: 28 bytes). */
static const uint8_t arp_body[28] = {0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01, 2, 0, 0,  0, 0, 1,
                                     10,   0,    0,    1,    0, 0, 0,    0,    0, 0, 10, 0, 0, 2};

/* ---- Ethernet ------------------------------------------------------------------------------ */

Test(link, ethernet_ipv4) {
    struct pb_frame f = tcp_on(PB_LINK_ETHERNET, 4);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.ethertype, ETHERTYPE_IPV4);
    cr_assert_eq(p.vlan_count, 0);
    cr_assert_eq(p.mpls_count, 0);
    assert_tcp_decoded(&p, 4);
}

Test(link, ethernet_ipv6) {
    struct pb_frame f = tcp_on(PB_LINK_ETHERNET, 6);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.ethertype, ETHERTYPE_IPV6);
    assert_tcp_decoded(&p, 6);
}

Test(link, vlan_8021q_one_tag) {
    struct pb_frame f = tcp_on(PB_LINK_ETHERNET, 4);
    f.nvlan = 1;
    f.vlan_id[0] = 100;
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    cr_assert_eq(dh_get16(buf + 12), ETHERTYPE_VLAN);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.vlan_count, 1);
    cr_assert_eq(p.vlan_id[0], 100);
    cr_assert_eq(p.vlan_id[1], 0);
    cr_assert_eq(p.ethertype, ETHERTYPE_IPV4); /* the type after the tag, not 0x8100 */
    assert_tcp_decoded(&p, 4);
}

Test(link, vlan_id_excludes_priority_and_dei) {
    struct pb_frame f = tcp_on(PB_LINK_ETHERNET, 6);
    f.nvlan = 1;
    f.vlan_id[0] = 0x123;
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    buf[14] = (uint8_t)(buf[14] | 0xf0); /* TCI: PCP 7, DEI 1, VID unchanged */
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.vlan_id[0], 0x123);
    assert_tcp_decoded(&p, 6);
}

Test(link, qinq_8021ad_then_8021q) {
    struct pb_frame f = tcp_on(PB_LINK_ETHERNET, 4);
    f.nvlan = 2;
    f.vlan_tpid[0] = ETHERTYPE_QINQ;
    f.vlan_id[0] = 200; /* S-tag, outer */
    f.vlan_tpid[1] = ETHERTYPE_VLAN;
    f.vlan_id[1] = 300; /* C-tag, inner */
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.vlan_count, 2);
    cr_assert_eq(p.vlan_id[0], 200);
    cr_assert_eq(p.vlan_id[1], 300);
    cr_assert_eq(p.ethertype, ETHERTYPE_IPV4);
    assert_tcp_decoded(&p, 4);
}

Test(link, qinq_legacy_9100_tag) {
    struct pb_frame f = tcp_on(PB_LINK_ETHERNET, 6);
    f.nvlan = 2;
    f.vlan_tpid[0] = 0x9100;
    f.vlan_id[0] = 7;
    f.vlan_id[1] = 8;
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.vlan_count, 2);
    cr_assert_eq(p.vlan_id[0], 7);
    cr_assert_eq(p.vlan_id[1], 8);
    assert_tcp_decoded(&p, 6);
}

Test(link, three_tags_counted_outer_two_kept) {
    struct pb_frame f = tcp_on(PB_LINK_ETHERNET, 4);
    f.nvlan = 3;
    f.vlan_id[0] = 11;
    f.vlan_id[1] = 22;
    f.vlan_id[2] = 33;
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.vlan_count, 3); /* may exceed PACKET_MAX_VLANS */
    cr_assert_eq(p.vlan_id[0], 11);
    cr_assert_eq(p.vlan_id[1], 22);
    assert_tcp_decoded(&p, 4);
}

static void assert_mpls(size_t labels, int version) {
    struct pb_frame f = tcp_on(PB_LINK_ETHERNET, version);
    f.nmpls = labels;
    for (size_t i = 0; i < labels; i++)
        f.mpls_label[i] = (uint32_t)(1000 + i);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK, "%zu labels", labels);
    cr_assert_eq(p.mpls_count, labels);
    cr_assert_eq(p.ethertype, ETHERTYPE_MPLS);
    cr_assert_eq(p.vlan_count, 0);
    assert_tcp_decoded(&p, version);
}

Test(link, mpls_one_label_ipv4) {
    assert_mpls(1, 4);
}

Test(link, mpls_one_label_ipv6) {
    assert_mpls(1, 6);
}

Test(link, mpls_three_labels_ipv4) {
    assert_mpls(3, 4);
}

Test(link, mpls_three_labels_ipv6) {
    assert_mpls(3, 6);
}

Test(link, mpls_unknown_payload_is_other) {
    /* The payload type after the bottom label is guessed from the version nibble; 5 is neither. */
    struct pb_frame f = tcp_on(PB_LINK_ETHERNET, 4);
    f.nmpls = 1;
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    buf[DH_ETH + DH_MPLS] = 0x55;
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.net, NET_OTHER);
    cr_assert_eq(p.transport, TRANSPORT_NONE);
}

Test(link, mpls_multicast_ethertype) {
    struct pb_frame f = tcp_on(PB_LINK_ETHERNET, 4);
    f.nmpls = 2;
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    dh_put16(buf + 12, 0x8848); /* RFC 5332 multicast MPLS: same label stack format */
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.mpls_count, 2);
    assert_tcp_decoded(&p, 4);
}

Test(link, vlan_then_mpls) {
    struct pb_frame f = tcp_on(PB_LINK_ETHERNET, 6);
    f.nvlan = 1;
    f.vlan_id[0] = 42;
    f.nmpls = 2;
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.vlan_count, 1);
    cr_assert_eq(p.vlan_id[0], 42);
    cr_assert_eq(p.mpls_count, 2);
    assert_tcp_decoded(&p, 6);
}

/* LINK_MAX_TAGS counts VLAN tags and MPLS labels together. */
Test(link, max_tags_accepted) {
    static const size_t splits[][2] = {{LINK_MAX_TAGS, 0}, {0, LINK_MAX_TAGS}, {4, 4}};
    for (size_t i = 0; i < sizeof splits / sizeof splits[0]; i++) {
        struct pb_frame f = tcp_on(PB_LINK_ETHERNET, 4);
        f.nvlan = splits[i][0];
        f.nmpls = splits[i][1];
        uint8_t buf[DH_FRAME_CAP];
        size_t n = dh_build(&f, buf);
        struct packet p;
        cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK, "%zu vlan + %zu mpls",
                     f.nvlan, f.nmpls);
        cr_assert_eq(p.vlan_count, f.nvlan);
        cr_assert_eq(p.mpls_count, f.nmpls);
        assert_tcp_decoded(&p, 4);
    }
}

Test(link, too_many_tags_vlan_plus_mpls) {
    static const size_t splits[][2] = {{LINK_MAX_TAGS, 1}, {1, LINK_MAX_TAGS}, {5, 4}};
    for (size_t i = 0; i < sizeof splits / sizeof splits[0]; i++) {
        struct pb_frame f = tcp_on(PB_LINK_ETHERNET, 4);
        f.nvlan = splits[i][0];
        f.nmpls = splits[i][1];
        uint8_t buf[DH_FRAME_CAP];
        size_t n = dh_build(&f, buf);
        struct packet p;
        cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_LINK_TOO_MANY_TAGS,
                     "%zu vlan + %zu mpls", f.nvlan, f.nmpls);
    }
}

Test(link, too_many_vlan_tags) {
    /* Hand-built: LINK_MAX_TAGS + 1 802.1Q tags (pktbuild stops at PB_MAX_TAGS), then IPv4. */
    uint8_t buf[DH_FRAME_CAP];
    memset(buf, 0, sizeof buf);
    size_t off = 12;
    for (unsigned i = 0; i < LINK_MAX_TAGS + 1; i++) {
        dh_put16(buf + off, ETHERTYPE_VLAN);
        dh_put16(buf + off + 2, (uint16_t)(i + 1));
        off += 4;
    }
    dh_put16(buf + off, ETHERTYPE_IPV4);
    off += 2;
    buf[off] = 0x45;
    size_t n = off + 60;
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_LINK_TOO_MANY_TAGS);
}

Test(link, too_many_mpls_labels) {
    /* Hand-built: LINK_MAX_TAGS + 1 labels, bottom-of-stack only on the last. */
    uint8_t buf[DH_FRAME_CAP];
    memset(buf, 0, sizeof buf);
    dh_put16(buf + 12, ETHERTYPE_MPLS);
    size_t off = DH_ETH;
    for (unsigned i = 0; i < LINK_MAX_TAGS + 1; i++) {
        uint32_t bos = i == LINK_MAX_TAGS ? 0x100u : 0;
        dh_put32(buf + off, (16u + i) << 12 | bos | 64u);
        off += 4;
    }
    buf[off] = 0x45;
    size_t n = off + 60;
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_LINK_TOO_MANY_TAGS);
}

Test(link, arp) {
    uint8_t buf[DH_FRAME_CAP];
    size_t n = ether_frame(buf, ETHERTYPE_ARP, arp_body, sizeof arp_body);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.net, NET_ARP);
    cr_assert_eq(p.ethertype, ETHERTYPE_ARP);
    cr_assert_eq(p.ip_version, 0);
    cr_assert_eq(p.transport, TRANSPORT_NONE);
}

Test(link, vlan_tagged_arp) {
    uint8_t body[4 + sizeof arp_body];
    dh_put16(body, 5);                 /* TCI: VLAN 5 */
    dh_put16(body + 2, ETHERTYPE_ARP); /* inner type */
    memcpy(body + 4, arp_body, sizeof arp_body);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = ether_frame(buf, ETHERTYPE_VLAN, body, sizeof body);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
    cr_assert_eq(p.net, NET_ARP);
    cr_assert_eq(p.vlan_count, 1);
    cr_assert_eq(p.vlan_id[0], 5);
}

Test(link, ieee8023_length_field_is_other) {
    /* 802.3: values below 0x0600 are a length, followed by LLC (here DSAP/SSAP 0x42 = STP). */
    static const uint8_t llc[38] = {0x42, 0x42, 0x03};
    static const uint16_t lengths[] = {0x0026, 0x05dc, 0x05ff};
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        uint8_t buf[DH_FRAME_CAP];
        size_t n = ether_frame(buf, lengths[i], llc, sizeof llc);
        struct packet p;
        cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
        cr_assert_eq(p.net, NET_OTHER);
        cr_assert_eq(p.ethertype, 0, "a length field is no ethertype");
        cr_assert_eq(p.transport, TRANSPORT_NONE);
    }
}

Test(link, unknown_ethertype_is_other) {
    /* 0x88cc (LLDP) and 0x0600 (the smallest value that is a type, not a length). */
    static const uint16_t types[] = {0x88cc, 0x0600};
    static const uint8_t body[46] = {0x45}; /* looks like IPv4, must not be taken for it */
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        uint8_t buf[DH_FRAME_CAP];
        size_t n = ether_frame(buf, types[i], body, sizeof body);
        struct packet p;
        cr_assert_eq(dh_decode_full(&p, LINK_ETHERNET, buf, n), DECODE_OK);
        cr_assert_eq(p.net, NET_OTHER);
        cr_assert_eq(p.ethertype, types[i]);
        cr_assert_eq(p.ip_version, 0);
        cr_assert_eq(p.transport, TRANSPORT_NONE);
    }
}

/* ---- Linux cooked captures ----------------------------------------------------------------- */

Test(link, sll_ipv4) {
    struct pb_frame f = tcp_on(PB_LINK_SLL, 4);
    assert_decodes_tcp(&f, LINK_LINUX_SLL, 4);
}

Test(link, sll_ipv6) {
    struct pb_frame f = tcp_on(PB_LINK_SLL, 6);
    assert_decodes_tcp(&f, LINK_LINUX_SLL, 6);
}

Test(link, sll2_ipv4) {
    struct pb_frame f = tcp_on(PB_LINK_SLL2, 4);
    assert_decodes_tcp(&f, LINK_LINUX_SLL2, 4);
}

Test(link, sll2_ipv6) {
    struct pb_frame f = tcp_on(PB_LINK_SLL2, 6);
    assert_decodes_tcp(&f, LINK_LINUX_SLL2, 6);
}

Test(link, sll_protocol_is_the_ethertype) {
    struct pb_frame f = tcp_on(PB_LINK_SLL, 6);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_LINUX_SLL, buf, n), DECODE_OK);
    cr_assert_eq(p.ethertype, ETHERTYPE_IPV6);
    /* SLL protocol 0x0004 (802.2 frames): not IP. */
    dh_put16(buf + 14, 0x0004);
    cr_assert_eq(dh_decode_full(&p, LINK_LINUX_SLL, buf, n), DECODE_OK);
    cr_assert_eq(p.net, NET_OTHER);
    cr_assert_eq(p.transport, TRANSPORT_NONE);
}

Test(link, sll2_protocol_is_the_ethertype) {
    struct pb_frame f = tcp_on(PB_LINK_SLL2, 4);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_LINUX_SLL2, buf, n), DECODE_OK);
    cr_assert_eq(p.ethertype, ETHERTYPE_IPV4);
    dh_put16(buf, ETHERTYPE_ARP); /* SLL2 carries the protocol in its first field */
    cr_assert_eq(dh_decode_full(&p, LINK_LINUX_SLL2, buf, n), DECODE_OK);
    cr_assert_eq(p.net, NET_ARP);
}

/* ---- raw IP, LINKTYPE_IPV4/IPV6 ------------------------------------------------------------ */

Test(link, raw_ipv4_both_link_values) {
    struct pb_frame f = tcp_on(PB_LINK_RAW, 4);
    assert_decodes_tcp(&f, LINK_RAW_DLT, 4); /* 12, what libpcap reports on Linux */
    assert_decodes_tcp(&f, LINK_RAW, 4);     /* 101, what files store */
}

Test(link, raw_ipv6_both_link_values) {
    struct pb_frame f = tcp_on(PB_LINK_RAW, 6);
    assert_decodes_tcp(&f, LINK_RAW_DLT, 6);
    assert_decodes_tcp(&f, LINK_RAW, 6);
}

Test(link, raw_unknown_version_is_other) {
    struct pb_frame f = tcp_on(PB_LINK_RAW, 4);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    buf[0] = 0x55; /* version 5 */
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_RAW, buf, n), DECODE_OK);
    cr_assert_eq(p.net, NET_OTHER);
    cr_assert_eq(p.transport, TRANSPORT_NONE);
}

Test(link, linktype_ipv4) {
    struct pb_frame f = tcp_on(PB_LINK_IPV4, 4);
    assert_decodes_tcp(&f, LINK_IPV4, 4);
}

Test(link, linktype_ipv6) {
    struct pb_frame f = tcp_on(PB_LINK_IPV6, 6);
    assert_decodes_tcp(&f, LINK_IPV6, 6);
}

Test(link, linktype_ip_does_not_guess_version) {
    /* LINKTYPE_IPV4/IPV6 say what follows; a packet of the other version is a bad version. */
    uint8_t buf[DH_FRAME_CAP];
    struct packet p;
    struct pb_frame f6 = tcp_on(PB_LINK_RAW, 6);
    size_t n = dh_build(&f6, buf);
    cr_assert_eq(dh_decode_full(&p, LINK_IPV4, buf, n), DECODE_IPV4_BAD_VERSION);
    cr_assert_eq(p.net, NET_IPV4);
    struct pb_frame f4 = tcp_on(PB_LINK_RAW, 4);
    n = dh_build(&f4, buf);
    cr_assert_eq(dh_decode_full(&p, LINK_IPV6, buf, n), DECODE_IPV6_BAD_VERSION);
    cr_assert_eq(p.net, NET_IPV6);
}

/* ---- BSD loopback -------------------------------------------------------------------------- */

static void put_family(uint8_t *b, uint32_t af, bool little_endian) {
    if (little_endian) {
        b[0] = (uint8_t)af;
        b[1] = (uint8_t)(af >> 8);
        b[2] = (uint8_t)(af >> 16);
        b[3] = (uint8_t)(af >> 24);
    } else {
        dh_put32(b, af);
    }
}

static void assert_family(int link, uint32_t af, bool little_endian, int version) {
    struct pb_frame f = tcp_on(link == LINK_NULL ? PB_LINK_NULL : PB_LINK_LOOP, version);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    put_family(buf, af, little_endian);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, link, buf, n), DECODE_OK, "link %d af %u %s", link, af,
                 little_endian ? "LE" : "BE");
    assert_tcp_decoded(&p, version);
}

Test(link, null_ipv4_both_byte_orders) {
    assert_family(LINK_NULL, 2, true, 4);
    assert_family(LINK_NULL, 2, false, 4);
}

Test(link, null_ipv6_families_both_byte_orders) {
    /* AF_INET6 is 24 on OpenBSD/NetBSD, 28 on FreeBSD, 30 on macOS. */
    static const uint32_t families[] = {24, 28, 30};
    for (size_t i = 0; i < 3; i++) {
        assert_family(LINK_NULL, families[i], true, 6);
        assert_family(LINK_NULL, families[i], false, 6);
    }
}

Test(link, null_as_pktbuild_writes_it) {
    /* pktbuild writes little-endian 2 / 30: no patching. */
    struct pb_frame f4 = tcp_on(PB_LINK_NULL, 4);
    assert_decodes_tcp(&f4, LINK_NULL, 4);
    struct pb_frame f6 = tcp_on(PB_LINK_NULL, 6);
    assert_decodes_tcp(&f6, LINK_NULL, 6);
}

Test(link, null_unknown_family_is_other) {
    struct pb_frame f = tcp_on(PB_LINK_NULL, 4);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    put_family(buf, 7, true);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_NULL, buf, n), DECODE_OK);
    cr_assert_eq(p.net, NET_OTHER);
    cr_assert_eq(p.transport, TRANSPORT_NONE);
}

Test(link, loop_ipv4_and_ipv6) {
    struct pb_frame f4 = tcp_on(PB_LINK_LOOP, 4);
    assert_decodes_tcp(&f4, LINK_LOOP, 4);
    struct pb_frame f6 = tcp_on(PB_LINK_LOOP, 6);
    assert_decodes_tcp(&f6, LINK_LOOP, 6);
    assert_family(LINK_LOOP, 28, false, 6);
    assert_family(LINK_LOOP, 30, false, 6);
}

Test(link, loop_is_network_order_only) {
    /* LINKTYPE_LOOP is always big-endian: a little-endian 2 reads as 0x02000000, unknown. */
    struct pb_frame f = tcp_on(PB_LINK_LOOP, 4);
    uint8_t buf[DH_FRAME_CAP];
    size_t n = dh_build(&f, buf);
    put_family(buf, 2, true);
    struct packet p;
    cr_assert_eq(dh_decode_full(&p, LINK_LOOP, buf, n), DECODE_OK);
    cr_assert_eq(p.net, NET_OTHER);
}

/* ---- unsupported and truncated link headers ------------------------------------------------ */

Test(link, unsupported_link_types) {
    static const int links[] = {-1, 2, 9, 105, 127, 230, 275, 9999};
    uint8_t buf[DH_FRAME_CAP];
    struct pb_frame f = tcp_on(PB_LINK_ETHERNET, 4);
    size_t n = dh_build(&f, buf);
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        struct packet p;
        cr_assert_eq(dh_decode_full(&p, links[i], buf, n), DECODE_LINK_UNSUPPORTED, "link %d",
                     links[i]);
        cr_assert_eq(p.net, NET_NONE);
        cr_assert_eq(p.transport, TRANSPORT_NONE);
    }
}

struct link_case {
    const char *name;
    enum pb_link pb;
    int link;
    size_t nvlan, nmpls;
    uint16_t tpid0;
    size_t header; /* caplen below this is DECODE_LINK_TRUNCATED */
};

/* header = bytes before the IP header, except raw IP, which needs the version nibble's byte. */
static const struct link_case link_cases[] = {
    {"ethernet", PB_LINK_ETHERNET, LINK_ETHERNET, 0, 0, 0, DH_ETH},
    {"ethernet+802.1q", PB_LINK_ETHERNET, LINK_ETHERNET, 1, 0, 0, DH_ETH + DH_VLAN},
    {"ethernet+qinq", PB_LINK_ETHERNET, LINK_ETHERNET, 2, 0, ETHERTYPE_QINQ, DH_ETH + 2 * DH_VLAN},
    {"ethernet+mpls1", PB_LINK_ETHERNET, LINK_ETHERNET, 0, 1, 0, DH_ETH + DH_MPLS},
    {"ethernet+mpls3", PB_LINK_ETHERNET, LINK_ETHERNET, 0, 3, 0, DH_ETH + 3 * DH_MPLS},
    {"ethernet+vlan+mpls2", PB_LINK_ETHERNET, LINK_ETHERNET, 1, 2, 0,
     DH_ETH + DH_VLAN + 2 * DH_MPLS},
    {"sll", PB_LINK_SLL, LINK_LINUX_SLL, 0, 0, 0, DH_SLL},
    {"sll2", PB_LINK_SLL2, LINK_LINUX_SLL2, 0, 0, 0, DH_SLL2},
    {"null", PB_LINK_NULL, LINK_NULL, 0, 0, 0, DH_NULL},
    {"loop", PB_LINK_LOOP, LINK_LOOP, 0, 0, 0, DH_NULL},
    {"raw12", PB_LINK_RAW, LINK_RAW_DLT, 0, 0, 0, 1},
    {"raw101", PB_LINK_RAW, LINK_RAW, 0, 0, 0, 1},
};

static size_t build_case(const struct link_case *lc, uint8_t *buf) {
    struct pb_frame f = tcp_on(lc->pb, 4);
    f.nvlan = lc->nvlan;
    f.vlan_tpid[0] = lc->tpid0;
    f.nmpls = lc->nmpls;
    return dh_build(&f, buf);
}

Test(link, every_caplen_short_of_link_header_is_truncated) {
    for (size_t i = 0; i < sizeof link_cases / sizeof link_cases[0]; i++) {
        const struct link_case *lc = &link_cases[i];
        uint8_t buf[DH_FRAME_CAP];
        size_t n = build_case(lc, buf);
        for (size_t caplen = 0; caplen < lc->header; caplen++) {
            struct packet p;
            cr_assert_eq(dh_decode(&p, lc->link, buf, caplen, n, true), DECODE_LINK_TRUNCATED,
                         "%s caplen %zu", lc->name, caplen);
            cr_assert_eq(p.transport, TRANSPORT_NONE);
        }
    }
}

Test(link, cut_at_network_header_is_network_truncated) {
    /* With the link header whole, the next thing missing is the IPv4 header. (MPLS is in
     * mpls_cut_after_bottom_label_is_link_truncated: its payload type comes from the IP header.) */
    for (size_t i = 0; i < sizeof link_cases / sizeof link_cases[0]; i++) {
        const struct link_case *lc = &link_cases[i];
        if (lc->nmpls > 0)
            continue;
        uint8_t buf[DH_FRAME_CAP];
        size_t n = build_case(lc, buf);
        struct packet p;
        cr_assert_eq(dh_decode(&p, lc->link, buf, lc->header, n, true), DECODE_IPV4_TRUNCATED, "%s",
                     lc->name);
        cr_assert_eq(p.net, NET_IPV4, "%s", lc->name);
        cr_assert_eq(p.vlan_count, lc->nvlan, "%s", lc->name);
    }
}

Test(link, linktype_ip_with_nothing_captured) {
    /* LINKTYPE_IPV4/IPV6 have no link header: an empty capture is a truncated IP header. */
    uint8_t buf[DH_FRAME_CAP];
    struct pb_frame f = tcp_on(PB_LINK_IPV4, 4);
    size_t n = dh_build(&f, buf);
    struct packet p;
    cr_assert_eq(dh_decode(&p, LINK_IPV4, buf, 0, n, true), DECODE_IPV4_TRUNCATED);
    cr_assert_eq(dh_decode(&p, LINK_IPV6, buf, 0, n, true), DECODE_IPV6_TRUNCATED);
}

/* The label stack does not say what it carries; the IP version nibble does. A capture ending right
 * after the bottom label is a truncated link header (as for raw IP), not an unknown protocol.
 * (Regression: link.c once returned DECODE_OK / NET_OTHER here.) */
Test(link, mpls_cut_after_bottom_label_is_link_truncated) {
    for (size_t labels = 1; labels <= 3; labels += 2) {
        struct pb_frame f = tcp_on(PB_LINK_ETHERNET, 4);
        f.nmpls = labels;
        uint8_t buf[DH_FRAME_CAP];
        size_t n = dh_build(&f, buf);
        struct packet p;
        enum decode_status st =
            dh_decode(&p, LINK_ETHERNET, buf, DH_ETH + labels * DH_MPLS, n, true);
        cr_assert_eq(st, DECODE_LINK_TRUNCATED, "%zu labels: got %s (net %s)", labels,
                     decode_status_name(st), net_proto_name(p.net));
        /* One more byte, the version nibble, is enough to go on to IPv4. */
        st = dh_decode(&p, LINK_ETHERNET, buf, DH_ETH + labels * DH_MPLS + 1, n, true);
        cr_assert_eq(st, DECODE_IPV4_TRUNCATED, "%zu labels", labels);
    }
}

/* ---- packet_decode() bookkeeping ----------------------------------------------------------- */

Test(link, decode_resets_every_layer) {
    uint8_t buf[DH_FRAME_CAP];
    size_t n = ether_frame(buf, ETHERTYPE_ARP, arp_body, sizeof arp_body);
    struct packet p;
    memset(&p, 0xa5, sizeof p); /* stale layers from a previous packet */
    p.frame = 9;
    p.caplen = (uint32_t)n;
    p.wirelen = (uint32_t)n;
    p.link = LINK_ETHERNET;
    struct decode_options opt = {.verify_checksums = true};
    cr_assert_eq(packet_decode(&p, buf, &opt), DECODE_OK);
    cr_assert_eq(p.frame, 9); /* capture facts kept */
    cr_assert_eq(p.net, NET_ARP);
    cr_assert_eq(p.vlan_count, 0);
    cr_assert_eq(p.mpls_count, 0);
    cr_assert_eq(p.ip_version, 0);
    cr_assert_eq(p.ip_len, 0);
    cr_assert_eq(p.transport, TRANSPORT_NONE);
    cr_assert_eq(p.sport, 0);
    cr_assert_eq(p.tcp.flags, 0);
    cr_assert_eq(p.payload_len, 0);
    cr_assert_null(p.payload);
    cr_assert_eq(p.ip_checksum, CHECKSUM_UNVERIFIED);
    cr_assert_not(p.truncated);
}

Test(link, decode_status_names_distinct) {
    for (int s = 0; s < DECODE_STATUS_COUNT; s++) {
        const char *name = decode_status_name((enum decode_status)s);
        cr_assert_not_null(name, "status %d", s);
        cr_assert_str_neq(name, "unknown", "status %d", s);
        cr_assert_gt(strlen(name), 0, "status %d", s);
        for (const char *c = name; *c; c++)
            cr_assert((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_',
                      "status %d name \"%s\" is not lower_snake_case", s, name);
        for (int t = 0; t < s; t++)
            cr_assert_str_neq(name, decode_status_name((enum decode_status)t),
                              "statuses %d and %d share a name", t, s);
    }
    cr_assert_str_eq(decode_status_name(DECODE_STATUS_COUNT), "unknown");
    cr_assert_str_eq(decode_status_name(DECODE_OK), "ok");
}

Test(link, link_type_names) {
    cr_assert_str_eq(link_type_name(LINK_ETHERNET), "ethernet");
    cr_assert_str_eq(link_type_name(LINK_RAW_DLT), "raw");
    cr_assert_str_eq(link_type_name(LINK_RAW), "raw");
    static const int supported[] = {LINK_NULL, LINK_ETHERNET, LINK_RAW_DLT,
                                    LINK_RAW,  LINK_LOOP,     LINK_LINUX_SLL,
                                    LINK_IPV4, LINK_IPV6,     LINK_LINUX_SLL2};
    for (size_t i = 0; i < sizeof supported / sizeof supported[0]; i++)
        cr_assert_not_null(link_type_name(supported[i]), "link %d", supported[i]);
    cr_assert_null(link_type_name(105));
}
