/* End-to-end tests of --report FILE.html (issue 15) that need no browser (tests/report opens the
 * page in Chromium): the page's data block holds one line per connection record and the same
 * summary as the JSON summary record of the run; nothing in it can end the script element early
 * (every '<' of the data escaped); the page refers to nothing outside itself; a report that
 * cannot be created is refused before anything is read. Captures: conn_helpers.h. */
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
        out[n] = json_tokener_parse(line);
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
