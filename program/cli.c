/* cli: the command line — every option, its validation, and the help text. Every mistake gets one
 * line on stderr and exit status 2 (usage_error); docs/shakedown.1 documents each option. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SHAKEDOWN_VERSION
#define SHAKEDOWN_VERSION "unknown"
#endif

/* Long options without a short form. */
enum {
    OPT_CHECKSUMS = 256,
    OPT_ISO_TIME,
    OPT_SEED,
    OPT_MAX_FLOWS,
    OPT_TIME_WAIT,
    OPT_HANDSHAKE_TIMEOUT,
    OPT_IDLE_TIMEOUT,
    OPT_HALF_CLOSED_TIMEOUT,
    OPT_CLOSING_TIMEOUT,
    OPT_UDP_TIMEOUT,
    OPT_ICMP_TIMEOUT,
    OPT_ANSWER_GRACE,
    OPT_SYN_FLOOD_THRESHOLD,
    OPT_SYN_FLOOD_WINDOW,
    OPT_PORT_SCAN_THRESHOLD,
    OPT_PORT_SCAN_WINDOW,
    OPT_STATS_INTERVAL,
    OPT_INTERIM,
    OPT_ROTATE_SIZE,
    OPT_ROTATE_SECONDS,
};

static const char usage_text[] =
    "Usage: shakedown -r FILE [-r FILE ...] [OPTIONS] [BPF-EXPRESSION]\n"
    "       shakedown -i IFACE [OPTIONS] [BPF-EXPRESSION]\n"
    "       shakedown -D\n"
    "Passive TCP connection analyzer: reads pcap/pcapng captures or watches an interface and\n"
    "reports every connection and what went wrong in it.\n"
    "\n"
    "Input:\n"
    "  -r, --read FILE       read a pcap or pcapng file; '-' reads standard input. Repeat to\n"
    "                        read several files in order as one stream.\n"
    "  -i, --interface IFACE capture live on IFACE until SIGINT or SIGTERM\n"
    "  -p, --no-promiscuous-mode  do not put the interface into promiscuous mode\n"
    "  -s, --snapshot-length N  bytes kept per packet (default 256: the headers are all\n"
    "                        shakedown needs)\n"
    "  -B, --buffer-size KIB kernel capture buffer in KiB (default: libpcap's)\n"
    "  -D, --list-interfaces list the interfaces a capture can be started on, and exit\n"
    "  -Z, --relinquish-privileges USER  after opening the capture, drop root and run as\n"
    "                        USER\n"
    "  BPF-EXPRESSION        only analyse packets matching this filter (tcpdump syntax),\n"
    "                        e.g. 'tcp port 443'. Filtered packets are counted when\n"
    "                        reading files (live, the kernel filters them).\n"
    "\n"
    "Analysis:\n"
    "      --checksums MODE  drop (default): verify IP/TCP/UDP/ICMP checksums and leave packets\n"
    "                        with a bad one out of the analysis; keep: verify and count, but\n"
    "                        analyse them (captures from the sending host, checksum offload);\n"
    "                        off: do not verify.\n"
    "\n"
    "Connection tracking (times are seconds of capture time, fractions allowed):\n"
    "      --max-flows N     connections tracked at once (default 262144); when full, the\n"
    "                        least recently active one is reported as evicted\n"
    "      --handshake-timeout S  a connection still opening expires after S idle (30)\n"
    "      --idle-timeout S       an established connection expires after S idle (300)\n"
    "      --half-closed-timeout S  one side closed, the other silent for S (120)\n"
    "      --closing-timeout S    both FINs sent, the last ACK missing for S (30)\n"
    "      --time-wait S     TIME_WAIT, 2 x MSL: how long a closed connection is remembered\n"
    "                        so late segments are recognised as its own (240)\n"
    "      --udp-timeout S   UDP flows expire after S idle (60)\n"
    "      --icmp-timeout S  ICMP flows expire after S idle (60)\n"
    "\n"
    "Anomaly detection:\n"
    "      --answer-grace S  when the input ends, SYNs, data and FINs sent in its last S are\n"
    "                        not judged unanswered or unacknowledged (1)\n"
    "      --syn-flood-threshold N  syn_flood: more than N half-open connections to one\n"
    "                        host (200) ...\n"
    "      --syn-flood-window S     ... within S seconds (10)\n"
    "      --port-scan-threshold N  port_scan: more than N distinct ports or hosts left\n"
    "                        unanswered or refused, from one host (20, at most 64) ...\n"
    "      --port-scan-window S     ... within S seconds (60)\n"
    "\n"
    "Output:\n"
    "  -F, --format FORMAT   text (default on a terminal) or json (one object per line,\n"
    "                        the default otherwise)\n"
    "  -o, --output FILE     write records to FILE instead of standard output; SIGHUP\n"
    "                        reopens it (logrotate's create mode)\n"
    "      --rotate-size N   with -o: move the file aside (FILE.<UTC time>) once it holds N\n"
    "                        bytes (suffix k, M or G allowed) and start a new one\n"
    "      --rotate-seconds S  with -o: the same every S seconds\n"
    "      --stats-interval S  write a stats record every S seconds (packets, drops,\n"
    "                        connections, memory, anomalies)\n"
    "      --interim S       write interim records (\"final\": false) for connections open\n"
    "                        longer than S, every S\n"
    "      --iso-time        timestamps as ISO 8601 strings, not epoch seconds\n"
    "      --community-id-seed N  seed of the Community ID hash (0-65535, default 0)\n"
    "\n"
    "  -h, --help            show this help and exit\n"
    "  -V, --version         show the version and exit\n"
    "\n"
    "Exit status: 0 ok (also after SIGINT/SIGTERM, or when the reader of the output went\n"
    "away), 1 an input was damaged (what could be read was analysed), 2 usage error, a\n"
    "filter that does not compile, an input or interface that could not be opened.\n";

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

