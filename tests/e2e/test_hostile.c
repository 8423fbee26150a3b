/* End-to-end tests of hostile input (issue 7): damaged and adversarial capture files, malformed
 * packets counted by reason, garbage of every kind, and output that cannot be written. Each runs
 * the real binary on a capture this file writes (tests/gen, or byte by byte where the damage is
 * in the file format itself) and checks the summary, the connection records, the exit status
 * and stderr. Every run's JSON output is also kept and validated against
 * docs/shakedown.schema.json by tests/schema/validate.py, whatever bytes came in.
 *
 * Invariants checked on every run (check_output): each line is one JSON object; the summary is
 * the last line; every connection record has its own uid; the summary's connections.total,
 * by_close and by_conn_state agree with the records; packets = filtered + analysed +
 * checksum_dropped + decode_failed, and decode_failed is the sum of decode_errors
 * (docs/schema.md). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capwrite.h"
#include "pktbuild.h"
#include "run.h"
#include "samples.h"
#include "session.h"

#define SEC 1000000000ull
#define T0 SAMPLES_START_NS /* 2024-01-01T00:00:00Z */

/* ---- output checks and schema validation ---------------------------------------------------- */

#define MAX_OUTPUTS 512

/* Output files of a test's runs, validated together at its end (one python start). */
struct outputs {
    char path[MAX_OUTPUTS][96];
    int n;
};

static void outputs_add(struct outputs *o, const char *text) {
    cr_assert_lt(o->n, MAX_OUTPUTS);
    snprintf(o->path[o->n], sizeof o->path[0], "%s", tmp_path("out"));
    char *p = o->path[o->n];
    snprintf(p + strlen(p), sizeof o->path[0] - strlen(p), ".%d.json", o->n);
    FILE *f = fopen(p, "w");
    cr_assert(f);
    fputs(text, f);
    fclose(f);
    o->n++;
}

/* validate.py --whole-run over every output kept: each must be valid records ending with its one
 * summary. */
static void outputs_validate(struct outputs *o) {
    if (o->n == 0)
        return;
    const char **argv = calloc((size_t)o->n + 8, sizeof *argv);
    cr_assert(argv);
    int k = 0;
    argv[k++] = SHAKEDOWN_PYTHON;
    argv[k++] = SHAKEDOWN_SOURCE_DIR "/tests/schema/validate.py";
    argv[k++] = "--time";
    argv[k++] = "epoch";
    argv[k++] = "--whole-run";
    for (int i = 0; i < o->n; i++)
        argv[k++] = o->path[i];
    argv[k] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int ws = 0;
    cr_assert_eq(waitpid(pid, &ws, 0), pid);
    cr_expect(WIFEXITED(ws) && WEXITSTATUS(ws) == 0,
              "validate.py rejected some of the %d outputs (its messages are above)", o->n);
    for (int i = 0; i < o->n; i++)
        unlink(o->path[i]);
    free(argv);
    o->n = 0;
}

#define MAX_CONNS 16384

/* One run's output, parsed. */
struct result {
    int status;
    char *err;
    struct json_object *summary;
    struct json_object *conn[MAX_CONNS];
    int nconn;
    struct json_object *anomaly[MAX_CONNS];
    int nanomaly;
};

static int64_t int_or_zero(struct json_object *o, const char *path) {
    int64_t v = json_int_at(o, path);
    return v < 0 ? 0 : v;
}

static int by_string(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The invariants of the file comment. */
static void check_output(struct result *r, char *out) {
    int lines = 0, summary_line = -1;
    char *save = NULL;
    for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        struct json_object *o = json_tokener_parse(line);
        cr_assert(o && json_object_is_type(o, json_type_object), "not a JSON object: %s", line);
        const char *type = json_str_or(o, "type");
        if (strcmp(type, "connection") == 0 && r->nconn < MAX_CONNS) {
            r->conn[r->nconn++] = o;
        } else if (strcmp(type, "anomaly") == 0 && r->nanomaly < MAX_CONNS) {
            r->anomaly[r->nanomaly++] = o;
        } else if (strcmp(type, "summary") == 0) {
            cr_assert_null(r->summary, "two summaries");
            r->summary = o;
            summary_line = lines;
        } else {
            cr_assert_fail("unexpected record (or more than %d): %s", MAX_CONNS, line);
        }
        lines++;
    }
    cr_assert(r->summary, "no summary");
    cr_assert_eq(summary_line, lines - 1, "the summary is not the last line");
    const char **uids = malloc(((size_t)r->nconn + 1) * sizeof *uids);
    cr_assert(uids);
    for (int i = 0; i < r->nconn; i++)
        uids[i] = json_str_or(r->conn[i], "uid");
    qsort(uids, (size_t)r->nconn, sizeof *uids, by_string);
    for (int i = 1; i < r->nconn; i++)
        cr_expect_str_neq(uids[i - 1], uids[i], "two records have uid %s", uids[i]);
    free(uids);
    struct json_object *s = r->summary;
    cr_expect_eq(json_int_at(s, "connections.total"), r->nconn);
    expect_breakdown(s, "connections.by_close", r->conn, r->nconn, "close.how");
    expect_breakdown(s, "connections.by_conn_state", r->conn, r->nconn, "conn_state");
    expect_packet_accounting(s);
}

/* Runs shakedown -F json -r path [opts], checks the invariants, keeps the output for validation. */
static void run_on(struct result *r, struct outputs *outs, const char *path,
                   const char *const *opts) {
    const char *args[32] = {"-F", "json", "-r", path};
    size_t n = 4;
    for (size_t i = 0; opts && opts[i] && n < 31; i++)
        args[n++] = opts[i];
    args[n] = NULL;
    struct run_result rr = run_shakedown(NULL, args);
    memset(r, 0, sizeof *r);
    r->status = rr.status;
    r->err = rr.err;
    cr_assert_lt(rr.status, 128, "shakedown died of signal %d on %s; stderr: %s", rr.status - 128,
                 path, rr.err);
    outputs_add(outs, rr.out);
    check_output(r, rr.out);
    free(rr.out);
}

static void result_free(struct result *r) {
    for (int i = 0; i < r->nconn; i++)
        json_object_put(r->conn[i]);
    for (int i = 0; i < r->nanomaly; i++)
        json_object_put(r->anomaly[i]);
    json_object_put(r->summary);
    free(r->err);
}

static struct json_object *input0(const struct result *r) {
    return json_object_array_get_idx(json_at(r->summary, "inputs"), 0);
}

/* The exact JSON text of a member (timestamps are compared as written). */
static const char *text_at(struct json_object *o, const char *path) {
    struct json_object *v = json_at(o, path);
    return v ? json_object_to_json_string(v) : "(absent)";
}

/* Records named `name` among the anomaly records. */
static int anomaly_records(const struct result *r, const char *name) {
    int n = 0;
    for (int i = 0; i < r->nanomaly; i++)
        n += strcmp(json_str_or(r->anomaly[i], "name"), name) == 0;
    return n;
}

/* ---- writing captures byte by byte ---------------------------------------------------------- */

struct bytes {
    uint8_t *b;
    size_t n, cap;
};

static void put(struct bytes *x, const void *p, size_t len) {
    if (x->n + len > x->cap) {
        x->cap = (x->n + len) * 2 + 256;
        x->b = realloc(x->b, x->cap);
        cr_assert(x->b);
    }
    memcpy(x->b + x->n, p, len);
    x->n += len;
}

static void put_le32(struct bytes *x, uint32_t v) {
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(x, b, 4);
}

static void put_le16(struct bytes *x, uint16_t v) {
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    put(x, b, 2);
}

/* Classic pcap, µs, little-endian (as capwrite writes it). */
static void pcap_header(struct bytes *x, uint32_t linktype, uint32_t snaplen) {
    put_le32(x, 0xa1b2c3d4u);
    put_le16(x, 2);
    put_le16(x, 4);
    put_le32(x, 0);
    put_le32(x, 0);
    put_le32(x, snaplen);
    put_le32(x, linktype);
}

/* A record with the given header fields followed by `stored` bytes of data. */
static void pcap_record(struct bytes *x, uint32_t sec, uint32_t usec, uint32_t caplen, uint32_t len,
                        const uint8_t *data, size_t stored) {
    put_le32(x, sec);
    put_le32(x, usec);
    put_le32(x, caplen);
    put_le32(x, len);
    put(x, data, stored);
}

