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

    /* RFC 768: an all-zero checksum over IPv4 means none was computed — nothing to verify, and no
     * offload either (an offloading host leaves the pseudo-header sum, never 0). IPv6 has no "no
     * checksum" (RFC 8200 §8.1): a zero there is verified like any other value. The pseudo-header
     * carries the UDP length, and only the datagram (not trailing IP payload) is summed. */
    if (in->verify && in->checksum_possible && !(sum == 0 && p->ip_version == 4))
        p->l4_checksum = checksum_transport(in->pseudo_sum + len, cursor_pos(&in->c), len, sum);
    p->payload_len = len - (uint32_t)UDP_HEADER;
    p->payload = cursor_pos(&c);
    size_t avail = cursor_left(&c);
    p->payload_captured = (uint32_t)(avail < p->payload_len ? avail : p->payload_len);
    return DECODE_OK;
}
