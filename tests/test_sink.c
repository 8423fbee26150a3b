/* Tests for sink: records written through a format and a transport, by the writer thread,
 * read back from the file with json-c and compared with the connections and anomalies they came
 * from; rotation by size never splits or loses a record and starts each text file with its
 * header; a failing write is counted as a lost record. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sink.h"
#include "timefmt.h"

#define T0_NS 1704067200000000000ll /* 2024-01-01T00:00:00Z */

/* A UDP connection 10.0.0.1:(1000+i) -> 10.0.0.2:53, i+1 packets each way. */
static void make_conn(struct conn *c, unsigned i) {
    memset(c, 0, sizeof *c);
    c->e.key.ip_version = 4;
    c->e.key.proto = 17;
    memcpy(c->e.key.addr[0], (uint8_t[]){10, 0, 0, 1}, 4);
    memcpy(c->e.key.addr[1], (uint8_t[]){10, 0, 0, 2}, 4);
    c->e.key.port[0] = (uint16_t)(1000 + i);
    c->e.key.port[1] = 53;
    c->first_frame = 2 * (uint64_t)i + 1;
    c->first_ns = T0_NS + (int64_t)i * 1000000; /* i ms after T0 */
    c->last_ns = c->first_ns + 250000;          /* 250 µs long */
    c->pkts[0] = c->pkts[1] = i + 1;
    c->ip_bytes[0] = c->ip_bytes[1] = 100 * ((uint64_t)i + 1);
    c->end = CONN_END_TIMEOUT;
}

static char *temp_path(const char *name) {
    static char dir[] = "/tmp/test_sink.XXXXXX";
    static bool made;
    if (!made)
        cr_assert_not_null(mkdtemp(dir));
    made = true;
    char *p = malloc(512);
    snprintf(p, 512, "%s/%s", dir, name);
    return p;
}

static struct json_object *parse_line(const char *line) {
    struct json_tokener *tok = json_tokener_new();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    struct json_object *o = json_tokener_parse_ex(tok, line, (int)strlen(line));
    cr_assert_not_null(o, "not JSON: %s", line);
    cr_assert_eq(json_tokener_get_error(tok), json_tokener_success, "%s", line);
    json_tokener_free(tok);
    return o;
}

static const char *str_of(struct json_object *o, const char *key) {
    struct json_object *v;
    cr_assert(json_object_object_get_ex(o, key, &v), "no %s", key);
    return json_object_get_string(v);
}

static uint64_t u64_of(struct json_object *o, const char *key) {
    struct json_object *v;
    cr_assert(json_object_object_get_ex(o, key, &v), "no %s", key);
    cr_assert(json_object_is_type(v, json_type_int), "%s not an integer", key);
    return json_object_get_uint64(v);
}

static void open_sink(struct sink *s, const char *path, const char *format, uint64_t rotate) {
    struct transport_options opt = {.path = path, .rotate_bytes = rotate};
    struct record_options rec = {0};
    char err[256];
    cr_assert(sink_open(s, &opt, output_format_find(format), &rec, err, sizeof err), "%s", err);
}

/* The connection record of make_conn(i), as read back. */
static void check_conn_record(struct json_object *o, unsigned i) {
    struct conn c;
    make_conn(&c, i);
    char uid[CONN_UID_LEN], ts[40];
    conn_uid(&c, uid);
    cr_expect_str_eq(str_of(o, "type"), "connection");
    cr_expect_str_eq(str_of(o, "uid"), uid);
    cr_expect_str_eq(str_of(o, "src_ip"), "10.0.0.1");
    cr_expect_eq(u64_of(o, "src_port"), 1000 + i);
    cr_expect_str_eq(str_of(o, "dest_ip"), "10.0.0.2");
    cr_expect_eq(u64_of(o, "dest_port"), 53);
    cr_expect_str_eq(str_of(o, "proto"), "udp");
    snprintf(ts, sizeof ts, "%u.%06u", 1704067200 + i / 1000, i % 1000 * 1000); /* T0 + i ms */
    cr_expect_str_eq(str_of(o, "ts"), ts);
    cr_expect_str_eq(str_of(o, "duration"), "0.000250");
    struct json_object *orig;
    cr_assert(json_object_object_get_ex(o, "orig", &orig));
    cr_expect_eq(u64_of(orig, "pkts"), i + 1);
    cr_expect_eq(u64_of(orig, "bytes"), 100 * (i + 1));
    cr_expect_eq(u64_of(o, "first_frame"), 2 * i + 1);
}

