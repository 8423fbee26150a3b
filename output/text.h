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

/* Writes one line for a connection that has ended (final) or is still open (interim). */
void text_write_connection(FILE *out, const struct conn *c, bool final);

/* Writes a periodic statistics line. */
void text_write_stats(FILE *out, const struct live_stats *ls);

/* Writes one anomaly as a line of its own: a host-level one (syn_flood, port_scan), or one of a
 * connection already written (named by its uid and ports). */
void text_write_anomaly(FILE *out, const struct anomaly_event *ev);

/* Writes the run summary: inputs, packet accounting, protocols, decode errors, checksums. */
void text_write_summary(FILE *out, const struct run_stats *s, const struct input_report *inputs,
                        size_t ninputs);

#endif
