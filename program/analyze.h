/* analyze: the per-packet pipeline — read each input in order as one stream, filter, decode,
 * count — and the exit status that sums up the run (0 ok, 1 damaged input, 2 unusable input). */
#ifndef SHAKEDOWN_ANALYZE_H
#define SHAKEDOWN_ANALYZE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "capture.h"

#include "checksum_policy.h"
#include "ladder.h"
#include "notify.h"
#include "report.h"
#include "sink.h"
#include "stats.h"
#include "tracker.h"

enum exit_status {
    EXIT_STATUS_OK = 0,
    EXIT_STATUS_DAMAGED = 1, /* some input was truncated or had a read error */
    EXIT_STATUS_USAGE = 2,   /* bad usage, a filter that does not compile, an unreadable input */
    EXIT_STATUS_OUTPUT = 3,  /* records were lost: the output could not be written */
};

struct analysis;

struct analyze_config {
    const char *const *inputs; /* file names, "-" for standard input */
    size_t ninputs;
    /* inputs[0] opened by the caller already (its buffers had before the outputs were opened):
     * analyze_run reads it, then closes it (the caller does if it never calls it); or the reason
     * the caller could not open it, reported in its turn; both NULL: analyze_run opens it */
    struct capture *first_input;
    const char *first_input_error;
    struct capture *live;             /* an opened live capture: read it instead of the inputs */
    struct capture_group *live_group; /* or, live --workers: one socket per analysis thread */
    const char *live_name;            /* its interface name (input report) */
    const char *filter; /* BPF expression or NULL (for files; a live one is in the kernel) */
    enum checksum_mode checksums; /* what to do with packets whose checksum is not right */
    struct tracker_config tracker;
    struct sink *sink;                 /* where records go, as they exist */
    int64_t stats_interval_ns;         /* periodic stats records (wall clock); 0: none */
    int64_t interim_ns;                /* interim records for connections open this long; 0: none */
    uint32_t shard_index, shard_count; /* --shard K/N: analyse share K - 1 of N (N ≤ 1: all) */
    unsigned workers;                  /* --workers N: analysis threads (≤ 1: the reading one) */
    volatile sig_atomic_t *stop;       /* set (by SIGINT/SIGTERM) to stop reading; may be NULL */
    volatile sig_atomic_t *reopen;     /* set (by SIGHUP) to reopen the output; may be NULL */
    struct notify *watchdog;           /* pinged by the periodic work (systemd); may be NULL */
    struct ladder *ladder;             /* --ladder: connections drawn; NULL: none */
    struct report *report;             /* --report: the HTML report being written; NULL: none */
    bool records_off;                  /* write no record (the ladder has standard output) */
};

/* The analysis, allocated before anything is opened that a failure must leave untouched (the
 * outputs): its engine (the trackers, one per --workers, all their tables reserved now) and the
 * table of checksum sources. Reads cfg's tracker, workers and checksums now, the rest at
 * analyze_run: cfg must outlive it, and its other members may be filled in until then. segments:
 * connections will be drawn (cfg->ladder or cfg->report set by then), so the tracker hands on their
 * segments. NULL with a one-line reason in err (how much memory the tables need, every worker's)
 * if memory or a thread cannot be had. */
struct analysis *analyze_new(const struct analyze_config *cfg, bool segments, char *err,
                             size_t errlen);
void analyze_free(struct analysis *a);

/* Reads every input in order (or the live capture, until *cfg->stop) into *stats, filling
 * reports[i] for inputs[i] (reports[0] for a live capture), and reports every connection through
 * cfg->sink — those still open at the end with close reason capture_end, or shutdown when
 * stopped. Problems with an input are reported on err as "shakedown: FILE: reason" and reading
 * goes on with the next one. Returns the exit status for the run; *stopped_by_reader says the
 * output's reader went away. Once per analysis. */
enum exit_status analyze_run(struct analysis *a, struct run_stats *stats,
                             struct input_report *reports, FILE *err, bool *stopped_by_reader);

#endif