/* Reads every line of path; calls each(o, n) for each parsed record; returns the count. */
static unsigned read_records(const char *path, void (*each)(struct json_object *, unsigned)) {
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned count = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        cr_assert_eq(line[n - 1], '\n', "a record without its newline in %s", path);
        struct json_object *o = parse_line(line);
        if (each)
            each(o, count);
        count++;
        json_object_put(o);
    }
    free(line);
    fclose(f);
    return count;
}

#define NCONN 3000u

static void check_nth(struct json_object *o, unsigned n) {
    if (n < NCONN)
        check_conn_record(o, n);
}

/* Hands NCONN connections to a JSON sink's writer thread (a queue of queue records, 0: the
 * default), draining it after every drain_every of them (0: never), then the summary; checks
 * that every record came out, in order, equal to its connection. */
static void write_and_read_back(const char *name, size_t queue, unsigned drain_every) {
    char *path = temp_path(name);
    struct sink s;
    open_sink(&s, path, "json", 0);
    cr_assert(sink_start_writer(&s, queue, false));
    struct conn c;
    for (unsigned i = 0; i < NCONN; i++) {
        make_conn(&c, i);
        sink_connection(&s, &c, true);
        memset(&c, 0xff, sizeof c); /* the copy was taken at hand-over */
        if (drain_every && i % drain_every == drain_every - 1)
            sink_drain(&s);
    }
    struct run_stats st = {0};
    struct input_report in = {.path = "x.pcap", .link = -1};
    sink_summary(&s, &st, &in, 1, 0.25);
    cr_assert(sink_close(&s));
    cr_expect_eq(s.lost_records, 0);
    cr_expect_eq(read_records(path, check_nth), NCONN + 1);
    free(path);
}

/* Every connection handed over goes through the writer thread's queue and comes out, in order,
 * with the fields of the connection it was copied from (the copy is taken at hand-over: the
 * struct is overwritten right after). */
Test(sink, writer_thread_records_read_back_equal_to_their_connections) {
    write_and_read_back("conns.json", 0, 0);
}

/* The same through the smallest queue (16 records) with a drain every 100: the analysis finds the
 * ring full and waits for room about once a record, and waits for it to empty 30 times, while the
 * writer keeps running dry and going to sleep — every way the two threads hand over without a
 * lock held between them (writer.c). Not one record may be lost, repeated or reordered, and no
 * wait may hang. */
Test(sink, writer_thread_small_queue_keeps_every_record_in_order) {
    write_and_read_back("small-queue.json", 16, 100);
}

static void check_anomaly_detail(struct json_object *o, unsigned n) {
    (void)n;
    cr_expect_str_eq(str_of(o, "type"), "anomaly");
    /* the tab and quote escaped and read back as they were; the stray byte 0xff is U+FFFD */
    cr_expect_str_eq(str_of(o, "detail"), "a\t\"b\" \xef\xbf\xbd end");
    cr_expect_str_eq(str_of(o, "dest_ip"), "192.0.2.9");
    cr_expect_eq(u64_of(o, "count"), 77);
}

