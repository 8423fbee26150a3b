/* End-to-end tests of the anomaly catalog (issue 4), ending a connection: data and FINs never
 * acknowledged (data_unacked, fin_unacked), segments after a FIN (data_after_fin,
 * late_segment_after_fin), packets after the close or a reset (packet_during_time_wait,
 * packet_after_time_wait, data_after_rst), and a new connection on the ports of a closed one
 * (port_reuse). For each, a capture that triggers it and a near-miss twin that must not.
 * Conventions and helpers: anomaly_helpers.h. */
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

/* ==== acknowledgement at the end ============================================================== */

/* 1..3 handshake, 4 client 100 bytes, never acknowledged (the server has acknowledged before: it
 * is known to ACK); filler 5 s later. At the end of the input the data is 5 s old, past the
 * grace: data_unacked, originator, frame 4. */
Test(data_unacked, trigger_data_never_acknowledged) {
    struct cap c;
    struct session s;
    cap_open(&c, "data-unacked.pcap");
    conn_init(&s, &c, 51080, CISN, SISN);
    handshake(&c, &s);
    struct mark d = put(&c, session_data(&s, SESSION_CLIENT, 100));
    struct span f = filler(&c, 51081, d.ts + 5 * SEC);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {
        {.name = "data_unacked", .dir = "orig", .at = {d.frame, f.last.ts}, .conn = 1}};
    expect_anomalies(&r, w, 1);
    run_free(&r);
}

