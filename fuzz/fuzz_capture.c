/* fuzz_capture: a whole pcap or pcapng file through analyze_run() as main.c drives it — the
 * capture reader (capture.c over libpcap), packet times brought into range, decode, tracker and
 * JSON records through the sink and the file transport — then the summary. The output is read
 * back with json-c (fuzz_json.h, shared with fuzz_pipeline): every line must parse as strict
 * JSON; every connection record must have its shape (a well-formed uid, found once, ports within
 * 0..65535, packets on some side, a first frame among those read); there must be exactly one
 * record per connection the run counted; and the summary (last) must carry the run's totals, with
 * the records' packets, untracked_packets and late_packets accounting for every packet analysed.
 * The input is the file itself, so any capture is a seed; the input's size picks a BPF filter
 * (odd: "tcp or icmp6") and the checksum mode, so the filtered and checksum paths are covered
 * too. Owns, per input: two memory files (memfd: the input and the output), the sink and a
 * /dev/null stream for messages, all released before returning. */
#define _GNU_SOURCE 1 /* memfd_create */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze.h"
#include "conn.h"
#include "fuzz.h"
#include "fuzz_json.h"
#include "memory_file.h"
#include "sink.h"
#include "stats.h"
#include "tracker.h"

/* What the connection records add up to, for the checks against the summary. */
struct record_totals {
    uint64_t records;
    uint64_t packets; /* orig.pkts + resp.pkts over every record */
    char (*uids)[CONN_UID_LEN];
    size_t uids_cap;
};

