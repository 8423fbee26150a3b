/* End-to-end tests of hostile input (issue 7), damaged and adversarial capture files: pcap and
 * pcapng truncated at every boundary, bogus record lengths, timestamps going backwards or far
 * ahead, and pcapng files with several interfaces, link types and unknown blocks. Each run's
 * output is checked and validated against the schema (hostile_helpers.h). */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capwrite.h"
#include "hostile_helpers.h"
#include "pktbuild.h"
#include "run.h"
#include "samples.h"

static int64_t int_or_zero(struct json_object *o, const char *path) {
    int64_t v = json_int_at(o, path);
    return v < 0 ? 0 : v;
}

static struct json_object *input0(const struct result *r) {
    return json_object_array_get_idx(json_at(r->summary, "inputs"), 0);
}

/* ==== truncated files ========================================================================= */

/* One cut of a capture: expected status, packets, exit code. The flow table is kept small
 * (--max-flows 1024; there is one connection here): the default reserves 240 MB, which a release
 * build never touches, but AddressSanitizer poisons its shadow (30 MB) on every free, a tenth of
 * a second per run, and the two tests below run shakedown some 500 times to read files, not to
 * fill tables. */
static void expect_cut(struct outputs *outs, const uint8_t *whole, size_t cut, const char *status,
                       int64_t packets, int exit_code, int64_t all_packets) {
    static const char *const small_table[] = {"--max-flows", "1024", NULL};
    const char *path = write_bytes("cut.cap", whole, cut);
    struct result r;
    run_on(&r, outs, path, small_table);
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
