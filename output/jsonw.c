/* jsonw: the streaming JSON writer — string escaping (separators and nesting are inline in
 * jsonw.h). */
#include "jsonw.h"

#include <string.h>

void jsonw_start(struct jsonw *w, struct outbuf *out) {
    w->out = out;
    w->depth = 0;
    w->has_members[0] = false;
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

/* The length of the plain ASCII run at s: bytes that go out as they are. */
static size_t plain_run(const unsigned char *s) {
    size_t n = 0;
    while (s[n] && !needs_escape(s[n]))
        n++;
    return n;
}

void jsonw_escape(struct outbuf *out, const char *str) {
    const unsigned char *s = (const unsigned char *)str;
    size_t n = plain_run(s);
    if (!s[n] && outbuf_reserve(out, n + 2)) { /* nothing to escape (nearly every string) */
        char *at = out->data + out->len;
        at[0] = '"';
        memcpy(at + 1, s, n);
        at[n + 1] = '"';
        out->len += n + 2;
        return;
    }
    outbuf_putc(out, '"');
    for (;; n = plain_run(s)) { /* plain ASCII goes out in one piece */
        outbuf_append(out, s, n);
        s += n;
        if (!*s)
            break;
        if (*s < 0x80) {
            escape_byte(out, *s++);
            continue;
        }
        size_t seq = utf8_sequence(s);
        if (seq == 0) {
            outbuf_append(out, "\xef\xbf\xbd", 3); /* U+FFFD REPLACEMENT CHARACTER */
            s++;
        } else {
            outbuf_append(out, s, seq);
            s += seq;
        }
    }
    outbuf_putc(out, '"');
}
