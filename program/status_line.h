/* status_line: the one-line status of a live capture on a terminal (--stats-interval with
 * standard error a terminal): packets, open connections and drops, rewritten in place with a
 * carriage return, and erased before anything else is written to the terminal and at the end. */
#ifndef SHAKEDOWN_STATUS_LINE_H
#define SHAKEDOWN_STATUS_LINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct status_line {
    FILE *out;  /* where it is drawn; NULL: no status line */
    bool shown; /* a status is on the screen and must be erased before any other output */
};

/* What the status says. */
struct status_counts {
    uint64_t packets; /* read so far */
    uint64_t open;    /* connections open now */
    uint64_t dropped; /* by the kernel and the interface (libpcap's counters) */
    bool drops_known; /* false: libpcap cannot say (the status then leaves drops out) */
};

/* A status line on out, or none (enabled false): every other call is then a no-op. */
void status_line_init(struct status_line *sl, FILE *out, bool enabled);

/* Draws the status over the previous one (the line is erased first, so a shorter text leaves
 * nothing of a longer one). No newline: the cursor stays on the line. */
void status_line_show(struct status_line *sl, const struct status_counts *c);

/* Erases the status, if one is shown, leaving the cursor at the start of the empty line. */
void status_line_clear(struct status_line *sl);

#endif
