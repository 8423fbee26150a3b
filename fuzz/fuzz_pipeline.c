/* fuzz_pipeline: the whole per-packet pipeline — decode, tracker (timeouts, eviction, TIME_WAIT,
 * anomalies, host counters), JSON records and text lines — on a sequence of packets built from
 * the input (format below and in fuzz/README.md). Every record is written by the JSON format and
 * must parse back (json-c) as strict, valid-UTF-8 JSON on one line whose fields equal those of
 * the connection, anomaly or totals it came from; the text format writes every record too, and
 * every connection is also written as a Zeek conn.log row (one value per column) and as Zeek
 * JSON (parsed back, its uid and port checked), and every record as Suricata EVE and as ECS
 * (parsed back, identity and counts checked); the packet accounting must add up and every
 * connection must be reported exactly once. Owns, per input: the tracker, the record buffer and one
 * packet buffer at a time, all freed before returning.
 *
 * Input: a 2-byte configuration, then chunks of a 7-byte header and the frame.
 *   config[0]  bits 0-3 max flows - 1 (1..16), bits 4-5 checksums (0 auto, with a table of
 *              4 sources; 1 drop, 2 keep, 3 off), bit 6 ISO 8601 timestamps, bit 7 Community
 *              ID seed 1
 *   config[1]  bits 0-2 host table capacity - 1, bits 3-4 syn-flood threshold - 1,
 *              bits 5-7 port-scan threshold - 1 (all windows as by default)
 *   chunk      link selector (fuzz_link), wire byte (fuzz_wirelen), flags, time delta (int16
 *              little-endian, may be negative), frame length (uint16 little-endian, cut to what
 *              is left), frame
 *   flags      bits 0-1 delta unit (µs, ms, s, hours), bit 2 an interim pass after the frame,
 *              bit 3 no packet: the tracker's clock is advanced instead (live idle) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "flowtext.h"
#include "format.h"
#include "fuzz.h"
#include "fuzz_json.h"
#include "packet.h"
#include "stats.h"
#include "timefmt.h"
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
    struct checksum_policy *policy;
    struct run_stats stats;
    struct record_options record;
    enum checksum_mode checksums;
    const struct format_ops *json, *text, *zeek, *zeek_json, *eve, *ecs;
    struct outbuf out; /* each record is formatted here, checked, then dropped */
    uint64_t frames;
};

/* The record just formatted into r->out must be one line that parses back as strict JSON with
 * valid UTF-8 (fuzz_json_line); aborts otherwise. Returns the parsed object (the caller puts
 * it). */
static struct json_object *parse_back(struct run *r) {
    if (outbuf_failed(&r->out))
        abort();
    return fuzz_json_line(r->out.data, r->out.len);
}

/* A timestamp reads back as exactly the text it was written as: epoch seconds with six decimals
 * (json-c keeps a parsed number's text) or, with --iso-time, the ISO 8601 string. */
static void expect_ts(struct run *r, struct json_object *o, const char *path, int64_t ns) {
    char want[TIMEFMT_ISO_LEN];
    int64_t sec;
    uint32_t nsec;
    timefmt_split(ns, &sec, &nsec);
    if (r->record.iso_time) {
        timefmt_iso8601(want, sizeof want, sec, nsec);
        fuzz_expect_str(o, path, want);
        return;
    }
    timefmt_epoch(want, sizeof want, sec, nsec);
    if (strcmp(json_object_to_json_string(fuzz_json_get(o, path, json_type_double)), want) != 0)
        abort();
}

static void expect_addr(struct json_object *o, const char *path, const uint8_t *a, uint8_t ver) {
    char want[FLOWTEXT_ADDR_LEN];
    flowtext_addr(want, sizeof want, a, ver);
    fuzz_expect_str(o, path, want);
}

static void check_endpoint(struct json_object *o, const char *role_key, const struct conn *c,
                           int role) {
    struct json_object *ep = fuzz_json_get(o, role_key, json_type_object);
    fuzz_expect_u64(ep, "pkts", c->pkts[role]);
    fuzz_expect_u64(ep, "bytes", c->ip_bytes[role]);
    if (c->e.key.proto != 6)
        return;
    const struct tcp_endpoint *x = &c->tcp.ep[role];
    fuzz_expect_str(ep, "state", tcp_state_name(tcp_conn_state(&c->tcp, role)));
    fuzz_expect_u64(ep, "payload_bytes", x->payload_bytes);
    fuzz_expect_u64(ep, "retransmits", x->retrans_pkts);
    fuzz_expect_u64(ep, "missed_bytes", x->missed_bytes);
    if (x->opt_seen)
        fuzz_expect_bool(ep, "options.sack_permitted", x->sack_permitted);
}

