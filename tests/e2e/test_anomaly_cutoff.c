/* End-to-end tests of issue 13 §3, what is unanswered when the input — or the sender's own RST —
 * cuts the exchange off: a SYN flood that ends with the capture still raises syn_flood (the
 * answer grace protects one connection's record, not the host-level count); data or a FIN sent
 * more than the grace before its sender's own RST is still unacknowledged (only the peer's RST or
 * ACK settles it); and what the sender already retransmitted gets no grace. Each rule with a
 * trigger and a near miss. Conventions and helpers: anomaly_helpers.h. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "anomaly_helpers.h"
#include "pktbuild.h"
#include "run.h"
#include "session.h"

/* ==== syn_flood at the end of the input ======================================================= */

/* n SYNs 1 ms apart, each from a source of its own (10.0.k.j:40000), to 10.0.0.2:80, nothing
 * answered; the input ends with the last of them. */
static void write_flood(struct cap *c, int n) {
    c->clock.step_ns = 1000000;
    for (int i = 0; i < n; i++) {
        struct session s;
        const uint8_t src[4] = {10, 0, (uint8_t)(1 + i / 250), (uint8_t)(1 + i % 250)};
        conn_init_hosts(&s, c, src, 40000, host_server, 80, CISN + (uint32_t)i, SISN);
        put(c, session_syn(&s));
    }
}

/* 250 unanswered SYNs within 250 ms, and the capture stops: every SYN is within the 1 s answer
 * grace of the input's end, so no connection is blamed (no syn_unanswered record) — but they are
 * 250 half-open attempts on 10.0.0.2 within the 10 s window, and the flush reports them in the
 * order they started: the 201st goes above the threshold of 200, so syn_flood fires once, for
 * dest_ip 10.0.0.2, count 201, window 10 s, at that connection's last (only) frame, 201, with the
 * capture time of the end, the last SYN's. (Before issue 13 such a flood passed unseen.) */
Test(cutoff, syn_flood_that_ends_with_the_capture) {
    struct cap c;
    cap_open(&c, "flood-cut-short.pcap");
    write_flood(&c, 250);
    int64_t last = (int64_t)c.clock.now_ns - (int64_t)c.clock.step_ns;
    cap_close(&c);
    struct tally t;
    tally_run(&t, &c, NULL);
    cr_expect_eq(t.conns, 250);
    cr_assert(t.host_anomaly, "no host-level anomaly");
    expect_str(t.host_anomaly, "name", "syn_flood");
    expect_str(t.host_anomaly, "dest_ip", "10.0.0.2");
    expect_int(t.host_anomaly, "count", 201);
    expect_int(t.host_anomaly, "frame", 201);
    expect_time(t.host_anomaly, "ts", last);
    expect_int(t.summary, "anomalies.syn_flood", 1);
    cr_expect_null(json_at(t.summary, "anomalies.syn_unanswered"), "each SYN is within the grace");
    tally_free(&t);
}

/* Near miss: 200 such SYNs — as many as the threshold, not more: no syn_flood, and still no
 * syn_unanswered. */
Test(cutoff, near_miss_flood_at_the_threshold) {
    struct cap c;
    cap_open(&c, "flood-at-threshold.pcap");
    write_flood(&c, 200);
    cap_close(&c);
    struct tally t;
    tally_run(&t, &c, NULL);
    cr_expect_eq(t.conns, 200);
    cr_expect_null(t.host_anomaly, "a host-level anomaly: %s",
                   t.host_anomaly ? json_object_to_json_string(t.host_anomaly) : "");
    cr_expect_eq(json_object_object_length(json_at(t.summary, "anomalies")), 0);
    tally_free(&t);
}

/* ==== data_unacked / fin_unacked and the sender's own RST ==================================== */

/* 1..3 handshake, 4 the client's 100 bytes (or, with fin, its FIN) at 30 ms, then at `gap` after
 * it frame 5: a RST|ACK from `rst_from` at its next sequence number (acceptable: the connection
 * ends by RST). The server acknowledges only the client's SYN (its SYN/ACK): nothing settles
 * frame 4 but a RST of the server's own. Returns frame 5. */
static struct mark rst_after(struct cap *c, bool fin, int64_t gap, enum session_side rst_from) {
    struct session s;
    conn_init(&s, c, 40000, CISN, SISN);
    handshake(c, &s);
    struct mark m4 = fin ? put(c, session_segment(&s, SESSION_CLIENT, PB_FIN | PB_ACK, 0))
                         : put(c, session_data(&s, SESSION_CLIENT, 100));
    cap_at(c, m4.ts + gap);
    return put(c, session_rst(&s, rst_from));
}

/* The client's own RST 5 s after its 100 bytes says nothing about whether they arrived; the
 * server never acknowledged them, and they were sent 4 s before the grace that precedes the
 * RST: data_unacked, originator, judged as the connection ends at frame 5 (its time and frame). */
Test(cutoff, data_unacked_before_own_rst) {
    struct cap c;
    cap_open(&c, "data-then-own-rst.pcap");
    struct mark m5 = rst_after(&c, false, 5 * SEC, SESSION_CLIENT);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    const struct want w[] = {{.name = "data_unacked", .dir = "orig", .at = m5, .conn = 1}};
    expect_anomalies(&r, w, 1);
    expect_str(r.conn[0], "close.how", "rst");
    run_free(&r);
}

