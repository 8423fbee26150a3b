/* anomaly_helpers: scripted captures, runs and anomaly expectations of the anomaly tests (see
 * anomaly_helpers.h). */
#include "anomaly_helpers.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pktbuild.h"
#include "run.h"

/* ---- the catalog (issue 4; names and severities are part of the output interface) ---------- */

struct catalog_entry {
    const char *name;
    const char *severity;
};

static const struct catalog_entry catalog[] = {
    {"syn_unanswered", "medium"},
    {"synack_unanswered", "medium"},
    {"synack_bad_ack", "high"},
    {"handshake_bad_ack", "medium"},
    {"syn_isn_changed", "medium"},
    {"syn_on_established", "medium"},
    {"simultaneous_open", "info"},
    {"invalid_flags", "high"},
    {"data_unacked", "medium"},
    {"fin_unacked", "medium"},
    {"data_after_fin", "high"},
    {"late_segment_after_fin", "low"},
    {"packet_during_time_wait", "low"},
    {"packet_after_time_wait", "high"},
    {"data_after_rst", "high"},
    {"rst_out_of_window", "high"},
    {"segment_out_of_window", "high"},
    {"port_reuse", "info"},
    {"retransmission", "info"},
    {"out_of_order", "info"},
    {"segment_not_captured", "low"},
    {"ack_unseen_segment", "low"},
    {"zero_window", "low"},
    {"syn_flood", "high"},
    {"port_scan", "high"},
};

_Static_assert(sizeof catalog / sizeof catalog[0] == 25, "the catalog has 25 anomalies");

static const char *catalog_severity(const char *name) {
    for (size_t i = 0; i < sizeof catalog / sizeof catalog[0]; i++)
        if (strcmp(catalog[i].name, name) == 0)
            return catalog[i].severity;
    return NULL;
}

/* ---- writing captures ---------------------------------------------------------------------- */

struct mark put(struct cap *c, bool ok) {
    cr_assert(ok, "a frame could not be built or written");
    c->frames++;
    return (struct mark){c->frames, (int64_t)c->clock.now_ns - (int64_t)c->clock.step_ns};
}

void conn_init_hosts(struct session *s, struct cap *c, const uint8_t src[4], uint16_t sport,
                     const uint8_t dst[4], uint16_t dport, uint32_t cisn, uint32_t sisn) {
    struct pb_frame f = pb_tcp4();
    memcpy(f.src, src, 4);
    memcpy(f.dst, dst, 4);
    f.sport = sport;
    f.dport = dport;
    session_init(s, c->w, &c->clock, &f, cisn, sisn);
}

const uint8_t host_client[4] = {10, 0, 0, 1};
const uint8_t host_server[4] = {10, 0, 0, 2};
static const uint8_t host_other[4] = {10, 0, 0, 3};

void conn_init(struct session *s, struct cap *c, uint16_t sport, uint32_t cisn, uint32_t sisn) {
    conn_init_hosts(s, c, host_client, sport, host_server, 80, cisn, sisn);
}

struct mark handshake(struct cap *c, struct session *s) {
    put(c, session_syn(s));
    put(c, session_syn_ack(s));
    return put(c, session_ack(s, SESSION_CLIENT));
}

struct mark close_from(struct cap *c, struct session *s, enum session_side closer) {
    enum session_side peer = session_peer(closer);
    put(c, session_segment(s, closer, PB_FIN | PB_ACK, 0));
    put(c, session_ack(s, peer));
    put(c, session_segment(s, peer, PB_FIN | PB_ACK, 0));
    return put(c, session_ack(s, closer));
}

struct span filler(struct cap *c, uint16_t sport, int64_t start) {
    struct session s;
    struct span sp;
    cap_at(c, start);
    conn_init_hosts(&s, c, host_client, sport, host_other, 80, 0x50000000u, 0x60000000u);
    sp.first = put(c, session_syn(&s));
    put(c, session_syn_ack(&s));
    put(c, session_ack(&s, SESSION_CLIENT));
    put(c, session_data(&s, SESSION_CLIENT, 100));
    put(c, session_ack(&s, SESSION_SERVER));
    put(c, session_data(&s, SESSION_SERVER, 200));
    put(c, session_ack(&s, SESSION_CLIENT));
    sp.last = close_from(c, &s, SESSION_CLIENT);
    return sp;
}

