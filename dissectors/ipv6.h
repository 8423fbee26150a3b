/* ipv6: the IPv6 dissector (RFC 8200): fixed header and the extension-header chain (hop-by-hop,
 * routing, fragment, destination options, AH, mobility, HIP, shim6). */
#ifndef SHAKEDOWN_IPV6_H
#define SHAKEDOWN_IPV6_H

#include <stddef.h>

#include "checksum.h"
#include "packet.h"

/* Longest extension chain walked (RFC 8200 allows each header once or twice; real traffic has
 * two or three). Longer chains are DECODE_IPV6_EXT_TOO_MANY. */
#define IPV6_MAX_EXT_HEADERS 16

/* Same contract as ipv4_decode(); p->ip_proto is the last next-header value of the chain. */
enum decode_status ipv6_decode(struct packet *p, struct cursor *c, size_t wire_left, bool verify,
                               struct l4_input *l4);

#endif
