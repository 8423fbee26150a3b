/* text: the human-readable report for a terminal. */
#ifndef SHAKEDOWN_TEXT_H
#define SHAKEDOWN_TEXT_H

#include <stddef.h>
#include <stdio.h>

#include "stats.h"

/* Writes the run summary: inputs, packet accounting, protocols, decode errors, checksums. */
void text_write_summary(FILE *out, const struct run_stats *s, const struct input_report *inputs,
                        size_t ninputs);

#endif
