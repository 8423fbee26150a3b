/* cursor: bounds-checked reads from captured packet bytes. Every dissector reads the wire through
 * these helpers, so no read can go past what was captured; a failed read leaves the cursor as it
 * was and returns false, and the caller turns that into a decode reason. Dissectors never touch
 * the fields themselves: cursor_pos() is the one way to the bytes (for checksums and payloads). */
#ifndef SHAKEDOWN_CURSOR_H
#define SHAKEDOWN_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cursor {
    const uint8_t *p;   /* next byte to read */
    const uint8_t *end; /* one past the last captured byte */
};

static inline struct cursor cursor_make(const uint8_t *data, size_t len) {
    struct cursor c = {data, data + len};
    return c;
}

static inline size_t cursor_left(const struct cursor *c) {
    return (size_t)(c->end - c->p);
}

static inline bool cursor_has(const struct cursor *c, size_t n) {
    return cursor_left(c) >= n;
}

/* Where the next read starts: for checksums over bytes already known to be captured (cursor_has)
 * and as a payload pointer. Never read through it past cursor_left(c) bytes. */
static inline const uint8_t *cursor_pos(const struct cursor *c) {
    return c->p;
}

static inline bool cursor_skip(struct cursor *c, size_t n) {
    if (!cursor_has(c, n))
        return false;
    c->p += n;
    return true;
}

static inline bool cursor_u8(struct cursor *c, uint8_t *v) {
    if (!cursor_has(c, 1))
        return false;
    *v = c->p[0];
    c->p += 1;
    return true;
}

/* Reads the next byte without moving the cursor (a version nibble that decides the dissector). */
static inline bool cursor_peek_u8(const struct cursor *c, uint8_t *v) {
    if (!cursor_has(c, 1))
        return false;
    *v = c->p[0];
    return true;
}

static inline bool cursor_u16be(struct cursor *c, uint16_t *v) {
    if (!cursor_has(c, 2))
        return false;
    *v = (uint16_t)((uint16_t)(c->p[0] << 8) | c->p[1]);
    c->p += 2;
    return true;
}

static inline bool cursor_u32be(struct cursor *c, uint32_t *v) {
    if (!cursor_has(c, 4))
        return false;
    *v = ((uint32_t)c->p[0] << 24) | ((uint32_t)c->p[1] << 16) | ((uint32_t)c->p[2] << 8) |
         (uint32_t)c->p[3];
    c->p += 4;
    return true;
}

/* Copies n bytes out (addresses); fails without reading if fewer are captured. */
static inline bool cursor_copy(struct cursor *c, void *dst, size_t n) {
    if (!cursor_has(c, n))
        return false;
    for (size_t i = 0; i < n; i++)
        ((uint8_t *)dst)[i] = c->p[i];
    c->p += n;
    return true;
}

/* Splits off the next n bytes as their own cursor (a header whose length is known). */
static inline bool cursor_take(struct cursor *c, size_t n, struct cursor *sub) {
    if (!cursor_has(c, n))
        return false;
    sub->p = c->p;
    sub->end = c->p + n;
    c->p += n;
    return true;
}

/* The next n bytes as their own cursor, or all that is left if fewer were captured; c does not
 * move. For a payload whose announced length may exceed the capture. */
static inline struct cursor cursor_upto(const struct cursor *c, size_t n) {
    struct cursor sub = {c->p, cursor_has(c, n) ? c->p + n : c->end};
    return sub;
}

#endif
