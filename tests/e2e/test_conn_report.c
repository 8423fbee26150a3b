/* End-to-end tests of --report FILE.html (issue 15) that need no browser (tests/report opens the
 * page in Chromium): the page's data block holds one line per connection record and the same
 * summary as the JSON summary record of the run; nothing in it can end the script element early
 * (every '<' of the data escaped); the page refers to nothing outside itself; a report that
 * cannot be created is refused before anything is read; which connections keep their segments
 * (ladders), with workers too, and that those with a notable anomaly come first. Captures:
 * conn_helpers.h. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn_helpers.h"
#include "run.h"
#include "session.h"

/* The data block's lines ({"c": …}, {"a": …}, {"d": …}, {"sev": …}, {"s": …}) as JSON objects. */
static int data_lines(const char *html, struct json_object **out, int max) {
    const char *start = strstr(html, "<script type=\"application/x-ndjson\" id=\"data\">\n");
    cr_assert(start, "no data block");
    start = strchr(start, '\n') + 1;
    const char *end = strstr(start, "</script>");
    cr_assert(end, "the data block is not closed");
    int n = 0;
    for (const char *p = start; p < end && n < max;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char *line = strndup(p, len);
        out[n] = json_parse_record(line);
        cr_assert(out[n], "not JSON: %s", line);
        free(line);
        n++;
        p += len + 1;
    }
    return n;
}

/* Two connections (the standard exchange from ports 53000 and 53001), in a capture whose name
 * holds a '<': the page's data has a "c" line for each record, in the same order with the same
 * uid; its summary equals the JSON summary record (run_seconds aside: the two are taken at
 * different moments); the name's '<' is written as \u003c, so no raw '<' is in the data. */
Test(report, data_matches_the_records) {
    struct cap c;
    struct session a, b;
    cap_open(&c, "report<b>.pcap");
    conn_init(&a, &c, 53000, 80, CISN, SISN);
    standard_exchange(&a, 100, 200, SESSION_CLIENT, 11);
    conn_init(&b, &c, 53001, 80, CISN, SISN);
    standard_exchange(&b, 10, 20, SESSION_SERVER, 11);
    conn_done(&a);
    conn_done(&b);
    cap_close(&c);
    char html_path[300];
    snprintf(html_path, sizeof html_path, "%s", tmp_path("report.html"));
    const char *opts[] = {"--report", html_path, NULL};
    struct run r;
    run_capture(&r, c.path, opts);
    cr_assert_eq(r.n, 2);
    char *html = read_whole_file(html_path);
    cr_expect(strncmp(html, "<!DOCTYPE html>", 15) == 0);
    struct json_object *lines[64];
    int n = data_lines(html, lines, 64);
    int conns = 0;
    struct json_object *summary = NULL;
    for (int i = 0; i < n; i++) {
        struct json_object *v;
        if (json_object_object_get_ex(lines[i], "c", &v)) {
            cr_assert_lt(conns, 2);
            const char *uid = json_object_get_string(json_object_array_get_idx(v, 0));
            cr_expect_str_eq(uid, json_str_at(r.rec[conns], "uid"));
            conns++;
        } else if (json_object_object_get_ex(lines[i], "s", &v)) {
            summary = v;
        }
    }
    cr_expect_eq(conns, 2);
    cr_assert(summary, "no summary line");
    json_object_object_del(summary, "run_seconds");
    json_object_object_del(r.summary, "run_seconds");
    json_object_object_del(r.summary, "type");
    cr_expect(json_object_equal(summary, r.summary), "page summary %s\nJSON summary %s",
              json_object_to_json_string(summary), json_object_to_json_string(r.summary));
    /* the capture's name, escaped in the data and nowhere raw */
    const char *data = strstr(html, "id=\"data\">");
    cr_expect(strstr(data, "report\\u003cb>.pcap"), "escaped name");
    cr_expect_null(strstr(html, "report<b>"), "a raw '<' from the data");
    for (int i = 0; i < n; i++)
        json_object_put(lines[i]);
    free(html);
    run_free(&r);
}

/* The page refers to nothing outside itself: no src or href attribute, no URL but the SVG
 * namespace (a name, never fetched), and a Content-Security-Policy that allows no request. */
Test(report, page_is_self_contained) {
    struct cap c;
    struct session s;
    cap_open(&c, "report-self.pcap");
    conn_init(&s, &c, 53002, 80, CISN, SISN);
    standard_exchange(&s, 100, 200, SESSION_CLIENT, 11);
    conn_done(&s);
    cap_close(&c);
    char html_path[300];
    snprintf(html_path, sizeof html_path, "%s", tmp_path("self.html"));
    const char *args[] = {"-r", c.path, "--report", html_path, "-o", tmp_path("self.json"), NULL};
    struct run_result r = run_shakedown(NULL, args);
    cr_assert_eq(r.status, 0, "%s", r.err);
    char *html = read_whole_file(html_path);
    cr_expect_null(strstr(html, " src="));
    cr_expect_null(strstr(html, " href="));
    cr_expect_null(strstr(html, "https:"));
    const char *ns = "http://www.w3.org/2000/svg";
    for (const char *p = html; (p = strstr(p, "http:")) != NULL; p++)
        cr_expect(strncmp(p, ns, strlen(ns)) == 0, "a URL: %.60s", p);
    cr_expect(strstr(html, "content=\"default-src 'none';"), "no CSP");
    cr_expect(strstr(html, "</html>\n"), "the page is not finished");
    free(html);
    run_result_free(&r);
}

