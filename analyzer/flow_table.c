/* flow_table: pool + chained hash + per-timer LRU lists. Pool slots are handed out from a
 * watermark, then from a free list, so memory the kernel maps lazily is only touched as the
 * number of entries in use grows. Links are 32-bit pool indices; NONE ends a list. The hash is
 * SipHash-1-3 with a random key per table, so nobody can choose 5-tuples that share a bucket. */
#include "flow_table.h"

#include <stdlib.h>
#include <string.h>

#include "siphash.h"

#define NONE UINT32_MAX

struct timer_list {
    uint32_t head, tail;
};

struct flow_table {
    uint8_t *pool;
    size_t entry_size;
    uint32_t capacity, used_watermark, count, free_head;
    uint32_t *buckets; /* pool index + 1; 0 = empty (so a calloc'ed array is an empty index) */
    uint32_t bucket_mask;
    struct sip_key hash_key; /* random, per table: bucket positions cannot be predicted */
    struct timer_list timers[FLOW_TABLE_MAX_TIMERS];
};

static uint64_t key_hash(const struct flow_table *ft, const struct flow_key *k) {
    return siphash13(&ft->hash_key, k, sizeof *k);
}

static struct flow_entry *entry_at(const struct flow_table *ft, uint32_t i) {
    return (struct flow_entry *)(ft->pool + (size_t)i * ft->entry_size);
}

static uint32_t index_of(const struct flow_table *ft, const struct flow_entry *e) {
    return (uint32_t)((size_t)((const uint8_t *)e - ft->pool) / ft->entry_size);
}

/* One bucket per entry at most (load factor ≤ 1 when full): a smaller index than 2x keeps more of
 * it in cache, and the bucket is the cold miss of most lookups. */
static uint32_t bucket_count(uint32_t capacity) {
    uint32_t nb = 1024;
    while (nb < capacity && nb < (1u << 31))
        nb <<= 1;
    return nb;
}

static size_t padded_entry_size(size_t entry_size) {
    return (entry_size + 7) & ~(size_t)7;
}

struct flow_table *flow_table_new(uint32_t capacity, size_t entry_size) {
    struct flow_table *ft = calloc(1, sizeof *ft);
    if (!ft || capacity == 0 || entry_size < sizeof(struct flow_entry))
        goto fail;
    uint32_t nb = bucket_count(capacity);
    ft->entry_size = padded_entry_size(entry_size);
    ft->capacity = capacity;
    ft->bucket_mask = nb - 1;
    ft->pool = calloc(capacity, ft->entry_size);
    ft->buckets = calloc(nb, sizeof *ft->buckets);
    if (!ft->pool || !ft->buckets)
        goto fail;
    ft->free_head = NONE;
    sip_key_random(&ft->hash_key);
    for (unsigned i = 0; i < FLOW_TABLE_MAX_TIMERS; i++)
        ft->timers[i] = (struct timer_list){NONE, NONE};
    return ft;
fail:
    flow_table_free(ft);
    return NULL;
}

void flow_table_free(struct flow_table *ft) {
    if (!ft)
        return;
    free(ft->pool);
    free(ft->buckets);
    free(ft);
}

bool flow_table_hash_as(struct flow_table *ft, const struct flow_table *model) {
    if (ft->count != 0)
        return false;
    ft->hash_key = model->hash_key;
    return true;
}

uint64_t flow_table_hash(const struct flow_table *ft, const struct flow_key *key) {
    return key_hash(ft, key);
}

void flow_table_prefetch(const struct flow_table *ft, uint64_t hash) {
    __builtin_prefetch(&ft->buckets[hash & ft->bucket_mask]);
}

/* All of the entry: the caller is about to update it, and an entry spans several cache lines. */
void flow_table_prefetch_entry(const struct flow_table *ft, uint64_t hash) {
    uint32_t i = ft->buckets[hash & ft->bucket_mask];
    if (i == 0)
        return;
    const uint8_t *e = (const uint8_t *)entry_at(ft, i - 1);
    for (size_t at = 0; at < ft->entry_size + 63; at += 64)
        __builtin_prefetch(e + at);
}

struct flow_entry *flow_table_find(const struct flow_table *ft, const struct flow_key *key) {
    return flow_table_find_hashed(ft, key, key_hash(ft, key));
}

struct flow_entry *flow_table_find_hashed(const struct flow_table *ft, const struct flow_key *key,
                                          uint64_t hash) {
    uint32_t i = ft->buckets[hash & ft->bucket_mask];
    while (i != 0) {
        struct flow_entry *e = entry_at(ft, i - 1);
        if (memcmp(&e->key, key, sizeof *key) == 0)
            return e;
        i = e->hash_next == NONE ? 0 : e->hash_next + 1;
    }
    return NULL;
}

static void timer_unlink(struct flow_table *ft, struct flow_entry *e) {
    struct timer_list *l = &ft->timers[e->timer];
    if (e->timer_prev == NONE)
        l->head = e->timer_next;
    else
        entry_at(ft, e->timer_prev)->timer_next = e->timer_next;
    if (e->timer_next == NONE)
        l->tail = e->timer_prev;
    else
        entry_at(ft, e->timer_next)->timer_prev = e->timer_prev;
}

