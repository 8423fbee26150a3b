/* run: helpers for the end-to-end tests — run the real shakedown binary with arguments (and
 * optionally a file on standard input), collect its exit status, stdout and stderr; temporary
 * paths; parsing its JSON lines. */
#ifndef SHAKEDOWN_E2E_RUN_H
#define SHAKEDOWN_E2E_RUN_H

#include <json-c/json.h>
#include <stdint.h>

struct run_result {
    int status; /* exit status, or 128 + signal number if it was killed */
    char *out;  /* all of stdout, NUL-terminated */
    char *err;  /* all of stderr */
};

/* Runs SHAKEDOWN_BIN with args (NULL-terminated, without the program name). stdin_path, if not
 * NULL, is opened as its standard input. */
struct run_result run_shakedown(const char *stdin_path, const char *const *args);
void run_result_free(struct run_result *r);

/* Runs SHAKEDOWN_BIN -F json -r path followed by the options opts (NULL-terminated, may be
 * NULL). */
struct run_result run_json(const char *path, const char *const *opts);

/* A path for name inside a fresh per-process temporary directory. Returned string is static
 * storage rotated among a few buffers: copy it if you need it long. */
const char *tmp_path(const char *name);

/* Parses the last non-empty line of out as a JSON object (NULL if it is not one). */
struct json_object *json_last_line(const char *out);

/* One record: line (no newline) parsed strictly, as every line of stdout is (JSON_TOKENER_STRICT
 * | JSON_TOKENER_VALIDATE_UTF8, one whole JSON object); the test fails if it is not one. */
struct json_object *json_parse_record(const char *line);

/* The whole file at path, NUL-terminated (to free); fails the test if it cannot be read. */
char *read_whole_file(const char *path);

/* Number of lines in s. */
int count_lines(const char *s);

/* The member at a dotted path ("protocols.transport.tcp") of o, or NULL. */
struct json_object *json_at(struct json_object *o, const char *path);

/* The string at a dotted path, or "(absent)" (for failure messages). */
const char *json_str_or(struct json_object *o, const char *path);

/* Looks up a dotted path ("protocols.transport.tcp.packets") in o; -1 if absent. */
int64_t json_int_at(struct json_object *o, const char *path);
/* The string at a dotted path, or NULL. */
const char *json_str_at(struct json_object *o, const char *path);

/* Criterion expectations on a summary record (docs/schema.md, decode_failed): packets = filtered +
 * analysed + checksum_dropped + decode_failed, and decode_failed is the sum of decode_errors. */
void expect_packet_accounting(struct json_object *summary);

/* Criterion expectations: the summary's breakdown object summary_key ("connections.by_close")
 * counts, per value, as many of the n connection records recs as have that value at rec_key
 * ("close.how"), and adds up to n. */
void expect_breakdown(struct json_object *summary, const char *summary_key,
                      struct json_object *const *recs, int n, const char *rec_key);

/* Criterion expectations on one member of a record (a dotted path), naming it and both values on
 * failure: a string, an integer, and a timestamp or duration given in ns, which records write
 * with µs ("1704067200.010000"): compared as the JSON text. */
void expect_str(struct json_object *o, const char *path, const char *want);
void expect_int(struct json_object *o, const char *path, int64_t want);
void expect_time(struct json_object *o, const char *key, int64_t ns);

#endif
