/* fuzz: what the fuzz targets share — the libFuzzer entry point's prototype (replay.c calls it
 * too) and the mapping from an input byte to a link type and a wire length. Header-only, no
 * state. make-seeds.py writes inputs in these encodings: keep the two in step. */
#ifndef SHAKEDOWN_FUZZ_H
#define SHAKEDOWN_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "packet.h"

/* The libFuzzer entry point every target defines. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every link type packet_decode() knows (dissectors/link.c) plus one it does not, so the
 * unsupported path is covered too. A selector byte picks one modulo the count. */
#define FUZZ_LINK_COUNT 10u

static inline int fuzz_link(uint8_t selector) {
    static const int links[FUZZ_LINK_COUNT] = {
        LINK_NULL, LINK_ETHERNET, LINK_RAW_DLT,   LINK_RAW,        LINK_LOOP,
        LINK_IPV4, LINK_IPV6,     LINK_LINUX_SLL, LINK_LINUX_SLL2, 147 /* DLT_USER0 */,
    };
    return links[selector % FUZZ_LINK_COUNT];
}

/* The wire length of a frame with caplen captured bytes: 0 → the whole frame was captured;
 * bit 7 set → a file claiming fewer bytes on the wire than captured (caplen - low 7 bits);
 * otherwise a snaplen cut: low 7 bits × 16 more bytes on the wire than captured. */
static inline uint32_t fuzz_wirelen(uint32_t caplen, uint8_t w) {
    uint32_t n = (uint32_t)(w & 0x7f);
    if (w & 0x80)
        return caplen > n ? caplen - n : 0;
    return caplen + n * 16u;
}

#endif
