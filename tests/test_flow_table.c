/* Unit tests of flow_table: lookup, insert, removal and slot reuse, the bound of the pool, and
 * the per-timer lists ordered by activity that expiry and eviction rely on. */
#include <criterion/criterion.h>
#include <string.h>

#include "flow_table.h"

static struct flow_key key_n(uint32_t n) {
    struct flow_key k;
    memset(&k, 0, sizeof k);
    k.ip_version = 4;
    k.proto = 6;
    memcpy(k.addr[0], &n, sizeof n);
    k.addr[1][0] = 10;
    k.port[0] = (uint16_t)(n & 0xffff);
    k.port[1] = 80;
    return k;
}

Test(flow_table, insert_find_remove) {
    struct flow_table *ft = flow_table_new(100, sizeof(struct flow_entry));
    cr_assert(ft);
    struct flow_key a = key_n(1), b = key_n(2);
    struct flow_entry *ca = flow_table_insert(ft, &a, CONN_TIMER_HANDSHAKE);
    struct flow_entry *cb = flow_table_insert(ft, &b, CONN_TIMER_HANDSHAKE);
    cr_assert(ca && cb && ca != cb);
    cr_expect_eq(flow_table_find(ft, &a), ca);
    cr_expect_eq(flow_table_find(ft, &b), cb);
    cr_expect_eq(flow_table_count(ft), 2);
    flow_table_remove(ft, ca);
    cr_expect_null(flow_table_find(ft, &a));
    cr_expect_eq(flow_table_find(ft, &b), cb, "the other entry survives");
    cr_expect_eq(flow_table_count(ft), 1);
    flow_table_free(ft);
}

/* Thousands of keys in a table whose buckets collide: every one is found, and each removal
 * takes exactly its own entry out of a shared chain. */
Test(flow_table, many_keys_and_chains) {
    enum { N = 5000 };
    struct flow_table *ft = flow_table_new(N, sizeof(struct flow_entry));
    cr_assert(ft);
    for (uint32_t i = 0; i < N; i++) {
        struct flow_key k = key_n(i);
        cr_assert(flow_table_insert(ft, &k, CONN_TIMER_UDP));
    }
    for (uint32_t i = 0; i < N; i += 2) {
        struct flow_key k = key_n(i);
        flow_table_remove(ft, flow_table_find(ft, &k));
    }
    for (uint32_t i = 0; i < N; i++) {
        struct flow_key k = key_n(i);
        struct flow_entry *c = flow_table_find(ft, &k);
        if (i % 2)
            cr_assert(c && memcmp(&c->key, &k, sizeof k) == 0, "key %u lost", i);
        else
            cr_assert_null(c, "key %u still there", i);
    }
    flow_table_free(ft);
}

/* The pool is the bound: full means NULL, and a removed slot is reused. */
Test(flow_table, bounded_pool) {
    struct flow_table *ft = flow_table_new(3, sizeof(struct flow_entry));
    struct flow_key k[4] = {key_n(1), key_n(2), key_n(3), key_n(4)};
    struct flow_entry *c0 = flow_table_insert(ft, &k[0], CONN_TIMER_UDP);
    cr_assert(flow_table_insert(ft, &k[1], CONN_TIMER_UDP));
    cr_assert(flow_table_insert(ft, &k[2], CONN_TIMER_UDP));
    cr_expect_null(flow_table_insert(ft, &k[3], CONN_TIMER_UDP));
    flow_table_remove(ft, c0);
    struct flow_entry *c3 = flow_table_insert(ft, &k[3], CONN_TIMER_UDP);
    cr_expect_eq(c3, c0, "the freed slot is reused");
    cr_expect_eq(flow_table_count(ft), 3);
    cr_expect_eq(flow_table_capacity(ft), 3);
    flow_table_free(ft);
}

/* Timer lists: oldest first; touching moves an entry to the tail of (possibly another) list. */
/* Entries are the caller's structs (a flow_entry first, then their own fields): consecutive
 * entries must not overlap, and a removed entry's slot comes back zeroed. */
struct fat_entry {
    struct flow_entry e;
    uint8_t payload[300];
};

Test(flow_table, caller_sized_entries) {
    struct flow_table *ft = flow_table_new(4, sizeof(struct fat_entry));
    struct fat_entry *f[4];
    for (uint32_t i = 0; i < 4; i++) {
        struct flow_key k = key_n(i);
        f[i] = (struct fat_entry *)flow_table_insert(ft, &k, CONN_TIMER_UDP);
        cr_assert(f[i]);
        memset(f[i]->payload, (int)(i + 1), sizeof f[i]->payload);
    }
    for (uint32_t i = 0; i < 4; i++) {
        struct flow_key k = key_n(i);
        cr_expect_eq((void *)flow_table_find(ft, &k), (void *)f[i]);
        cr_expect_eq(f[i]->payload[0], i + 1);
        cr_expect_eq(f[i]->payload[sizeof f[i]->payload - 1], i + 1, "entry %u overwritten", i);
    }
    flow_table_remove(ft, &f[2]->e);
    struct flow_key k = key_n(9);
    struct fat_entry *again = (struct fat_entry *)flow_table_insert(ft, &k, CONN_TIMER_UDP);
    cr_expect_eq(again, f[2]);
    cr_expect_eq(again->payload[0], 0, "a reused slot starts zeroed");
    flow_table_free(ft);
}

