/* Tests for textwrap: where lines break (the last blank that fits, never inside the kept prefix,
 * a cut when no blank will do), the continuation's indent, characters counted as code points,
 * and that text before start and lines that fit are left exactly as they were. */
#include <criterion/criterion.h>
#include <string.h>

#include "outbuf.h"
#include "textwrap.h"

/* Wraps text (all of the buffer after prefix) and returns the whole buffer, NUL-terminated. */
static const char *wrapped(struct outbuf *b, const char *prefix, const char *text, size_t width,
                           size_t keep, size_t indent) {
    outbuf_reset(b);
    outbuf_puts(b, prefix);
    size_t start = b->len;
    outbuf_puts(b, text);
    textwrap(b, start, width, keep, indent);
    outbuf_putc(b, '\0');
    cr_assert_not(outbuf_failed(b));
    return b->data;
}

/* "aaa bbb ccc ddd" is 15 characters: at width 8 "aaa bbb" (7) fits and the next word does not;
 * the continuation gets 2 blanks, so "  ccc ddd" (9) is too long again: three lines. */
Test(textwrap, breaks_at_the_last_blank_that_fits) {
    struct outbuf b = {0};
    cr_expect_str_eq(wrapped(&b, "", "aaa bbb ccc ddd", 8, 0, 2), "aaa bbb\n  ccc\n  ddd");
    /* exactly the width: nothing to do */
    cr_expect_str_eq(wrapped(&b, "", "aaa bbb", 7, 0, 2), "aaa bbb");
    /* width 0: no limit */
    cr_expect_str_eq(wrapped(&b, "", "aaa bbb ccc ddd", 0, 0, 2), "aaa bbb ccc ddd");
    outbuf_free(&b);
}

/* The blanks of an aligned prefix ("N:   " padded to 5) are no place to break: with keep 5 the
 * first line keeps "N:   aaaa" even though breaking after "N:" would have fitted more. A word
 * longer than any line is cut at the width. */
Test(textwrap, keeps_the_prefix_and_cuts_a_word_too_long) {
    struct outbuf b = {0};
    cr_expect_str_eq(wrapped(&b, "", "N:   aaaa bbbbb", 10, 5, 5), "N:   aaaa\n     bbbbb");
    cr_expect_str_eq(wrapped(&b, "", "N:   abcdefghij", 10, 5, 5), "N:   abcde\n     fghij");
    /* keep 4 lets the last blank of the padding break: the whole word moves down, and the
     * blanks left at the end of the first line are dropped */
    cr_expect_str_eq(wrapped(&b, "", "N:   abcdefgh", 10, 4, 2), "N:\n  abcdefgh");
    outbuf_free(&b);
}

/* Several lines are wrapped each on its own; text before start is not touched, even if long. */
Test(textwrap, each_line_and_only_from_start) {
    struct outbuf b = {0};
    cr_expect_str_eq(
        wrapped(&b, "a prefix longer than six\n", "one two\nthree four five\n", 6, 0, 1),
        "a prefix longer than six\none\n two\nthree\n four\n five\n");
    outbuf_free(&b);
}

/* "é" is two bytes and one character: "déjà vu" is 7 characters (9 bytes) and fits 7; a cut
 * never splits a character ("ééé" cut at 2: "éé", then "é"). */
Test(textwrap, counts_characters_not_bytes) {
    struct outbuf b = {0};
    cr_expect_str_eq(wrapped(&b, "", "d\xc3\xa9j\xc3\xa0 vu", 7, 0, 0), "d\xc3\xa9j\xc3\xa0 vu");
    cr_expect_str_eq(wrapped(&b, "", "\xc3\xa9\xc3\xa9\xc3\xa9", 2, 0, 0),
                     "\xc3\xa9\xc3\xa9\n\xc3\xa9");
    cr_expect_eq(textwrap_columns("d\xc3\xa9j\xc3\xa0", 6), 4);
    outbuf_free(&b);
}

/* An indent as wide as the width leaves no room: each continuation line still carries one
 * character, so the wrapping ends. */
Test(textwrap, no_room_still_ends) {
    struct outbuf b = {0};
    cr_expect_str_eq(wrapped(&b, "", "abc", 2, 0, 2), "ab\n  c");
    outbuf_free(&b);
}
