/* End-to-end tests of the anomaly catalog (issue 4): the real binary on captures scripted with the
 * generator (tests/gen/session.h). For every one of the 25 anomalies, one capture that triggers it
 * and a near-miss twin that must not; then clean traffic (a corpus of healthy connections and
 * every sample capture) that must raise nothing at all. Every expectation is worked out from the
 * packets the test writes, with the reasoning next to it; none is copied from the program's
 * output.
 *
 * Conventions (unless a test says otherwise):
 *  - client 10.0.0.1:<port> (SESSION_CLIENT), server 10.0.0.2:80; Ethernet, pcap with µs
 *    timestamps, 10 ms between frames. Client ISN CISN, server ISN SISN; session.h numbering (a
 *    segment carries seq = the sender's next sequence number, ack = all the peer sent so far).
 *  - Frames are numbered from 1, as the `frame` field of an anomaly record and `first_frame` of
 *    a connection record are. put() counts the frames as they are written and notes each one's
 *    time; the run checks that the summary's packet count equals the frames written.
 *  - Non-SYN segments advertise window 502 with window scale 7 (64256 bytes); SYN and SYN/ACK
 *    advertise 64240, never scaled.
 *  - expect_anomalies() states the complete set of anomalies a run must show: exactly those
 *    anomaly records (name, severity from the catalog, direction, frame, ts, and the uid,
 *    community_id and 5-tuple of the connection record they name), exactly those entries in each
 *    connection record's `anomalies` array (count, direction, first_ts), and exactly those
 *    totals in the summary's `anomalies` object. An empty set is "no anomaly at all".
 *  - Anomalies known only at a connection's end (syn_unanswered, synack_unanswered,
 *    data_unacked, fin_unacked) carry the frame of the connection's last packet and the time of
 *    the connection's end (for a connection still open when the input ends, the capture's last
 *    packet). At the end of the input, what was sent in the last --answer-grace (1 s by default)
 *    is not judged; so triggers of those anomalies end with an unrelated clean connection
 *    (filler()) 5 s later, and other tests whose connections stay open end within that second. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capwrite.h"
#include "pktbuild.h"
#include "run.h"
#include "samples.h"
#include "session.h"

#define T0 INT64_C(1704067200000000000) /* 2024-01-01T00:00:00Z */
#define STEP INT64_C(10000000)          /* 10 ms between frames */
#define SEC INT64_C(1000000000)

#define CISN 0x10000000u
#define SISN 0x20000000u
#define WIN_SCALED (502u << 7) /* the receive window of every non-SYN segment: 64256 bytes */
#define WIN_SYN 64240u         /* the window of SYN and SYN/ACK, unscaled (RFC 7323 §2.2) */

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

struct cap {
    char path[256];
    struct capwrite *w;
    struct session_clock clock;
    int64_t frames; /* frames written so far */
};

/* A frame written: its number (from 1) and its time. */
struct mark {
    int64_t frame;
    int64_t ts;
};

static void cap_open(struct cap *c, const char *name) {
    snprintf(c->path, sizeof c->path, "%s", tmp_path(name));
    c->w = capwrite_open(c->path, CAPWRITE_PCAP_USEC, pb_linktype(PB_LINK_ETHERNET), 65535);
    cr_assert(c->w, "cannot write %s", c->path);
    c->clock.now_ns = (uint64_t)T0;
    c->clock.step_ns = (uint64_t)STEP;
    c->frames = 0;
}

static void cap_close(struct cap *c) {
    cr_assert(capwrite_close(c->w), "writing %s failed", c->path);
}

/* Sets the time of the next frame. */
static void cap_at(struct cap *c, int64_t ns) {
    c->clock.now_ns = (uint64_t)ns;
}

/* Accounts for the one frame a session call just wrote. */
static struct mark put(struct cap *c, bool ok) {
    cr_assert(ok, "a frame could not be built or written");
    c->frames++;
    return (struct mark){c->frames, (int64_t)c->clock.now_ns - (int64_t)c->clock.step_ns};
}

/* A session between IPv4 hosts src:sport (client) and dst:dport (server) on c. */
static void conn_init_hosts(struct session *s, struct cap *c, const uint8_t src[4], uint16_t sport,
                            const uint8_t dst[4], uint16_t dport, uint32_t cisn, uint32_t sisn) {
    struct pb_frame f = pb_tcp4();
    memcpy(f.src, src, 4);
    memcpy(f.dst, dst, 4);
    f.sport = sport;
    f.dport = dport;
    session_init(s, c->w, &c->clock, &f, cisn, sisn);
}

static const uint8_t host_client[4] = {10, 0, 0, 1};
static const uint8_t host_server[4] = {10, 0, 0, 2};
static const uint8_t host_other[4] = {10, 0, 0, 3};

/* The usual pair: 10.0.0.1:sport -> 10.0.0.2:80. */
static void conn_init(struct session *s, struct cap *c, uint16_t sport, uint32_t cisn,
                      uint32_t sisn) {
    conn_init_hosts(s, c, host_client, sport, host_server, 80, cisn, sisn);
}

/* SYN, SYN/ACK, ACK; returns the ACK. */
static struct mark handshake(struct cap *c, struct session *s) {
    put(c, session_syn(s));
    put(c, session_syn_ack(s));
    return put(c, session_ack(s, SESSION_CLIENT));
}

/* FIN|ACK from closer, ACK, FIN|ACK from the peer, ACK; returns the last. */
static struct mark close_from(struct cap *c, struct session *s, enum session_side closer) {
    enum session_side peer = session_peer(closer);
    put(c, session_segment(s, closer, PB_FIN | PB_ACK, 0));
    put(c, session_ack(s, peer));
    put(c, session_segment(s, peer, PB_FIN | PB_ACK, 0));
    return put(c, session_ack(s, closer));
}

struct span {
    struct mark first, last;
};

/* An unrelated, healthy connection 10.0.0.1:sport -> 10.0.0.3:80 starting at `start`: the
 * standard exchange (handshake, 100 bytes up, ACK, 200 bytes down, ACK, client-initiated 4-way
 * close), 11 frames. It moves capture time on without raising anything (the clean corpus
 * checks such exchanges), so a connection left open before it is judged at the end of the input. */