Test(flow_table, timer_lists_order_by_activity) {
    struct flow_table *ft = flow_table_new(10, sizeof(struct flow_entry));
    struct flow_key k[3] = {key_n(1), key_n(2), key_n(3)};
    struct flow_entry *c[3];
    for (int i = 0; i < 3; i++)
        c[i] = flow_table_insert(ft, &k[i], CONN_TIMER_ESTABLISHED);
    cr_expect_eq(flow_table_oldest(ft, CONN_TIMER_ESTABLISHED), c[0]);
    flow_table_touch(ft, c[0], CONN_TIMER_ESTABLISHED);
    cr_expect_eq(flow_table_oldest(ft, CONN_TIMER_ESTABLISHED), c[1]);
    cr_expect_eq(flow_table_next(ft, c[1]), c[2]);
    cr_expect_eq(flow_table_next(ft, c[2]), c[0]);
    cr_expect_null(flow_table_next(ft, c[0]));
    flow_table_touch(ft, c[1], CONN_TIMER_CLOSING);
    cr_expect_eq(flow_table_oldest(ft, CONN_TIMER_ESTABLISHED), c[2]);
    cr_expect_eq(flow_table_oldest(ft, CONN_TIMER_CLOSING), c[1]);
    flow_table_remove(ft, c[2]);
    cr_expect_eq(flow_table_oldest(ft, CONN_TIMER_ESTABLISHED), c[0]);
    flow_table_free(ft);
}

/* The two-step lookup (hash, prefetch, find with the hash) finds what flow_table_find finds, in
 * a table whose chains are long (5000 keys, 1024 buckets), and a key's hash is stable. */
Test(flow_table, find_hashed_matches_find) {
    enum { N = 5000 };
    struct flow_table *ft = flow_table_new(N, sizeof(struct flow_entry));
    cr_assert(ft);
    for (uint32_t n = 0; n < N; n += 2) {
        struct flow_key k = key_n(n);
        cr_assert(flow_table_insert(ft, &k, CONN_TIMER_HANDSHAKE));
    }
    for (uint32_t n = 0; n < N; n++) {
        struct flow_key k = key_n(n);
        uint64_t h = flow_table_hash(ft, &k);
        cr_assert_eq(h, flow_table_hash(ft, &k));
        flow_table_prefetch(ft, h);
        struct flow_entry *e = flow_table_find_hashed(ft, &k, h);
        cr_assert_eq(e, flow_table_find(ft, &k), "key %u", n);
        cr_assert_eq(e != NULL, n % 2 == 0, "key %u: inserted only when even", n);
    }
    flow_table_free(ft);
}

/* An entry inserted with its hash worked out beforehand is found by either lookup, and removed
 * like any other. */
Test(flow_table, insert_hashed_is_insert) {
    struct flow_table *ft = flow_table_new(64, sizeof(struct flow_entry));
    cr_assert(ft);
    struct flow_key a = key_n(7), b = key_n(8);
    struct flow_entry *ea = flow_table_insert_hashed(ft, &a, flow_table_hash(ft, &a), 0);
    struct flow_entry *eb = flow_table_insert(ft, &b, 0);
    cr_assert(ea && eb && ea != eb);
    cr_expect_eq(flow_table_find(ft, &a), ea);
    cr_expect_eq(flow_table_find_hashed(ft, &b, flow_table_hash(ft, &b)), eb);
    flow_table_remove(ft, ea);
    cr_expect_null(flow_table_find(ft, &a));
    cr_expect_eq(flow_table_find(ft, &b), eb);
    flow_table_free(ft);
}

/* Two tables keyed alike (flow_table_hash_as) hash every key alike, so one hash serves both; a
 * table that already holds entries keeps its own key (its entries sit where that key put them).
 * remove_hashed with the key's hash takes out exactly that entry, from a shared chain too. */
Test(flow_table, hash_as_and_remove_hashed) {
    enum { N = 3000 };
    struct flow_table *a = flow_table_new(N, sizeof(struct flow_entry));
    struct flow_table *b = flow_table_new(N, sizeof(struct flow_entry));
    cr_assert(a && b);
    struct flow_key k0 = key_n(0);
    cr_assert(flow_table_insert(b, &k0, 0));
    cr_expect_not(flow_table_hash_as(b, a), "b holds an entry");
    flow_table_remove(b, flow_table_find(b, &k0));
    cr_assert(flow_table_hash_as(b, a));
    for (uint32_t n = 0; n < N; n++) {
        struct flow_key k = key_n(n);
        uint64_t h = flow_table_hash(a, &k);
        cr_assert_eq(flow_table_hash(b, &k), h, "key %u", n);
        cr_assert(flow_table_insert_hashed(b, &k, h, 0));
    }
    for (uint32_t n = 0; n < N; n += 2) { /* every other one, through chains of 1000-odd buckets */
        struct flow_key k = key_n(n);
        flow_table_remove_hashed(b, flow_table_find(b, &k), flow_table_hash(a, &k));
    }
    cr_expect_eq(flow_table_count(b), N / 2);
    for (uint32_t n = 0; n < N; n++) {
        struct flow_key k = key_n(n);
        if (n % 2)
            cr_expect_not_null(flow_table_find(b, &k), "key %u kept", n);
        else
            cr_expect_null(flow_table_find(b, &k), "key %u removed", n);
    }
    flow_table_free(a);
    flow_table_free(b);
}
