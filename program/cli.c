/* cli: the command line — one table row per option (long name, letter, argument, help text,
 * handler), from which both getopt_long's arguments and --help are derived; each value's
 * validation; and the combinations that cannot work. Every mistake gets one line on stderr and
 * exit status 2 (usage_error); docs/shakedown.1 documents each option. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "writer.h"

#ifndef SHAKEDOWN_VERSION
#define SHAKEDOWN_VERSION "unknown"
#endif

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

/* The handlers, one per option, in the order of the table below. Each is called with the
 * option's name as error messages spell it ("-s", "--max-flows": see option_name) and its value
 * (NULL for a flag); a bad value ends in usage_error. */

/* Input */

static void add_input(struct options *o, const char *name, const char *arg) {
    (void)name;
    o->inputs[o->ninputs++] = arg; /* sized for argc in cli_parse */
}

static void set_interface(struct options *o, const char *name, const char *arg) {
    (void)name;
    o->live.iface = arg;
}

static void set_no_promiscuous(struct options *o, const char *name, const char *arg) {
    (void)name, (void)arg;
    o->live.promisc = false;
}

static void set_snapshot_length(struct options *o, const char *name, const char *arg) {
    o->live.snaplen = (int)parse_uint(name, arg, 64, 262144);
}

static void set_buffer_size(struct options *o, const char *name, const char *arg) {
    o->live.buffer_bytes = (int)parse_uint(name, arg, 1, 1u << 21) * 1024;
}

static void set_list_interfaces(struct options *o, const char *name, const char *arg) {
    (void)name, (void)arg;
    o->list_interfaces = true;
}

static void set_user(struct options *o, const char *name, const char *arg) {
    (void)name;
    o->user = arg;
}

/* Analysis */

static void set_checksums(struct options *o, const char *name, const char *arg) {
    (void)name;
    if (strcmp(arg, "auto") == 0)
        o->checksums = CHECKSUM_MODE_AUTO;
    else if (strcmp(arg, "drop") == 0)
        o->checksums = CHECKSUM_MODE_DROP;
    else if (strcmp(arg, "keep") == 0)
        o->checksums = CHECKSUM_MODE_KEEP;
    else if (strcmp(arg, "off") == 0)
        o->checksums = CHECKSUM_MODE_OFF;
    else
        usage_error("unknown checksum mode '%s': use auto, drop, keep or off", arg);
}

/* Connection tracking */

static void set_max_flows(struct options *o, const char *name, const char *arg) {
    o->tracker.max_flows = (uint32_t)parse_uint(name, arg, 1, 1u << 28);
}

static void set_handshake_timeout(struct options *o, const char *name, const char *arg) {
    o->tracker.timeout_ns[CONN_TIMER_HANDSHAKE] = parse_seconds(name, arg);
}

static void set_idle_timeout(struct options *o, const char *name, const char *arg) {
    o->tracker.timeout_ns[CONN_TIMER_ESTABLISHED] = parse_seconds(name, arg);
}

static void set_half_closed_timeout(struct options *o, const char *name, const char *arg) {
    o->tracker.timeout_ns[CONN_TIMER_HALF_CLOSED] = parse_seconds(name, arg);
}

static void set_closing_timeout(struct options *o, const char *name, const char *arg) {
    o->tracker.timeout_ns[CONN_TIMER_CLOSING] = parse_seconds(name, arg);
}

static void set_time_wait(struct options *o, const char *name, const char *arg) {
    o->tracker.time_wait_ns = parse_seconds(name, arg);
}

static void set_udp_timeout(struct options *o, const char *name, const char *arg) {
    o->tracker.timeout_ns[CONN_TIMER_UDP] = parse_seconds(name, arg);
}

static void set_icmp_timeout(struct options *o, const char *name, const char *arg) {
    o->tracker.timeout_ns[CONN_TIMER_ICMP] = parse_seconds(name, arg);
}

/* Anomaly detection */

static void set_answer_grace(struct options *o, const char *name, const char *arg) {
    o->tracker.answer_grace_ns = parse_seconds(name, arg);
}

static void set_syn_flood_threshold(struct options *o, const char *name, const char *arg) {
    o->tracker.hosts.syn_flood_threshold = (uint32_t)parse_uint(name, arg, 1, 1u << 30);
}

static void set_syn_flood_window(struct options *o, const char *name, const char *arg) {
    o->tracker.hosts.syn_flood_window_ns = parse_seconds(name, arg);
}