static struct span filler(struct cap *c, uint16_t sport, int64_t start) {
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

#define MAX_RECS 64

struct run {
    struct json_object *conn[MAX_RECS]; /* type "connection", in output order */
    int nconn;
    struct json_object *anom[MAX_RECS]; /* type "anomaly", in output order */
    int nanom;
    struct json_object *summary;
    char seen[4096]; /* the anomaly records as name/direction@frame, for failure messages */
};

/* Runs shakedown -F json -r path with extra options (NULL-terminated, may be NULL); packets is
 * how many frames the file holds (the summary must have read them all). */
static void run_path(struct run *r, const char *path, int64_t packets, const char *const *opts) {
    const char *args[32] = {"-F", "json", "-r", path};
    size_t n = 4;
    for (size_t i = 0; opts && opts[i] && n < 31; i++)
        args[n++] = opts[i];
    args[n] = NULL;
    struct run_result rr = run_shakedown(NULL, args);
    cr_assert_eq(rr.status, 0, "exit %d; stderr: %s", rr.status, rr.err);
    cr_expect_str_empty(rr.err, "a readable capture gives no message: %s", rr.err);
    memset(r, 0, sizeof *r);
    char *save = NULL;
    int lines = 0, summary_line = -1;
    size_t k = 0;
    for (char *line = strtok_r(rr.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        struct json_object *o = json_tokener_parse(line);
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

static void run_cap(struct run *r, const struct cap *c, const char *const *opts) {
    run_path(r, c->path, c->frames, opts);
}

static void run_free(struct run *r) {
    for (int i = 0; i < r->nconn; i++)
        json_object_put(r->conn[i]);
    for (int i = 0; i < r->nanom; i++)
        json_object_put(r->anom[i]);
    json_object_put(r->summary);
}

/* The connection record whose first packet was frame `first`. */
static struct json_object *conn_by_frame(const struct run *r, int64_t first) {
    for (int i = 0; i < r->nconn; i++)
        if (json_int_at(r->conn[i], "first_frame") == first)
            return r->conn[i];
    cr_assert_fail("no connection record starts at frame %" PRId64, first);
    return NULL;
}

/* ---- expectations -------------------------------------------------------------------------- */

static void expect_str(struct json_object *o, const char *path, const char *want) {
    cr_expect_str_eq(json_str_or(o, path), want, "%s is %s, want %s", path, json_str_or(o, path),
                     want);
}

static void expect_int(struct json_object *o, const char *path, int64_t want) {
    int64_t got = json_int_at(o, path);
    cr_expect_eq(got, want, "%s is %" PRId64 ", want %" PRId64, path, got, want);
}

/* Timestamps and durations are written with µs: compare the JSON text. */
static void expect_time(struct json_object *o, const char *key, int64_t ns) {
    char want[40];
    snprintf(want, sizeof want, "%" PRId64 ".%06" PRId64, ns / SEC, ns % SEC / 1000);
    struct json_object *v = json_at(o, key);
    const char *got = v ? json_object_to_json_string(v) : "(absent)";
    cr_expect_str_eq(got, want, "%s is %s, want %s", key, got, want);
}

/* One anomaly a run must show. */
struct want {
    const char *name;
    const char *dir;   /* "orig" or "resp"; NULL for a host-level anomaly */
    struct mark at;    /* the frame and time its record carries */
    int64_t conn;      /* first_frame of the connection record it names (0: host-level) */
    int64_t count;     /* occurrences in the run (0 means 1) */
    bool after_record; /* shown by a late packet after its connection's record was written, so
                          absent from that record's anomalies array */
    const char *host;  /* host-level: dest_ip of a syn_flood, src_ip of a port_scan */
    int64_t host_count;
    int64_t window_s;
};

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
            if (strcmp(w[i].name, key) == 0)
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

/* The run shows exactly the n anomalies w (see the conventions at the top). */
static void expect_anomalies(const struct run *r, const struct want *w, size_t n) {
    bool used[MAX_RECS] = {false};
    cr_expect_eq((size_t)r->nanom, n, "%d anomaly records, want %zu; got: %s", r->nanom, n,
                 r->seen);
    for (size_t i = 0; i < n; i++) {
        int found = -1;
        for (int j = 0; j < r->nanom && found < 0; j++) {
            struct json_object *a = r->anom[j];
            const char *dir = json_str_at(a, "direction");
            if (!used[j] && strcmp(json_str_or(a, "name"), w[i].name) == 0 &&
                json_int_at(a, "frame") == w[i].at.frame &&
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

/* No anomaly at all: no record, empty lists, an empty summary object. */
static void expect_no_anomalies(const struct run *r) {
    expect_anomalies(r, NULL, 0);
    struct json_object *tot = json_at(r->summary, "anomalies");
    cr_expect(tot && json_object_object_length(tot) == 0, "summary anomalies: %s",
              tot ? json_object_to_json_string(tot) : "(absent)");
}

/* The near miss's point, stated on its own: nothing named `name` anywhere. */
static void expect_not(const struct run *r, const char *name) {
    for (int j = 0; j < r->nanom; j++)
        cr_expect_str_neq(json_str_or(r->anom[j], "name"), name, "%s raised; got: %s", name,
                          r->seen);
    struct json_object *tot = json_at(r->summary, "anomalies");
    cr_expect(!tot || !json_at(tot, name), "summary counts %s", name);
}

/* ==== handshake =============================================================================== */

/* 1 SYN 10.0.0.1:51000 -> :80 at T0, nothing back; 5 s later the filler (frames 2..12). The
 * connection is still open at the end of the input (30 s handshake timeout not reached); its SYN
 * is 5 s older than the last packet, past the 1 s answer grace, so it is judged: neither SYN/ACK
 * nor RST came → syn_unanswered, originator, frame 1 (the connection's last packet), at the
 * time of the last packet of the capture. */
Test(syn_unanswered, trigger_lone_syn_at_capture_end) {
    struct cap c;
    struct session s;
    cap_open(&c, "syn-unanswered.pcap");
    conn_init(&s, &c, 51000, CISN, SISN);
    struct mark syn = put(&c, session_syn(&s));
    struct span f = filler(&c, 51001, syn.ts + 5 * SEC);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {
        {.name = "syn_unanswered", .dir = "orig", .at = {syn.frame, f.last.ts}, .conn = 1}};
    expect_anomalies(&r, w, 1);
    expect_str(conn_by_frame(&r, 1), "close.how", "capture_end");
    run_free(&r);
}

/* The same lone SYN, but the filler starts 31 s later: at its first packet the handshake
 * timeout (30 s) expires the SYN's connection, which is judged then (a timeout is not the end of
 * the input: no grace) → syn_unanswered at frame 1 with the time of frame 2, the packet whose
 * arrival expired it. */
Test(syn_unanswered, trigger_lone_syn_handshake_timeout) {
    struct cap c;
    struct session s;
    cap_open(&c, "syn-unanswered-timeout.pcap");
    conn_init(&s, &c, 51002, CISN, SISN);
    struct mark syn = put(&c, session_syn(&s));
    struct span f = filler(&c, 51003, syn.ts + 31 * SEC);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {
        {.name = "syn_unanswered", .dir = "orig", .at = {syn.frame, f.first.ts}, .conn = 1}};
    expect_anomalies(&r, w, 1);
    expect_str(conn_by_frame(&r, 1), "close.how", "timeout");
    run_free(&r);
}

/* Near miss: 1 SYN, 2 RST|ACK from the server (ack = CISN + 1: the refusal of a closed port),
 * filler 5 s later. The SYN was answered — by a RST — so no syn_unanswered (Zeek REJ), and a
 * single refused port is no port scan: nothing at all. */
Test(syn_unanswered, near_miss_syn_answered_by_rst) {
    struct cap c;
    struct session s;
    cap_open(&c, "syn-rst.pcap");
    conn_init(&s, &c, 51004, CISN, SISN);
    struct mark syn = put(&c, session_syn(&s));
    put(&c, session_rst(&s, SESSION_SERVER));
    filler(&c, 51005, syn.ts + 5 * SEC);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_not(&r, "syn_unanswered");
    expect_no_anomalies(&r);
    expect_str(conn_by_frame(&r, 1), "conn_state", "REJ");
    run_free(&r);
}

/* Near miss: the lone SYN at T0, then a filler that ends 0.9 s later (it starts at T0 + 0.8 s):
 * at the end of the input the SYN is within the 1 s answer grace — its answer may simply not
 * have been captured — so it is not judged. */
Test(syn_unanswered, near_miss_syn_within_answer_grace) {
    struct cap c;
    struct session s;
    cap_open(&c, "syn-grace.pcap");
    conn_init(&s, &c, 51006, CISN, SISN);
    struct mark syn = put(&c, session_syn(&s));
    struct span f = filler(&c, 51007, syn.ts + 800 * (SEC / 1000));
    cr_assert_lt(f.last.ts - syn.ts, SEC);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_no_anomalies(&r);
    run_free(&r);
}

/* 1 SYN, 2 SYN/ACK, then the client never acknowledges it; filler 5 s later. The responder sits
 * in SYN_RECEIVED: synack_unanswered, responder, frame 2, at the end. The SYN itself was
 * answered (no syn_unanswered). */
Test(synack_unanswered, trigger_synack_never_acknowledged) {
    struct cap c;
    struct session s;
    cap_open(&c, "synack-unanswered.pcap");
    conn_init(&s, &c, 51010, CISN, SISN);
    put(&c, session_syn(&s));
    struct mark sa = put(&c, session_syn_ack(&s));
    struct span f = filler(&c, 51011, sa.ts + 5 * SEC);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {
        {.name = "synack_unanswered", .dir = "resp", .at = {sa.frame, f.last.ts}, .conn = 1}};
    expect_anomalies(&r, w, 1);
    run_free(&r);
}

/* Near miss: 1 SYN, 2 SYN/ACK, the client's handshake ACK is lost from the capture, but 3 the
 * client's first data (ack = SISN + 1) acknowledges the SYN/ACK; 4 the server ACKs the data;
 * filler 5 s later. The SYN/ACK was acknowledged and the data too: nothing. */
Test(synack_unanswered, near_miss_synack_acknowledged_by_data) {
    struct cap c;
    struct session s;
    cap_open(&c, "synack-acked-by-data.pcap");
    conn_init(&s, &c, 51012, CISN, SISN);
    put(&c, session_syn(&s));
    put(&c, session_syn_ack(&s));
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    struct mark ack = put(&c, session_ack(&s, SESSION_SERVER));
    filler(&c, 51013, ack.ts + 5 * SEC);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_not(&r, "synack_unanswered");
    expect_no_anomalies(&r);
    run_free(&r);
}

/* 1 SYN (ISN CISN), 2 SYN/ACK acknowledging CISN + 1000 — not ISN + 1 — and 3 the client's RST
 * with seq = that ack (RFC 9293 §3.10.7.3: an unacceptable ACK in SYN-SENT is answered
 * <SEQ=SEG.ACK><CTL=RST>). synack_bad_ack, responder, frame 2. The RST falls in the window the
 * server offered from CISN + 1000 (its last ack) and closes the connection; nothing else. */
Test(synack_bad_ack, trigger_synack_acks_wrong_number) {
    struct cap c;
    struct session s;
    cap_open(&c, "synack-bad-ack.pcap");
    conn_init(&s, &c, 51020, CISN, SISN);
    put(&c, session_syn(&s));
    struct mark sa =
        put(&c, session_write_segment(&s, SESSION_SERVER, PB_SYN | PB_ACK, SISN, CISN + 1000, 0));
    put(&c, session_write_segment(&s, SESSION_CLIENT, PB_RST, CISN + 1000, 0, 0));
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {{.name = "synack_bad_ack", .dir = "resp", .at = sa, .conn = 1}};
    expect_anomalies(&r, w, 1);
    expect_str(conn_by_frame(&r, 1), "close.how", "rst");
    run_free(&r);
}

/* Near miss (TCP Fast Open, RFC 7413): 1 SYN carrying 20 bytes, 2 SYN/ACK acknowledging them
 * (ack = CISN + 21), 3 ACK, 4 server 100 bytes, 5 client ACK, 6..9 client-initiated close. The
 * SYN/ACK acknowledges exactly what the SYN sent: not a bad ack; nothing at all. */
Test(synack_bad_ack, near_miss_tfo_syn_data_acknowledged) {
    struct cap c;
    struct session s;
    cap_open(&c, "tfo.pcap");
    conn_init(&s, &c, 51021, CISN, SISN);
    put(&c, session_segment(&s, SESSION_CLIENT, PB_SYN, 20));
    put(&c, session_syn_ack(&s));
    cr_assert_eq(s.snd_nxt[SESSION_CLIENT], CISN + 21);
    put(&c, session_ack(&s, SESSION_CLIENT));
    put(&c, session_data(&s, SESSION_SERVER, 100));
    put(&c, session_ack(&s, SESSION_CLIENT));
    close_from(&c, &s, SESSION_CLIENT);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_not(&r, "synack_bad_ack");
    expect_no_anomalies(&r);
    expect_int(conn_by_frame(&r, 1), "orig.payload_bytes", 20);
    run_free(&r);
}

/* 1 SYN, 2 SYN/ACK, 3 the client's ACK acknowledging SISN + 1000 (not the SYN/ACK's ISN + 1),
 * 4 the server's RST with seq = that ack (RFC 9293: an unacceptable ACK in SYN-RECEIVED is
 * answered <SEQ=SEG.ACK><CTL=RST>). handshake_bad_ack, originator, frame 3; the RST lies at the
 * client's last ack, in its window, and closes the connection. */
Test(handshake_bad_ack, trigger_ack_of_wrong_number) {
    struct cap c;
    struct session s;
    cap_open(&c, "handshake-bad-ack.pcap");
    conn_init(&s, &c, 51030, CISN, SISN);
    put(&c, session_syn(&s));
    put(&c, session_syn_ack(&s));
    struct mark ack =
        put(&c, session_write_segment(&s, SESSION_CLIENT, PB_ACK, CISN + 1, SISN + 1000, 0));
    put(&c, session_write_segment(&s, SESSION_SERVER, PB_RST, SISN + 1000, 0, 0));
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {{.name = "handshake_bad_ack", .dir = "orig", .at = ack, .conn = 1}};
    expect_anomalies(&r, w, 1);
    expect_str(conn_by_frame(&r, 1), "close.how", "rst");
    run_free(&r);
}

/* Near miss: 1 SYN, 2 SYN/ACK carrying 5 bytes (server data in the SYN/ACK), 3 the client's ACK
 * acknowledging them too (SISN + 6: past the ISN, not beyond what was sent), 4 client 100 bytes,
 * 5 ACK, 6..9 client-initiated close. A correct handshake ACK: nothing at all. */
Test(handshake_bad_ack, near_miss_ack_covers_synack_data) {
    struct cap c;
    struct session s;
    cap_open(&c, "synack-data.pcap");
    conn_init(&s, &c, 51031, CISN, SISN);
    put(&c, session_syn(&s));
    put(&c, session_segment(&s, SESSION_SERVER, PB_SYN | PB_ACK, 5));
    put(&c, session_ack(&s, SESSION_CLIENT));
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_ack(&s, SESSION_SERVER));
    close_from(&c, &s, SESSION_CLIENT);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_not(&r, "handshake_bad_ack");
    expect_no_anomalies(&r);
    run_free(&r);
}

/* 1 SYN with ISN CISN; 1 s later 2 a SYN with a new ISN (CISN2) on the same ports (the client
 * gave up the first attempt); 3 SYN/ACK acknowledging CISN2 + 1, 4 ACK, 5 data, 6 ACK, 7..10
 * close. syn_isn_changed, originator, frame 2; the handshake then completes on the new ISN. */
Test(syn_isn_changed, trigger_new_isn_before_handshake) {
    struct cap c;
    struct session s;
    const uint32_t cisn2 = 0x18000000u;
    cap_open(&c, "isn-changed.pcap");
    conn_init(&s, &c, 51040, CISN, SISN);
    struct mark syn = put(&c, session_syn(&s));
    cap_at(&c, syn.ts + SEC);
    s.snd_nxt[SESSION_CLIENT] = cisn2;
    struct mark syn2 = put(&c, session_syn(&s));
    put(&c, session_syn_ack(&s));
    put(&c, session_ack(&s, SESSION_CLIENT));
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_ack(&s, SESSION_SERVER));
    close_from(&c, &s, SESSION_CLIENT);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {{.name = "syn_isn_changed", .dir = "orig", .at = syn2, .conn = 1}};
    expect_anomalies(&r, w, 1);
    expect_str(conn_by_frame(&r, 1), "close.how", "fin");
    run_free(&r);
}

/* Near miss: the same, but 2 repeats the SYN with the same ISN (the client's SYN retransmission
 * timer): a retransmission (originator, frame 2), not syn_isn_changed. */
Test(syn_isn_changed, near_miss_syn_retransmitted_same_isn) {
    struct cap c;
    struct session s;
    cap_open(&c, "syn-retx.pcap");
    conn_init(&s, &c, 51041, CISN, SISN);
    struct mark syn = put(&c, session_syn(&s));
    cap_at(&c, syn.ts + SEC);
    struct mark syn2 = put(&c, session_write_segment(&s, SESSION_CLIENT, PB_SYN, CISN, 0, 0));
    put(&c, session_syn_ack(&s));
    put(&c, session_ack(&s, SESSION_CLIENT));
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_ack(&s, SESSION_SERVER));
    close_from(&c, &s, SESSION_CLIENT);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_not(&r, "syn_isn_changed");
    struct want w[] = {{.name = "retransmission", .dir = "orig", .at = syn2, .conn = 1}};
    expect_anomalies(&r, w, 1);
    run_free(&r);
}

/* 1..3 handshake, 4 client 100 bytes, 5 ACK; 6 a SYN from the client with a new ISN inside the
 * established connection (a rebooted client reusing its port); 7 the server's challenge ACK
 * (RFC 5961 §4: ack = CISN + 101), 8 the new client's RST at seq = that ack — exactly the
 * server's next expected byte, so acceptable: the connection ends by RST. syn_on_established,
 * originator, frame 6. */
Test(syn_on_established, trigger_new_syn_in_established_connection) {
    struct cap c;
    struct session s;
    cap_open(&c, "syn-on-established.pcap");
    conn_init(&s, &c, 51050, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_ack(&s, SESSION_SERVER));
    struct mark syn =
        put(&c, session_write_segment(&s, SESSION_CLIENT, PB_SYN, CISN + 0x01000000u, 0, 0));
    put(&c, session_ack(&s, SESSION_SERVER));
    put(&c, session_write_segment(&s, SESSION_CLIENT, PB_RST, CISN + 101, 0, 0));
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {{.name = "syn_on_established", .dir = "orig", .at = syn, .conn = 1}};
    expect_anomalies(&r, w, 1);
    expect_str(conn_by_frame(&r, 1), "close.how", "rst");
    run_free(&r);
}

/* Near miss: 1..3 handshake, 4 the server's SYN/ACK again with the same ISN (it did not see the
 * handshake ACK yet), 5 the client's ACK again, 6 data, 7 ACK, 8..11 close. A SYN/ACK resent
 * with its ISN is a retransmission (responder, frame 4), not a SYN on an established
 * connection. */
Test(syn_on_established, near_miss_synack_retransmitted_same_isn) {
    struct cap c;
    struct session s;
    cap_open(&c, "synack-retx.pcap");
    conn_init(&s, &c, 51051, CISN, SISN);
    handshake(&c, &s);
    struct mark sa =
        put(&c, session_write_segment(&s, SESSION_SERVER, PB_SYN | PB_ACK, SISN, CISN + 1, 0));
    put(&c, session_ack(&s, SESSION_CLIENT));
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_ack(&s, SESSION_SERVER));
    close_from(&c, &s, SESSION_CLIENT);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_not(&r, "syn_on_established");
    struct want w[] = {{.name = "retransmission", .dir = "resp", .at = sa, .conn = 1}};
    expect_anomalies(&r, w, 1);
    run_free(&r);
}

/* RFC 9293 §3.5 figure 8: 1 client SYN (CISN), 2 server SYN (SISN) crossing it, 3 client
 * SYN/ACK (seq CISN, ack SISN + 1), 4 server SYN/ACK (seq SISN, ack CISN + 1): each side's
 * SYN,ACK is the SYN-RECEIVED answer the RFC prescribes (not a retransmission: it is how a
 * simultaneous open proceeds). Then 5 client 100 bytes, 6 ACK, 7..10 client-initiated close.
 * simultaneous_open, responder (its SYN crossed the client's), frame 2; nothing else. */
Test(simultaneous_open, trigger_crossing_syns) {
    struct cap c;
    struct session s;
    cap_open(&c, "simultaneous-open.pcap");
    conn_init(&s, &c, 51060, CISN, SISN);
    put(&c, session_syn(&s));
    struct mark ssyn = put(&c, session_write_segment(&s, SESSION_SERVER, PB_SYN, SISN, 0, 0));
    s.snd_nxt[SESSION_SERVER] = SISN + 1;
    put(&c, session_write_segment(&s, SESSION_CLIENT, PB_SYN | PB_ACK, CISN, SISN + 1, 0));
    put(&c, session_write_segment(&s, SESSION_SERVER, PB_SYN | PB_ACK, SISN, CISN + 1, 0));
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_ack(&s, SESSION_SERVER));
    close_from(&c, &s, SESSION_CLIENT);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {{.name = "simultaneous_open", .dir = "resp", .at = ssyn, .conn = 1}};
    expect_anomalies(&r, w, 1);
    run_free(&r);
}

/* Near miss: the capture shows the server's SYN/ACK (frame 1) before the client's SYN (frame 2)
 * it answers — reordered, not crossing SYNs — then 3 ACK, 4 data, 5 ACK, 6..9 close. Only one
 * side sent a bare SYN: no simultaneous open, and the late SYN is the handshake's first packet
 * (no retransmission): nothing at all. */
Test(simultaneous_open, near_miss_reordered_handshake) {
    struct cap c;
    struct session s;
    cap_open(&c, "reordered.pcap");
    conn_init(&s, &c, 51061, CISN, SISN);
    put(&c, session_write_segment(&s, SESSION_SERVER, PB_SYN | PB_ACK, SISN, CISN + 1, 0));
    s.snd_nxt[SESSION_SERVER] = SISN + 1;
    put(&c, session_syn(&s));
    put(&c, session_ack(&s, SESSION_CLIENT));
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_ack(&s, SESSION_SERVER));
    close_from(&c, &s, SESSION_CLIENT);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_not(&r, "simultaneous_open");
    expect_no_anomalies(&r);
    run_free(&r);
}

/* ==== flags =================================================================================== */

/* 1..3 handshake, 4 data, 5 ACK, 6 a segment from the client with no flag at all (a NULL-scan
 * probe), 7..10 client-initiated close. invalid_flags, originator, frame 6. */
Test(invalid_flags, trigger_null_flags_segment) {
    struct cap c;
    struct session s;
    cap_open(&c, "null-flags.pcap");
    conn_init(&s, &c, 51070, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_ack(&s, SESSION_SERVER));
    struct mark null =
        put(&c, session_write_segment(&s, SESSION_CLIENT, 0, s.snd_nxt[SESSION_CLIENT], 0, 0));
    close_from(&c, &s, SESSION_CLIENT);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {{.name = "invalid_flags", .dir = "orig", .at = null, .conn = 1}};
    expect_anomalies(&r, w, 1);
    run_free(&r);
}

/* A lone SYN+FIN (the classic scanner's combination) as the last packet of the input:
 * invalid_flags, originator, frame 1. (Its SYN is within the answer grace: not judged.) */
Test(invalid_flags, trigger_syn_fin) {
    struct cap c;
    struct session s;
    cap_open(&c, "syn-fin.pcap");
    conn_init(&s, &c, 51071, CISN, SISN);
    struct mark sf = put(&c, session_segment(&s, SESSION_CLIENT, PB_SYN | PB_FIN, 0));
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {{.name = "invalid_flags", .dir = "orig", .at = sf, .conn = 1}};
    expect_anomalies(&r, w, 1);
    run_free(&r);
}

/* Near miss: flags a stack does send, with PSH, ECE, CWR and URG about: 1 SYN|ECE|CWR (ECN
 * setup), 2 SYN|ACK|ECE, 3 ACK, 4 PSH|ACK 100 bytes, 5 ACK|ECE (congestion echo), 6 PSH|ACK|CWR
 * 100 bytes, 7 ACK, 8 URG|PSH|ACK 10 bytes, 9 ACK, 10..13 close. All on the whitelist:
 * nothing. */
Test(invalid_flags, near_miss_ecn_and_urgent) {
    struct cap c;
    struct session s;
    cap_open(&c, "ecn.pcap");
    conn_init(&s, &c, 51072, CISN, SISN);
    put(&c, session_segment(&s, SESSION_CLIENT, PB_SYN | PB_ECE | PB_CWR, 0));
    put(&c, session_segment(&s, SESSION_SERVER, PB_SYN | PB_ACK | PB_ECE, 0));
    put(&c, session_ack(&s, SESSION_CLIENT));
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_segment(&s, SESSION_SERVER, PB_ACK | PB_ECE, 0));
    put(&c, session_segment(&s, SESSION_CLIENT, PB_PSH | PB_ACK | PB_CWR, 100));
    put(&c, session_ack(&s, SESSION_SERVER));
    put(&c, session_segment(&s, SESSION_CLIENT, PB_URG | PB_PSH | PB_ACK, 10));
    put(&c, session_ack(&s, SESSION_SERVER));
    close_from(&c, &s, SESSION_CLIENT);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_not(&r, "invalid_flags");
    expect_no_anomalies(&r);
    run_free(&r);
}

/* ==== acknowledgement at the end ============================================================== */

/* 1..3 handshake, 4 client 100 bytes, never acknowledged (the server has acknowledged before: it
 * is known to ACK); filler 5 s later. At the end of the input the data is 5 s old, past the
 * grace: data_unacked, originator, frame 4. */
Test(data_unacked, trigger_data_never_acknowledged) {
    struct cap c;
    struct session s;
    cap_open(&c, "data-unacked.pcap");
    conn_init(&s, &c, 51080, CISN, SISN);
    handshake(&c, &s);
    struct mark d = put(&c, session_data(&s, SESSION_CLIENT, 100));
    struct span f = filler(&c, 51081, d.ts + 5 * SEC);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {
        {.name = "data_unacked", .dir = "orig", .at = {d.frame, f.last.ts}, .conn = 1}};
    expect_anomalies(&r, w, 1);
    run_free(&r);
}

/* Near miss: the same with 5 the server's ACK of the 100 bytes: nothing. */
Test(data_unacked, near_miss_data_acknowledged) {
    struct cap c;
    struct session s;
    cap_open(&c, "data-acked.pcap");
    conn_init(&s, &c, 51082, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    struct mark a = put(&c, session_ack(&s, SESSION_SERVER));
    filler(&c, 51083, a.ts + 5 * SEC);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_no_anomalies(&r);
    run_free(&r);
}

/* 1..3 handshake, 4 client 100 bytes never acknowledged, and a filler whose last packet is 2 s
 * after the data: the input ends 2 s after it. */
static const struct cap *write_data_then_quiet(void) {
    static struct cap c;
    struct session s;
    cap_open(&c, "data-quiet.pcap");
    conn_init(&s, &c, 51084, CISN, SISN);
    handshake(&c, &s);
    struct mark d = put(&c, session_data(&s, SESSION_CLIENT, 100));
    struct span f = filler(&c, 51085, d.ts + 2 * SEC - 10 * STEP);
    cr_assert_eq(f.last.ts, d.ts + 2 * SEC);
    cap_close(&c);
    return &c;
}

/* With --answer-grace 1 the data (2 s before the end) is judged: data_unacked at frame 4. */
Test(data_unacked, trigger_beyond_answer_grace) {
    const struct cap *c = write_data_then_quiet();
    const char *opts[] = {"--answer-grace", "1", NULL};
    struct run r;
    run_cap(&r, c, opts);
    struct want w[] = {
        {.name = "data_unacked", .dir = "orig", .at = {4, T0 + 3 * STEP + 2 * SEC}, .conn = 1}};
    expect_anomalies(&r, w, 1);
    run_free(&r);
}

/* Near miss: the very same capture with --answer-grace 3: the data is within the last 3 s of
 * the input, its ACK may just not have been captured: not judged, nothing. */
Test(data_unacked, near_miss_within_answer_grace) {
    const struct cap *c = write_data_then_quiet();
    const char *opts[] = {"--answer-grace", "3", NULL};
    struct run r;
    run_cap(&r, c, opts);
    expect_not(&r, "data_unacked");
    expect_no_anomalies(&r);
    run_free(&r);
}

/* Near miss: a one-sided capture (only the client's packets: asymmetric routing): 1 SYN, 2 ACK
 * of the SYN/ACK the capture never saw (ack = SISN + 1), 3 and 4 100 bytes each; filler 5 s
 * later. The server is never seen acknowledging anything, so its silence means nothing: no
 * data_unacked; and the client's ACK shows its SYN was answered: no syn_unanswered. */
Test(data_unacked, near_miss_one_sided_capture) {
    struct cap c;
    struct session s;
    cap_open(&c, "one-sided.pcap");
    conn_init(&s, &c, 51086, CISN, SISN);
    put(&c, session_syn(&s));
    s.snd_nxt[SESSION_SERVER] = SISN + 1; /* the unseen SYN/ACK */
    put(&c, session_ack(&s, SESSION_CLIENT));
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    struct mark d = put(&c, session_data(&s, SESSION_CLIENT, 100));
    filler(&c, 51087, d.ts + 5 * SEC);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_not(&r, "data_unacked");
    expect_no_anomalies(&r);
    run_free(&r);
}

/* 1..3 handshake, 4 data, 5 ACK, 6 the client's FIN|ACK, never acknowledged; filler 5 s later.
 * fin_unacked, originator, frame 6 (the data was acknowledged: no data_unacked). */
Test(fin_unacked, trigger_fin_never_acknowledged) {
    struct cap c;
    struct session s;
    cap_open(&c, "fin-unacked.pcap");
    conn_init(&s, &c, 51090, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_ack(&s, SESSION_SERVER));
    struct mark fin = put(&c, session_segment(&s, SESSION_CLIENT, PB_FIN | PB_ACK, 0));
    struct span f = filler(&c, 51091, fin.ts + 5 * SEC);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {
        {.name = "fin_unacked", .dir = "orig", .at = {fin.frame, f.last.ts}, .conn = 1}};
    expect_anomalies(&r, w, 1);
    run_free(&r);
}

/* Near miss: the same with 7 the server's ACK of the FIN (ack = FIN seq + 1); the server never
 * closes its own half (half-closed at the end, not an anomaly): nothing. */
Test(fin_unacked, near_miss_fin_acknowledged) {
    struct cap c;
    struct session s;
    cap_open(&c, "fin-acked.pcap");
    conn_init(&s, &c, 51092, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_ack(&s, SESSION_SERVER));
    put(&c, session_segment(&s, SESSION_CLIENT, PB_FIN | PB_ACK, 0));
    struct mark a = put(&c, session_ack(&s, SESSION_SERVER));
    filler(&c, 51093, a.ts + 5 * SEC);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_not(&r, "fin_unacked");
    expect_no_anomalies(&r);
    run_free(&r);
}

/* ==== after FIN =============================================================================== */

/* 1..3 handshake, 4 the client's FIN|ACK (seq CISN + 1), 5 then 10 bytes at CISN + 2 — past its
 * own FIN, sequence space that cannot exist; 6 the server ACKs it all (CISN + 12), 7 server
 * FIN|ACK, 8 client ACK. data_after_fin, originator, frame 5. */
Test(data_after_fin, trigger_data_past_own_fin) {
    struct cap c;
    struct session s;
    cap_open(&c, "data-after-fin.pcap");
    conn_init(&s, &c, 51100, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_segment(&s, SESSION_CLIENT, PB_FIN | PB_ACK, 0));
    struct mark d = put(&c, session_data(&s, SESSION_CLIENT, 10));
    cr_assert_eq(s.snd_nxt[SESSION_CLIENT], CISN + 12);
    put(&c, session_ack(&s, SESSION_SERVER));
    put(&c, session_segment(&s, SESSION_SERVER, PB_FIN | PB_ACK, 0));
    put(&c, session_ack(&s, SESSION_CLIENT));
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {{.name = "data_after_fin", .dir = "orig", .at = d, .conn = 1}};
    expect_anomalies(&r, w, 1);
    run_free(&r);
}

/* 1..3 handshake, 4 data, 5 ACK, 6 client FIN|ACK, 7 the same FIN again (same seq and ack),
 * 8 server ACK, 9 server FIN|ACK, 10 client ACK. */
static const struct cap *write_fin_retransmitted(void) {
    static struct cap c;
    struct session s;
    cap_open(&c, "fin-retx.pcap");
    conn_init(&s, &c, 51101, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_ack(&s, SESSION_SERVER));
    uint32_t fseq = s.snd_nxt[SESSION_CLIENT], ack = s.snd_nxt[SESSION_SERVER];
    put(&c, session_segment(&s, SESSION_CLIENT, PB_FIN | PB_ACK, 0));
    put(&c, session_write_segment(&s, SESSION_CLIENT, PB_FIN | PB_ACK, fseq, ack, 0));
    put(&c, session_ack(&s, SESSION_SERVER));
    put(&c, session_segment(&s, SESSION_SERVER, PB_FIN | PB_ACK, 0));
    put(&c, session_ack(&s, SESSION_CLIENT));
    cap_close(&c);
    return &c;
}

/* Near miss: a FIN sent again at the same position is a retransmission (originator, frame 7),
 * not data after the FIN. */
Test(data_after_fin, near_miss_fin_retransmitted) {
    const struct cap *c = write_fin_retransmitted();
    struct run r;
    run_cap(&r, c, NULL);
    expect_not(&r, "data_after_fin");
    struct want w[] = {
        {.name = "retransmission", .dir = "orig", .at = {7, T0 + 6 * STEP}, .conn = 1}};
    expect_anomalies(&r, w, 1);
    run_free(&r);
}

/* Near miss: 1..3 handshake, 4 client bytes 1..100, 5 client FIN|ACK (seq CISN + 101), 6 bytes
 * 1..100 again (the retransmission timer fired: no ACK came). The bytes were seen before the FIN:
 * this copy was sent again, not delayed on the path — a retransmission (originator, frame 6) and
 * not late_segment_after_fin, which is for bytes first seen after the FIN. 7 the server ACKs
 * everything, 8 server FIN|ACK, 9 client ACK. */
Test(late_segment_after_fin, near_miss_data_resent_after_fin) {
    struct cap c;
    struct session s;
    cap_open(&c, "late-after-fin.pcap");
    conn_init(&s, &c, 51110, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_segment(&s, SESSION_CLIENT, PB_FIN | PB_ACK, 0));
    struct mark late = put(
        &c, session_write_segment(&s, SESSION_CLIENT, PB_PSH | PB_ACK, CISN + 1, SISN + 1, 100));
    put(&c, session_ack(&s, SESSION_SERVER));
    put(&c, session_segment(&s, SESSION_SERVER, PB_FIN | PB_ACK, 0));
    put(&c, session_ack(&s, SESSION_CLIENT));
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_not(&r, "late_segment_after_fin");
    struct want w[] = {{.name = "retransmission", .dir = "orig", .at = late, .conn = 1}};
    expect_anomalies(&r, w, 1);
    run_free(&r);
}

/* The FIN overtook the data in the capture: 1..3 handshake, 4 client FIN|ACK at CISN + 101 —
 * bytes 1..100 not seen yet: segment_not_captured (frame 4) — 5 bytes 1..100 arrive: from before
 * the FIN (late_segment_after_fin) and filling the gap (out_of_order), both frame 5, not a
 * retransmission (never seen before). 6 server ACK, 7 server FIN|ACK, 8 client ACK. */
Test(late_segment_after_fin, trigger_data_reordered_behind_fin) {
    struct cap c;
    struct session s;
    cap_open(&c, "late-reordered.pcap");
    conn_init(&s, &c, 51111, CISN, SISN);
    handshake(&c, &s);
    struct mark fin = put(
        &c, session_write_segment(&s, SESSION_CLIENT, PB_FIN | PB_ACK, CISN + 101, SISN + 1, 0));
    struct mark late = put(
        &c, session_write_segment(&s, SESSION_CLIENT, PB_PSH | PB_ACK, CISN + 1, SISN + 1, 100));
    s.snd_nxt[SESSION_CLIENT] = CISN + 102;
    put(&c, session_ack(&s, SESSION_SERVER));
    put(&c, session_segment(&s, SESSION_SERVER, PB_FIN | PB_ACK, 0));
    put(&c, session_ack(&s, SESSION_CLIENT));
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {
        {.name = "segment_not_captured", .dir = "orig", .at = fin, .conn = 1},
        {.name = "late_segment_after_fin", .dir = "orig", .at = late, .conn = 1},
        {.name = "out_of_order", .dir = "orig", .at = late, .conn = 1},
    };
    expect_anomalies(&r, w, 3);
    run_free(&r);
}

/* Near miss: the same packets as the first trigger with the retransmission before the FIN
 * (4 data, 5 data again, 6 FIN, 7..9): a retransmission (frame 5), nothing late. */
Test(late_segment_after_fin, near_miss_retransmission_before_fin) {
    struct cap c;
    struct session s;
    cap_open(&c, "retx-before-fin.pcap");
    conn_init(&s, &c, 51112, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    struct mark re = put(
        &c, session_write_segment(&s, SESSION_CLIENT, PB_PSH | PB_ACK, CISN + 1, SISN + 1, 100));
    put(&c, session_segment(&s, SESSION_CLIENT, PB_FIN | PB_ACK, 0));
    put(&c, session_ack(&s, SESSION_SERVER));
    put(&c, session_segment(&s, SESSION_SERVER, PB_FIN | PB_ACK, 0));
    put(&c, session_ack(&s, SESSION_CLIENT));
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_not(&r, "late_segment_after_fin");
    struct want w[] = {{.name = "retransmission", .dir = "orig", .at = re, .conn = 1}};
    expect_anomalies(&r, w, 1);
    run_free(&r);
}

/* ==== after the close ========================================================================= */

/* The standard exchange on 51120 (1 SYN … 10 server FIN|ACK, 11 client ACK: closed by FIN at
 * frame 11), then 12 a late copy `delay` after the close: the server's FIN|ACK of frame 10 again,
 * or (data) its 200 bytes of frame 6 again. Run with --time-wait 10. Returns the late copy's mark
 * through *late. */
static const struct cap *write_late_copy(const char *name, int64_t delay, bool data,
                                         struct mark *late) {
    static struct cap c;
    struct session s;
    cap_open(&c, name);
    conn_init(&s, &c, 51120, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_ack(&s, SESSION_SERVER));
    uint32_t sd = s.snd_nxt[SESSION_SERVER], dack = s.snd_nxt[SESSION_CLIENT];
    put(&c, session_data(&s, SESSION_SERVER, 200));
    put(&c, session_ack(&s, SESSION_CLIENT));
    put(&c, session_segment(&s, SESSION_CLIENT, PB_FIN | PB_ACK, 0));
    put(&c, session_ack(&s, SESSION_SERVER));
    uint32_t sf = s.snd_nxt[SESSION_SERVER], ack = s.snd_nxt[SESSION_CLIENT];
    put(&c, session_segment(&s, SESSION_SERVER, PB_FIN | PB_ACK, 0));
    struct mark close = put(&c, session_ack(&s, SESSION_CLIENT));
    cap_at(&c, close.ts + delay);
    *late = data
                ? put(&c, session_write_segment(&s, SESSION_SERVER, PB_PSH | PB_ACK, sd, dack, 200))
                : put(&c, session_write_segment(&s, SESSION_SERVER, PB_FIN | PB_ACK, sf, ack, 0));
    cap_close(&c);
    return &c;
}

static const char *const opt_tw10[] = {"--time-wait", "10", NULL};

/* Near miss: the server's FIN|ACK again 1 s after the close, within TIME_WAIT — its last ACK was
 * lost on the way, so it resends the FIN: exactly what TIME_WAIT is for, counted as a late
 * packet but no anomaly. */
Test(packet_during_time_wait, near_miss_fin_resent_during_time_wait) {
    struct mark late;
    const struct cap *c = write_late_copy("late-fin-1s.pcap", SEC, false, &late);
    struct run r;
    run_cap(&r, c, opt_tw10);
    cr_assert_eq(r.nconn, 1);
    expect_anomalies(&r, NULL, 0);
    expect_int(r.summary, "connections.late_packets", 1);
    run_free(&r);
}

/* A copy of the server's data comes 1 s after the close, within the 10 s TIME_WAIT, inside the
 * closed connection's sequence space: a late packet of it — packet_during_time_wait, responder,
 * frame 12, naming the closed connection (uid of the record of frame 1). That record was written
 * at the close, before: its anomalies array stays empty; the summary counts the anomaly and the
 * late packet. */
Test(packet_during_time_wait, trigger_late_data_copy) {
    struct mark late;
    const struct cap *c = write_late_copy("late-data-1s.pcap", SEC, true, &late);
    struct run r;
    run_cap(&r, c, opt_tw10);
    cr_assert_eq(r.nconn, 1);
    struct want w[] = {{.name = "packet_during_time_wait",
                        .dir = "resp",
                        .at = late,
                        .conn = 1,
                        .after_record = true}};
    expect_anomalies(&r, w, 1);
    expect_int(r.summary, "connections.late_packets", 1);
    run_free(&r);
}

/* Near miss of packet_during_time_wait, trigger of packet_after_time_wait: the copy comes 15 s
 * after the close — TIME_WAIT (10 s) is over, but the closed connection is still remembered
 * (up to 2 × 10 s) to recognise exactly this: a packet of its sequence space after the endpoint
 * forgot it. packet_after_time_wait, responder, frame 12, naming the old connection (record of
 * frame 1, written before). The packet then starts a new connection picked up mid-stream
 * (record of frame 12: a lone FIN, nothing to judge), which raises nothing itself. */
Test(packet_after_time_wait, trigger_late_fin_after_time_wait) {
    struct mark late;
    const struct cap *c = write_late_copy("late-fin-15s.pcap", 15 * SEC, false, &late);
    struct run r;
    run_cap(&r, c, opt_tw10);
    cr_assert_eq(r.nconn, 2);
    expect_not(&r, "packet_during_time_wait");
    struct want w[] = {{.name = "packet_after_time_wait",
                        .dir = "resp",
                        .at = late,
                        .conn = 1,
                        .after_record = true}};
    expect_anomalies(&r, w, 1);
    struct json_object *mid = json_at(conn_by_frame(&r, late.frame), "midstream");
    cr_expect(mid && json_object_get_boolean(mid), "the late FIN starts a mid-stream connection");
    run_free(&r);
}

/* Near miss: the same capture (the copy 15 s after the close, TIME_WAIT of 10 s over): not
 * during TIME_WAIT, and no longer a late packet of the old connection. */
Test(packet_during_time_wait, near_miss_after_time_wait) {
    struct mark late;
    const struct cap *c = write_late_copy("late-fin-15s-b.pcap", 15 * SEC, false, &late);
    struct run r;
    run_cap(&r, c, opt_tw10);
    expect_not(&r, "packet_during_time_wait");
    expect_int(r.summary, "connections.late_packets", 0);
    run_free(&r);
}

/* Near miss: the copy comes 25 s after the close, past 2 × TIME_WAIT: the old connection is
 * forgotten entirely, the FIN is just the start of a new mid-stream connection: nothing. */
Test(packet_after_time_wait, near_miss_after_memory_expired) {
    struct mark late;
    const struct cap *c = write_late_copy("late-fin-25s.pcap", 25 * SEC, false, &late);
    struct run r;
    run_cap(&r, c, opt_tw10);
    cr_assert_eq(r.nconn, 2);
    expect_not(&r, "packet_after_time_wait");
    expect_no_anomalies(&r);
    run_free(&r);
}

/* 1..3 handshake, 4 client 100 bytes, 5 the server's RST|ACK (seq SISN + 1: its next byte,
 * acceptable; the connection ends by RST), 6 client 100 more bytes (in flight when the RST
 * came) in the closed connection's sequence space: data_after_rst, originator, frame 6, naming
 * the record written at frame 5. */
Test(data_after_rst, trigger_data_after_reset) {
    struct cap c;
    struct session s;
    cap_open(&c, "data-after-rst.pcap");
    conn_init(&s, &c, 51130, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_rst(&s, SESSION_SERVER));
    struct mark d = put(&c, session_data(&s, SESSION_CLIENT, 100));
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    cr_assert_eq(r.nconn, 1);
    struct want w[] = {
        {.name = "data_after_rst", .dir = "orig", .at = d, .conn = 1, .after_record = true}};
    expect_anomalies(&r, w, 1);
    expect_str(r.conn[0], "close.how", "rst");
    expect_int(r.summary, "connections.late_packets", 1);
    run_free(&r);
}

/* Near miss: after the RST the client sends a pure ACK (no payload): a late packet of the
 * reset connection, counted, but no data: nothing raised. */
Test(data_after_rst, near_miss_pure_ack_after_reset) {
    struct cap c;
    struct session s;
    cap_open(&c, "ack-after-rst.pcap");
    conn_init(&s, &c, 51131, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_rst(&s, SESSION_SERVER));
    put(&c, session_ack(&s, SESSION_CLIENT));
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_not(&r, "data_after_rst");
    expect_no_anomalies(&r);
    expect_int(r.summary, "connections.late_packets", 1);
    run_free(&r);
}

/* ==== RST ===================================================================================== */

/* 1..3 handshake, 4 client 100 bytes, 5 server ACK (ack CISN + 101, window 502 << 7 = 64256), so
 * the server accepts a RST with seq in [CISN + 101, CISN + 101 + 64256). Then `rst_seq`. */
static void write_rst_after_data(struct cap *c, struct session *s, uint16_t port, uint32_t rst_seq,
                                 struct mark *rst) {
    conn_init(s, c, port, CISN, SISN);
    handshake(c, s);
    put(c, session_data(s, SESSION_CLIENT, 100));
    put(c, session_ack(s, SESSION_SERVER));
    *rst = put(c, session_write_segment(s, SESSION_CLIENT, PB_RST, rst_seq, 0, 0));
}

/* 6 a RST "from the client" at CISN + 101 + 64256, one past the server's window (a blind
 * injection): rst_out_of_window, originator, frame 6. The server ignores it and the connection
 * goes on: 7 server 50 bytes, 8 ACK, 9..12 client-initiated close. */
Test(rst_out_of_window, trigger_rst_one_past_window) {
    struct cap c;
    struct session s;
    struct mark rst;
    cap_open(&c, "rst-oow.pcap");
    write_rst_after_data(&c, &s, 51140, CISN + 101 + WIN_SCALED, &rst);
    put(&c, session_data(&s, SESSION_SERVER, 50));
    put(&c, session_ack(&s, SESSION_CLIENT));
    close_from(&c, &s, SESSION_CLIENT);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {{.name = "rst_out_of_window", .dir = "orig", .at = rst, .conn = 1}};
    expect_anomalies(&r, w, 1);
    expect_str(conn_by_frame(&r, 1), "close.how", "fin");
    run_free(&r);
}

/* 1 SYN; 2 a RST+ACK "from the server" whose ack is the client's ISN itself, not ISN + 1. A
 * receiver in SYN_SENT drops it (RFC 9293 3.10.7.3: the check that defeats a blind RST racing the
 * SYN/ACK): rst_out_of_window, responder, frame 2 — and since the window played no part, the
 * detail names the ACK that failed, not a window. */
Test(rst_out_of_window, trigger_rst_in_syn_sent_with_wrong_ack) {
    struct cap c;
    struct session s;
    cap_open(&c, "rst-synsent.pcap");
    conn_init(&s, &c, 51150, CISN, SISN);
    put(&c, session_syn(&s));
    struct mark rst =
        put(&c, session_write_segment(&s, SESSION_SERVER, PB_RST | PB_ACK, 0, CISN, 0));
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {{.name = "rst_out_of_window", .dir = "resp", .at = rst, .conn = 1}};
    expect_anomalies(&r, w, 1);
    for (int j = 0; j < r.nanom; j++)
        if (strcmp(json_str_or(r.anom[j], "name"), "rst_out_of_window") == 0)
            cr_expect(strstr(json_str_or(r.anom[j], "detail"), "does not acknowledge the SYN"),
                      "detail: %s", json_str_or(r.anom[j], "detail"));
    run_free(&r);
}

/* Near miss: 6 the RST exactly at the server's next expected byte (CISN + 101): acceptable, the
 * connection ends by RST, nothing raised. */
Test(rst_out_of_window, near_miss_rst_at_next_expected_byte) {
    struct cap c;
    struct session s;
    struct mark rst;
    cap_open(&c, "rst-rcv-nxt.pcap");
    write_rst_after_data(&c, &s, 51141, CISN + 101, &rst);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_not(&r, "rst_out_of_window");
    expect_no_anomalies(&r);
    expect_str(conn_by_frame(&r, 1), "close.how", "rst");
    run_free(&r);
}

/* Near miss: 6 the RST at the window's last byte (CISN + 101 + 64255): still acceptable. */
Test(rst_out_of_window, near_miss_rst_at_last_byte_of_window) {
    struct cap c;
    struct session s;
    struct mark rst;
    cap_open(&c, "rst-win-edge.pcap");
    write_rst_after_data(&c, &s, 51142, CISN + 101 + WIN_SCALED - 1, &rst);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_no_anomalies(&r);
    expect_str(conn_by_frame(&r, 1), "close.how", "rst");
    run_free(&r);
}

/* 1..3 handshake; the server has sent nothing but its SYN/ACK, whose window (64240) is never
 * scaled (RFC 7323 §2.2), and acknowledged CISN + 1: it accepts a RST with seq in
 * [CISN + 1, CISN + 1 + 64240). 4 a RST at CISN + 1 + 64240 is one past it: rst_out_of_window,
 * originator, frame 4. The server drops it; 5 client 100 bytes, 6 ACK, 7..10 close. */
Test(rst_out_of_window, trigger_rst_past_unscaled_synack_window) {
    struct cap c;
    struct session s;
    cap_open(&c, "rst-oow-synack-win.pcap");
    conn_init(&s, &c, 51143, CISN, SISN);
    handshake(&c, &s);
    struct mark rst =
        put(&c, session_write_segment(&s, SESSION_CLIENT, PB_RST, CISN + 1 + WIN_SYN, 0, 0));
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_ack(&s, SESSION_SERVER));
    close_from(&c, &s, SESSION_CLIENT);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {{.name = "rst_out_of_window", .dir = "orig", .at = rst, .conn = 1}};
    expect_anomalies(&r, w, 1);
    cr_expect_eq(r.nconn, 1, "%d records: the ignored RST must not end the connection", r.nconn);
    run_free(&r);
}

/* ==== port reuse ============================================================================== */

/* On 51150: 1..3 handshake, 4 client 100 bytes, 5 ACK, 6..9 client-initiated close (closed by
 * FIN at frame 9); then `gap` after the close a new SYN on the same four-tuple with new ISNs and
 * the same exchange again (frames 10..18). */
static const struct cap *write_reuse(const char *name, int64_t gap) {
    static struct cap c;
    struct session s1, s2;
    cap_open(&c, name);
    conn_init(&s1, &c, 51150, CISN, SISN);
    handshake(&c, &s1);
    put(&c, session_data(&s1, SESSION_CLIENT, 100));
    put(&c, session_ack(&s1, SESSION_SERVER));
    struct mark close = close_from(&c, &s1, SESSION_CLIENT);
    cap_at(&c, close.ts + gap);
    conn_init(&s2, &c, 51150, CISN + 0x01000000u, SISN + 0x01000000u);
    handshake(&c, &s2);
    put(&c, session_data(&s2, SESSION_CLIENT, 100));
    put(&c, session_ack(&s2, SESSION_SERVER));
    close_from(&c, &s2, SESSION_CLIENT);
    cap_close(&c);
    return &c;
}

/* The new SYN (frame 10) comes 1 s after the close, within the default 240 s TIME_WAIT:
 * port_reuse, originator, frame 10, on the new connection (record of frame 10, which lists
 * it). */
Test(port_reuse, trigger_new_syn_during_time_wait) {
    const struct cap *c = write_reuse("reuse-1s.pcap", SEC);
    struct run r;
    run_cap(&r, c, NULL);
    cr_assert_eq(r.nconn, 2);
    struct want w[] = {
        {.name = "port_reuse", .dir = "orig", .at = {10, T0 + 8 * STEP + SEC}, .conn = 10}};
    expect_anomalies(&r, w, 1);
    run_free(&r);
}

/* With --time-wait 10 and the new SYN 15 s after the close: TIME_WAIT is over but the closed
 * connection is still remembered (until 2 × 10 s): still port_reuse (said "after its
 * TIME_WAIT"). */
Test(port_reuse, trigger_new_syn_after_time_wait_still_remembered) {
    const struct cap *c = write_reuse("reuse-15s.pcap", 15 * SEC);
    struct run r;
    run_cap(&r, c, opt_tw10);
    struct want w[] = {
        {.name = "port_reuse", .dir = "orig", .at = {10, T0 + 8 * STEP + 15 * SEC}, .conn = 10}};
    expect_anomalies(&r, w, 1);
    run_free(&r);
}

/* Near miss: --time-wait 10 and the new SYN 25 s after the close, past 2 × TIME_WAIT: the old
 * connection expired from memory entirely; a fresh connection: nothing. */
Test(port_reuse, near_miss_after_memory_expired) {
    const struct cap *c = write_reuse("reuse-25s.pcap", 25 * SEC);
    struct run r;
    run_cap(&r, c, opt_tw10);
    cr_assert_eq(r.nconn, 2);
    expect_not(&r, "port_reuse");
    expect_no_anomalies(&r);
    run_free(&r);
}

/* ==== sequence space ========================================================================== */

/* 1..3 handshake, 4 client bytes 1..100, 5 and 6 the same bytes again, 7 ACK, 8..11 close. */
static const struct cap *write_retransmission(void) {
    static struct cap c;
    struct session s;
    cap_open(&c, "retx.pcap");
    conn_init(&s, &c, 51160, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_write_segment(&s, SESSION_CLIENT, PB_PSH | PB_ACK, CISN + 1, SISN + 1, 100));
    put(&c, session_write_segment(&s, SESSION_CLIENT, PB_PSH | PB_ACK, CISN + 1, SISN + 1, 100));
    put(&c, session_ack(&s, SESSION_SERVER));
    close_from(&c, &s, SESSION_CLIENT);
    cap_close(&c);
    return &c;
}

/* Frames 5 and 6 hold only bytes already seen: two retransmissions, one record (the first, at
 * frame 5), the connection and the summary counting 2. */
Test(retransmission, trigger_data_resent_twice) {
    const struct cap *c = write_retransmission();
    struct run r;
    run_cap(&r, c, NULL);
    struct want w[] = {
        {.name = "retransmission", .dir = "orig", .at = {5, T0 + 4 * STEP}, .conn = 1, .count = 2}};
    expect_anomalies(&r, w, 1);
    expect_int(conn_by_frame(&r, 1), "orig.retransmits", 2);
    run_free(&r);
}

/* Near miss of out_of_order: a plain retransmission fills no gap: no out_of_order. */
Test(out_of_order, near_miss_plain_retransmission) {
    const struct cap *c = write_retransmission();
    struct run r;
    run_cap(&r, c, NULL);
    expect_not(&r, "out_of_order");
    run_free(&r);
}

/* 1..3 handshake, 4 client bytes 101..200 (bytes 1..100 not seen yet: a gap —
 * segment_not_captured, frame 4), 5 bytes 1..100 (sent before, captured after: fill the gap —
 * out_of_order, frame 5), 6 ACK of all 200, 7..10 close. */
static const struct cap *write_out_of_order(void) {
    static struct cap c;
    struct session s;
    cap_open(&c, "ooo.pcap");
    conn_init(&s, &c, 51161, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_write_segment(&s, SESSION_CLIENT, PB_PSH | PB_ACK, CISN + 101, SISN + 1, 100));
    put(&c, session_write_segment(&s, SESSION_CLIENT, PB_PSH | PB_ACK, CISN + 1, SISN + 1, 100));
    s.snd_nxt[SESSION_CLIENT] = CISN + 201;
    put(&c, session_ack(&s, SESSION_SERVER));
    close_from(&c, &s, SESSION_CLIENT);
    cap_close(&c);
    return &c;
}

Test(out_of_order, trigger_segment_fills_gap) {
    const struct cap *c = write_out_of_order();
    struct run r;
    run_cap(&r, c, NULL);
    struct want w[] = {
        {.name = "segment_not_captured", .dir = "orig", .at = {4, T0 + 3 * STEP}, .conn = 1},
        {.name = "out_of_order", .dir = "orig", .at = {5, T0 + 4 * STEP}, .conn = 1},
    };
    expect_anomalies(&r, w, 2);
    expect_int(conn_by_frame(&r, 1), "orig.retransmits", 0);
    run_free(&r);
}

/* Near miss of retransmission: the segment that fills the gap was never seen before: no
 * retransmission. */
Test(retransmission, near_miss_segment_fills_gap) {
    const struct cap *c = write_out_of_order();
    struct run r;
    run_cap(&r, c, NULL);
    expect_not(&r, "retransmission");
    run_free(&r);
}

/* Near miss: keep-alives. 1..3 handshake, 4 client 100 bytes, 5 ACK; 6 a keep-alive of no byte
 * at seq = snd_nxt − 1 (Linux), 7 the server's ACK, 8 a keep-alive of one byte at snd_nxt − 1
 * (the last byte again: Windows, BSD), 9 ACK, 10..13 close. Neither is a retransmission:
 * nothing at all. */
Test(retransmission, near_miss_keepalives) {
    struct cap c;
    struct session s;
    cap_open(&c, "keepalive.pcap");
    conn_init(&s, &c, 51162, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_ack(&s, SESSION_SERVER));
    put(&c, session_write_segment(&s, SESSION_CLIENT, PB_ACK, CISN + 100, SISN + 1, 0));
    put(&c, session_ack(&s, SESSION_SERVER));
    put(&c, session_write_segment(&s, SESSION_CLIENT, PB_ACK, CISN + 100, SISN + 1, 1));
    put(&c, session_ack(&s, SESSION_SERVER));
    close_from(&c, &s, SESSION_CLIENT);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_not(&r, "retransmission");
    expect_no_anomalies(&r);
    expect_int(conn_by_frame(&r, 1), "orig.retransmits", 0);
    run_free(&r);
}

/* 1..3 handshake, 4 client 100 bytes, 5 server ACK with window 0; 6 a zero-window probe (the
 * next byte, CISN + 101, one byte), 7 the server's ACK, still window 0 (the byte is not
 * accepted: ack stays CISN + 101), 8 the same probe again, 9 ACK with window 0. */
static void write_zero_window_probes(struct cap *c, struct session *s, uint16_t port) {
    conn_init(s, c, port, CISN, SISN);
    handshake(c, s);
    put(c, session_data(s, SESSION_CLIENT, 100));
    s->win[SESSION_SERVER] = 0;
    put(c, session_ack(s, SESSION_SERVER));
    for (int i = 0; i < 2; i++) {
        put(c, session_write_segment(s, SESSION_CLIENT, PB_ACK, CISN + 101, SISN + 1, 1));
        put(c, session_write_segment(s, SESSION_SERVER, PB_ACK, SISN + 1, CISN + 101, 0));
    }
}

/* Near miss: the probes (frames 6 and 8, the second resending the first's byte) are neither
 * retransmissions; the server's three window-0 ACKs are zero_window (responder, first at frame
 * 5, count 3). The input ends at frame 9, all within the answer grace (the probe byte, never
 * acknowledged, is not judged). */
Test(retransmission, near_miss_zero_window_probes) {
    struct cap c;
    struct session s;
    cap_open(&c, "zwp.pcap");
    write_zero_window_probes(&c, &s, 51163);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_not(&r, "retransmission");
    struct want w[] = {
        {.name = "zero_window", .dir = "resp", .at = {5, T0 + 4 * STEP}, .conn = 1, .count = 3}};
    expect_anomalies(&r, w, 1);
    run_free(&r);
}

/* The zero-window episode of the previous test, then the window opens: 10 the server's window
 * update (window 502, ack CISN + 101: the probe byte was never accepted), 11 the client sends
 * its data from snd_una, CISN + 101 (100 bytes, the probe's byte first — it was never
 * delivered), 12 ACK, 13..16 close. The probe was not data (tcp_conn.c, account_segment:
 * probes "are neither data nor retransmissions"), so frame 11 sends no byte twice: no
 * retransmission; only the three zero_window ACKs. */
Test(retransmission, near_miss_data_resuming_after_zero_window_probes) {
    struct cap c;
    struct session s;
    cap_open(&c, "zwp-reopen.pcap");
    write_zero_window_probes(&c, &s, 51164);
    s.win[SESSION_SERVER] = 502;
    put(&c, session_write_segment(&s, SESSION_SERVER, PB_ACK, SISN + 1, CISN + 101, 0));
    put(&c, session_write_segment(&s, SESSION_CLIENT, PB_PSH | PB_ACK, CISN + 101, SISN + 1, 100));
    s.snd_nxt[SESSION_CLIENT] = CISN + 201;
    put(&c, session_ack(&s, SESSION_SERVER));
    close_from(&c, &s, SESSION_CLIENT);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_not(&r, "retransmission");
    struct want w[] = {
        {.name = "zero_window", .dir = "resp", .at = {5, T0 + 4 * STEP}, .conn = 1, .count = 3}};
    expect_anomalies(&r, w, 1);
    expect_int(conn_by_frame(&r, 1), "orig.retransmits", 0);
    expect_int(conn_by_frame(&r, 1), "orig.payload_bytes", 200);
    run_free(&r);
}

/* 1..3 handshake, 4 client bytes 1..100, 5 the server's ACK; 6 100 bytes "from the client" at
 * 2^31 - 1 past its next byte (a forged sequence number: the segment would end 2^31 + 99 ahead,
 * within 16 MiB of 2^31): segment_out_of_window, originator, frame 6, left out of the byte
 * accounting; 7 client 50 real bytes, 8 ACK, 9..12 client-initiated close. Nothing else: no gap,
 * no missed bytes (the server never acknowledged the forged bytes), 150 payload bytes. */
Test(segment_out_of_window, trigger_forged_jump_near_2_to_the_31) {
    struct cap c;
    struct session s;
    cap_open(&c, "seq-oow.pcap");
    conn_init(&s, &c, 51160, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_ack(&s, SESSION_SERVER));
    struct mark f = put(&c, session_write_segment(&s, SESSION_CLIENT, PB_PSH | PB_ACK,
                                                  s.snd_nxt[SESSION_CLIENT] + 0x7fffffffu,
                                                  s.snd_nxt[SESSION_SERVER], 100));
    put(&c, session_data(&s, SESSION_CLIENT, 50));
    put(&c, session_ack(&s, SESSION_SERVER));
    close_from(&c, &s, SESSION_CLIENT);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {{.name = "segment_out_of_window", .dir = "orig", .at = f, .conn = 1}};
    expect_anomalies(&r, w, 1);
    expect_str(conn_by_frame(&r, 1), "close.how", "fin");
    cr_expect_eq(json_int_at(conn_by_frame(&r, 1), "orig.missed_bytes"), 0);
    cr_expect_eq(json_int_at(conn_by_frame(&r, 1), "orig.payload_bytes"), 150);
    run_free(&r);
}

/* Near miss: a real capture gap of 1.5 GiB. 4 client bytes 1..100; the next 1.5 GiB were sent
 * but never captured; 5 100 bytes past them: segment_not_captured (a gap, not a forgery); 6 the
 * server acknowledges everything: ack_unseen_segment. No segment_out_of_window. */
Test(segment_out_of_window, near_miss_gigabyte_capture_gap) {
    struct cap c;
    struct session s;
    cap_open(&c, "seq-biggap.pcap");
    conn_init(&s, &c, 51161, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    s.snd_nxt[SESSION_CLIENT] += 0x60000000u; /* 1.5 GiB lost from the capture */
    struct mark d = put(&c, session_data(&s, SESSION_CLIENT, 100));
    struct mark a = put(&c, session_ack(&s, SESSION_SERVER));
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {{.name = "segment_not_captured", .dir = "orig", .at = d, .conn = 1},
                       {.name = "ack_unseen_segment", .dir = "resp", .at = a, .conn = 1}};
    expect_anomalies(&r, w, 2);
    expect_not(&r, "segment_out_of_window");
    run_free(&r);
}

/* 1..3 handshake, 4 client bytes 1..100; bytes 101..200 are sent but never captured; 5 client
 * bytes 201..300 — past the next expected byte: segment_not_captured, originator, frame 5; 6 the
 * server's duplicate ACK of 101 (it is missing the same bytes). The input ends there, 60 ms
 * after the data: within the answer grace, nothing judged. */
Test(segment_not_captured, trigger_gap_in_data) {
    struct cap c;
    struct session s;
    cap_open(&c, "gap.pcap");
    conn_init(&s, &c, 51170, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    s.snd_nxt[SESSION_CLIENT] += 100; /* lost from the capture */
    struct mark d = put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_write_segment(&s, SESSION_SERVER, PB_ACK, SISN + 1, CISN + 101, 0));
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {{.name = "segment_not_captured", .dir = "orig", .at = d, .conn = 1}};
    expect_anomalies(&r, w, 1);
    run_free(&r);
}

/* Near miss: a connection picked up mid-stream — what came before the capture started is no
 * gap. 1 client 100 bytes at CISN + 5000, 2 server 50 bytes (ack of them), 3 client ACK,
 * 4 client FIN|ACK, 5 server FIN|ACK acknowledging it, 6 client ACK: nothing at all. */
Test(segment_not_captured, near_miss_midstream_pickup) {
    struct cap c;
    struct session s;
    cap_open(&c, "midstream.pcap");
    conn_init(&s, &c, 51171, CISN, SISN);
    s.snd_nxt[SESSION_CLIENT] = CISN + 5000;
    s.snd_nxt[SESSION_SERVER] = SISN + 9000;
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_data(&s, SESSION_SERVER, 50));
    put(&c, session_ack(&s, SESSION_CLIENT));
    put(&c, session_segment(&s, SESSION_CLIENT, PB_FIN | PB_ACK, 0));
    put(&c, session_segment(&s, SESSION_SERVER, PB_FIN | PB_ACK, 0));
    put(&c, session_ack(&s, SESSION_CLIENT));
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_not(&r, "segment_not_captured");
    expect_no_anomalies(&r);
    run_free(&r);
}

/* 1..3 handshake, 4 client bytes 1..100; bytes 101..200 never captured; 5 the server's ACK of
 * all 200 — acknowledging bytes the capture never saw: ack_unseen_segment, responder (the side
 * that acknowledges), frame 5; 6..9 client-initiated close (its FIN after byte 200). */
Test(ack_unseen_segment, trigger_ack_beyond_captured_data) {
    struct cap c;
    struct session s;
    cap_open(&c, "ack-unseen.pcap");
    conn_init(&s, &c, 51180, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    s.snd_nxt[SESSION_CLIENT] += 100; /* lost from the capture */
    struct mark a = put(&c, session_ack(&s, SESSION_SERVER));
    close_from(&c, &s, SESSION_CLIENT);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {{.name = "ack_unseen_segment", .dir = "resp", .at = a, .conn = 1}};
    expect_anomalies(&r, w, 1);
    expect_int(conn_by_frame(&r, 1), "orig.missed_bytes", 100);
    run_free(&r);
}

/* 1..3 handshake, 4 bytes 1..100, (101..200 never captured), 5 bytes 201..300
 * (segment_not_captured, frame 5), 6 the server's ACK of all 300 passes the gap:
 * ack_unseen_segment, responder, frame 6; 7..10 close. */
Test(ack_unseen_segment, trigger_ack_passes_gap) {
    struct cap c;
    struct session s;
    cap_open(&c, "ack-passes-gap.pcap");
    conn_init(&s, &c, 51181, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    s.snd_nxt[SESSION_CLIENT] += 100; /* lost from the capture */
    struct mark d = put(&c, session_data(&s, SESSION_CLIENT, 100));
    struct mark a = put(&c, session_ack(&s, SESSION_SERVER));
    close_from(&c, &s, SESSION_CLIENT);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {
        {.name = "segment_not_captured", .dir = "orig", .at = d, .conn = 1},
        {.name = "ack_unseen_segment", .dir = "resp", .at = a, .conn = 1},
    };
    expect_anomalies(&r, w, 2);
    run_free(&r);
}

/* Near miss: the same, but 6 the missing bytes 101..200 are captured after all (reordered)
 * before 7 the server's ACK of 300: the ACK covers only bytes seen. segment_not_captured (frame
 * 5) and out_of_order (frame 6), no ack_unseen_segment. */
Test(ack_unseen_segment, near_miss_gap_filled_before_ack) {
    struct cap c;
    struct session s;
    cap_open(&c, "gap-filled.pcap");
    conn_init(&s, &c, 51182, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    struct mark d = put(
        &c, session_write_segment(&s, SESSION_CLIENT, PB_PSH | PB_ACK, CISN + 201, SISN + 1, 100));
    struct mark fill = put(
        &c, session_write_segment(&s, SESSION_CLIENT, PB_PSH | PB_ACK, CISN + 101, SISN + 1, 100));
    s.snd_nxt[SESSION_CLIENT] = CISN + 301;
    put(&c, session_ack(&s, SESSION_SERVER));
    close_from(&c, &s, SESSION_CLIENT);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_not(&r, "ack_unseen_segment");
    struct want w[] = {
        {.name = "segment_not_captured", .dir = "orig", .at = d, .conn = 1},
        {.name = "out_of_order", .dir = "orig", .at = fill, .conn = 1},
    };
    expect_anomalies(&r, w, 2);
    expect_int(conn_by_frame(&r, 1), "orig.missed_bytes", 0);
    run_free(&r);
}

/* ==== windows ================================================================================= */

/* 1..3 handshake, 4 client 100 bytes, 5 the server's ACK advertising window 0 (its buffer is
 * full): zero_window, responder, frame 5. 6 its window update (502), 7 client 100 bytes, 8 ACK,
 * 9..12 close. */
Test(zero_window, trigger_window_zero_advertised) {
    struct cap c;
    struct session s;
    cap_open(&c, "zero-window.pcap");
    conn_init(&s, &c, 51190, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    s.win[SESSION_SERVER] = 0;
    struct mark z = put(&c, session_ack(&s, SESSION_SERVER));
    s.win[SESSION_SERVER] = 502;
    put(&c, session_ack(&s, SESSION_SERVER));
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_ack(&s, SESSION_SERVER));
    close_from(&c, &s, SESSION_CLIENT);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {{.name = "zero_window", .dir = "resp", .at = z, .conn = 1}};
    expect_anomalies(&r, w, 1);
    run_free(&r);
}

/* Near miss: 1..3 handshake, 4 data, 5 ACK, 6 the server's RST|ACK with window 0 (as stacks send
 * it): a RST advertises no receive window, so no zero_window; the RST (at the server's next
 * byte) is acceptable: nothing at all. */
Test(zero_window, near_miss_rst_with_window_zero) {
    struct cap c;
    struct session s;
    cap_open(&c, "rst-win0.pcap");
    conn_init(&s, &c, 51191, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_ack(&s, SESSION_SERVER));
    s.win[SESSION_SERVER] = 0;
    put(&c, session_rst(&s, SESSION_SERVER));
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_not(&r, "zero_window");
    expect_no_anomalies(&r);
    run_free(&r);
}

/* ==== host level ============================================================================== */

static const char *const opt_flood3[] = {"--syn-flood-threshold", "3", "--syn-flood-window", "10",
                                         NULL};

/* A SYN from 10.0.1.k:40000 to 10.0.0.2:80 (a client of its own per k, so no one source scans). */
static struct mark flood_syn(struct cap *c, struct session *s, uint8_t k) {
    const uint8_t src[4] = {10, 0, 1, k};
    conn_init_hosts(s, c, src, 40000, host_server, 80, CISN + k, SISN + k);
    return put(c, session_syn(s));
}

/* Threshold 3 in 10 s, handshake timeout 1 s: 1..5 five SYNs 10 ms apart to 10.0.0.2, none
 * answered; 6 a SYN from 10.0.9.9 to another server 2 s later moves capture time past the
 * handshake timeout, so the five expire half-open: syn_unanswered for each (originator, at the
 * time of frame 6, naming its own SYN's frame), and as the 4th of them is counted — 4 half-open
 * connections attempted within 10 s, more than 3 — syn_flood for dest_ip 10.0.0.2, count 4,
 * window 10 s, once; the 5th does not fire again. The 6th SYN is within the answer grace when
 * the input ends: not judged. */
Test(syn_flood, trigger_unanswered_syns_over_threshold) {
    static const char *const opts[] = {
        "--syn-flood-threshold", "3", "--syn-flood-window", "10", "--handshake-timeout", "1", NULL};
    struct cap c;
    struct session s[6];
    struct mark m[5];
    cap_open(&c, "syn-flood.pcap");
    for (uint8_t k = 0; k < 5; k++)
        m[k] = flood_syn(&c, &s[k], (uint8_t)(k + 1));
    cap_at(&c, m[4].ts + 2 * SEC);
    const uint8_t other_src[4] = {10, 0, 9, 9}, other_dst[4] = {10, 0, 0, 9};
    conn_init_hosts(&s[5], &c, other_src, 40000, other_dst, 80, CISN, SISN);
    struct mark late = put(&c, session_syn(&s[5]));
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, opts);
    cr_assert_eq(r.nconn, 6);
    struct want w[6];
    for (int k = 0; k < 5; k++)
        w[k] = (struct want){.name = "syn_unanswered",
                             .dir = "orig",
                             .at = {m[k].frame, late.ts},
                             .conn = m[k].frame};
    w[5] = (struct want){.name = "syn_flood",
                         .at = {m[3].frame, late.ts},
                         .host = "10.0.0.2",
                         .host_count = 4,
                         .window_s = 10};
    expect_anomalies(&r, w, 6);
    run_free(&r);
}

/* Near miss: the same number of SYNs (4), but answered: 1..3 SYNs a, b, c (3 half-open, not more
 * than 3), 4 SYN/ACK a, 5 ACK a (a's handshake completes: 2 half-open), 6 SYN d (3 again),
 * 7..12 b, c, d complete. Never more than 3: nothing at all. */
Test(syn_flood, near_miss_answered_syns) {
    struct cap c;
    struct session s[4];
    cap_open(&c, "syn-answered.pcap");
    for (uint8_t k = 0; k < 3; k++)
        flood_syn(&c, &s[k], (uint8_t)(k + 1));
    put(&c, session_syn_ack(&s[0]));
    put(&c, session_ack(&s[0], SESSION_CLIENT));
    flood_syn(&c, &s[3], 4);
    for (int k = 1; k < 4; k++) {
        put(&c, session_syn_ack(&s[k]));
        put(&c, session_ack(&s[k], SESSION_CLIENT));
    }
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, opt_flood3);
    cr_assert_eq(r.nconn, 4);
    expect_not(&r, "syn_flood");
    expect_no_anomalies(&r);
    run_free(&r);
}

/* Near miss: 4 unanswered SYNs, but 4 s apart (0, 4, 8, 12 s): the window that starts at the
 * first holds three; the fourth comes at 12 s ≥ 10 s and starts a new window: no syn_flood.
 * At the end of the input (12 s) the first three SYNs are past the grace: syn_unanswered for
 * each (frames 1..3, at 12 s); the fourth is the last packet, not judged. */
Test(syn_flood, near_miss_syns_spread_beyond_window) {
    struct cap c;
    struct session s[4];
    struct mark m[4];
    cap_open(&c, "syn-spread.pcap");
    for (uint8_t k = 0; k < 4; k++) {
        cap_at(&c, T0 + k * 4 * SEC);
        m[k] = flood_syn(&c, &s[k], (uint8_t)(k + 1));
    }
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, opt_flood3);
    expect_not(&r, "syn_flood");
    int64_t end = m[3].ts;
    struct want w[] = {
        {.name = "syn_unanswered", .dir = "orig", .at = {1, end}, .conn = 1},
        {.name = "syn_unanswered", .dir = "orig", .at = {2, end}, .conn = 2},
        {.name = "syn_unanswered", .dir = "orig", .at = {3, end}, .conn = 3},
    };
    expect_anomalies(&r, w, 3);
    run_free(&r);
}

/* Near miss: answered attempts that complete by a simultaneous open. Threshold 1 in 10 s; two
 * connections to 10.0.0.2:80 (from 10.0.1.1 and 10.0.1.2, one after the other), each RFC 9293
 * figure 8: client SYN, server SYN, client SYN/ACK, server SYN/ACK — both sides' SYNs
 * acknowledged, the handshake complete — then 100 bytes, ACK and the FIN|ACK shortcut close.
 * The first attempt is answered before the second starts, so never more than 1 half-open
 * connection: no syn_flood. (Each shows simultaneous_open; this test only states the flood.) */
Test(syn_flood, near_miss_answered_by_simultaneous_open) {
    static const char *const opts[] = {"--syn-flood-threshold", "1", NULL};
    struct cap c;
    cap_open(&c, "simultaneous-opens.pcap");
    for (uint8_t k = 1; k <= 2; k++) {
        struct session s;
        const uint8_t src[4] = {10, 0, 1, k};
        conn_init_hosts(&s, &c, src, 40000, host_server, 80, CISN, SISN);
        put(&c, session_syn(&s));
        put(&c, session_write_segment(&s, SESSION_SERVER, PB_SYN, SISN, 0, 0));
        s.snd_nxt[SESSION_SERVER] = SISN + 1;
        put(&c, session_write_segment(&s, SESSION_CLIENT, PB_SYN | PB_ACK, CISN, SISN + 1, 0));
        put(&c, session_write_segment(&s, SESSION_SERVER, PB_SYN | PB_ACK, SISN, CISN + 1, 0));
        put(&c, session_data(&s, SESSION_CLIENT, 100));
        put(&c, session_ack(&s, SESSION_SERVER));
        put(&c, session_segment(&s, SESSION_CLIENT, PB_FIN | PB_ACK, 0));
        put(&c, session_segment(&s, SESSION_SERVER, PB_FIN | PB_ACK, 0));
        put(&c, session_ack(&s, SESSION_CLIENT));
    }
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, opts);
    cr_assert_eq(r.nconn, 2);
    expect_not(&r, "syn_flood");
    run_free(&r);
}

static const char *const opt_scan3[] = {"--port-scan-threshold", "3", NULL};

/* A refused attempt: SYN from 10.0.0.1:sport to 10.0.0.2:dport, answered by RST|ACK (ack =
 * CISN + 1: a closed port). Returns the RST (the connection's last packet). */
static struct mark refused(struct cap *c, uint16_t sport, uint16_t dport) {
    struct session s;
    conn_init_hosts(&s, c, host_client, sport, host_server, dport, CISN + sport, 0);
    put(c, session_syn(&s));
    return put(c, session_rst(&s, SESSION_SERVER));
}

/* Threshold 3: five refused attempts from 10.0.0.1 to ports 1001..1005 (SYN at frame 2k − 1, RST
 * at 2k). Each ends at its RST (REJ) and counts as a failed target; the 4th distinct one (RST at
 * frame 8) is more than 3: port_scan for src_ip 10.0.0.1, count 4, window 60 s (the default),
 * once. The connections themselves raise nothing. */
Test(port_scan, trigger_refused_ports_over_threshold) {
    struct cap c;
    struct mark rst[5];
    cap_open(&c, "scan.pcap");
    for (uint16_t k = 0; k < 5; k++)
        rst[k] = refused(&c, (uint16_t)(40001 + k), (uint16_t)(1001 + k));
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, opt_scan3);
    cr_assert_eq(r.nconn, 5);
    struct want w[] = {
        {.name = "port_scan", .at = rst[3], .host = "10.0.0.1", .host_count = 4, .window_s = 60}};
    expect_anomalies(&r, w, 1);
    run_free(&r);
}