static void check_anomaly_list(struct run *r, struct json_object *o, const struct conn *c) {
    struct json_object *a = fuzz_json_get(o, "anomalies", json_type_array);
    unsigned n = c->anomalies ? c->anomalies->n : 0;
    if (json_object_array_length(a) != n)
        abort();
    for (unsigned i = 0; i < n; i++) {
        const struct conn_anomaly *ca = &c->anomalies->list[i];
        struct json_object *e = json_object_array_get_idx(a, i);
        fuzz_expect_str(e, "name", anomaly_name((enum anomaly)ca->id));
        fuzz_expect_u64(e, "count", ca->count);
        expect_ts(r, e, "first_ts", ca->first_ns);
        fuzz_expect_str(e, "direction", flowtext_direction(ca->dir));
    }
}

/* A connection record, written by the JSON format, read back against the connection. */
static void check_connection(struct run *r, struct json_object *o, const struct conn *c,
                             bool final) {
    char uid[CONN_UID_LEN], hist[TCP_HISTORY_MAX];
    conn_uid(c, uid);
    conn_history(c, hist);
    fuzz_expect_str(o, "type", "connection");
    fuzz_expect_str(o, "uid", uid);
    expect_ts(r, o, "ts", c->first_ns);
    expect_ts(r, o, "end_ts", c->last_ns);
    fuzz_expect_str(o, "proto", flowtext_proto(c->e.key.proto, c->e.key.ip_version));
    expect_addr(o, "src_ip", conn_addr(c, 0), c->e.key.ip_version);
    fuzz_expect_u64(o, "src_port", conn_port(c, 0));
    expect_addr(o, "dest_ip", conn_addr(c, 1), c->e.key.ip_version);
    fuzz_expect_u64(o, "dest_port", conn_port(c, 1));
    fuzz_expect_str(o, "conn_state", zeek_conn_state_name(conn_zeek_state(c)));
    fuzz_expect_str(o, "history", hist);
    fuzz_expect_bool(o, "final", final);
    if (final)
        fuzz_expect_str(o, "close.how", conn_end_name((enum conn_end)c->end));
    if (c->e.key.proto == 6)
        fuzz_expect_bool(o, "handshake.completed", c->tcp.handshake_done);
    check_endpoint(o, "orig", c, 0);
    check_endpoint(o, "resp", c, 1);
    fuzz_expect_u64(o, "first_frame", c->first_frame);
    check_anomaly_list(r, o, c);
}

/* Runs one format writer into r->out (reset first). */
#define FORMAT(r, fmt, call, ...)                                                                  \
    do {                                                                                           \
        outbuf_reset(&(r)->out);                                                                   \
        struct format_ctx f_ = {&(r)->out, &(r)->record, true};                                    \
        (fmt)->call(&f_, __VA_ARGS__);                                                             \
        if (outbuf_failed(&(r)->out))                                                              \
            abort();                                                                               \
    } while (0)

/* A Zeek conn.log row (the header is written too: the context says the output is empty): the
 * last line holds exactly one value per #fields column. */
static void check_zeek_row(struct run *r) {
    const char *s = r->out.data, *end = s + r->out.len;
    if (r->out.len < 2 || end[-1] != '\n' || memchr(s, '\0', r->out.len))
        abort();
    const char *fields = strstr(s, "#fields"), *row = end - 1;
    while (row > s && row[-1] != '\n')
        row--;
    if (!fields || *row == '#')
        abort();
    size_t tabs_fields = 0, tabs_row = 0;
    for (const char *p = fields; *p != '\n'; p++)
        tabs_fields += *p == '\t';
    for (const char *p = row; p < end; p++)
        tabs_row += *p == '\t';
    if (tabs_fields != tabs_row + 1) /* "#fields" itself is followed by a tab */
        abort();
}

/* The same connection as Zeek's JSON: strict JSON whose uid and originator port are the
 * connection's. */