/* A number of seconds > 0 (fractions allowed), as nanoseconds. */
static int64_t parse_seconds(const char *name, const char *arg) {
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    if (errno || end == arg || *end || !isfinite(v) || v <= 0 || v > 1e9)
        usage_error("%s needs a number of seconds > 0, not '%s'", name, arg);
    return (int64_t)(v * 1e9);
}

static unsigned long long parse_uint(const char *name, const char *arg, unsigned long long min,
                                     unsigned long long max) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 10);
    if (errno || end == arg || *end || arg[0] == '-' || v < min || v > max)
        usage_error("%s needs a whole number from %llu to %llu, not '%s'", name, min, max, arg);
    return v;
}

static void parse_tracking(struct options *o, int opt, const char *arg) {
    int64_t *t = o->tracker.timeout_ns;
    switch (opt) {
    case OPT_MAX_FLOWS:
        o->tracker.max_flows = (uint32_t)parse_uint("--max-flows", arg, 1, 1u << 28);
        break;
    case OPT_TIME_WAIT:
        o->tracker.time_wait_ns = parse_seconds("--time-wait", arg);
        break;
    case OPT_HANDSHAKE_TIMEOUT:
        t[CONN_TIMER_HANDSHAKE] = parse_seconds("--handshake-timeout", arg);
        break;
    case OPT_IDLE_TIMEOUT:
        t[CONN_TIMER_ESTABLISHED] = parse_seconds("--idle-timeout", arg);
        break;
    case OPT_HALF_CLOSED_TIMEOUT:
        t[CONN_TIMER_HALF_CLOSED] = parse_seconds("--half-closed-timeout", arg);
        break;
    case OPT_CLOSING_TIMEOUT:
        t[CONN_TIMER_CLOSING] = parse_seconds("--closing-timeout", arg);
        break;
    case OPT_UDP_TIMEOUT:
        t[CONN_TIMER_UDP] = parse_seconds("--udp-timeout", arg);
        break;
    case OPT_ICMP_TIMEOUT:
        t[CONN_TIMER_ICMP] = parse_seconds("--icmp-timeout", arg);
        break;
    case OPT_ANSWER_GRACE:
        o->tracker.answer_grace_ns = parse_seconds("--answer-grace", arg);
        break;
    case OPT_SYN_FLOOD_THRESHOLD:
        o->tracker.hosts.syn_flood_threshold =
            (uint32_t)parse_uint("--syn-flood-threshold", arg, 1, 1u << 30);
        break;
    case OPT_SYN_FLOOD_WINDOW:
        o->tracker.hosts.syn_flood_window_ns = parse_seconds("--syn-flood-window", arg);
        break;
    case OPT_PORT_SCAN_THRESHOLD:
        o->tracker.hosts.port_scan_threshold =
            (uint32_t)parse_uint("--port-scan-threshold", arg, 1, HOSTS_MAX_SCAN_TARGETS);
        break;
    case OPT_PORT_SCAN_WINDOW:
        o->tracker.hosts.port_scan_window_ns = parse_seconds("--port-scan-window", arg);
        break;
    default:
        break;
    }
}

