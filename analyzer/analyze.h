/* analyze: the per-packet pipeline — read each input in order as one stream, filter, decode,
 * count — and the exit status that sums up the run (0 ok, 1 damaged input, 2 unusable input). */
#ifndef SHAKEDOWN_ANALYZE_H
#define SHAKEDOWN_ANALYZE_H

#include <stddef.h>
#include <stdio.h>

#include "sink.h"
#include "stats.h"
#include "tracker.h"

/* What to do with packets whose IP/TCP/UDP/ICMP checksum is wrong. */
enum checksum_mode {
    CHECKSUM_MODE_DROP, /* verify; count bad ones and leave them out of the analysis (Zeek) */
    CHECKSUM_MODE_KEEP, /* verify and count, but analyse them anyway (sending-host captures) */
    CHECKSUM_MODE_OFF,  /* do not verify */
};

enum exit_status {
    EXIT_STATUS_OK = 0,
    EXIT_STATUS_DAMAGED = 1, /* some input was truncated or had a read error */
    EXIT_STATUS_USAGE = 2,   /* bad usage, a filter that does not compile, an unreadable input */
};

struct analyze_config {
    const char *const *inputs; /* file names, "-" for standard input */
    size_t ninputs;
    const char *filter; /* BPF expression or NULL */
    enum checksum_mode checksums;
    struct tracker_config tracker;
    struct sink *sink; /* where connection records go as connections end */
};

/* Reads every input in order into *stats, filling reports[i] for inputs[i], and reports every
 * connection through cfg->sink (those still open at the end with close reason capture_end).
 * Problems with an input are reported on err as "shakedown: FILE: reason" and reading goes on
 * with the next one. Returns the exit status for the run (EXIT_STATUS_USAGE also when the flow
 * table cannot be allocated). */
enum exit_status analyze_run(const struct analyze_config *cfg, struct run_stats *stats,
                             struct input_report *reports, FILE *err);

#endif