static void check_zeek_json(struct run *r, const struct conn *c) {
    struct json_object *back = parse_back(r);
    char uid[CONN_UID_LEN];
    conn_uid(c, uid);
    fuzz_expect_str(back, "uid", uid);
    struct json_object *port;
    if (!json_object_object_get_ex(back, "id.orig_p", &port) ||
        json_object_get_uint64(port) != conn_port(c, 0))
        abort();
    json_object_put(back);
}

/* The same connection as a Suricata EVE flow event: strict JSON with its uid and counts. */
static void check_eve_flow(struct run *r, const struct conn *c) {
    struct json_object *back = parse_back(r);
    char uid[CONN_UID_LEN];
    conn_uid(c, uid);
    fuzz_expect_str(back, "event_type", "flow");
    fuzz_expect_str(back, "shakedown.uid", uid);
    fuzz_expect_u64(back, "flow.pkts_toserver", c->pkts[0]);
    fuzz_expect_u64(back, "flow.bytes_toclient", c->ip_bytes[1]);
    json_object_put(back);
}

/* The same connection as an ECS document: strict JSON with its uid and counts. */
static void check_ecs_event(struct run *r, const struct conn *c) {
    struct json_object *back = parse_back(r);
    char uid[CONN_UID_LEN];
    conn_uid(c, uid);
    fuzz_expect_str(back, "event.id", uid);
    fuzz_expect_u64(back, "source.packets", c->pkts[0]);
    fuzz_expect_u64(back, "destination.bytes", c->ip_bytes[1]);
    json_object_put(back);
}

