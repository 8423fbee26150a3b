/* icmp: the ICMP dissector (RFC 792) and the header decoding it shares with ICMPv6. */
#include "icmp.h"

enum { ICMP_HEADER = 8 };

enum decode_status icmp_message_decode(struct packet *p, struct l4_input *in, uint64_t sum) {
    struct cursor c = in->c;
    if (in->len < ICMP_HEADER || !cursor_has(&c, ICMP_HEADER))
        return DECODE_ICMP_TRUNCATED;
    cursor_u8(&c, &p->icmp_type);
    cursor_u8(&c, &p->icmp_code);
    cursor_skip(&c, ICMP_HEADER - 2); /* checksum, rest of header */
    p->sport = p->icmp_type;
    p->dport = p->icmp_code;
    if (in->verify && in->checksum_possible) {
        uint64_t s = checksum_add(sum, cursor_pos(&in->c), in->len);
        p->l4_checksum = checksum_finish(s) == 0 ? CHECKSUM_GOOD : CHECKSUM_BAD;
    }
    p->payload_len = in->len - ICMP_HEADER;
    p->payload = cursor_pos(&c);
    p->payload_captured = (uint32_t)cursor_left(&c);
    return DECODE_OK;
}

/* RFC 792: the ICMPv4 checksum covers the message only, no pseudo-header. */
enum decode_status icmp_decode(struct packet *p, struct l4_input *in) {
    p->transport = TRANSPORT_ICMP;
    return icmp_message_decode(p, in, 0);
}
