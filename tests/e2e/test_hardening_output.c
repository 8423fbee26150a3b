/* End-to-end tests of issue 18, points 3, 4 and 6: output files in hostile places — a rotation
 * that cannot happen loses nothing, rotated names never replace a file, a symlink planted by
 * another user in a sticky directory is not followed, files are created 0640, and a record cut
 * short by a full file is taken back so every line stays a whole record. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hardening_helpers.h"
#include "run.h"

/* 50 healthy connections: with -F json, 50 connection records and the summary, 51 lines of
 * about 700 bytes each, so --rotate-size 2k asks for a rotation every three records or so. */
enum { CONNS = 50, RECORDS = CONNS + 1 };

/* Whole records in the files of dir whose names start with prefix (the output and what was
 * rotated from it), not counting files whose content is exactly `skip`; fails the test if a file
 * does not end with a newline or holds a line that is not a JSON object. */
static int records_in(const char *dir, const char *prefix, const char *skip) {
    DIR *d = opendir(dir);
    cr_assert(d, "cannot list %s", dir);
    int records = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        char *text = file_get(path);
        bool skipped = text && skip && strcmp(text, skip) == 0;
        free(text);
        if (skipped)
            continue;
        int lines, whole;
        cr_expect(file_lines_parse(path, &lines, &whole), "%s ends inside a record", path);
        cr_expect_eq(lines, whole, "%s: %d of %d lines are whole records", path, whole, lines);
        records += whole;
    }
    closedir(d);
    return records;
}

