/* textwrap: breaking lines that are too long for a terminal at blanks, in place in their outbuf
 * (see textwrap.h). The wrapped text is appended after the original, then moved over it: the
 * buffer's own memory is the only scratch space, so nothing is allocated once it has grown. */
#include "textwrap.h"

#include <stdbool.h>
#include <stdint.h>

static bool is_continuation(char c) {
    return ((unsigned char)c & 0xC0) == 0x80;
}

size_t textwrap_columns(const char *s, size_t n) {
    size_t cols = 0;
    for (size_t i = 0; i < n; i++)
        cols += !is_continuation(s[i]);
    return cols;
}

/* Appends the n bytes at offset from of b (all before b->len) to b itself. */
static void append_own(struct outbuf *b, size_t from, size_t n) {
    if (n && outbuf_reserve(b, n)) {
        memcpy(b->data + b->len, b->data + from, n);
        b->len += n;
    }
}

static void append_blanks(struct outbuf *b, size_t n) {
    if (n && outbuf_reserve(b, n)) {
        memset(b->data + b->len, ' ', n);
        b->len += n;
    }
}

/* How the text from pos (at column col of its line) fits room more characters: cut, the offset
 * of the first character that does not fit (end: all of it fits); brk, the last blank before
 * which at most room characters stand and whose column is at least min_col (SIZE_MAX: none). */
struct fit {
    size_t cut, brk;
};

static struct fit fit_line(const char *s, size_t pos, size_t end, size_t room, size_t col,
                           size_t min_col) {
    struct fit f = {end, SIZE_MAX};
    size_t cols = 0;
    for (size_t i = pos; i < end; i++) {
        if (is_continuation(s[i]))
            continue;
        if (s[i] == ' ' && col + cols >= min_col)
            f.brk = i;
        if (cols == room) {
            f.cut = i;
            break;
        }
        cols++;
    }
    return f;
}

struct wrap {
    size_t width, keep, indent;
};

/* Appends the line [pos, end) of b (no newline in it), wrapped. */
static void wrap_line(struct outbuf *b, size_t pos, size_t end, const struct wrap *w) {
    size_t col = 0, min_col = w->keep;
    for (;;) {
        size_t room = w->width > col ? w->width - col : 0;
        struct fit f = fit_line(b->data, pos, end, room, col, min_col);
        if (f.cut == end) {
            append_own(b, pos, end - pos);
            return;
        }
        size_t stop = f.brk != SIZE_MAX && f.brk > pos ? f.brk : f.cut;
        if (stop == pos) /* no room at all: one character all the same */
            do
                stop++;
            while (stop < end && is_continuation(b->data[stop]));
        size_t last = stop;
        while (last > pos && b->data[last - 1] == ' ')
            last--;
        append_own(b, pos, last - pos);
        for (pos = stop; pos < end && b->data[pos] == ' ';)
            pos++;
        if (pos == end)
            return;
        outbuf_putc(b, '\n');
        append_blanks(b, w->indent);
        col = w->indent;
        min_col = 0;
    }
}

/* Whether a line of [start, end) is longer than width characters. */
static bool any_too_long(const char *s, size_t start, size_t end, size_t width) {
    size_t cols = 0;
    for (size_t i = start; i < end; i++) {
        if (s[i] == '\n')
            cols = 0;
        else if (!is_continuation(s[i]) && ++cols > width)
            return true;
    }
    return false;
}

void textwrap(struct outbuf *b, size_t start, size_t width, size_t keep, size_t indent) {
    size_t end = b->len;
    if (!width || start >= end || !any_too_long(b->data, start, end, width))
        return;
    struct wrap w = {width, keep, indent};
    for (size_t pos = start; pos < end;) {
        size_t nl = pos;
        while (nl < end && b->data[nl] != '\n')
            nl++;
        wrap_line(b, pos, nl, &w);
        if (nl < end)
            outbuf_putc(b, '\n');
        pos = nl + 1;
    }
    if (outbuf_failed(b)) { /* the record is lost anyway (outbuf.h): leave it as it was */
        b->len = end;
        return;
    }
    memmove(b->data + start, b->data + end, b->len - end);
    b->len = start + (b->len - end);
}