/* A report in a directory that does not exist: one line naming --report, exit 2, and the
 * records' output file (-o) is left as it was (checked before any output is opened). */
Test(report, uncreatable_report_is_a_usage_error) {
    struct cap c;
    struct session s;
    cap_open(&c, "report-bad.pcap");
    conn_init(&s, &c, 53003, 80, CISN, SISN);
    session_handshake(&s);
    conn_done(&s);
    cap_close(&c);
    char out[300];
    snprintf(out, sizeof out, "%s", tmp_path("kept.json"));
    FILE *f = fopen(out, "w");
    cr_assert(f);
    fputs("keep me\n", f);
    fclose(f);
    const char *args[] = {"-r", c.path, "-o", out, "--report", "/nonexistent-dir/r.html", NULL};
    struct run_result r = run_shakedown(NULL, args);
    cr_expect_eq(r.status, 2);
    cr_expect_eq(count_lines(r.err), 1, "%s", r.err);
    cr_expect(strstr(r.err, "--report /nonexistent-dir/r.html"), "%s", r.err);
    char *kept = read_whole_file(out);
    cr_expect_str_eq(kept, "keep me\n");
    free(kept);
    run_result_free(&r);
}

/* ---- per-segment detail ("d" lines) -------------------------------------------------------- */

/* The report of capture path made with the extra options opts (NULL-terminated, may be NULL):
 * its data lines into lines (at most max), their number returned. */
static int report_of(const char *path, const char *const *opts, struct json_object **lines,
                     int max) {
    char html_path[300];
    snprintf(html_path, sizeof html_path, "%s", tmp_path("detail.html"));
    const char *args[16] = {"-r", path, "--report", html_path, "-o", "/dev/null"};
    int n = 6;
    for (; opts && *opts && n < 15; opts++)
        args[n++] = *opts;
    args[n] = NULL;
    struct run_result r = run_shakedown(NULL, args);
    cr_assert_eq(r.status, 0, "%s", r.err);
    run_result_free(&r);
    char *html = read_whole_file(html_path);
    int k = data_lines(html, lines, max);
    free(html);
    return k;
}

/* The member of a data line's "c" array (or NULL if it is no "c" line). */
static struct json_object *row_at(struct json_object *line, int i) {
    struct json_object *c;
    return json_object_object_get_ex(line, "c", &c) ? json_object_array_get_idx(c, (size_t)i)
                                                    : NULL;
}

/* A data line's "d" object, or NULL. */
static struct json_object *detail_of(struct json_object *line) {
    struct json_object *d;
    return json_object_object_get_ex(line, "d", &d) ? d : NULL;
}

static int64_t member_int(struct json_object *o, const char *key) {
    struct json_object *v;
    cr_assert(json_object_object_get_ex(o, key, &v), "no %s", key);
    return json_object_get_int64(v);
}

#define ROW_UID 0
#define ROW_DETAIL 17 /* the row's last member: why it has no detail (report.c, detail_note) */
#define DETAIL_KEPT 0
#define DETAIL_PLAIN_FULL 2
#define DETAIL_NO_SLOT 4

/* 128 connections whose packets are interleaved (round robin: every connection's SYN, then
 * every SYN/ACK, ...): handshake, 20 × (client 100 bytes, server ACK), the client's close; 3 +
 * 40 + 4 = 47 segments each. Read by two workers, which run through the capture each at its own
 * pace, so the connections' first segments reach the report in another order than their serials:
 * every connection still has its detail, all 47 segments (the report used to assume serial order
 * and lost the detail of the connections that came late: this test caught it in 7 runs of 10). */