static void set_shard(struct options *o, const char *name, const char *arg) {
    char *end;
    errno = 0;
    unsigned long k = strtoul(arg, &end, 10);
    const char *slash = end;
    unsigned long n = *slash == '/' ? strtoul(slash + 1, &end, 10) : 0;
    if (errno || !isdigit((unsigned char)arg[0]) || *slash != '/' ||
        !isdigit((unsigned char)slash[1]) || *end || n < 1 || n > 65536 || k < 1 || k > n)
        usage_error("%s needs K/N with 1 <= K <= N <= 65536 (share K of N), not '%s'", name, arg);
    o->shard_index = (uint32_t)(k - 1);
    o->shard_count = (uint32_t)n;
}

static void set_workers(struct options *o, const char *name, const char *arg) {
    o->workers = (unsigned)parse_uint(name, arg, 1, ENGINE_MAX_WORKERS);
}

static void set_no_fold(struct options *o, const char *name, const char *arg) {
    (void)name;
    (void)arg;
    o->tracker.fold_host_events = false;
}

static void set_port_scan_threshold(struct options *o, const char *name, const char *arg) {
    o->tracker.hosts.port_scan_threshold =
        (uint32_t)parse_uint(name, arg, 1, HOSTS_MAX_SCAN_TARGETS);
}

static void set_port_scan_window(struct options *o, const char *name, const char *arg) {
    o->tracker.hosts.port_scan_window_ns = parse_seconds(name, arg);
}

/* Output */

static void set_wide(struct options *o, const char *name, const char *arg) {
    (void)name;
    (void)arg;
    o->record.text_wide = true;
}

/* Any format of the format table (output/format.c), by its name. */
static void set_format(struct options *o, const char *name, const char *arg) {
    const struct format_ops *format = output_format_find(arg);
    if (!format) {
        char names[256];
        output_format_names(names, sizeof names, ", ");
        usage_error("unknown format '%s': use one of %s", arg, names);
    }
    if (o->nformats == SINK_OUTPUTS_MAX)
        usage_error("%s: at most %d formats", name, SINK_OUTPUTS_MAX);
    o->formats[o->nformats++] = format;
}

static void set_output(struct options *o, const char *name, const char *arg) {
    if (o->noutputs == SINK_OUTPUTS_MAX)
        usage_error("%s: at most %d outputs", name, SINK_OUTPUTS_MAX);
    const char *path = strcmp(arg, "-") == 0 ? NULL : arg;
    for (size_t i = 0; i < o->noutputs; i++)
        if (path ? o->outputs[i].path && strcmp(o->outputs[i].path, path) == 0
                 : !o->outputs[i].path)
            usage_error("%s %s is given twice", name, arg);
    o->outputs[o->noutputs++] = (struct output_target){path, NULL, o->nformats};
}

static void set_syslog_facility(struct options *o, const char *name, const char *arg) {
    if (transport_syslog_facility(arg) < 0) {
        char names[256];
        transport_syslog_facility_names(names, sizeof names, ", ");
        usage_error("%s: unknown facility '%s': use one of %s", name, arg, names);
    }
    o->output.syslog_facility = arg;
}

static void set_rotate_size(struct options *o, const char *name, const char *arg) {
    o->output.rotate_bytes = parse_size(name, arg);
}

static void set_rotate_seconds(struct options *o, const char *name, const char *arg) {
    o->output.rotate_ns = parse_seconds(name, arg);
}

/* Permission bits in octal, as chmod(1) takes them: 1 to 4 digits 0-7, at most 0777 (no
 * set-user-ID, set-group-ID or sticky bit on a log file), and not 0 (a file nobody may read). */
static void set_file_mode(struct options *o, const char *name, const char *arg) {
    size_t n = strspn(arg, "01234567");
    unsigned long v = n ? strtoul(arg, NULL, 8) : 0;
    if (n == 0 || n > 4 || arg[n] || v == 0 || v > 0777)
        usage_error("%s needs permissions in octal from 1 to 0777 (e.g. 0640), not '%s'", name,
                    arg);
    o->output.file_mode = (unsigned)v;
    o->file_mode_set = true;
}

static void set_output_queue(struct options *o, const char *name, const char *arg) {
    o->output_queue = (size_t)parse_uint(name, arg, 16, 1u << 20);
}

