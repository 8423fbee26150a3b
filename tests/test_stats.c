/* test_stats: the run accounting of analyzer/stats.h — every packet read lands in exactly one of
 * filtered, analysed, checksum_dropped or a decode error, and the end-of-run facts (tracker
 * counts, capture counters, lost records) are copied as they were given. */
#include <criterion/criterion.h>
#include <string.h>

#include "capture.h"
#include "stats.h"
#include "tracker.h"

/* A TCP/IPv4 packet of wirelen bytes at t seconds, as analyze.c fills it before decoding. */
static struct packet read_packet(int64_t t, uint32_t wirelen) {
    struct packet p;
    memset(&p, 0, sizeof p);
    p.ts_sec = t;
    p.caplen = p.wirelen = wirelen;
    p.link = LINK_ETHERNET;
    return p;
}

Test(stats, every_packet_accounted_once) {
    /* Five packets read: one filtered, one decode error, one dropped for its checksum, two
     * analysed; each outcome counter moves by exactly its own packets. */
    struct run_stats s = {0};
    for (int i = 0; i < 5; i++) {
        struct packet p = read_packet(1700000000 + i, 60);
        stats_count_read(&s, &p);
    }
    stats_count_filtered(&s);
    struct packet bad = read_packet(1700000000, 60);
    stats_count_decoded(&s, &bad, DECODE_LINK_TRUNCATED);
    stats_count_checksum_dropped(&s);
    stats_count_analysed(&s);
    stats_count_analysed(&s);
    cr_expect_eq(s.read.packets, 5);
    cr_expect_eq(s.read.bytes, 300);
    cr_expect_eq(s.filtered, 1);
    cr_expect_eq(s.checksum_dropped, 1);
    cr_expect_eq(s.analysed, 2);
    cr_expect_eq(s.decode_errors[DECODE_LINK_TRUNCATED], 1);
    cr_expect_eq(stats_accounted(&s), s.read.packets);
}

Test(stats, bad_timestamps_counted) {
    struct run_stats s = {0};
    stats_count_bad_timestamp(&s);
    stats_count_bad_timestamp(&s);
    cr_expect_eq(s.timestamps_out_of_range, 2);
    cr_expect_eq(stats_accounted(&s), 0, "a clamped time is not an outcome of its own");
}

Test(stats, tracker_counts_copied) {
    struct run_stats s = {0};
    struct tracker_counts tc;
    memset(&tc, 0, sizeof tc);
    tc.late_packets = 3;
    tc.untracked_packets = 7;
    tc.peak_open = 11;
    tc.reported = 99; /* counted per connection by stats_count_conn, not copied */
    tc.anomalies[ANOMALY_PORT_REUSE] = 2;
    tc.anomalies[ANOMALY_PORT_SCAN] = 5;
    stats_note_tracker(&s, &tc);
    cr_expect_eq(s.conns.late_packets, 3);
    cr_expect_eq(s.conns.untracked_packets, 7);
    cr_expect_eq(s.conns.peak_open, 11);
    cr_expect_eq(s.conns.reported, 0);
    cr_expect_eq(s.conns.anomalies[ANOMALY_PORT_REUSE], 2);
    cr_expect_eq(s.conns.anomalies[ANOMALY_PORT_SCAN], 5);
    cr_expect_eq(s.conns.anomalies[ANOMALY_SYN_UNANSWERED], 0);
}

Test(stats, capture_counters_and_lost_records) {
    struct run_stats s = {0};
    cr_expect_not(s.have_capture_stats);
    struct capture_stats cs = {.received = 100, .dropped = 4, .if_dropped = 1};
    stats_note_capture(&s, &cs);
    cr_expect(s.have_capture_stats);
    cr_expect_eq(s.capture_received, 100);
    cr_expect_eq(s.capture_dropped, 4);
    cr_expect_eq(s.capture_if_dropped, 1);
    stats_set_records_lost(&s, 12);
    cr_expect_eq(s.records_lost, 12);
}

