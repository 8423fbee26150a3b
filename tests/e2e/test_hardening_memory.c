/* End-to-end tests of issue 18, point 2, at the edge: an address space (ulimit -v, RLIMIT_AS)
 * just too small for the run. Every allocation the start needs — the tables of every --workers
 * tracker, the table of checksum sources, the first input's buffers, each output's record buffer
 * — is made before any output is opened, so a start that fails for memory says so in one line,
 * exits 2 and leaves an existing output as it was. Before, a trial allocation of one tracker was
 * freed again and the real ones came after the outputs had been truncated: with --workers N the
 * trial was N times too small, and without workers a limit between the trial's need and the
 * run's (the writer thread's stack came in between) truncated the output, then failed.
 *
 * ASan reserves terabytes of shadow address space, so a limited address space cannot be tested
 * under it: the tests exist only in builds without ASan (the release suite runs them), as in
 * test_hardening_setup.c. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hardening_helpers.h"
#include "run.h"

#if !defined(__SANITIZE_ADDRESS__)

#define DEFAULT_MAX_FLOWS 262144ull
#define DOC_PER_FLOW 1048ull /* docs/schema.md, memory_reserved_bytes: bytes per flow */

/* shakedown -r SAMPLE -o out extra... with the address space limited to kib KiB, out holding
 * EARLIER before. */
static struct run_result run_limited(unsigned long kib, const char *out, const char *extra) {
    char script[128];
    snprintf(script, sizeof script, "ulimit -v %lu && exec \"$0\" \"$@\"", kib);
    file_put(out, EARLIER);
    const char *args[] = {"-r", SAMPLE, "-o", out, extra ? "--workers" : NULL, extra, NULL};
    return run_sh(script, args);
}

/* What a run under a limit may do: start and write the sample's records whole (exit 0: its one
 * connection and the summary, two JSON lines), or not start (exit 2, one line about memory, the
 * output as it was). Anything else — the output emptied by a start that then failed, a crash —
 * fails the test. Returns whether it started. */
static bool expect_started_or_untouched(const struct run_result *r, const char *out,
                                        unsigned long kib) {
    if (r->status == 0) {
        int lines, whole;
        cr_expect(file_lines_parse(out, &lines, &whole), "at %lu KiB", kib);
        cr_expect(lines == 2 && whole == 2, "at %lu KiB: %d lines, %d whole", kib, lines, whole);
        return true;
    }
    cr_expect_eq(r->status, 2, "at %lu KiB: exit %d; stderr: %s", kib, r->status, r->err);
    cr_expect_eq(count_lines(r->err), 1, "at %lu KiB: %s", kib, r->err);
    cr_expect(r->err && (strstr(r->err, "memory") || strstr(r->err, "allocate")), "at %lu KiB: %s",
              kib, r->err);
    cr_expect(file_is(out, EARLIER), "at %lu KiB the output was changed; stderr: %s", kib, r->err);
    return false;
}

/* The smallest limit (KiB, to within 1 MiB) under which the run starts: 100 MB is far too little
 * for the default tables (about 269 MiB each, docs/schema.md), 2 GB is plenty. */
static unsigned long start_threshold(const char *out, const char *workers) {
    unsigned long lo = 100000, hi = 2000000;
    while (hi - lo > 1024) {
        unsigned long mid = lo + (hi - lo) / 2;
        struct run_result r = run_limited(mid, out, workers);
        if (r.status == 0)
            hi = mid;
        else
            lo = mid;
        run_result_free(&r);
    }
    return hi;
}

/* Every limit from 16 MiB below the threshold to 4 MiB above it, 64 KiB apart: each either starts
 * or leaves the output alone. The band of the old trial allocation was some 10 MiB wide (the
 * writer thread's 8 MiB stack and more); the first input's buffer, 128 KiB. */
static void sweep(const char *name, const char *workers) {
    char out[300];
    snprintf(out, sizeof out, "%s", tmp_path(name));
    unsigned long t = start_threshold(out, workers);
    int started = 0, refused = 0;
    for (unsigned long kib = t - 16384; kib <= t + 4096; kib += 64) {
        struct run_result r = run_limited(kib, out, workers);
        if (expect_started_or_untouched(&r, out, kib))
            started++;
        else
            refused++;
        run_result_free(&r);
    }
    cr_expect_gt(started, 0, "the sweep reaches limits that suffice");
    cr_expect_gt(refused, 0, "and limits that do not");
}

Test(hardening_memory, edge_of_the_address_space) {
    sweep("edge.json", NULL);
}

Test(hardening_memory, edge_of_the_address_space_two_workers) {
    sweep("edge-workers.json", "2");
}

/* --workers 2 under 450000 KiB (about 439 MiB): one tracker's tables (about 269 MiB) fit, two
 * (about 537 MiB) do not. Before: the trial of one tracker passed, the output was truncated, and
 * the engine's two trackers then failed (exit 2 with a summary in place of the earlier file).
 * Expected: refused before the output is opened, the need stated for both workers together: at
 * least two default tables at the documented 1048 bytes per flow, and above the limit. */
Test(hardening_memory, two_workers_need_two_tables) {
    char out[300];
    snprintf(out, sizeof out, "%s", tmp_path("workers.json"));
    struct run_result r = run_limited(450000, out, "2");
    cr_expect_eq(r.status, 2, "exit %d; stderr: %s", r.status, r.err);
    cr_expect_eq(count_lines(r.err), 1, "%s", r.err);
    cr_expect(file_is(out, EARLIER), "the output was changed");
    const char *needs = r.err ? strstr(r.err, "--max-flows 262144 needs ") : NULL;
    cr_assert(needs, "the setting and its need are said: %s", r.err);
    unsigned long long bytes = strtoull(needs + strlen("--max-flows 262144 needs "), NULL, 10);
    cr_expect_geq(bytes, 2 * DEFAULT_MAX_FLOWS * DOC_PER_FLOW, "%s", r.err);
    cr_expect_gt(bytes, 450000ull * 1024, "%s", r.err);
    cr_expect(strstr(r.err, "2 workers"), "%s", r.err);
    run_result_free(&r);
}

#endif