/* Near miss: three refused ports (1001..1003): not more than 3: nothing. */
Test(port_scan, near_miss_threshold_ports) {
    struct cap c;
    cap_open(&c, "scan-3.pcap");
    for (uint16_t k = 0; k < 3; k++)
        refused(&c, (uint16_t)(40001 + k), (uint16_t)(1001 + k));
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, opt_scan3);
    expect_not(&r, "port_scan");
    expect_no_anomalies(&r);
    run_free(&r);
}

/* Near miss: four refused attempts, but to ports 1001, 1002, 1003 and 1002 again (a retry from
 * a new source port): three distinct targets: nothing. */
Test(port_scan, near_miss_retry_counts_once) {
    static const uint16_t ports[] = {1001, 1002, 1003, 1002};
    struct cap c;
    cap_open(&c, "scan-retry.pcap");
    for (uint16_t k = 0; k < 4; k++)
        refused(&c, (uint16_t)(40001 + k), ports[k]);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, opt_scan3);
    cr_assert_eq(r.nconn, 4);
    expect_not(&r, "port_scan");
    expect_no_anomalies(&r);
    run_free(&r);
}

/* Unanswered attempts count too: 1..4 SYNs from 10.0.0.1 to ports 1001..1004, never answered;
 * the filler 5 s later (to 10.0.0.3, successful). At the end of the input the four are reported
 * in the order they started, each judged syn_unanswered (frame k, at the last packet); the 4th
 * failed target goes above 3: port_scan, src_ip 10.0.0.1, count 4, frame 4 (that connection's
 * last packet), at the end. */