static void emit_connection(struct run *r, const struct conn *c, bool final) {
    FORMAT(r, r->json, connection, c, final);
    struct json_object *back = parse_back(r);
    check_connection(r, back, c, final);
    json_object_put(back);
    FORMAT(r, r->text, connection, c, final);
    FORMAT(r, r->zeek, connection, c, final);
    check_zeek_row(r);
    FORMAT(r, r->zeek_json, connection, c, final);
    check_zeek_json(r, c);
    FORMAT(r, r->eve, connection, c, final);
    check_eve_flow(r, c);
    FORMAT(r, r->ecs, connection, c, final);
    check_ecs_event(r, c);
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

/* An anomaly record read back against its event. */
static void check_anomaly(struct run *r, struct json_object *o, const struct anomaly_event *ev) {
    fuzz_expect_str(o, "type", "anomaly");
    expect_ts(r, o, "ts", ev->ts_ns);
    fuzz_expect_u64(o, "frame", ev->frame);
    fuzz_expect_str(o, "name", anomaly_name(ev->id));
    if (!ev->key) {
        expect_addr(o, ev->id == ANOMALY_PORT_SCAN ? "src_ip" : "dest_ip", ev->host,
                    ev->host_version);
        fuzz_expect_u64(o, "count", ev->count);
        return;
    }
    char uid[CONN_UID_LEN];
    conn_uid_make(ev->serial, ev->first_ns, ev->key, uid);
    fuzz_expect_str(o, "uid", uid);
    expect_addr(o, "src_ip", ev->key->addr[ev->orig_side], ev->key->ip_version);
    fuzz_expect_u64(o, "src_port", ev->key->port[ev->orig_side]);
    fuzz_expect_str(o, "direction", flowtext_direction(ev->dir));
}

static void on_anomaly(void *ctx, const struct anomaly_event *ev) {
    struct run *r = ctx;
    if (ev->frame > r->frames || (unsigned)ev->id >= ANOMALY_COUNT)
        abort();
    FORMAT(r, r->json, anomaly, ev);
    struct json_object *back = parse_back(r);
    check_anomaly(r, back, ev);
    json_object_put(back);
    FORMAT(r, r->text, anomaly, ev);
    FORMAT(r, r->eve, anomaly, ev);
    back = parse_back(r);
    fuzz_expect_str(back, "anomaly.event", anomaly_name(ev->id));
    json_object_put(back);
    FORMAT(r, r->ecs, anomaly, ev);
    back = parse_back(r);
    fuzz_expect_str(back, "rule.name", anomaly_name(ev->id));
    json_object_put(back);
}

static void configure(struct run *r, struct tracker_config *cfg, const uint8_t *config) {
    tracker_config_defaults(cfg);
    cfg->max_flows = 1u + (config[0] & 0x0fu);
    unsigned mode = config[0] >> 4 & 3u;
    r->checksums = (enum checksum_mode)mode;
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
    struct decode_options opt = {.verify_checksums = checksum_mode_verifies(r->checksums)};
    enum decode_status st = packet_decode(&p, frame, &opt);
    enum checksum_state cs = stats_count_decoded(&r->stats, &p, st);
    if (st == DECODE_OK) {
        enum checksum_verdict v = checksum_policy_judge(r->policy, &p, cs, NULL);
        if (v == CHECKSUM_VERDICT_DROP) {
            stats_count_checksum_dropped(&r->stats);
            tracker_on_packet(r->tracker, &p, true);
        } else {
            if (v == CHECKSUM_VERDICT_SWITCHED)
                stats_note_offload_source(&r->stats, &p);
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
    FORMAT(r, r->json, summary, &r->stats, &in, 1, 0.5);
    struct json_object *back = parse_back(r);
    fuzz_expect_str(back, "type", "summary");
    fuzz_expect_u64(back, "packets", r->stats.read.packets);
    fuzz_expect_u64(back, "analysed", r->stats.analysed);
    fuzz_expect_u64(back, "checksum_dropped", r->stats.checksum_dropped);
    fuzz_expect_u64(back, "connections.total", r->stats.conns.reported);
    fuzz_expect_u64(back, "connections.untracked_packets", tc->untracked_packets);
    fuzz_expect_str(back, "inputs.0.file", "fuzz"); /* see fuzz_json_get(): arrays by index */
    json_object_put(back);
    FORMAT(r, r->text, summary, &r->stats, &in, 1, 0.5);
    FORMAT(r, r->ecs, summary, &r->stats, &in, 1, 0.5);
    back = parse_back(r);
    fuzz_expect_u64(back, "shakedown.analysed", r->stats.analysed);
    json_object_put(back);
    FORMAT(r, r->eve, summary, &r->stats, &in, 1, 0.5);
    back = parse_back(r);
    fuzz_expect_u64(back, "shakedown.packets", r->stats.read.packets);
    json_object_put(back);

    struct live_stats ls = {.wall_ns = tracker_now(r->tracker),
                            .packets = r->stats.read.packets,
                            .connections_reported = tc->reported,
                            .memory_reserved_bytes = tracker_memory(r->tracker),
                            .memory_used_bytes = tracker_memory_used(r->tracker)};
    FORMAT(r, r->json, stats, &ls);
    back = parse_back(r);
    fuzz_expect_str(back, "type", "stats");
    fuzz_expect_u64(back, "packets", ls.packets);
    fuzz_expect_u64(back, "connections_reported", ls.connections_reported);
    fuzz_expect_u64(back, "memory_reserved_bytes", ls.memory_reserved_bytes);
    fuzz_expect_u64(back, "memory_used_bytes", ls.memory_used_bytes);
    json_object_put(back);
    FORMAT(r, r->text, stats, &ls);
    FORMAT(r, r->ecs, stats, &ls);
    back = parse_back(r);
    fuzz_expect_u64(back, "shakedown.packets", ls.packets);
    json_object_put(back);
    FORMAT(r, r->eve, stats, &ls);
    back = parse_back(r);
    fuzz_expect_u64(back, "stats.decoder.pkts", ls.packets);
    json_object_put(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < CONFIG_LEN)
        return 0;
    struct run *r = calloc(1, sizeof *r);
    struct tracker_config cfg;
    if (!r)
        abort();
    configure(r, &cfg, data);
    r->json = output_format_find("json");
    r->text = output_format_find("text");
    r->zeek = output_format_find("zeek");
    r->zeek_json = output_format_find("zeek-json");
    r->eve = output_format_find("eve");
    r->ecs = output_format_find("ecs");
    r->tracker = tracker_new(&cfg, on_report, on_anomaly, r);
    r->policy = checksum_policy_new(r->checksums, 4);
    if (!r->json || !r->text || !r->zeek || !r->zeek_json || !r->eve || !r->ecs || !r->tracker ||
        !r->policy)
        abort();

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
    checksum_policy_free(r->policy);
    outbuf_free(&r->out);
    free(r);
    return 0;
}
