/* cli: the command line of shakedown — the options it takes, parsed and validated into one
 * struct, with the help text. */
#ifndef SHAKEDOWN_CLI_H
#define SHAKEDOWN_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyze.h"
#include "capture.h"
#include "format.h"
#include "sink.h"
#include "tracker.h"

struct options {
    const char **inputs; /* -r FILE, in order */
    size_t ninputs;
    struct capture_live_options live; /* -i IFACE (live.iface NULL: files) */
    bool list_interfaces;             /* -D */
    const char *user;                 /* -Z USER: drop root after opening the capture */
    const struct format_ops *format;  /* -F; NULL: text on a terminal, json otherwise */
    enum checksum_mode checksums;
    struct transport_options output; /* -o FILE, rotation, --file-mode */
    bool file_mode_set;              /* --file-mode was given */
    struct record_options record;
    struct tracker_config tracker;
    int64_t stats_interval_ns, interim_ns;
    uint32_t shard_index, shard_count; /* --shard K/N: K - 1 and N (count 0: not given) */
    unsigned workers;                  /* --workers N (1: analysis on the reading thread) */
    char *filter;                      /* trailing arguments joined by spaces, as tcpdump does */
    const char **ladder_uids;          /* --ladder UID, in order */
    size_t nladder;
    bool ladder_all;            /* --ladder all */
    const char *ladder_svg_dir; /* --ladder-svg DIR */
    const char *report_path;    /* --report FILE.html */
};

/* Parses argv into *o (defaults first). Exits with status 0 after --help or --version, and with
 * status 2 and one line on stderr for any mistake. */
void cli_parse(struct options *o, int argc, char **argv);

void cli_options_free(struct options *o);

#endif