/* Writes rst_after's capture to name and expects nothing judged: no anomaly at all. */
static void expect_settled_by_rst(const char *name, bool fin, int64_t gap,
                                  enum session_side rst_from) {
    struct cap c;
    cap_open(&c, name);
    rst_after(&c, fin, gap, rst_from);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_no_anomalies(&r);
    run_free(&r);
}

/* Near miss: the client resets 500 ms after its data, within the 1 s grace before its RST — the
 * ACK may have been on its way: not judged, no anomaly at all. */
Test(cutoff, near_miss_own_rst_within_grace) {
    expect_settled_by_rst("data-then-quick-rst.pcap", false, SEC / 2, SESSION_CLIENT);
}

/* Near miss: the server's RST, 5 s after the client's data: the peer settled it (it dropped the
 * connection and whatever it had): no data_unacked. */
Test(cutoff, near_miss_peer_rst_settles) {
    expect_settled_by_rst("data-then-peer-rst.pcap", false, 5 * SEC, SESSION_SERVER);
}

/* The FIN's near misses, the same two: the client's own RST 500 ms after its FIN (within the
 * grace before the RST: the ACK may have been on its way), and the server's RST 5 s after it
 * (the peer settled it). Neither is fin_unacked; nothing else is wrong: no anomaly at all. */
Test(cutoff, near_miss_fin_then_own_rst_within_grace) {
    expect_settled_by_rst("fin-then-quick-rst.pcap", true, SEC / 2, SESSION_CLIENT);
}

Test(cutoff, near_miss_fin_then_peer_rst_settles) {
    expect_settled_by_rst("fin-then-peer-rst.pcap", true, 5 * SEC, SESSION_SERVER);
}

/* The same for a FIN: the client's FIN at frame 4, never acknowledged, its own RST 5 s later:
 * fin_unacked, originator, at frame 5. */
Test(cutoff, fin_unacked_before_own_rst) {
    struct cap c;
    cap_open(&c, "fin-then-own-rst.pcap");
    struct mark m5 = rst_after(&c, true, 5 * SEC, SESSION_CLIENT);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    const struct want w[] = {{.name = "fin_unacked", .dir = "orig", .at = m5, .conn = 1}};
    expect_anomalies(&r, w, 1);
    run_free(&r);
}

/* ==== a retransmission lifts the grace ======================================================= */

/* 1..3 handshake, 4 the client's 100 bytes (or its FIN) at 30 ms, 5 at 330 ms: the same segment
 * again (resend) or a pure ACK from the client (no resend). The input ends there, 300 ms after
 * frame 4 — within the answer grace. Returns frame 5. */
static struct mark cut_after(struct cap *c, bool fin, bool resend) {
    struct session s;
    conn_init(&s, c, 40000, CISN, SISN);
    handshake(c, &s);
    uint32_t seq = s.snd_nxt[SESSION_CLIENT];
    uint8_t flags = fin ? PB_FIN | PB_ACK : PB_PSH | PB_ACK;
    size_t len = fin ? 0 : 100;
    struct mark m4 = put(c, session_segment(&s, SESSION_CLIENT, flags, len));
    cap_at(c, m4.ts + 300 * SEC / 1000);
    if (resend)
        return put(c, session_write_segment(&s, SESSION_CLIENT, flags, seq,
                                            s.snd_nxt[SESSION_SERVER], len));
    return put(c, session_ack(&s, SESSION_CLIENT));
}

/* Frame 5 sends the client's 100 bytes again (retransmission, orig, frame 5): its own timer says
 * the server's ACK is overdue, so the grace at the end of the input no longer protects them:
 * data_unacked, originator, at frame 5, time of the end (frame 5). */
Test(cutoff, resent_data_gets_no_grace) {
    struct cap c;
    cap_open(&c, "resent-data-cut.pcap");
    struct mark m5 = cut_after(&c, false, true);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    const struct want w[] = {{.name = "data_unacked", .dir = "orig", .at = m5, .conn = 1},
                             {.name = "retransmission", .dir = "orig", .at = m5, .conn = 1}};
    expect_anomalies(&r, w, 2);
    run_free(&r);
}

/* Near miss: the same data sent once (frame 5 a pure ACK): within the grace, not judged. */
Test(cutoff, near_miss_data_sent_once_within_grace) {
    struct cap c;
    cap_open(&c, "data-once-cut.pcap");
    cut_after(&c, false, false);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_no_anomalies(&r);
    run_free(&r);
}

/* A FIN sent again (frame 5: retransmission) is judged too: fin_unacked, originator, frame 5. */
Test(cutoff, resent_fin_gets_no_grace) {
    struct cap c;
    cap_open(&c, "resent-fin-cut.pcap");
    struct mark m5 = cut_after(&c, true, true);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    const struct want w[] = {{.name = "fin_unacked", .dir = "orig", .at = m5, .conn = 1},
                             {.name = "retransmission", .dir = "orig", .at = m5, .conn = 1}};
    expect_anomalies(&r, w, 2);
    run_free(&r);
}

/* Near miss: the FIN sent once, within the grace: nothing. */
Test(cutoff, near_miss_fin_sent_once_within_grace) {
    struct cap c;
    cap_open(&c, "fin-once-cut.pcap");
    cut_after(&c, true, false);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_no_anomalies(&r);
    run_free(&r);
}
