/* test_cursor: the bounds-checked reads of dissectors/cursor.h. A read that fits exactly succeeds;
 * one byte more fails and leaves both the cursor and the output untouched. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "cursor.h"

static const uint8_t bytes[8] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};

Test(cursor, make_left_has) {
    struct cursor c = cursor_make(bytes, sizeof bytes);
    cr_assert_eq(c.p, bytes);
    cr_assert_eq(c.end, bytes + 8);
    cr_assert_eq(cursor_left(&c), 8);
    cr_assert(cursor_has(&c, 0));
    cr_assert(cursor_has(&c, 8));
    cr_assert_not(cursor_has(&c, 9));
}

Test(cursor, empty_cursor_reads_nothing) {
    struct cursor c = cursor_make(bytes, 0);
    uint8_t v8 = 0x5a;
    uint16_t v16 = 0x5a5a;
    uint32_t v32 = 0x5a5a5a5a;
    cr_assert_eq(cursor_left(&c), 0);
    cr_assert(cursor_has(&c, 0));
    cr_assert(cursor_skip(&c, 0));
    cr_assert_not(cursor_u8(&c, &v8));
    cr_assert_not(cursor_u16be(&c, &v16));
    cr_assert_not(cursor_u32be(&c, &v32));
    cr_assert_not(cursor_skip(&c, 1));
    cr_assert_eq(c.p, bytes);
    cr_assert_eq(v8, 0x5a);
    cr_assert_eq(v16, 0x5a5a);
    cr_assert_eq(v32, 0x5a5a5a5a);
}

Test(cursor, u8_at_boundary) {
    struct cursor c = cursor_make(bytes, 1);
    uint8_t v = 0;
    cr_assert(cursor_u8(&c, &v));
    cr_assert_eq(v, 0x01);
    cr_assert_eq(c.p, bytes + 1);
    v = 0x77;
    cr_assert_not(cursor_u8(&c, &v));
    cr_assert_eq(c.p, bytes + 1);
    cr_assert_eq(v, 0x77);
}

Test(cursor, u16be_at_boundary) {
    /* Three bytes: one u16 fits, the second needs one byte more than is left. */
    struct cursor c = cursor_make(bytes, 3);
    uint16_t v = 0;
    cr_assert(cursor_u16be(&c, &v));
    cr_assert_eq(v, 0x0123); /* big-endian */
    cr_assert_eq(c.p, bytes + 2);
    v = 0x7777;
    cr_assert_not(cursor_u16be(&c, &v));
    cr_assert_eq(c.p, bytes + 2);
    cr_assert_eq(v, 0x7777);
    /* The last byte is still readable after the failed read. */
    uint8_t b = 0;
    cr_assert(cursor_u8(&c, &b));
    cr_assert_eq(b, 0x45);
}

Test(cursor, u32be_at_boundary) {
    struct cursor c = cursor_make(bytes, 7);
    uint32_t v = 0;
    cr_assert(cursor_u32be(&c, &v));
    cr_assert_eq(v, 0x01234567u);
    cr_assert_eq(c.p, bytes + 4);
    v = 0x77777777u;
    cr_assert_not(cursor_u32be(&c, &v)); /* 3 bytes left */
    cr_assert_eq(c.p, bytes + 4);
    cr_assert_eq(v, 0x77777777u);
}

Test(cursor, u32be_exact_fit) {
    struct cursor c = cursor_make(bytes + 4, 4);
    uint32_t v = 0;
    cr_assert(cursor_u32be(&c, &v));
    cr_assert_eq(v, 0x89abcdefu); /* high bit set: no sign trouble */
    cr_assert_eq(cursor_left(&c), 0);
    cr_assert_eq(c.p, c.end);
}

Test(cursor, skip_at_boundary) {
    struct cursor c = cursor_make(bytes, 8);
    cr_assert(cursor_skip(&c, 5));
    cr_assert_not(cursor_skip(&c, 4));
    cr_assert_eq(c.p, bytes + 5);
    cr_assert(cursor_skip(&c, 3));
    cr_assert_eq(c.p, bytes + 8);
    cr_assert_not(cursor_skip(&c, 1));
    cr_assert_eq(c.p, bytes + 8);
}

Test(cursor, copy_at_boundary) {
    struct cursor c = cursor_make(bytes, 6);
    uint8_t out[8];
    memset(out, 0xee, sizeof out);
    cr_assert(cursor_copy(&c, out, 4));
    cr_assert_arr_eq(out, bytes, 4);
    cr_assert_eq(c.p, bytes + 4);
    memset(out, 0xee, sizeof out);
    cr_assert_not(cursor_copy(&c, out, 3)); /* 2 left */
    cr_assert_eq(c.p, bytes + 4);
    for (size_t i = 0; i < sizeof out; i++)
        cr_assert_eq(out[i], 0xee, "byte %zu written by a failed copy", i);
    cr_assert(cursor_copy(&c, out, 2));
    cr_assert_arr_eq(out, bytes + 4, 2);
    cr_assert_eq(cursor_left(&c), 0);
}

