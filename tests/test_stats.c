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
