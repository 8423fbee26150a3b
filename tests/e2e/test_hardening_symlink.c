/* End-to-end tests of issue 18, point 4, for every file shakedown writes besides -o FILE's own
 * (test_hardening_output.c): the --report page, the --ladder-svg drawings and directory, and the
 * directories on the way to a file — `-F zeek -o STICKY/logs` where logs is a symlink, `-o
 * STICKY/d/out.json` where d is. In each, user nobody planted the symlink in a sticky directory
 * anyone may write to, pointing at root's files; shakedown runs as root, which is neither the
 * link's owner nor the directory's, so the rule of fs.protected_symlinks forbids following it
 * (this machine's kernel may not enforce it: shakedown must). The same link owned by root is
 * followed, so the rule, not "never a symlink", is what is tested. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hardening_helpers.h"
#include "run.h"

#define ROOTS "root's file\n"

/* A file of root's, which a planted symlink points at. */
static const char *victim_file(const char *name) {
    static char path[300];
    snprintf(path, sizeof path, "%s", tmp_path(name));
    file_put(path, ROOTS);
    return path;
}

/* A directory of root's holding conn.log, which a planted symlink points at. */
static const char *victim_dir(const char *name) {
    static char path[300];
    char log[400];
    snprintf(path, sizeof path, "%s", tmp_path(name));
    cr_assert_eq(mkdir(path, 0755), 0);
    snprintf(log, sizeof log, "%s/conn.log", path);
    file_put(log, ROOTS);
    return path;
}

/* STICKY/name, nobody's symlink to a directory of root's holding conn.log (victim_dir): the
 * link's path into link, the directory's returned. */
static const char *planted_dir_link(const char *victim_name, const char *name, char *link,
                                    size_t len) {
    const char *victim = victim_dir(victim_name);
    snprintf(link, len, "%s/%s", sticky_dir("sticky"), name);
    plant_symlink(victim, link, NOBODY_UID);
    return victim;
}

/* Fails the test if dir holds a file called name (created through a planted link). */
static void expect_absent(const char *dir, const char *name) {
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    cr_expect_neq(access(path, F_OK), 0, "%s was created in root's directory", name);
}

/* Runs shakedown with args, which must be refused at the start: exit 2, one line that names the
 * symlink and the rule, nothing on standard output. */
static void expect_refused(const char *const *args, const char *link) {
    struct run_result r = run_shakedown(NULL, args);
    expect_refused_run(&r, link); /* the symlink is named */
    cr_expect(r.err && strstr(r.err, "fs.protected_symlinks"), "%s", r.err);
    run_result_free(&r);
}

static void need_root(void) {
    require_root("the symlink must belong to another user");
}

/* --report STICKY/page.html, a link to root's file. Before: fopen(path, "w") followed it and
 * the page replaced root's file. */
Test(hardening_symlink, report_page) {
    need_root();
    char link[400];
    const char *victim = victim_file("victim-page");
    snprintf(link, sizeof link, "%s/page.html", sticky_dir("sticky"));
    plant_symlink(victim, link, NOBODY_UID);
    const char *args[] = {"-r", SAMPLE, "--report", link, "-o", "/dev/null", NULL};
    expect_refused(args, link);
    cr_expect(file_is(victim, ROOTS), "the victim was written");
    cr_assert_eq(lchown(link, 0, 0), 0); /* root's own link: followed, the page goes there */
    struct run_result r = run_shakedown(NULL, args);
    cr_expect_eq(r.status, 0, "exit %d; stderr: %s", r.status, r.err);
    char *page = file_get(victim);
    cr_expect(page && strstr(page, "</html>"), "the page is written through root's link");
    free(page);
    run_result_free(&r);
}

/* --ladder-svg STICKY: the sample's one TCP connection is drawn as STICKY/UID.svg, where nobody
 * planted a link of that name (the uid is the connection record's, read from a first run: the
 * name is all that is taken from it). Before: fopen followed it. Expected: root's file as it
 * was, the SVG's failure said on stderr once, naming the link; the run itself goes on (exit 0,
 * the record written), as for any SVG that cannot be written. */
