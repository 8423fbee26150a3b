/* icmp: the ICMP (RFC 792, icmp.c) and ICMPv6 (RFC 4443, icmpv6.c) dissectors. */
#ifndef SHAKEDOWN_ICMP_H
#define SHAKEDOWN_ICMP_H

#include "checksum.h"
#include "packet.h"

/* Type, code (also put in sport/dport, the way flow tools and Community ID key ICMP), checksum.
 * Fewer than the 8 header bytes is DECODE_ICMP_TRUNCATED. */
enum decode_status icmp_decode(struct packet *p, struct l4_input *in);
enum decode_status icmpv6_decode(struct packet *p, struct l4_input *in);

/* Shared by both: decodes the 8-byte header; the checksum covers a pseudo-header (ICMPv6: in's
 * pseudo-header sum and length, and it may then be offloaded) or not (ICMP). */
enum decode_status icmp_message_decode(struct packet *p, struct l4_input *in, bool pseudo);

#endif