Test(stats, checksums_counted_per_layer_worst_returned) {
    /* IPv4 good and TCP offloaded: counted in each layer, and the packet is OFFLOADED. IPv4 bad
     * with TCP offloaded: BAD wins (a corrupt header is corrupt whatever the transport says). */
    struct run_stats s = {0};
    struct packet p = read_packet(1700000000, 60);
    p.net = NET_IPV4;
    p.transport = TRANSPORT_TCP;
    p.ip_checksum = CHECKSUM_GOOD;
    p.l4_checksum = CHECKSUM_OFFLOADED;
    cr_expect_eq(stats_count_decoded(&s, &p, DECODE_OK), CHECKSUM_OFFLOADED);
    p.ip_checksum = CHECKSUM_BAD;
    cr_expect_eq(stats_count_decoded(&s, &p, DECODE_OK), CHECKSUM_BAD);
    p.ip_checksum = CHECKSUM_UNVERIFIED;
    p.l4_checksum = CHECKSUM_UNVERIFIED;
    cr_expect_eq(stats_count_decoded(&s, &p, DECODE_OK), CHECKSUM_UNVERIFIED);
    cr_expect_eq(s.checksums[CHECKSUM_LAYER_IPV4].good, 1);
    cr_expect_eq(s.checksums[CHECKSUM_LAYER_IPV4].bad, 1);
    cr_expect_eq(s.checksums[CHECKSUM_LAYER_TCP].offloaded, 2);
    cr_expect_eq(s.checksums[CHECKSUM_LAYER_TCP].good + s.checksums[CHECKSUM_LAYER_TCP].bad, 0);
}

Test(stats, offload_sources_listed_up_to_the_limit) {
    /* Each switched source is listed in order; beyond STATS_MAX_OFFLOAD_SOURCES only counted. */
    struct run_stats s = {0};
    struct packet p = read_packet(1700000000, 60);
    p.ip_version = 4;
    for (unsigned i = 0; i < STATS_MAX_OFFLOAD_SOURCES + 3; i++) {
        p.src[3] = (uint8_t)i;
        stats_note_offload_source(&s, &p);
    }
    cr_expect_eq(s.offload_source_count, STATS_MAX_OFFLOAD_SOURCES + 3);
    cr_expect_eq(s.offload_sources[0].ip_version, 4);
    cr_expect_eq(s.offload_sources[1].addr[3], 1);
    cr_expect_eq(s.offload_sources[STATS_MAX_OFFLOAD_SOURCES - 1].addr[3],
                 STATS_MAX_OFFLOAD_SOURCES - 1);
}

/* Packet i of a small varied stream, counted into s as analyze.c would: every fifth filtered,
 * every seventh a decode error, the rest decoded (TCP or UDP, checksums good, bad or offloaded),
 * then analysed or dropped for a bad checksum; and a connection reported for every third. */
static void count_packet(struct run_stats *s, unsigned i) {
    struct packet p = read_packet(1700000000 + (int64_t)(i * 37 % 50), 60 + i);
    stats_count_read(s, &p);
    if (i % 5 == 0) {
        stats_count_filtered(s);
        return;
    }
    p.net = NET_IPV4;
    p.transport = i % 2 ? TRANSPORT_TCP : TRANSPORT_UDP;
    p.ip_checksum = CHECKSUM_GOOD;
    p.l4_checksum = i % 3 == 0 ? CHECKSUM_BAD : i % 4 == 0 ? CHECKSUM_OFFLOADED : CHECKSUM_GOOD;
    p.truncated = i % 6 == 0;
    enum decode_status st = i % 7 == 0 ? DECODE_TCP_TRUNCATED : DECODE_OK;
    enum checksum_state cs = stats_count_decoded(s, &p, st);
    if (st != DECODE_OK)
        return;
    if (cs == CHECKSUM_BAD)
        stats_count_checksum_dropped(s);
    else
        stats_count_analysed(s);
    if (i % 3 == 0) {
        struct conn c;
        memset(&c, 0, sizeof c);
        c.e.key.proto = i % 2 ? 6 : 17;
        c.end = i % 2 ? CONN_END_FIN : CONN_END_TIMEOUT;
        stats_count_conn(s, &c);
    }
}

