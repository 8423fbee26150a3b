/* record: builds the JSON records shakedown emits as json-c objects. For now the run summary:
 * inputs, packet accounting, protocols, decode errors, checksums. */
#ifndef SHAKEDOWN_RECORD_H
#define SHAKEDOWN_RECORD_H

#include <json-c/json.h>
#include <stddef.h>

#include "stats.h"

#include "conn.h"
#include "tracker.h"

struct record_options {
    bool iso_time;              /* timestamps as ISO 8601 strings instead of epoch seconds */
    uint16_t community_id_seed; /* Community ID v1 seed (default 0) */
    const struct community_id_hasher *hasher; /* SHA-1 for it (the sink's; NULL: per call) */
};

/* A new {"type":"connection", …} object (caller puts it): final for a connection that has
 * ended, interim ("final": false, no "close") for one still open. */
struct json_object *record_connection(const struct conn *c, bool final,
                                      const struct record_options *o);

/* The same into an existing object — the previous connection record of the same protocol —
 * updated in place: members this record lacks are dropped, the others set. Much cheaper than
 * a new tree per record; the output is the same set of fields. */
void record_connection_fill(struct json_object *o, const struct conn *c, bool final,
                            const struct record_options *opt);

/* A new {"type":"stats", …} object: the periodic statistics of a live run. */
struct json_object *record_stats(const struct live_stats *ls, const struct record_options *o);

/* A new {"type":"anomaly", …} object for an anomaly as it is detected. */
struct json_object *record_anomaly(const struct anomaly_event *ev, const struct record_options *o);

/* A new {"type":"summary", …} object (caller puts it). run_seconds: wall-clock run time. */
struct json_object *record_summary(const struct run_stats *s, const struct input_report *inputs,
                                   size_t ninputs, double run_seconds,
                                   const struct record_options *o);

/* Text forms of a connection's addresses: "192.0.2.1" or "2001:db8::1". */
void record_format_addr(char *buf, size_t len, const uint8_t *addr, uint8_t ip_version);

#endif