static const char *write_bytes(const char *name, const uint8_t *b, size_t n) {
    static char paths[4][256];
    static unsigned next;
    char *p = paths[next++ % 4];
    snprintf(p, sizeof paths[0], "%s", tmp_path(name));
    FILE *f = fopen(p, "wb");
    cr_assert(f);
    cr_assert_eq(fwrite(b, 1, n, f), n);
    fclose(f);
    return p;
}

static uint8_t *read_whole(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    cr_assert(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(*n + 1);
    cr_assert(b && fread(b, 1, *n, f) == *n);
    fclose(f);
    return b;
}

static uint32_t le32_at(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static size_t frame(const struct pb_frame *f, uint8_t *buf, size_t cap) {
    size_t n = pb_build(f, buf, cap);
    cr_assert(n > 0, "pb_build failed");
    return n;
}

/* ==== truncated files ========================================================================= */

/* One cut of a capture: expected status, packets, exit code. */
static void expect_cut(struct outputs *outs, const uint8_t *whole, size_t cut, const char *status,
                       int64_t packets, int exit_code, int64_t all_packets) {
    const char *path = write_bytes("cut.cap", whole, cut);
    struct result r;
    run_on(&r, outs, path, NULL);
    cr_expect_eq(r.status, exit_code, "cut at %zu: exit %d, want %d; stderr %s", cut, r.status,
                 exit_code, r.err);
    cr_expect_str_eq(json_str_or(input0(&r), "status"), status, "cut at %zu: status %s, want %s",
                     cut, json_str_or(input0(&r), "status"), status);
    cr_expect_eq(json_int_at(r.summary, "packets"), packets,
                 "cut at %zu: %" PRId64 " packets, "
                 "want %" PRId64,
                 cut, json_int_at(r.summary, "packets"), packets);
    cr_expect_eq(json_int_at(r.summary, "analysed"), packets, "cut at %zu", cut);
    if (strcmp(status, "ok") != 0) {
        /* The reason is in the summary and on stderr, which names the file (shakedown(1)). */
        cr_expect(json_str_at(input0(&r), "error"), "cut at %zu: no error in inputs[0]", cut);
        cr_expect(strstr(r.err, path), "cut at %zu: stderr does not name the file: %s", cut, r.err);
    }
    /* The frames are the standard exchange: one connection, closed by its 11th frame. */
    cr_expect_eq(r.nconn, packets > 0 ? 1 : 0, "cut at %zu: %d connection records", cut, r.nconn);
    if (r.nconn == 1)
        cr_expect_str_eq(json_str_or(r.conn[0], "close.how"),
                         packets == all_packets ? "fin" : "capture_end", "cut at %zu", cut);
    result_free(&r);
}

/* clean-ipv4.pcap (the standard exchange, 11 records, samples.h) cut at every record boundary and
 * at every byte inside each 16-byte record header, inside the file header, and inside a record's
 * data:
 *  - inside the 24-byte file header: not a capture file yet; unreadable, exit status 2, no packet
 *    (and still a summary);
 *  - at the start of record k (0-based): k whole records and a clean end: ok, k packets, exit 0
 *    (k = 0: the file header alone, an empty capture);
 *  - inside record k's header or data: k packets analysed, then the damage: damaged, exit 1. */
Test(hostile_file, pcap_truncated_at_every_boundary_and_header_byte) {
    const char *path = tmp_path("whole.pcap");
    cr_assert(gen_clean_ipv4(path));
    size_t n;
    uint8_t *whole = read_whole(path, &n);
    struct outputs outs = {.n = 0};
    size_t starts[16];
    int records = 0;
    for (size_t off = 24; off < n; records++) {
        cr_assert_lt(records, 16);
        starts[records] = off;
        off += 16 + le32_at(whole + off + 8);
    }
    cr_assert_eq(records, 11);
    for (size_t cut = 0; cut < 24; cut += 5)
        expect_cut(&outs, whole, cut, "unreadable", 0, 2, 11);
    expect_cut(&outs, whole, 23, "unreadable", 0, 2, 11);
    for (int k = 0; k < records; k++) {
        expect_cut(&outs, whole, starts[k], "ok", k, 0, 11);
        for (size_t b = 1; b < 16; b++)
            expect_cut(&outs, whole, starts[k] + b, "damaged", k, 1, 11);
        uint32_t caplen = le32_at(whole + starts[k] + 8);
        expect_cut(&outs, whole, starts[k] + 16, "damaged", k, 1, 11);
        expect_cut(&outs, whole, starts[k] + 16 + caplen / 2, "damaged", k, 1, 11);
        expect_cut(&outs, whole, starts[k] + 16 + caplen - 1, "damaged", k, 1, 11);
    }
    expect_cut(&outs, whole, n, "ok", 11, 0, 11);
    outputs_validate(&outs);
    free(whole);
}

/* clean.pcapng: SHB (28 bytes), IDB (32), then 11 EPBs. Cut
 *  - anywhere before the end of the IDB: no interface, so no link type: unreadable, exit 2;
 *  - at the start of EPB k: k packets and a clean end: ok, exit 0;
 *  - inside EPB k — in its 8-byte block header (type, length), in the 20 bytes of its fixed fields,
 *    in its data, or one byte short of its trailing length: damaged after k packets, exit 1. */
Test(hostile_file, pcapng_truncated_at_every_block_boundary_and_header_byte) {
    const char *path = tmp_path("whole.pcapng");
    cr_assert(gen_clean_pcapng(path));
    size_t n;
    uint8_t *whole = read_whole(path, &n);
    struct outputs outs = {.n = 0};
    cr_assert_eq(le32_at(whole), 0x0A0D0D0Au);
    cr_assert_eq(le32_at(whole + 4), 28);
    cr_assert_eq(le32_at(whole + 28), 1);
    cr_assert_eq(le32_at(whole + 32), 32);
    size_t starts[16];
    int blocks = 0;
    for (size_t off = 60; off < n; blocks++) {
        cr_assert_lt(blocks, 16);
        cr_assert_eq(le32_at(whole + off), 6, "EPB expected");
        starts[blocks] = off;
        off += le32_at(whole + off + 4);
    }
    cr_assert_eq(blocks, 11);
    static const size_t early[] = {0, 4, 8, 12, 27, 28, 32, 36, 44, 59};
    for (size_t i = 0; i < sizeof early / sizeof early[0]; i++)
        expect_cut(&outs, whole, early[i], "unreadable", 0, 2, 11);
    for (int k = 0; k < blocks; k++) {
        uint32_t total = le32_at(whole + starts[k] + 4);
        expect_cut(&outs, whole, starts[k], "ok", k, 0, 11);
        for (size_t b = 1; b < 28; b++)
            expect_cut(&outs, whole, starts[k] + b, "damaged", k, 1, 11);
        expect_cut(&outs, whole, starts[k] + 28 + (total - 32) / 2, "damaged", k, 1, 11);
        expect_cut(&outs, whole, starts[k] + total - 1, "damaged", k, 1, 11);
    }
    expect_cut(&outs, whole, n, "ok", 11, 0, 11);
    outputs_validate(&outs);
    free(whole);
}

/* ==== bogus record lengths ==================================================================== */

/* An Ethernet/IPv4/TCP PSH|ACK from 10.0.0.1:sport with `payload` bytes. */
static size_t data_frame(uint8_t *buf, size_t cap, uint16_t sport, size_t payload) {
    struct pb_frame f = pb_tcp4();
    f.sport = sport;
    f.flags = PB_PSH | PB_ACK;
    f.seq = 1000;
    f.ack = 2000;
    f.payload_len = payload;
    return frame(&f, buf, cap);
}

/* A pcap whose header says snaplen 100; its second record has caplen 150 (> snaplen, with the 150
 * bytes present: a 54-byte header + 96 bytes of payload), between two good 74-byte records.
 * libpcap reads such a record and hands over its first snaplen bytes, skipping the rest
 * (sf-pcap.c, "The packet is bigger than the snapshot length for this file"), so the file stays
 * in step: 3 packets, all analysed; the middle one's payload is cut (truncated 1) and its
 * checksum cannot be verified; the other two have good checksums. Bytes count the wire lengths:
 * 74 + 150 + 74. A caplen beyond anything plausible (1 GiB, above libpcap's 256 KiB maximum for
 * Ethernet) in the same position is damage: the first packet is analysed, then the file is
 * reported damaged (exit 1). */
Test(hostile_file, caplen_greater_than_snaplen) {
    struct outputs outs = {.n = 0};
    uint8_t a[256], big[256];
    size_t na = data_frame(a, sizeof a, 40001, 20);
    size_t nb = data_frame(big, sizeof big, 40002, 96);
    cr_assert_eq(na, 74);
    cr_assert_eq(nb, 150);

    struct bytes x = {0};
    pcap_header(&x, 1, 100);
    pcap_record(&x, 1704067200, 0, (uint32_t)na, (uint32_t)na, a, na);
    pcap_record(&x, 1704067200, 1000, (uint32_t)nb, (uint32_t)nb, big, nb);
    pcap_record(&x, 1704067200, 2000, (uint32_t)na, (uint32_t)na, a, na);
    struct result r;
    run_on(&r, &outs, write_bytes("snap.pcap", x.b, x.n), NULL);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(json_int_at(r.summary, "packets"), 3);
    cr_expect_eq(json_int_at(r.summary, "analysed"), 3);
    cr_expect_eq(json_int_at(r.summary, "truncated"), 1);
    cr_expect_eq(json_int_at(r.summary, "bytes"), 74 + 150 + 74);
    cr_expect_eq(json_int_at(r.summary, "checksums.tcp.good"), 2);
    cr_expect_eq(int_or_zero(r.summary, "checksums.tcp.bad"), 0);
    result_free(&r);

    x.n = 0;
    pcap_header(&x, 1, 100);
    pcap_record(&x, 1704067200, 0, (uint32_t)na, (uint32_t)na, a, na);
    pcap_record(&x, 1704067200, 1000, 1u << 30, 1u << 30, big, nb);
    pcap_record(&x, 1704067200, 2000, (uint32_t)na, (uint32_t)na, a, na);
    run_on(&r, &outs, write_bytes("huge.pcap", x.b, x.n), NULL);
    cr_expect_eq(r.status, 1, "%s", r.err);
    cr_expect_eq(json_int_at(r.summary, "packets"), 1);
    cr_expect_str_eq(json_str_or(input0(&r), "status"), "damaged");
    result_free(&r);
    free(x.b);
    outputs_validate(&outs);
}

/* caplen > len: a 74-byte frame (IPv4 total length 60) stored whole, in a record claiming it was
 * 40 bytes on the wire — and one claiming 0. The captured bytes are what the wire held
 * (test_ipv4.c caplen_above_wirelen_taken_at_caplen): both packets are decoded in full and
 * analysed, with good checksums, not truncated; the connection's orig.bytes is the IP total
 * length, 60 + 60; the summary's bytes are the records' wire lengths as written, 40 + 0. */
Test(hostile_file, caplen_greater_than_len) {
    struct outputs outs = {.n = 0};
    uint8_t a[256];
    size_t na = data_frame(a, sizeof a, 40003, 20);
    struct bytes x = {0};
    pcap_header(&x, 1, 65535);
    pcap_record(&x, 1704067200, 0, (uint32_t)na, 40, a, na);
    pcap_record(&x, 1704067200, 1000, (uint32_t)na, 0, a, na);
    struct result r;
    run_on(&r, &outs, write_bytes("caplen.pcap", x.b, x.n), NULL);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(json_int_at(r.summary, "packets"), 2);
    cr_expect_eq(json_int_at(r.summary, "analysed"), 2);
    cr_expect_eq(json_int_at(r.summary, "truncated"), 0);
    cr_expect_eq(json_int_at(r.summary, "checksums.tcp.good"), 2);
    cr_expect_eq(json_int_at(r.summary, "bytes"), 40);
    cr_assert_eq(r.nconn, 1);
    cr_expect_eq(json_int_at(r.conn[0], "orig.pkts"), 2);
    cr_expect_eq(json_int_at(r.conn[0], "orig.bytes"), 120);
    result_free(&r);
    free(x.b);
    outputs_validate(&outs);
}

/* Zero-length records: caplen 0 / len 0, and caplen 0 / len 60 (nothing of a 60-byte frame
 * captured), between two good frames, on Ethernet and on raw IP. Nothing of a link header can be
 * read from 0 bytes: two link_truncated decode failures on Ethernet; on LINKTYPE_RAW, which holds
 * IPv4 or IPv6, not even the version nibble that tells which is there: link_truncated too.
 * The good frames are analysed either way; bytes count the wire lengths (74 + 0 + 60 + 74 on
 * Ethernet, 60 + 0 + 60 + 60 raw). */
Test(hostile_file, zero_length_packets) {
    struct outputs outs = {.n = 0};
    for (int raw = 0; raw <= 1; raw++) {
        struct pb_frame f = pb_tcp4();
        f.link = raw ? PB_LINK_RAW : PB_LINK_ETHERNET;
        f.flags = PB_PSH | PB_ACK;
        f.payload_len = 20;
        uint8_t a[256];
        size_t na = frame(&f, a, sizeof a);
        struct bytes x = {0};
        pcap_header(&x, (uint32_t)pb_linktype(f.link), 65535);
        pcap_record(&x, 1704067200, 0, (uint32_t)na, (uint32_t)na, a, na);
        pcap_record(&x, 1704067200, 1, 0, 0, a, 0);
        pcap_record(&x, 1704067200, 2, 0, 60, a, 0);
        pcap_record(&x, 1704067200, 3, (uint32_t)na, (uint32_t)na, a, na);
        struct result r;
        run_on(&r, &outs, write_bytes("zero.pcap", x.b, x.n), NULL);
        cr_expect_eq(r.status, 0, "%s", r.err);
        cr_expect_eq(json_int_at(r.summary, "packets"), 4);
        cr_expect_eq(json_int_at(r.summary, "analysed"), 2);
        cr_expect_eq(json_int_at(r.summary, "decode_failed"), 2);
        cr_expect_eq(json_int_at(r.summary, "decode_errors.link_truncated"), 2, "raw %d", raw);
        cr_expect_eq(json_int_at(r.summary, "bytes"), (int64_t)(2 * na + 60));
        cr_assert_eq(r.nconn, 1);
        cr_expect_eq(json_int_at(r.conn[0], "orig.pkts"), 2);
        result_free(&r);
        free(x.b);
    }
    outputs_validate(&outs);
}

/* ==== time ==================================================================================== */

/* The standard exchange (frames 0..10 at T0 + k × 10 ms), except that frame 5 (the server's data)
 * is stamped an hour before T0 and frame 6 (the client's ACK of it) at the epoch, 0. Capture
 * time never runs backwards and a connection's activity is its latest packet, so nothing is
 * idle: the exchange completes normally — one record, SF, closed by fin, its ts the first frame's
 * (T0) and its end_ts the last one's (T0 + 100 ms): duration 0.1 s, never negative. The summary's
 * first_ts is the earliest timestamp read (0), last_ts the latest. */
Test(hostile_file, timestamps_going_backwards) {
    const char *src = tmp_path("fwd.pcap");
    cr_assert(gen_clean_ipv4(src));
    size_t n;
    uint8_t *b = read_whole(src, &n);
    size_t off = 24;
    for (int k = 0; k < 11; k++) {
        uint32_t sec = k == 5 ? 1704067200u - 3600u : k == 6 ? 0u : le32_at(b + off);
        uint32_t usec = k == 6 ? 0u : le32_at(b + off + 4);
        for (int i = 0; i < 4; i++) {
            b[off + (size_t)i] = (uint8_t)(sec >> (8 * i));
            b[off + 4 + (size_t)i] = (uint8_t)(usec >> (8 * i));
        }
        off += 16 + le32_at(b + off + 8);
    }
    struct outputs outs = {.n = 0};
    struct result r;
    run_on(&r, &outs, write_bytes("back.pcap", b, n), NULL);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(json_int_at(r.summary, "analysed"), 11);
    cr_assert_eq(r.nconn, 1);
    cr_expect_str_eq(json_str_or(r.conn[0], "close.how"), "fin");
    cr_expect_str_eq(json_str_or(r.conn[0], "conn_state"), "SF");
    cr_expect_str_eq(text_at(r.conn[0], "ts"), "1704067200.000000");
    cr_expect_str_eq(text_at(r.conn[0], "end_ts"), "1704067200.100000");
    cr_expect_str_eq(text_at(r.conn[0], "duration"), "0.100000");
    cr_expect_str_eq(text_at(r.summary, "first_ts"), "0.000000");
    cr_expect_str_eq(text_at(r.summary, "last_ts"), "1704067200.100000");
    result_free(&r);
    free(b);
    outputs_validate(&outs);
}

/* A lone SYN from 10.0.0.1:40010 at T0, then a lone SYN from 10.0.0.1:40011 at `later_ns`. */
static void two_syns(struct capwrite *w, uint64_t later_ns) {
    uint8_t buf[256];
    struct pb_frame f = pb_tcp4();
    f.flags = PB_SYN;
    f.sport = 40010;
    cr_assert(capwrite_packet(w, 0, T0, buf, frame(&f, buf, sizeof buf)));
    f.sport = 40011;
    cr_assert(capwrite_packet(w, 0, later_ns, buf, frame(&f, buf, sizeof buf)));
    cr_assert(capwrite_close(w));
}

/* Expected of two_syns with a gap far beyond every timeout: when the second SYN moves capture
 * time on, the first connection has been idle for decades, past the 30 s handshake timeout: it is
 * reported first, closed by timeout, as S0, and its SYN is judged unanswered (timeouts are judged
 * without grace, docs/anomalies.md --answer-grace). The second is open at the end of the input
 * (capture_end), within the grace: not judged. last_ts is the second SYN's time, written as
 * `last`; `clamped` packets had a time past 2100, which shakedown clamps to 2100-01-01 and counts
 * (docs/schema.md, timestamps_out_of_range). */
static void expect_gap(struct outputs *outs, const char *path, const char *last, int clamped) {
    struct result r;
    run_on(&r, outs, path, NULL);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_assert_eq(r.nconn, 2);
    cr_expect_eq(json_int_at(r.conn[0], "src_port"), 40010);
    cr_expect_str_eq(json_str_or(r.conn[0], "close.how"), "timeout", "%s", path);
    cr_expect_str_eq(json_str_or(r.conn[0], "conn_state"), "S0");
    cr_expect_str_eq(text_at(r.conn[0], "end_ts"), "1704067200.000000");
    cr_expect_eq(json_int_at(r.conn[1], "src_port"), 40011);
    cr_expect_str_eq(json_str_or(r.conn[1], "close.how"), "capture_end", "%s", path);
    cr_expect_eq(anomaly_records(&r, "syn_unanswered"), 1, "%s", path);
    cr_expect_str_eq(text_at(r.summary, "first_ts"), "1704067200.000000");
    cr_expect_str_eq(text_at(r.summary, "last_ts"), last, "%s", path);
    cr_expect_eq(json_int_at(r.summary, "timestamps_out_of_range"), clamped, "%s", path);
    result_free(&r);
}

/* Huge gaps in time: to the last second a µs pcap can hold as libpcap reads it (2^31 - 1 s,
 * 2038-01-19: libpcap takes the seconds field as signed) — a real time, written as it is — and
 * to the last nanosecond that fits in a signed 64-bit count of nanoseconds (2^63 - 1 ns, in 2262)
 * and the last a pcapng timestamp can hold (2^64 - 1 ns with if_tsresol 9, in 2554). The last two
 * are past 2100: clamped to 2100-01-01T00:00:00Z (4102444800 s) and counted, one packet each. */
Test(hostile_file, huge_gaps_in_time) {
    struct outputs outs = {.n = 0};
    const char *p1 = tmp_path("gap.pcap");
    struct capwrite *w = capwrite_open(p1, CAPWRITE_PCAP_USEC, 1, 65535);
    cr_assert(w);
    two_syns(w, 2147483647ull * SEC);
    expect_gap(&outs, p1, "2147483647.000000", 0);
    const char *p2 = tmp_path("gap63.pcapng");
    w = capwrite_open(p2, CAPWRITE_PCAPNG, 1, 65535);
    cr_assert(w);
    two_syns(w, (uint64_t)INT64_MAX);
    expect_gap(&outs, p2, "4102444800.000000", 1);
    const char *p3 = tmp_path("gap64.pcapng");
    w = capwrite_open(p3, CAPWRITE_PCAPNG, 1, 65535);
    cr_assert(w);
    two_syns(w, UINT64_MAX);
    expect_gap(&outs, p3, "4102444800.000000", 1);
    outputs_validate(&outs);
}

/* A pcap record whose seconds field is 0xFFFFFFFF, between two good ones: libpcap reads the field
 * as signed (-1 s, a second before the epoch), the pcap format as unsigned (2106). Either way
 * it is out of range (before 1970 or after 2100): clamped and counted once. Every line shakedown
 * writes must still be a valid record (the schema's timestamps are epoch seconds >= 0), the three
 * packets analysed, exit 0. */
Test(hostile_file, timestamp_seconds_field_all_ones) {
    uint8_t a[256];
    size_t na = data_frame(a, sizeof a, 40020, 20);
    struct bytes x = {0};
    pcap_header(&x, 1, 65535);
    pcap_record(&x, 1704067200, 0, (uint32_t)na, (uint32_t)na, a, na);
    pcap_record(&x, 0xFFFFFFFFu, 999999, (uint32_t)na, (uint32_t)na, a, na);
    pcap_record(&x, 1704067201, 0, (uint32_t)na, (uint32_t)na, a, na);
    struct outputs outs = {.n = 0};
    struct result r;
    run_on(&r, &outs, write_bytes("allones.pcap", x.b, x.n), NULL);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(json_int_at(r.summary, "analysed"), 3);
    cr_expect_eq(json_int_at(r.summary, "timestamps_out_of_range"), 1);
    result_free(&r);
    free(x.b);
    outputs_validate(&outs);
}

/* ==== pcapng structure ======================================================================== */

/* Frame k's time in the samples: T0 + k × 10 ms. */
static uint64_t frame_ts(int k) {
    return T0 + (uint64_t)k * (uint64_t)SAMPLES_STEP_NS;
}

/* Writes the standard exchange (the 11 frames of clean.pcapng, read back from it) to w, frame k on
 * interface iface_of(k). */
static void pcapng_exchange(struct capwrite *w, int (*iface_of)(int k)) {
    const char *src = tmp_path("src.pcap");
    cr_assert(gen_clean_ipv4(src));
    size_t n;
    uint8_t *b = read_whole(src, &n);
    size_t off = 24;
    for (int k = 0; k < 11; k++) {
        uint32_t caplen = le32_at(b + off + 8);
        cr_assert(capwrite_packet(w, iface_of(k), frame_ts(k), b + off + 16, caplen));
        off += 16 + caplen;
    }
    free(b);
}

static int round_robin3(int k) {
    return k % 3;
}

/* Three Ethernet interfaces with the same snaplen, frames k on interface k % 3: one stream, as
 * if from one interface: all 11 frames analysed, the exchange complete (fin). The same three
 * interfaces with snaplens 65535, 1500 and 96: libpcap hands out one snapshot length per handle
 * and refuses a later interface whose snaplen differs (sf-pcapng.c: "an interface has a snapshot
 * length ... different from the snapshot length of the first interface"); the second IDB comes
 * before any packet, so: damaged after 0 packets, exit 1, the reason in the summary. */
Test(hostile_file, pcapng_several_interfaces_same_link_type) {
    struct outputs outs = {.n = 0};
    for (int same = 1; same >= 0; same--) {
        const char *path = tmp_path("ifaces.pcapng");
        struct capwrite *w = capwrite_open(path, CAPWRITE_PCAPNG, 1, 65535);
        cr_assert(w);
        cr_assert_eq(capwrite_add_interface(w, 1, same ? 65535 : 1500), 1);
        cr_assert_eq(capwrite_add_interface(w, 1, same ? 65535 : 96), 2);
        pcapng_exchange(w, round_robin3);
        cr_assert(capwrite_close(w));
        struct result r;
        run_on(&r, &outs, path, NULL);
        if (same) {
            cr_expect_eq(r.status, 0, "%s", r.err);
            cr_expect_eq(json_int_at(r.summary, "analysed"), 11);
            cr_assert_eq(r.nconn, 1);
            cr_expect_str_eq(json_str_or(r.conn[0], "close.how"), "fin");
        } else {
            cr_expect_eq(r.status, 1, "%s", r.err);
            cr_expect_str_eq(json_str_or(input0(&r), "status"), "damaged");
            cr_expect_eq(json_int_at(r.summary, "packets"), 0);
        }
        result_free(&r);
    }
    outputs_validate(&outs);
}

static int first_five_on_0(int k) {
    return k < 5 ? 0 : 1;
}

/* Interfaces of different link types: frames 0..4 on an Ethernet interface, then a second IDB of
 * link type 147 (USER0) appears and frames 5..10 go to it. libpcap delivers one link type per
 * handle and refuses an interface whose type differs from the first one's (sf-pcapng.c: "an
 * interface has a type ... different from the type of the first interface"): the 5 frames
 * before it are analysed, then the file is damaged (exit 1), the reason in the summary and on
 * stderr. The second IDB right after the first (before any packet): damaged at once, 0 packets. */
Test(hostile_file, pcapng_interfaces_of_different_link_types) {
    struct outputs outs = {.n = 0};
    for (int late = 1; late >= 0; late--) {
        const char *path = tmp_path("mixed.pcapng");
        struct capwrite *w = capwrite_open(path, CAPWRITE_PCAPNG, 1, 65535);
        cr_assert(w);
        if (!late)
            cr_assert_eq(capwrite_add_interface(w, 147, 65535), 1);
        const char *src = tmp_path("src2.pcap");
        cr_assert(gen_clean_ipv4(src));
        size_t n;
        uint8_t *b = read_whole(src, &n);
        size_t off = 24;
        for (int k = 0; k < 11; k++) {
            uint32_t caplen = le32_at(b + off + 8);
            if (late && k == 5)
                cr_assert_eq(capwrite_add_interface(w, 147, 65535), 1);
            cr_assert(capwrite_packet(w, first_five_on_0(k), frame_ts(k), b + off + 16, caplen));
            off += 16 + caplen;
        }
        free(b);
        cr_assert(capwrite_close(w));
        struct result r;
        run_on(&r, &outs, path, NULL);
        int64_t want = late ? 5 : 0;
        cr_expect_eq(r.status, 1, "late %d: %s", late, r.err);
        cr_expect_str_eq(json_str_or(input0(&r), "status"), "damaged");
        cr_expect_eq(json_int_at(r.summary, "packets"), want);
        cr_expect_eq(json_int_at(r.summary, "analysed"), want);
        cr_expect(strstr(r.err, path), "%s", r.err);
        result_free(&r);
    }
    outputs_validate(&outs);
}

/* A pcapng block of `type` with `body` bytes of zeros and a correct trailer. */
static void pcapng_block(struct capwrite *w, uint32_t type, uint32_t body) {
    struct bytes x = {0};
    put_le32(&x, type);
    put_le32(&x, 12 + body);
    for (uint32_t i = 0; i < body; i++)
        put(&x, "", 1);
    put_le32(&x, 12 + body);
    cr_assert(capwrite_raw(w, x.b, x.n));
    free(x.b);
}

static int all_on_0(int k) {
    (void)k;
    return 0;
}

/* Unknown block types between packets must be skipped (pcapng spec: "a reader that does not
 * understand a block type skips it"): a type no one defined (0x0BADB10C, 16 bytes of body) and a
 * "local use" type (0x80000001, empty). With them after frames 3 and 7 the exchange is read whole:
 * 11 packets, status ok, exit 0, the connection closed by fin. A block whose length is below the
 * 12-byte minimum cannot be skipped (where would the next one start?): after frame 3 it damages
 * the file, so 4 packets are analysed, exit 1. */
Test(hostile_file, pcapng_unknown_block_type) {
    struct outputs outs = {.n = 0};
    const char *path = tmp_path("unknown.pcapng");
    struct capwrite *w = capwrite_open(path, CAPWRITE_PCAPNG, 1, 65535);
    cr_assert(w);
    const char *src = tmp_path("src3.pcap");
    cr_assert(gen_clean_ipv4(src));
    size_t n;
    uint8_t *b = read_whole(src, &n);
    size_t off = 24;
    for (int k = 0; k < 11; k++) {
        uint32_t caplen = le32_at(b + off + 8);
        cr_assert(capwrite_packet(w, all_on_0(k), frame_ts(k), b + off + 16, caplen));
        off += 16 + caplen;
        if (k == 3)
            pcapng_block(w, 0x0BADB10Cu, 16);
        if (k == 7)
            pcapng_block(w, 0x80000001u, 0);
    }
    cr_assert(capwrite_close(w));
    struct result r;
    run_on(&r, &outs, path, NULL);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_str_eq(json_str_or(input0(&r), "status"), "ok");
    cr_expect_eq(json_int_at(r.summary, "analysed"), 11);
    cr_assert_eq(r.nconn, 1);
    cr_expect_str_eq(json_str_or(r.conn[0], "close.how"), "fin");
    result_free(&r);

    path = tmp_path("shortblock.pcapng");
    w = capwrite_open(path, CAPWRITE_PCAPNG, 1, 65535);
    cr_assert(w);
    off = 24;
    for (int k = 0; k < 11; k++) {
        uint32_t caplen = le32_at(b + off + 8);
        cr_assert(capwrite_packet(w, 0, frame_ts(k), b + off + 16, caplen));
        off += 16 + caplen;
        if (k == 3) {
            struct bytes x = {0};
            put_le32(&x, 0x0BADB10Cu);
            put_le32(&x, 8); /* below the minimum of 12 */
            put_le32(&x, 8);
            cr_assert(capwrite_raw(w, x.b, x.n));
            free(x.b);
        }
    }
    cr_assert(capwrite_close(w));
    run_on(&r, &outs, path, NULL);
    cr_expect_eq(r.status, 1, "%s", r.err);
    cr_expect_str_eq(json_str_or(input0(&r), "status"), "damaged");
    cr_expect_eq(json_int_at(r.summary, "analysed"), 4);
    result_free(&r);
    free(b);
    outputs_validate(&outs);
}

/* ==== malformed packets ======================================================================= */

enum { ETH = 14, IP4 = 20, IP6 = 40 };

/* Writes frame f from 10.0.0.1:sport (sport counts up from 30000 for each packet, so every
 * packet that is analysed is a connection of its own). */
struct pkts {
    struct capwrite *w;
    uint64_t t;
    uint16_t sport;
};

static void pkts_put(struct pkts *p, const uint8_t *buf, size_t len) {
    cr_assert(capwrite_packet(p->w, 0, p->t, buf, len));
    p->t += 1000000; /* 1 ms */
}

static struct pb_frame pkts_tcp4(struct pkts *p) {
    struct pb_frame f = pb_tcp4();
    f.sport = p->sport++;
    f.flags = PB_SYN;
    return f;
}

/* An IPv6 SYN whose extension headers are the 8-byte headers of types[0..n-1], each pointing to
 * the next (`next_after_last` after the last), built by hand since pktbuild stops at 8 headers;
 * payload_len_override, if not 0, replaces the payload length. */
static size_t ipv6_chain(struct pkts *p, uint8_t *buf, size_t cap, const uint8_t *types, size_t n,
                         uint16_t payload_len_override) {
    struct pb_frame f = pb_tcp6();
    f.sport = p->sport++;
    f.flags = PB_SYN;
    uint8_t base[256];
    size_t bn = frame(&f, base, sizeof base);
    cr_assert_eq(bn, ETH + IP6 + 20);
    size_t len = ETH + IP6 + 8 * n + 20;
    cr_assert_leq(len, cap);
    memcpy(buf, base, ETH + IP6);
    for (size_t i = 0; i < n; i++) {
        uint8_t *e = buf + ETH + IP6 + 8 * i;
        static const uint8_t padn[8] = {0, 0, 1, 4, 0, 0, 0, 0};
        static const uint8_t rh0[8] = {0, 0, 0, 0, 0, 0, 0, 0}; /* type 0, segments left 0 */
        memcpy(e, types[i] == PB_EXT_ROUTING ? rh0 : padn, 8);
        e[0] = i + 1 < n ? types[i + 1] : 6;
    }
    memcpy(buf + ETH + IP6 + 8 * n, base + ETH + IP6, 20);
    uint16_t pl = payload_len_override ? payload_len_override : (uint16_t)(8 * n + 20);
    buf[ETH + 4] = (uint8_t)(pl >> 8);
    buf[ETH + 5] = (uint8_t)pl;
    buf[ETH + 6] = n > 0 ? types[0] : 6;
    return len;
}

/* One capture with every packet-level malformation of issue 7, each reason with its own count,
 * plus good packets. What each should be, from the wire formats (and the reasons' names in
 * shakedown(1)):
 *  - IPv4 IHL 0..4 (a header below 20 bytes): 5 × ipv4_bad_header_len;
 *  - IPv4 IHL 11, 13, 15 (44..60 bytes) in a packet of 40 bytes, the frame's end: the header runs
 *    past what was captured: 3 × ipv4_truncated;
 *  - IPv6 extension-header "loops" and long chains, all longer than the 16 headers shakedown walks
 *    (shakedown(1), "at most 16 headers"): 17 destination options each naming the next; 20
 *    routing headers each naming a routing header; 18 alternating destination options and
 *    routing; a chain of 200 (1600 bytes): 4 × ipv6_ext_too_many;
 *  - IPv6 extension headers past the payload: a destination-options header claiming 2048 bytes
 *    (length 255) in a 28-byte payload, and a payload length of 12 that ends inside the second of
 *    three headers: 2 × ipv6_ext_truncated;
 *  - TCP data offset 0..4 (below the 20-byte header) and 6, 10, 15 in a 20-byte IP payload (past
 *    the packet): 8 × tcp_bad_offset;
 *  - a TCP header of 60 bytes (offset 15, 40 option bytes) in a record whose caplen (70) stops
 *    inside it, the wire length (94) having it all: 1 × tcp_truncated;
 *  - TCP options of length 0, of length 1, and a timestamp option (length 10) in a 4-byte option
 *    area: decoded and analysed, 3 × tcp_options_malformed;
 *  - good: an IPv4 SYN and an IPv6 SYN behind exactly 16 destination-options headers.
 * 5 + 3 + 4 + 2 + 8 + 1 = 23 decode failures and 3 + 2 = 5 packets analysed, of 28; each analysed
 * packet is a connection of its own (its own source port): 5 records. */
Test(hostile_packet, malformed_headers_counted_by_reason) {
    const char *path = tmp_path("malformed.pcap");
    struct pkts p = {capwrite_open(path, CAPWRITE_PCAP_USEC, 1, 65535), T0, 30000};
    cr_assert(p.w);
    uint8_t buf[2048];
    struct pb_frame f;
    size_t n;

    for (uint8_t ihl = 0; ihl < 5; ihl++) {
        f = pkts_tcp4(&p);
        n = frame(&f, buf, sizeof buf);
        buf[ETH] = (uint8_t)(0x40 | ihl);
        pkts_put(&p, buf, n);
    }
    static const uint8_t long_ihl[] = {11, 13, 15};
    for (size_t i = 0; i < 3; i++) {
        f = pkts_tcp4(&p);
        n = frame(&f, buf, sizeof buf);
        cr_assert_eq(n, ETH + IP4 + 20);
        buf[ETH] = (uint8_t)(0x40 | long_ihl[i]);
        pkts_put(&p, buf, n);
    }

    uint8_t types[200];
    memset(types, PB_EXT_DSTOPTS, sizeof types);
    pkts_put(&p, buf, ipv6_chain(&p, buf, sizeof buf, types, 17, 0));
    uint8_t routing[20];
    memset(routing, PB_EXT_ROUTING, sizeof routing);
    pkts_put(&p, buf, ipv6_chain(&p, buf, sizeof buf, routing, 20, 0));
    uint8_t alternating[18];
    for (size_t i = 0; i < 18; i++)
        alternating[i] = i % 2 ? PB_EXT_ROUTING : PB_EXT_DSTOPTS;
    pkts_put(&p, buf, ipv6_chain(&p, buf, sizeof buf, alternating, 18, 0));
    pkts_put(&p, buf, ipv6_chain(&p, buf, sizeof buf, types, 200, 0));

    n = ipv6_chain(&p, buf, sizeof buf, types, 1, 0);
    buf[ETH + IP6 + 1] = 255; /* (255 + 1) × 8 bytes */
    pkts_put(&p, buf, n);
    pkts_put(&p, buf, ipv6_chain(&p, buf, sizeof buf, types, 3, 12));

    static const uint8_t offsets[] = {0, 1, 2, 3, 4, 6, 10, 15};
    for (size_t i = 0; i < sizeof offsets; i++) {
        f = pkts_tcp4(&p);
        n = frame(&f, buf, sizeof buf);
        buf[ETH + IP4 + 12] = (uint8_t)(offsets[i] << 4);
        pkts_put(&p, buf, n);
    }

    static const uint8_t nops[40] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                                     1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0};
    f = pkts_tcp4(&p);
    f.tcp_options = nops;
    f.tcp_optlen = sizeof nops;
    n = frame(&f, buf, sizeof buf);
    cr_assert_eq(n, 94);
    struct bytes rec = {0};
    put_le32(&rec, (uint32_t)(p.t / SEC));
    put_le32(&rec, 0);
    put_le32(&rec, 70);
    put_le32(&rec, 94);
    put(&rec, buf, 70);
    cr_assert(capwrite_raw(p.w, rec.b, rec.n));
    free(rec.b);

    static const uint8_t bad_opts[3][4] = {{2, 0, 5, 0xb4}, {2, 1, 5, 0xb4}, {1, 1, 8, 10}};
    for (size_t i = 0; i < 3; i++) {
        f = pkts_tcp4(&p);
        f.tcp_options = bad_opts[i];
        f.tcp_optlen = 4;
        pkts_put(&p, buf, frame(&f, buf, sizeof buf));
    }

    f = pkts_tcp4(&p);
    pkts_put(&p, buf, frame(&f, buf, sizeof buf));
    pkts_put(&p, buf, ipv6_chain(&p, buf, sizeof buf, types, 16, 0));
    cr_assert(capwrite_close(p.w));

    struct outputs outs = {.n = 0};
    struct result r;
    run_on(&r, &outs, path, NULL);
    cr_expect_eq(r.status, 0, "%s", r.err);
    struct json_object *s = r.summary;
    cr_expect_eq(json_int_at(s, "packets"), 28);
    cr_expect_eq(json_int_at(s, "decode_failed"), 23);
    cr_expect_eq(json_int_at(s, "analysed"), 5);
    static const struct {
        const char *reason;
        int64_t count;
    } want[] = {{"ipv4_bad_header_len", 5}, {"ipv4_truncated", 3}, {"ipv6_ext_too_many", 4},
                {"ipv6_ext_truncated", 2},  {"tcp_bad_offset", 8}, {"tcp_truncated", 1}};
    char key[64];
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        snprintf(key, sizeof key, "decode_errors.%s", want[i].reason);
        cr_expect_eq(json_int_at(s, key), want[i].count, "%s is %" PRId64 ", want %" PRId64, key,
                     json_int_at(s, key), want[i].count);
    }
    cr_expect_eq(json_object_object_length(json_at(s, "decode_errors")), 6,
                 "decode_errors has other reasons: %s", text_at(s, "decode_errors"));
    cr_expect_eq(json_int_at(s, "tcp_options_malformed"), 3);
    cr_expect_eq(r.nconn, 5);
    result_free(&r);
    outputs_validate(&outs);
}

