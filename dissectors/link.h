/* link: link-layer dissectors (Ethernet with 802.1Q/802.1ad tags and MPLS, Linux cooked SLL and
 * SLL2, raw IP, BSD null/loopback). They find where the network header starts and what it is. */
#ifndef SHAKEDOWN_LINK_H
#define SHAKEDOWN_LINK_H

#include "cursor.h"
#include "packet.h"

/* Most VLAN tags plus MPLS labels walked before giving up (DECODE_LINK_TOO_MANY_TAGS). */
#define LINK_MAX_TAGS 8

/* Decodes the link header of p->link from c. On DECODE_OK, p->net says what follows and c points
 * at it (for NET_IPV4/NET_IPV6). */
enum decode_status link_decode(struct packet *p, struct cursor *c);

#endif