Test(sink, anomaly_detail_is_escaped_and_read_back) {
    char *path = temp_path("anomaly.json");
    struct sink s;
    open_sink(&s, path, "json", 0);
    uint8_t host[4] = {192, 0, 2, 9};
    struct anomaly_event ev = {.id = ANOMALY_SYN_FLOOD,
                               .dir = -1,
                               .ts_ns = T0_NS,
                               .frame = 5,
                               .host = host,
                               .host_version = 4,
                               .count = 77};
    snprintf(ev.detail, sizeof ev.detail, "a\t\"b\" \xff end");
    sink_anomaly(&s, &ev);
    cr_assert(sink_close(&s));
    cr_expect_eq(read_records(path, check_anomaly_detail), 1);
    free(path);
}

/* Counts connection records across the live file and its rotated siblings: rotation by size
 * happens between records, so every file holds whole lines and none is lost or doubled. */
Test(sink, rotation_by_size_keeps_every_record_whole) {
    char *path = temp_path("rot.json");
    struct sink s;
    open_sink(&s, path, "json", 4096); /* a record is ~700 bytes: a new file every ~6 */
    cr_assert(sink_start_writer(&s, 0, false));
    struct conn c;
    for (unsigned i = 0; i < 100; i++) {
        make_conn(&c, i);
        sink_connection(&s, &c, true);
    }
    sink_drain(&s);
    uint32_t rotations = s.outputs[0]->logs[0].transport.rotations;
    cr_assert(sink_close(&s));
    cr_expect_gt(rotations, 5);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ls %s* | wc -l", path);
    FILE *p = popen(cmd, "r");
    unsigned files = 0;
    cr_assert_eq(fscanf(p, "%u", &files), 1);
    pclose(p);
    cr_expect_eq(files, rotations + 1);
    snprintf(cmd, sizeof cmd, "cat %s* > %s.all", path, path);
    cr_assert_eq(system(cmd), 0);
    char all[600];
    snprintf(all, sizeof all, "%s.all", path);
    cr_expect_eq(read_records(all, NULL), 100);
    free(path);
}

/* Text output starts every file with the column header (the format is told the file is empty),
 * and only there; the file the last rotation left empty has nothing yet, not even a header. */
Test(sink, text_header_at_the_top_of_each_rotated_file) {
    char *path = temp_path("rot.txt");
    struct sink s;
    open_sink(&s, path, "text", 2000);
    struct conn c;
    for (unsigned i = 0; i < 60; i++) {
        make_conn(&c, i);
        sink_connection(&s, &c, true);
    }
    uint32_t rotations = s.outputs[0]->logs[0].transport.rotations;
    cr_assert(sink_close(&s));
    cr_assert_gt(rotations, 1);
    char cmd[700];
    snprintf(cmd, sizeof cmd,
             "for f in %s*; do [ -s \"$f\" ] || continue; "
             "head -c 9 \"$f\" | grep -qx 'end (UTC)' || exit 1; "
             "test \"$(grep -c '^end (UTC)' \"$f\")\" = 1 || exit 1; done",
             path);
    cr_expect_eq(system(cmd), 0, "a file without exactly one header at its top");
    free(path);
}

/* /dev/full accepts the open and fails every write (ENOSPC): each record is counted lost. */
Test(sink, failed_writes_are_counted_as_lost_records) {
    struct sink s;
    open_sink(&s, "/dev/full", "json", 0);
    struct conn c;
    for (unsigned i = 0; i < 7; i++) {
        make_conn(&c, i);
        sink_connection(&s, &c, true);
    }
    sink_close(&s);
    cr_expect_eq(s.lost_records, 7);
}

/* -o DIR with -F zeek: the connections in DIR/conn.log, the anomalies in DIR/weird.log, each a
 * Zeek log of its own (#path, its #fields, #close at the end). A syn_flood against 192.0.2.9 is
 * host-level: no uid and no ports ("-"), its target as id.resp_h, the detail as addl with the tab
 * escaped as Zeek escapes its separator (\x09). */
