/* fuzz_capture: a whole pcap or pcapng file through analyze_run() as main.c drives it — the
 * capture reader (capture.c over libpcap), packet times brought into range, decode, tracker and
 * JSON records (to /dev/null) — then the summary. The input is the file itself, so any capture
 * is a seed; the input's size picks a BPF filter (odd: "tcp or icmp6") and the checksum mode, so
 * the filtered and checksum paths are covered too. Owns, per input: a memory file (memfd)
 * holding the input, the sink and a /dev/null stream for messages, all released before
 * returning. */
#define _GNU_SOURCE 1 /* memfd_create */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "analyze.h"
#include "fuzz.h"
#include "sink.h"
#include "stats.h"
#include "tracker.h"

/* Writes the input to an anonymous memory file; -1 if that is impossible. */
static int memory_file(const uint8_t *data, size_t size) {
    int fd = memfd_create("fuzz_capture", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);
        if (n <= 0) {
            close(fd);
            return -1;
        }
        done += (size_t)n;
    }
    return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int fd = memory_file(data, size);
    FILE *messages = fopen("/dev/null", "w");
    if (fd < 0 || !messages)
        abort();
    char path[64], err[512];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);

    struct sink sink;
    struct transport_options out = {.path = "/dev/null"};
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
    enum exit_status rc = analyze_run(&cfg, stats, report, messages, &stopped);

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
    free(report);
    free(stats);
    fclose(messages);
    close(fd);
    return 0;
}
