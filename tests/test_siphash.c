/* Unit tests of siphash and what it is for, hash flooding (issue 18, point 1): 5-tuples chosen so
 * that they share one bucket of the flow table cost no more to look up than random ones, because
 * every table hashes with a random key of its own; and the SipHash under it is the published
 * function. */
#include <criterion/criterion.h>
#include <string.h>

#include "flow_table.h"
#include "siphash.h"

enum { N = 2000 };

/* Distinct IPv4 TCP keys from a counter: client 10.x.y.z:port to 192.0.2.1:80. The counter
 * drives the client address and port, as a spoofing attacker's generator would. */
static struct flow_key key_n(uint64_t n) {
    struct flow_key k;
    memset(&k, 0, sizeof k);
    k.ip_version = 4;
    k.proto = 6;
    k.addr[0][0] = 10;
    k.addr[0][1] = (uint8_t)(n >> 24);
    k.addr[0][2] = (uint8_t)(n >> 16);
    k.addr[0][3] = (uint8_t)(n >> 8);
    k.port[0] = (uint16_t)(1024 + (n & 0xff));
    memcpy(k.addr[1], (const uint8_t[]){192, 0, 2, 1}, 4);
    k.port[1] = 80;
    return k;
}

/* Key comparisons to find each of keys[0..n) once in a fresh table of the program's. */
static uint64_t probes_of(const struct flow_key *keys, size_t n) {
    struct flow_table *ft = flow_table_new(N, sizeof(struct flow_entry));
    cr_assert(ft);
    for (size_t i = 0; i < n; i++)
        cr_assert(flow_table_insert(ft, &keys[i], 0));
    uint64_t p = flow_table_probes(ft);
    flow_table_free(ft);
    return p;
}

static struct flow_key keys_random[N], keys_chosen[N];

/* The attack of the issue against whatever hash the program uses: the attacker runs the
 * program's own table code offline (flow_table_bucket of a table it made) and keeps the keys
 * that land in bucket 0 there — N of them. Sent to a running sensor (another table), they must
 * cost no more than N random keys: the bound is 2x per packet, and the expected cost of
 * both is N * (1 + N / (2 * 2048 buckets)) ≈ 1.5 N comparisons, so 2x leaves a wide margin for
 * chance. With an unkeyed hash all N share one chain there too: N (N + 1) / 2 ≈ 1000 N. */
Test(siphash, keys_chosen_offline_spread_in_the_running_table) {
    struct flow_table *attacker = flow_table_new(N, sizeof(struct flow_entry));
    cr_assert(attacker);
    size_t chosen = 0;
    for (uint64_t n = 0; chosen < N && n < (1ull << 32); n++) {
        struct flow_key k = key_n(n);
        if (flow_table_bucket(attacker, &k) == 0)
            keys_chosen[chosen++] = k;
    }
    flow_table_free(attacker);
    cr_assert_eq(chosen, N);
    for (size_t i = 0; i < N; i++)
        keys_random[i] = key_n(0x9e3779b9u * (uint64_t)(i + 1)); /* spread over the counter */
    uint64_t chosen_cost = probes_of(keys_chosen, N), random_cost = probes_of(keys_random, N);
    cr_expect_leq(chosen_cost, 2 * random_cost,
                  "%d chosen keys cost %llu comparisons, %d random ones %llu", N,
                  (unsigned long long)chosen_cost, N, (unsigned long long)random_cost);
}

/* The hash before issue 18: fixed constants, no secret — the attack set of the issue was made
 * from it. Kept here only to rebuild that set. */
static uint64_t unkeyed_hash(const struct flow_key *k) {
    const uint8_t *b = (const uint8_t *)k;
    uint64_t h = 0x243f6a8885a308d3ull;
    for (size_t i = 0; i + 8 <= sizeof *k; i += 8) {
        uint64_t w;
        memcpy(&w, b + i, 8);
        h = (h ^ w) * 0x9e3779b97f4a7c15ull;
        h ^= h >> 29;
    }
    uint32_t tail;
    memcpy(&tail, b + sizeof *k - 4, 4);
    h = (h ^ tail) * 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 31);
}

/* The capture: keys that share one bucket of the old hash (its low 11 bits, the index of
 * a 2048-bucket table). In the program's table they cost what random keys do (as above). */
Test(siphash, the_old_attack_set_spreads) {
    size_t chosen = 0;
    for (uint64_t n = 0; chosen < N && n < (1ull << 32); n++) {
        struct flow_key k = key_n(n);
        if ((unkeyed_hash(&k) & 2047) == 0)
            keys_chosen[chosen++] = k;
    }
    cr_assert_eq(chosen, N);
    for (size_t i = 0; i < N; i++)
        keys_random[i] = key_n(0x9e3779b9u * (uint64_t)(i + 1));
    uint64_t chosen_cost = probes_of(keys_chosen, N), random_cost = probes_of(keys_random, N);
    cr_expect_leq(chosen_cost, 2 * random_cost, "chosen %llu, random %llu comparisons",
                  (unsigned long long)chosen_cost, (unsigned long long)random_cost);
}

/* Two tables made one after the other have different keys: the same 64 keys do not land in the
 * same buckets of both (with 2048 buckets, all 64 agreeing by chance has odds 2048^-64). */
Test(siphash, every_table_has_its_own_key) {
    struct flow_table *a = flow_table_new(N, sizeof(struct flow_entry));
    struct flow_table *b = flow_table_new(N, sizeof(struct flow_entry));
    cr_assert(a && b);
    int same = 0;
    for (uint64_t n = 0; n < 64; n++) {
        struct flow_key k = key_n(n * 7919);
        same += flow_table_bucket(a, &k) == flow_table_bucket(b, &k);
    }
    cr_expect_lt(same, 64);
    flow_table_free(a);
    flow_table_free(b);
}

/* The paper's test vectors (Appendix A, SipHash-2-4): key 00 01 .. 0f; the empty message, and
 * the 15-byte message 00 01 .. 0e. The tables use the same code with 1 and 3 rounds. */
Test(siphash, siphash_matches_the_paper) {
    struct sip_key key;
    uint8_t kb[16], msg[15];
    for (int i = 0; i < 16; i++)
        kb[i] = (uint8_t)i;
    for (int i = 0; i < 15; i++)
        msg[i] = (uint8_t)i;
    key.k0 = sip_load_le(kb, 8);
    key.k1 = sip_load_le(kb + 8, 8);
    cr_expect_eq(siphash(&key, msg, 0, 2, 4), 0x726fdb47dd0e0e31ull);
    cr_expect_eq(siphash(&key, msg, 15, 2, 4), 0xa129ca6149be45e5ull);
}
