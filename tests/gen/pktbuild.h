/* pktbuild: builds well-formed frames (link layer + IPv4/IPv6 + TCP/UDP/ICMP/ICMPv6) with correct
 * lengths and checksums, for the capture generator and the unit tests. It shares no code with
 * dissectors/ on purpose: the tests check the dissectors against an independent encoder. */
#ifndef SHAKEDOWN_PKTBUILD_H
#define SHAKEDOWN_PKTBUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Link layers the builder can frame a packet in. */
enum pb_link {
    PB_LINK_ETHERNET, /* LINKTYPE_ETHERNET 1 (optional 802.1Q/802.1ad tags, MPLS labels) */
    PB_LINK_SLL,      /* LINKTYPE_LINUX_SLL 113 */
    PB_LINK_SLL2,     /* LINKTYPE_LINUX_SLL2 276 */
    PB_LINK_RAW,      /* LINKTYPE_RAW 101: bare IPv4 or IPv6 */
    PB_LINK_IPV4,     /* LINKTYPE_IPV4 228 */
    PB_LINK_IPV6,     /* LINKTYPE_IPV6 229 */
    PB_LINK_NULL,     /* LINKTYPE_NULL 0: 4-byte address family, little-endian host order */
    PB_LINK_LOOP,     /* LINKTYPE_LOOP 108: 4-byte address family, network order */
};

/* The LINKTYPE_ number to write in a capture file header for this link layer. */
int pb_linktype(enum pb_link link);

#define PB_MAX_TAGS 8
#define PB_MAX_EXT 8

/* IPv6 extension header numbers (RFC 8200) */
enum {
    PB_EXT_HOPOPTS = 0,
    PB_EXT_ROUTING = 43,
    PB_EXT_FRAGMENT = 44,
    PB_EXT_AH = 51,
    PB_EXT_DSTOPTS = 60,
};

/* TCP flag bits as on the wire (byte 13 of the header). */
enum {
    PB_FIN = 0x01,
    PB_SYN = 0x02,
    PB_RST = 0x04,
    PB_PSH = 0x08,
    PB_ACK = 0x10,
    PB_URG = 0x20,
    PB_ECE = 0x40,
    PB_CWR = 0x80,
};

struct pb_frame {
    enum pb_link link;

    /* Ethernet only: VLAN tags, outermost first. tpid[i] == 0 means 0x8100. */
    size_t nvlan;
    uint16_t vlan_id[PB_MAX_TAGS];
    uint16_t vlan_tpid[PB_MAX_TAGS];
    /* Ethernet only: MPLS label stack after the tags (ethertype 0x8847); bottom-of-stack set on
     * the last label. */
    size_t nmpls;
    uint32_t mpls_label[PB_MAX_TAGS];
    /* Ethernet only: bytes of padding appended after the IP packet (as short frames get). */
    size_t eth_padding;

    /* Network layer: 4 or 6. Addresses: IPv4 uses the first 4 bytes. */
    int ip_version;
    uint8_t src[16];
    uint8_t dst[16];
    uint8_t ttl;               /* 0 means 64 */
    uint16_t ip_id;            /* IPv4 identification / IPv6 fragment identification */
    const uint8_t *ip_options; /* IPv4 options, ip_optlen must be a multiple of 4 (<= 40) */
    size_t ip_optlen;
    /* IPv6 extension headers, in order; the builder chains the next-header fields. Each generic
     * header (hop-by-hop, routing, destination options) is 8 bytes of PadN; a fragment header
     * carries frag_offset / more_fragments; AH is 12 bytes + 4 zero ICV bytes (16 in all).
     * (The routing header's 6 bytes after next-header/length are routing type 0, segments left 0
     * and 4 reserved zero bytes rather than a PadN option, so that it is well-formed and
     * ignorable; any other value in ext[] is written like a generic 8-byte header.) */
    size_t n_ext;
    uint8_t ext[PB_MAX_EXT];
    /* Fragmentation: offset in 8-byte units and the MF flag (IPv4 header, or the IPv6 fragment
     * header which must then be listed in ext[]). */
    uint16_t frag_offset;
    bool more_fragments;
    /* IPv4 only: the Don't Fragment bit (as TCP stacks set it). A non-first fragment (frag_offset
     * > 0) carries no transport header: the payload follows the IP header (and extensions). */
    bool dont_fragment;

    /* Transport: protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, anything else = opaque). */
    uint8_t proto;
    uint16_t sport, dport;      /* TCP and UDP */
    uint32_t seq, ack;          /* TCP */
    uint8_t flags;              /* TCP, PB_* bits */
    uint16_t win;               /* TCP */
    uint16_t urg_ptr;           /* TCP */
    const uint8_t *tcp_options; /* raw option bytes; padded with EOL to a multiple of 4 (<= 40) */
    size_t tcp_optlen;
    uint8_t icmp_type, icmp_code; /* ICMP / ICMPv6; bytes 4..7 are icmp_id, icmp_seq */
    uint16_t icmp_id, icmp_seq;   /* echo identifier / sequence; zero unless set */

    /* Payload after the transport header; NULL with payload_len > 0 means a repeating pattern. */
    const uint8_t *payload;
    size_t payload_len;

    /* Deliberate damage for tests: the checksum written differs from the correct one (and a
     * damaged UDP checksum is never 0, which would mean "no checksum"). */
    bool bad_ip_checksum;
    bool bad_l4_checksum;
    /* A sending host's capture with checksum offload: the TCP/UDP/ICMPv6 checksum field holds the
     * folded sum of the pseudo-header alone, uncomplemented, as Linux (CHECKSUM_PARTIAL) leaves
     * it for the NIC. Ignored for ICMPv4, which has no pseudo-header. */
    bool offloaded_l4_checksum;
};

/* Writes the frame into buf. Returns its length, or 0 if it does not fit in cap or the spec is
 * invalid (bad version, too many options). */
size_t pb_build(const struct pb_frame *f, uint8_t *buf, size_t cap);

/* Convenience: a frame preset for IPv4 TCP between 10.0.0.1:40000 and 10.0.0.2:80 over
 * Ethernet, and the same for IPv6 (2001:db8::1 -> 2001:db8::2). Callers adjust fields. */
struct pb_frame pb_tcp4(void);
struct pb_frame pb_tcp6(void);

#endif
