/* main: command-line options, wiring of capture → decode → output, and exit codes
 * (0 ok, 1 damaged input, 2 usage or setup error — see docs/shakedown.1). */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "capture.h"
#include "json.h"
#include "record.h"
#include "text.h"

#ifndef SHAKEDOWN_VERSION
#define SHAKEDOWN_VERSION "unknown"
#endif

enum output_format { FORMAT_TEXT, FORMAT_JSON };

struct options {
    const char **inputs;
    size_t ninputs;
    enum output_format format;
    enum checksum_mode checksums;
    char *filter; /* trailing arguments joined by spaces, as tcpdump does */
};

static const char usage_text[] =
    "Usage: shakedown -r FILE [-r FILE ...] [OPTIONS] [BPF-EXPRESSION]\n"
    "Passive TCP connection analyzer: reads pcap/pcapng captures and reports what it saw.\n"
    "\n"
    "Input:\n"
    "  -r, --read FILE       read a pcap or pcapng file; '-' reads standard input. Repeat to\n"
    "                        read several files in order as one stream.\n"
    "  BPF-EXPRESSION        only analyse packets matching this filter (tcpdump syntax),\n"
    "                        e.g. 'tcp port 443'. Filtered packets are counted.\n"
    "\n"
    "Analysis:\n"
    "      --checksums MODE  drop (default): verify IP/TCP/UDP/ICMP checksums and leave packets\n"
    "                        with a bad one out of the analysis; keep: verify and count, but\n"
    "                        analyse them (captures from the sending host, checksum offload);\n"
    "                        off: do not verify.\n"
    "\n"
    "Output:\n"
    "  -F, --format FORMAT   text (default, for a terminal) or json (one object per line).\n"
    "\n"
    "  -h, --help            show this help and exit\n"
    "  -V, --version         show the version and exit\n"
    "\n"
    "Exit status: 0 ok, 1 an input was damaged (what could be read was analysed),\n"
    "2 usage error, a filter that does not compile, or an input that could not be read.\n";

/* One line on stderr, then exit 2: the contract for every command-line mistake. */
__attribute__((format(printf, 1, 2), noreturn)) static void usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "shakedown: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see shakedown --help)\n");
    va_end(ap);
    exit(EXIT_STATUS_USAGE);
}

static char *join_args(int argc, char **argv) {
    size_t len = 1;
    for (int i = 0; i < argc; i++)
        len += strlen(argv[i]) + 1;
    char *s = calloc(1, len);
    if (!s) {
        fprintf(stderr, "shakedown: out of memory\n");
        exit(EXIT_STATUS_USAGE);
    }
    for (int i = 0; i < argc; i++) {
        if (i)
            strcat(s, " ");
        strcat(s, argv[i]);
    }
    return s;
}

static void parse_value(struct options *o, int opt, const char *arg) {
    if (opt == 'F') {
        if (strcmp(arg, "text") == 0)
            o->format = FORMAT_TEXT;
        else if (strcmp(arg, "json") == 0)
            o->format = FORMAT_JSON;
        else
            usage_error("unknown format '%s': use text or json", arg);
    } else if (opt == 'C') {
        if (strcmp(arg, "drop") == 0)
            o->checksums = CHECKSUM_MODE_DROP;
        else if (strcmp(arg, "keep") == 0)
            o->checksums = CHECKSUM_MODE_KEEP;
        else if (strcmp(arg, "off") == 0)
            o->checksums = CHECKSUM_MODE_OFF;
        else
            usage_error("unknown checksum mode '%s': use drop, keep or off", arg);
    }
}

static void parse_options(struct options *o, int argc, char **argv) {
    static const struct option longopts[] = {
        {"read", required_argument, NULL, 'r'},      {"format", required_argument, NULL, 'F'},
        {"checksums", required_argument, NULL, 'C'}, {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},         {NULL, 0, NULL, 0},
    };
    o->inputs = calloc((size_t)argc, sizeof *o->inputs);
    if (!o->inputs)
        usage_error("%s", "out of memory");
    opterr = 0; /* our own one-line messages */
    int opt;
    while ((opt = getopt_long(argc, argv, ":r:F:hV", longopts, NULL)) != -1) {
        switch (opt) {
        case 'r':
            o->inputs[o->ninputs++] = optarg;
            break;
        case 'F':
        case 'C':
            parse_value(o, opt, optarg);
            break;
        case 'h':
            fputs(usage_text, stdout);
            exit(EXIT_STATUS_OK);
        case 'V':
            printf("shakedown %s\n", SHAKEDOWN_VERSION);
            exit(EXIT_STATUS_OK);
        case ':':
            usage_error("option '%s' needs a value", argv[optind - 1]);
        default:
            usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        o->filter = join_args(argc - optind, argv + optind);
    if (o->ninputs == 0)
        usage_error("%s", "no input: give a capture file with -r FILE");
}

/* A hint when a large share of transport checksums was wrong: the capture was probably taken on
 * a sending host with checksum offload (IPv4 header checksums are usually still right there). */
static void checksum_hint(const struct run_stats *s, enum checksum_mode mode) {
    uint64_t bad = 0, all = 0;
    for (unsigned i = CHECKSUM_LAYER_IPV4 + 1; i < CHECKSUM_LAYER_COUNT; i++) {
        bad += s->checksum_bad[i];
        all += s->checksum_bad[i] + s->checksum_good[i];
    }
    if (mode == CHECKSUM_MODE_DROP && bad > 0 && bad * 4 >= all)
        fprintf(stderr,
                "shakedown: %llu of %llu transport checksums were wrong and those packets were "
                "left out; "
                "if the capture was taken on a sending host (checksum offload), use "
                "--checksums keep\n",
                (unsigned long long)bad, (unsigned long long)all);
}

int main(int argc, char **argv) {
    struct options o = {.format = FORMAT_TEXT, .checksums = CHECKSUM_MODE_DROP};
    parse_options(&o, argc, argv);

    char err[512];
    if (!capture_filter_valid(o.filter, err, sizeof err)) {
        fprintf(stderr, "shakedown: bad filter expression '%s': %s\n", o.filter, err);
        return EXIT_STATUS_USAGE;
    }

    struct run_stats stats = {0};
    struct input_report *reports = calloc(o.ninputs, sizeof *reports);
    if (!reports) {
        fprintf(stderr, "shakedown: out of memory\n");
        return EXIT_STATUS_USAGE;
    }
    struct analyze_config cfg = {o.inputs, o.ninputs, o.filter, o.checksums};
    enum exit_status rc = analyze_run(&cfg, &stats, reports, stderr);

    if (o.format == FORMAT_JSON) {
        struct json_object *rec = record_summary(&stats, reports, o.ninputs);
        if (!json_write_record(stdout, rec))
            fprintf(stderr, "shakedown: cannot write the output\n");
        json_object_put(rec);
    } else {
        text_write_summary(stdout, &stats, reports, o.ninputs);
    }
    checksum_hint(&stats, o.checksums);
    free(reports);
    free(o.inputs);
    free(o.filter);
    return (int)rc;
}
