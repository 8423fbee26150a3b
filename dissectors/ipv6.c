/* ipv6: the IPv6 dissector. Walks the extension-header chain inside the payload length, each
 * header checked against both the payload length and what was captured. */
#include "ipv6.h"

enum {
    IPV6_HEADER = 40,
    NH_HOPOPTS = 0,
    NH_ROUTING = 43,
    NH_FRAGMENT = 44,
    NH_ESP = 50,
    NH_AH = 51,
    NH_NONE = 59,
    NH_DSTOPTS = 60,
    NH_MOBILITY = 135,
    NH_HIP = 139,
    NH_SHIM6 = 140,
    NH_EXPERIMENT1 = 253,
    NH_EXPERIMENT2 = 254,
};

/* Extension headers with the generic "next header, length in 8-byte units beyond the first 8"
 * layout (RFC 8200 §4.2, RFC 6564). Fragment and AH have their own length rules. */
static bool is_generic_ext(uint8_t nh) {
    switch (nh) {
    case NH_HOPOPTS:
    case NH_ROUTING:
    case NH_DSTOPTS:
    case NH_MOBILITY:
    case NH_HIP:
    case NH_SHIM6:
    case NH_EXPERIMENT1:
    case NH_EXPERIMENT2:
        return true;
    default:
        return false;
    }
}

struct ext_walk {
    struct cursor c; /* captured payload bytes not yet walked */
    size_t left;     /* payload bytes (per payload length) not yet walked */
    bool routed;     /* a routing header with segments left: pseudo-header dst is elsewhere */
    bool later_fragment;
};

/* Consumes one extension header of type nh from w; sets *next to the header after it. */
static enum decode_status ext_header_skip(struct packet *p, struct ext_walk *w, uint8_t nh,
                                          uint8_t *next) {
    struct cursor h = w->c; /* its first 8 bytes, read in place; skipped whole below */
    uint8_t len8 = 0;
    uint16_t word = 0; /* fragment: offset and flags; routing: type and segments left */
    if (w->left < 8 || !cursor_has(&h, 8))
        return DECODE_IPV6_EXT_TRUNCATED;
    cursor_u8(&h, next);
    cursor_u8(&h, &len8);
    cursor_u16be(&h, &word);
    size_t len;
    if (nh == NH_FRAGMENT) {
        len = 8;
        p->frag_offset = (uint16_t)(word & 0xfff8);
        /* RFC 6946: offset 0 without M is an atomic fragment, a whole datagram. */
        p->fragment = p->frag_offset != 0 || (word & 1);
        w->later_fragment = p->frag_offset != 0;
    } else if (nh == NH_AH) {
        len = ((size_t)len8 + 2) * 4; /* RFC 4302 §2.2: length in 32-bit words, minus 2 */
    } else {
        len = ((size_t)len8 + 1) * 8;
        if (nh == NH_ROUTING && (word & 0xff) != 0) /* segments left */
            w->routed = true;
    }
    if (len > w->left || !cursor_skip(&w->c, len))
        return DECODE_IPV6_EXT_TRUNCATED;
    w->left -= len;
    return DECODE_OK;
}

enum decode_status ipv6_decode(struct packet *p, struct cursor *c, size_t wire_left, bool verify,
                               struct l4_input *l4) {
    uint8_t vtc, nh = 0;
    uint16_t plen = 0;
    if (!cursor_peek_u8(c, &vtc))
        return DECODE_IPV6_TRUNCATED;
    if ((vtc >> 4) != 6)
        return DECODE_IPV6_BAD_VERSION;
    if (!cursor_has(c, IPV6_HEADER))
        return DECODE_IPV6_TRUNCATED;
    cursor_skip(c, 4); /* version, traffic class, flow label */
    cursor_u16be(c, &plen);
    cursor_u8(c, &nh);
    cursor_u8(c, &p->ttl);
    cursor_copy(c, p->src, 16);
    cursor_copy(c, p->dst, 16);
    p->ip_version = 6;

    if (plen == 0 && nh == NH_HOPOPTS)
        return DECODE_IPV6_JUMBOGRAM; /* RFC 2675: real length in a hop-by-hop option */
    if ((size_t)plen + IPV6_HEADER > wire_left)
        return DECODE_IPV6_BAD_PAYLOAD_LEN;
    p->ip_len = (uint32_t)plen + IPV6_HEADER;

    struct ext_walk w = {cursor_upto(c, plen), plen, false, false};
    for (unsigned n = 0; is_generic_ext(nh) || nh == NH_FRAGMENT || nh == NH_AH; n++) {
        if (n == IPV6_MAX_EXT_HEADERS)
            return DECODE_IPV6_EXT_TOO_MANY;
        uint8_t next = 0;
        enum decode_status st = ext_header_skip(p, &w, nh, &next);
        if (st != DECODE_OK)
            return st;
        nh = next;
    }
    p->ip_proto = nh;
    p->truncated = cursor_left(&w.c) < w.left;
    if (w.later_fragment) {
        p->transport = TRANSPORT_FRAGMENT;
        return DECODE_OK;
    }
    l4->c = w.c;
    l4->len = (uint32_t)w.left;
    l4->pseudo_sum = checksum_pseudo_sum(p->src, p->dst, 16, p->ip_proto);
    l4->checksum_possible = !p->truncated && !p->fragment && !w.routed;
    l4->verify = verify;
    return DECODE_OK;
}
