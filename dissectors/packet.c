/* packet: runs the dissector chain (link → IPv4/IPv6 → TCP/UDP/ICMP/ICMPv6) over one frame and
 * names the enums of the decoded view for the output modules. */
#include "packet.h"

#include <stddef.h>
#include <string.h>

#include "icmp.h"
#include "ipv4.h"
#include "ipv6.h"
#include "link.h"
#include "tcp.h"
#include "udp.h"

enum {
    IPPROTO_NUM_ICMP = 1,
    IPPROTO_NUM_TCP = 6,
    IPPROTO_NUM_UDP = 17,
    IPPROTO_NUM_ICMPV6 = 58,
};

static enum decode_status transport_decode(struct packet *p, struct l4_input *in) {
    switch (p->ip_proto) {
    case IPPROTO_NUM_TCP:
        return tcp_decode(p, in);
    case IPPROTO_NUM_UDP:
        return udp_decode(p, in);
    case IPPROTO_NUM_ICMP:
        if (p->ip_version != 4)
            break;
        return icmp_decode(p, in);
    case IPPROTO_NUM_ICMPV6:
        if (p->ip_version != 6)
            break;
        return icmpv6_decode(p, in);
    default:
        break;
    }
    p->transport = TRANSPORT_OTHER;
    p->payload_len = in->len;
    p->payload = cursor_pos(&in->c);
    p->payload_captured = (uint32_t)cursor_left(&in->c);
    return DECODE_OK;
}

/* Resets everything after the capture facts the caller filled in. */
static void packet_reset_layers(struct packet *p) {
    size_t start = offsetof(struct packet, vlan_count);
    memset((uint8_t *)p + start, 0, sizeof *p - start);
}

enum decode_status packet_decode(struct packet *p, const uint8_t *data,
                                 const struct decode_options *opt) {
    packet_reset_layers(p);
    struct cursor c = cursor_make(data, p->caplen);
    enum decode_status st = link_decode(p, &c);
    if (st != DECODE_OK)
        return st;

    /* What the frame held on the wire after the link header bounds the IP lengths; caplen can
     * only be smaller. (A file claiming caplen > wirelen is taken at its caplen.) */
    size_t link_len = (size_t)p->caplen - cursor_left(&c); /* c began at data, caplen long */
    size_t wire = p->wirelen > p->caplen ? p->wirelen : p->caplen;
    size_t wire_left = wire - link_len;
    struct l4_input l4;
    if (p->net == NET_IPV4)
        st = ipv4_decode(p, &c, wire_left, opt->verify_checksums, &l4);
    else if (p->net == NET_IPV6)
        st = ipv6_decode(p, &c, wire_left, opt->verify_checksums, &l4);
    else
        return DECODE_OK; /* ARP and other network protocols: counted, nothing more to decode */
    if (st != DECODE_OK || p->transport == TRANSPORT_FRAGMENT)
        return st;
    return transport_decode(p, &l4);
}

const char *decode_status_name(enum decode_status s) {
    static const char *const names[DECODE_STATUS_COUNT] = {
        [DECODE_OK] = "ok",
        [DECODE_LINK_UNSUPPORTED] = "link_unsupported",
        [DECODE_LINK_TRUNCATED] = "link_truncated",
        [DECODE_LINK_TOO_MANY_TAGS] = "link_too_many_tags",
        [DECODE_IPV4_TRUNCATED] = "ipv4_truncated",
        [DECODE_IPV4_BAD_VERSION] = "ipv4_bad_version",
        [DECODE_IPV4_BAD_HEADER_LEN] = "ipv4_bad_header_len",
        [DECODE_IPV4_BAD_TOTAL_LEN] = "ipv4_bad_total_len",
        [DECODE_IPV4_BAD_OPTIONS] = "ipv4_bad_options",
        [DECODE_IPV6_TRUNCATED] = "ipv6_truncated",
        [DECODE_IPV6_BAD_VERSION] = "ipv6_bad_version",
        [DECODE_IPV6_BAD_PAYLOAD_LEN] = "ipv6_bad_payload_len",
        [DECODE_IPV6_JUMBOGRAM] = "ipv6_jumbogram",
        [DECODE_IPV6_EXT_TRUNCATED] = "ipv6_ext_truncated",
        [DECODE_IPV6_EXT_TOO_MANY] = "ipv6_ext_too_many",
        [DECODE_TCP_TRUNCATED] = "tcp_truncated",
        [DECODE_TCP_BAD_OFFSET] = "tcp_bad_offset",
        [DECODE_UDP_TRUNCATED] = "udp_truncated",
        [DECODE_UDP_BAD_LENGTH] = "udp_bad_length",
        [DECODE_ICMP_TRUNCATED] = "icmp_truncated",
    };
    return (unsigned)s < DECODE_STATUS_COUNT ? names[s] : "unknown";
}

const char *net_proto_name(enum net_proto n) {
    static const char *const names[NET_COUNT] = {
        [NET_NONE] = "none", [NET_IPV4] = "ipv4",   [NET_IPV6] = "ipv6",
        [NET_ARP] = "arp",   [NET_OTHER] = "other",
    };
    return (unsigned)n < NET_COUNT ? names[n] : "unknown";
}

const char *transport_proto_name(enum transport_proto t) {
    static const char *const names[TRANSPORT_COUNT] = {
        [TRANSPORT_NONE] = "none",     [TRANSPORT_TCP] = "tcp",
        [TRANSPORT_UDP] = "udp",       [TRANSPORT_ICMP] = "icmp",
        [TRANSPORT_ICMPV6] = "icmpv6", [TRANSPORT_FRAGMENT] = "fragment",
        [TRANSPORT_OTHER] = "other",
    };
    return (unsigned)t < TRANSPORT_COUNT ? names[t] : "unknown";
}

enum link_kind link_kind_of(int link) {
    switch (link) {
    case LINK_ETHERNET:
        return LINK_KIND_ETHERNET;
    case LINK_LINUX_SLL:
        return LINK_KIND_LINUX_SLL;
    case LINK_LINUX_SLL2:
        return LINK_KIND_LINUX_SLL2;
    case LINK_RAW_DLT:
    case LINK_RAW:
        return LINK_KIND_RAW;
    case LINK_IPV4:
        return LINK_KIND_IPV4;
    case LINK_IPV6:
        return LINK_KIND_IPV6;
    case LINK_NULL:
        return LINK_KIND_NULL;
    case LINK_LOOP:
        return LINK_KIND_LOOP;
    default:
        return LINK_KIND_UNSUPPORTED;
    }
}

const char *link_kind_name(enum link_kind k) {
    static const char *const names[LINK_KIND_COUNT] = {
        "ethernet", "linux_sll", "linux_sll2", "raw", "ipv4", "ipv6", "null", "loop", "unsupported",
    };
    return (unsigned)k < LINK_KIND_COUNT ? names[k] : "unsupported";
}

const char *link_type_name(int link) {
    switch (link) {
    case LINK_NULL:
        return "null";
    case LINK_ETHERNET:
        return "ethernet";
    case LINK_RAW_DLT:
    case LINK_RAW:
        return "raw";
    case LINK_LOOP:
        return "loop";
    case LINK_LINUX_SLL:
        return "linux_sll";
    case LINK_IPV4:
        return "ipv4";
    case LINK_IPV6:
        return "ipv6";
    case LINK_LINUX_SLL2:
        return "linux_sll2";
    default:
        return NULL;
    }
}