static void set_stats_interval(struct options *o, const char *name, const char *arg) {
    o->stats_interval_ns = parse_seconds(name, arg);
}

static void set_interim(struct options *o, const char *name, const char *arg) {
    o->interim_ns = parse_seconds(name, arg);
}

static void set_iso_time(struct options *o, const char *name, const char *arg) {
    (void)name, (void)arg;
    o->record.iso_time = true;
}

static void set_community_id_seed(struct options *o, const char *name, const char *arg) {
    o->record.community_id_seed = (uint16_t)parse_uint(name, arg, 0, UINT16_MAX);
}

/* A connection's uid as records write it ("C" and 16 base62 characters: conn.h), or "all". */
static void add_ladder(struct options *o, const char *name, const char *arg) {
    if (strcmp(arg, "all") == 0) {
        o->ladder_all = true;
        return;
    }
    bool ok = strlen(arg) == CONN_UID_LEN - 1 && arg[0] == 'C';
    for (size_t i = 1; ok && arg[i]; i++)
        ok = (arg[i] >= '0' && arg[i] <= '9') || (arg[i] >= 'a' && arg[i] <= 'z') ||
             (arg[i] >= 'A' && arg[i] <= 'Z');
    if (!ok)
        usage_error("%s needs a connection uid (C and 16 letters or digits, as records show it) "
                    "or 'all', not '%s'",
                    name, arg);
    o->ladder_uids[o->nladder++] = arg; /* sized for argc in cli_parse */
}

static void set_ladder_svg(struct options *o, const char *name, const char *arg) {
    if (!*arg)
        usage_error("%s needs a directory", name);
    o->ladder_svg_dir = arg;
}

static void set_report(struct options *o, const char *name, const char *arg) {
    if (!*arg)
        usage_error("%s needs a file name", name);
    o->report_path = arg;
}

/* Help and version */

static void print_help(void); /* it reads the table, which needs the handlers first */

static void show_help(struct options *o, const char *name, const char *arg) {
    (void)o, (void)name, (void)arg;
    print_help();
    exit(EXIT_STATUS_OK);
}

static void show_version(struct options *o, const char *name, const char *arg) {
    (void)o, (void)name, (void)arg;
    printf("shakedown %s\n", SHAKEDOWN_VERSION);
    exit(EXIT_STATUS_OK);
}

/* One row of the option table, of one of three kinds:
 *   - an option: name is set (every option has a long name; letter is its short form, or 0);
 *   - the operands' description: no name, arg names them in --help, nothing parses them;
 *   - a heading in --help: neither name nor arg; help is printed after a blank line ("" for the
 *     blank line alone). */
struct cli_option {
    const char *name; /* long name, without the "--" */
    char letter;      /* short form, or 0 */
    const char *arg;  /* the value's name in --help; NULL for a flag */
    const char *help; /* "\n" starts another line, indented like the first */
    void (*handle)(struct options *o, const char *name, const char *arg);
};

