/* hostile_helpers: what the end-to-end tests of hostile input (issue 7, test_hostile_*.c) share:
 * running shakedown on a damaged capture and checking its output, keeping that output for
 * validation against docs/shakedown.schema.json by tests/schema/validate.py, and writing capture
 * files byte by byte where the damage is in the file format itself.
 *
 * Invariants checked on every run (check_output): each line is one JSON object; the summary is
 * the last line; every connection record has its own uid; the summary's connections.total,
 * by_close and by_conn_state agree with the records; packets = filtered + analysed +
 * checksum_dropped + decode_failed, and decode_failed is the sum of decode_errors
 * (docs/schema.md). */
#ifndef SHAKEDOWN_E2E_HOSTILE_HELPERS_H
#define SHAKEDOWN_E2E_HOSTILE_HELPERS_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "capwrite.h"
#include "pktbuild.h"
#include "samples.h"
#include "session.h"

#define SEC 1000000000ull
#define T0 SAMPLES_START_NS /* 2024-01-01T00:00:00Z */

/* ---- output checks and schema validation ---------------------------------------------------- */

#define MAX_OUTPUTS 512

/* Output files of a test's runs, validated together at its end (one python start). */
struct outputs {
    char path[MAX_OUTPUTS][96];
    int n;
};

/* validate.py --whole-run over every output kept: each must be valid records ending with its one
 * summary. */
void outputs_validate(struct outputs *o);

#define MAX_CONNS 16384

/* One run's output, parsed. */
struct result {
    int status;
    char *err;
    struct json_object *summary;
    struct json_object *conn[MAX_CONNS];
    int nconn;
    struct json_object *anomaly[MAX_CONNS];
    int nanomaly;
};

/* Runs shakedown -F json -r path [opts], checks the invariants, keeps the output for validation. */
void run_on(struct result *r, struct outputs *outs, const char *path, const char *const *opts);

void result_free(struct result *r);

/* The exact JSON text of a member (timestamps are compared as written). */
const char *text_at(struct json_object *o, const char *path);

/* Records named `name` among the anomaly records. */
int anomaly_records(const struct result *r, const char *name);

/* ---- writing captures byte by byte ---------------------------------------------------------- */

struct bytes {
    uint8_t *b;
    size_t n, cap;
};

/* Appends len bytes at p, or a little-endian 32-bit value. */
void put(struct bytes *x, const void *p, size_t len);
void put_le32(struct bytes *x, uint32_t v);

/* Classic pcap, µs, little-endian (as capwrite writes it). */
void pcap_header(struct bytes *x, uint32_t linktype, uint32_t snaplen);

/* A record with the given header fields followed by `stored` bytes of data. */
void pcap_record(struct bytes *x, uint32_t sec, uint32_t usec, uint32_t caplen, uint32_t len,
                 const uint8_t *data, size_t stored);

/* Writes the n bytes at b to tmp_path(name); returns the path (static storage rotated among a
 * few buffers). */
const char *write_bytes(const char *name, const uint8_t *b, size_t n);

/* The whole file at path, malloc'd; its size in *n. */
uint8_t *read_whole(const char *path, size_t *n);

/* The little-endian 32-bit value at p. */
uint32_t le32_at(const uint8_t *p);

/* Builds frame f into buf (pb_build), failing the test if it cannot. */
size_t frame(const struct pb_frame *f, uint8_t *buf, size_t cap);

/* ---- scripted sessions --------------------------------------------------------------------- */

#define CISN 0x10000000u
#define SISN 0x20000000u

/* A session from 10.0.0.1:sport to 10.0.0.2:80 (pb_tcp4) on w, ISNs CISN and SISN. */
void session_on(struct session *s, struct capwrite *w, struct session_clock *clock, uint16_t sport);

#endif
