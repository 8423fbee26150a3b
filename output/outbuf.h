/* outbuf: a growable byte buffer that records are formatted into before one write hands them to
 * the transport. It is reused from record to record, so once it has grown to the largest record
 * nothing is allocated any more. A failed allocation is remembered (outbuf_failed) and later
 * appends are dropped, so a record is either complete or known to be lost. */
#ifndef SHAKEDOWN_OUTBUF_H
#define SHAKEDOWN_OUTBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct outbuf {
    char *data;
    size_t len; /* bytes in use */
    size_t cap; /* bytes allocated */
    bool failed;
};

/* Frees the buffer's memory (it can be used again afterwards). */
void outbuf_free(struct outbuf *b);

/* Empties the buffer for the next record (keeps its memory and clears a failure). */
void outbuf_reset(struct outbuf *b);

/* Grows the buffer for n more bytes (outbuf_reserve's slow path). */
bool outbuf_grow(struct outbuf *b, size_t n);

/* Makes room for n more bytes; false (and the buffer is marked failed) if that fails. */
static inline bool outbuf_reserve(struct outbuf *b, size_t n) {
    return (n <= b->cap - b->len && !b->failed) || outbuf_grow(b, n);
}

/* Appends n bytes. (Inline: records are built from many short appends.) */
static inline void outbuf_append(struct outbuf *b, const void *p, size_t n) {
    if (n && outbuf_reserve(b, n)) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
    }
}

/* Appends a NUL-terminated string (without the NUL). */
static inline void outbuf_puts(struct outbuf *b, const char *s) {
    outbuf_append(b, s, strlen(s));
}

/* Appends one byte. */
static inline void outbuf_putc(struct outbuf *b, char c) {
    if (outbuf_reserve(b, 1))
        b->data[b->len++] = c;
}

/* Appends printf-formatted text. */
__attribute__((format(printf, 2, 3))) void outbuf_printf(struct outbuf *b, const char *fmt, ...);

/* True if an append was lost (out of memory) since the last reset. */
static inline bool outbuf_failed(const struct outbuf *b) {
    return b->failed;
}

#endif