Test(report, every_connection_has_its_detail_under_workers) {
    enum { CONNS = 128 };
    struct cap c;
    static struct session s[CONNS];
    cap_open(&c, "report-workers.pcap");
    for (int i = 0; i < CONNS; i++)
        conn_init(&s[i], &c, (uint16_t)(54000 + i), 80, CISN + (uint32_t)i * 7919u, SISN);
    for (int i = 0; i < CONNS; i++)
        session_syn(&s[i]);
    for (int i = 0; i < CONNS; i++)
        session_syn_ack(&s[i]);
    for (int i = 0; i < CONNS; i++)
        session_ack(&s[i], SESSION_CLIENT);
    for (int round = 0; round < 20; round++)
        for (int side = 0; side < 2; side++)
            for (int i = 0; i < CONNS; i++)
                side ? session_ack(&s[i], SESSION_SERVER)
                     : session_data(&s[i], SESSION_CLIENT, 100);
    for (int i = 0; i < CONNS; i++) {
        session_close(&s[i], SESSION_CLIENT);
        conn_done(&s[i]);
    }
    cap_close(&c);
    const char *opts[] = {"--workers", "2", NULL};
    static struct json_object *lines[4 * CONNS];
    int n = report_of(c.path, opts, lines, 4 * CONNS);
    int rows = 0, details = 0;
    for (int i = 0; i < n; i++) {
        struct json_object *d = detail_of(lines[i]);
        if (row_at(lines[i], ROW_UID)) {
            rows++;
            cr_expect_eq(json_object_get_int(row_at(lines[i], ROW_DETAIL)), DETAIL_KEPT,
                         "%s has no detail", json_object_get_string(row_at(lines[i], ROW_UID)));
        } else if (d) {
            details++;
            struct json_object *p;
            cr_assert(json_object_object_get_ex(d, "p", &p));
            cr_expect_eq(json_object_array_length(p), 47);
            cr_expect_eq(member_int(d, "skipped"), 0);
        }
        json_object_put(lines[i]);
    }
    cr_expect_eq(rows, CONNS);
    cr_expect_eq(details, CONNS);
}

#define DETAIL_OPEN 256  /* report.h: REPORT_DETAIL_OPEN, connections kept at once */
#define DETAIL_PLAIN 200 /* REPORT_DETAIL_PLAIN, details written without a notable anomaly */

/* Connections with a notable anomaly (above info severity) come first. C0..C255 open one after
 * the other (handshakes only) and fill every place; X opens while they are all taken (no
 * detail), then its server advertises a zero window (zero_window, low severity): X takes the
 * place of C0, the first kept connection without a notable anomaly, and is kept from that
 * segment, its 4th, on. Y opens after X, with no anomaly: no place for it. Then Y, C0..C255 and
 * X close, in that order. Y: no place (note 4); C0: its place went to X (note 4); C1..C200 are
 * the first 200 plain connections to end with a detail (kept); C201..C255: 200 plain ones were
 * already written (note 2); X: kept, 3 segments skipped, then its zero-window ACK (window 0, from
 * the server), the client's close (FIN, ACK, FIN, ACK): 5 segments. */
Test(report, connections_with_notable_anomalies_come_first) {
    enum { CONNS = DETAIL_OPEN };
    struct cap c;
    static struct session s[CONNS];
    struct session x, y;
    cap_open(&c, "report-notable.pcap");
    for (int i = 0; i < CONNS; i++) {
        conn_init(&s[i], &c, (uint16_t)(55000 + i), 80, CISN, SISN);
        session_handshake(&s[i]);
    }
    conn_init(&x, &c, 56000, 80, CISN, SISN);
    session_handshake(&x);
    x.win[SESSION_SERVER] = 0;
    session_ack(&x, SESSION_SERVER);
    conn_init(&y, &c, 56001, 80, CISN, SISN);
    session_handshake(&y);
    session_close(&y, SESSION_CLIENT);
    for (int i = 0; i < CONNS; i++) {
        session_close(&s[i], SESSION_CLIENT);
        conn_done(&s[i]);
    }
    session_close(&x, SESSION_CLIENT);
    conn_done(&x);
    conn_done(&y);
    cap_close(&c);
    static struct json_object *lines[4 * CONNS];
    int n = report_of(c.path, NULL, lines, 4 * CONNS);
    /* The rows in the order of the closes: Y, C0..C255, X. */
    int row = 0, kept = 0;
    for (int i = 0; i < n; i++) {
        struct json_object *note = row_at(lines[i], ROW_DETAIL), *d = detail_of(lines[i]);
        if (note) {
            int want = row == 0 || row == 1      ? DETAIL_NO_SLOT
                       : row <= 1 + DETAIL_PLAIN ? DETAIL_KEPT
                       : row <= CONNS            ? DETAIL_PLAIN_FULL
                                                 : DETAIL_KEPT;
            cr_expect_eq(json_object_get_int(note), want, "row %d", row);
            row++;
        } else if (d) {
            kept++;
            if (row == CONNS + 2) { /* X's */
                struct json_object *p, *first;
                cr_assert(json_object_object_get_ex(d, "p", &p));
                cr_expect_eq(member_int(d, "skipped"), 3);
                cr_expect_eq(json_object_array_length(p), 5);
                first = json_object_array_get_idx(p, 0);
                cr_expect_eq(json_object_get_int(json_object_array_get_idx(first, 1)), 1);
                cr_expect_eq(json_object_get_int(json_object_array_get_idx(first, 6)), 0);
            }
        }
        json_object_put(lines[i]);
    }
    cr_expect_eq(row, CONNS + 2);
    cr_expect_eq(kept, DETAIL_PLAIN + 1);
}