/* Every option, in --help order: adding an option is adding a row here and its handler above. */
static const struct cli_option option_table[] = {
    {.help = "Input:"},
    {"read", 'r', "FILE",
     "read a pcap or pcapng file, plain or compressed (gzip, zstd,\n"
     "xz); '-' reads standard input. Repeat to read several files in\n"
     "order as one stream.",
     add_input},
    {"interface", 'i', "IFACE",
     "capture live on IFACE until SIGINT or SIGTERM (says \"listening\n"
     "on IFACE, link-type, snapshot length\" on stderr at once)",
     set_interface},
    {"no-promiscuous-mode", 'p', NULL, "do not put the interface into promiscuous mode",
     set_no_promiscuous},
    {"snapshot-length", 's', "N",
     "bytes kept per packet (default 256: the headers are all\n"
     "shakedown needs)",
     set_snapshot_length},
    {"buffer-size", 'B', "KIB", "kernel capture buffer in KiB (default: libpcap's)",
     set_buffer_size},
    {"list-interfaces", 'D', NULL, "list the interfaces a capture can be started on, and exit",
     set_list_interfaces},
    {"relinquish-privileges", 'Z', "USER",
     "after opening the capture, drop root and run as\n"
     "USER",
     set_user},
    {NULL, 0, "BPF-EXPRESSION",
     "only analyse packets matching this filter (tcpdump syntax),\n"
     "e.g. 'tcp port 443'. Filtered packets are counted when\n"
     "reading files (live, the kernel filters them).",
     NULL},

    {.help = "Analysis:"},
    {"checksums", 0, "MODE",
     "auto (default): verify IP/TCP/UDP/ICMP checksums; analyse packets\n"
     "whose checksum was left to the NIC (checksum offload: a capture on\n"
     "the sending host), leave other bad ones out, unless more than 10%\n"
     "of a source's first 1000 are bad: that source is then taken as\n"
     "offloading. drop: leave out every packet not verified right,\n"
     "offloaded ones too; keep: verify and count, but analyse them all;\n"
     "off: do not verify.",
     set_checksums},
    {"shard", 0, "K/N",
     "analyse only share K (1 to N) of the connections, split by a\n"
     "hash of their addresses and ports: N runs over the same input,\n"
     "one per share, write together what one run writes",
     set_shard},
    {"workers", 0, "N",
     "analyse on N threads, each taking the connections of one share\n"
     "(as --shard). Files: every thread sees every packet's time, so\n"
     "the records are one thread's, in another order. Live: N capture\n"
     "sockets in one PACKET_FANOUT group, one per thread (default 1)",
     set_workers},

    {.help = "Connection tracking (times are seconds of capture time, fractions allowed):"},
    {"max-flows", 0, "N",
     "connections tracked at once (default 262144); when full, the\n"
     "least recently active one is reported as evicted",
     set_max_flows},
    {"handshake-timeout", 0, "S", "a connection still opening expires after S idle (30)",
     set_handshake_timeout},
    {"idle-timeout", 0, "S", "an established connection expires after S idle (300)",
     set_idle_timeout},
    {"half-closed-timeout", 0, "S", "one side closed, the other silent for S (120)",
     set_half_closed_timeout},
    {"closing-timeout", 0, "S", "both FINs sent, the last ACK missing for S (30)",
     set_closing_timeout},
    {"time-wait", 0, "S",
     "TIME_WAIT, 2 x MSL: how long a closed connection is remembered\n"
     "so late segments are recognised as its own (240)",
     set_time_wait},
    {"udp-timeout", 0, "S", "UDP flows expire after S idle (60)", set_udp_timeout},
    {"icmp-timeout", 0, "S", "ICMP flows expire after S idle (60)", set_icmp_timeout},

    {.help = "Anomaly detection:"},
    {"answer-grace", 0, "S",
     "SYNs, data and FINs sent in the last S before the input ends\n"
     "(or before their sender's own RST) are not judged unanswered or\n"
     "unacknowledged, unless already retransmitted; syn_flood counts\n"
     "half-open connections regardless (1)",
     set_answer_grace},
    {"syn-flood-threshold", 0, "N",
     "syn_flood: more than N half-open connections to one\n"
     "host (200) ...",
     set_syn_flood_threshold},
    {"syn-flood-window", 0, "S", "... within S seconds (10)", set_syn_flood_window},
    {"port-scan-threshold", 0, "N",
     "port_scan: more than N distinct ports or hosts left\n"
     "unanswered or refused, from one host (20, at most 64) ...",
     set_port_scan_threshold},
    {"port-scan-window", 0, "S", "... within S seconds (60)", set_port_scan_window},
    {"no-fold", 0, NULL,
     "write every anomaly event: by default, once syn_flood or\n"
     "port_scan fired for a host, the events of the connections it\n"
     "covers are folded into one aggregate event per host and window",
     set_no_fold},

    {.help = "Output:"},
    {"format", 'F', "FORMAT",
     "shakedown(1) and docs/schema.md describe each. The default is\n"
     "text on a terminal, json (one object per line) otherwise.\n"
     "One -F applies to every -o; with several, each -F applies to\n"
     "the -o options after it (-F zeek -o logs/ -F ecs -o redis://...)",
     set_format},
    {"wide", 0, NULL,
     "text: every column (history, TCP states, packets, close reason);\n"
     "by default the table fits the terminal's width ($COLUMNS, else 120)",
     set_wide},
    {"output", 'o', "TARGET",
     "write records to TARGET instead of standard output: a FILE\n"
     "(SIGHUP reopens it: logrotate's create mode); a DIRectory (one\n"
     "that exists, or a path ending in '/') with -F zeek or zeek-json:\n"
     "DIR/conn.log and DIR/weird.log (the anomalies), rotated and\n"
     "reopened together; - (standard output);\n"
     "syslog://HOST:PORT (UDP) or syslog+tcp://HOST:PORT (RFC 5424,\n"
     "octet-counted); syslog (the local /dev/log) or syslog:///PATH;\n"
     "redis://[[USER]:PASSWORD@]HOST:PORT/KEY[?mode=list|publish|\n"
     "xadd[&maxlen=N][&password=P]] (AUTH with the password; xadd\n"
     "keeps about N entries, 100000 unless given, 0: no limit).\n"
     "Repeat to write every record to several outputs.",
     set_output},
    {"syslog-facility", 0, "NAME", "facility of syslog messages (default local5)",
     set_syslog_facility},
    {"rotate-size", 0, "N",
     "with -o: move the file aside (FILE.<UTC time>) once it holds N\n"
     "bytes (suffix k, M or G allowed) and start a new one; applies\n"
     "to the -o that are files or directories (refused without one)",
     set_rotate_size},
    {"rotate-seconds", 0, "S", "with -o: the same every S seconds", set_rotate_seconds},
    {"file-mode", 0, "MODE",
     "permissions of the files created (-o files, --report,\n"
     "--ladder-svg), in octal (default 0640; the umask still applies)",
     set_file_mode},
    {"output-queue", 0, "N",
     "records each output's queue holds (default live 16384,\n"
     "about 12 MB; files 1024): live, what a full queue cannot take\n"
     "is dropped and counted (the output's dropped); reading files,\n"
     "shakedown waits",
     set_output_queue},
    {"stats-interval", 0, "S",
     "write a stats record every S seconds (packets, drops,\n"
     "connections, memory, anomalies); live with stderr a terminal,\n"
     "also a status line updated in place there",
     set_stats_interval},
    {"interim", 0, "S",
     "write interim records (\"final\": false) for connections open\n"
     "longer than S, every S",
     set_interim},
    {"iso-time", 0, NULL, "timestamps as ISO 8601 strings, not epoch seconds", set_iso_time},
    {"community-id-seed", 0, "N", "seed of the Community ID hash (0-65535, default 0)",
     set_community_id_seed},

    {.help = "Views of single connections:"},
    {"ladder", 0, "UID",
     "draw the ladder diagram of TCP connection UID (repeatable;\n"
     "'all': every TCP connection) on standard output: one line per\n"
     "segment, both endpoints' states as they change, anomalies under\n"
     "the segment that raised them, runs of data folded. Records then\n"
     "go only to -o TARGET, if given.",
     add_ladder},
    {"ladder-svg", 0, "DIR",
     "write the ladder of each TCP connection (those of --ladder, if\n"
     "given) as DIR/UID.svg: lifelines, the capture point between them,\n"
     "the far endpoint's times marked inferred, a time scale",
     set_ladder_svg},
    {"report", 0, "FILE",
     "also write an HTML report to FILE: summary, timeline, histograms,\n"
     "top talkers and ports, a table of every connection that filters,\n"
     "sorts and pages, ladders and time-sequence graphs; one file\n"
     "that needs no network to open",
     set_report},

    {.help = ""},
    {"help", 'h', NULL, "show this help and exit", show_help},
    {"version", 'V', NULL, "show the version and exit", show_version},
};