Test(port_scan, trigger_unanswered_ports_over_threshold) {
    struct cap c;
    cap_open(&c, "scan-unanswered.pcap");
    struct mark m[4];
    for (uint16_t k = 0; k < 4; k++) {
        struct session s;
        conn_init_hosts(&s, &c, host_client, (uint16_t)(40001 + k), host_server,
                        (uint16_t)(1001 + k), CISN + k, 0);
        m[k] = put(&c, session_syn(&s));
    }
    struct span f = filler(&c, 40010, m[3].ts + 5 * SEC);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, opt_scan3);
    int64_t end = f.last.ts;
    struct want w[] = {
        {.name = "syn_unanswered", .dir = "orig", .at = {1, end}, .conn = 1},
        {.name = "syn_unanswered", .dir = "orig", .at = {2, end}, .conn = 2},
        {.name = "syn_unanswered", .dir = "orig", .at = {3, end}, .conn = 3},
        {.name = "syn_unanswered", .dir = "orig", .at = {4, end}, .conn = 4},
        {.name = "port_scan", .at = {4, end}, .host = "10.0.0.1", .host_count = 4, .window_s = 60},
    };
    expect_anomalies(&r, w, 5);
    run_free(&r);
}

/* ==== clean traffic =========================================================================== */

/* One step of a scripted healthy connection: a segment from `from` with the tracked numbers;
 * `crossing`: its ack leaves out the peer's FIN just sent (the FINs cross). */
