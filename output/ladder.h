/* ladder: the ladder diagrams of chosen TCP connections (--ladder UID, or all of them; and
 * --ladder-svg DIR) — one row per segment between the two endpoints' lifelines, each endpoint's
 * RFC 793 state where it changes, anomalies with the segment that raised them, runs of plain data
 * segments folded. Drawn in the one pass over the input: a chosen connection's rows are kept
 * (bounded, see LADDER_ROWS_MAX) from its first segment and drawn when it is reported — as text
 * on a stream, as an SVG file (ladder_svg.h), or both. */
#ifndef SHAKEDOWN_LADDER_H
#define SHAKEDOWN_LADDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "conn.h"
#include "packet.h"

/* Rows kept per connection being drawn (about 120 bytes each); past them, the ladder says how
 * many segments it left out. */
#define LADDER_ROWS_MAX 2048

/* Bounds on the memory of --ladder all, whatever the input: rows kept across all the
 * connections being drawn at once (as many as 64 connections' worth, 16 MB), and connections
 * being drawn at once (about 900 bytes each while open, 15 MB). A connection that would pass
 * the first has its later segments left out, as past LADDER_ROWS_MAX; one that opens while
 * the second is reached is not drawn, and counted (ladder_report_limits). */
#define LADDER_ROWS_TOTAL (64 * LADDER_ROWS_MAX)
#define LADDER_DRAWN_MAX 16384

/* Lines are at most this many columns (colour escapes not counted). */
#define LADDER_COLUMNS 100

struct ladder_options {
    const char *const *uids; /* the connections to draw (conn uids); ignored when all */
    size_t nuids;
    bool all;            /* every TCP connection */
    bool colour;         /* ANSI colour (a terminal) */
    FILE *out;           /* where text ladders go; NULL: none */
    const char *svg_dir; /* where DIR/UID.svg go; NULL: none */
    unsigned file_mode;  /* of the SVG files it creates (0: 0640, safe_open.h) */
    FILE *err;           /* where a file that cannot be written is said (once) */
};

struct ladder;

/* NULL if out of memory. The options' strings must outlive the ladder. */
struct ladder *ladder_new(const struct ladder_options *opt);
void ladder_free(struct ladder *l);

/* One TCP segment of c from endpoint dir (0 originator), after the tracker applied it
 * (tracker_segment_fn). */
void ladder_on_segment(struct ladder *l, const struct conn *c, int dir, const struct packet *p);

/* c was reported (its end set): its ladder, if it is being drawn, is written out (and the text
 * flushed). False when the text could not be written (its reader went away). */
bool ladder_on_conn_end(struct ladder *l, const struct conn *c);

/* How many of the uids asked for were not seen as TCP connections; writes each such uid's name
 * to err as one line. */
size_t ladder_report_missing(const struct ladder *l, FILE *err);

/* Connections not drawn because LADDER_DRAWN_MAX were being drawn at once: said on err in one
 * line when there were any. */
void ladder_report_limits(const struct ladder *l, FILE *err);

#endif
