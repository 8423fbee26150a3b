/* udp: the UDP dissector (RFC 768). */
#ifndef SHAKEDOWN_UDP_H
#define SHAKEDOWN_UDP_H

#include "checksum.h"
#include "packet.h"

/* Ports, length (8 ≤ length ≤ IP payload, else DECODE_UDP_BAD_LENGTH), checksum (0 = none over
 * IPv4). Payload length comes from the UDP length. */
enum decode_status udp_decode(struct packet *p, struct l4_input *in);

#endif
