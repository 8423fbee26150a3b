/* fuzz_pipeline: the whole per-packet pipeline — decode, tracker (timeouts, eviction, TIME_WAIT,
 * anomalies, host counters), JSON records and text lines — on a sequence of packets built from
 * the input (format below and in fuzz/README.md). Every record is serialised as json.c does and
 * must parse back as strict, valid-UTF-8 JSON on one line; a connection record filled into a
 * reused tree (as sink.c does) must read back equal to a fresh one; the packet accounting must add
 * up and every connection must be reported exactly once. Owns, per input: the tracker, the reused
 * trees, one packet buffer at a time and a /dev/null stream, all freed before returning.
 *
 * Input: a 2-byte configuration, then chunks of a 7-byte header and the frame.
 *   config[0]  bits 0-3 max flows - 1 (1..16), bits 4-5 checksums (0 drop, 1 keep, 2 off,
 *              3 drop), bit 6 ISO 8601 timestamps, bit 7 Community ID seed 1
 *   config[1]  bits 0-2 host table capacity - 1, bits 3-4 syn-flood threshold - 1,
 *              bits 5-7 port-scan threshold - 1 (all windows as by default)
 *   chunk      link selector (fuzz_link), wire byte (fuzz_wirelen), flags, time delta (int16
 *              little-endian, may be negative), frame length (uint16 little-endian, cut to what
 *              is left), frame
 *   flags      bits 0-1 delta unit (µs, ms, s, hours), bit 2 an interim pass after the frame,
 *              bit 3 no packet: the tracker's clock is advanced instead (live idle) */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "fuzz.h"
#include "json.h"
#include "packet.h"
#include "record.h"
#include "stats.h"
#include "text.h"
#include "tracker.h"

enum {
    CONFIG_LEN = 2,
    CHUNK_HEADER_LEN = 7,
    FLAG_INTERIM = 0x04,
    FLAG_ADVANCE = 0x08,
};

#define NS_PER_SEC 1000000000ll
/* Capture time stays within what analyze.c hands the tracker (it clamps other times and counts
 * them): 1970 to 2100-01-01. fuzz_capture covers the clamping itself. */
#define TIME_MAX_NS (4102444800ll * NS_PER_SEC)
#define TIME_START_NS (1704067200ll * NS_PER_SEC) /* 2024-01-01, as samples/ */

struct run {
    struct tracker *tracker;
    struct run_stats stats;
    struct record_options record;
    enum checksum_mode checksums;
    struct json_object *tree[2]; /* reused connection records: [0] TCP, [1] UDP/ICMP */
    FILE *null;                  /* text lines and JSON lines go here: written, not kept */
    uint64_t frames;
};

/* A record must serialise to one line that parses back as strict JSON with valid UTF-8 and a
 * string "type" member; aborts otherwise. Takes no ownership of rec; returns the parsed copy
 * (the caller puts it). */
