/* fuzz_capture: a whole pcap or pcapng file through analyze_run() as main.c drives it — the
 * capture reader (capture.c over libpcap), packet times brought into range, decode, tracker and
 * JSON records through the sink and the file transport — then the summary. The output is read
 * back with json-c: every line must parse as strict JSON, there must be exactly one connection
 * record per connection the run counted, and the summary (last) must carry the run's totals.
 * The input is the file itself, so any capture is a seed; the input's size picks a BPF filter
 * (odd: "tcp or icmp6") and the checksum mode, so the filtered and checksum paths are covered
 * too. Owns, per input: two memory files (memfd: the input and the output), the sink and a
 * /dev/null stream for messages, all released before returning. */
#define _GNU_SOURCE 1 /* memfd_create */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze.h"
#include "fuzz.h"
#include "memory_file.h"
#include "sink.h"
#include "stats.h"
#include "tracker.h"

static uint64_t member_u64(struct json_object *o, const char *key) {
    struct json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
        abort();
    return json_object_get_uint64(v);
}

/* Reads the records back (fd: the output memory file) and checks them against the run. */
static void check_output(int fd, const struct run_stats *stats) {
    FILE *f = fdopen(dup(fd), "r");
    if (!f || fseek(f, 0, SEEK_SET) != 0)
        abort();
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    uint64_t connections = 0;
    struct json_object *last = NULL;
    struct json_tokener *tok = json_tokener_new();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    while ((n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] != '\n' || n > INT32_MAX)
            abort();
        json_object_put(last);
        json_tokener_reset(tok);
        last = json_tokener_parse_ex(tok, line, (int)(n - 1));
        if (!last || json_tokener_get_parse_end(tok) != (size_t)(n - 1))
            abort();
        struct json_object *type;
        if (!json_object_object_get_ex(last, "type", &type))
            abort();
        connections += strcmp(json_object_get_string(type), "connection") == 0;
    }
    struct json_object *conns, *type;
    if (!last || !json_object_object_get_ex(last, "type", &type) ||
        strcmp(json_object_get_string(type), "summary") != 0 ||
        !json_object_object_get_ex(last, "connections", &conns))
        abort();
    if (connections != stats->conns.reported || member_u64(conns, "total") != connections ||
        member_u64(last, "packets") != stats->read.packets ||
        member_u64(last, "analysed") != stats->analysed)
        abort();
    json_object_put(last);
    json_tokener_free(tok);
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
