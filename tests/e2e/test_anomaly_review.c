/* End-to-end tests of issue 13 §3, the review notes 3–5 of docs/anomalies.md, each with a trigger
 * and a near miss: the tail loss of a connection picked up mid-stream is ack_unseen_segment and
 * counted in missed_bytes (note 3); a simultaneous open raises no syn_on_established whichever
 * crossing SYN/ACK is captured first (note 4), nor when the originator's SYN/ACK is sent again
 * (note 5). Conventions and helpers: anomaly_helpers.h. */
#include <criterion/criterion.h>
#include <stdint.h>

#include "anomaly_helpers.h"
#include "pktbuild.h"
#include "run.h"
#include "session.h"

/* ==== note 3: tail loss of a mid-stream connection ============================================ */

/* Picked up mid-stream: 1 the client's 100 bytes (no SYN: the sequence base is the segment's
 * seq − 1), 2 the server's ACK of `extra` bytes more than that — bytes the client sent and the
 * server got, the capture never saw. Returns frame 2. */
static struct mark midstream_ack(struct cap *c, uint32_t extra) {
    struct session s;
    conn_init(&s, c, 40000, CISN, SISN);
    put(c, session_data(&s, SESSION_CLIENT, 100));
    return put(c, session_write_segment(&s, SESSION_SERVER, PB_ACK, s.snd_nxt[SESSION_SERVER],
                                        s.snd_nxt[SESSION_CLIENT] + extra, 0));
}

/* The server acknowledges 200 bytes past the last the capture saw from the client: the capture
 * lost the client's tail. ack_unseen_segment (responder, frame 2) and 200 bytes in
 * orig.missed_bytes, as after a captured handshake (before issue 13: nothing, not counted). */
Test(review_notes, midstream_tail_loss_is_missed_bytes) {
    struct cap c;
    cap_open(&c, "midstream-tail-loss.pcap");
    struct mark m2 = midstream_ack(&c, 200);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    const struct want w[] = {{.name = "ack_unseen_segment", .dir = "resp", .at = m2, .conn = 1}};
    expect_anomalies(&r, w, 1);
    cr_expect(json_object_get_boolean(json_at(r.conn[0], "midstream")), "picked up mid-stream");
    expect_int(r.conn[0], "orig.missed_bytes", 200);
    expect_int(r.conn[0], "orig.payload_bytes", 100);
    run_free(&r);
}

/* Near miss: the server acknowledges exactly the 100 bytes captured: nothing missed. */
Test(review_notes, near_miss_midstream_ack_of_what_was_seen) {
    struct cap c;
    cap_open(&c, "midstream-full-ack.pcap");
    midstream_ack(&c, 0);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    expect_no_anomalies(&r);
    expect_int(r.conn[0], "orig.missed_bytes", 0);
    run_free(&r);
}

/* ==== notes 4 and 5: simultaneous open ======================================================== */

/* Crossing SYNs between 10.0.0.1:5000 and 10.0.0.2:6000 (no server port: the first SYN's sender
 * is the originator), RFC 9293 figure 8: 1 the originator's SYN (CISN), 2 the responder's SYN
 * (SISN), then both SYN/ACKs — the responder's first when resp_first — and 5 the originator's
 * ACK. Returns the marks of frames 1..5 in m. */
static void simultaneous_open(struct cap *c, struct session *s, bool resp_first, struct mark *m) {
    struct pb_frame f = pb_tcp4();
    f.src[0] = 10, f.src[3] = 1;
    f.dst[0] = 10, f.dst[3] = 2;
    f.sport = 5000;
    f.dport = 6000;
    session_init(s, c->w, &c->clock, &f, CISN, SISN);
    m[0] = put(c, session_write_segment(s, SESSION_CLIENT, PB_SYN, CISN, 0, 0));
    m[1] = put(c, session_write_segment(s, SESSION_SERVER, PB_SYN, SISN, 0, 0));
    for (int k = 0; k < 2; k++) {
        enum session_side from = (k == 0) == resp_first ? SESSION_SERVER : SESSION_CLIENT;
        uint32_t seq = from == SESSION_CLIENT ? CISN : SISN;
        uint32_t ack = from == SESSION_CLIENT ? SISN + 1 : CISN + 1;
        m[2 + k] = put(c, session_write_segment(s, from, PB_SYN | PB_ACK, seq, ack, 0));
    }
    m[4] = put(c, session_write_segment(s, SESSION_CLIENT, PB_ACK, CISN + 1, SISN + 1, 0));
}

/* Note 4: the responder's SYN/ACK (frame 3) is captured before the originator's (frame 4).
 * Frame 4's ACK completes the handshake (both SYNs acknowledged) and its SYN is the originator's
 * step of the same handshake, not a SYN inside an established connection: the only anomaly is
 * simultaneous_open (responder, frame 2); both endpoints established. */
Test(review_notes, simultaneous_open_responder_synack_first) {
    struct cap c;
    struct session s;
    struct mark m[5];
    cap_open(&c, "simopen-resp-first.pcap");
    simultaneous_open(&c, &s, true, m);
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    const struct want w[] = {{.name = "simultaneous_open", .dir = "resp", .at = m[1], .conn = 1}};
    expect_anomalies(&r, w, 1);
    cr_expect(json_object_get_boolean(json_at(r.conn[0], "handshake.completed")));
    expect_str(r.conn[0], "orig.state", "ESTABLISHED");
    expect_str(r.conn[0], "resp.state", "ESTABLISHED");
    expect_int(r.conn[0], "orig.retransmits", 0);
    run_free(&r);
}

/* Note 5: frames 1..5 in the order of the catalog's example (the originator's SYN/ACK first),
 * then 6 the originator's SYN/ACK again — same ISN, its handshake ACK presumed lost: a
 * retransmission (originator, frame 6), as the responder's would be; no syn_on_established. */
Test(review_notes, simultaneous_open_originator_synack_again) {
    struct cap c;
    struct session s;
    struct mark m[5];
    cap_open(&c, "simopen-synack-again.pcap");
    simultaneous_open(&c, &s, false, m);
    struct mark m6 =
        put(&c, session_write_segment(&s, SESSION_CLIENT, PB_SYN | PB_ACK, CISN, SISN + 1, 0));
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    const struct want w[] = {{.name = "simultaneous_open", .dir = "resp", .at = m[1], .conn = 1},
                             {.name = "retransmission", .dir = "orig", .at = m6, .conn = 1}};
    expect_anomalies(&r, w, 2);
    expect_int(r.conn[0], "orig.retransmits", 1);
    run_free(&r);
}

/* Near miss for both: after the same simultaneous open, the originator sends a SYN/ACK with a
 * new ISN (frame 6): that is no step or repeat of the handshake — syn_on_established
 * (originator, frame 6), as in any established connection. */
Test(review_notes, near_miss_new_isn_after_simultaneous_open) {
    struct cap c;
    struct session s;
    struct mark m[5];
    cap_open(&c, "simopen-new-isn.pcap");
    simultaneous_open(&c, &s, true, m);
    struct mark m6 = put(
        &c, session_write_segment(&s, SESSION_CLIENT, PB_SYN | PB_ACK, CISN + 5000, SISN + 1, 0));
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    const struct want w[] = {{.name = "simultaneous_open", .dir = "resp", .at = m[1], .conn = 1},
                             {.name = "syn_on_established", .dir = "orig", .at = m6, .conn = 1}};
    expect_anomalies(&r, w, 2);
    run_free(&r);
}