struct act {
    enum session_side from;
    uint8_t flags;
    uint16_t len;
    bool crossing;
};

#define CL SESSION_CLIENT
#define SV SESSION_SERVER
#define OPEN                                                                                       \
    {CL, PB_SYN, 0, false}, {SV, PB_SYN | PB_ACK, 0, false}, {                                     \
        CL, PB_ACK, 0, false                                                                       \
    }
#define DATA(side, n)                                                                              \
    { side, PB_PSH | PB_ACK, n, false }
#define ACK(side)                                                                                  \
    { side, PB_ACK, 0, false }
#define FIN(side)                                                                                  \
    { side, PB_FIN | PB_ACK, 0, false }

/* Request / response, the client closes (4-way). */
static const struct act script_client_close[] = {
    OPEN,    DATA(CL, 300), ACK(SV), DATA(SV, 1200), ACK(CL),
    FIN(CL), ACK(SV),       FIN(SV), ACK(CL),        {0, 0, 0, false},
};
/* The server closes first. */
static const struct act script_server_close[] = {
    OPEN,    DATA(CL, 200), ACK(SV), DATA(SV, 900), ACK(CL),
    FIN(SV), ACK(CL),       FIN(CL), ACK(SV),       {0, 0, 0, false},
};
/* The peer's FIN|ACK acknowledges the closer's FIN at once (3-way close). */
static const struct act script_fin_ack_shortcut[] = {
    OPEN,    DATA(CL, 100), ACK(SV), DATA(SV, 400),    ACK(CL),
    FIN(CL), FIN(SV),       ACK(CL), {0, 0, 0, false},
};
/* Both FINs cross (neither acknowledges the other's), then both ACK. */
static const struct act script_simultaneous_close[] = {
    OPEN,
    DATA(CL, 100),
    ACK(SV),
    DATA(SV, 100),
    ACK(CL),
    FIN(CL),
    {SV, PB_FIN | PB_ACK, 0, true},
    ACK(CL),
    ACK(SV),
    {0, 0, 0, false},
};
/* Bulk both ways with delayed ACKs (one per two full segments) and piggybacked ones; the server
 * closes with the FIN|ACK shortcut. */