#define OPTION_ROWS (sizeof option_table / sizeof option_table[0])

/* --help: this head, the table, then the tail. */
static const char help_head[] =
    "Usage: shakedown -r FILE [-r FILE ...] [OPTIONS] [BPF-EXPRESSION]\n"
    "       shakedown -i IFACE [OPTIONS] [BPF-EXPRESSION]\n"
    "       shakedown --config FILE [OPTIONS] [BPF-EXPRESSION]\n"
    "       shakedown --check-config [FILE]\n"
    "       shakedown -D\n"
    "Passive TCP connection analyzer: reads pcap/pcapng captures or watches an interface and\n"
    "reports every connection and what went wrong in it.\n"
    "--config FILE (first argument) reads `option = value` lines (long options without\n"
    "dashes; `filter = EXPR`) before the command line, whose options replace the\n"
    "file's (a -o all its outputs);\n"
    "--check-config checks FILE (default /etc/shakedown/shakedown.conf) and exits.\n";

static const char help_tail[] =
    "\n"
    "Exit status: 0 ok (also after SIGINT/SIGTERM, or when the reader of the output went\n"
    "away), 1 an input was damaged (what could be read was analysed), 2 usage error, a\n"
    "filter that does not compile, an input or interface that could not be opened, 3\n"
    "records were lost because the output could not be written (a full disk).\n";

