/* ladder: the terminal ladder diagram of chosen TCP connections (--ladder UID, or all of them) —
 * one line per segment between the two endpoints' lifelines, each endpoint's RFC 793 state where
 * it changes, anomalies under the segment that raised them, runs of plain data segments folded.
 * It is drawn in the one pass over the input: a chosen connection's lines are kept (bounded, see
 * LADDER_TEXT_MAX) from its first segment and written out when it is reported. */
#ifndef SHAKEDOWN_LADDER_H
#define SHAKEDOWN_LADDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "conn.h"
#include "packet.h"

/* Text kept per connection being drawn; past it, the ladder says how many segments it left out. */
#define LADDER_TEXT_MAX (256 * 1024)

/* Lines are at most this many columns (colour escapes not counted). */
#define LADDER_COLUMNS 100

struct ladder_options {
    const char *const *uids; /* the connections to draw (conn uids); ignored when all */
    size_t nuids;
    bool all;    /* every TCP connection */
    bool colour; /* ANSI colour (a terminal) */
    FILE *out;   /* where finished ladders go */
};

struct ladder;

/* NULL if out of memory. The options' strings must outlive the ladder. */
struct ladder *ladder_new(const struct ladder_options *opt);
void ladder_free(struct ladder *l);

/* One TCP segment of c from endpoint dir (0 originator), after the tracker applied it
 * (tracker_segment_fn). */
void ladder_on_segment(struct ladder *l, const struct conn *c, int dir, const struct packet *p);

/* c was reported (its end set): its ladder, if it is being drawn, is written out. */
void ladder_on_conn_end(struct ladder *l, const struct conn *c);

/* How many of the uids asked for were not seen as TCP connections; writes each such uid's name
 * to err as one line. */
size_t ladder_report_missing(const struct ladder *l, FILE *err);

#endif