static const struct act script_delayed_acks[] = {
    OPEN,           DATA(CL, 1448), DATA(CL, 1448), ACK(SV),          DATA(CL, 500), DATA(SV, 1448),
    DATA(SV, 1448), ACK(CL),        DATA(SV, 1448), DATA(CL, 100),    DATA(SV, 200), ACK(CL),
    FIN(SV),        FIN(CL),        ACK(SV),        {0, 0, 0, false},
};

#undef OPEN
#undef DATA
#undef ACK
#undef FIN

struct scripted {
    struct session s;
    const struct act *acts;
    size_t next;
};

static bool scripted_step(struct cap *c, struct scripted *x) {
    const struct act *a = &x->acts[x->next];
    if (!a->flags)
        return false;
    x->next++;
    struct session *s = &x->s;
    if (!a->crossing) {
        put(c, session_segment(s, a->from, a->flags, a->len));
        return true;
    }
    enum session_side peer = session_peer(a->from);
    put(c, session_write_segment(s, a->from, a->flags, s->snd_nxt[a->from], s->snd_nxt[peer] - 1u,
                                 a->len));
    s->snd_nxt[a->from] += a->len + 1u;
    return true;
}

/* Ten healthy connections interleaved frame by frame on one clock (10.0.0.1:5200k -> :80 unless
 * said): 1 client close, 2 server close, 3 FIN|ACK shortcut, 4 simultaneous close, 5 sequence
 * numbers wrapping past 2^32 both ways (ISNs 0xFFFFFF00 / 0xFFFFFFF0), 6 IPv6, 7 802.1Q VLAN 10,
 * 8 delayed ACKs with data both ways, 9 no TCP options at all, 10 IPv6 on VLAN 20 with delayed
 * ACKs and wrapping numbers. Every byte is sent once, in order, acknowledged; every FIN
 * acknowledged; every handshake complete: no anomaly at all, every connection closed by FIN
 * (SF). */
