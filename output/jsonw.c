/* jsonw: the streaming JSON writer — separators, nesting and string escaping. */
#include "jsonw.h"

#include <string.h>

void jsonw_start(struct jsonw *w, struct outbuf *out) {
    w->out = out;
    w->depth = 0;
    w->has_members[0] = false;
}

static void open_container(struct jsonw *w, const char *key, char bracket) {
    jsonw_prefix(w, key);
    outbuf_putc(w->out, bracket);
    if (w->depth < JSONW_MAX_DEPTH)
        w->depth++;
    else
        w->out->failed = true; /* deeper than any record: a bug, the record is dropped */
    w->has_members[w->depth] = false;
}

static void close_container(struct jsonw *w, char bracket) {
    outbuf_putc(w->out, bracket);
    if (w->depth > 0)
        w->depth--;
}

void jsonw_object_begin(struct jsonw *w, const char *key) {
    open_container(w, key, '{');
}

void jsonw_object_end(struct jsonw *w) {
    close_container(w, '}');
}

void jsonw_array_begin(struct jsonw *w, const char *key) {
    open_container(w, key, '[');
}

void jsonw_array_end(struct jsonw *w) {
    close_container(w, ']');
}

/* Length of the valid UTF-8 sequence starting at s (1-4), or 0 if it is not one (overlong,
 * surrogate and out-of-range forms included). s is NUL-terminated: a NUL ends any sequence. */
static size_t utf8_sequence(const unsigned char *s) {
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
    if (n == 0 || c > 0xf4)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0) || (c == 0xf0 && s[1] < 0x90) ||
        (c == 0xf4 && s[1] >= 0x90))
        return 0;
    return n;
}

/* The escape for a byte below 0x20, a quote or a backslash: JSON's two-character forms where
 * it has one ("\n"), "\u00XX" for the rest. */
static void escape_byte(struct outbuf *out, unsigned char c) {
    static const char hex[] = "0123456789abcdef";
    static const char plain[] = "\"\\\n\r\t\b\f", letter[] = "\"\\nrtbf";
    const char *at = memchr(plain, c, sizeof plain - 1);
    if (at) {
        char e[2] = {'\\', letter[at - plain]};
        outbuf_append(out, e, sizeof e);
        return;
    }
    char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
    outbuf_append(out, u, sizeof u);
}

static bool needs_escape(unsigned char c) {
    return c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
}

void jsonw_escape(struct outbuf *out, const char *str) {
    const unsigned char *s = (const unsigned char *)str;
    outbuf_putc(out, '"');
    while (*s) {
        const unsigned char *run = s; /* plain ASCII goes out in one piece */
        while (*s && !needs_escape(*s))
            s++;
        outbuf_append(out, run, (size_t)(s - run));
        if (!*s)
            break;
        if (*s < 0x80) {
            escape_byte(out, *s++);
            continue;
        }
        size_t n = utf8_sequence(s);
        if (n == 0) {
            outbuf_append(out, "\xef\xbf\xbd", 3); /* U+FFFD REPLACEMENT CHARACTER */
            s++;
        } else {
            outbuf_append(out, s, n);
            s += n;
        }
    }
    outbuf_putc(out, '"');
}
