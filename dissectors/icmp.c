/* icmp: the ICMP dissector (RFC 792) and the header decoding it shares with ICMPv6. */
#include "icmp.h"

enum { ICMP_HEADER = 8 };

enum decode_status icmp_message_decode(struct packet *p, struct l4_input *in, bool pseudo) {
    struct cursor c = in->c;
    if (in->len < ICMP_HEADER || !cursor_has(&c, ICMP_HEADER))
        return DECODE_ICMP_TRUNCATED;
    cursor_u8(&c, &p->icmp_type);
    cursor_u8(&c, &p->icmp_code);
    uint16_t sum = 0;
    cursor_u16be(&c, &sum);
    cursor_skip(&c, ICMP_HEADER - 4); /* rest of header */
    p->sport = p->icmp_type;
    p->dport = p->icmp_code;
    /* Only a checksum over a pseudo-header can be left to a NIC (there is no ICMPv4 offload). */
    if (in->verify && in->checksum_possible && pseudo)
        p->l4_checksum =
            checksum_transport(in->pseudo_sum + in->len, cursor_pos(&in->c), in->len, sum);
    else if (in->verify && in->checksum_possible)
        p->l4_checksum = checksum_finish(checksum_add(0, cursor_pos(&in->c), in->len)) == 0
                             ? CHECKSUM_GOOD
                             : CHECKSUM_BAD;
    p->payload_len = in->len - ICMP_HEADER;
    p->payload = cursor_pos(&c);
    p->payload_captured = (uint32_t)cursor_left(&c);
    return DECODE_OK;
}

/* RFC 792: the ICMPv4 checksum covers the message only, no pseudo-header. */
enum decode_status icmp_decode(struct packet *p, struct l4_input *in) {
    p->transport = TRANSPORT_ICMP;
    return icmp_message_decode(p, in, false);
}