/* A byte count with an optional k, M or G suffix (powers of 1024). */
static uint64_t parse_size(const char *name, const char *arg) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 10);
    unsigned shift = *end == 'k' || *end == 'K' ? 10 : *end == 'M' ? 20 : *end == 'G' ? 30 : 0;
    if (shift)
        end++;
    if (errno || end == arg || *end || arg[0] == '-' || v == 0 || v > (1ull << 40) >> shift)
        usage_error("%s needs a size in bytes (suffix k, M or G), not '%s'", name, arg);
    return (uint64_t)v << shift;
}

/* Options of live capture and of a long-running output. */
static void parse_live(struct options *o, int opt, const char *arg) {
    switch (opt) {
    case 'i':
        o->live.iface = arg;
        break;
    case 'p':
        o->live.promisc = false;
        break;
    case 's':
        o->live.snaplen = (int)parse_uint("-s", arg, 64, 262144);
        break;
    case 'B':
        o->live.buffer_bytes = (int)parse_uint("-B", arg, 1, 1u << 21) * 1024;
        break;
    case 'D':
        o->list_interfaces = true;
        break;
    case 'Z':
        o->user = arg;
        break;
    case OPT_STATS_INTERVAL:
        o->stats_interval_ns = parse_seconds("--stats-interval", arg);
        break;
    case OPT_INTERIM:
        o->interim_ns = parse_seconds("--interim", arg);
        break;
    case OPT_ROTATE_SIZE:
        o->output.rotate_bytes = parse_size("--rotate-size", arg);
        break;
    case OPT_ROTATE_SECONDS:
        o->output.rotate_ns = parse_seconds("--rotate-seconds", arg);
        break;
    default:
        break;
    }
}

/* Combinations that cannot work. */
static void check_combinations(const struct options *o) {
    if (o->list_interfaces)
        return;
    if (o->live.iface && o->ninputs)
        usage_error("%s", "-i and -r cannot be used together");
    if (!o->live.iface && o->ninputs == 0)
        usage_error("%s", "no input: give a capture file with -r FILE or an interface with -i");
    if ((o->output.rotate_bytes || o->output.rotate_ns) && !o->output.path)
        usage_error("%s", "--rotate-size and --rotate-seconds need an output file (-o FILE)");
    if (o->user && !o->live.iface)
        usage_error("%s", "-Z drops privileges after opening an interface: use it with -i");
}

