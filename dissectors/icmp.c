/* icmp: the ICMP dissector (RFC 792) and the header decoding it shares with ICMPv6. */
#include "icmp.h"

enum { ICMP_HEADER = 8 };

enum decode_status icmp_message_decode(struct packet *p, struct l4_input *in, uint64_t sum) {
    if (in->len < ICMP_HEADER || !cursor_has(&in->c, ICMP_HEADER))
        return DECODE_ICMP_TRUNCATED;
    p->icmp_type = in->c.p[0];
    p->icmp_code = in->c.p[1];
    p->sport = p->icmp_type;
    p->dport = p->icmp_code;
    if (in->verify && in->checksum_possible) {
        uint64_t s = checksum_add(sum, in->c.p, in->len);
        p->l4_checksum = checksum_finish(s) == 0 ? CHECKSUM_GOOD : CHECKSUM_BAD;
    }
    p->payload_len = in->len - ICMP_HEADER;
    p->payload = in->c.p + ICMP_HEADER;
    p->payload_captured = (uint32_t)(cursor_left(&in->c) - ICMP_HEADER);
    return DECODE_OK;
}

/* RFC 792: the ICMPv4 checksum covers the message only, no pseudo-header. */
enum decode_status icmp_decode(struct packet *p, struct l4_input *in) {
    p->transport = TRANSPORT_ICMP;
    return icmp_message_decode(p, in, 0);
}
