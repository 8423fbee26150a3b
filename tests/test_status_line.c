/* Tests for status_line: the exact bytes of the in-place status (carriage return and ECMA-48
 * "erase line" before each text, no newline) and that erasing writes only when a status is
 * shown, and nothing at all when the status line is disabled. */
#define _POSIX_C_SOURCE 200809L /* open_memstream */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "status_line.h"

struct capture_file {
    FILE *f;
    char *buf;
    size_t len;
};

static void open_capture(struct capture_file *c) {
    c->buf = NULL;
    c->len = 0;
    c->f = open_memstream(&c->buf, &c->len);
    cr_assert(c->f);
}

static void close_capture(struct capture_file *c) {
    fclose(c->f);
    free(c->buf);
}

Test(status_line, shown_in_place_then_erased_once) {
    struct capture_file c;
    open_capture(&c);
    struct status_line sl;
    status_line_init(&sl, c.f, true);
    status_line_clear(&sl); /* nothing shown yet: nothing written */
    fflush(c.f);
    cr_expect_eq(c.len, 0);
    struct status_counts n = {.packets = 12, .open = 3, .dropped = 1, .drops_known = true};
    status_line_show(&sl, &n);
    n.packets = 7000;
    n.drops_known = false; /* libpcap could not say: drops are left out, not shown as 0 */
    status_line_show(&sl, &n);
    status_line_clear(&sl);
    status_line_clear(&sl); /* already erased: nothing more */
    fflush(c.f);
    cr_expect_str_eq(c.buf, "\r\033[Kshakedown: 12 packets, 3 connections open, 1 dropped"
                            "\r\033[Kshakedown: 7000 packets, 3 connections open"
                            "\r\033[K");
    close_capture(&c);
}

Test(status_line, disabled_writes_nothing) {
    struct capture_file c;
    open_capture(&c);
    struct status_line sl;
    status_line_init(&sl, c.f, false);
    struct status_counts n = {.packets = 1};
    status_line_show(&sl, &n);
    status_line_clear(&sl);
    fflush(c.f);
    cr_expect_eq(c.len, 0);
    close_capture(&c);
}
