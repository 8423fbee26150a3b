/* report: the HTML report (--report FILE.html) — one self-contained page (inline CSS and
 * JavaScript, nothing fetched) with the run's summary, a timeline, histograms, top talkers and
 * ports, a table of every connection that filters, sorts and pages, and for the TCP connections
 * whose segments were kept a ladder and a time-sequence graph. Written in the same single pass
 * as the records: the page's head at the start, one line of data per connection and anomaly as
 * they are reported, the summary and the page's script at the end; memory stays bounded.
 *
 * Per-segment detail: at most REPORT_DETAIL_OPEN connections are kept at once
 * (REPORT_POINTS_MAX segments each). A TCP connection is kept from its first segment when one
 * is free; one that shows an anomaly above info severity ("notable") without being kept takes
 * a free one, or that of a kept connection with no notable anomaly, from that segment on. At
 * its end a kept connection's detail goes into the page while fewer than REPORT_DETAIL_NOTABLE
 * notable (or REPORT_DETAIL_PLAIN other) connections have had theirs written. */
#ifndef SHAKEDOWN_REPORT_H
#define SHAKEDOWN_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "format.h"
#include "packet.h"
#include "stats.h"
#include "tracker.h"

#define REPORT_DETAIL_OPEN 256     /* connections whose segments are being kept at once */
#define REPORT_DETAIL_NOTABLE 200  /* details written of connections with a notable anomaly */
#define REPORT_DETAIL_PLAIN 200    /* details written of the other connections */
#define REPORT_POINTS_MAX 2000     /* segments kept per connection */
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
