/* outbuf: the growable record buffer. Grows by doubling, so a run does a handful of allocations
 * in all; every append checks the room it needs first. */
#include "outbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OUTBUF_MIN_CAP 4096

void outbuf_free(struct outbuf *b) {
    free(b->data);
    *b = (struct outbuf){0};
}

void outbuf_reset(struct outbuf *b) {
    b->len = 0;
    b->failed = false;
}

bool outbuf_grow(struct outbuf *b, size_t n) {
    if (b->failed)
        return false;
    if (n <= b->cap - b->len)
        return true;
    if (n > SIZE_MAX / 2 - b->len) {
        b->failed = true;
        return false;
    }
    size_t cap = b->cap ? b->cap : OUTBUF_MIN_CAP;
    while (cap - b->len < n)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

void outbuf_printf(struct outbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *room = b->data ? b->data + b->len : NULL;
    int n = vsnprintf(room, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if ((size_t)n >= b->cap - b->len) { /* did not fit: grow and format again */
        if (!outbuf_reserve(b, (size_t)n + 1))
            return;
        va_start(ap, fmt);
        vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
}
