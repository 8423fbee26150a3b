/* flowtext: the parts of a flow as every format writes them — addresses, protocol names,
 * directions. */
#ifndef SHAKEDOWN_FLOWTEXT_H
#define SHAKEDOWN_FLOWTEXT_H

#include <stddef.h>
#include <stdint.h>

#define FLOWTEXT_ADDR_LEN 64

/* "192.0.2.1" or "2001:db8::1" ("?" if it cannot be written in len bytes). */
void flowtext_addr(char *buf, size_t len, const uint8_t *addr, uint8_t ip_version);

/* "tcp", "udp", "icmp", "icmpv6" or "other". */
const char *flowtext_proto(uint8_t proto, uint8_t ip_version);

/* "orig" for the originator's direction (0), "resp" for the responder's. */
const char *flowtext_direction(int dir);

#endif
