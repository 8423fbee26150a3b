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

/* One -o: its target and the -F that applies to it (cli.c: each -F applies to the -o options
 * after it; a single -F applies to every -o). */
struct output_target {
    const char *path;                /* NULL: standard output (no -o, or -o -) */
    const struct format_ops *format; /* NULL: text on a terminal, json otherwise */
    size_t formats_before;           /* -F options given before this -o */
};

struct options {
    const char **inputs; /* -r FILE, in order */
    size_t ninputs;
    struct capture_live_options live; /* -i IFACE (live.iface NULL: files) */
    bool list_interfaces;             /* -D */
    const char *user;                 /* -Z USER: drop root after opening the capture */
    const struct format_ops *formats[SINK_OUTPUTS_MAX]; /* every -F, in order */
    size_t nformats;
    struct output_target outputs[SINK_OUTPUTS_MAX]; /* every -o, in order (at least one) */
    size_t noutputs;
    enum checksum_mode checksums;
    struct transport_options output; /* what every -o shares: rotation, --file-mode, facility */
    bool file_mode_set;              /* --file-mode was given */
    size_t output_queue;             /* --output-queue: records each output's queue holds */
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

/* The long names of the options argv[1..argc-1] gives, in order, read as cli_parse reads them
 * (abbreviations, clusters of letters, a value in the next argument), into names (room for argc
 * entries) and their number into *count; an unknown option or one missing its value is left out
 * (cli_parse says what is wrong with it). argv is left as it was. False when out of memory. */
bool cli_option_names(int argc, char **argv, const char **names, size_t *count);

#endif
