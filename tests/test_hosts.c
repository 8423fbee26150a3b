/* Unit tests of hosts: the syn_flood and port_scan counters — threshold crossing once per window,
 * window resets, distinct targets, IPv4/IPv6 keys, and the bounded table with its eviction
 * order. */
#include <criterion/criterion.h>
#include <string.h>

#include "hosts.h"

#define SEC 1000000000ll
#define MS 1000000ll

/* A test configuration with small thresholds: syn flood 5 in 10 s, port scan 5 in 60 s. */
static struct host_config config_small(uint32_t capacity) {
    struct host_config c;
    host_config_defaults(&c);
    c.capacity = capacity;
    c.syn_flood_threshold = 5;
    c.syn_flood_window_ns = 10 * SEC;
    c.port_scan_threshold = 5;
    c.port_scan_window_ns = 60 * SEC;
    return c;
}

struct addr {
    uint8_t b[16];
};

/* 10.x.y.z for n = x.y.z, in a 16-byte buffer whose tail is not part of the address. */
static struct addr addr4(uint32_t n) {
    struct addr a;
    memset(&a, 0xee, sizeof a);
    a.b[0] = 10;
    a.b[1] = (uint8_t)(n >> 16);
    a.b[2] = (uint8_t)(n >> 8);
    a.b[3] = (uint8_t)n;
    return a;
}

static bool syn(struct hosts *h, const struct addr *dst, int64_t t, uint32_t *half_open) {
    return hosts_syn_attempt(h, dst->b, 4, t, half_open);
}

static bool failed(struct hosts *h, const struct addr *src, const struct addr *dst, uint16_t port,
                   int64_t t, uint32_t *distinct) {
    return hosts_failed_attempt(h, src->b, dst->b, port, 4, t, distinct);
}

Test(hosts, defaults) {
    struct host_config c;
    memset(&c, 0xff, sizeof c);
    host_config_defaults(&c);
    cr_expect_eq(c.capacity, 16384);
    cr_expect_eq(c.syn_flood_threshold, 200);
    cr_expect_eq(c.syn_flood_window_ns, 10 * SEC);
    cr_expect_eq(c.port_scan_threshold, 20);
    cr_expect_eq(c.port_scan_window_ns, 60 * SEC);
    c.capacity = 0;
    cr_expect_null(hosts_new(&c), "a table of no hosts is refused");
}

/* Threshold 5: attempts 1-5 stay quiet, the 6th (more than 5) fires, later ones do not. */
Test(hosts, syn_flood_fires_once_above_threshold) {
    struct host_config c = config_small(64);
    struct hosts *h = hosts_new(&c);
    cr_assert(h);
    struct addr dst = addr4(1);
    uint32_t n = 0;
    for (uint32_t i = 1; i <= 5; i++) {
        cr_expect_not(syn(h, &dst, (int64_t)i * MS, &n), "attempt %u is not above 5", i);
        cr_expect_eq(n, i);
    }
    cr_expect(syn(h, &dst, 6 * MS, &n), "the 6th half-open attempt fires");
    cr_expect_eq(n, 6);
    for (uint32_t i = 7; i <= 50; i++) {
        cr_expect_not(syn(h, &dst, (int64_t)i * MS, &n), "attempt %u fires again", i);
        cr_expect_eq(n, i);
    }
    hosts_free(h);
}

/* Window [0, 10 s): fires at the 6th attempt; still the same window at 10 s - 1 ns. At exactly
 * 10 s a new window starts with a count of 1, and its 6th attempt fires again. */
Test(hosts, syn_new_window_resets_and_fires_again) {
    struct host_config c = config_small(64);
    struct hosts *h = hosts_new(&c);
    struct addr dst = addr4(1);
    uint32_t n = 0;
    for (int64_t i = 0; i < 5; i++)
        cr_expect_not(syn(h, &dst, i * MS, &n));
    cr_expect(syn(h, &dst, 5 * MS, &n));
    cr_expect_not(syn(h, &dst, 10 * SEC - 1, &n));
    cr_expect_eq(n, 7, "10 s - 1 ns is still in the first window");
    cr_expect_not(syn(h, &dst, 10 * SEC, &n));
    cr_expect_eq(n, 1, "start + T opens a new window");
    for (int64_t i = 1; i < 5; i++)
        cr_expect_not(syn(h, &dst, 10 * SEC + i * MS, &n));
    cr_expect(syn(h, &dst, 10 * SEC + 5 * MS, &n), "the new window fires again");
    cr_expect_eq(n, 6);
    hosts_free(h);
}

