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

#include "outbuf.h"

#define JSONW_MAX_DEPTH 8

struct jsonw {
    struct outbuf *out;
    unsigned depth;                        /* open objects and arrays */
    bool has_members[JSONW_MAX_DEPTH + 1]; /* the container at each depth has a member already */
};

/* Starts writing a value (usually a record's top-level object) at the end of out. */
void jsonw_start(struct jsonw *w, struct outbuf *out);

/* Objects and arrays: a member (key given) or an array element / top-level value (key NULL). */
void jsonw_object_begin(struct jsonw *w, const char *key);
void jsonw_object_end(struct jsonw *w);
void jsonw_array_begin(struct jsonw *w, const char *key);
void jsonw_array_end(struct jsonw *w);

/* Scalar members (key NULL: an array element). */
void jsonw_string(struct jsonw *w, const char *key, const char *untrusted);
void jsonw_u64(struct jsonw *w, const char *key, uint64_t v);
void jsonw_bool(struct jsonw *w, const char *key, bool v);

/* A number given as its text (e.g. "1704067200.010000"), written as it is: the caller formats
 * it as the record's schema wants (fixed microseconds, not %.17g). */
void jsonw_number_text(struct jsonw *w, const char *key, const char *text);

/* Appends s to out as a JSON string (quotes included), escaped and made valid UTF-8. */
void jsonw_escape(struct outbuf *out, const char *s);

#endif