/* Near miss: the same with 5 the server's ACK of the 100 bytes: nothing. */
Test(data_unacked, near_miss_data_acknowledged) {
    struct cap c;
    struct session s;
    cap_open(&c, "data-acked.pcap");
    conn_init(&s, &c, 51082, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    struct mark a = put(&c, session_ack(&s, SESSION_SERVER));
    filler(&c, 51083, a.ts + 5 * SEC);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_no_anomalies(&r);
    run_free(&r);
}

/* 1..3 handshake, 4 client 100 bytes never acknowledged, and a filler whose last packet is 2 s
 * after the data: the input ends 2 s after it. */
static const struct cap *write_data_then_quiet(void) {
    static struct cap c;
    struct session s;
    cap_open(&c, "data-quiet.pcap");
    conn_init(&s, &c, 51084, CISN, SISN);
    handshake(&c, &s);
    struct mark d = put(&c, session_data(&s, SESSION_CLIENT, 100));
    struct span f = filler(&c, 51085, d.ts + 2 * SEC - 10 * STEP);
    cr_assert_eq(f.last.ts, d.ts + 2 * SEC);
    cap_close(&c);
    return &c;
}

/* With --answer-grace 1 the data (2 s before the end) is judged: data_unacked at frame 4. */
Test(data_unacked, trigger_beyond_answer_grace) {
    const struct cap *c = write_data_then_quiet();
    const char *opts[] = {"--answer-grace", "1", NULL};
    struct run r;
    run_cap(&r, c, opts);
    struct want w[] = {
        {.name = "data_unacked", .dir = "orig", .at = {4, T0 + 3 * STEP + 2 * SEC}, .conn = 1}};
    expect_anomalies(&r, w, 1);
    run_free(&r);
}

/* Near miss: the very same capture with --answer-grace 3: the data is within the last 3 s of
 * the input, its ACK may just not have been captured: not judged, nothing. */
Test(data_unacked, near_miss_within_answer_grace) {
    const struct cap *c = write_data_then_quiet();
    const char *opts[] = {"--answer-grace", "3", NULL};
    struct run r;
    run_cap(&r, c, opts);
    expect_not(&r, "data_unacked");
    expect_no_anomalies(&r);
    run_free(&r);
}

/* Near miss: a one-sided capture (only the client's packets: asymmetric routing): 1 SYN, 2 ACK
 * of the SYN/ACK the capture never saw (ack = SISN + 1), 3 and 4 100 bytes each; filler 5 s
 * later. The server is never seen acknowledging anything, so its silence means nothing: no
 * data_unacked; and the client's ACK shows its SYN was answered: no syn_unanswered. */
Test(data_unacked, near_miss_one_sided_capture) {
    struct cap c;
    struct session s;
    cap_open(&c, "one-sided.pcap");
    conn_init(&s, &c, 51086, CISN, SISN);
    put(&c, session_syn(&s));
    s.snd_nxt[SESSION_SERVER] = SISN + 1; /* the unseen SYN/ACK */
    put(&c, session_ack(&s, SESSION_CLIENT));
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    struct mark d = put(&c, session_data(&s, SESSION_CLIENT, 100));
    filler(&c, 51087, d.ts + 5 * SEC);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_not(&r, "data_unacked");
    expect_no_anomalies(&r);
    run_free(&r);
}

/* 1..3 handshake, 4 data, 5 ACK, 6 the client's FIN|ACK, never acknowledged; filler 5 s later.
 * fin_unacked, originator, frame 6 (the data was acknowledged: no data_unacked). */
Test(fin_unacked, trigger_fin_never_acknowledged) {
    struct cap c;
    struct session s;
    cap_open(&c, "fin-unacked.pcap");
    conn_init(&s, &c, 51090, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_ack(&s, SESSION_SERVER));
    struct mark fin = put(&c, session_segment(&s, SESSION_CLIENT, PB_FIN | PB_ACK, 0));
    struct span f = filler(&c, 51091, fin.ts + 5 * SEC);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {
        {.name = "fin_unacked", .dir = "orig", .at = {fin.frame, f.last.ts}, .conn = 1}};
    expect_anomalies(&r, w, 1);
    run_free(&r);
}

/* Near miss: the same with 7 the server's ACK of the FIN (ack = FIN seq + 1); the server never
 * closes its own half (half-closed at the end, not an anomaly): nothing. */
Test(fin_unacked, near_miss_fin_acknowledged) {
    struct cap c;
    struct session s;
    cap_open(&c, "fin-acked.pcap");
    conn_init(&s, &c, 51092, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_ack(&s, SESSION_SERVER));
    put(&c, session_segment(&s, SESSION_CLIENT, PB_FIN | PB_ACK, 0));
    struct mark a = put(&c, session_ack(&s, SESSION_SERVER));
    filler(&c, 51093, a.ts + 5 * SEC);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_not(&r, "fin_unacked");
    expect_no_anomalies(&r);
    run_free(&r);
}

/* ==== after FIN =============================================================================== */

/* 1..3 handshake, 4 the client's FIN|ACK (seq CISN + 1), 5 then 10 bytes at CISN + 2 — past its
 * own FIN, sequence space that cannot exist; 6 the server ACKs it all (CISN + 12), 7 server
 * FIN|ACK, 8 client ACK. data_after_fin, originator, frame 5. */
Test(data_after_fin, trigger_data_past_own_fin) {
    struct cap c;
    struct session s;
    cap_open(&c, "data-after-fin.pcap");
    conn_init(&s, &c, 51100, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_segment(&s, SESSION_CLIENT, PB_FIN | PB_ACK, 0));
    struct mark d = put(&c, session_data(&s, SESSION_CLIENT, 10));
    cr_assert_eq(s.snd_nxt[SESSION_CLIENT], CISN + 12);
    put(&c, session_ack(&s, SESSION_SERVER));
    put(&c, session_segment(&s, SESSION_SERVER, PB_FIN | PB_ACK, 0));
    put(&c, session_ack(&s, SESSION_CLIENT));
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {{.name = "data_after_fin", .dir = "orig", .at = d, .conn = 1}};
    expect_anomalies(&r, w, 1);
    run_free(&r);
}

/* 1..3 handshake, 4 data, 5 ACK, 6 client FIN|ACK, 7 the same FIN again (same seq and ack),
 * 8 server ACK, 9 server FIN|ACK, 10 client ACK. */
static const struct cap *write_fin_retransmitted(void) {
    static struct cap c;
    struct session s;
    cap_open(&c, "fin-retx.pcap");
    conn_init(&s, &c, 51101, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_ack(&s, SESSION_SERVER));
    uint32_t fseq = s.snd_nxt[SESSION_CLIENT], ack = s.snd_nxt[SESSION_SERVER];
    put(&c, session_segment(&s, SESSION_CLIENT, PB_FIN | PB_ACK, 0));
    put(&c, session_write_segment(&s, SESSION_CLIENT, PB_FIN | PB_ACK, fseq, ack, 0));
    put(&c, session_ack(&s, SESSION_SERVER));
    put(&c, session_segment(&s, SESSION_SERVER, PB_FIN | PB_ACK, 0));
    put(&c, session_ack(&s, SESSION_CLIENT));
    cap_close(&c);
    return &c;
}

/* Near miss: a FIN sent again at the same position is a retransmission (originator, frame 7),
 * not data after the FIN. */
Test(data_after_fin, near_miss_fin_retransmitted) {
    const struct cap *c = write_fin_retransmitted();
    struct run r;
    run_cap(&r, c, NULL);
    expect_not(&r, "data_after_fin");
    struct want w[] = {
        {.name = "retransmission", .dir = "orig", .at = {7, T0 + 6 * STEP}, .conn = 1}};
    expect_anomalies(&r, w, 1);
    run_free(&r);
}

/* Near miss: 1..3 handshake, 4 client bytes 1..100, 5 client FIN|ACK (seq CISN + 101), 6 bytes
 * 1..100 again (the retransmission timer fired: no ACK came). The bytes were seen before the FIN:
 * this copy was sent again, not delayed on the path — a retransmission (originator, frame 6) and
 * not late_segment_after_fin, which is for bytes first seen after the FIN. 7 the server ACKs
 * everything, 8 server FIN|ACK, 9 client ACK. */
Test(late_segment_after_fin, near_miss_data_resent_after_fin) {
    struct cap c;
    struct session s;
    cap_open(&c, "late-after-fin.pcap");
    conn_init(&s, &c, 51110, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_segment(&s, SESSION_CLIENT, PB_FIN | PB_ACK, 0));
    struct mark late = put(
        &c, session_write_segment(&s, SESSION_CLIENT, PB_PSH | PB_ACK, CISN + 1, SISN + 1, 100));
    put(&c, session_ack(&s, SESSION_SERVER));
    put(&c, session_segment(&s, SESSION_SERVER, PB_FIN | PB_ACK, 0));
    put(&c, session_ack(&s, SESSION_CLIENT));
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_not(&r, "late_segment_after_fin");
    struct want w[] = {{.name = "retransmission", .dir = "orig", .at = late, .conn = 1}};
    expect_anomalies(&r, w, 1);
    run_free(&r);
}

/* The FIN overtook the data in the capture: 1..3 handshake, 4 client FIN|ACK at CISN + 101 —
 * bytes 1..100 not seen yet: segment_not_captured (frame 4) — 5 bytes 1..100 arrive: from before
 * the FIN (late_segment_after_fin) and filling the gap (out_of_order), both frame 5, not a
 * retransmission (never seen before). 6 server ACK, 7 server FIN|ACK, 8 client ACK. */
Test(late_segment_after_fin, trigger_data_reordered_behind_fin) {
    struct cap c;
    struct session s;
    cap_open(&c, "late-reordered.pcap");
    conn_init(&s, &c, 51111, CISN, SISN);
    handshake(&c, &s);
    struct mark fin = put(
        &c, session_write_segment(&s, SESSION_CLIENT, PB_FIN | PB_ACK, CISN + 101, SISN + 1, 0));
    struct mark late = put(
        &c, session_write_segment(&s, SESSION_CLIENT, PB_PSH | PB_ACK, CISN + 1, SISN + 1, 100));
    s.snd_nxt[SESSION_CLIENT] = CISN + 102;
    put(&c, session_ack(&s, SESSION_SERVER));
    put(&c, session_segment(&s, SESSION_SERVER, PB_FIN | PB_ACK, 0));
    put(&c, session_ack(&s, SESSION_CLIENT));
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    struct want w[] = {
        {.name = "segment_not_captured", .dir = "orig", .at = fin, .conn = 1},
        {.name = "late_segment_after_fin", .dir = "orig", .at = late, .conn = 1},
        {.name = "out_of_order", .dir = "orig", .at = late, .conn = 1},
    };
    expect_anomalies(&r, w, 3);
    run_free(&r);
}

/* Near miss: the same packets as the first trigger with the retransmission before the FIN
 * (4 data, 5 data again, 6 FIN, 7..9): a retransmission (frame 5), nothing late. */
Test(late_segment_after_fin, near_miss_retransmission_before_fin) {
    struct cap c;
    struct session s;
    cap_open(&c, "retx-before-fin.pcap");
    conn_init(&s, &c, 51112, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    struct mark re = put(
        &c, session_write_segment(&s, SESSION_CLIENT, PB_PSH | PB_ACK, CISN + 1, SISN + 1, 100));
    put(&c, session_segment(&s, SESSION_CLIENT, PB_FIN | PB_ACK, 0));
    put(&c, session_ack(&s, SESSION_SERVER));
    put(&c, session_segment(&s, SESSION_SERVER, PB_FIN | PB_ACK, 0));
    put(&c, session_ack(&s, SESSION_CLIENT));
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_not(&r, "late_segment_after_fin");
    struct want w[] = {{.name = "retransmission", .dir = "orig", .at = re, .conn = 1}};
    expect_anomalies(&r, w, 1);
    run_free(&r);
}

/* ==== after the close ========================================================================= */

/* The standard exchange on 51120 (1 SYN … 10 server FIN|ACK, 11 client ACK: closed by FIN at
 * frame 11), then 12 a late copy `delay` after the close: the server's FIN|ACK of frame 10 again,
 * or (data) its 200 bytes of frame 6 again. Run with --time-wait 10. Returns the late copy's mark
 * through *late. */
static const struct cap *write_late_copy(const char *name, int64_t delay, bool data,
                                         struct mark *late) {
    static struct cap c;
    struct session s;
    cap_open(&c, name);
    conn_init(&s, &c, 51120, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_ack(&s, SESSION_SERVER));
    uint32_t sd = s.snd_nxt[SESSION_SERVER], dack = s.snd_nxt[SESSION_CLIENT];
    put(&c, session_data(&s, SESSION_SERVER, 200));
    put(&c, session_ack(&s, SESSION_CLIENT));
    put(&c, session_segment(&s, SESSION_CLIENT, PB_FIN | PB_ACK, 0));
    put(&c, session_ack(&s, SESSION_SERVER));
    uint32_t sf = s.snd_nxt[SESSION_SERVER], ack = s.snd_nxt[SESSION_CLIENT];
    put(&c, session_segment(&s, SESSION_SERVER, PB_FIN | PB_ACK, 0));
    struct mark close = put(&c, session_ack(&s, SESSION_CLIENT));
    cap_at(&c, close.ts + delay);
    *late = data
                ? put(&c, session_write_segment(&s, SESSION_SERVER, PB_PSH | PB_ACK, sd, dack, 200))
                : put(&c, session_write_segment(&s, SESSION_SERVER, PB_FIN | PB_ACK, sf, ack, 0));
    cap_close(&c);
    return &c;
}

static const char *const opt_tw10[] = {"--time-wait", "10", NULL};

/* Near miss: the server's FIN|ACK again 1 s after the close, within TIME_WAIT — its last ACK was
 * lost on the way, so it resends the FIN: exactly what TIME_WAIT is for, counted as a late
 * packet but no anomaly. */
Test(packet_during_time_wait, near_miss_fin_resent_during_time_wait) {
    struct mark late;
    const struct cap *c = write_late_copy("late-fin-1s.pcap", SEC, false, &late);
    struct run r;
    run_cap(&r, c, opt_tw10);
    cr_assert_eq(r.nconn, 1);
    expect_anomalies(&r, NULL, 0);
    expect_int(r.summary, "connections.late_packets", 1);
    run_free(&r);
}

/* A copy of the server's data comes 1 s after the close, within the 10 s TIME_WAIT, inside the
 * closed connection's sequence space: a late packet of it — packet_during_time_wait, responder,
 * frame 12, naming the closed connection (uid of the record of frame 1). That record was written
 * at the close, before: its anomalies array stays empty; the summary counts the anomaly and the
 * late packet. */
Test(packet_during_time_wait, trigger_late_data_copy) {
    struct mark late;
    const struct cap *c = write_late_copy("late-data-1s.pcap", SEC, true, &late);
    struct run r;
    run_cap(&r, c, opt_tw10);
    cr_assert_eq(r.nconn, 1);
    struct want w[] = {{.name = "packet_during_time_wait",
                        .dir = "resp",
                        .at = late,
                        .conn = 1,
                        .after_record = true}};
    expect_anomalies(&r, w, 1);
    expect_int(r.summary, "connections.late_packets", 1);
    run_free(&r);
}

/* Near miss of packet_during_time_wait, trigger of packet_after_time_wait: the copy comes 15 s
 * after the close — TIME_WAIT (10 s) is over, but the closed connection is still remembered
 * (up to 2 × 10 s) to recognise exactly this: a packet of its sequence space after the endpoint
 * forgot it. packet_after_time_wait, responder, frame 12, naming the old connection (record of
 * frame 1, written before). The packet then starts a new connection picked up mid-stream
 * (record of frame 12: a lone FIN, nothing to judge), which raises nothing itself. */
Test(packet_after_time_wait, trigger_late_fin_after_time_wait) {
    struct mark late;
    const struct cap *c = write_late_copy("late-fin-15s.pcap", 15 * SEC, false, &late);
    struct run r;
    run_cap(&r, c, opt_tw10);
    cr_assert_eq(r.nconn, 2);
    expect_not(&r, "packet_during_time_wait");
    struct want w[] = {{.name = "packet_after_time_wait",
                        .dir = "resp",
                        .at = late,
                        .conn = 1,
                        .after_record = true}};
    expect_anomalies(&r, w, 1);
    struct json_object *mid = json_at(conn_by_frame(&r, late.frame), "midstream");
    cr_expect(mid && json_object_get_boolean(mid), "the late FIN starts a mid-stream connection");
    run_free(&r);
}

/* Near miss: the same capture (the copy 15 s after the close, TIME_WAIT of 10 s over): not
 * during TIME_WAIT, and no longer a late packet of the old connection. */
Test(packet_during_time_wait, near_miss_after_time_wait) {
    struct mark late;
    const struct cap *c = write_late_copy("late-fin-15s-b.pcap", 15 * SEC, false, &late);
    struct run r;
    run_cap(&r, c, opt_tw10);
    expect_not(&r, "packet_during_time_wait");
    expect_int(r.summary, "connections.late_packets", 0);
    run_free(&r);
}

/* Near miss: the copy comes 25 s after the close, past 2 × TIME_WAIT: the old connection is
 * forgotten entirely, the FIN is just the start of a new mid-stream connection: nothing. */
Test(packet_after_time_wait, near_miss_after_memory_expired) {
    struct mark late;
    const struct cap *c = write_late_copy("late-fin-25s.pcap", 25 * SEC, false, &late);
    struct run r;
    run_cap(&r, c, opt_tw10);
    cr_assert_eq(r.nconn, 2);
    expect_not(&r, "packet_after_time_wait");
    expect_no_anomalies(&r);
    run_free(&r);
}

/* 1..3 handshake, 4 client 100 bytes, 5 the server's RST|ACK (seq SISN + 1: its next byte,
 * acceptable; the connection ends by RST), 6 client 100 more bytes (in flight when the RST
 * came) in the closed connection's sequence space: data_after_rst, originator, frame 6, naming
 * the record written at frame 5. */
Test(data_after_rst, trigger_data_after_reset) {
    struct cap c;
    struct session s;
    cap_open(&c, "data-after-rst.pcap");
    conn_init(&s, &c, 51130, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_rst(&s, SESSION_SERVER));
    struct mark d = put(&c, session_data(&s, SESSION_CLIENT, 100));
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    cr_assert_eq(r.nconn, 1);
    struct want w[] = {
        {.name = "data_after_rst", .dir = "orig", .at = d, .conn = 1, .after_record = true}};
    expect_anomalies(&r, w, 1);
    expect_str(r.conn[0], "close.how", "rst");
    expect_int(r.summary, "connections.late_packets", 1);
    run_free(&r);
}

/* Near miss: after the RST the client sends a pure ACK (no payload): a late packet of the
 * reset connection, counted, but no data: nothing raised. */
Test(data_after_rst, near_miss_pure_ack_after_reset) {
    struct cap c;
    struct session s;
    cap_open(&c, "ack-after-rst.pcap");
    conn_init(&s, &c, 51131, CISN, SISN);
    handshake(&c, &s);
    put(&c, session_data(&s, SESSION_CLIENT, 100));
    put(&c, session_rst(&s, SESSION_SERVER));
    put(&c, session_ack(&s, SESSION_CLIENT));
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_not(&r, "data_after_rst");
    expect_no_anomalies(&r);
    expect_int(r.summary, "connections.late_packets", 1);
    run_free(&r);
}

/* ==== port reuse ============================================================================== */

/* On 51150: 1..3 handshake, 4 client 100 bytes, 5 ACK, 6..9 client-initiated close (closed by
 * FIN at frame 9); then `gap` after the close a new SYN on the same four-tuple with new ISNs and
 * the same exchange again (frames 10..18). */
static const struct cap *write_reuse(const char *name, int64_t gap) {
    static struct cap c;
    struct session s1, s2;
    cap_open(&c, name);
    conn_init(&s1, &c, 51150, CISN, SISN);
    handshake(&c, &s1);
    put(&c, session_data(&s1, SESSION_CLIENT, 100));
    put(&c, session_ack(&s1, SESSION_SERVER));
    struct mark close = close_from(&c, &s1, SESSION_CLIENT);
    cap_at(&c, close.ts + gap);
    conn_init(&s2, &c, 51150, CISN + 0x01000000u, SISN + 0x01000000u);
    handshake(&c, &s2);
    put(&c, session_data(&s2, SESSION_CLIENT, 100));
    put(&c, session_ack(&s2, SESSION_SERVER));
    close_from(&c, &s2, SESSION_CLIENT);
    cap_close(&c);
    return &c;
}

/* The new SYN (frame 10) comes 1 s after the close, within the default 240 s TIME_WAIT:
 * port_reuse, originator, frame 10, on the new connection (record of frame 10, which lists
 * it). */
Test(port_reuse, trigger_new_syn_during_time_wait) {
    const struct cap *c = write_reuse("reuse-1s.pcap", SEC);
    struct run r;
    run_cap(&r, c, NULL);
    cr_assert_eq(r.nconn, 2);
    struct want w[] = {
        {.name = "port_reuse", .dir = "orig", .at = {10, T0 + 8 * STEP + SEC}, .conn = 10}};
    expect_anomalies(&r, w, 1);
    run_free(&r);
}

/* With --time-wait 10 and the new SYN 15 s after the close: TIME_WAIT is over but the closed
 * connection is still remembered (until 2 × 10 s): still port_reuse (said "after its
 * TIME_WAIT"). */
Test(port_reuse, trigger_new_syn_after_time_wait_still_remembered) {
    const struct cap *c = write_reuse("reuse-15s.pcap", 15 * SEC);
    struct run r;
    run_cap(&r, c, opt_tw10);
    struct want w[] = {
        {.name = "port_reuse", .dir = "orig", .at = {10, T0 + 8 * STEP + 15 * SEC}, .conn = 10}};
    expect_anomalies(&r, w, 1);
    run_free(&r);
}

/* Near miss: --time-wait 10 and the new SYN 25 s after the close, past 2 × TIME_WAIT: the old
 * connection expired from memory entirely; a fresh connection: nothing. */
Test(port_reuse, near_miss_after_memory_expired) {
    const struct cap *c = write_reuse("reuse-25s.pcap", 25 * SEC);
    struct run r;
    run_cap(&r, c, opt_tw10);
    cr_assert_eq(r.nconn, 2);
    expect_not(&r, "port_reuse");
    expect_no_anomalies(&r);
    run_free(&r);
}
