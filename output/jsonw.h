/* jsonw: a streaming JSON writer. Records are written straight into a reusable buffer, member
 * after member, in the order the calls come: no tree, no allocation once the buffer has grown.
 * Commas and nesting are tracked here; every string value is escaped (quote, backslash, control
 * characters) and bytes that are not valid UTF-8 become U+FFFD, so any input still makes valid
 * JSON. Keys are the callers' own ASCII constants and are written as given. Numbers are written
 * exactly: integers in decimal, fixed-point values as the text the caller formatted. */
#ifndef SHAKEDOWN_JSONW_H
#define SHAKEDOWN_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "outbuf.h"
#include "timefmt.h"

#define JSONW_MAX_DEPTH 8

struct jsonw {
    struct outbuf *out;
    unsigned depth;                        /* open objects and arrays */
    bool has_members[JSONW_MAX_DEPTH + 1]; /* the container at each depth has a member already */
};

/* Starts writing a value (usually a record's top-level object) at the end of out. */
void jsonw_start(struct jsonw *w, struct outbuf *out);

/* Appends s to out as a JSON string (quotes included), escaped and made valid UTF-8. */
void jsonw_escape(struct outbuf *out, const char *s);

/* Writes the separator before a new value and its key, if any ("," and "\"key\":"). Inline, as
 * are the scalar members below: a record is mostly keys, and with the key a string constant the
 * compiler knows its length and copies it without strlen or a call. */
static inline void jsonw_prefix(struct jsonw *w, const char *key) {
    size_t n = key ? strlen(key) : 0;
    bool comma = w->has_members[w->depth];
    w->has_members[w->depth] = true;
    if (!outbuf_reserve(w->out, n + 4))
        return;
    char *at = w->out->data + w->out->len;
    at[0] = ',';
    at += comma;
    if (key) {
        at[0] = '"';
        memcpy(at + 1, key, n);
        at[n + 1] = '"';
        at[n + 2] = ':';
        at += n + 3;
    }
    w->out->len = (size_t)(at - w->out->data);
}

/* Opens an object or array (bracket '{' or '['); deeper than JSONW_MAX_DEPTH is a bug and the
 * record is dropped. */
static inline void jsonw_open(struct jsonw *w, const char *key, char bracket) {
    jsonw_prefix(w, key);
    outbuf_putc(w->out, bracket);
    if (w->depth < JSONW_MAX_DEPTH)
        w->depth++;
    else
        w->out->failed = true;
    w->has_members[w->depth] = false;
}

static inline void jsonw_close(struct jsonw *w, char bracket) {
    outbuf_putc(w->out, bracket);
    if (w->depth > 0)
        w->depth--;
}

/* Objects and arrays: a member (key given) or an array element / top-level value (key NULL). */
static inline void jsonw_object_begin(struct jsonw *w, const char *key) {
    jsonw_open(w, key, '{');
}

static inline void jsonw_object_end(struct jsonw *w) {
    jsonw_close(w, '}');
}

static inline void jsonw_array_begin(struct jsonw *w, const char *key) {
    jsonw_open(w, key, '[');
}

static inline void jsonw_array_end(struct jsonw *w) {
    jsonw_close(w, ']');
}

/* Scalar members (key NULL: an array element). */
static inline void jsonw_string(struct jsonw *w, const char *key, const char *untrusted) {
    jsonw_prefix(w, key);
    jsonw_escape(w->out, untrusted);
}

static inline void jsonw_u64(struct jsonw *w, const char *key, uint64_t v) {
    jsonw_prefix(w, key);
    if (v < 10) /* half of a connection record's numbers (counts of 0, a window scale) */
        outbuf_putc(w->out, (char)('0' + v));
    else if (outbuf_reserve(w->out, TIMEFMT_U64_LEN)) /* the digits straight into the buffer */
        w->out->len += timefmt_u64(w->out->data + w->out->len, v);
}

static inline void jsonw_bool(struct jsonw *w, const char *key, bool v) {
    jsonw_prefix(w, key);
    if (v)
        outbuf_append(w->out, "true", 4);
    else
        outbuf_append(w->out, "false", 5);
}

/* A number given as its text (e.g. "1704067200.010000"), written as it is: the caller formats
 * it as the record's schema wants (fixed microseconds, not %.17g). */
static inline void jsonw_number_text(struct jsonw *w, const char *key, const char *text) {
    jsonw_prefix(w, key);
    outbuf_puts(w->out, text);
}

#endif
