/* ipv4: the IPv4 dissector (RFC 791): header, options, fragments, header checksum. */
#ifndef SHAKEDOWN_IPV4_H
#define SHAKEDOWN_IPV4_H

#include <stddef.h>

#include "checksum.h"
#include "packet.h"

/* Decodes the IPv4 header at c. wire_left is how many bytes the frame held on the wire from here
 * (the total length cannot exceed it). On DECODE_OK with p->transport still TRANSPORT_NONE, *l4
 * describes the payload for the transport dissector of p->ip_proto; a non-first fragment sets
 * p->transport = TRANSPORT_FRAGMENT and leaves *l4 unused. */
enum decode_status ipv4_decode(struct packet *p, struct cursor *c, size_t wire_left, bool verify,
                               struct l4_input *l4);

#endif