/* Every one of the 256 values of the TCP flags byte, each as the first packet of its own
 * connection (source port 20000 + flags), 1 ms apart. Each is decoded and analysed and makes one
 * connection: 256 records, 256 distinct uids. docs/anomalies.md (invalid_flags): after ignoring
 * PSH, ECE and CWR, exactly 9 of the 32 combinations of FIN, SYN, RST, ACK, URG are valid (SYN,
 * SYN+URG, SYN+ACK, RST, RST+ACK, FIN+ACK, FIN+ACK+URG, ACK, ACK+URG), and the first segment of a
 * connection is checked too: 256 − 9 × 8 = 184 invalid_flags occurrences, one anomaly record
 * each, and the connection record of each of those 184 lists it. */
Test(hostile_packet, all_256_tcp_flag_combinations) {
    const char *path = tmp_path("flags.pcap");
    struct capwrite *w = capwrite_open(path, CAPWRITE_PCAP_USEC, 1, 65535);
    cr_assert(w);
    uint8_t buf[256];
    for (unsigned flags = 0; flags < 256; flags++) {
        struct pb_frame f = pb_tcp4();
        f.sport = (uint16_t)(20000 + flags);
        f.flags = (uint8_t)flags;
        f.seq = 1000;
        f.ack = flags & PB_ACK ? 5000u : 0u;
        cr_assert(capwrite_packet(w, 0, T0 + flags * 1000000ull, buf, frame(&f, buf, sizeof buf)));
    }
    cr_assert(capwrite_close(w));
    struct outputs outs = {.n = 0};
    struct result r;
    run_on(&r, &outs, path, NULL);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(json_int_at(r.summary, "analysed"), 256);
    cr_expect_eq(r.nconn, 256);
    cr_expect_eq(json_int_at(r.summary, "anomalies.invalid_flags"), 184);
    cr_expect_eq(anomaly_records(&r, "invalid_flags"), 184);
    int listed = 0;
    for (int i = 0; i < r.nconn; i++) {
        struct json_object *list = json_at(r.conn[i], "anomalies");
        for (size_t k = 0; list && k < json_object_array_length(list); k++)
            listed += strcmp(json_str_or(json_object_array_get_idx(list, k), "name"),
                             "invalid_flags") == 0;
    }
    cr_expect_eq(listed, 184);
    result_free(&r);
    outputs_validate(&outs);
}