/* Removes dir and the files in it (the 8000 names of the test below). */
static void dir_remove(const char *dir) {
    DIR *d = opendir(dir);
    if (!d)
        return;
    char path[1024];
    for (struct dirent *e; (e = readdir(d));) {
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static const char *make_dir(const char *name, mode_t mode) {
    const char *dir = tmp_path(name);
    cr_assert(mkdir(dir, 0700) == 0 || errno == EEXIST);
    cr_assert_eq(chmod(dir, mode), 0); /* chmod: mkdir's mode goes through the umask */
    return dir;
}

/* The output's name is 245 bytes long, so FILE.YYYYmmddTHHMMSSZ (17 more) exceeds the 255 bytes
 * a file name may have: no rotation can happen. Before issue 18 rename() failed and the file was
 * then reopened with "w" — truncated, so every record before the last attempt was lost, with
 * exit status 0. Expected: all 51 records in the one file, whole; one line on stderr (said once
 * although every further 2k bytes try again); exit 0 (nothing lost); the summary counts the
 * attempts that failed: at least one. */
Test(hardening_output, rotation_that_cannot_happen_loses_nothing) {
    const char *cap = healthy_capture("fifty.pcap", CONNS);
    const char *dir = make_dir("longname", 0700);
    char name[246], out[1024];
    memset(name, 'a', 240);
    memcpy(name + 240, ".json", 6);
    snprintf(out, sizeof out, "%s/%s", dir, name);
    const char *args[] = {"-r", cap, "-F", "json", "-o", out, "--rotate-size", "2k", NULL};
    struct run_result r = run_shakedown(NULL, args);
    cr_expect_eq(r.status, 0, "exit %d; stderr: %s", r.status, r.err);
    cr_expect_eq(count_lines(r.err), 1, "said once: %s", r.err);
    cr_expect(strstr(r.err, "cannot rotate"), "%s", r.err);
    cr_expect_eq(records_in(dir, "aaaa", NULL), RECORDS);
    char *text = file_get(out);
    cr_assert(text);
    struct json_object *summary = json_last_line(text);
    cr_expect_geq(json_int_at(summary, "rotations_failed"), 1);
    json_object_put(summary);
    free(text);
    run_result_free(&r);
}

/* Every name a rotation in the next seconds could take is there already: FILE.STAMP and
 * FILE.STAMP.1 .. .999 for each second from a second ago to 6 s on (the run takes well under
 * one), each holding "sentinel", and FILE.STAMP.1000 is a symlink another user might have
 * planted, to a file that does not exist. Before issue 18 the 1000th name tried, .999, was
 * used anyway and rename() replaced it. Expected: every sentinel intact, the symlink's target
 * never created, and all 51 records whole in FILE and the files rotated from it. */
Test(hardening_output, rotated_names_never_replace_a_file) {
    const char *cap = healthy_capture("fifty.pcap", CONNS);
    char dir[300], out[400], victim[400], name[800];
    snprintf(dir, sizeof dir, "%s", make_dir("taken", 0700));
    snprintf(out, sizeof out, "%s/out.json", dir);
    snprintf(victim, sizeof victim, "%s/victim", tmp_path(""));
    time_t now = time(NULL);
    for (time_t t = now - 1; t <= now + 6; t++) {
        char stamp[32];
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
        for (int n = 0; n < 1000; n++) {
            if (n)
                snprintf(name, sizeof name, "%s.%s.%d", out, stamp, n);
            else
                snprintf(name, sizeof name, "%s.%s", out, stamp);
            file_put(name, "sentinel\n");
        }
        snprintf(name, sizeof name, "%s.%s.1000", out, stamp);
        cr_assert_eq(symlink(victim, name), 0);
    }
    const char *args[] = {"-r", cap, "-F", "json", "-o", out, "--rotate-size", "2k", NULL};
    struct run_result r = run_shakedown(NULL, args);
    cr_expect_eq(r.status, 0, "exit %d; stderr: %s", r.status, r.err);
    cr_expect_eq(records_in(dir, "out.json", "sentinel\n"), RECORDS);
    int sentinels = 0;
    DIR *d = opendir(dir);
    cr_assert(d);
    for (struct dirent *e; (e = readdir(d));) {
        snprintf(name, sizeof name, "%s/%s", dir, e->d_name);
        char *text = file_get(name);
        sentinels += text && strcmp(text, "sentinel\n") == 0;
        free(text);
    }
    closedir(d);
    cr_expect_eq(sentinels, 8 * 1000, "8 seconds' worth of 1000 names each");
    cr_expect_neq(access(victim, F_OK), 0, "the planted symlink was followed");
    run_result_free(&r);
    dir_remove(dir);
}

/* A sticky directory anyone may write to (/tmp's mode 1777, owned by root like /tmp), where
 * user nobody planted out.json as a symlink to a file of root's. shakedown runs as root, which
 * is neither the link's owner nor the directory's, so fs.protected_symlinks's rule forbids
 * following it (this machine's kernel may not enforce it: shakedown must). Expected: exit 2,
 * one line naming the symlink, the victim unchanged. The same link owned by root is followed
 * (its owner is the user shakedown runs as): the victim then holds the records. */
Test(hardening_output, planted_symlink_not_followed) {
    if (geteuid() != 0)
        cr_skip_test("needs root: the symlink must belong to another user");
    const char *sticky = make_dir("sticky", 01777);
    char link_path[400], victim[400];
    snprintf(link_path, sizeof link_path, "%s/out.json", sticky);
    snprintf(victim, sizeof victim, "%s", tmp_path("victim-of-root"));
    file_put(victim, "root's file\n");
    cr_assert_eq(symlink(victim, link_path), 0);
    cr_assert_eq(lchown(link_path, 65534, 65534), 0); /* nobody:nogroup */
    const char *args[] = {"-r", SHAKEDOWN_SOURCE_DIR "/samples/clean-ipv4.pcap", "-o", link_path,
                          NULL};
    struct run_result r = run_shakedown(NULL, args);
    cr_expect_eq(r.status, 2, "exit %d; stderr: %s", r.status, r.err);
    cr_expect_eq(count_lines(r.err), 1, "%s", r.err);
    cr_expect(strstr(r.err, "symlink"), "%s", r.err);
    char *text = file_get(victim);
    cr_expect(text && strcmp(text, "root's file\n") == 0, "victim now: %s", text);
    free(text);
    run_result_free(&r);

    cr_assert_eq(lchown(link_path, 0, 0), 0);
    r = run_shakedown(NULL, args);
    cr_expect_eq(r.status, 0, "exit %d; stderr: %s", r.status, r.err);
    int lines, whole;
    cr_expect(file_lines_parse(victim, &lines, &whole));
    cr_expect_eq(whole, 2, "the sample's one connection and the summary");
    run_result_free(&r);
    unlink(link_path);
}

/* Files -o creates: mode 0640 under umask 0 (before issue 18: 0666 minus the umask, so 0666),
 * and with --file-mode 0600 that. */
Test(hardening_output, created_0640) {
    const char *modes[][2] = {{NULL, "0640"}, {"0600", "0600"}};
    for (int i = 0; i < 2; i++) {
        char out[400];
        snprintf(out, sizeof out, "%s", tmp_path(i ? "mode-given.json" : "mode-default.json"));
        const char *args[] = {"-r",
                              SHAKEDOWN_SOURCE_DIR "/samples/clean-ipv4.pcap",
                              "-o",
                              out,
                              modes[i][0] ? "--file-mode" : NULL,
                              modes[i][0],
                              NULL};
        struct run_result r = run_sh("umask 0 && exec \"$0\" \"$@\"", args);
        cr_expect_eq(r.status, 0, "exit %d; stderr: %s", r.status, r.err);
        struct stat st;
        cr_assert_eq(stat(out, &st), 0);
        char got[8];
        snprintf(got, sizeof got, "%04o", (unsigned)(st.st_mode & 07777));
        cr_expect_str_eq(got, modes[i][1]);
        run_result_free(&r);
    }
}

/* A file that fills up in the middle of a record: ulimit -f 20 limits files to 20 blocks (10240
 * bytes with dash's 512-byte blocks, 20480 with bash's 1024), and SIGXFSZ is ignored, so the
 * write that crosses the limit writes what fits and the next gets EFBIG — the behaviour of a full
 * disk (ENOSPC) for one record. Before issue 18 that part stayed in the file, and later records
 * went on after it on the same line. Expected: exit 3 (records lost), the file ends with a
 * newline and every line in it is a whole record, and there are some (the limit holds several). */
Test(hardening_output, record_cut_short_is_taken_back) {
    const char *cap = healthy_capture("fifty.pcap", CONNS);
    char out[400];
    snprintf(out, sizeof out, "%s", tmp_path("limited.json"));
    const char *args[] = {"-r", cap, "-F", "json", "-o", out, NULL};
    struct run_result r = run_sh("trap '' XFSZ && ulimit -f 20 && exec \"$0\" \"$@\"", args);
    cr_expect_eq(r.status, 3, "exit %d; stderr: %s", r.status, r.err);
    int lines, whole;
    cr_expect(file_lines_parse(out, &lines, &whole), "the file ends inside a record");
    cr_expect_eq(lines, whole, "%d of %d lines are whole records", whole, lines);
    cr_expect_gt(whole, 5);
    cr_expect_lt(whole, RECORDS, "the limit must have cut the output short");
    run_result_free(&r);
}