Test(sink, zeek_directory_writes_conn_and_weird_logs) {
    char *dir = temp_path("zeekdir/"), *conn_log = temp_path("zeekdir/conn.log"),
         *weird_log = temp_path("zeekdir/weird.log");
    struct sink s;
    open_sink(&s, dir, "zeek", 0);
    struct conn c;
    make_conn(&c, 0);
    sink_connection(&s, &c, true);
    uint8_t host[4] = {192, 0, 2, 9};
    struct anomaly_event ev = {.id = ANOMALY_SYN_FLOOD,
                               .dir = -1,
                               .ts_ns = T0_NS,
                               .host = host,
                               .host_version = 4,
                               .count = 77};
    snprintf(ev.detail, sizeof ev.detail, "a\tb");
    sink_anomaly(&s, &ev);
    struct run_stats st = {0};
    struct input_report in = {.path = "x.pcap", .link = -1};
    sink_summary(&s, &st, &in, 1, 0.25);
    cr_assert(sink_close(&s));
    char cmd[1200], out[4096];
    snprintf(cmd, sizeof cmd,
             "grep -c '^#path\tconn$' %s; grep -c '^#close' %s; grep -vc '^#' %s; "
             "grep -c '^#path\tweird$' %s; grep -c '^#close' %s; grep -v '^#' %s",
             conn_log, conn_log, conn_log, weird_log, weird_log, weird_log);
    FILE *p = popen(cmd, "r");
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    pclose(p);
    cr_expect_str_eq(out, "1\n1\n1\n1\n1\n"
                          "1704067200.000000\t-\t-\t-\t192.0.2.9\t-\tsyn_flood\ta\\x09b\tF\t"
                          "shakedown\t-\n");
    free(dir);
    free(conn_log);
    free(weird_log);
}

/* The logs of one directory rotate together: records alternate between conn.log and weird.log,
 * so whenever one of them reaches --rotate-size the other has rows too, and both are moved aside
 * at once under the same time stamp (the same suffix), each ended by #close; every rotated file
 * starts with its own header. */
Test(sink, zeek_directory_logs_rotate_together) {
    char *dir = temp_path("rotdir");
    cr_assert_eq(mkdir(dir, 0700), 0);
    struct sink s;
    open_sink(&s, dir, "zeek", 1500); /* a header ~600 bytes, a conn row ~150: a few rows each */
    struct conn c;
    uint8_t host[4] = {192, 0, 2, 9};
    for (unsigned i = 0; i < 40; i++) {
        make_conn(&c, i);
        sink_connection(&s, &c, true);
        struct anomaly_event ev = {.id = ANOMALY_PORT_SCAN,
                                   .dir = -1,
                                   .ts_ns = T0_NS,
                                   .host = host,
                                   .host_version = 4,
                                   .count = i};
        sink_anomaly(&s, &ev);
    }
    uint32_t rotations = s.outputs[0]->logs[0].transport.rotations;
    cr_assert(sink_close(&s));
    cr_assert_gt(rotations, 2);
    char cmd[1500], out[256];
    /* the suffixes of rotated conn.log and weird.log files, which must be the same list; every
     * rotated file starts with #separator and ends with #close */
    snprintf(cmd, sizeof cmd,
             "cd %s && a=$(ls conn.log.* | sed 's/^conn.log//') && "
             "b=$(ls weird.log.* | sed 's/^weird.log//') && test \"$a\" = \"$b\" && "
             "for f in conn.log.* weird.log.*; do head -1 $f | grep -q '^#separator' || exit 1; "
             "tail -1 $f | grep -q '^#close' || exit 1; done && ls conn.log.* | wc -l",
             dir);
    FILE *p = popen(cmd, "r");
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    cr_expect_eq(pclose(p), 0, "rotated logs do not pair up: %s", out);
    cr_expect_eq((uint32_t)atoi(out), rotations);
    free(dir);
}

/* A directory with a format that writes one stream is refused, naming it. */
Test(sink, directory_refused_for_one_stream_formats) {
    char *dir = temp_path("jsondir/");
    struct transport_options opt = {.path = dir};
    struct record_options rec = {0};
    struct sink s;
    char err[512];
    cr_assert_not(sink_open(&s, &opt, output_format_find("json"), &rec, err, sizeof err));
    cr_expect(strstr(err, dir) && strstr(err, "directory"), "%s", err);
    free(dir);
}