Test(cursor, take_at_boundary) {
    struct cursor c = cursor_make(bytes, 8);
    struct cursor sub = {NULL, NULL};
    cr_assert(cursor_take(&c, 3, &sub));
    cr_assert_eq(sub.p, bytes);
    cr_assert_eq(sub.end, bytes + 3);
    cr_assert_eq(c.p, bytes + 3);

    struct cursor untouched = {bytes + 1, bytes + 2};
    cr_assert_not(cursor_take(&c, 6, &untouched)); /* 5 left */
    cr_assert_eq(c.p, bytes + 3);
    cr_assert_eq(untouched.p, bytes + 1);
    cr_assert_eq(untouched.end, bytes + 2);

    cr_assert(cursor_take(&c, 5, &sub));
    cr_assert_eq(sub.p, bytes + 3);
    cr_assert_eq(sub.end, bytes + 8);
    cr_assert_eq(cursor_left(&c), 0);
}

Test(cursor, sub_cursor_is_bounded_by_its_length) {
    /* A header split off with cursor_take cannot read into what follows it. */
    struct cursor c = cursor_make(bytes, 8);
    struct cursor sub;
    cr_assert(cursor_take(&c, 2, &sub));
    uint16_t v16 = 0;
    cr_assert(cursor_u16be(&sub, &v16));
    cr_assert_eq(v16, 0x0123);
    uint8_t v8 = 0x77;
    cr_assert_not(cursor_u8(&sub, &v8));
    cr_assert_eq(v8, 0x77);
    cr_assert_eq(sub.p, bytes + 2);
}

Test(cursor, peek_u8_does_not_move) {
    struct cursor c = cursor_make(bytes + 4, 2);
    uint8_t v = 0;
    cr_assert(cursor_peek_u8(&c, &v));
    cr_assert_eq(v, 0x89);
    cr_assert_eq(c.p, bytes + 4);
    cr_assert(cursor_peek_u8(&c, &v)); /* the same byte again */
    cr_assert_eq(v, 0x89);
    cr_assert(cursor_u8(&c, &v)); /* and a read after it still reads it */
    cr_assert_eq(v, 0x89);
    cr_assert(cursor_peek_u8(&c, &v));
    cr_assert_eq(v, 0xab);
}

Test(cursor, peek_u8_at_boundary) {
    struct cursor c = cursor_make(bytes, 1);
    uint8_t v = 0;
    cr_assert(cursor_u8(&c, &v));
    v = 0x77;
    cr_assert_not(cursor_peek_u8(&c, &v)); /* nothing left */
    cr_assert_eq(v, 0x77);
    cr_assert_eq(c.p, bytes + 1);
}

Test(cursor, pos_follows_reads) {
    struct cursor c = cursor_make(bytes, 8);
    cr_assert_eq(cursor_pos(&c), bytes);
    uint16_t v;
    cr_assert(cursor_u16be(&c, &v));
    cr_assert_eq(cursor_pos(&c), bytes + 2);
    cr_assert_not(cursor_skip(&c, 7)); /* a failed read does not move it */
    cr_assert_eq(cursor_pos(&c), bytes + 2);
    cr_assert(cursor_skip(&c, 6));
    cr_assert_eq(cursor_pos(&c), bytes + 8); /* one past the end once all is read */
}

Test(cursor, upto_within_capture) {
    /* An announced length shorter than what is left: exactly that many bytes, c unmoved. */
    struct cursor c = cursor_make(bytes, 8);
    cr_assert(cursor_skip(&c, 1));
    struct cursor sub = cursor_upto(&c, 3);
    cr_assert_eq(sub.p, bytes + 1);
    cr_assert_eq(sub.end, bytes + 4);
    cr_assert_eq(c.p, bytes + 1);
    cr_assert_eq(c.end, bytes + 8);
    uint32_t v32 = 0x77777777u;
    cr_assert_not(cursor_u32be(&sub, &v32)); /* bounded by its length, not c's */
    cr_assert_eq(v32, 0x77777777u);
}

Test(cursor, upto_past_capture_is_cut) {
    /* An announced length longer than what was captured: only what was captured. */
    struct cursor c = cursor_make(bytes, 5);
    cr_assert(cursor_skip(&c, 2));
    struct cursor sub = cursor_upto(&c, 100);
    cr_assert_eq(sub.p, bytes + 2);
    cr_assert_eq(sub.end, bytes + 5);
    cr_assert_eq(cursor_left(&sub), 3);
    struct cursor exact = cursor_upto(&c, 3);
    cr_assert_eq(exact.end, bytes + 5);
    struct cursor none = cursor_upto(&c, 0);
    cr_assert_eq(cursor_left(&none), 0);
    cr_assert_eq(none.p, bytes + 2);
}
