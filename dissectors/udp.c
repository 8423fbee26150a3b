/* udp: the UDP dissector (RFC 768). */
#include "udp.h"

enum { UDP_HEADER = 8 };

enum decode_status udp_decode(struct packet *p, struct l4_input *in) {
    p->transport = TRANSPORT_UDP;
    struct cursor c = in->c;
    uint16_t len, sum;
    if (!cursor_u16be(&c, &p->sport) || !cursor_u16be(&c, &p->dport) || !cursor_u16be(&c, &len) ||
        !cursor_u16be(&c, &sum))
        return in->len < UDP_HEADER ? DECODE_UDP_BAD_LENGTH : DECODE_UDP_TRUNCATED;
    if (len < UDP_HEADER || len > in->len)
        return DECODE_UDP_BAD_LENGTH;

    /* RFC 768: an all-zero checksum over IPv4 means none was computed. The pseudo-header carries
     * the UDP length, and only the datagram (not trailing IP payload) is summed. */
    if (in->verify && in->checksum_possible && !(sum == 0 && p->ip_version == 4)) {
        uint64_t s = checksum_add(in->pseudo_sum + len, cursor_pos(&in->c), len);
        p->l4_checksum = checksum_finish(s) == 0 ? CHECKSUM_GOOD : CHECKSUM_BAD;
    }
    p->payload_len = len - (uint32_t)UDP_HEADER;
    p->payload = cursor_pos(&c);
    size_t avail = cursor_left(&c);
    p->payload_captured = (uint32_t)(avail < p->payload_len ? avail : p->payload_len);
    return DECODE_OK;
}
