/* siphash: SipHash-c-d (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012), a
 * keyed hash: without the 128-bit key nobody can choose inputs that collide, so tables keyed with
 * a random key per run cannot be flooded with chosen 5-tuples or addresses. The tables use
 * SipHash-1-3 (one compression round per word, three finalization rounds), as Rust's and
 * Python's hash tables do; inline, because flow lookups hash every packet. */
#ifndef SHAKEDOWN_SIPHASH_H
#define SHAKEDOWN_SIPHASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct sip_key {
    uint64_t k0, k1;
};

/* A key from getrandom(2) (/dev/urandom, then the clock and process id, if that fails). */
void sip_key_random(struct sip_key *key);

static inline uint64_t sip_rotl(uint64_t x, unsigned b) {
    return (x << b) | (x >> (64 - b));
}

/* One SipRound of the paper's §2 on the state v[4]. */
static inline void sip_round(uint64_t v[4]) {
    v[0] += v[1];
    v[1] = sip_rotl(v[1], 13);
    v[1] ^= v[0];
    v[0] = sip_rotl(v[0], 32);
    v[2] += v[3];
    v[3] = sip_rotl(v[3], 16);
    v[3] ^= v[2];
    v[0] += v[3];
    v[3] = sip_rotl(v[3], 21);
    v[3] ^= v[0];
    v[2] += v[1];
    v[1] = sip_rotl(v[1], 17);
    v[1] ^= v[2];
    v[2] = sip_rotl(v[2], 32);
}

static inline uint64_t sip_load_le(const uint8_t *p, size_t n) {
    uint64_t m = 0;
    for (size_t i = 0; i < n; i++)
        m |= (uint64_t)p[i] << (8 * i);
    return m;
}

/* SipHash-c-d of p[0..n): 8-byte little-endian words, then a last word holding the remaining
 * bytes and n mod 256 in its top byte. */
static inline uint64_t siphash(const struct sip_key *key, const void *data, size_t n,
                               unsigned c_rounds, unsigned d_rounds) {
    const uint8_t *p = data;
    uint64_t v[4] = {key->k0 ^ 0x736f6d6570736575ull, key->k1 ^ 0x646f72616e646f6dull,
                     key->k0 ^ 0x6c7967656e657261ull, key->k1 ^ 0x7465646279746573ull};
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t m;
        memcpy(&m, p + i, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        m = __builtin_bswap64(m);
#endif
        v[3] ^= m;
        for (unsigned r = 0; r < c_rounds; r++)
            sip_round(v);
        v[0] ^= m;
    }
    uint64_t last = sip_load_le(p + i, n - i) | (uint64_t)n << 56;
    v[3] ^= last;
    for (unsigned r = 0; r < c_rounds; r++)
        sip_round(v);
    v[0] ^= last;
    v[2] ^= 0xff;
    for (unsigned r = 0; r < d_rounds; r++)
        sip_round(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static inline uint64_t siphash13(const struct sip_key *key, const void *data, size_t n) {
    return siphash(key, data, n, 1, 3);
}

#endif
