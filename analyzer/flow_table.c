/* flow_table: pool + chained hash + per-timer LRU lists. Pool slots are handed out from a
 * watermark, then from a free list, so memory the kernel maps lazily is only touched as the
 * number of connections open at once grows. Links are 32-bit pool indices; NONE ends a list. */
#include "flow_table.h"

#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

struct timer_list {
    uint32_t head, tail;
};

struct flow_table {
    struct conn *pool;
    uint32_t capacity, used_watermark, count, free_head;
    uint32_t *buckets; /* pool index + 1; 0 = empty (so a calloc'ed array is an empty index) */
    uint32_t bucket_mask;
    struct timer_list timers[CONN_TIMER_COUNT];
};

static uint64_t key_hash(const struct flow_key *k) {
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

struct flow_table *flow_table_new(uint32_t max_flows) {
    struct flow_table *ft = calloc(1, sizeof *ft);
    if (!ft || max_flows == 0)
        goto fail;
    uint32_t nb = 1024;
    while (nb < max_flows * 2ull && nb < (1u << 31))
        nb <<= 1;
    ft->pool = calloc(max_flows, sizeof *ft->pool);
    ft->buckets = calloc(nb, sizeof *ft->buckets);
    if (!ft->pool || !ft->buckets)
        goto fail;
    ft->capacity = max_flows;
    ft->bucket_mask = nb - 1;
    ft->free_head = NONE;
    for (unsigned i = 0; i < CONN_TIMER_COUNT; i++)
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

static uint32_t index_of(const struct flow_table *ft, const struct conn *c) {
    return (uint32_t)(c - ft->pool);
}

struct conn *flow_table_find(const struct flow_table *ft, const struct flow_key *key) {
    uint32_t i = ft->buckets[key_hash(key) & ft->bucket_mask];
    while (i != 0) {
        struct conn *c = &ft->pool[i - 1];
        if (memcmp(&c->key, key, sizeof *key) == 0)
            return c;
        i = c->hash_next == NONE ? 0 : c->hash_next + 1;
    }
    return NULL;
}

static void timer_unlink(struct flow_table *ft, struct conn *c) {
    struct timer_list *l = &ft->timers[c->timer];
    if (c->timer_prev == NONE)
        l->head = c->timer_next;
    else
        ft->pool[c->timer_prev].timer_next = c->timer_next;
    if (c->timer_next == NONE)
        l->tail = c->timer_prev;
    else
        ft->pool[c->timer_next].timer_prev = c->timer_prev;
}

static void timer_append(struct flow_table *ft, struct conn *c, enum conn_timer timer) {
    struct timer_list *l = &ft->timers[timer];
    uint32_t i = index_of(ft, c);
    c->timer = (uint8_t)timer;
    c->timer_next = NONE;
    c->timer_prev = l->tail;
    if (l->tail == NONE)
        l->head = i;
    else
        ft->pool[l->tail].timer_next = i;
    l->tail = i;
}

struct conn *flow_table_insert(struct flow_table *ft, const struct flow_key *key,
                               enum conn_timer timer) {
    uint32_t i;
    if (ft->free_head != NONE) {
        i = ft->free_head;
        ft->free_head = ft->pool[i].hash_next;
    } else if (ft->used_watermark < ft->capacity) {
        i = ft->used_watermark++;
    } else {
        return NULL;
    }
    struct conn *c = &ft->pool[i];
    memset(c, 0, sizeof *c);
    c->key = *key;
    uint32_t *bucket = &ft->buckets[key_hash(key) & ft->bucket_mask];
    c->hash_next = *bucket == 0 ? NONE : *bucket - 1;
    *bucket = i + 1;
    timer_append(ft, c, timer);
    ft->count++;
    return c;
}

/* Unlinks pool entry i from its bucket chain (buckets hold index + 1, chains plain indices). */
static void hash_unlink(struct flow_table *ft, struct conn *c, uint32_t i) {
    uint32_t *bucket = &ft->buckets[key_hash(&c->key) & ft->bucket_mask];
    if (*bucket == i + 1) {
        *bucket = c->hash_next == NONE ? 0 : c->hash_next + 1;
        return;
    }
    for (uint32_t j = *bucket - 1; j != NONE; j = ft->pool[j].hash_next) {
        if (ft->pool[j].hash_next == i) {
            ft->pool[j].hash_next = c->hash_next;
            return;
        }
    }
}

void flow_table_remove(struct flow_table *ft, struct conn *c) {
    uint32_t i = index_of(ft, c);
    hash_unlink(ft, c, i);
    timer_unlink(ft, c);
    c->hash_next = ft->free_head;
    ft->free_head = i;
    ft->count--;
}

void flow_table_touch(struct flow_table *ft, struct conn *c, enum conn_timer timer) {
    timer_unlink(ft, c);
    timer_append(ft, c, timer);
}

struct conn *flow_table_oldest(const struct flow_table *ft, enum conn_timer timer) {
    uint32_t i = ft->timers[timer].head;
    return i == NONE ? NULL : &ft->pool[i];
}

struct conn *flow_table_next(const struct flow_table *ft, const struct conn *c) {
    return c->timer_next == NONE ? NULL : &ft->pool[c->timer_next];
}

uint32_t flow_table_count(const struct flow_table *ft) {
    return ft->count;
}

uint32_t flow_table_capacity(const struct flow_table *ft) {
    return ft->capacity;
}

size_t flow_table_memory(const struct flow_table *ft) {
    return sizeof *ft + (size_t)ft->capacity * sizeof *ft->pool +
           ((size_t)ft->bucket_mask + 1) * sizeof *ft->buckets;
}
