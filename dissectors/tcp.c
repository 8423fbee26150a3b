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

/* Applies one well-formed option: its kind, total length len, and a cursor over its len - 2
 * value bytes. False if the length does not fit the kind; unknown kinds are skipped. Each read
 * below fits the value the length check admitted. */
static bool tcp_option_apply(uint8_t kind, size_t len, struct cursor v, struct tcp_options *o) {
    switch (kind) {
    case TCPOPT_MSS:
        if (len != 4)
            return false;
        o->has_mss = true;
        cursor_u16be(&v, &o->mss);
        return true;
    case TCPOPT_WSCALE:
        if (len != 3)
            return false;
        o->has_wscale = true;
        cursor_u8(&v, &o->wscale);
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
            cursor_u32be(&v, &o->sack[i].left);
            cursor_u32be(&v, &o->sack[i].right);
        }
        return true;
    case TCPOPT_TIMESTAMP:
        if (len != 10)
            return false;
        o->has_timestamps = true;
        cursor_u32be(&v, &o->ts_val);
        cursor_u32be(&v, &o->ts_ecr);
        return true;
    default:
        return true;
    }
}

/* RFC 9293 §3.1: an option is EOL (the end), NOP, or kind, length, value, where the length
 * (≥ 2) counts the kind and length bytes and stays inside the header. */
static void tcp_options_walk(struct cursor c, struct tcp_options *o) {
    uint8_t kind, len;
    struct cursor value;
    while (cursor_u8(&c, &kind) && kind != TCPOPT_EOL) {
        if (kind == TCPOPT_NOP)
            continue;
        if (!cursor_u8(&c, &len) || len < 2 || !cursor_take(&c, (size_t)len - 2, &value) ||
            !tcp_option_apply(kind, len, value, o)) {
            o->malformed = true;
            return;
        }
    }
}

void tcp_options_parse(const uint8_t *opt, size_t len, struct tcp_options *o) {
    tcp_options_walk(cursor_make(opt, len), o);
}

enum decode_status tcp_decode(struct packet *p, struct l4_input *in) {
    p->transport = TRANSPORT_TCP;
    if (in->len < TCP_MIN_HEADER)
        return DECODE_TCP_BAD_OFFSET;
    struct cursor c = in->c, fixed, options;
    if (!cursor_take(&c, TCP_MIN_HEADER, &fixed))
        return DECODE_TCP_TRUNCATED;
    uint16_t sport = 0, dport = 0, window = 0, sum = 0, urgent = 0;
    uint32_t seq = 0, ack = 0;
    uint8_t offset = 0, flags = 0;
    cursor_u16be(&fixed, &sport);
    cursor_u16be(&fixed, &dport);
    cursor_u32be(&fixed, &seq);
    cursor_u32be(&fixed, &ack);
    cursor_u8(&fixed, &offset); /* data offset in 32-bit words, high nibble */
    cursor_u8(&fixed, &flags);
    cursor_u16be(&fixed, &window);
    cursor_u16be(&fixed, &sum); /* verified over the whole segment below */
    cursor_u16be(&fixed, &urgent);
    size_t hlen = (size_t)(offset >> 4) * 4;
    if (hlen < TCP_MIN_HEADER || hlen > in->len)
        return DECODE_TCP_BAD_OFFSET;
    if (!cursor_take(&c, hlen - TCP_MIN_HEADER, &options))
        return DECODE_TCP_TRUNCATED;

    struct tcp_view *t = &p->tcp;
    p->sport = sport;
    p->dport = dport;
    t->seq = seq;
    t->ack = ack;
    t->header_len = (uint8_t)hlen;
    t->flags = flags;
    t->window = window;
    t->urgent = urgent;
    tcp_options_walk(options, &t->opt);

    if (in->verify && in->checksum_possible)
        p->l4_checksum =
            checksum_transport(in->pseudo_sum + in->len, cursor_pos(&in->c), in->len, sum);
    p->payload_len = in->len - (uint32_t)hlen;
    p->payload = cursor_pos(&c);
    p->payload_captured = (uint32_t)cursor_left(&c);
    return DECODE_OK;
}