/* Retries to one dst:port are one target, however many times they fail. */
Test(hosts, scan_retries_count_once) {
    struct host_config c = config_small(64);
    struct hosts *h = hosts_new(&c);
    struct addr src = addr4(1), dst = addr4(2);
    uint32_t n = 0;
    for (int64_t i = 0; i < 100; i++) {
        cr_expect_not(failed(h, &src, &dst, 22, i * MS, &n));
        cr_expect_eq(n, 1);
    }
    /* The same port on another host, and another port on the same host, are new targets. */
    struct addr other = addr4(3);
    cr_expect_not(failed(h, &src, &other, 22, 200 * MS, &n));
    cr_expect_eq(n, 2);
    cr_expect_not(failed(h, &src, &dst, 23, 201 * MS, &n));
    cr_expect_eq(n, 3);
    hosts_free(h);
}

/* Threshold 5: distinct ports 1-5 (each tried twice) stay quiet, port 6 fires, port 7 does not
 * fire again. */
Test(hosts, scan_distinct_ports_fire) {
    struct host_config c = config_small(64);
    struct hosts *h = hosts_new(&c);
    struct addr src = addr4(1), dst = addr4(2);
    uint32_t n = 0;
    for (uint16_t p = 1; p <= 5; p++) {
        cr_expect_not(failed(h, &src, &dst, p, p * MS, &n));
        cr_expect_not(failed(h, &src, &dst, p, p * MS + 1, &n), "a retry of port %u", p);
        cr_expect_eq(n, p);
    }
    cr_expect(failed(h, &src, &dst, 6, 10 * MS, &n), "a 6th distinct port fires");
    cr_expect_eq(n, 6);
    cr_expect_not(failed(h, &src, &dst, 7, 11 * MS, &n), "once per window");
    cr_expect_eq(n, 7);
    hosts_free(h);
}

/* A sweep of one port over 6 hosts fires too; failures towards those hosts do not count for
 * them (the source is the scanner). */
Test(hosts, scan_distinct_hosts_one_port) {
    struct host_config c = config_small(64);
    struct hosts *h = hosts_new(&c);
    struct addr src = addr4(1);
    uint32_t n = 0;
    for (uint32_t i = 1; i <= 5; i++) {
        struct addr dst = addr4(100 + i);
        cr_expect_not(failed(h, &src, &dst, 445, (int64_t)i * SEC, &n));
        cr_expect_eq(n, i);
    }
    struct addr sixth = addr4(106);
    cr_expect(failed(h, &src, &sixth, 445, 6 * SEC, &n));
    cr_expect_eq(n, 6);
    struct addr other_src = addr4(2);
    cr_expect_not(failed(h, &other_src, &sixth, 445, 7 * SEC, &n));
    cr_expect_eq(n, 1, "another source has its own set");
    hosts_free(h);
}

/* A new port_scan window (at start + 60 s) empties the set: the same 6 targets fire again. */
Test(hosts, scan_new_window_resets_and_fires_again) {
    struct host_config c = config_small(64);
    struct hosts *h = hosts_new(&c);
    struct addr src = addr4(1), dst = addr4(2);
    uint32_t n = 0;
    for (uint16_t p = 1; p <= 5; p++)
        cr_expect_not(failed(h, &src, &dst, p, 0, &n));
    cr_expect(failed(h, &src, &dst, 6, 59 * SEC, &n));
    for (uint16_t p = 1; p <= 5; p++) {
        cr_expect_not(failed(h, &src, &dst, p, 60 * SEC + p, &n));
        cr_expect_eq(n, p, "port %u is new in the new window", p);
    }
    cr_expect(failed(h, &src, &dst, 6, 61 * SEC, &n));
    cr_expect_eq(n, 6);
    hosts_free(h);
}

