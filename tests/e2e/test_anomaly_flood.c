/* test_anomaly_flood: output amplification under a flood (issue 18, point 5). A flood of spoofed
 * SYNs makes one connection record per SYN, but once syn_flood has fired for the victim the
 * anomaly events of the connections it covers are folded into one aggregate record per host and
 * window: the anomaly records do not grow with the flood. The output is large (one record per
 * SYN), so it goes to a file that is read line by line; only anomaly and summary lines are
 * parsed. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anomaly_helpers.h"
#include "capwrite.h"
#include "run.h"
#include "session.h"

#define US 1000ll

enum { FLOOD = 200000 };

/* What the output file holds: records counted by type, the anomaly records kept. */
struct flood_out {
    int64_t conns;
    int nanom;
    struct json_object *anom[512];
    struct json_object *summary;
};

static void flood_out_read(struct flood_out *o, const char *path) {
    memset(o, 0, sizeof *o);
    FILE *f = fopen(path, "r");
    cr_assert(f, "cannot read %s", path);
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        if (strncmp(line, "{\"type\":\"connection\"", 20) == 0) {
            o->conns++;
            continue;
        }
        struct json_object *j = json_parse_record(line);
        cr_assert(j, "a line that is not JSON: %.120s", line);
        const char *type = json_str_or(j, "type");
        if (strcmp(type, "anomaly") == 0) {
            cr_assert_lt(o->nanom, 512, "more than 512 anomaly records: the flood was not folded");
            o->anom[o->nanom++] = j;
        } else if (strcmp(type, "summary") == 0) {
            o->summary = j;
        } else {
            cr_assert_fail("unexpected record type %s", type);
        }
    }
    free(line);
    fclose(f);
    cr_assert(o->summary, "no summary record");
}

static void flood_out_free(struct flood_out *o) {
    for (int i = 0; i < o->nanom; i++)
        json_object_put(o->anom[i]);
    json_object_put(o->summary);
}

/* The k-th anomaly record named name (with or without a folded object), or NULL. */
static struct json_object *nth_record(const struct flood_out *o, const char *name, bool aggregate,
                                      int k) {
    for (int i = 0; i < o->nanom; i++)
        if (strcmp(json_str_or(o->anom[i], "name"), name) == 0 &&
            (json_at(o->anom[i], "folded") != NULL) == aggregate && k-- == 0)
            return o->anom[i];
    return NULL;
}

/* 200,000 SYNs to 10.0.0.2:80, each from a source of its own (11.k2.k1.k0: no source scans),
 * 100 µs apart: SYN k (frame k + 1) at T0 + k × 100 µs, the last at 19.9999 s; then a SYN from
 * 10.0.9.9 to 10.0.0.9 at 20.00005 s, the capture's last packet. Nothing answers; with the
 * handshake timeout of 30 s nothing expires before the input ends, so every connection is
 * reported at the end, in the order it started, at the last packet's time (`end`).
 *  - syn_unanswered: the answer grace (1 s) leaves SYNs sent after end - 1 s = 19.00005 s
 *    unjudged, so SYNs 0..190000 get one each: 190,001 occurrences in the summary.
 *  - syn_flood (defaults: more than 200 half-open in 10 s): every flood connection counts, judged
 *    or not. Window 1 = [0, 10 s) holds SYNs 0..99999; the 201st (SYN 200, frame 201) fires it,
 *    count 201. SYN 100000 at exactly 10 s starts window 2, whose 201st (SYN 100200, frame 100201)
 *    fires again: 2 alerts.
 *  - Folding: window 1 folds from its alert on: SYNs 200..99999 = 99,800 events of as many
 *    connections, ended when window 2 starts (count 100,000, last folded frame 100000). Window 2
 *    follows straight on a fired window: it folds from its start, SYNs 100000..190000 = 90,001
 *    events (the unjudged ones have none), ended at the end of input (count 100,000, last
 *    folded frame 190001).
 * So the anomaly records are the 200 syn_unanswered of window 1 before its alert, 2 alerts and 2
 * aggregates — 204, where every SYN used to bring its own — beside 200,001 connection records. */