static void timer_append(struct flow_table *ft, struct flow_entry *e, unsigned timer) {
    struct timer_list *l = &ft->timers[timer];
    uint32_t i = index_of(ft, e);
    e->timer = (uint8_t)timer;
    e->timer_next = NONE;
    e->timer_prev = l->tail;
    if (l->tail == NONE)
        l->head = i;
    else
        entry_at(ft, l->tail)->timer_next = i;
    l->tail = i;
}

struct flow_entry *flow_table_insert(struct flow_table *ft, const struct flow_key *key,
                                     unsigned timer) {
    return flow_table_insert_hashed(ft, key, key_hash(ft, key), timer);
}

struct flow_entry *flow_table_insert_hashed(struct flow_table *ft, const struct flow_key *key,
                                            uint64_t hash, unsigned timer) {
    uint32_t i;
    if (ft->free_head != NONE) {
        i = ft->free_head;
        ft->free_head = entry_at(ft, i)->hash_next;
    } else if (ft->used_watermark < ft->capacity) {
        i = ft->used_watermark++;
    } else {
        return NULL;
    }
    struct flow_entry *e = entry_at(ft, i);
    memset(e, 0, ft->entry_size);
    e->key = *key;
    uint32_t *bucket = &ft->buckets[hash & ft->bucket_mask];
    e->hash_next = *bucket == 0 ? NONE : *bucket - 1;
    *bucket = i + 1;
    timer_append(ft, e, timer);
    ft->count++;
    return e;
}

/* Unlinks pool entry i, whose key hashes to hash, from its bucket chain (buckets hold index + 1,
 * chains plain indices). */
static void hash_unlink(struct flow_table *ft, struct flow_entry *e, uint32_t i, uint64_t hash) {
    uint32_t *bucket = &ft->buckets[hash & ft->bucket_mask];
    if (*bucket == i + 1) {
        *bucket = e->hash_next == NONE ? 0 : e->hash_next + 1;
        return;
    }
    for (uint32_t j = *bucket - 1; j != NONE; j = entry_at(ft, j)->hash_next) {
        if (entry_at(ft, j)->hash_next == i) {
            entry_at(ft, j)->hash_next = e->hash_next;
            return;
        }
    }
}

void flow_table_remove(struct flow_table *ft, struct flow_entry *e) {
    flow_table_remove_hashed(ft, e, key_hash(ft, &e->key));
}

void flow_table_remove_hashed(struct flow_table *ft, struct flow_entry *e, uint64_t hash) {
    uint32_t i = index_of(ft, e);
    hash_unlink(ft, e, i, hash);
    timer_unlink(ft, e);
    e->hash_next = ft->free_head;
    ft->free_head = i;
    ft->count--;
}

void flow_table_touch(struct flow_table *ft, struct flow_entry *e, unsigned timer) {
    timer_unlink(ft, e);
    timer_append(ft, e, timer);
}

struct flow_entry *flow_table_oldest(const struct flow_table *ft, unsigned timer) {
    uint32_t i = ft->timers[timer].head;
    return i == NONE ? NULL : entry_at(ft, i);
}

struct flow_entry *flow_table_next(const struct flow_table *ft, const struct flow_entry *e) {
    return e->timer_next == NONE ? NULL : entry_at(ft, e->timer_next);
}

uint32_t flow_table_count(const struct flow_table *ft) {
    return ft->count;
}

uint32_t flow_table_capacity(const struct flow_table *ft) {
    return ft->capacity;
}

size_t flow_table_memory_for(uint32_t capacity, size_t entry_size) {
    return sizeof(struct flow_table) + (size_t)capacity * padded_entry_size(entry_size) +
           (size_t)bucket_count(capacity) * sizeof(uint32_t);
}

size_t flow_table_memory(const struct flow_table *ft) {
    return flow_table_memory_for(ft->capacity, ft->entry_size);
}

/* Entries ever handed out (the watermark: freed ones are reused before it moves) and the whole
 * index, which random hash positions touch all over as soon as there are a few entries. */
size_t flow_table_memory_used(const struct flow_table *ft) {
    return sizeof *ft + (size_t)ft->used_watermark * ft->entry_size +
           ((size_t)ft->bucket_mask + 1) * sizeof *ft->buckets;
}

uint32_t flow_table_bucket(const struct flow_table *ft, const struct flow_key *key) {
    return (uint32_t)(key_hash(ft, key) & ft->bucket_mask);
}

uint64_t flow_table_probes(const struct flow_table *ft) {
    uint64_t probes = 0;
    for (uint32_t b = 0; b <= ft->bucket_mask; b++) {
        uint64_t depth = 0;
        for (uint32_t i = ft->buckets[b]; i != 0;) {
            probes += ++depth;
            uint32_t next = entry_at(ft, i - 1)->hash_next;
            i = next == NONE ? 0 : next + 1;
        }
    }
    return probes;
}
