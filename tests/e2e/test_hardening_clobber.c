/* End-to-end tests of issue 18, point 7, for outputs opened one after another: every output (and
 * the --report page) must be opened before any is emptied, so one that cannot be opened leaves
 * the files of the others as they were; and a run that starts empties every existing file it
 * writes (opened without O_TRUNC, truncated once all are open), so nothing of an earlier, longer
 * file is left behind its records. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hardening_helpers.h"
#include "run.h"

/* A path in a directory that does not exist: opening it fails (ENOENT). */
#define UNOPENABLE "/nonexistent-shakedown-dir/x.json"

/* Each run below is refused at the start (expect_refused_run: exit 2, one line naming what
 * could not be opened, nothing on standard output). */

/* -o q.json -o /nonexistent/x.json: the second cannot be opened. Before: q.json was truncated
 * by the time the second failed (exit 2, q.json empty). */
Test(hardening_clobber, second_output_fails) {
    char q[300];
    snprintf(q, sizeof q, "%s", tmp_path("q.json"));
    file_put(q, EARLIER);
    const char *args[] = {"-r", SAMPLE, "-o", q, "-o", UNOPENABLE, NULL};
    struct run_result r = run_shakedown(NULL, args);
    expect_refused_run(&r, UNOPENABLE);
    cr_expect(file_is(q, EARLIER), "q.json was changed");
    run_result_free(&r);
}

/* --report old.html -o /nonexistent/x.json: the page is opened first. Before: old.html was
 * overwritten with the page's head. */
Test(hardening_clobber, output_fails_after_report) {
    char page[300];
    snprintf(page, sizeof page, "%s", tmp_path("old.html"));
    file_put(page, "<p>an earlier report</p>\n");
    const char *args[] = {"-r", SAMPLE, "--report", page, "-o", UNOPENABLE, NULL};
    struct run_result r = run_shakedown(NULL, args);
    expect_refused_run(&r, UNOPENABLE);
    cr_expect(file_is(page, "<p>an earlier report</p>\n"), "old.html was changed");
    run_result_free(&r);
}

/* -o a.json -F zeek -o DIR, where DIR/conn.log exists and DIR/weird.log is a directory: the
 * output's first log opens, its second cannot (EISDIR). Before: a.json and DIR/conn.log were
 * both truncated. */
Test(hardening_clobber, second_log_of_a_directory_fails) {
    char a[300], dir[300], conn_log[400], weird_log[400];
    snprintf(a, sizeof a, "%s", tmp_path("a.json"));
    snprintf(dir, sizeof dir, "%s", tmp_path("logs"));
    snprintf(conn_log, sizeof conn_log, "%s/conn.log", dir);
    snprintf(weird_log, sizeof weird_log, "%s/weird.log", dir);
    file_put(a, EARLIER);
    cr_assert_eq(mkdir(dir, 0755), 0);
    file_put(conn_log, "#an earlier conn.log\n");
    cr_assert_eq(mkdir(weird_log, 0755), 0);
    const char *args[] = {"-r", SAMPLE, "-F", "json", "-o", a, "-F", "zeek", "-o", dir, NULL};
    struct run_result r = run_shakedown(NULL, args);
    expect_refused_run(&r, weird_log);
    cr_expect(file_is(a, EARLIER), "a.json was changed");
    cr_expect(file_is(conn_log, "#an earlier conn.log\n"), "conn.log was changed");
    run_result_free(&r);
}

/* A run that starts: an existing output and page, each far longer than what the run writes
 * (10,000 lines of an earlier run), are emptied first — the output then holds exactly the
 * sample's records (its one connection and the summary: 2 lines, both JSON), and the page ends
 * with the page's own end, with no earlier line left in it. */
Test(hardening_clobber, existing_files_emptied_when_the_run_starts) {
    char out[300], page[300];
    snprintf(out, sizeof out, "%s", tmp_path("long.json"));
    snprintf(page, sizeof page, "%s", tmp_path("long.html"));
    FILE *f = fopen(out, "w"), *g = fopen(page, "w");
    cr_assert(f && g);
    for (int i = 0; i < 10000; i++) {
        fputs(EARLIER, f);
        fputs("earlier page line\n", g);
    }
    cr_assert(fclose(f) == 0 && fclose(g) == 0);
    const char *args[] = {"-r", SAMPLE, "-F", "json", "-o", out, "--report", page, NULL};
    struct run_result r = run_shakedown(NULL, args);
    cr_expect_eq(r.status, 0, "exit %d; stderr: %s", r.status, r.err);
    int lines, whole;
    cr_expect(file_lines_parse(out, &lines, &whole));
    cr_expect_eq(lines, 2, "the connection and the summary, nothing earlier: %d lines", lines);
    cr_expect_eq(whole, 2);
    char *text = file_get(out);
    cr_expect(text && !strstr(text, "earlier run"));
    free(text);
    text = file_get(page);
    cr_expect(text && !strstr(text, "earlier page line"), "an earlier line is left");
    size_t len = text ? strlen(text) : 0;
    cr_expect(len > 8 && strcmp(text + len - 8, "</html>\n") == 0, "the page ends with </html>");
    free(text);
    run_result_free(&r);
}
