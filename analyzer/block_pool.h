/* block_pool: fixed-size blocks for the parts of a connection most connections never need (its
 * anomaly list, its sequence holes), so they cost memory only where they exist. A pool holds up
 * to `capacity` blocks, allocated once as one array whose pages the kernel maps only as blocks are
 * first used, and recycled through a free list: no allocation per packet. */
#ifndef SHAKEDOWN_BLOCK_POOL_H
#define SHAKEDOWN_BLOCK_POOL_H

#include <stddef.h>
#include <stdint.h>

struct block_pool;

/* NULL if the memory cannot be reserved. */
struct block_pool *block_pool_new(size_t block_size, uint32_t capacity);
void block_pool_free(struct block_pool *bp);

/* A zeroed block, or NULL when all `capacity` are in use. */
void *block_pool_get(struct block_pool *bp);

/* Gives back a block from block_pool_get (NULL is ignored). */
void block_pool_put(struct block_pool *bp, void *block);

/* Bytes reserved for the pool: all `capacity` blocks, whether used yet or not. */
size_t block_pool_memory(const struct block_pool *bp);

/* What block_pool_new(block_size, capacity) would reserve. */
size_t block_pool_memory_for(size_t block_size, uint32_t capacity);

/* Bytes of blocks ever used (the high-water mark: what the pool has touched). */
size_t block_pool_memory_used(const struct block_pool *bp);

#endif
