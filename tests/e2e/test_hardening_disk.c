/* End-to-end tests of issue 18, points 3 and 6, with the failures real disks and directories
 * give: a disk that fills up in the middle of a record and then has room again (ENOSPC from an
 * LD_PRELOAD shim on write(2), e2e/shim/enospc.c), and a rotation the directory's permissions
 * forbid (shakedown run as user nobody, through setpriv, on a file it may write in a directory
 * it may not). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hardening_helpers.h"
#include "run.h"

/* 50 healthy connections (ports 42000 to 42049, each closed before the next starts, so their
 * records come in that order) and the summary: 51 JSON records of about 700 bytes. */
enum { CONNS = 50, FIRST_PORT = 42000, FAILS = 3 };

/* The src_port of every connection record of text in seen[port - FIRST_PORT]; returns the
 * summary (the last line, to put). */
static struct json_object *ports_seen(const char *text, bool seen[CONNS]) {
    char *copy = strdup(text), *save = NULL;
    cr_assert(copy);
    memset(seen, 0, CONNS * sizeof seen[0]);
    for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        struct json_object *o = json_parse_record(l);
        int64_t port = json_int_at(o, "src_port");
        if (o && strcmp(json_str_or(o, "type"), "connection") == 0 && port >= FIRST_PORT &&
            port < FIRST_PORT + CONNS)
            seen[port - FIRST_PORT] = true;
        json_object_put(o);
    }
    free(copy);
    return json_last_line(text);
}

/* The disk has room for 10000 bytes (some 14 records), then the next three write(2) calls fail
 * with ENOSPC, then there is room again. The record that crosses 10000 bytes is written in part
 * and its rest fails (the first ENOSPC): it is lost, and its part must be cut off again; the two
 * records after it fail whole. Expected: exit 3, the failure said once and the 3 lost records
 * counted (stderr, and the summary's records_lost and the output's failed); every line of the
 * file a whole record — 47 connections and the summary — and the 3 missing connections
 * consecutive, with every record after them there (writing went on once there was room). */
Test(hardening_disk, full_then_room_again) {
    const char *cap = healthy_capture("fifty.pcap", CONNS);
    char out[300], asan[512];
    snprintf(out, sizeof out, "%s", tmp_path("full.json"));
    const char *asan_before = getenv("ASAN_OPTIONS");
    /* the shim comes before ASan's runtime in the list of libraries: ASan must not mind */
    snprintf(asan, sizeof asan, "%s%sverify_asan_link_order=0", asan_before ? asan_before : "",
             asan_before ? ":" : "");
    setenv("ASAN_OPTIONS", asan, 1);
    setenv("LD_PRELOAD", ENOSPC_SHIM, 1);
    setenv("ENOSPC_SHIM_PATH", out, 1);
    setenv("ENOSPC_SHIM_AFTER", "10000", 1);
    setenv("ENOSPC_SHIM_FAILS", "3", 1);
    const char *args[] = {"-r", cap, "-F", "json", "-o", out, NULL};
    struct run_result r = run_shakedown(NULL, args);
    unsetenv("LD_PRELOAD");
    cr_expect_eq(r.status, 3, "exit %d; stderr: %s", r.status, r.err);
    cr_expect(strstr(r.err, "No space left on device"), "%s", r.err);
    cr_expect(strstr(r.err, "3 records could not be written"), "%s", r.err);
    int lines, whole;
    cr_expect(file_lines_parse(out, &lines, &whole), "the file ends inside a record");
    cr_expect_eq(lines, whole, "%d of %d lines are whole records", whole, lines);
    cr_expect_eq(whole, CONNS - FAILS + 1, "47 connections and the summary");
    char *text = file_get(out);
    cr_assert(text);
    bool seen[CONNS];
    struct json_object *summary = ports_seen(text, seen);
    int first_missing = -1, missing = 0;
    for (int i = 0; i < CONNS; i++)
        if (!seen[i]) {
            first_missing = first_missing < 0 ? i : first_missing;
            missing++;
        }
    cr_expect_eq(missing, FAILS);
    cr_expect(first_missing > 0 && first_missing + FAILS < CONNS, "lost from %d", first_missing);
    for (int i = first_missing; i >= 0 && i < first_missing + FAILS && i < CONNS; i++)
        cr_expect_not(seen[i], "the lost records are consecutive: %d is there", i);
    cr_expect_eq(json_int_at(summary, "records_lost"), FAILS);
    struct json_object *outputs = json_at(summary, "outputs");
    struct json_object *first = outputs ? json_object_array_get_idx(outputs, 0) : NULL;
    cr_expect_eq(json_int_at(first, "failed"), FAILS);
    cr_expect_eq(json_int_at(first, "written"), CONNS - FAILS);
    json_object_put(summary);
    free(text);
    run_result_free(&r);
}

/* Files in dir. */
static int files_in(const char *dir) {
    DIR *d = opendir(dir);
    cr_assert(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

/* shakedown as user nobody (setpriv) writes out.json, nobody's file, in a directory nobody owns
 * but has made read-only (0555): the file can be written, no file can be created beside it, so
 * every rotation (--rotate-size 2k: every three records or so) fails for want of a name
 * (EACCES). Before issue 18 a failed rotation reopened the file with "w", truncating it.
 * Expected: exit 0 (nothing lost), said once on stderr with the reason, all 51 records whole in
 * out.json, the summary counting the failed rotations, and no other file in the directory. */
Test(hardening_disk, rotation_refused_by_permissions) {
    require_root("shakedown must run as another user");
    cr_assert_eq(system("command -v setpriv >/dev/null 2>&1"), 0, "setpriv (util-linux) needed");
    const char *cap = healthy_capture("fifty.pcap", CONNS);
    cr_assert_eq(chmod(cap, 0644), 0);
    cr_assert_eq(chmod(tmp_path(""), 0711), 0); /* nobody may pass through to its files */
    char dir[300], out[400];
    snprintf(dir, sizeof dir, "%s", tmp_path("readonly"));
    snprintf(out, sizeof out, "%s/out.json", dir);
    cr_assert_eq(mkdir(dir, 0755), 0);
    file_put(out, "");
    cr_assert(chown(out, NOBODY_UID, NOBODY_UID) == 0 && chown(dir, NOBODY_UID, NOBODY_UID) == 0);
    cr_assert_eq(chmod(dir, 0555), 0);
    const char *args[] = {"-r", cap, "-F", "json", "-o", out, "--rotate-size", "2k", NULL};
    struct run_result r =
        run_sh("exec setpriv --reuid=65534 --regid=65534 --clear-groups \"$0\" \"$@\"", args);
    cr_expect_eq(r.status, 0, "exit %d; stderr: %s", r.status, r.err);
    cr_expect_eq(count_lines(r.err), 1, "said once: %s", r.err);
    cr_expect(strstr(r.err, "cannot rotate") && strstr(r.err, "Permission denied"), "%s", r.err);
    int lines, whole;
    cr_expect(file_lines_parse(out, &lines, &whole));
    cr_expect_eq(lines, whole);
    cr_expect_eq(whole, CONNS + 1, "every record in the one file");
    char *text = file_get(out);
    struct json_object *summary = text ? json_last_line(text) : NULL;
    cr_expect_geq(json_int_at(summary, "rotations_failed"), 1);
    json_object_put(summary);
    free(text);
    cr_expect_eq(files_in(dir), 1, "only out.json");
    run_result_free(&r);
}
