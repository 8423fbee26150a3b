/* report: the HTML report (--report FILE.html) — one self-contained page (inline CSS and
 * JavaScript, nothing fetched) with the run's summary, a timeline, histograms, top talkers and
 * ports, a table of every connection that filters, sorts and pages, and for the first
 * REPORT_DETAIL_CONNS TCP connections a ladder and a time-sequence graph. Written in the same
 * single pass as the records: the page's head at the start, one line of data per connection and
 * anomaly as they are reported, the summary and the page's script at the end; memory stays
 * bounded (only the detailed connections' segments are kept, REPORT_POINTS_MAX each). */
#ifndef SHAKEDOWN_REPORT_H
#define SHAKEDOWN_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "format.h"
#include "packet.h"
#include "stats.h"
#include "tracker.h"

#define REPORT_DETAIL_CONNS 200 /* TCP connections, the first to start, whose segments are kept */
#define REPORT_POINTS_MAX 2000  /* segments kept per detailed connection */
#define REPORT_ANOMALIES_MAX 20000 /* anomaly events listed (all are counted in the summary) */

struct report;

/* Opens path for the page (safe_open.h: created with mode, 0 for 0640; an existing file is
 * left as it is until report_start); NULL (and why in err) if it cannot. */
struct report *report_begin(const char *path, unsigned mode, char *err, size_t errlen);

/* Every output could be opened: empties the file and writes the page's head. False (and why in
 * err) if the file cannot be emptied. */
bool report_start(struct report *r, char *err, size_t errlen);

/* One TCP segment of c from endpoint dir, after the tracker applied it (tracker_segment_fn). */
void report_on_segment(struct report *r, const struct conn *c, int dir, const struct packet *p);

/* A connection reported (final record). */
void report_on_conn(struct report *r, const struct conn *c);

/* An anomaly as it was detected. */
void report_on_anomaly(struct report *r, const struct anomaly_event *ev);

/* Writes the summary (the JSON summary record's members) and the rest of the page, closes the
 * file and frees r. False (and why in err) if the file could not be written. */
bool report_finish(struct report *r, const struct run_stats *s, const struct input_report *inputs,
                   size_t ninputs, double run_seconds, const struct record_options *o, char *err,
                   size_t errlen);

/* Frees r without finishing the page (a run that could not start). */
void report_discard(struct report *r);

#endif
