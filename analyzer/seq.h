/* seq: serial-number arithmetic for 32-bit TCP sequence numbers (RFC 1982, RFC 9293 §3.4): every
 * comparison of sequence or acknowledgement numbers goes through these, so wraparound is never a
 * special case. */
#ifndef SHAKEDOWN_SEQ_H
#define SHAKEDOWN_SEQ_H

#include <stdbool.h>
#include <stdint.h>

/* a − b as a signed distance (correct while the two are less than 2^31 apart). */
static inline int32_t seq_diff(uint32_t a, uint32_t b) {
    return (int32_t)(a - b);
}

static inline bool seq_lt(uint32_t a, uint32_t b) {
    return seq_diff(a, b) < 0;
}

static inline bool seq_leq(uint32_t a, uint32_t b) {
    return seq_diff(a, b) <= 0;
}

static inline bool seq_gt(uint32_t a, uint32_t b) {
    return seq_diff(a, b) > 0;
}

static inline bool seq_geq(uint32_t a, uint32_t b) {
    return seq_diff(a, b) >= 0;
}

/* Position of a 32-bit sequence number in a 64-bit relative space anchored at base, taking the
 * candidate nearest to near (a recent relative position): this unwraps sequence numbers so that
 * byte counts stay exact past 4 GiB. */
static inline int64_t seq_unwrap(uint32_t seq, uint32_t base, int64_t near) {
    uint32_t near32 = base + (uint32_t)near;
    return near + seq_diff(seq, near32);
}

#endif