/* The threshold is capped at the set size (64); with the set full, retries of its targets still
 * count once, the 65th distinct target fires, and the count stays at 65 ("at least"). */
Test(hosts, scan_threshold_capped_at_set_size) {
    struct host_config c = config_small(64);
    c.port_scan_threshold = 1000;
    struct hosts *h = hosts_new(&c);
    struct addr src = addr4(1), dst = addr4(2);
    uint32_t n = 0;
    for (uint16_t p = 1; p <= HOSTS_MAX_SCAN_TARGETS; p++)
        cr_expect_not(failed(h, &src, &dst, p, p, &n));
    cr_expect_eq(n, HOSTS_MAX_SCAN_TARGETS);
    for (uint16_t p = 1; p <= HOSTS_MAX_SCAN_TARGETS; p++)
        cr_expect_not(failed(h, &src, &dst, p, 1000 + p, &n));
    cr_expect_eq(n, HOSTS_MAX_SCAN_TARGETS, "retries of a full set");
    cr_expect(failed(h, &src, &dst, 1000, 2000, &n), "65 > the capped threshold of 64");
    cr_expect_eq(n, HOSTS_MAX_SCAN_TARGETS + 1);
    cr_expect_not(failed(h, &src, &dst, 1001, 2001, &n));
    cr_expect_eq(n, HOSTS_MAX_SCAN_TARGETS + 1);
    hosts_free(h);
}

/* 10.0.0.1 and the IPv6 address 0a00:0001:: share their leading bytes but are two hosts; an IPv4
 * address is its first 4 bytes only. */