/* The column where every option's help starts; a longer label ("  -s, --snapshot-length N") is
 * followed by two spaces instead, and the help's further lines still start here. */
enum { HELP_COLUMN = 24 };

/* Options whose values are the names of a table elsewhere: --help lists them from the table,
 * before the option's help ("one of a, b, c;"), so that the list cannot fall behind it. */
static const struct option_values {
    const char *option;
    void (*names)(char *buf, size_t len, const char *sep);
} option_values[] = {
    {"format", output_format_names}, /* output/format.c */
};

static void print_option_values(const struct cli_option *row) {
    for (size_t i = 0; i < sizeof option_values / sizeof option_values[0]; i++) {
        if (!row->name || strcmp(row->name, option_values[i].option) != 0)
            continue;
        char names[256];
        option_values[i].names(names, sizeof names, ", ");
        printf("one of %s;\n%*s", names, HELP_COLUMN, "");
    }
}

/* "  -r, --read FILE", "      --iso-time" or "  BPF-EXPRESSION", then the help text. */
static void print_option(const struct cli_option *row) {
    int n;
    if (!row->name)
        n = printf("  %s", row->arg);
    else if (row->letter)
        n = printf("  -%c, --%s", row->letter, row->name);
    else
        n = printf("      --%s", row->name);
    if (row->name && row->arg)
        n += printf(" %s", row->arg);
    printf("%*s", n < HELP_COLUMN ? HELP_COLUMN - n : 2, "");
    print_option_values(row);
    for (const char *p = row->help; *p; p++) {
        putchar(*p);
        if (*p == '\n')
            printf("%*s", HELP_COLUMN, "");
    }
    putchar('\n');
}

static void print_help(void) {
    fputs(help_head, stdout);
    for (size_t i = 0; i < OPTION_ROWS; i++) {
        const struct cli_option *row = &option_table[i];
        if (!row->name && !row->arg)
            printf("\n%s%s", row->help, *row->help ? "\n" : "");
        else
            print_option(row);
    }
    fputs(help_tail, stdout);
}

/* What getopt_long returns for the option in row i: its letter, or 256 + i for one without. */
static int option_val(size_t i) {
    return option_table[i].letter ? option_table[i].letter : 256 + (int)i;
}

static const struct cli_option *option_find(int val) {
    for (size_t i = 0; i < OPTION_ROWS; i++)
        if (option_table[i].name && option_val(i) == val)
            return &option_table[i];
    return NULL;
}

/* The option as error messages name it: "-s" when it has a letter, else "--max-flows". */
static const char *option_name(const struct cli_option *row, char *buf, size_t len) {
    if (row->letter)
        snprintf(buf, len, "-%c", row->letter);
    else
        snprintf(buf, len, "--%s", row->name);
    return buf;
}

/* getopt_long's arguments, derived from the table. */
struct getopt_args {
    struct option longopts[OPTION_ROWS + 1]; /* ends with a zeroed entry */
    char shortopts[2 * OPTION_ROWS + 2];     /* ":r:F:..." */
};

static void getopt_args_build(struct getopt_args *g) {
    memset(g, 0, sizeof *g);
    size_t nlong = 0, nshort = 0;
    g->shortopts[nshort++] = ':'; /* a missing value returns ':', not '?' */
    for (size_t i = 0; i < OPTION_ROWS; i++) {
        const struct cli_option *row = &option_table[i];
        if (!row->name)
            continue;
        int has_arg = row->arg ? required_argument : no_argument;
        g->longopts[nlong++] = (struct option){row->name, has_arg, NULL, option_val(i)};
        if (row->letter)
            g->shortopts[nshort++] = row->letter;
        if (row->letter && row->arg)
            g->shortopts[nshort++] = ':';
    }
}

/* Which -F applies to which -o: a single -F to every one; with several, each -F to the -o
 * options after it, up to the next -F. A command line where that leaves an -o without a -F or a
 * -F without an -o is refused rather than guessed at. No -o: standard output, in the last -F
 * given (as before -o could repeat). */