Test(clean, corpus_of_healthy_connections) {
    struct cap c;
    struct scripted x[10];
    cap_open(&c, "clean-corpus.pcap");
    const struct act *scripts[10] = {
        script_client_close,       script_server_close, script_fin_ack_shortcut,
        script_simultaneous_close, script_client_close, script_client_close,
        script_server_close,       script_delayed_acks, script_fin_ack_shortcut,
        script_delayed_acks,
    };
    for (int i = 0; i < 10; i++) {
        struct pb_frame f = i == 5 || i == 9 ? pb_tcp6() : pb_tcp4();
        f.sport = (uint16_t)(52001 + i);
        f.dport = 80;
        if (i == 6 || i == 9) {
            f.nvlan = 1;
            f.vlan_id[0] = i == 6 ? 10 : 20;
        }
        bool wrap = i == 4 || i == 9;
        uint32_t cisn = wrap ? 0xFFFFFF00u : 0x31000000u + (uint32_t)i * 0x10000u;
        uint32_t sisn = wrap ? 0xFFFFFFF0u : 0x41000000u + (uint32_t)i * 0x10000u;
        session_init(&x[i].s, c.w, &c.clock, &f, cisn, sisn);
        if (i == 8) {
            x[i].s.timestamps = false;
            x[i].s.sack_permitted = false;
            x[i].s.wscale = -1;
        }
        x[i].acts = scripts[i];
        x[i].next = 0;
    }
    for (bool more = true; more;) {
        more = false;
        for (int i = 0; i < 10; i++)
            more = scripted_step(&c, &x[i]) || more;
    }
    cr_assert_lt(x[4].s.snd_nxt[SESSION_CLIENT], 0x1000u, "the client's numbers wrapped");
    cr_assert_lt(x[4].s.snd_nxt[SESSION_SERVER], 0x1000u, "the server's numbers wrapped");
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    cr_assert_eq(r.nconn, 10);
    expect_no_anomalies(&r);
    for (int i = 0; i < r.nconn; i++) {
        const char *how = json_str_or(r.conn[i], "close.how");
        cr_expect(strcmp(how, "fin") == 0 || strcmp(how, "simultaneous_fin") == 0,
                  "connection from port %" PRId64 " ended %s", json_int_at(r.conn[i], "src_port"),
                  how);
        expect_str(r.conn[i], "conn_state", "SF");
        expect_int(r.conn[i], "orig.retransmits", 0);
        expect_int(r.conn[i], "resp.retransmits", 0);
    }
    expect_int(r.summary, "connections.by_close.simultaneous_fin", 1);
    run_free(&r);
}