/* ---- sequence and acknowledgement numbers -------------------------------------------------- */

#define CISN 0x10000000u
#define SISN 0x20000000u

static void session_on(struct session *s, struct capwrite *w, struct session_clock *clock,
                       uint16_t sport) {
    struct pb_frame f = pb_tcp4();
    f.sport = sport;
    session_init(s, w, clock, &f, CISN, SISN);
}

/* Three connections (ports 41000..41002). Each: handshake; the client sends 100 bytes, the server
 * ACKs; then the client sends 100 bytes at a sequence number `jump` past its next one — 2^31 − 1,
 * exactly 2^31 (serial arithmetic cannot order them, RFC 1982 §3.2), 2^31 + 1 — which the server
 * never acknowledges (it ACKs the real next byte again); then 50 real bytes, ACKed, and a normal
 * client-first close. The bogus segment must not derail the tracking:
 *  - the close completes: fin, SF, orig TIME_WAIT, resp CLOSED;
 *  - nothing the server acknowledged was missed: orig.missed_bytes 0 (it never acked past 150);
 *  - payload_bytes counts bytes really sent, at most once: 150 real, plus at most the 100 bogus;
 *  - no counter explodes to the size of the jump. */
Test(hostile_packet, sequence_numbers_jumping_by_2_to_the_31) {
    const char *path = tmp_path("jump.pcap");
    struct capwrite *w = capwrite_open(path, CAPWRITE_PCAP_USEC, 1, 65535);
    cr_assert(w);
    struct session_clock clock = {T0, 10000000};
    static const uint32_t jumps[] = {0x7fffffffu, 0x80000000u, 0x80000001u};
    for (int i = 0; i < 3; i++) {
        struct session s;
        session_on(&s, w, &clock, (uint16_t)(41000 + i));
        session_handshake(&s);
        session_data(&s, SESSION_CLIENT, 100);
        session_ack(&s, SESSION_SERVER);
        uint32_t nxt = s.snd_nxt[SESSION_CLIENT];
        session_write_segment(&s, SESSION_CLIENT, PB_PSH | PB_ACK, nxt + jumps[i],
                              s.snd_nxt[SESSION_SERVER], 100);
        session_ack(&s, SESSION_SERVER);
        session_data(&s, SESSION_CLIENT, 50);
        session_ack(&s, SESSION_SERVER);
        session_close(&s, SESSION_CLIENT);
        cr_assert(s.ok);
    }
    cr_assert(capwrite_close(w));
    struct outputs outs = {.n = 0};
    struct result r;
    run_on(&r, &outs, path, NULL);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_assert_eq(r.nconn, 3);
    for (int i = 0; i < 3; i++) {
        struct json_object *c = r.conn[i];
        cr_expect_eq(json_int_at(c, "src_port"), 41000 + i);
        cr_expect_str_eq(json_str_or(c, "close.how"), "fin", "jump %#x", jumps[i]);
        cr_expect_str_eq(json_str_or(c, "conn_state"), "SF", "jump %#x", jumps[i]);
        cr_expect_str_eq(json_str_or(c, "orig.state"), "TIME_WAIT", "jump %#x", jumps[i]);
        cr_expect_str_eq(json_str_or(c, "resp.state"), "CLOSED", "jump %#x", jumps[i]);
        cr_expect_eq(json_int_at(c, "orig.missed_bytes"), 0, "jump %#x: %" PRId64, jumps[i],
                     json_int_at(c, "orig.missed_bytes"));
        cr_expect_eq(json_int_at(c, "resp.missed_bytes"), 0, "jump %#x", jumps[i]);
        int64_t pb = json_int_at(c, "orig.payload_bytes");
        cr_expect(pb >= 150 && pb <= 250, "jump %#x: orig.payload_bytes %" PRId64, jumps[i], pb);
        cr_expect_leq(json_int_at(c, "orig.retransmitted_bytes"), 100, "jump %#x", jumps[i]);
    }
    result_free(&r);
    outputs_validate(&outs);
}

