/* End-to-end tests of --checksums auto, the default (issue 13 §1): a capture taken on a sending
 * host, whose own segments carry the pseudo-header partial sum (checksum offload), gives the same
 * records as a capture with every checksum right and drops nothing; a genuinely corrupt packet is
 * still left out; a source whose packets are mostly wrong in some other way is switched to
 * offloading after more than 10 % of its first 1000, said on stderr and in the summary — and only
 * that source. Conventions and helpers: conn_helpers.h (client 10.0.0.1, server 10.0.0.2:80). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "conn_helpers.h"
#include "pktbuild.h"
#include "run.h"
#include "session.h"

#define SWITCH_LINE "taking it as offloading checksums"

/* Five standard exchanges (client closing) from 10.0.0.1:50000..50004; with client_offloaded,
 * every client segment carries the partial sum, as a capture on the client's host shows. */
static void five_connections(struct cap *c, const char *name, bool client_offloaded) {
    cap_open(c, name);
    for (uint16_t i = 0; i < 5; i++) {
        struct session s;
        conn_init(&s, c, (uint16_t)(50000 + i), 80, CISN, SISN);
        s.offloaded[SESSION_CLIENT] = client_offloaded;
        standard_exchange(&s, 100, 200, SESSION_CLIENT, 11);
        conn_done(&s);
    }
    cap_close(c);
}

/* Runs shakedown -F json on path with opts into *rr; returns its summary (the caller puts it). */
static struct json_object *summary_of(struct run_result *rr, const char *path,
                                      const char *const *opts) {
    *rr = run_json(path, opts);
    struct json_object *summary = json_last_line(rr->out);
    cr_assert_not_null(summary, "%s: no summary; stderr: %s", path, rr->err);
    return summary;
}

/* The length of the summary's checksum_offload_sources (-1 if absent). */
static int offload_sources(struct json_object *summary) {
    struct json_object *a = json_at(summary, "checksum_offload_sources");
    return a && json_object_is_type(a, json_type_array) ? (int)json_object_array_length(a) : -1;
}

Test(checksums, host_capture_with_offload_gives_correct_records) {
    /* The same five conversations, once with every checksum right and once as the client's host
     * captured them: the records must be the same, every packet analysed. */
    for (int offloaded = 0; offloaded <= 1; offloaded++) {
        struct cap c;
        five_connections(&c, offloaded ? "offloaded.pcap" : "correct.pcap", offloaded);
        struct run r;
        run_capture(&r, c.path, NULL);
        cr_assert_eq(r.n, 5, "%s: one record per connection", c.path);
        for (int i = 0; i < 5; i++) {
            /* conn_helpers' standard exchange: SF ShADadFf, the client (10.0.0.1, the side
             * that sent the SYN) the originator; orig 6 packets / 420 bytes (SYN 60, ACK 52,
             * data 152, ACK 52, FIN 52, ACK 52), resp 5 / 468 (SYN/ACK 60, ACK 52, data 252,
             * ACK 52, FIN 52). */
            expect_conn(r.rec[i], "SF", "ShADadFf", "fin");
            expect_str(r.rec[i], "src_ip", "10.0.0.1");
            expect_int(r.rec[i], "src_port", 50000 + i);
            expect_counts(r.rec[i], 6, 420, 5, 468);
            expect_int(r.rec[i], "orig.retransmits", 0);
        }
        /* 55 frames, none left out. The client sent 6 × 5 = 30 segments: offloaded in the host
         * capture, good otherwise; the server's 25 are good either way; every IPv4 header
         * checksum (55) is right (offload leaves only the transport checksum unfilled). */
        expect_int(r.summary, "checksum_dropped", 0);
        expect_int(r.summary, "analysed", 55);
        expect_int(r.summary, "checksums.ipv4.good", 55);
        expect_int(r.summary, "checksums.tcp.good", offloaded ? 25 : 55);
        expect_int(r.summary, "checksums.tcp.offloaded", offloaded ? 30 : 0);
        expect_int(r.summary, "checksums.tcp.bad", 0);
        cr_expect_eq(offload_sources(r.summary), 0, "no source needed the per-source rule");
        run_free(&r);
        /* Nothing to say on stderr: no hint, no switch. */
        struct run_result rr = run_json(c.path, NULL);
        cr_expect_str_empty(rr.err, "%s: stderr: %s", c.path, rr.err);
        run_result_free(&rr);
    }
}

Test(checksums, drop_leaves_the_offloaded_segments_out) {
    /* Near miss of the above: --checksums drop on the host capture leaves out all 30 client
     * segments (only the server's 25 are analysed) and says that auto would analyse them. */
    struct cap c;
    five_connections(&c, "offloaded-drop.pcap", true);
    static const char *const opts[] = {"--checksums", "drop", NULL};
    struct run_result rr;
    struct json_object *summary = summary_of(&rr, c.path, opts);
    expect_int(summary, "checksum_dropped", 30);
    expect_int(summary, "analysed", 25);
    expect_int(summary, "checksums.tcp.offloaded", 30);
    cr_expect(strstr(rr.err, "30 of 55 transport checksums were left to the NIC"), "%s", rr.err);
    json_object_put(summary);
    run_result_free(&rr);
}