Test(stats, merge_of_two_threads_counts_equals_one_threads) {
    /* The same 60 packets counted by one thread, and split between two (odd and even frames, as
     * two capture sockets might split them) and merged: every counter must come out the same.
     * Times: packet i is at 1700000000 + (i * 37 mod 50) s: the odd half spans +1 (i = 23) to +49
     * (i = 27), the even half +0 (i = 50) to +48, so merged either way round the earliest is the
     * even half's and the latest the odd half's. */
    struct run_stats one = {0}, a = {0}, b = {0};
    for (unsigned i = 1; i <= 60; i++) {
        count_packet(&one, i);
        count_packet(i % 2 ? &a : &b, i);
    }
    cr_assert_neq(a.read.packets, 0);
    cr_assert_neq(b.read.packets, 0);
    struct run_stats b_then_a = b;
    stats_merge(&b_then_a, &a);
    cr_expect_eq(b_then_a.first_sec, 1700000000);
    cr_expect_eq(b_then_a.last_sec, 1700000000 + 49);
    stats_merge(&a, &b);
    cr_expect_eq(a.read.packets, one.read.packets);
    cr_expect_eq(a.read.bytes, one.read.bytes);
    cr_expect_eq(a.filtered, one.filtered);
    cr_expect_eq(a.analysed, one.analysed);
    cr_expect_eq(a.checksum_dropped, one.checksum_dropped);
    cr_expect_eq(a.truncated, one.truncated);
    cr_expect_eq(stats_accounted(&a), a.read.packets);
    cr_expect_arr_eq(a.decode_errors, one.decode_errors, sizeof one.decode_errors);
    cr_expect_arr_eq(a.link, one.link, sizeof one.link);
    cr_expect_arr_eq(a.net, one.net, sizeof one.net);
    cr_expect_arr_eq(a.transport, one.transport, sizeof one.transport);
    cr_expect_arr_eq(a.checksums, one.checksums, sizeof one.checksums);
    cr_expect_eq(a.conns.reported, one.conns.reported);
    cr_expect_eq(a.conns.tcp, one.conns.tcp);
    cr_expect_eq(a.conns.udp, one.conns.udp);
    cr_expect_arr_eq(a.conns.by_end, one.conns.by_end, sizeof one.conns.by_end);
    cr_expect_arr_eq(a.conns.by_state, one.conns.by_state, sizeof one.conns.by_state);
    cr_expect(a.have_ts);
    cr_expect_eq(a.first_sec, one.first_sec);
    cr_expect_eq(a.last_sec, one.last_sec);
    cr_expect_eq(a.first_sec, 1700000000);
    cr_expect_eq(a.last_sec, 1700000000 + 49);
}

Test(stats, merge_adds_the_end_of_run_counts) {
    /* What the tracker and the capture counted in each thread adds up; peak_open is the sum of
     * the peaks (each thread's connections are its own); a thread with no packets leaves the
     * times alone. */
    struct run_stats a = {0}, b = {0};
    struct tracker_counts tc;
    memset(&tc, 0, sizeof tc);
    tc.late_packets = 3;
    tc.untracked_packets = 7;
    tc.peak_open = 11;
    tc.anomalies[ANOMALY_PORT_REUSE] = 2;
    tc.folded_events = 4;
    tc.aggregates = 1;
    stats_note_tracker(&a, &tc);
    stats_note_tracker(&b, &tc);
    struct capture_stats cs = {.received = 100, .dropped = 4, .if_dropped = 1};
    stats_note_capture(&b, &cs);
    stats_note_checksum_untracked(&a, 5);
    stats_note_checksum_untracked(&b, 6);
    struct packet p = read_packet(1700000000, 60);
    stats_count_read(&a, &p);
    stats_merge(&a, &b);
    cr_expect_eq(a.conns.late_packets, 6);
    cr_expect_eq(a.conns.untracked_packets, 14);
    cr_expect_eq(a.conns.peak_open, 22);
    cr_expect_eq(a.conns.anomalies[ANOMALY_PORT_REUSE], 4);
    cr_expect_eq(a.conns.anomaly_events_folded, 8);
    cr_expect_eq(a.conns.anomaly_aggregates, 2);
    cr_expect_eq(a.checksum_untracked, 11);
    cr_expect(a.have_capture_stats);
    cr_expect_eq(a.capture_received, 100);
    cr_expect_eq(a.capture_dropped, 4);
    cr_expect(a.have_ts);
    cr_expect_eq(a.first_sec, 1700000000);
    cr_expect_eq(a.last_sec, 1700000000);
}

Test(stats, merge_lists_offload_sources_after_its_own_up_to_the_limit) {
    /* a switched 2 sources, b switched the limit + 1: a's stay first, then b's in their order
     * until the list is full; every one is counted. */
    struct run_stats a = {0}, b = {0};
    struct packet p = read_packet(1700000000, 60);
    p.ip_version = 4;
    for (unsigned i = 0; i < 2; i++) {
        p.src[3] = (uint8_t)(200 + i);
        stats_note_offload_source(&a, &p);
    }
    for (unsigned i = 0; i < STATS_MAX_OFFLOAD_SOURCES + 1; i++) {
        p.src[3] = (uint8_t)i;
        stats_note_offload_source(&b, &p);
    }
    stats_merge(&a, &b);
    cr_expect_eq(a.offload_source_count, 2 + STATS_MAX_OFFLOAD_SOURCES + 1);
    cr_expect_eq(a.offload_sources[0].addr[3], 200);
    cr_expect_eq(a.offload_sources[1].addr[3], 201);
    cr_expect_eq(a.offload_sources[2].addr[3], 0);
    cr_expect_eq(a.offload_sources[STATS_MAX_OFFLOAD_SOURCES - 1].addr[3],
                 STATS_MAX_OFFLOAD_SOURCES - 3);
}
