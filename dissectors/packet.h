/* packet: the decoded-packet view every dissector fills in and the tracker consumes, the reasons a
 * packet can fail to decode, and packet_decode(), which runs the link → network → transport chain.
 * The view points into the captured bytes (payload) and never copies or allocates. */
#ifndef SHAKEDOWN_PACKET_H
#define SHAKEDOWN_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* LINKTYPE_ / DLT_ values shakedown decodes (pcap_datalink() values on Linux). */
enum link_type {
    LINK_NULL = 0,         /* BSD loopback: 4-byte address family, capturing host's order */
    LINK_ETHERNET = 1,     /* Ethernet II / 802.3, 802.1Q/802.1ad tags, MPLS */
    LINK_RAW_DLT = 12,     /* DLT_RAW as libpcap reports LINKTYPE_RAW (101) on Linux */
    LINK_RAW = 101,        /* LINKTYPE_RAW in a file */
    LINK_LOOP = 108,       /* OpenBSD loopback: address family in network order */
    LINK_LINUX_SLL = 113,  /* Linux cooked capture v1 */
    LINK_IPV4 = 228,       /* raw IPv4 */
    LINK_IPV6 = 229,       /* raw IPv6 */
    LINK_LINUX_SLL2 = 276, /* Linux cooked capture v2 */
};

enum net_proto {
    NET_NONE, /* link layer not decoded */
    NET_IPV4,
    NET_IPV6,
    NET_ARP,
    NET_OTHER, /* an ethertype / address family shakedown does not decode */
    NET_COUNT
};

enum transport_proto {
    TRANSPORT_NONE, /* no network layer decoded */
    TRANSPORT_TCP,
    TRANSPORT_UDP,
    TRANSPORT_ICMP,
    TRANSPORT_ICMPV6,
    TRANSPORT_FRAGMENT, /* a non-first IP fragment: no transport header in it */
    TRANSPORT_OTHER,    /* another IP protocol (ESP, SCTP, GRE, no-next-header …) */
    TRANSPORT_COUNT
};

/* Why a packet could not be decoded as far as shakedown needs. One per packet; DECODE_OK means
 * the view is usable (possibly marked truncated if payload bytes were not captured). */
enum decode_status {
    DECODE_OK = 0,
    DECODE_LINK_UNSUPPORTED,    /* link type shakedown does not decode */
    DECODE_LINK_TRUNCATED,      /* link header (tags, labels included) not fully captured */
    DECODE_LINK_TOO_MANY_TAGS,  /* more VLAN tags or MPLS labels than any real network stacks */
    DECODE_IPV4_TRUNCATED,      /* IPv4 header (with options) not fully captured */
    DECODE_IPV4_BAD_VERSION,    /* version nibble is not 4 */
    DECODE_IPV4_BAD_HEADER_LEN, /* IHL < 5 */
    DECODE_IPV4_BAD_TOTAL_LEN,  /* total length < header length, or more than the frame held */
    DECODE_IPV4_BAD_OPTIONS,    /* an option with length 0/1 or running past the header */
    DECODE_IPV6_TRUNCATED,      /* fixed IPv6 header not fully captured */
    DECODE_IPV6_BAD_VERSION,
    DECODE_IPV6_BAD_PAYLOAD_LEN, /* payload length more than the frame held */
    DECODE_IPV6_JUMBOGRAM,       /* payload length 0 with hop-by-hop options: unsupported */
    DECODE_IPV6_EXT_TRUNCATED,   /* an extension header runs past the capture or payload */
    DECODE_IPV6_EXT_TOO_MANY,    /* extension chain longer than IPV6_MAX_EXT_HEADERS */
    DECODE_TCP_TRUNCATED,        /* TCP header (with options) not fully captured */
    DECODE_TCP_BAD_OFFSET,       /* data offset < 5, or beyond the IP payload */
    DECODE_UDP_TRUNCATED,
    DECODE_UDP_BAD_LENGTH, /* UDP length < 8 or more than the IP payload */
    DECODE_ICMP_TRUNCATED, /* ICMP or ICMPv6 header not fully captured */
    DECODE_STATUS_COUNT
};

enum checksum_state {
    CHECKSUM_UNVERIFIED, /* not all bytes captured, or not applicable */
    CHECKSUM_GOOD,
    CHECKSUM_BAD,
    /* Not the checksum, but the partial sum a sending host leaves for its NIC to complete
     * (checksum offload; see checksum_transport()), or zero where that is allowed: the packet
     * was captured before its checksum existed, which says nothing about corruption. */
    CHECKSUM_OFFLOADED,
};

/* TCP flag bits (RFC 9293 §3.1, byte 13; ECE/CWR RFC 3168). */
enum {
    TCP_FIN = 0x01,
    TCP_SYN = 0x02,
    TCP_RST = 0x04,
    TCP_PSH = 0x08,
    TCP_ACK = 0x10,
    TCP_URG = 0x20,
    TCP_ECE = 0x40,
    TCP_CWR = 0x80,
};

