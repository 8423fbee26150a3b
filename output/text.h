/* text: the human-readable report for a terminal. */
#ifndef SHAKEDOWN_TEXT_H
#define SHAKEDOWN_TEXT_H

#include <stddef.h>
#include <stdio.h>

#include "stats.h"

#include "conn.h"
#include "tracker.h"

/* Writes the column header of the connection table. */
void text_write_connection_header(FILE *out);

/* Writes one line for a connection that has ended. */
void text_write_connection(FILE *out, const struct conn *c);

/* Writes a host-level anomaly (syn_flood, port_scan) as it is detected. */
void text_write_host_anomaly(FILE *out, const struct anomaly_event *ev);

/* Writes the run summary: inputs, packet accounting, protocols, decode errors, checksums. */
void text_write_summary(FILE *out, const struct run_stats *s, const struct input_report *inputs,
                        size_t ninputs);

#endif
