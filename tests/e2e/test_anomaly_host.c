/* End-to-end tests of the anomaly catalog (issue 4), host level: anomalies counted across the
 * connections of one host (syn_flood, port_scan), each with captures that trigger it and near
 * misses that must not. Conventions and helpers: anomaly_helpers.h. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anomaly_helpers.h"
#include "capwrite.h"
#include "pktbuild.h"
#include "run.h"
#include "session.h"

/* ==== host level ============================================================================== */

static const char *const opt_flood3[] = {"--syn-flood-threshold", "3", "--syn-flood-window", "10",
                                         NULL};

/* A SYN from 10.0.1.k:40000 to 10.0.0.2:80 (a client of its own per k, so no one source scans). */
static struct mark flood_syn(struct cap *c, struct session *s, uint8_t k) {
    const uint8_t src[4] = {10, 0, 1, k};
    conn_init_hosts(s, c, src, 40000, host_server, 80, CISN + k, SISN + k);
    return put(c, session_syn(s));
}

/* Writes the capture of the tests below (frames 1..5 the flood's SYNs, marks m; frame 6 `late`)
 * as name and runs shakedown on it with opts. */
static void five_unanswered_syns(struct run *r, const char *name, const char *const *opts,
                                 struct mark m[5], struct mark *late) {
    struct cap c;
    struct session s[6];
    cap_open(&c, name);
    for (uint8_t k = 0; k < 5; k++)
        m[k] = flood_syn(&c, &s[k], (uint8_t)(k + 1));
    cap_at(&c, m[4].ts + 2 * SEC);
    const uint8_t other_src[4] = {10, 0, 9, 9}, other_dst[4] = {10, 0, 0, 9};
    conn_init_hosts(&s[5], &c, other_src, 40000, other_dst, 80, CISN, SISN);
    *late = put(&c, session_syn(&s[5]));
    cap_close(&c);
    run_cap(r, &c, opts);
}

/* Threshold 3 in 10 s, handshake timeout 1 s: 1..5 five SYNs 10 ms apart to 10.0.0.2, none
 * answered; 6 a SYN from 10.0.9.9 to another server 2 s later moves capture time past the
 * handshake timeout, so the five expire half-open: syn_unanswered for each (originator, at the
 * time of frame 6, naming its own SYN's frame), and as the 4th of them is counted — 4 half-open
 * connections attempted within 10 s, more than 3 — syn_flood for dest_ip 10.0.0.2, count 4,
 * window 10 s, once; the 5th does not fire again. From the alert on, the events of the
 * connections it covers are folded (issue 18): the 4th's and 5th's syn_unanswered are counted
 * and listed on their records but written as one aggregate syn_flood record instead — 2 events
 * of 2 connections, both raised at frame 6's time; it ends with the input (the window lasts
 * 10 s), so it is written at the end, at frame 6's time, naming the last folded packet (frame
 * 5), with the window's final count of 5. The 6th SYN is within the answer grace when the input
 * ends: not judged. */
Test(syn_flood, trigger_unanswered_syns_over_threshold) {
    static const char *const opts[] = {
        "--syn-flood-threshold", "3", "--syn-flood-window", "10", "--handshake-timeout", "1", NULL};
    struct mark m[5], late;
    struct run r;
    five_unanswered_syns(&r, "syn-flood.pcap", opts, m, &late);
    cr_assert_eq(r.nconn, 6);
    struct want w[7];
    for (int k = 0; k < 5; k++)
        w[k] = (struct want){.name = "syn_unanswered",
                             .dir = "orig",
                             .at = {m[k].frame, late.ts},
                             .conn = m[k].frame,
                             .folded = k >= 3};
    w[5] = (struct want){.name = "syn_flood",
                         .at = {m[3].frame, late.ts},
                         .host = "10.0.0.2",
                         .host_count = 4,
                         .window_s = 10};
    w[6] = (struct want){.name = "syn_flood",
                         .at = {m[4].frame, late.ts},
                         .host = "10.0.0.2",
                         .host_count = 5,
                         .window_s = 10,
                         .folded_events = 2,
                         .folded_conns = 2,
                         .folded_first_ts = late.ts,
                         .folded_last_ts = late.ts};
    expect_anomalies(&r, w, 7);
    run_free(&r);
}