Test(flood, spoofed_syns_fold_into_one_aggregate_per_window, .timeout = 120) {
    struct cap c;
    cap_open(&c, "flood.pcap");
    c.clock.step_ns = 100 * US;
    int64_t t0 = (int64_t)c.clock.now_ns;
    for (uint32_t k = 0; k < FLOOD; k++) {
        struct session s;
        const uint8_t src[4] = {11, (uint8_t)(k >> 16), (uint8_t)(k >> 8), (uint8_t)k};
        conn_init_hosts(&s, &c, src, (uint16_t)(1024 + k % 60000), host_server, 80, CISN + k, 0);
        put(&c, session_syn(&s));
    }
    cap_at(&c, t0 + 20 * SEC + 50 * US);
    struct session last;
    const uint8_t other_src[4] = {10, 0, 9, 9}, other_dst[4] = {10, 0, 0, 9};
    conn_init_hosts(&last, &c, other_src, 40000, other_dst, 80, CISN, SISN);
    struct mark end = put(&c, session_syn(&last));
    cap_close(&c);

    const char *out = tmp_path("flood.json");
    const char *args[] = {"-F", "json", "-r", c.path, "-o", out, NULL};
    struct run_result rr = run_shakedown(NULL, args);
    cr_assert_eq(rr.status, 0, "exit %d: %s", rr.status, rr.err);
    run_result_free(&rr);
    struct flood_out o;
    flood_out_read(&o, out);

    cr_expect_eq(o.conns, FLOOD + 1, "one connection record per SYN");
    cr_expect_eq(o.nanom, 204, "anomaly records");
    cr_expect_eq(json_int_at(o.summary, "anomalies.syn_unanswered"), 190001);
    cr_expect_eq(json_int_at(o.summary, "anomalies.syn_flood"), 2);
    cr_expect_eq(json_int_at(o.summary, "anomaly_events_folded"), 99800 + 90001);
    cr_expect_eq(json_int_at(o.summary, "anomaly_aggregates"), 2);
    /* --checksums auto keeps a window per source in a table of 65536 (CHECKSUM_POLICY_SOURCES);
     * a source of one packet stays in its window, so at most 65536 of the 200,001 sources are
     * tracked and the packets of the others are counted as untracked (all have good checksums,
     * so all are analysed all the same). */
    int64_t untracked = json_int_at(o.summary, "checksum_untracked_packets");
    cr_expect(untracked >= FLOOD + 1 - 65536 && untracked <= FLOOD + 1,
              "checksum_untracked_packets %" PRId64, untracked);
    cr_expect_eq(json_int_at(o.summary, "analysed"), FLOOD + 1);
    for (int k = 0; k < 200; k++) {
        struct json_object *a = nth_record(&o, "syn_unanswered", false, k);
        cr_assert(a, "syn_unanswered record %d missing", k);
        cr_expect_eq(json_int_at(a, "frame"), k + 1, "before the alert, SYN by SYN");
    }
    cr_expect_null(nth_record(&o, "syn_unanswered", false, 200));

    static const struct { int64_t frame, count; } alert[2] = {{201, 201}, {100201, 201}};
    for (int i = 0; i < 2; i++) {
        struct json_object *a = nth_record(&o, "syn_flood", false, i);
        cr_assert(a, "syn_flood alert %d missing", i);
        expect_int(a, "frame", alert[i].frame);
        expect_int(a, "count", alert[i].count);
        expect_str(a, "dest_ip", "10.0.0.2");
        expect_time(a, "ts", end.ts);
    }
    cr_expect_null(nth_record(&o, "syn_flood", false, 2));

    static const struct {
        int64_t frame, events;
        int64_t window_start;
    } agg[2] = {{100000, 99800, 0}, {190001, 90001, 10 * SEC}};
    for (int i = 0; i < 2; i++) {
        struct json_object *a = nth_record(&o, "syn_flood", true, i);
        cr_assert(a, "aggregate %d missing", i);
        expect_str(a, "dest_ip", "10.0.0.2");
        expect_int(a, "frame", agg[i].frame);
        expect_int(a, "count", 100000);
        expect_time(a, "ts", end.ts);
        expect_int(a, "folded.events", agg[i].events);
        expect_int(a, "folded.connections", agg[i].events);
        expect_time(json_at(a, "folded"), "window_start", t0 + agg[i].window_start);
        expect_time(json_at(a, "folded"), "first_ts", end.ts);
        expect_time(json_at(a, "folded"), "last_ts", end.ts);
        struct json_object *kinds = json_at(a, "folded.anomalies");
        cr_expect(kinds && json_object_array_length(kinds) == 1 &&
                      strcmp(json_object_get_string(json_object_array_get_idx(kinds, 0)),
                             "syn_unanswered") == 0,
                  "folded anomalies: %s", kinds ? json_object_to_json_string(kinds) : "-");
    }
    cr_expect_null(nth_record(&o, "syn_flood", true, 2), "one aggregate per host and window");
    flood_out_free(&o);
    remove(out); /* 200 MB: not left behind */
    remove(c.path);
}
