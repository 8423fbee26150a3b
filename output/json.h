/* json: writes records as JSON lines (one object per line, NDJSON) for SIEM pipelines. */
#ifndef SHAKEDOWN_JSON_H
#define SHAKEDOWN_JSON_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>

/* Writes rec as one line and flushes it; false on a write error. */
bool json_write_record(FILE *out, struct json_object *rec);

#endif