/* The same flood in the text format: the summary says how many events were folded, into how
 * many aggregate lines (2 events, the 4th's and 5th's, into 1), and the aggregate has a line of
 * its own naming the host and the count. */
Test(syn_flood, text_summary_says_what_was_folded) {
    static const char *const opts[] = {
        "--syn-flood-threshold", "3", "--syn-flood-window", "10", "--handshake-timeout", "1", NULL};
    struct mark m[5], late;
    struct run r;
    five_unanswered_syns(&r, "syn-flood-text.pcap", opts, m, &late);
    run_free(&r);
    char path[512];
    snprintf(path, sizeof path, "%s", tmp_path("syn-flood-text.pcap"));
    const char *args[] = {"-F",    "text",  "-r",    path,    opts[0], opts[1],
                          opts[2], opts[3], opts[4], opts[5], NULL};
    struct run_result t = run_shakedown(NULL, args);
    cr_assert_eq(t.status, 0, "%s", t.err);
    cr_expect(strstr(t.out, "(2 events of hosts under syn_flood/port_scan folded into 1 aggregate "
                            "line; --no-fold writes each)"),
              "%s", t.out);
    cr_expect(strstr(t.out, "10.0.0.2: 2 events (syn_unanswered) of 2 connections to this host"),
              "%s", t.out);
    run_result_free(&t);
}

/* The same flood with folding turned off (--no-fold): every connection's event is written, and
 * there is no aggregate. */
Test(syn_flood, no_fold_writes_every_event) {
    static const char *const opts[] = {"--syn-flood-threshold", "3", "--syn-flood-window", "10",
                                       "--handshake-timeout",   "1", "--no-fold",          NULL};
    struct mark m[5], late;
    struct run r;
    five_unanswered_syns(&r, "syn-flood-nofold.pcap", opts, m, &late);
    struct want w[6];
    for (int k = 0; k < 5; k++)
        w[k] = (struct want){.name = "syn_unanswered",
                             .dir = "orig",
                             .at = {m[k].frame, late.ts},
                             .conn = m[k].frame};
    w[5] = (struct want){.name = "syn_flood",
                         .at = {m[3].frame, late.ts},
                         .host = "10.0.0.2",
                         .host_count = 4,
                         .window_s = 10};
    expect_anomalies(&r, w, 6);
    run_free(&r);
}

/* Near miss: the same number of SYNs (4), but answered: 1..3 SYNs a, b, c (3 half-open, not more
 * than 3), 4 SYN/ACK a, 5 ACK a (a's handshake completes: 2 half-open), 6 SYN d (3 again),
 * 7..12 b, c, d complete. Never more than 3: nothing at all. */
Test(syn_flood, near_miss_answered_syns) {
    struct cap c;
    struct session s[4];
    cap_open(&c, "syn-answered.pcap");
    for (uint8_t k = 0; k < 3; k++)
        flood_syn(&c, &s[k], (uint8_t)(k + 1));
    put(&c, session_syn_ack(&s[0]));
    put(&c, session_ack(&s[0], SESSION_CLIENT));
    flood_syn(&c, &s[3], 4);
    for (int k = 1; k < 4; k++) {
        put(&c, session_syn_ack(&s[k]));
        put(&c, session_ack(&s[k], SESSION_CLIENT));
    }
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, opt_flood3);
    cr_assert_eq(r.nconn, 4);
    expect_not(&r, "syn_flood");
    expect_no_anomalies(&r);
    run_free(&r);
}

/* Near miss: 4 unanswered SYNs, but 4 s apart (0, 4, 8, 12 s): the window that starts at the
 * first holds three; the fourth comes at 12 s ≥ 10 s and starts a new window: no syn_flood.
 * At the end of the input (12 s) the first three SYNs are past the grace: syn_unanswered for
 * each (frames 1..3, at 12 s); the fourth is the last packet, not judged. */
