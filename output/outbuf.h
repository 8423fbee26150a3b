/* outbuf: a growable byte buffer that records are formatted into before one write hands them to
 * the transport. It is reused from record to record, so once it has grown to the largest record
 * nothing is allocated any more. A failed allocation is remembered (outbuf_failed) and later
 * appends are dropped, so a record is either complete or known to be lost. */
#ifndef SHAKEDOWN_OUTBUF_H
#define SHAKEDOWN_OUTBUF_H

#include <stdbool.h>
#include <stddef.h>

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

/* Makes room for n more bytes; false (and the buffer is marked failed) if that fails. */
bool outbuf_reserve(struct outbuf *b, size_t n);

/* Appends n bytes. */
void outbuf_append(struct outbuf *b, const void *p, size_t n);

/* Appends a NUL-terminated string (without the NUL). */
void outbuf_puts(struct outbuf *b, const char *s);

/* Appends one byte. */
void outbuf_putc(struct outbuf *b, char c);

/* Appends printf-formatted text. */
__attribute__((format(printf, 2, 3))) void outbuf_printf(struct outbuf *b, const char *fmt, ...);

/* True if an append was lost (out of memory) since the last reset. */
static inline bool outbuf_failed(const struct outbuf *b) {
    return b->failed;
}

#endif