/* ---- running shakedown and reading its records --------------------------------------------- */

void run_path(struct run *r, const char *path, int64_t packets, const char *const *opts) {
    struct run_result rr = run_json(path, opts);
    cr_assert_eq(rr.status, 0, "exit %d; stderr: %s", rr.status, rr.err);
    cr_expect_str_empty(rr.err, "a readable capture gives no message: %s", rr.err);
    memset(r, 0, sizeof *r);
    char *save = NULL;
    int lines = 0, summary_line = -1;
    size_t k = 0;
    for (char *line = strtok_r(rr.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        struct json_object *o = json_parse_record(line);
        cr_assert(o, "not JSON: %s", line);
        const char *type = json_str_or(o, "type");
        if (strcmp(type, "connection") == 0) {
            cr_assert_lt(r->nconn, MAX_RECS, "too many connection records");
            r->conn[r->nconn++] = o;
        } else if (strcmp(type, "anomaly") == 0) {
            cr_assert_lt(r->nanom, MAX_RECS, "too many anomaly records");
            r->anom[r->nanom++] = o;
            const char *dir = json_str_at(o, "direction");
            int w = snprintf(r->seen + k, sizeof r->seen - k, "%s%s/%s@%" PRId64, k ? ", " : "",
                             json_str_or(o, "name"), dir ? dir : "host", json_int_at(o, "frame"));
            if (w > 0 && (size_t)w < sizeof r->seen - k)
                k += (size_t)w;
        } else if (strcmp(type, "summary") == 0) {
            cr_assert_null(r->summary, "two summaries");
            r->summary = o;
            summary_line = lines;
        } else {
            cr_assert_fail("unknown record type %s", type);
        }
        lines++;
    }
    if (k == 0)
        snprintf(r->seen, sizeof r->seen, "(none)");
    cr_assert(r->summary, "no summary in: %s", rr.out);
    cr_assert_eq(summary_line, lines - 1, "the summary is not the last line");
    cr_assert_eq(json_int_at(r->summary, "packets"), packets,
                 "summary packets %" PRId64 ", %" PRId64 " frames written",
                 json_int_at(r->summary, "packets"), packets);
    run_result_free(&rr);
}

void run_cap(struct run *r, const struct cap *c, const char *const *opts) {
    run_path(r, c->path, c->frames, opts);
}

void run_free(struct run *r) {
    for (int i = 0; i < r->nconn; i++)
        json_object_put(r->conn[i]);
    for (int i = 0; i < r->nanom; i++)
        json_object_put(r->anom[i]);
    json_object_put(r->summary);
}

struct json_object *conn_by_frame(const struct run *r, int64_t first) {
    for (int i = 0; i < r->nconn; i++)
        if (json_int_at(r->conn[i], "first_frame") == first)
            return r->conn[i];
    cr_assert_fail("no connection record starts at frame %" PRId64, first);
    return NULL;
}

/* ---- expectations -------------------------------------------------------------------------- */

static int64_t want_count(const struct want *w) {
    return w->count ? w->count : 1;
}

static void check_anomaly_record(const struct run *r, struct json_object *a, const struct want *w) {
    const char *sev = catalog_severity(w->name);
    cr_assert(sev, "%s is not in the catalog", w->name);
    expect_str(a, "severity", sev);
    expect_time(a, "ts", w->at.ts);
    cr_expect(strlen(json_str_or(a, "detail")) > 0 && json_str_at(a, "detail"), "%s has no detail",
              w->name);
    if (!w->dir) {
        bool flood = strcmp(w->name, "syn_flood") == 0;
        expect_str(a, flood ? "dest_ip" : "src_ip", w->host);
        cr_expect_null(json_at(a, flood ? "src_ip" : "dest_ip"), "%s names one host", w->name);
        cr_expect_null(json_at(a, "uid"), "a host-level anomaly names no connection");
        expect_int(a, "count", w->host_count);
        char win[32];
        snprintf(win, sizeof win, "%" PRId64 ".000000", w->window_s);
        struct json_object *v = json_at(a, "window");
        cr_expect_str_eq(v ? json_object_to_json_string(v) : "(absent)", win, "window");
        struct json_object *f = json_at(a, "folded");
        cr_expect_eq(f != NULL, w->folded_events > 0, "%s: folded object %s", w->name,
                     f ? "where none is wanted" : "missing");
        if (f) {
            expect_int(f, "events", w->folded_events);
            expect_int(f, "connections", w->folded_conns);
            expect_time(f, "first_ts", w->folded_first_ts);
            expect_time(f, "last_ts", w->folded_last_ts);
        }
        return;
    }
    struct json_object *c = conn_by_frame(r, w->conn);
    expect_str(a, "uid", json_str_or(c, "uid"));
    expect_str(a, "community_id", json_str_or(c, "community_id"));
    expect_str(a, "proto", "tcp");
    expect_str(a, "src_ip", json_str_or(c, "src_ip"));
    expect_str(a, "dest_ip", json_str_or(c, "dest_ip"));
    expect_int(a, "src_port", json_int_at(c, "src_port"));
    expect_int(a, "dest_port", json_int_at(c, "dest_port"));
}

/* The summary's anomalies object holds exactly the expected totals. */
static void expect_totals(const struct run *r, const struct want *w, size_t n) {
    struct json_object *tot = json_at(r->summary, "anomalies");
    cr_assert(tot && json_object_is_type(tot, json_type_object), "summary lacks anomalies");
    json_object_object_foreach(tot, key, val) {
        int64_t want = 0;
        for (size_t i = 0; i < n; i++)
            if (strcmp(w[i].name, key) == 0 && !w[i].folded_events)
                want += want_count(&w[i]);
        cr_expect_eq(json_object_get_int64(val), want,
                     "summary anomalies.%s is %" PRId64 ", want %" PRId64, key,
                     json_object_get_int64(val), want);
    }
    for (size_t i = 0; i < n; i++)
        cr_expect(json_at(tot, w[i].name), "summary anomalies lacks %s", w[i].name);
}

/* Each connection record lists exactly the expected anomalies of its own. */
static void expect_conn_lists(const struct run *r, const struct want *w, size_t n) {
    for (int i = 0; i < r->nconn; i++) {
        struct json_object *c = r->conn[i];
        int64_t first = json_int_at(c, "first_frame");
        struct json_object *arr = json_at(c, "anomalies");
        cr_assert(arr && json_object_is_type(arr, json_type_array),
                  "record of frame %" PRId64 " lacks its anomalies array", first);
        size_t listed = 0;
        for (size_t k = 0; k < n; k++) {
            if (!w[k].dir || w[k].conn != first || w[k].after_record)
                continue;
            listed++;
            struct json_object *e = NULL;
            for (size_t j = 0; j < json_object_array_length(arr); j++) {
                struct json_object *x = json_object_array_get_idx(arr, j);
                if (strcmp(json_str_or(x, "name"), w[k].name) == 0 &&
                    strcmp(json_str_or(x, "direction"), w[k].dir) == 0)
                    e = x;
            }
            cr_expect(e, "record of frame %" PRId64 " does not list %s (%s): %s", first, w[k].name,
                      w[k].dir, json_object_to_json_string(arr));
            if (!e)
                continue;
            expect_int(e, "count", want_count(&w[k]));
            expect_str(e, "severity", catalog_severity(w[k].name));
            expect_time(e, "first_ts", w[k].at.ts);
        }
        cr_expect_eq(json_object_array_length(arr), listed,
                     "record of frame %" PRId64 " lists %zu anomalies, want %zu: %s", first,
                     json_object_array_length(arr), listed, json_object_to_json_string(arr));
    }
    cr_expect_null(json_at(r->summary, "anomalies_unlisted"));
}

void expect_anomalies(const struct run *r, const struct want *w, size_t n) {
    bool used[MAX_RECS] = {false};
    size_t records = 0;
    for (size_t i = 0; i < n; i++)
        records += !w[i].folded;
    cr_expect_eq((size_t)r->nanom, records, "%d anomaly records, want %zu; got: %s", r->nanom,
                 records, r->seen);
    for (size_t i = 0; i < n; i++) {
        if (w[i].folded)
            continue;
        int found = -1;
        for (int j = 0; j < r->nanom && found < 0; j++) {
            struct json_object *a = r->anom[j];
            const char *dir = json_str_at(a, "direction");
            if (!used[j] && strcmp(json_str_or(a, "name"), w[i].name) == 0 &&
                json_int_at(a, "frame") == w[i].at.frame &&
                (json_at(a, "folded") != NULL) == (w[i].folded_events > 0) &&
                (w[i].dir ? dir && strcmp(dir, w[i].dir) == 0 : !dir))
                found = j;
        }
        cr_expect(found >= 0, "no %s (%s) record at frame %" PRId64 "; got: %s", w[i].name,
                  w[i].dir ? w[i].dir : "host", w[i].at.frame, r->seen);
        if (found < 0)
            continue;
        used[found] = true;
        check_anomaly_record(r, r->anom[found], &w[i]);
    }
    expect_totals(r, w, n);
    expect_conn_lists(r, w, n);
}

void expect_no_anomalies(const struct run *r) {
    expect_anomalies(r, NULL, 0);
    struct json_object *tot = json_at(r->summary, "anomalies");
    cr_expect(tot && json_object_object_length(tot) == 0, "summary anomalies: %s",
              tot ? json_object_to_json_string(tot) : "(absent)");
}

void expect_not(const struct run *r, const char *name) {
    for (int j = 0; j < r->nanom; j++)
        cr_expect_str_neq(json_str_or(r->anom[j], "name"), name, "%s raised; got: %s", name,
                          r->seen);
    struct json_object *tot = json_at(r->summary, "anomalies");
    cr_expect(!tot || !json_at(tot, name), "summary counts %s", name);
}

/* ---- many connections ---------------------------------------------------------------------- */

void tally_run(struct tally *t, const struct cap *c, const char *const *opts) {
    struct run_result rr = run_json(c->path, opts);
    cr_assert_eq(rr.status, 0, "exit %d; stderr: %s", rr.status, rr.err);
    memset(t, 0, sizeof *t);
    size_t k = 0;
    char *save = NULL;
    for (char *line = strtok_r(rr.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        struct json_object *o = json_parse_record(line);
        cr_assert(o, "not JSON: %s", line);
        const char *type = json_str_or(o, "type");
        if (strcmp(type, "connection") == 0) {
            t->conns++;
            int64_t f = json_int_at(o, "first_frame");
            cr_assert(f > 0 && f < (int64_t)(sizeof t->per_frame / sizeof t->per_frame[0]));
            t->per_frame[f]++;
            struct json_object *v = json_at(o, "handshake.completed");
            t->completed += v && json_object_get_boolean(v);
            v = json_at(o, "one_sided");
            t->one_sided += v && json_object_get_boolean(v);
            t->client_is_orig += strcmp(json_str_or(o, "src_ip"), "10.0.0.1") == 0 &&
                                 json_int_at(o, "src_port") >= 40000 &&
                                 json_int_at(o, "dest_port") == 80;
        } else if (strcmp(type, "anomaly") == 0) {
            if (!json_at(o, "uid") && !t->host_anomaly)
                t->host_anomaly = json_object_get(o);
            const char *sev = json_str_or(o, "severity");
            if (strcmp(sev, "medium") == 0 || strcmp(sev, "high") == 0) {
                t->medium_or_high++;
                int w = snprintf(t->bad + k, sizeof t->bad - k, "%s@%" PRId64 " ",
                                 json_str_or(o, "name"), json_int_at(o, "frame"));
                if (w > 0 && (size_t)w < sizeof t->bad - k)
                    k += (size_t)w;
            }
        } else if (strcmp(type, "summary") == 0) {
            t->summary = json_object_get(o);
        }
        json_object_put(o);
    }
    cr_assert(t->summary, "no summary");
    cr_assert_eq(json_int_at(t->summary, "packets"), c->frames, "every frame read");
    run_result_free(&rr);
}

void tally_free(struct tally *t) {
    json_object_put(t->summary);
    json_object_put(t->host_anomaly);
}
