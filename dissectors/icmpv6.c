/* icmpv6: the ICMPv6 dissector (RFC 4443). */
#include "icmp.h"

/* RFC 4443 §2.3: the checksum includes the IPv6 pseudo-header (length, next header 58). */
enum decode_status icmpv6_decode(struct packet *p, struct l4_input *in) {
    p->transport = TRANSPORT_ICMPV6;
    return icmp_message_decode(p, in, true);
}