static struct json_object *check_json(struct run *r, struct json_object *rec) {
    if (!rec || !json_object_is_type(rec, json_type_object))
        abort();
    if (!json_write_record(r->null, rec))
        abort();
    size_t len;
    const char *s = json_object_to_json_string_length(
        rec, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    if (!s || strlen(s) != len || memchr(s, '\n', len) || len > INT32_MAX)
        abort();
    struct json_tokener *tok = json_tokener_new();
    if (!tok)
        abort();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    struct json_object *back = json_tokener_parse_ex(tok, s, (int)len);
    if (!back || json_tokener_get_error(tok) != json_tokener_success ||
        json_tokener_get_parse_end(tok) != len)
        abort();
    json_tokener_free(tok);
    struct json_object *type;
    if (!json_object_object_get_ex(back, "type", &type) ||
        !json_object_is_type(type, json_type_string))
        abort();
    return back;
}

/* Checks a one-off record and frees it. */
static void check_record(struct run *r, struct json_object *rec) {
    json_object_put(check_json(r, rec));
    json_object_put(rec);
}

/* A connection record both ways: fresh, and filled into the reused tree of its protocol as
 * sink.c does; both must read back as the same members and values. (Compared as parsed back,
 * i.e. as written: record.c updates a reused number's text, not its json-c double value.) */
static void emit_connection(struct run *r, const struct conn *c, bool final) {
    struct json_object *fresh = record_connection(c, final, &r->record);
    struct json_object *fresh_back = check_json(r, fresh);
    struct json_object **tree = &r->tree[c->e.key.proto == 6 ? 0 : 1];
    if (!*tree && !(*tree = json_object_new_object()))
        abort();
    record_connection_fill(*tree, c, final, &r->record);
    struct json_object *tree_back = check_json(r, *tree);
    if (!json_object_equal(fresh_back, tree_back))
        abort();
    json_object_put(fresh_back);
    json_object_put(tree_back);
    json_object_put(fresh);
    text_write_connection(r->null, c, final);
}

static void on_report(void *ctx, const struct conn *c) {
    struct run *r = ctx;
    if (c->end == CONN_END_OPEN || c->end >= CONN_END_COUNT)
        abort();
    stats_count_conn(&r->stats, c);
    emit_connection(r, c, true);
}

static void on_interim(void *ctx, const struct conn *c) {
    emit_connection(ctx, c, false);
}

static void on_anomaly(void *ctx, const struct anomaly_event *ev) {
    struct run *r = ctx;
    if (ev->frame > r->frames || (unsigned)ev->id >= ANOMALY_COUNT)
        abort();
    check_record(r, record_anomaly(ev, &r->record));
    text_write_anomaly(r->null, ev);
}

static void configure(struct run *r, struct tracker_config *cfg, const uint8_t *config) {
    tracker_config_defaults(cfg);
    cfg->max_flows = 1u + (config[0] & 0x0fu);
    unsigned mode = config[0] >> 4 & 3u;
    r->checksums = mode == 3 ? CHECKSUM_MODE_DROP : (enum checksum_mode)mode;
    r->record.iso_time = config[0] & 0x40;
    r->record.community_id_seed = config[0] >> 7;
    cfg->hosts.capacity = 1u + (config[1] & 7u);
    cfg->hosts.syn_flood_threshold = 1u + (config[1] >> 3 & 3u);
    cfg->hosts.port_scan_threshold = 1u + (config[1] >> 5 & 7u);
}

/* Moves capture time by delta units, kept within [0, TIME_MAX_NS]. */
static int64_t time_step(int64_t now, uint8_t flags, int16_t delta) {
    static const int64_t unit[4] = {1000, 1000000, NS_PER_SEC, 3600 * NS_PER_SEC};
    int64_t next = now + (int64_t)delta * unit[flags & 3]; /* |step| < 2^57: no overflow */
    return next < 0 ? 0 : next > TIME_MAX_NS ? TIME_MAX_NS : next;
}

/* One frame through decode and the tracker, as analyze.c's analyze_packet() does. The frame is
 * copied to a buffer of its exact size so that AddressSanitizer sees any read past its end. */
static void feed(struct run *r, const uint8_t *hdr, const uint8_t *bytes, uint32_t len,
                 int64_t now) {
    uint8_t *frame = malloc(len ? len : 1);
    if (!frame)
        abort();
    memcpy(frame, bytes, len);
    struct packet p;
    memset(&p, 0, sizeof p);
    p.frame = ++r->frames;
    p.ts_sec = now / NS_PER_SEC;
    p.ts_nsec = (uint32_t)(now % NS_PER_SEC);
    p.caplen = len;
    p.wirelen = fuzz_wirelen(len, hdr[1]);
    p.link = fuzz_link(hdr[0]);
    stats_count_read(&r->stats, &p);
    struct decode_options opt = {.verify_checksums = r->checksums != CHECKSUM_MODE_OFF};
    enum decode_status st = packet_decode(&p, frame, &opt);
    bool bad_checksum = stats_count_decoded(&r->stats, &p, st);
    if (st == DECODE_OK) {
        if (bad_checksum && r->checksums == CHECKSUM_MODE_DROP) {
            stats_count_checksum_dropped(&r->stats);
            tracker_on_packet(r->tracker, &p, true);
        } else {
            stats_count_analysed(&r->stats);
            tracker_on_packet(r->tracker, &p, false);
        }
    }
    free(frame); /* the tracker must not have kept a pointer into it */
}

/* The end of the input: flush, check the accounting, write the summary and a stats record. */
static void finish(struct run *r) {
    tracker_flush(r->tracker, CONN_END_CAPTURE_END);
    const struct tracker_counts *tc = tracker_counts(r->tracker);
    if (tc->open_now != 0 || tc->created != tc->reported || tc->reported != r->stats.conns.reported)
        abort();
    if (stats_accounted(&r->stats) != r->stats.read.packets)
        abort();
    stats_note_tracker(&r->stats, tc);

    struct input_report in = {.path = "fuzz", .link = LINK_ETHERNET, .link_supported = true};
    snprintf(in.link_name, sizeof in.link_name, "EN10MB");
    in.packets = r->stats.read.packets;
    check_record(r, record_summary(&r->stats, &in, 1, 0.5, &r->record));
    text_write_summary(r->null, &r->stats, &in, 1);

    struct live_stats ls = {.wall_ns = tracker_now(r->tracker),
                            .packets = r->stats.read.packets,
                            .connections_reported = tc->reported,
                            .memory_bytes = tracker_memory(r->tracker)};
    check_record(r, record_stats(&ls, &r->record));
    text_write_stats(r->null, &ls);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < CONFIG_LEN)
        return 0;
    struct run *r = calloc(1, sizeof *r);
    struct tracker_config cfg;
    if (!r)
        abort();
    configure(r, &cfg, data);
    r->null = fopen("/dev/null", "w");
    r->tracker = tracker_new(&cfg, on_report, on_anomaly, r);
    if (!r->null || !r->tracker)
        abort();
    text_write_connection_header(r->null);

    int64_t now = TIME_START_NS;
    size_t at = CONFIG_LEN;
    while (size - at >= CHUNK_HEADER_LEN) {
        const uint8_t *hdr = data + at;
        int16_t delta = (int16_t)(uint16_t)(hdr[3] | hdr[4] << 8);
        size_t len = (size_t)(hdr[5] | hdr[6] << 8);
        at += CHUNK_HEADER_LEN;
        if (len > size - at)
            len = size - at;
        now = time_step(now, hdr[2], delta);
        if (hdr[2] & FLAG_ADVANCE)
            tracker_advance(r->tracker, now);
        else
            feed(r, hdr, data + at, (uint32_t)len, now);
        if (hdr[2] & FLAG_INTERIM)
            tracker_interim(r->tracker, NS_PER_SEC, on_interim, r);
        at += len;
    }
    finish(r);

    tracker_free(r->tracker);
    json_object_put(r->tree[0]);
    json_object_put(r->tree[1]);
    fclose(r->null);
    free(r);
    return 0;
}
