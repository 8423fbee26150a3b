/* textwrap: fits lines of text for a person to a terminal's width, in place in the buffer they
 * were formatted into: a line that is too long is broken at blanks, and its continuation lines
 * are indented. Widths are counted in characters (UTF-8 code points), not bytes. */
#ifndef SHAKEDOWN_TEXTWRAP_H
#define SHAKEDOWN_TEXTWRAP_H

#include <stddef.h>

#include "outbuf.h"

/* Re-flows every line of b from offset start on (start must begin a line; the last line may or
 * may not end with a newline) to at most width characters. A line that is longer is broken at
 * its last blank that leaves it within width, but never at a blank in its first `keep`
 * characters (a prefix of aligned columns); with no such blank it is cut at width. Each
 * continuation line starts with `indent` blanks; blanks at a break are dropped. width 0: no
 * limit. */
void textwrap(struct outbuf *b, size_t start, size_t width, size_t keep, size_t indent);

/* The number of characters of the n bytes at s (UTF-8 continuation bytes do not count). */
size_t textwrap_columns(const char *s, size_t n);

#endif