#define TCP_MAX_SACK_BLOCKS 4
#define PACKET_MAX_VLANS 2

struct tcp_sack_block {
    uint32_t left, right;
};

/* TCP options of one segment (RFC 9293 MSS, RFC 7323 window scale and timestamps, RFC 2018 SACK).
 */
struct tcp_options {
    bool has_mss, has_wscale, sack_permitted, has_timestamps;
    bool malformed; /* an option with a bad length: parsing stopped there */
    uint8_t wscale; /* as sent (a receiver clamps values above 14) */
    uint16_t mss;
    uint8_t sack_count; /* number of valid blocks in sack[] */
    struct tcp_sack_block sack[TCP_MAX_SACK_BLOCKS];
    uint32_t ts_val, ts_ecr;
};

struct tcp_view {
    uint8_t flags;
    uint32_t seq, ack;
    uint16_t window; /* unscaled, as on the wire */
    uint16_t urgent;
    uint8_t header_len; /* data offset × 4 */
    struct tcp_options opt;
};

struct packet {
    /* Capture facts. */
    uint64_t frame; /* 1-based position in the input stream (all files together) */
    int64_t ts_sec;
    uint32_t ts_nsec;
    uint32_t caplen;  /* bytes captured */
    uint32_t wirelen; /* bytes on the wire */
    int link;         /* enum link_type value (DLT) */

    /* Link layer. */
    uint8_t vlan_count;                 /* tags seen (may exceed PACKET_MAX_VLANS) */
    uint16_t vlan_id[PACKET_MAX_VLANS]; /* outermost first */
    uint8_t mpls_count;
    uint16_t ethertype; /* ethertype or SLL protocol after tags; 0 if none */

    /* Network layer. */
    enum net_proto net;
    uint8_t ip_version;       /* 4 or 6, 0 if none */
    uint8_t src[16], dst[16]; /* IPv4 in the first 4 bytes */
    uint8_t ttl;              /* TTL / hop limit */
    uint8_t ip_proto;         /* protocol / final next header */
    uint32_t ip_len;          /* IP packet length per its header (header + payload) */
    uint16_t ip_id;           /* IPv4 identification (0 for IPv6): tells a copy from a resend */
    bool fragment;            /* part of a fragmented datagram (first or not) */
    uint16_t frag_offset;     /* in bytes */
    enum checksum_state ip_checksum;

    /* Transport layer. */
    enum transport_proto transport;
    uint16_t sport, dport; /* TCP/UDP ports; ICMP: type and code */
    struct tcp_view tcp;
    uint8_t icmp_type, icmp_code;
    enum checksum_state l4_checksum;

    /* Payload after the transport header: its length per the IP (or UDP) length fields, and the
     * captured part of it (a pointer into the capture buffer, never a copy). */
    uint32_t payload_len;
    uint32_t payload_captured;
    const uint8_t *payload;

    /* Bytes the headers say exist but were not captured (snaplen). */
    bool truncated;
};

struct decode_options {
    bool verify_checksums; /* compute IP/TCP/UDP/ICMP checksums when all bytes were captured */
};

/* The packet's capture time in ns since the epoch (its times are brought into [1970, 2100] before
 * anything reads them: no overflow). */
static inline int64_t packet_ts_ns(const struct packet *p) {
    return p->ts_sec * 1000000000 + p->ts_nsec;
}

/* Decodes one captured frame of the given link type into *p (whose capture facts — frame, ts,
 * caplen, wirelen, link — the caller sets first; everything else is reset here). Never reads
 * past data + p->caplen. Returns DECODE_OK or the reason decoding stopped; on failure the layers
 * decoded before the failure are still filled in. */
enum decode_status packet_decode(struct packet *p, const uint8_t *data,
                                 const struct decode_options *opt);

/* Stable lower_snake_case names, part of the JSON output. */
const char *decode_status_name(enum decode_status s);
const char *net_proto_name(enum net_proto n);
const char *transport_proto_name(enum transport_proto t);
/* Name of a link type (e.g. "ethernet"), or NULL if shakedown does not decode it. */
const char *link_type_name(int link);

/* The link layers as the summary counts them: one per decoder (LINKTYPE_RAW and DLT_RAW are the
 * same "raw"), plus every link type shakedown does not decode together. */
enum link_kind {
    LINK_KIND_ETHERNET,
    LINK_KIND_LINUX_SLL,
    LINK_KIND_LINUX_SLL2,
    LINK_KIND_RAW,
    LINK_KIND_IPV4,
    LINK_KIND_IPV6,
    LINK_KIND_NULL,
    LINK_KIND_LOOP,
    LINK_KIND_UNSUPPORTED,
    LINK_KIND_COUNT
};
enum link_kind link_kind_of(int link);
const char *link_kind_name(enum link_kind k);

#endif