/* ACK numbers for data never sent: after the handshake the client sends 100 bytes; the server
 * acknowledges 5000 bytes beyond them (ack = client ISN + 1 + 5100); then a normal close by the
 * client, whose FIN takes the sequence number the server's ACK implied (otherwise the server
 * would be acking past the FIN). docs/schema.md (missed_bytes) and docs/anomalies.md
 * (ack_unseen_segment, rule 2): an ACK above everything captured of the peer, after a captured
 * handshake, counts the difference as the peer's missed bytes — shakedown cannot tell bytes that
 * were never sent from bytes it did not capture: orig.missed_bytes 5000, orig.payload_bytes 100,
 * one ack_unseen_segment from the responder. */
Test(hostile_packet, ack_for_data_never_sent) {
    const char *path = tmp_path("overack.pcap");
    struct capwrite *w = capwrite_open(path, CAPWRITE_PCAP_USEC, 1, 65535);
    cr_assert(w);
    struct session_clock clock = {T0, 10000000};
    struct session s;
    session_on(&s, w, &clock, 41100);
    session_handshake(&s);
    session_data(&s, SESSION_CLIENT, 100);
    s.snd_nxt[SESSION_CLIENT] += 5000; /* the server acks 5000 bytes never sent ... */
    session_ack(&s, SESSION_SERVER);
    session_close(&s, SESSION_CLIENT); /* ... and the client's FIN follows them */
    cr_assert(s.ok);
    cr_assert(capwrite_close(w));
    struct outputs outs = {.n = 0};
    struct result r;
    run_on(&r, &outs, path, NULL);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_assert_eq(r.nconn, 1);
    struct json_object *c = r.conn[0];
    cr_expect_str_eq(json_str_or(c, "close.how"), "fin");
    cr_expect_eq(json_int_at(c, "orig.payload_bytes"), 100);
    cr_expect_eq(json_int_at(c, "orig.missed_bytes"), 5000);
    cr_expect_eq(json_int_at(r.summary, "anomalies.ack_unseen_segment"), 1);
    cr_expect_eq(anomaly_records(&r, "ack_unseen_segment"), 1);
    if (r.nanomaly > 0)
        cr_expect_str_eq(json_str_or(r.anomaly[0], "direction"), "resp");
    result_free(&r);
    outputs_validate(&outs);
}

