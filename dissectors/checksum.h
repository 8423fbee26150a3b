/* checksum: the Internet checksum (RFC 1071) and the hand-over from the IP layer to a transport
 * dissector (the captured IP payload, its length per the IP header, and the pseudo-header sum). */
#ifndef SHAKEDOWN_CHECKSUM_H
#define SHAKEDOWN_CHECKSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cursor.h"
#include "packet.h"

/* Adds len bytes to a running one's-complement sum (bytes taken as big-endian 16-bit words; an odd
 * trailing byte is padded with zero). Sums of whole chunks may be chained when every chunk but
 * the last has an even length. */
uint64_t checksum_add(uint64_t sum, const uint8_t *data, size_t len);

/* The sum of a TCP/UDP/ICMPv6 pseudo-header's addresses (addr_len 4 or 16 bytes each) and
 * protocol (RFC 793, RFC 8200 §8.1); the caller adds the length. */
uint64_t checksum_pseudo_sum(const uint8_t *src, const uint8_t *dst, size_t addr_len,
                             uint8_t proto);

/* Folds a running sum to 16 bits (end-around carry), not complemented. */
uint16_t checksum_fold(uint64_t sum);

/* The sum of a TCP/UDP/ICMPv6 pseudo-header's addresses (addr_len 4 or 16 bytes each) and
 * protocol (RFC 793, RFC 8200 §8.1); the caller adds the length. */
uint64_t checksum_pseudo_sum(const uint8_t *src, const uint8_t *dst, size_t addr_len,
                             uint8_t proto);

/* Folds a running sum to 16 bits and complements it: 0 means the checksum verified. */
uint16_t checksum_finish(uint64_t sum);

/* The state of a transport checksum covering a pseudo-header: `pseudo` is the pseudo-header's sum
 * (addresses, protocol and length), data/len the bytes the checksum covers, field the checksum as
 * it stands in them. GOOD when it verifies. OFFLOADED when it does not, but field holds the folded
 * sum of the pseudo-header alone, as it is or complemented: what a sending host leaves for its NIC
 * to finish (Linux CHECKSUM_PARTIAL writes ~csum_tcpudp_magic(), the uncomplemented fold; a
 * capture of the Linux loopback shows it on every TCP segment and UDP datagram the host sent).
 * BAD otherwise. */
enum checksum_state checksum_transport(uint64_t pseudo, const uint8_t *data, size_t len,
                                       uint16_t field);

/* What an IP dissector hands to a transport dissector. */
struct l4_input {
    struct cursor c;        /* captured bytes of the IP payload, never past its length */
    uint32_t len;           /* IP payload length per the IP header(s) */
    uint64_t pseudo_sum;    /* pseudo-header sum for TCP/UDP/ICMPv6 (RFC 793, RFC 8200 §8.1) */
    bool checksum_possible; /* all len bytes captured, and the pseudo-header is known */
    bool verify;            /* the user asked for checksum verification */
};

#endif