Test(syn_flood, near_miss_syns_spread_beyond_window) {
    struct cap c;
    struct session s[4];
    struct mark m[4];
    cap_open(&c, "syn-spread.pcap");
    for (uint8_t k = 0; k < 4; k++) {
        cap_at(&c, T0 + k * 4 * SEC);
        m[k] = flood_syn(&c, &s[k], (uint8_t)(k + 1));
    }
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, opt_flood3);
    expect_not(&r, "syn_flood");
    int64_t end = m[3].ts;
    struct want w[] = {
        {.name = "syn_unanswered", .dir = "orig", .at = {1, end}, .conn = 1},
        {.name = "syn_unanswered", .dir = "orig", .at = {2, end}, .conn = 2},
        {.name = "syn_unanswered", .dir = "orig", .at = {3, end}, .conn = 3},
    };
    expect_anomalies(&r, w, 3);
    run_free(&r);
}

/* Near miss: answered attempts that complete by a simultaneous open. Threshold 1 in 10 s; two
 * connections to 10.0.0.2:80 (from 10.0.1.1 and 10.0.1.2, one after the other), each RFC 9293
 * figure 8: client SYN, server SYN, client SYN/ACK, server SYN/ACK — both sides' SYNs
 * acknowledged, the handshake complete — then 100 bytes, ACK and the FIN|ACK shortcut close.
 * The first attempt is answered before the second starts, so never more than 1 half-open
 * connection: no syn_flood. (Each shows simultaneous_open; this test only states the flood.) */
Test(syn_flood, near_miss_answered_by_simultaneous_open) {
    static const char *const opts[] = {"--syn-flood-threshold", "1", NULL};
    struct cap c;
    cap_open(&c, "simultaneous-opens.pcap");
    for (uint8_t k = 1; k <= 2; k++) {
        struct session s;
        const uint8_t src[4] = {10, 0, 1, k};
        conn_init_hosts(&s, &c, src, 40000, host_server, 80, CISN, SISN);
        put(&c, session_syn(&s));
        put(&c, session_write_segment(&s, SESSION_SERVER, PB_SYN, SISN, 0, 0));
        s.snd_nxt[SESSION_SERVER] = SISN + 1;
        put(&c, session_write_segment(&s, SESSION_CLIENT, PB_SYN | PB_ACK, CISN, SISN + 1, 0));
        put(&c, session_write_segment(&s, SESSION_SERVER, PB_SYN | PB_ACK, SISN, CISN + 1, 0));
        put(&c, session_data(&s, SESSION_CLIENT, 100));
        put(&c, session_ack(&s, SESSION_SERVER));
        put(&c, session_segment(&s, SESSION_CLIENT, PB_FIN | PB_ACK, 0));
        put(&c, session_segment(&s, SESSION_SERVER, PB_FIN | PB_ACK, 0));
        put(&c, session_ack(&s, SESSION_CLIENT));
    }
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, opts);
    cr_assert_eq(r.nconn, 2);
    expect_not(&r, "syn_flood");
    run_free(&r);
}

static const char *const opt_scan3[] = {"--port-scan-threshold", "3", NULL};

/* A refused attempt: SYN from 10.0.0.1:sport to 10.0.0.2:dport, answered by RST|ACK (ack =
 * CISN + 1: a closed port). Returns the RST (the connection's last packet). */
static struct mark refused(struct cap *c, uint16_t sport, uint16_t dport) {
    struct session s;
    conn_init_hosts(&s, c, host_client, sport, host_server, dport, CISN + sport, 0);
    put(c, session_syn(&s));
    return put(c, session_rst(&s, SESSION_SERVER));
}

/* Threshold 3: five refused attempts from 10.0.0.1 to ports 1001..1005 (SYN at frame 2k − 1, RST
 * at 2k). Each ends at its RST (REJ) and counts as a failed target; the 4th distinct one (RST at
 * frame 8) is more than 3: port_scan for src_ip 10.0.0.1, count 4, window 60 s (the default),
 * once. The connections themselves raise nothing. */
