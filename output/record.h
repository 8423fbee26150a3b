/* record: builds the JSON records shakedown emits as json-c objects. For now the run summary:
 * inputs, packet accounting, protocols, decode errors, checksums. */
#ifndef SHAKEDOWN_RECORD_H
#define SHAKEDOWN_RECORD_H

#include <json-c/json.h>
#include <stddef.h>

#include "stats.h"

/* A new {"type":"summary", …} object (caller puts it). */
struct json_object *record_summary(const struct run_stats *s, const struct input_report *inputs,
                                   size_t ninputs);

#endif
