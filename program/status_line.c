/* status_line: the in-place status of a live run on a terminal (see status_line.h). A carriage
 * return goes back to the start of the line and ECMA-48 EL ("ESC [ K", erase to the end of the
 * line, which every terminal emulator in use understands) removes the old text. */
#include "status_line.h"

#include <inttypes.h>

#define ERASE_LINE "\r\033[K"

void status_line_init(struct status_line *sl, FILE *out, bool enabled) {
    sl->out = enabled ? out : NULL;
    sl->shown = false;
}

void status_line_show(struct status_line *sl, const struct status_counts *c) {
    if (!sl->out)
        return;
    fprintf(sl->out, ERASE_LINE "shakedown: %" PRIu64 " packets, %" PRIu64 " connections open",
            c->packets, c->open);
    if (c->drops_known)
        fprintf(sl->out, ", %" PRIu64 " dropped", c->dropped);
    fflush(sl->out);
    sl->shown = true;
}

void status_line_clear(struct status_line *sl) {
    if (!sl->shown)
        return;
    fputs(ERASE_LINE, sl->out);
    fflush(sl->out);
    sl->shown = false;
}
