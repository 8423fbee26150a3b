/* End-to-end tests of issue 18, points 2 and 7: a run that cannot start says why in one line,
 * exits 2, does not crash, and leaves every existing file as it was — memory too short for the
 * flow tables, an input that does not exist, an unknown -Z user, an output that is an input. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hardening_helpers.h"
#include "run.h"

static char kept[300]; /* a copy of the file a failed start must leave as it is */

/* An output file from an earlier run, which a failed start must leave as it is. */
static const char *existing_output(void) {
    const char *path = tmp_path("existing.json");
    file_put(path, "{\"type\":\"earlier run\"}\n");
    snprintf(kept, sizeof kept, "%s", tmp_path("existing.json.copy"));
    file_copy(path, kept);
    return path;
}

/* The common expectations: exit 2 (setup error, shakedown(1)), not killed by a signal, one line
 * on stderr holding `needle`, nothing on stdout, and the file at keep still what `kept` holds. */
static void expect_refused(struct run_result *r, const char *needle, const char *keep) {
    expect_refused_run(r, needle);
    cr_expect(file_same(keep, kept), "%s was changed", keep);
}

/* --max-flows 100000000: the tables need about 105 GB (1048 bytes per flow, docs/schema.md), more
 * than this machine gives one process. Before issue 18 the message was followed by a SIGSEGV
 * (the summary was written with no input name), and the output had been truncated. Expected:
 * the line names the setting and how many bytes it needs. Under ASan, its allocator is told to
 * return NULL like malloc instead of aborting on the size. */
Test(hardening_setup, max_flows_too_large) {
    setenv("ASAN_OPTIONS", "allocator_may_return_null=1", 1);
    const char *out = existing_output();
    const char *args[] = {"-r", SAMPLE, "--max-flows", "100000000", "-o", out, NULL};
    struct run_result r = run_shakedown(NULL, args);
    expect_refused(&r, "--max-flows 100000000 needs", out);
    cr_expect(strstr(r.err, "bytes"), "the memory needed is said: %s", r.err);
    run_result_free(&r);
}

/* The default --max-flows 262144 reserves about 269 MiB (docs/schema.md: 1048 bytes per flow for
 * the pools, plus the hash indexes and host counters); with the address space limited to 200000
 * KiB (204800000 bytes) the tables cannot be had, so the message must name a need above that
 * limit (the exact figure moves with every field added to a connection). ASan reserves terabytes
 * of shadow address space, so a limited address space cannot be tested under it: the test exists
 * only in builds without ASan (the release suite runs it), rather than being skipped. */
#if !defined(__SANITIZE_ADDRESS__)
Test(hardening_setup, address_space_too_small) {
    const char *out = existing_output();
    const char *args[] = {"-r", SAMPLE, "-o", out, NULL};
    struct run_result r = run_sh("ulimit -v 200000 && exec \"$0\" \"$@\"", args);
    expect_refused(&r, "--max-flows 262144 needs ", out);
    const char *needs = r.err ? strstr(r.err, " needs ") : NULL;
    unsigned long long bytes = needs ? strtoull(needs + 7, NULL, 10) : 0;
    cr_expect_gt(bytes, 204800000ull, "the need stated is above the limit: %s", r.err);
    cr_expect_lt(bytes, 262144ull * 2048, "and plausible (under 2 KiB per flow): %s", r.err);
    run_result_free(&r);
}
#endif

/* -r of a file that does not exist: refused before -o opens (and truncates) the output. */
Test(hardening_setup, missing_input_keeps_output) {
    const char *out = existing_output();
    const char *missing = tmp_path("missing.pcap");
    const char *args[] = {"-r", missing, "-o", out, NULL};
    struct run_result r = run_shakedown(NULL, args);
    expect_refused(&r, "No such file", out);
    cr_expect(strstr(r.err, missing), "the input is named: %s", r.err);
    run_result_free(&r);
}

/* -Z of a user that does not exist: found out before the output is opened. As root the capture
 * on lo opens first; without root the interface fails first, which keeps the file too. */
Test(hardening_setup, unknown_user_keeps_output) {
    const char *out = existing_output();
    const char *args[] = {"-i", "lo", "-Z", "nosuchuser-shakedown", "-o", out, NULL};
    struct run_result r = run_shakedown(NULL, args);
    expect_refused(&r, geteuid() == 0 ? "nosuchuser-shakedown" : "lo", out);
    run_result_free(&r);
}

/* -r t.pcap -o t.pcap would truncate the capture before reading it; the same file under another
 * name (a hard link: same device and inode) too, and as standard input (-r - < t.pcap). The
 * capture must be left byte for byte. */
Test(hardening_setup, output_is_an_input) {
    const char *cap = healthy_capture("t.pcap", 3);
    snprintf(kept, sizeof kept, "%s", tmp_path("t.pcap.copy"));
    file_copy(cap, kept);
    const char *args[] = {"-r", cap, "-o", cap, NULL};
    struct run_result r = run_shakedown(NULL, args);
    expect_refused(&r, "is the input", cap);
    run_result_free(&r);
    char other[300];
    snprintf(other, sizeof other, "%s", tmp_path("other-name.pcap"));
    cr_assert_eq(link(cap, other), 0);
    const char *args2[] = {"-r", SAMPLE, "-r", cap, "-o", other, NULL};
    r = run_shakedown(NULL, args2);
    expect_refused(&r, "is the input", cap);
    run_result_free(&r);
    const char *args3[] = {"-r", "-", "-o", cap, NULL}; /* shakedown -r - -o t.pcap < t.pcap */
    r = run_shakedown(cap, args3);
    expect_refused(&r, "is the input", cap);
    run_result_free(&r);
    const char *args4[] = {"-r", cap, "--report", cap, NULL}; /* the HTML page is an output too */
    r = run_shakedown(NULL, args4);
    expect_refused(&r, "is the input", cap);
    run_result_free(&r);
}

/* --report of an existing page with -i naming no interface: the interface is refused before the
 * page is opened (and truncated). */
Test(hardening_setup, unknown_interface_keeps_report) {
    const char *page = tmp_path("report.html");
    file_put(page, "<p>an earlier report</p>\n");
    snprintf(kept, sizeof kept, "%s", tmp_path("report.html.copy"));
    file_copy(page, kept);
    const char *args[] = {"-i", "nosuchif-shakedown0", "--report", page, NULL};
    struct run_result r = run_shakedown(NULL, args);
    expect_refused(&r, "nosuchif-shakedown0", page);
    run_result_free(&r);
}
