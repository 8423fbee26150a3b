/* ipv4: the IPv4 dissector. Lengths come from the header and are checked against both what was
 * captured (snaplen) and what the frame held on the wire (so Ethernet padding is never payload). */
#include "ipv4.h"

enum {
    IPV4_MIN_HEADER = 20,
    IPV4_FLAG_MF = 0x2000,
    IPV4_OFFSET_MASK = 0x1fff,
    IPOPT_EOL = 0,
    IPOPT_NOP = 1,
};

/* RFC 791 §3.1: options are EOL, NOP, or type-length-value with length ≥ 2 covering the type and
 * length bytes and staying inside the header. */
static bool ipv4_options_valid(struct cursor c) {
    uint8_t type, len;
    while (cursor_u8(&c, &type) && type != IPOPT_EOL) {
        if (type == IPOPT_NOP)
            continue;
        if (!cursor_u8(&c, &len) || len < 2 || !cursor_skip(&c, (size_t)len - 2))
            return false;
    }
    return true;
}

enum decode_status ipv4_decode(struct packet *p, struct cursor *c, size_t wire_left, bool verify,
                               struct l4_input *l4) {
    uint8_t vihl;
    if (!cursor_peek_u8(c, &vihl))
        return DECODE_IPV4_TRUNCATED;
    if ((vihl >> 4) != 4)
        return DECODE_IPV4_BAD_VERSION;
    size_t hlen = (size_t)(vihl & 0x0f) * 4;
    if (hlen < IPV4_MIN_HEADER)
        return DECODE_IPV4_BAD_HEADER_LEN;
    struct cursor hdr;
    if (!cursor_take(c, hlen, &hdr))
        return DECODE_IPV4_TRUNCATED;
    const struct cursor header = hdr; /* the whole header, for its checksum */

    uint16_t total = 0, frag = 0;
    cursor_skip(&hdr, 2); /* version/IHL, DSCP/ECN */
    cursor_u16be(&hdr, &total);
    cursor_u16be(&hdr, &p->ip_id);
    cursor_u16be(&hdr, &frag);
    cursor_u8(&hdr, &p->ttl);
    cursor_u8(&hdr, &p->ip_proto);
    cursor_skip(&hdr, 2); /* header checksum, verified over the whole header below */
    cursor_copy(&hdr, p->src, 4);
    cursor_copy(&hdr, p->dst, 4);
    p->ip_version = 4;

    /* A total length of 0 is what a sending host's capture shows for TCP segmentation offload;
     * like Wireshark, take the frame's length instead, and verify no transport checksum. */
    bool tso = total == 0;
    size_t ip_len = tso ? wire_left : total;
    if (ip_len < hlen || ip_len > wire_left)
        return DECODE_IPV4_BAD_TOTAL_LEN;
    p->ip_len = (uint32_t)ip_len;
    if (!ipv4_options_valid(hdr)) /* hdr is left at the options */
        return DECODE_IPV4_BAD_OPTIONS;
    if (verify)
        p->ip_checksum = checksum_finish(checksum_add(0, cursor_pos(&header), hlen)) == 0
                             ? CHECKSUM_GOOD
                             : CHECKSUM_BAD;

    p->fragment = (frag & (IPV4_FLAG_MF | IPV4_OFFSET_MASK)) != 0;
    p->frag_offset = (uint16_t)((frag & IPV4_OFFSET_MASK) * 8);
    if (p->frag_offset != 0) {
        p->transport = TRANSPORT_FRAGMENT;
        p->truncated = cursor_left(c) < ip_len - hlen;
        return DECODE_OK;
    }

    size_t payload = ip_len - hlen;
    l4->c = cursor_upto(c, payload);
    size_t captured = cursor_left(&l4->c);
    l4->len = (uint32_t)payload;
    l4->pseudo_sum = checksum_pseudo_sum(p->src, p->dst, 4, p->ip_proto);
    /* A first fragment's transport checksum covers the whole datagram: not verifiable here. */
    l4->checksum_possible = captured == payload && !p->fragment && !tso;
    l4->verify = verify;
    p->truncated = captured < payload;
    return DECODE_OK;
}
