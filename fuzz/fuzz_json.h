/* fuzz_json: reading records back in the fuzz targets — one written line parsed as strict JSON
 * with valid UTF-8, members by dotted path and type, and expectations on them. Every check
 * aborts when it fails (libFuzzer then reports the input). No state. */
#ifndef SHAKEDOWN_FUZZ_JSON_H
#define SHAKEDOWN_FUZZ_JSON_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* s[0..len) must be exactly one record: one line, ended by its newline, holding no other
 * newline and no NUL, whose text parses (JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8) as
 * one JSON object and nothing after it. Returns the object (the caller puts it). */
struct json_object *fuzz_json_line(const char *s, size_t len);

/* The member at a dotted path ("orig.pkts"; an array's element by its index: "inputs.0.file"),
 * of type t. */
struct json_object *fuzz_json_get(struct json_object *o, const char *path, json_type t);

/* The member at path is this string, integer or boolean. */
void fuzz_expect_str(struct json_object *o, const char *path, const char *want);
void fuzz_expect_u64(struct json_object *o, const char *path, uint64_t want);
void fuzz_expect_bool(struct json_object *o, const char *path, bool want);

/* The integer at path, which must lie within [min, max]. */
uint64_t fuzz_json_u64_in(struct json_object *o, const char *path, uint64_t min, uint64_t max);

#endif
