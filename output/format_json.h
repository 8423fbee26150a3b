/* format_json: shakedown's own JSON records (format "json"). Other JSON formats (EVE, ECS) carry
 * shakedown's facts in an object of their own, written by these same functions, so the members
 * are named and typed alike in every format. Each writes members into the object w has open. */
#ifndef SHAKEDOWN_FORMAT_JSON_H
#define SHAKEDOWN_FORMAT_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "format.h"
#include "jsonw.h"

/* "anomalies": [{name, severity, count, first_ts, direction}, …], and "anomalies_unlisted". */
void format_json_anomalies(struct jsonw *w, const struct conn *c, const struct record_options *o);

/* key: {rtt, throughput_bytes_per_s, duplicate_acks, …} — the measurements of a TCP
 * connection's endpoint role (0 originator, 1 responder; docs/metrics.md): RTT of its data,
 * throughput over the connection's duration, duplicates, the windows it advertised, its largest
 * segment. */
void format_json_metrics(struct jsonw *w, const char *key, const struct conn *c, int role);

/* "shakedown": {uid, direction | count, severity, frame[, detail][, folded]} — an anomaly
 * event's facts that a foreign format (EVE, ECS) has no field for; uid is the connection's (""
 * host-level). */
void format_json_anomaly_own(struct jsonw *w, const struct anomaly_event *ev, const char *uid,
                             bool with_detail, const struct record_options *o);

/* The members of a stats record after "type". */
void format_json_stats_members(struct jsonw *w, const struct live_stats *ls,
                               const struct record_options *o);

/* The members of the summary record after "type". */
void format_json_summary_members(struct jsonw *w, const struct run_stats *s,
                                 const struct input_report *inputs, size_t ninputs,
                                 double run_seconds, const struct record_options *o);

#endif
