/* flow_table: the connections being tracked. A preallocated pool (no allocation per packet) sized
 * by --max-flows, a chained hash index for expected-O(1) lookup from either direction, and one
 * list per timer class ordered by last activity, so expiry and eviction look only at list heads
 * and never scan the table. */
#ifndef SHAKEDOWN_FLOW_TABLE_H
#define SHAKEDOWN_FLOW_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "conn.h"

struct flow_table;

/* NULL if the pool cannot be allocated. */
struct flow_table *flow_table_new(uint32_t max_flows);
void flow_table_free(struct flow_table *ft);

struct conn *flow_table_find(const struct flow_table *ft, const struct flow_key *key);

/* A zeroed entry for key, on the given timer list; NULL when the pool is full (evict first). */
struct conn *flow_table_insert(struct flow_table *ft, const struct flow_key *key,
                               enum conn_timer timer);

void flow_table_remove(struct flow_table *ft, struct conn *c);

/* Moves c to the tail of timer list `timer` (it was just active). */
void flow_table_touch(struct flow_table *ft, struct conn *c, enum conn_timer timer);

/* Least recently active entry of a timer list, or NULL. */
struct conn *flow_table_oldest(const struct flow_table *ft, enum conn_timer timer);

/* The entry after c on its timer list (more recently active), or NULL. */
struct conn *flow_table_next(const struct flow_table *ft, const struct conn *c);

uint32_t flow_table_count(const struct flow_table *ft);
uint32_t flow_table_capacity(const struct flow_table *ft);
/* Bytes the table allocated (pool and index). */
size_t flow_table_memory(const struct flow_table *ft);

#endif