Test(hardening_symlink, ladder_svg_file) {
    need_root();
    const char *json_args[] = {"-r", SAMPLE, "-F", "json", NULL};
    struct run_result r = run_shakedown(NULL, json_args);
    cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    char *nl = strchr(r.out, '\n');
    cr_assert(nl, "no record: %s", r.out);
    *nl = '\0';                                          /* the first line: the connection */
    struct json_object *conn = json_parse_record(r.out); /* one whole JSON object, strictly */
    const char *uid = json_str_at(conn, "uid");
    cr_assert(uid, "no uid in: %s", r.out);
    char dir[300], link[400];
    snprintf(dir, sizeof dir, "%s", sticky_dir("svg"));
    snprintf(link, sizeof link, "%s/%s.svg", dir, uid);
    json_object_put(conn);
    run_result_free(&r);
    const char *victim = victim_file("victim-svg");
    plant_symlink(victim, link, NOBODY_UID);
    const char *args[] = {"-r", SAMPLE, "--ladder-svg", dir, "-o", "/dev/null", NULL};
    r = run_shakedown(NULL, args);
    cr_expect_eq(r.status, 0, "exit %d; stderr: %s", r.status, r.err);
    cr_expect_eq(count_lines(r.err), 1, "%s", r.err);
    cr_expect(r.err && strstr(r.err, link) && strstr(r.err, "symlink"), "%s", r.err);
    cr_expect(file_is(victim, ROOTS), "the victim was written");
    run_result_free(&r);
}

/* --ladder-svg STICKY/d, where d is nobody's link to a directory of root's: refused at the
 * start (before: each SVG was written into root's directory). */
Test(hardening_symlink, ladder_svg_directory) {
    need_root();
    char link[400], drawn[400];
    const char *victim = planted_dir_link("victim-svgdir", "d", link, sizeof link);
    const char *args[] = {"-r", SAMPLE, "--ladder-svg", link, "-o", "/dev/null", NULL};
    expect_refused(args, link);
    snprintf(drawn, sizeof drawn, "%s/conn.log", victim);
    cr_expect(file_is(drawn, ROOTS));
}

/* -F zeek -o STICKY/logs, where logs is nobody's link to a directory of root's holding a
 * conn.log. Before: only the last component of DIR/conn.log was looked at — conn.log, no symlink
 * — so root's conn.log was replaced and a weird.log created beside it. Expected: refused, root's
 * conn.log as it was, no weird.log. With the link root's own: followed, conn.log rewritten (its
 * header line starts "#separator"). */
Test(hardening_symlink, zeek_directory) {
    need_root();
    char link[400], conn_log[400];
    const char *victim = planted_dir_link("victim-logs", "logs", link, sizeof link);
    snprintf(conn_log, sizeof conn_log, "%s/conn.log", victim);
    const char *args[] = {"-r", SAMPLE, "-F", "zeek", "-o", link, NULL};
    expect_refused(args, link);
    cr_expect(file_is(conn_log, ROOTS), "root's conn.log was written");
    expect_absent(victim, "weird.log");
    cr_assert_eq(lchown(link, 0, 0), 0);
    struct run_result r = run_shakedown(NULL, args);
    cr_expect_eq(r.status, 0, "exit %d; stderr: %s", r.status, r.err);
    char *log = file_get(conn_log);
    cr_expect(log && strncmp(log, "#separator", 10) == 0, "conn.log now: %.40s", log);
    free(log);
    run_result_free(&r);
}

/* -o STICKY/d/out.json, where d is nobody's link to a directory of root's: a symlink before the
 * last component is under the rule too. Before: d was followed and out.json created in root's
 * directory. */
Test(hardening_symlink, directory_on_the_way) {
    need_root();
    char link[400], out[500];
    const char *victim = planted_dir_link("victim-way", "d", link, sizeof link);
    snprintf(out, sizeof out, "%s/out.json", link);
    const char *args[] = {"-r", SAMPLE, "-o", out, NULL};
    expect_refused(args, link);
    expect_absent(victim, "out.json");
}
