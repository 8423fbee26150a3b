/* link: link-layer dissectors. Each reads its header through the cursor and leaves the cursor at
 * the network header; the ethertype dispatch (tags, MPLS, IPv4/IPv6/ARP) is shared by Ethernet
 * and the Linux cooked captures. */
#include "link.h"

enum {
    ETHERTYPE_IPV4 = 0x0800,
    ETHERTYPE_ARP = 0x0806,
    ETHERTYPE_VLAN = 0x8100,     /* 802.1Q C-tag */
    ETHERTYPE_QINQ = 0x88a8,     /* 802.1ad S-tag */
    ETHERTYPE_QINQ_OLD = 0x9100, /* pre-standard stacked tag, still seen */
    ETHERTYPE_IPV6 = 0x86dd,
    ETHERTYPE_MPLS = 0x8847,
    ETHERTYPE_MPLS_MC = 0x8848,
    ETHERTYPE_MIN = 0x0600, /* below: an 802.3 length field, not a type */
};

/* The first nibble of an IP header says its version; used where no type field exists (raw IP,
 * after the bottom MPLS label). */
static enum net_proto net_from_version(const struct cursor *c) {
    uint8_t first;
    if (!cursor_peek_u8(c, &first))
        return NET_OTHER;
    switch (first >> 4) {
    case 4:
        return NET_IPV4;
    case 6:
        return NET_IPV6;
    default:
        return NET_OTHER;
    }
}

static bool is_vlan_tpid(uint16_t type) {
    return type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ || type == ETHERTYPE_QINQ_OLD;
}

/* MPLS label stack (RFC 3032): 4-byte entries until the bottom-of-stack bit; the payload type is
 * not signalled, so it is guessed from the IP version nibble as every analyzer does. */
static enum decode_status mpls_decode(struct packet *p, struct cursor *c, unsigned *tags) {
    for (;;) {
        uint32_t entry;
        if (++*tags > LINK_MAX_TAGS)
            return DECODE_LINK_TOO_MANY_TAGS;
        if (!cursor_u32be(c, &entry))
            return DECODE_LINK_TRUNCATED;
        p->mpls_count++;
        if (entry & 0x100) /* S bit: bottom of stack */
            break;
    }
    if (!cursor_has(c, 1))
        return DECODE_LINK_TRUNCATED; /* nothing to tell what the labels carry */
    p->net = net_from_version(c);
    return DECODE_OK;
}

/* Walks VLAN tags and MPLS labels starting from `type`, then classifies the network protocol. */
static enum decode_status ethertype_decode(struct packet *p, struct cursor *c, uint16_t type) {
    unsigned tags = 0;
    while (is_vlan_tpid(type)) {
        uint16_t tci;
        if (++tags > LINK_MAX_TAGS)
            return DECODE_LINK_TOO_MANY_TAGS;
        if (!cursor_u16be(c, &tci) || !cursor_u16be(c, &type))
            return DECODE_LINK_TRUNCATED;
        if (p->vlan_count < PACKET_MAX_VLANS)
            p->vlan_id[p->vlan_count] = tci & 0x0fff;
        p->vlan_count++;
    }
    p->ethertype = type;
    switch (type) {
    case ETHERTYPE_IPV4:
        p->net = NET_IPV4;
        return DECODE_OK;
    case ETHERTYPE_IPV6:
        p->net = NET_IPV6;
        return DECODE_OK;
    case ETHERTYPE_ARP:
        p->net = NET_ARP;
        return DECODE_OK;
    case ETHERTYPE_MPLS:
    case ETHERTYPE_MPLS_MC:
        return mpls_decode(p, c, &tags);
    default:
        p->net = NET_OTHER; /* includes 802.3 length fields (< ETHERTYPE_MIN) with LLC */
        return DECODE_OK;
    }
}

static enum decode_status ethernet_decode(struct packet *p, struct cursor *c) {
    uint16_t type;
    if (!cursor_skip(c, 12) || !cursor_u16be(c, &type)) /* destination, source MAC */
        return DECODE_LINK_TRUNCATED;
    if (type < ETHERTYPE_MIN) { /* 802.3 frame: length field, LLC follows */
        p->net = NET_OTHER;
        return DECODE_OK;
    }
    return ethertype_decode(p, c, type);
}

/* Linux cooked v1: packet type, ARPHRD, address length, 8 address bytes, protocol. */
static enum decode_status sll_decode(struct packet *p, struct cursor *c) {
    uint16_t type;
    if (!cursor_skip(c, 14) || !cursor_u16be(c, &type))
        return DECODE_LINK_TRUNCATED;
    return ethertype_decode(p, c, type);
}

/* Linux cooked v2: protocol first, then reserved, ifindex, ARPHRD, type, address length, address.
 */
static enum decode_status sll2_decode(struct packet *p, struct cursor *c) {
    uint16_t type;
    if (!cursor_u16be(c, &type) || !cursor_skip(c, 18))
        return DECODE_LINK_TRUNCATED;
    return ethertype_decode(p, c, type);
}

/* BSD loopback: a 4-byte address family. LINKTYPE_NULL stores it in the capturing host's byte
 * order, so both orders are accepted (a value with high bytes set was written the other way);
 * LINKTYPE_LOOP is always network order. IPv6's value differs between BSDs (24, 28, 30). */
static enum decode_status null_decode(struct packet *p, struct cursor *c, bool network_order) {
    uint32_t af;
    if (!cursor_u32be(c, &af))
        return DECODE_LINK_TRUNCATED;
    if (!network_order && (af & 0xffff0000u))
        af = ((af & 0xff) << 24) | ((af & 0xff00) << 8) | ((af >> 8) & 0xff00) | (af >> 24);
    switch (af) {
    case 2:
        p->net = NET_IPV4;
        break;
    case 10: /* Linux AF_INET6, seen in some converted captures */
    case 24:
    case 28:
    case 30:
        p->net = NET_IPV6;
        break;
    default:
        p->net = NET_OTHER;
    }
    return DECODE_OK;
}

enum decode_status link_decode(struct packet *p, struct cursor *c) {
    switch (p->link) {
    case LINK_ETHERNET:
        return ethernet_decode(p, c);
    case LINK_LINUX_SLL:
        return sll_decode(p, c);
    case LINK_LINUX_SLL2:
        return sll2_decode(p, c);
    case LINK_RAW:
    case LINK_RAW_DLT:
        if (!cursor_has(c, 1))
            return DECODE_LINK_TRUNCATED;
        p->net = net_from_version(c);
        return DECODE_OK;
    case LINK_IPV4:
        p->net = NET_IPV4;
        return DECODE_OK;
    case LINK_IPV6:
        p->net = NET_IPV6;
        return DECODE_OK;
    case LINK_NULL:
        return null_decode(p, c, false);
    case LINK_LOOP:
        return null_decode(p, c, true);
    default:
        return DECODE_LINK_UNSUPPORTED;
    }
}