Test(hosts, ipv4_and_ipv6_are_different_hosts) {
    struct host_config c = config_small(64);
    struct hosts *h = hosts_new(&c);
    uint8_t v4[4] = {10, 0, 0, 1};
    uint8_t v4_padded[16] = {10, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    uint8_t v6[16] = {10, 0, 0, 1};
    uint32_t n = 0;
    for (int64_t i = 0; i < 5; i++) {
        cr_expect_not(hosts_syn_attempt(h, v4, 4, i, &n));
        cr_expect_not(hosts_syn_attempt(h, v6, 6, i, &n));
        cr_expect_eq(n, (uint32_t)i + 1);
    }
    cr_expect(hosts_syn_attempt(h, v4_padded, 4, 10, &n), "the same IPv4 host, 6th attempt");
    cr_expect_eq(n, 6);
    cr_expect(hosts_syn_attempt(h, v6, 6, 11, &n));
    cr_expect_eq(n, 6);
    /* Scans: the IPv4 and IPv6 sources keep separate sets. */
    uint8_t t4[4] = {10, 0, 0, 2};
    uint8_t t6[16] = {10, 0, 0, 2};
    for (uint16_t p = 1; p <= 5; p++) {
        cr_expect_not(hosts_failed_attempt(h, v4, t4, p, 4, p, &n));
        cr_expect_not(hosts_failed_attempt(h, v6, t6, p, 6, p, &n));
        cr_expect_eq(n, p);
    }
    cr_expect_eq(hosts_count(h), 2, "two hosts; targets have no entries");
    cr_expect_not(hosts_syn_attempt(h, v4, 5, 12, &n), "not an IP version: ignored");
    cr_expect_eq(n, 0);
    cr_expect_eq(hosts_count(h), 2);
    hosts_free(h);
}

/* Capacity 4, 100 hosts: the table never grows, the 4 most recent hosts keep their counts (one
 * earlier attempt each, so 5 more fire) and the first host starts over. */
Test(hosts, table_stays_bounded) {
    struct host_config c = config_small(4);
    struct hosts *h = hosts_new(&c);
    cr_assert(h);
    size_t memory = hosts_memory(h);
    cr_expect_gt(memory, 4 * sizeof(uint32_t) * HOSTS_MAX_SCAN_TARGETS);
    uint32_t n = 0;
    for (uint32_t i = 0; i < 100; i++) {
        struct addr a = addr4(i);
        syn(h, &a, (int64_t)i * MS, &n);
        cr_expect_eq(n, 1);
        failed(h, &a, &a, 80, (int64_t)i * MS, &n);
        cr_expect_eq(n, 1);
        cr_expect_leq(hosts_count(h), 4);
        cr_expect_eq(hosts_memory(h), memory);
    }
    for (uint32_t i = 96; i < 100; i++) {
        struct addr a = addr4(i);
        for (int j = 0; j < 4; j++)
            cr_expect_not(syn(h, &a, 200 * MS + j, &n));
        cr_expect(syn(h, &a, 300 * MS, &n), "host %u kept its first attempt", i);
        cr_expect_eq(n, 6);
    }
    struct addr first = addr4(0);
    syn(h, &first, 400 * MS, &n);
    cr_expect_eq(n, 1, "host 0 was evicted long ago");
    cr_expect_eq(hosts_count(h), 4);
    cr_expect_eq(hosts_memory(h), memory);
    hosts_free(h);
}

/* When the table is full, an entry whose windows have all ended goes before a live one, even a
 * live one that started earlier: host A's port_scan window [0, 60 s) outlives host B's syn_flood
 * window [1 s, 11 s), so at 15 s a new host takes B's entry and A keeps its targets. */
Test(hosts, eviction_prefers_expired_entries) {
    struct host_config c = config_small(4);
    struct hosts *h = hosts_new(&c);
    struct addr a = addr4(1), b = addr4(2), x = addr4(3), y = addr4(4), fresh = addr4(5);
    struct addr target = addr4(9);
    uint32_t n = 0;
    failed(h, &a, &target, 1, 0, &n);
    syn(h, &b, 1 * SEC, &n);
    syn(h, &x, 12 * SEC, &n);
    syn(h, &y, 13 * SEC, &n);
    cr_expect_eq(hosts_count(h), 4);
    syn(h, &fresh, 15 * SEC, &n);
    failed(h, &a, &target, 2, 16 * SEC, &n);
    cr_expect_eq(n, 2, "host A was not evicted");
    hosts_free(h);
}

/* Many hosts in a large table: every one is found again with its own count, whatever the
 * collisions of their hash positions. Positions are random per table (a keyed hash), so the
 * table is kept sparse: 1000 hosts in 16384 slots (6%) fill a whole neighbourhood of 8 — and
 * evict one — in none of 3000 simulated tables (at 4000 hosts, in 15% of them). */
Test(hosts, many_hosts_keep_their_counts) {
    struct host_config c;
    host_config_defaults(&c);
    struct hosts *h = hosts_new(&c);
    cr_assert(h);
    enum { HOSTS = 1000 };
    for (uint32_t round = 1; round <= 3; round++) {
        for (uint32_t i = 0; i < HOSTS; i++) {
            struct addr a = addr4(i);
            uint32_t n = 0;
            syn(h, &a, round * SEC, &n);
            cr_assert_eq(n, round, "host %u", i);
        }
    }
    cr_expect_eq(hosts_count(h), HOSTS);
    hosts_free(h);
}

/* A spoofed flood brings a new host with every SYN (a port_scan source with one failed attempt
 * each). Eviction takes the entry that has counted least, so the victim — already 4 half-open
 * connections, threshold 5 — keeps its count through 10000 one-attempt hosts in a table of 8
 * and fires at its 6th; with oldest-first eviction its entry would have gone at once and it
 * would count from 1 again. */
Test(hosts, victim_survives_a_spoofed_flood) {
    struct host_config c = config_small(8);
    struct hosts *h = hosts_new(&c);
    cr_assert(h);
    struct addr victim = addr4(1);
    uint32_t n = 0;
    for (int64_t i = 0; i < 4; i++)
        syn(h, &victim, i * MS, &n);
    cr_expect_eq(n, 4);
    for (uint32_t i = 0; i < 10000; i++) {
        struct addr src = addr4(100 + i);
        failed(h, &src, &victim, 80, 5 * MS, &n);
        cr_expect_eq(n, 1);
    }
    cr_expect_not(syn(h, &victim, 6 * MS, &n));
    cr_expect_eq(n, 5, "the victim kept its 4 half-open connections");
    cr_expect(syn(h, &victim, 7 * MS, &n));
    hosts_free(h);
}

/* ---- folding ------------------------------------------------------------------------------- */

/* The aggregates handed out, in order (the host copied: it points into the table). */
struct folds {
    unsigned n;
    struct host_fold f[8];
    struct addr host[8];
};

static void fold_seen(void *ctx, const struct host_fold *f) {
    struct folds *fs = ctx;
    cr_assert_lt(fs->n, 8u, "more aggregates than any test expects");
    fs->f[fs->n] = *f;
    memcpy(fs->host[fs->n].b, f->host, 4);
    fs->n++;
}

/* A connection with `events` events of kind bit `kind` at t, folded against dst if its window
 * folds (right after it was counted, as host_detect does). */
static bool syn_fold(struct hosts *h, const struct addr *dst, int64_t t, uint32_t events,
                     unsigned kind) {
    syn(h, dst, t, NULL);
    struct host_fold_in in = {1ull << kind, events, t + 30 * SEC, (uint64_t)t};
    return hosts_fold(h, HOST_SYN_FLOOD, dst->b, 4, t, &in);
}

/* A table of `capacity` hosts (config_small) that folds into fs, with a linger of 31 s. */
static struct hosts *folding_hosts(uint32_t capacity, struct folds *fs) {
    struct host_config c = config_small(capacity);
    struct hosts *h = hosts_new(&c);
    cr_assert(h);
    memset(fs, 0, sizeof *fs);
    hosts_on_fold_end(h, fold_seen, fs, 31 * SEC);
    return h;
}

/* n connections to dst at 0, 1, 2 ... ms, each with one event of kind 0: the 6th fires. */
static void syn_folds(struct hosts *h, const struct addr *dst, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        syn_fold(h, dst, i * MS, 1, 0);
}

/* Threshold 5: the 5 connections before the alert keep their events; from the 6th (the one that
 * fires) on they fold, whatever their kinds. A new window at 10 s ends the first window's
 * aggregate — 3 connections (6th, 7th, 8th), 1 + 2 + 1 events, kinds 0 and 3, first and last
 * event times those of the 6th and 8th — and folds from its start (it follows straight on a
 * window whose alert fired), until hosts_close_all ends its aggregate of 2 connections. */
Test(hosts, fold_after_the_alert_one_aggregate_per_window) {
    struct folds fs;
    struct hosts *h = folding_hosts(64, &fs);
    struct addr dst = addr4(1);
    for (int64_t i = 0; i < 5; i++)
        cr_expect_not(syn_fold(h, &dst, i * MS, 1, 0), "connection %lld: no alert yet", i);
    cr_expect(syn_fold(h, &dst, 5 * MS, 1, 0), "the connection that fires folds");
    cr_expect(syn_fold(h, &dst, 6 * MS, 2, 3));
    cr_expect(syn_fold(h, &dst, 7 * MS, 1, 0));
    cr_expect_eq(fs.n, 0, "nothing handed out while the window lasts");
    cr_expect(syn_fold(h, &dst, 10 * SEC, 1, 0), "a window right after a fired one folds at once");
    cr_assert_eq(fs.n, 1);
    cr_expect_eq(fs.f[0].alarm, HOST_SYN_FLOOD);
    cr_expect_eq(memcmp(fs.host[0].b, dst.b, 4), 0);
    cr_expect_eq(fs.f[0].ip_version, 4);
    cr_expect_eq(fs.f[0].conns, 3);
    cr_expect_eq(fs.f[0].events, 4);
    cr_expect_eq(fs.f[0].kinds, (1ull << 0) | (1ull << 3));
    cr_expect_eq(fs.f[0].first_ns, 5 * MS + 30 * SEC);
    cr_expect_eq(fs.f[0].last_ns, 7 * MS + 30 * SEC);
    cr_expect_eq(fs.f[0].last_frame, 7 * MS);
    cr_expect_eq(fs.f[0].count, 8, "the window counted 8 half-open connections");
    cr_expect_eq(fs.f[0].window_start_ns, 0);
    cr_expect_eq(fs.f[0].window_ns, 10 * SEC);
    cr_expect(syn_fold(h, &dst, 11 * SEC, 1, 0));
    hosts_close_all(h);
    cr_assert_eq(fs.n, 2);
    cr_expect_eq(fs.f[1].conns, 2);
    cr_expect_eq(fs.f[1].count, 2, "below the threshold, and still folded");
    cr_expect_eq(fs.f[1].window_start_ns, 10 * SEC);
    hosts_close_all(h);
    cr_expect_eq(fs.n, 2, "each aggregate is handed out once");
    hosts_free(h);
}

/* A window that starts a full window length after a fired one ended (at 25 s, the fired one
 * being [0, 10 s)) is a new episode: it folds nothing until its own alert. */
Test(hosts, fold_stops_after_a_quiet_window) {
    struct folds fs;
    struct hosts *h = folding_hosts(64, &fs);
    struct addr dst = addr4(1);
    syn_folds(h, &dst, 6);
    cr_expect_not(syn_fold(h, &dst, 25 * SEC, 1, 0));
    cr_expect_eq(fs.n, 1, "the first window's aggregate ended with it");
    hosts_free(h);
}

/* An aggregate ends by time linger after its window: window [0, 10 s) with a linger of 31 s
 * ends at 41 s, not a nanosecond before; a connection of that window reported after that is not
 * folded (one aggregate per window), and without hosts_on_fold_end nothing folds at all. */
Test(hosts, fold_ends_by_time_then_refuses) {
    struct folds fs;
    struct hosts *h = folding_hosts(64, &fs);
    struct addr dst = addr4(1);
    syn_folds(h, &dst, 7);
    hosts_close_ended(h, 41 * SEC - 1);
    cr_expect_eq(fs.n, 0);
    hosts_close_ended(h, 41 * SEC);
    cr_assert_eq(fs.n, 1);
    cr_expect_eq(fs.f[0].conns, 2);
    cr_expect_not(syn_fold(h, &dst, 8 * MS, 1, 0), "its aggregate has ended");
    hosts_close_all(h);
    cr_expect_eq(fs.n, 1);
    hosts_free(h);

    struct host_config c = config_small(64);
    h = hosts_new(&c);
    for (int64_t i = 0; i < 7; i++)
        cr_expect_not(syn_fold(h, &dst, i * MS, 1, 0), "folding is off");
    hosts_free(h);
}

/* A host's entry reused for another host hands out its aggregate first. Capacity 1: host A's
 * window [0, 10 s) has ended by 20 s, when host B takes the only entry. */
Test(hosts, fold_ends_when_the_entry_is_reused) {
    struct folds fs;
    struct hosts *h = folding_hosts(1, &fs);
    struct addr a = addr4(1), b = addr4(2);
    syn_folds(h, &a, 7);
    syn(h, &b, 20 * SEC, NULL);
    cr_assert_eq(fs.n, 1);
    cr_expect_eq(memcmp(fs.host[0].b, a.b, 4), 0, "the aggregate names host A");
    cr_expect_eq(fs.f[0].conns, 2);
    hosts_close_all(h);
    cr_expect_eq(fs.n, 1);
    hosts_free(h);
}

/* port_scan folds the same way, against the scanning source. */
Test(hosts, fold_port_scan) {
    struct folds fs;
    struct hosts *h = folding_hosts(64, &fs);
    struct addr src = addr4(1), dst = addr4(2);
    struct host_fold_in in = {1, 1, 0, 0};
    for (uint16_t p = 1; p <= 7; p++) {
        failed(h, &src, &dst, p, p * MS, NULL);
        bool folded = hosts_fold(h, HOST_PORT_SCAN, src.b, 4, p * MS, &in);
        cr_expect_eq(folded, p >= 6, "port %u", p);
    }
    hosts_close_all(h);
    cr_assert_eq(fs.n, 1);
    cr_expect_eq(fs.f[0].alarm, HOST_PORT_SCAN);
    cr_expect_eq(fs.f[0].conns, 2);
    cr_expect_eq(fs.f[0].window_ns, 60 * SEC);
    hosts_free(h);
}
