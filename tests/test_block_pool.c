/* Tests for block_pool: zeroed blocks up to the capacity, NULL beyond it, given-back blocks
 * reused, and memory counted by the high-water mark. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "block_pool.h"

Test(block_pool, hands_out_zeroed_blocks_up_to_capacity) {
    struct block_pool *bp = block_pool_new(20, 3);
    cr_assert_not_null(bp);
    unsigned char *b[3];
    for (int i = 0; i < 3; i++) {
        b[i] = block_pool_get(bp);
        cr_assert_not_null(b[i]);
        for (int k = 0; k < 20; k++)
            cr_expect_eq(b[i][k], 0);
        cr_expect_eq((uintptr_t)b[i] % 8, 0, "blocks are 8-byte aligned");
        memset(b[i], 0xab, 20);
    }
    cr_expect(b[0] != b[1] && b[1] != b[2] && b[0] != b[2]);
    cr_expect_null(block_pool_get(bp), "a fourth block is beyond the capacity");
    block_pool_free(bp);
}

Test(block_pool, given_back_blocks_are_reused_zeroed) {
    struct block_pool *bp = block_pool_new(16, 2);
    cr_assert_not_null(bp);
    unsigned char *a = block_pool_get(bp), *b = block_pool_get(bp);
    memset(a, 0xff, 16);
    block_pool_put(bp, a);
    block_pool_put(bp, NULL); /* ignored */
    unsigned char *c = block_pool_get(bp);
    cr_expect_eq(c, a, "the block given back is the one handed out again");
    for (int k = 0; k < 16; k++)
        cr_expect_eq(c[k], 0);
    cr_expect_null(block_pool_get(bp));
    block_pool_put(bp, b);
    block_pool_put(bp, c);
    cr_expect_not_null(block_pool_get(bp));
    cr_expect_not_null(block_pool_get(bp));
    cr_expect_null(block_pool_get(bp));
    block_pool_free(bp);
}

/* Memory used is what was ever used: two blocks of 24 bytes touched, however often recycled;
 * memory reserved is all 1000 blocks from the start. */
Test(block_pool, memory_reserved_and_used) {
    struct block_pool *bp = block_pool_new(24, 1000);
    cr_assert_not_null(bp);
    size_t empty = block_pool_memory_used(bp), reserved = block_pool_memory(bp);
    cr_expect_eq(reserved, empty + 1000 * 24);
    void *a = block_pool_get(bp), *b = block_pool_get(bp);
    cr_expect_eq(block_pool_memory_used(bp), empty + 2 * 24);
    for (int i = 0; i < 100; i++) {
        block_pool_put(bp, a);
        a = block_pool_get(bp);
    }
    cr_expect_eq(block_pool_memory_used(bp), empty + 2 * 24);
    cr_expect_eq(block_pool_memory(bp), reserved);
    block_pool_put(bp, a);
    block_pool_put(bp, b);
    block_pool_free(bp);
}
