/* block_pool: one calloc'ed array of blocks, handed out first from the never-used tail (so only
 * the pages up to the high-water mark are ever touched) and then from a free list threaded
 * through the free blocks themselves. */
#include "block_pool.h"

#include <stdlib.h>
#include <string.h>

struct block_pool {
    unsigned char *blocks;
    size_t block_size;
    uint32_t capacity;
    uint32_t used;   /* blocks handed out at least once: [0, used) */
    void *free_list; /* a free block's first bytes point to the next one */
};

/* Room for the free-list link, and 8-byte alignment for every block. */
static size_t real_block_size(size_t block_size) {
    size_t size = block_size < sizeof(void *) ? sizeof(void *) : block_size;
    return (size + 7u) & ~(size_t)7u;
}

struct block_pool *block_pool_new(size_t block_size, uint32_t capacity) {
    struct block_pool *bp = calloc(1, sizeof *bp);
    if (!bp)
        return NULL;
    bp->block_size = real_block_size(block_size);
    bp->capacity = capacity;
    bp->blocks = calloc(capacity ? capacity : 1, bp->block_size);
    if (!bp->blocks) {
        free(bp);
        return NULL;
    }
    return bp;
}

void block_pool_free(struct block_pool *bp) {
    if (!bp)
        return;
    free(bp->blocks);
    free(bp);
}

void *block_pool_get(struct block_pool *bp) {
    void *b = bp->free_list;
    if (b) {
        memcpy(&bp->free_list, b, sizeof(void *));
    } else {
        if (bp->used == bp->capacity)
            return NULL;
        b = bp->blocks + (size_t)bp->used++ * bp->block_size;
    }
    memset(b, 0, bp->block_size);
    return b;
}

void block_pool_put(struct block_pool *bp, void *block) {
    if (!block)
        return;
    memcpy(block, &bp->free_list, sizeof(void *));
    bp->free_list = block;
}

size_t block_pool_memory(const struct block_pool *bp) {
    return sizeof *bp + (size_t)bp->capacity * bp->block_size;
}

size_t block_pool_memory_for(size_t block_size, uint32_t capacity) {
    return sizeof(struct block_pool) + (size_t)capacity * real_block_size(block_size);
}

size_t block_pool_memory_used(const struct block_pool *bp) {
    return sizeof *bp + (size_t)bp->used * bp->block_size;
}
