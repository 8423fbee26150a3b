/* sink: where records go — standard output or a file (-o), as text or JSON lines. The tracker's
 * report callback and main's summary write through it, so the format is chosen in one place. */
#ifndef SHAKEDOWN_SINK_H
#define SHAKEDOWN_SINK_H

#include <stdbool.h>
#include <stdio.h>

#include "conn.h"
#include "record.h"
#include "stats.h"
#include "tracker.h"

enum sink_format { SINK_TEXT, SINK_JSON };

struct sink {
    FILE *out;
    enum sink_format format;
    struct record_options record;
    bool header_written;
    bool failed;           /* a write failed (reported once on stderr) */
    uint64_t lost_records; /* records that could not be written */
};

void sink_init(struct sink *s, FILE *out, enum sink_format format,
               const struct record_options *record);

/* One connection that has ended. */
void sink_connection(struct sink *s, const struct conn *c);

/* One anomaly, as it is detected. In text form only host-level anomalies are written here
 * (connection anomalies are listed under their connection). */
void sink_anomaly(struct sink *s, const struct anomaly_event *ev);

/* The run summary (last record). */
void sink_summary(struct sink *s, const struct run_stats *st, const struct input_report *inputs,
                  size_t ninputs, double run_seconds);

#endif