/* ==== garbage ================================================================================= */

static uint64_t rng_state;

static uint32_t rng(void) { /* xorshift64*, fixed seeds: every run sees the same garbage */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}

static void random_bytes(uint8_t *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)rng();
}

static const int link_types[] = {1, 101, 113, 276, 0, 108, 228, 229, 147};

/* A file of pure random bytes is not a capture: unreadable, exit 2, and still a valid summary
 * (shakedown(1): the summary is printed). A valid pcap or pcapng header followed by random bytes:
 * whatever libpcap makes of them, each record is a packet or the end of the readable part, so the
 * exit status is 0 (read to the end) or 1 (damaged); never a crash, and the output is valid. */
Test(garbage, random_bytes_after_valid_headers) {
    struct outputs outs = {.n = 0};
    uint8_t junk[8192];
    for (uint64_t seed = 1; seed <= 48; seed++) {
        rng_state = seed * 0x9E3779B97F4A7C15ull;
        size_t n = 64 + rng() % (sizeof junk - 64);
        random_bytes(junk, n);
        struct bytes x = {0};
        int kind = (int)(seed % 3);
        if (kind == 0) {
            pcap_header(&x, (uint32_t)link_types[seed % 9], 65535);
        } else if (kind == 1) {
            const char *p = tmp_path("hdr.pcapng");
            struct capwrite *w = capwrite_open(p, CAPWRITE_PCAPNG, link_types[seed % 9], 65535);
            cr_assert(w && capwrite_close(w));
            size_t hn;
            uint8_t *h = read_whole(p, &hn);
            put(&x, h, hn);
            free(h);
        }
        put(&x, junk, n);
        const char *path = write_bytes("junk.cap", x.b, x.n);
        struct result r;
        run_on(&r, &outs, path, NULL);
        if (kind == 2)
            cr_expect_eq(r.status, 2, "seed %" PRIu64 ": %s", seed, r.err);
        else
            cr_expect(r.status == 0 || r.status == 1, "seed %" PRIu64 ": exit %d: %s", seed,
                      r.status, r.err);
        result_free(&r);
        free(x.b);
    }
    outputs_validate(&outs);
}