/* A uid as conn_uid_make() writes it: "C" and 16 base62 characters. */
static void check_uid(const char *uid) {
    if (strlen(uid) != CONN_UID_LEN - 1 || uid[0] != 'C' ||
        strspn(uid + 1, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") !=
            CONN_UID_LEN - 2)
        abort();
}

/* One connection record's shape (docs/schema.md): a final record (this run writes no interim
 * ones) with its uid, addresses, ports within 0..65535, a protocol, packets on at least one side
 * and a first frame among those read. Its uid and packets are added to t. */
static void check_connection(struct json_object *o, const struct run_stats *stats,
                             struct record_totals *t) {
    const char *uid = json_object_get_string(fuzz_json_get(o, "uid", json_type_string));
    check_uid(uid);
    if (t->records == t->uids_cap) {
        t->uids_cap = t->uids_cap ? 2 * t->uids_cap : 64;
        t->uids = realloc(t->uids, t->uids_cap * sizeof *t->uids);
        if (!t->uids)
            abort();
    }
    memcpy(t->uids[t->records++], uid, CONN_UID_LEN);
    fuzz_expect_bool(o, "final", true);
    fuzz_json_get(o, "close.how", json_type_string);
    const char *proto = json_object_get_string(fuzz_json_get(o, "proto", json_type_string));
    if (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0 && strcmp(proto, "icmp") != 0 &&
        strcmp(proto, "icmpv6") != 0)
        abort();
    fuzz_json_get(o, "src_ip", json_type_string);
    fuzz_json_get(o, "dest_ip", json_type_string);
    fuzz_json_u64_in(o, "src_port", 0, UINT16_MAX);
    fuzz_json_u64_in(o, "dest_port", 0, UINT16_MAX);
    uint64_t packets = fuzz_json_u64_in(o, "orig.pkts", 0, stats->analysed) +
                       fuzz_json_u64_in(o, "resp.pkts", 0, stats->analysed);
    if (packets == 0)
        abort();
    t->packets += packets;
    fuzz_json_u64_in(o, "first_frame", 1, stats->read.packets);
    fuzz_json_get(o, "anomalies", json_type_array);
}

static int uid_order(const void *a, const void *b) {
    return strcmp(a, b);
}

/* Against the summary: one record per connection, each uid once, and every packet analysed in
 * exactly one place — a record's pkts, untracked_packets or late_packets — while a packet left
 * out for its checksum is at most in untracked_packets (tracker_on_packet), so the three add up
 * to analysed at least and analysed + checksum_dropped at most. */
static void check_totals(struct json_object *summary, const struct run_stats *stats,
                         struct record_totals *t) {
    fuzz_expect_str(summary, "type", "summary");
    fuzz_expect_u64(summary, "packets", stats->read.packets);
    fuzz_expect_u64(summary, "analysed", stats->analysed);
    fuzz_expect_u64(summary, "checksum_dropped", stats->checksum_dropped);
    fuzz_expect_u64(summary, "connections.total", t->records);
    if (t->records != stats->conns.reported)
        abort();
    uint64_t placed = t->packets +
                      fuzz_json_u64_in(summary, "connections.untracked_packets", 0, UINT64_MAX) +
                      fuzz_json_u64_in(summary, "connections.late_packets", 0, UINT64_MAX);
    if (placed < stats->analysed || placed > stats->analysed + stats->checksum_dropped)
        abort();
    if (t->records)
        qsort(t->uids, t->records, sizeof *t->uids, uid_order);
    for (uint64_t i = 1; i < t->records; i++)
        if (strcmp(t->uids[i - 1], t->uids[i]) == 0)
            abort();
}

/* Reads the records back (fd: the output memory file): each line strict JSON (fuzz_json_line),
 * each connection record of the right shape, the summary last and in agreement with them. */
static void check_output(int fd, const struct run_stats *stats) {
    FILE *f = fdopen(dup(fd), "r");
    if (!f || fseek(f, 0, SEEK_SET) != 0)
        abort();
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    struct record_totals totals = {0};
    struct json_object *last = NULL;
    while ((n = getline(&line, &cap, f)) > 0) {
        json_object_put(last);
        last = fuzz_json_line(line, (size_t)n);
        const char *type = json_object_get_string(fuzz_json_get(last, "type", json_type_string));
        if (strcmp(type, "connection") == 0)
            check_connection(last, stats, &totals);
    }
    if (!last)
        abort();
    check_totals(last, stats, &totals);
    json_object_put(last);
    free(totals.uids);
    free(line);
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int fd = memory_file("fuzz_capture", data, size), out_fd = memory_file("fuzz_capture", data, 0);
    FILE *messages = fopen("/dev/null", "w");
    if (fd < 0 || out_fd < 0 || !messages)
        abort();
    char path[64], out_path[64], err[512];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    snprintf(out_path, sizeof out_path, "/proc/self/fd/%d", out_fd);

    struct sink sink;
    struct transport_options out = {.path = out_path};
    struct record_options record = {.iso_time = size & 2};
    if (!sink_open(&sink, &out, output_format_find("json"), &record, err, sizeof err))
        abort();
    const char *inputs[1] = {path};
    struct analyze_config cfg = {.inputs = inputs,
                                 .ninputs = 1,
                                 .filter = size & 1 ? "tcp or icmp6" : NULL,
                                 .checksums = (enum checksum_mode)(size / 4 % 3),
                                 .sink = &sink};
    tracker_config_defaults(&cfg.tracker);
    cfg.tracker.max_flows = 8; /* small tables: eviction and host replacement happen */
    cfg.tracker.hosts.capacity = 8;
    cfg.tracker.hosts.syn_flood_threshold = 2;
    cfg.tracker.hosts.port_scan_threshold = 2;

    struct run_stats *stats = calloc(1, sizeof *stats);
    struct input_report *report = calloc(1, sizeof *report);
    if (!stats || !report)
        abort();
    bool stopped = false;
    struct analysis *analysis = analyze_new(&cfg, false, err, sizeof err);
    if (!analysis)
        abort();
    enum exit_status rc = analyze_run(analysis, stats, report, messages, &stopped);
    analyze_free(analysis);

    /* Every record read is accounted for, and an input is ok, damaged or unreadable (then with
     * its reason). */
    if (stats_accounted(stats) != stats->read.packets || report->packets != stats->read.packets)
        abort();
    if ((rc == EXIT_STATUS_USAGE) != (report->status == INPUT_UNREADABLE) ||
        (report->status != INPUT_OK && !report->message[0]))
        abort();
    sink_summary(&sink, stats, report, 1, 0.0);
    if (!sink_close(&sink))
        abort();
    check_output(out_fd, stats);
    free(report);
    free(stats);
    fclose(messages);
    close(fd);
    close(out_fd);
    return 0;
}