/* Every committed sample capture (samples.h: the standard exchange over every link type, IPv6,
 * VLAN, MPLS, pcapng, and multi.pcap's interleaved connections, UDP and ICMP) is clean traffic:
 * no anomaly at all. */
Test(clean, sample_captures) {
    for (size_t i = 0; i < gen_sample_count; i++) {
        const struct gen_sample *g = &gen_sample_table[i];
        char path[256];
        snprintf(path, sizeof path, "%s", tmp_path(g->file));
        cr_assert(g->write(path), "generator failed for %s", g->file);
        struct run r;
        run_path(&r, path, (int64_t)g->packets, NULL);
        cr_expect_eq(r.nanom, 0, "%s: anomalies %s", g->file, r.seen);
        struct json_object *tot = json_at(r.summary, "anomalies");
        cr_expect(tot && json_object_object_length(tot) == 0, "%s: summary anomalies %s", g->file,
                  tot ? json_object_to_json_string(tot) : "(absent)");
        for (int k = 0; k < r.nconn; k++) {
            struct json_object *arr = json_at(r.conn[k], "anomalies");
            cr_expect(arr && json_object_array_length(arr) == 0, "%s: record %d lists %s", g->file,
                      k, arr ? json_object_to_json_string(arr) : "(absent)");
        }
        run_free(&r);
    }
}