/* Well-formed records of random frames (0 to 300 random bytes) on every link type: the file is
 * read to its end (exit 0), and every packet is accounted for (check_output). The IP version
 * nibble is forced on raw-IP link types half the time so the dissectors get past the first
 * byte. */
Test(garbage, random_frames_on_every_link_type) {
    struct outputs outs = {.n = 0};
    for (size_t l = 0; l < sizeof link_types / sizeof link_types[0]; l++) {
        rng_state = 0x1234567ull + l;
        struct bytes x = {0};
        pcap_header(&x, (uint32_t)link_types[l], 65535);
        uint8_t junk[300];
        for (uint32_t i = 0; i < 2000; i++) {
            size_t n = rng() % sizeof junk;
            random_bytes(junk, n);
            if (n > 0 && (i & 1))
                junk[0] = (uint8_t)((rng() & 1 ? 0x40 : 0x60) | (junk[0] & 0x0f));
            pcap_record(&x, 1704067200u + i / 1000, i % 1000 * 1000, (uint32_t)n, (uint32_t)n, junk,
                        n);
        }
        struct result r;
        run_on(&r, &outs, write_bytes("frames.pcap", x.b, x.n), NULL);
        cr_expect_eq(r.status, 0, "link %d: %s", link_types[l], r.err);
        cr_expect_eq(json_int_at(r.summary, "packets"), 2000);
        result_free(&r);
        free(x.b);
    }
    outputs_validate(&outs);
}