Test(checksums, corrupt_packet_from_a_normal_source_is_dropped) {
    /* Frames: 0 SYN, 1 SYN/ACK, 2 ACK, 3 client data 100 bytes with a wrong checksum (not the
     * partial sum: corruption), 4 the same data again (seq CISN + 1), correct, 5 server ACK,
     * 6 server data 200, 7 client ACK, 8-11 the client's close. */
    struct cap c;
    struct session s;
    cap_open(&c, "corrupt.pcap");
    conn_init(&s, &c, 50000, 80, CISN, SISN);
    session_handshake(&s);
    s.bad_checksum[SESSION_CLIENT] = true;
    session_data(&s, SESSION_CLIENT, 100);
    s.bad_checksum[SESSION_CLIENT] = false;
    session_write_segment(&s, SESSION_CLIENT, PB_PSH | PB_ACK, CISN + 1, SISN + 1, 100);
    session_ack(&s, SESSION_SERVER);
    session_data(&s, SESSION_SERVER, 200);
    session_ack(&s, SESSION_CLIENT);
    session_close(&s, SESSION_CLIENT);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* Frame 3 is left out (it only adds C: a bad checksum from the originator); frame 4 is then
     * the first copy of those bytes the analysis sees, so no retransmission. Both FINs
     * acknowledged: SF. orig: SYN, ACK, data, ACK, FIN, ACK = 6 packets. */
    expect_int(r.summary, "checksum_dropped", 1);
    expect_int(r.summary, "checksums.tcp.bad", 1);
    expect_int(r.summary, "checksums.tcp.offloaded", 0);
    cr_expect_eq(offload_sources(r.summary), 0);
    cr_expect(strchr(json_str_or(rec, "history"), 'C'), "history %s", json_str_or(rec, "history"));
    expect_str(rec, "conn_state", "SF");
    expect_int(rec, "orig.pkts", 6);
    expect_int(rec, "orig.retransmits", 0);
    run_free(&r);
}

/* A connection whose client sends a correct handshake, then n_good correct and n_bad wrong data
 * segments of 10 bytes, then (with server_bad) 200 bytes from the server with a wrong checksum,
 * and closes. */
static void mostly_bad_client(struct cap *c, const char *name, int n_good, int n_bad,
                              bool server_bad) {
    struct session s;
    cap_open(c, name);
    conn_init(&s, c, 50000, 80, CISN, SISN);
    session_handshake(&s);
    for (int i = 0; i < n_good; i++)
        session_data(&s, SESSION_CLIENT, 10);
    s.bad_checksum[SESSION_CLIENT] = true;
    for (int i = 0; i < n_bad; i++)
        session_data(&s, SESSION_CLIENT, 10);
    s.bad_checksum[SESSION_SERVER] = server_bad;
    session_data(&s, SESSION_SERVER, 200);
    s.bad_checksum[SESSION_SERVER] = false;
    session_close(&s, SESSION_CLIENT);
    conn_done(&s);
    cap_close(c);
}

Test(checksums, mostly_corrupt_source_is_switched_to_offloading) {
    /* The client's checksummed packets: SYN, ACK (good), then 150 bad data segments. Its 101st
     * bad one is its 103rd packet (frame 104: SYN/ACK is frame 2): more than 100 of its first
     * 1000 are bad whatever follows, so from there on it is offloading. Its first 100 bad ones
     * stay left out. The server's data (wrong checksum) comes after the switch, but the server is
     * another source: still left out. So 101 packets dropped, and the client's FIN and last ACK
     * (wrong too) analysed. */
    struct cap c;
    mostly_bad_client(&c, "mostly-bad.pcap", 0, 150, true);
    struct run_result rr;
    struct json_object *summary = summary_of(&rr, c.path, NULL);
    expect_int(summary, "checksum_dropped", 101);
    expect_int(summary, "checksums.tcp.bad", 153); /* 150 data, server's data, FIN, last ACK */
    struct json_object *srcs = json_at(summary, "checksum_offload_sources");
    cr_assert_eq(offload_sources(summary), 1);
    cr_expect_str_eq(json_object_get_string(json_object_array_get_idx(srcs, 0)), "10.0.0.1");
    const char *line = strstr(rr.err, "shakedown: 10.0.0.1: 101 of its first 103 checksummed "
                                      "packets had a bad checksum");
    cr_expect(line, "stderr: %s", rr.err);
    cr_expect(line && strstr(line, "from frame 104 on; its 100 earlier ones were left out"),
              "stderr: %s", rr.err);
    const char *first = strstr(rr.err, SWITCH_LINE);
    cr_expect(first && !strstr(first + 1, SWITCH_LINE), "said once: %s", rr.err);
    json_object_put(summary);
    run_result_free(&rr);

    /* The text summary lists it on a line of its own. */
    static const char *const text[] = {"-F", "text", NULL};
    rr = run_json(c.path, text);
    cr_expect(strstr(rr.out, "  offloading sources     10.0.0.1\n"), "%s", rr.out);
    run_result_free(&rr);
}

Test(checksums, exactly_ten_percent_is_not_offloading) {
    /* Near miss: SYN, ACK and 898 data segments good (900), then 100 bad: 100 of the first 1000
     * is 10 %, not more. The 50 bad ones after the window, and the client's FIN and last ACK
     * (wrong too), no longer count. All 152 left out, no source switched, nothing said. */
    struct cap c;
    mostly_bad_client(&c, "ten-percent.pcap", 898, 150, false);
    struct run_result rr;
    struct json_object *summary = summary_of(&rr, c.path, NULL);
    expect_int(summary, "checksum_dropped", 152);
    cr_expect_eq(offload_sources(summary), 0);
    cr_expect(!strstr(rr.err, SWITCH_LINE), "stderr: %s", rr.err);
    json_object_put(summary);
    run_result_free(&rr);
}
