/* tcp: the TCP dissector. Flags, sequence and acknowledgement numbers, window, options and the
 * checksum; the payload length comes from the IP length, never from what was captured. */
#include "tcp.h"

enum {
    TCP_MIN_HEADER = 20,
    TCPOPT_EOL = 0,
    TCPOPT_NOP = 1,
    TCPOPT_MSS = 2,       /* RFC 9293 §3.2, length 4 */
    TCPOPT_WSCALE = 3,    /* RFC 7323 §2.2, length 3 */
    TCPOPT_SACK_PERM = 4, /* RFC 2018, length 2 */
    TCPOPT_SACK = 5,      /* RFC 2018, length 2 + 8n */
    TCPOPT_TIMESTAMP = 8, /* RFC 7323 §3.2, length 10 */
};

static uint16_t be16(const uint8_t *b) {
    return (uint16_t)((b[0] << 8) | b[1]);
}

static uint32_t be32(const uint8_t *b) {
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

/* Applies one well-formed option (kind, total length len, value at v); false if the length does
 * not fit the kind. Unknown kinds are skipped. */
static bool tcp_option_apply(uint8_t kind, size_t len, const uint8_t *v, struct tcp_options *o) {
    switch (kind) {
    case TCPOPT_MSS:
        if (len != 4)
            return false;
        o->has_mss = true;
        o->mss = be16(v);
        return true;
    case TCPOPT_WSCALE:
        if (len != 3)
            return false;
        o->has_wscale = true;
        o->wscale = v[0];
        return true;
    case TCPOPT_SACK_PERM:
        if (len != 2)
            return false;
        o->sack_permitted = true;
        return true;
    case TCPOPT_SACK:
        if (len < 10 || (len - 2) % 8 != 0 || (len - 2) / 8 > TCP_MAX_SACK_BLOCKS)
            return false;
        o->sack_count = (uint8_t)((len - 2) / 8);
        for (size_t i = 0; i < o->sack_count; i++) {
            o->sack[i].left = be32(v + 8 * i);
            o->sack[i].right = be32(v + 8 * i + 4);
        }
        return true;
    case TCPOPT_TIMESTAMP:
        if (len != 10)
            return false;
        o->has_timestamps = true;
        o->ts_val = be32(v);
        o->ts_ecr = be32(v + 4);
        return true;
    default:
        return true;
    }
}

void tcp_options_parse(const uint8_t *opt, size_t len, struct tcp_options *o) {
    size_t i = 0;
    while (i < len) {
        uint8_t kind = opt[i];
        if (kind == TCPOPT_EOL)
            return;
        if (kind == TCPOPT_NOP) {
            i++;
            continue;
        }
        /* Every other option is kind, length (≥ 2, counting both), value. */
        if (i + 1 >= len || opt[i + 1] < 2 || opt[i + 1] > len - i ||
            !tcp_option_apply(kind, opt[i + 1], opt + i + 2, o)) {
            o->malformed = true;
            return;
        }
        i += opt[i + 1];
    }
}

static enum checksum_state l4_checksum(const struct l4_input *in) {
    if (!in->verify || !in->checksum_possible)
        return CHECKSUM_UNVERIFIED;
    uint64_t sum = checksum_add(in->pseudo_sum + in->len, in->c.p, in->len);
    return checksum_finish(sum) == 0 ? CHECKSUM_GOOD : CHECKSUM_BAD;
}

enum decode_status tcp_decode(struct packet *p, struct l4_input *in) {
    p->transport = TRANSPORT_TCP;
    if (in->len < TCP_MIN_HEADER)
        return DECODE_TCP_BAD_OFFSET;
    if (!cursor_has(&in->c, TCP_MIN_HEADER))
        return DECODE_TCP_TRUNCATED;
    const uint8_t *h = in->c.p;
    size_t hlen = (size_t)(h[12] >> 4) * 4;
    if (hlen < TCP_MIN_HEADER || hlen > in->len)
        return DECODE_TCP_BAD_OFFSET;
    if (!cursor_has(&in->c, hlen))
        return DECODE_TCP_TRUNCATED;

    struct tcp_view *t = &p->tcp;
    p->sport = be16(h);
    p->dport = be16(h + 2);
    t->seq = be32(h + 4);
    t->ack = be32(h + 8);
    t->header_len = (uint8_t)hlen;
    t->flags = h[13];
    t->window = be16(h + 14);
    t->urgent = be16(h + 18);
    tcp_options_parse(h + TCP_MIN_HEADER, hlen - TCP_MIN_HEADER, &t->opt);

    p->l4_checksum = l4_checksum(in);
    p->payload_len = in->len - (uint32_t)hlen;
    p->payload = h + hlen;
    p->payload_captured = (uint32_t)(cursor_left(&in->c) - hlen);
    return DECODE_OK;
}