static void resolve_formats(struct options *o) {
    if (o->noutputs == 0) { /* standard output alone: the last -F, as ever */
        const struct format_ops *last = o->nformats ? o->formats[o->nformats - 1] : NULL;
        o->outputs[o->noutputs++] = (struct output_target){NULL, last, o->nformats};
        return;
    }
    if (o->nformats <= 1) {
        for (size_t i = 0; i < o->noutputs; i++)
            o->outputs[i].format = o->nformats ? o->formats[0] : NULL;
        return;
    }
    for (size_t i = 0; i < o->noutputs; i++) {
        struct output_target *t = &o->outputs[i];
        if (t->formats_before == 0)
            usage_error("-o %s comes before any -F: with several -F, each applies to the -o "
                        "options after it",
                        t->path ? t->path : "-");
        t->format = o->formats[t->formats_before - 1];
    }
    for (size_t f = 1; f <= o->nformats; f++) {
        bool used = false;
        for (size_t i = 0; i < o->noutputs && !used; i++)
            used = o->outputs[i].formats_before == f;
        if (!used)
            usage_error("-F %s applies to no output: with several -F, each applies to the -o "
                        "options after it",
                        o->formats[f - 1]->name);
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
    bool any_rotates = false; /* a target whose transport rotates (files, today) */
    for (size_t i = 0; i < o->noutputs; i++) {
        struct transport_options t = o->output;
        t.path = o->outputs[i].path;
        any_rotates = any_rotates || transport_rotates(&t);
    }
    if ((o->output.rotate_bytes || o->output.rotate_ns) && !any_rotates)
        usage_error("%s", "--rotate-size and --rotate-seconds rotate files: no -o is a file or a "
                          "directory");
    if (o->file_mode_set && !any_rotates && !o->report_path && !o->ladder_svg_dir)
        usage_error("%s", "--file-mode needs an output file (-o FILE, -o DIR, --report or "
                          "--ladder-svg)");
    if (o->user && !o->live.iface)
        usage_error("%s", "-Z drops privileges after opening an interface: use it with -i");
}

static void options_defaults(struct options *o) {
    memset(o, 0, sizeof *o);
    o->checksums = CHECKSUM_MODE_AUTO;
    o->live.promisc = true;
    o->live.snaplen = 256;
    o->live.timeout_ms = 250;
    o->output.file_mode = 0640;
    o->output_queue = 0; /* writer.h's default, live or for files */
    tracker_config_defaults(&o->tracker);
    o->workers = 1;
}

void cli_parse(struct options *o, int argc, char **argv) {
    options_defaults(o);
    o->inputs = calloc((size_t)argc, sizeof *o->inputs);
    o->ladder_uids = calloc((size_t)argc, sizeof *o->ladder_uids);
    if (!o->inputs || !o->ladder_uids)
        usage_error("%s", "out of memory");
    struct getopt_args g;
    getopt_args_build(&g);
    opterr = 0; /* our own one-line messages */
    int val;
    while ((val = getopt_long(argc, argv, g.shortopts, g.longopts, NULL)) != -1) {
        if (val == ':')
            usage_error("option '%s' needs a value", argv[optind - 1]);
        const struct cli_option *row = option_find(val);
        if (!row)
            usage_error("unknown option '%s'", argv[optind - 1]);
        char name[64];
        row->handle(o, option_name(row, name, sizeof name), row->arg ? optarg : NULL);
    }
    if (optind < argc)
        o->filter = join_args(argc - optind, argv + optind);
    resolve_formats(o);
    check_combinations(o);
}

void cli_options_free(struct options *o) {
    free(o->inputs);
    free(o->ladder_uids);
    free(o->filter);
}

bool cli_option_names(int argc, char **argv, const char **names, size_t *count) {
    char **copy = malloc(((size_t)argc + 1) * sizeof *copy); /* getopt_long permutes its argv */
    if (!copy)
        return false;
    memcpy(copy, argv, (size_t)argc * sizeof *copy);
    copy[argc] = NULL;
    struct getopt_args g;
    getopt_args_build(&g);
    opterr = 0;
    optind = 0; /* glibc: start afresh (cli_parse's scan starts at its own optind) */
    size_t n = 0;
    int val;
    while ((val = getopt_long(argc, copy, g.shortopts, g.longopts, NULL)) != -1) {
        const struct cli_option *row = option_find(val);
        if (row)
            names[n++] = row->name;
    }
    optind = 0;
    free(copy);
    *count = n;
    return true;
}
