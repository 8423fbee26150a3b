/* flow_table: a bounded table of flow entries. A preallocated pool (no allocation per packet) of
 * fixed-size entries, a chained hash index for expected-O(1) lookup from either direction, and
 * one list per timer class ordered by last activity, so expiry and eviction look only at list
 * heads and never scan the table. Entries are any struct that starts with a struct flow_entry
 * (live connections, and the compact records of closed ones). */
#ifndef SHAKEDOWN_FLOW_TABLE_H
#define SHAKEDOWN_FLOW_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn.h"

#define FLOW_TABLE_MAX_TIMERS 8

struct flow_table;

/* NULL if the pool cannot be allocated. entry_size: the size of the struct embedding a
 * struct flow_entry as its first member. */
struct flow_table *flow_table_new(uint32_t capacity, size_t entry_size);
void flow_table_free(struct flow_table *ft);

/* From now on ft hashes keys with model's (random) key, so that a key hashed once serves both
 * tables. Only while ft is empty (false, and nothing changes, otherwise). */
bool flow_table_hash_as(struct flow_table *ft, const struct flow_table *model);

struct flow_entry *flow_table_find(const struct flow_table *ft, const struct flow_key *key);

/* The same in two steps, for a caller that knows its key early: flow_table_hash, then
 * flow_table_prefetch to start loading the key's bucket while other work goes on (a hint: it
 * changes nothing), then flow_table_find_hashed with that hash. */
uint64_t flow_table_hash(const struct flow_table *ft, const struct flow_key *key);
void flow_table_prefetch(const struct flow_table *ft, uint64_t hash);
/* Once the bucket is in the cache (flow_table_prefetch some time before): starts loading the
 * first entry of its chain, all of it. */
void flow_table_prefetch_entry(const struct flow_table *ft, uint64_t hash);
struct flow_entry *flow_table_find_hashed(const struct flow_table *ft, const struct flow_key *key,
                                          uint64_t hash);

/* A zeroed entry for key (key and links set), on timer list `timer`; NULL when the pool is full
 * (make room first). */
struct flow_entry *flow_table_insert(struct flow_table *ft, const struct flow_key *key,
                                     unsigned timer);
/* The same with key's hash (flow_table_hash) already worked out. */
struct flow_entry *flow_table_insert_hashed(struct flow_table *ft, const struct flow_key *key,
                                            uint64_t hash, unsigned timer);

void flow_table_remove(struct flow_table *ft, struct flow_entry *e);
/* The same when e's key's hash (flow_table_hash) is at hand. */
void flow_table_remove_hashed(struct flow_table *ft, struct flow_entry *e, uint64_t hash);

/* Moves e to the tail of timer list `timer` (it was just active). */
void flow_table_touch(struct flow_table *ft, struct flow_entry *e, unsigned timer);

/* Least recently active entry of a timer list, or NULL; the entry after e on its list. */
struct flow_entry *flow_table_oldest(const struct flow_table *ft, unsigned timer);
struct flow_entry *flow_table_next(const struct flow_table *ft, const struct flow_entry *e);

uint32_t flow_table_count(const struct flow_table *ft);
uint32_t flow_table_capacity(const struct flow_table *ft);
/* Bytes the table allocated (pool and index); what flow_table_new(capacity, entry_size) would;
 * and of those, the ones in use (entries handed out so far, and the index). */
size_t flow_table_memory(const struct flow_table *ft);
size_t flow_table_memory_for(uint32_t capacity, size_t entry_size);
size_t flow_table_memory_used(const struct flow_table *ft);

/* The hash index as an attacker would see it. flow_table_bucket: the bucket of key in this table
 * (tables are keyed at random, so another table puts it elsewhere). flow_table_probes: key
 * comparisons it takes to find every entry once (the sum over chains of 1 + 2 + ... + length),
 * the cost of lookups that chosen keys would drive up; it walks the whole index. */
uint32_t flow_table_bucket(const struct flow_table *ft, const struct flow_key *key);
uint64_t flow_table_probes(const struct flow_table *ft);

#endif