/* SIGHUP (sink_reopen) reopens both logs of a directory by their names: logrotate moved both
 * away, and the rows that come after go to new files of those names, each starting with its
 * header, while the moved files keep what they had. */
Test(sink, zeek_directory_logs_reopen_together) {
    char *dir = temp_path("hupdir/");
    struct sink s;
    open_sink(&s, dir, "zeek", 0);
    struct conn c;
    uint8_t host[4] = {192, 0, 2, 9};
    struct anomaly_event ev = {
        .id = ANOMALY_PORT_SCAN, .dir = -1, .ts_ns = T0_NS, .host = host, .host_version = 4};
    make_conn(&c, 0);
    sink_connection(&s, &c, true);
    sink_anomaly(&s, &ev);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cd %s && mv conn.log conn.log.1 && mv weird.log weird.log.1", dir);
    cr_assert_eq(system(cmd), 0);
    sink_reopen(&s);
    make_conn(&c, 1);
    sink_connection(&s, &c, true);
    sink_anomaly(&s, &ev);
    cr_assert(sink_close(&s));
    /* one row in each of the four files, each file starting with its header */
    snprintf(cmd, sizeof cmd,
             "cd %s && for f in conn.log conn.log.1 weird.log weird.log.1; do "
             "test \"$(grep -vc '^#' $f)\" = 1 && head -1 $f | grep -q '^#separator' || exit 1; "
             "done",
             dir);
    cr_expect_eq(system(cmd), 0, "a log was not reopened by its name");
    free(dir);
}

/* Live (sink_start_writer with live), the analysis never waits for an output: a reader that does
 * not read (a FIFO nobody reads yet holds 64 KiB, about 100 records) blocks the writer thread, its
 * queue of 16 records fills, and what it cannot take is dropped and counted. Once the reader
 * reads, the queued records arrive: every record handed over is either read or counted
 * dropped, none twice, and the output's written count is what was read. */
static void *read_fifo_lines(void *arg) {
    FILE *f = arg;
    unsigned long lines = 0;
    int ch;
    while ((ch = getc(f)) != EOF)
        lines += ch == '\n';
    fclose(f);
    return (void *)lines;
}

Test(sink, live_full_queue_drops_and_counts_without_waiting) {
    char *path = temp_path("slow.fifo");
    cr_assert_eq(mkfifo(path, 0600), 0);
    int hold = open(path, O_RDONLY | O_NONBLOCK); /* lets the sink open it for writing */
    cr_assert_geq(hold, 0);
    struct sink s;
    open_sink(&s, path, "json", 0);
    cr_assert(sink_start_writer(&s, 16, true));
    struct conn c;
    for (unsigned i = 0; i < 2000; i++) {
        make_conn(&c, i);
        sink_connection(&s, &c, true); /* would hang here if it waited for the reader */
    }
    uint64_t dropped = s.outputs[0]->counts.dropped;
    cr_expect_gt(dropped, 0, "nothing was dropped: the queue did not fill");
    FILE *f = fopen(path, "r"); /* a writer is there: does not wait */
    cr_assert_not_null(f);
    close(hold);
    pthread_t reader;
    cr_assert_eq(pthread_create(&reader, NULL, read_fifo_lines, f), 0);
    sink_drain(&s);
    uint64_t written = s.outputs[0]->counts.written;
    cr_expect_eq(s.outputs[0]->counts.dropped, dropped, "dropped after the producer was done");
    cr_assert(sink_close(&s));
    void *lines;
    pthread_join(reader, &lines);
    cr_expect_eq((uint64_t)(uintptr_t)lines, written);
    cr_expect_eq(written + dropped, 2000);
    cr_expect_eq(s.lost_records, dropped);
    free(path);
}
