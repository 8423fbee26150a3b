/* tcp: the TCP dissector (RFC 9293): header, all eight flags, options (MSS, window scale,
 * SACK-permitted, SACK blocks, timestamps), checksum. */
#ifndef SHAKEDOWN_TCP_H
#define SHAKEDOWN_TCP_H

#include "checksum.h"
#include "packet.h"

/* Decodes the TCP header from the IP payload. A header not wholly captured is
 * DECODE_TCP_TRUNCATED; a data offset below 5 or beyond the IP payload is DECODE_TCP_BAD_OFFSET. */
enum decode_status tcp_decode(struct packet *p, struct l4_input *in);

/* Parses TCP option bytes into *o. Stops and sets o->malformed at an option whose length is 0, 1,
 * wrong for its kind, or runs past the end. */
void tcp_options_parse(const uint8_t *opt, size_t len, struct tcp_options *o);

#endif