/* The frames of several real conversations (the standard exchange over IPv4 and IPv6, with VLAN
 * tags), each with 1 to 4 random bytes overwritten anywhere, 4000 frames; read with --checksums
 * off so that damaged headers reach connection tracking instead of being dropped for their
 * checksum, and once with the default. Exit 0 both times; every packet accounted for, every
 * connection reported once with its own uid, the output valid. */
Test(garbage, mutated_conversations) {
    const char *srcs[3] = {tmp_path("m4.pcap"), tmp_path("m6.pcap"), tmp_path("mv.pcap")};
    char copies[3][256];
    for (int i = 0; i < 3; i++)
        snprintf(copies[i], sizeof copies[i], "%s", srcs[i]);
    cr_assert(gen_clean_ipv4(copies[0]) && gen_clean_ipv6(copies[1]) && gen_vlan(copies[2]));
    struct outputs outs = {.n = 0};
    for (uint64_t seed = 1; seed <= 4; seed++) {
        rng_state = seed * 0xD1B54A32D192ED03ull;
        struct bytes x = {0};
        pcap_header(&x, 1, 65535);
        for (int round = 0; round < 4000 / 33 + 1; round++) {
            for (int c = 0; c < 3; c++) {
                size_t n;
                uint8_t *b = read_whole(copies[c], &n);
                size_t off = 24;
                uint16_t port = (uint16_t)(rng() % 64);
                while (off + 16 <= n) {
                    uint32_t caplen = le32_at(b + off + 8);
                    uint8_t *fr = b + off + 16;
                    /* A few conversations share ports, so damaged segments meet live ones. */
                    fr[caplen > 60 ? 37 : 0] ^= (uint8_t)port;
                    int flips = 1 + (int)(rng() % 4);
                    for (int k = 0; k < flips; k++)
                        fr[rng() % caplen] = (uint8_t)rng();
                    uint32_t usec = (uint32_t)(x.n % 1000000);
                    pcap_record(&x, 1704067200u + (uint32_t)round, usec, caplen, caplen, fr,
                                caplen);
                    off += 16 + caplen;
                }
                free(b);
            }
        }
        const char *path = write_bytes("mutated.pcap", x.b, x.n);
        const char *off_opts[] = {"--checksums", "off", NULL};
        struct result r;
        run_on(&r, &outs, path, off_opts);
        cr_expect_eq(r.status, 0, "seed %" PRIu64 ": %s", seed, r.err);
        result_free(&r);
        run_on(&r, &outs, path, NULL);
        cr_expect_eq(r.status, 0, "seed %" PRIu64 ": %s", seed, r.err);
        result_free(&r);
        free(x.b);
    }
    outputs_validate(&outs);
}

/* ==== writes that fail ======================================================================== */

/* 200 complete, healthy exchanges (ports 42000..42199): 200 connection records and the summary,
 * 201 records, no anomaly. */
static const char *two_hundred_connections(void) {
    const char *path = tmp_path("200.pcap");
    struct capwrite *w = capwrite_open(path, CAPWRITE_PCAP_USEC, 1, 65535);
    cr_assert(w);
    struct session_clock clock = {T0, 1000000};
    for (int i = 0; i < 200; i++) {
        struct session s;
        session_on(&s, w, &clock, (uint16_t)(42000 + i));
        session_handshake(&s);
        session_data(&s, SESSION_CLIENT, 100);
        session_ack(&s, SESSION_SERVER);
        session_close(&s, SESSION_CLIENT);
        cr_assert(s.ok);
    }
    cr_assert(capwrite_close(w));
    return path;
}

/* -o /dev/full: every write fails with ENOSPC. shakedown(1): such a failure "is reported once on
 * standard error; capture and analysis go on and the records that could not be written are
 * counted", and EXIT STATUS 3: "Records were lost: the output could not be written ... standard
 * error says how many records are missing". Expected: the error once, naming /dev/full and the
 * reason; besides it only the count of records not written, which for JSON is all 201 (the
 * capture is still analysed to its end); exit status 3. */
Test(write_failure, output_to_dev_full) {
    const char *path = two_hundred_connections();
    for (int text = 0; text <= 1; text++) {
        const char *args[] = {"-r", path, "-o", "/dev/full", "-F", text ? "text" : "json", NULL};
        struct run_result r = run_shakedown(NULL, args);
        cr_expect_lt(r.status, 128, "killed by signal %d", r.status - 128);
        cr_expect_eq(r.status, 3,
                     "%s: exit status %d although no record could be written, "
                     "want 3; stderr: %s",
                     text ? "text" : "json", r.status, r.err);
        int errors = 0, counts = 0, others = 0;
        char *save = NULL;
        for (char *l = strtok_r(r.err, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
            unsigned long long lost;
            if (strstr(l, "/dev/full") && strstr(l, strerror(ENOSPC)))
                errors++;
            else if (sscanf(l, "shakedown: %llu records could not be written", &lost) == 1) {
                counts++;
                if (!text)
                    cr_expect_eq(lost, 201, "%llu records counted as lost, want 201", lost);
            } else
                others++;
        }
        cr_expect_eq(errors, 1, "the write error is reported %d times, want once", errors);
        cr_expect_eq(counts, 1, "the count of records not written is printed %d times", counts);
        cr_expect_eq(others, 0, "other lines on stderr");
        cr_expect_str_empty(r.out);
        run_result_free(&r);
    }
}

/* The reader of standard output goes away: shakedown(1), SIGPIPE: "shakedown stops quietly with
 * status 0". 200 connections make ~200 kB of JSON, more than a pipe holds, so shakedown does hit
 * the closed pipe: (a) the read end closed before shakedown starts; (b) a reader that takes one
 * line and closes — that line is a whole, valid record. Both: status 0, nothing on stderr. */
Test(write_failure, closed_pipe) {
    const char *path = two_hundred_connections();
    for (int reader = 0; reader <= 1; reader++) {
        int fds[2];
        cr_assert(pipe(fds) == 0);
        const char *errp = tmp_path("pipe.err");
        if (!reader)
            close(fds[0]);
        pid_t pid = fork();
        cr_assert(pid >= 0);
        if (pid == 0) {
            signal(SIGPIPE, SIG_DFL);
            int err = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
            int in = open("/dev/null", O_RDONLY);
            if (err < 0 || in < 0 || dup2(in, 0) < 0 || dup2(fds[1], 1) < 0 || dup2(err, 2) < 0)
                _exit(126);
            if (reader)
                close(fds[0]);
            close(fds[1]);
            execl(SHAKEDOWN_BIN, SHAKEDOWN_BIN, "-F", "json", "-r", path, (char *)NULL);
            _exit(127);
        }
        close(fds[1]);
        char line[8192];
        size_t got = 0;
        if (reader) {
            while (got < sizeof line - 1) {
                ssize_t k = read(fds[0], line + got, 1);
                if (k <= 0 || line[got] == '\n')
                    break;
                got++;
            }
            line[got] = '\0';
            close(fds[0]);
        }
        int ws = 0;
        cr_assert_eq(waitpid(pid, &ws, 0), pid);
        cr_expect(WIFEXITED(ws) && WEXITSTATUS(ws) == 0,
                  "reader %d: shakedown ended with wait status %#x", reader, ws);
        size_t n;
        uint8_t *err = read_whole(errp, &n);
        cr_expect_eq(n, 0, "reader %d: stderr: %.*s", reader, (int)n, (const char *)err);
        free(err);
        if (reader) {
            struct json_object *o = json_tokener_parse(line);
            cr_expect(o && strcmp(json_str_or(o, "type"), "connection") == 0, "first line: %s",
                      line);
            json_object_put(o);
        }
    }
}