static void parse_value(struct options *o, int opt, const char *arg) {
    if (opt == 'F') {
        if (strcmp(arg, "text") == 0)
            o->format = FORMAT_TEXT;
        else if (strcmp(arg, "json") == 0)
            o->format = FORMAT_JSON;
        else
            usage_error("unknown format '%s': use text or json", arg);
    } else if (opt == OPT_SEED) {
        o->record.community_id_seed =
            (uint16_t)parse_uint("--community-id-seed", arg, 0, UINT16_MAX);
    } else if (opt == OPT_CHECKSUMS) {
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

static void options_defaults(struct options *o) {
    memset(o, 0, sizeof *o);
    o->format = FORMAT_AUTO;
    o->checksums = CHECKSUM_MODE_DROP;
    o->live.promisc = true;
    o->live.snaplen = 256;
    o->live.timeout_ms = 250;
    tracker_config_defaults(&o->tracker);
}

void cli_parse(struct options *o, int argc, char **argv) {
    options_defaults(o);
    static const struct option longopts[] = {
        {"read", required_argument, NULL, 'r'},
        {"format", required_argument, NULL, 'F'},
        {"output", required_argument, NULL, 'o'},
        {"interface", required_argument, NULL, 'i'},
        {"no-promiscuous-mode", no_argument, NULL, 'p'},
        {"snapshot-length", required_argument, NULL, 's'},
        {"buffer-size", required_argument, NULL, 'B'},
        {"list-interfaces", no_argument, NULL, 'D'},
        {"relinquish-privileges", required_argument, NULL, 'Z'},
        {"stats-interval", required_argument, NULL, OPT_STATS_INTERVAL},
        {"interim", required_argument, NULL, OPT_INTERIM},
        {"rotate-size", required_argument, NULL, OPT_ROTATE_SIZE},
        {"rotate-seconds", required_argument, NULL, OPT_ROTATE_SECONDS},
        {"checksums", required_argument, NULL, OPT_CHECKSUMS},
        {"iso-time", no_argument, NULL, OPT_ISO_TIME},
        {"community-id-seed", required_argument, NULL, OPT_SEED},
        {"max-flows", required_argument, NULL, OPT_MAX_FLOWS},
        {"time-wait", required_argument, NULL, OPT_TIME_WAIT},
        {"handshake-timeout", required_argument, NULL, OPT_HANDSHAKE_TIMEOUT},
        {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
        {"half-closed-timeout", required_argument, NULL, OPT_HALF_CLOSED_TIMEOUT},
        {"closing-timeout", required_argument, NULL, OPT_CLOSING_TIMEOUT},
        {"udp-timeout", required_argument, NULL, OPT_UDP_TIMEOUT},
        {"icmp-timeout", required_argument, NULL, OPT_ICMP_TIMEOUT},
        {"answer-grace", required_argument, NULL, OPT_ANSWER_GRACE},
        {"syn-flood-threshold", required_argument, NULL, OPT_SYN_FLOOD_THRESHOLD},
        {"syn-flood-window", required_argument, NULL, OPT_SYN_FLOOD_WINDOW},
        {"port-scan-threshold", required_argument, NULL, OPT_PORT_SCAN_THRESHOLD},
        {"port-scan-window", required_argument, NULL, OPT_PORT_SCAN_WINDOW},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    o->inputs = calloc((size_t)argc, sizeof *o->inputs);
    if (!o->inputs)
        usage_error("%s", "out of memory");
    opterr = 0; /* our own one-line messages */
    int opt;
    while ((opt = getopt_long(argc, argv, ":r:F:o:i:ps:B:DZ:hV", longopts, NULL)) != -1) {
        switch (opt) {
        case 'r':
            o->inputs[o->ninputs++] = optarg;
            break;
        case 'o':
            o->output.path = optarg;
            break;
        case 'i':
        case 'p':
        case 's':
        case 'B':
        case 'D':
        case 'Z':
        case OPT_STATS_INTERVAL:
        case OPT_INTERIM:
        case OPT_ROTATE_SIZE:
        case OPT_ROTATE_SECONDS:
            parse_live(o, opt, optarg);
            break;
        case OPT_ISO_TIME:
            o->record.iso_time = true;
            break;
        case 'F':
        case OPT_CHECKSUMS:
        case OPT_SEED:
            parse_value(o, opt, optarg);
            break;
        case OPT_MAX_FLOWS:
        case OPT_TIME_WAIT:
        case OPT_HANDSHAKE_TIMEOUT:
        case OPT_IDLE_TIMEOUT:
        case OPT_HALF_CLOSED_TIMEOUT:
        case OPT_CLOSING_TIMEOUT:
        case OPT_UDP_TIMEOUT:
        case OPT_ICMP_TIMEOUT:
        case OPT_ANSWER_GRACE:
        case OPT_SYN_FLOOD_THRESHOLD:
        case OPT_SYN_FLOOD_WINDOW:
        case OPT_PORT_SCAN_THRESHOLD:
        case OPT_PORT_SCAN_WINDOW:
            parse_tracking(o, opt, optarg);
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
    check_combinations(o);
}

void cli_options_free(struct options *o) {
    free(o->inputs);
    free(o->filter);
}