Test(port_scan, trigger_refused_ports_over_threshold) {
    struct cap c;
    struct mark rst[5];
    cap_open(&c, "scan.pcap");
    for (uint16_t k = 0; k < 5; k++)
        rst[k] = refused(&c, (uint16_t)(40001 + k), (uint16_t)(1001 + k));
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, opt_scan3);
    cr_assert_eq(r.nconn, 5);
    struct want w[] = {
        {.name = "port_scan", .at = rst[3], .host = "10.0.0.1", .host_count = 4, .window_s = 60}};
    expect_anomalies(&r, w, 1);
    run_free(&r);
}

/* Near miss: three refused ports (1001..1003): not more than 3: nothing. */
Test(port_scan, near_miss_threshold_ports) {
    struct cap c;
    cap_open(&c, "scan-3.pcap");
    for (uint16_t k = 0; k < 3; k++)
        refused(&c, (uint16_t)(40001 + k), (uint16_t)(1001 + k));
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, opt_scan3);
    expect_not(&r, "port_scan");
    expect_no_anomalies(&r);
    run_free(&r);
}

/* Near miss: four refused attempts, but to ports 1001, 1002, 1003 and 1002 again (a retry from
 * a new source port): three distinct targets: nothing. */
Test(port_scan, near_miss_retry_counts_once) {
    static const uint16_t ports[] = {1001, 1002, 1003, 1002};
    struct cap c;
    cap_open(&c, "scan-retry.pcap");
    for (uint16_t k = 0; k < 4; k++)
        refused(&c, (uint16_t)(40001 + k), ports[k]);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, opt_scan3);
    cr_assert_eq(r.nconn, 4);
    expect_not(&r, "port_scan");
    expect_no_anomalies(&r);
    run_free(&r);
}

/* Unanswered attempts count too: 1..4 SYNs from 10.0.0.1 to ports 1001..1004, never answered;
 * the filler 5 s later (to 10.0.0.3, successful). At the end of the input the four are reported
 * in the order they started, each judged syn_unanswered (frame k, at the last packet); the 4th
 * failed target goes above 3: port_scan, src_ip 10.0.0.1, count 4, frame 4 (that connection's
 * last packet), at the end. The 4th connection is covered by the alert it fired: its event is
 * folded into the scan's aggregate (1 event of 1 connection), written at the end too. */
Test(port_scan, trigger_unanswered_ports_over_threshold) {
    struct cap c;
    cap_open(&c, "scan-unanswered.pcap");
    struct mark m[4];
    for (uint16_t k = 0; k < 4; k++) {
        struct session s;
        conn_init_hosts(&s, &c, host_client, (uint16_t)(40001 + k), host_server,
                        (uint16_t)(1001 + k), CISN + k, 0);
        m[k] = put(&c, session_syn(&s));
    }
    struct span f = filler(&c, 40010, m[3].ts + 5 * SEC);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, opt_scan3);
    int64_t end = f.last.ts;
    struct want w[] = {
        {.name = "syn_unanswered", .dir = "orig", .at = {1, end}, .conn = 1},
        {.name = "syn_unanswered", .dir = "orig", .at = {2, end}, .conn = 2},
        {.name = "syn_unanswered", .dir = "orig", .at = {3, end}, .conn = 3},
        {.name = "syn_unanswered", .dir = "orig", .at = {4, end}, .conn = 4, .folded = true},
        {.name = "port_scan", .at = {4, end}, .host = "10.0.0.1", .host_count = 4, .window_s = 60},
        {.name = "port_scan",
         .at = {4, end},
         .host = "10.0.0.1",
         .host_count = 4,
         .window_s = 60,
         .folded_events = 1,
         .folded_conns = 1,
         .folded_first_ts = end,
         .folded_last_ts = end},
    };
    expect_anomalies(&r, w, 6);
    run_free(&r);
}
