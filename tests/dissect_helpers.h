/* dissect_helpers: shared by the dissector unit tests (test_link.c to test_icmp.c). Frames come
 * from tests/gen/pktbuild; each decode runs on a heap copy exactly caplen bytes long, so
 * AddressSanitizer catches any read past the capture. Header-only: everything is static inline. */
#ifndef SHAKEDOWN_DISSECT_HELPERS_H
#define SHAKEDOWN_DISSECT_HELPERS_H

#include <criterion/alloc.h>
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "packet.h"
#include "pktbuild.h"

/* Header sizes as the wire formats define them (not taken from dissectors/). */
enum {
    DH_FRAME_CAP = 2048,
    DH_ETH = 14,
    DH_VLAN = 4,
    DH_MPLS = 4,
    DH_SLL = 16,
    DH_SLL2 = 20,
    DH_NULL = 4,
    DH_IPV4 = 20,
    DH_IPV6 = 40,
    DH_TCP = 20,
    DH_UDP = 8,
    DH_ICMP = 8,
    DH_PROTO_ICMP = 1,
    DH_PROTO_TCP = 6,
    DH_PROTO_UDP = 17,
    DH_PROTO_ICMPV6 = 58,
};

/* The copy the last dh_decode() ran on (a test process decodes one frame at a time); the view's
 * payload pointer points into it. Freed by the next decode; reachable at exit, so no leak report.
 */
static uint8_t *dh_captured;

/* Builds f into buf (DH_FRAME_CAP bytes); the spec must be one pktbuild accepts. */
static inline size_t dh_build(const struct pb_frame *f, uint8_t *buf) {
    size_t n = pb_build(f, buf, DH_FRAME_CAP);
    cr_assert_gt(n, 0, "pktbuild rejected the frame spec");
    return n;
}

/* Decodes the first caplen bytes of frame as a capture of wirelen bytes on link. */
static inline enum decode_status dh_decode(struct packet *p, int link, const uint8_t *frame,
                                           size_t caplen, size_t wirelen, bool verify) {
    free(dh_captured);
    dh_captured = malloc(caplen ? caplen : 1);
    cr_assert_not_null(dh_captured);
    if (caplen > 0)
        memcpy(dh_captured, frame, caplen);
    memset(p, 0, sizeof *p);
    p->frame = 1;
    p->caplen = (uint32_t)caplen;
    p->wirelen = (uint32_t)wirelen;
    p->link = link;
    struct decode_options opt = {.verify_checksums = verify};
    return packet_decode(p, dh_captured, &opt);
}

/* Decodes a wholly captured frame with checksum verification. */
static inline enum decode_status dh_decode_full(struct packet *p, int link, const uint8_t *frame,
                                                size_t len) {
    return dh_decode(p, link, frame, len, len, true);
}

static inline uint16_t dh_get16(const uint8_t *b) {
    return (uint16_t)((b[0] << 8) | b[1]);
}

static inline void dh_put16(uint8_t *b, uint16_t v) {
    b[0] = (uint8_t)(v >> 8);
    b[1] = (uint8_t)v;
}

static inline void dh_put32(uint8_t *b, uint32_t v) {
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
}

/* RFC 1071 sum of big-endian 16-bit words, odd tail padded with zero; and its folded complement. */
static inline uint64_t dh_sum(uint64_t acc, const uint8_t *b, size_t n) {
    size_t i = 0;
    for (; i + 1 < n; i += 2)
        acc += (uint64_t)dh_get16(b + i);
    if (i < n)
        acc += (uint64_t)b[i] << 8;
    return acc;
}

static inline uint16_t dh_finish(uint64_t acc) {
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return (uint16_t)~acc;
}

/* Rewrites the header checksum of the IPv4 header at ip after a test patched a field. */
static inline void dh_ipv4_fix_checksum(uint8_t *ip) {
    size_t hlen = (size_t)(ip[0] & 0x0f) * 4;
    dh_put16(ip + 10, 0);
    dh_put16(ip + 10, dh_finish(dh_sum(0, ip, hlen)));
}

#endif
