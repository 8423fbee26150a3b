/* End-to-end tests of connection tracking (issue 3), several connections and what makes a packet
 * part of one: interleaved connections, port reuse, late FINs within and after TIME_WAIT, a
 * reordered handshake and a pickup in mid-stream. Conventions and helpers: conn_helpers.h. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capwrite.h"
#include "conn_helpers.h"
#include "pktbuild.h"
#include "run.h"
#include "session.h"

/* The one record whose originator port is src_port. */
static struct json_object *rec_by_port(const struct run *r, int64_t src_port) {
    struct json_object *found = NULL;
    for (int i = 0; i < r->n; i++) {
        if (json_int_at(r->rec[i], "src_port") == src_port) {
            cr_assert_null(found, "two records from port %" PRId64, src_port);
            found = r->rec[i];
        }
    }
    cr_assert(found, "no record from port %" PRId64, src_port);
    return found;
}

/* ==== several connections ===================================================================== */

/* Three connections interleaved frame by frame (step i of A, of B, of C, then step i + 1 …):
 *  A (50400): the standard exchange, 100 / 200 bytes, client closes (11 steps);
 *  B (50401): SYN, SYN/ACK, ACK, client 300 bytes, server RST|ACK (5 steps);
 *  C (50402): SYN, SYN/ACK, ACK, client 50, server ACK, server 70, client ACK (7 steps).
 * Frame numbers: steps 0..4 use frames 3i (A), 3i+1 (B), 3i+2 (C); step 5 is A 15, C 16;
 * step 6 A 17, C 18; steps 7..10 are A's frames 19..22. */
Test(tracking, interleaved_connections) {
    struct cap c;
    struct session a, b, cc;
    cap_open(&c, "interleave.pcap");
    conn_init(&a, &c, 50400, 80, 0x31000000u, 0x41000000u);
    conn_init(&b, &c, 50401, 80, 0x32000000u, 0x42000000u);
    conn_init(&cc, &c, 50402, 80, 0x33000000u, 0x43000000u);
    for (int step = 0; step < 11; step++) {
        switch (step) {
        case 0:
            session_syn(&a);
            session_syn(&b);
            session_syn(&cc);
            break;
        case 1:
            session_syn_ack(&a);
            session_syn_ack(&b);
            session_syn_ack(&cc);
            break;
        case 2:
            session_ack(&a, SESSION_CLIENT);
            session_ack(&b, SESSION_CLIENT);
            session_ack(&cc, SESSION_CLIENT);
            break;
        case 3:
            session_data(&a, SESSION_CLIENT, 100);
            session_data(&b, SESSION_CLIENT, 300);
            session_data(&cc, SESSION_CLIENT, 50);
            break;
        case 4:
            session_ack(&a, SESSION_SERVER);
            session_rst(&b, SESSION_SERVER);
            session_ack(&cc, SESSION_SERVER);
            break;
        case 5:
            session_data(&a, SESSION_SERVER, 200);
            session_data(&cc, SESSION_SERVER, 70);
            break;
        case 6:
            session_ack(&a, SESSION_CLIENT);
            session_ack(&cc, SESSION_CLIENT);
            break;
        case 7:
            session_segment(&a, SESSION_CLIENT, PB_FIN | PB_ACK, 0);
            break;
        case 8:
            session_ack(&a, SESSION_SERVER);
            break;
        case 9:
            session_segment(&a, SESSION_SERVER, PB_FIN | PB_ACK, 0);
            break;
        default:
            session_ack(&a, SESSION_CLIENT);
            break;
        }
    }
    conn_done(&a);
    conn_done(&b);
    conn_done(&cc);
    cap_close(&c);
    struct run r;
    run_capture(&r, c.path, NULL);
    cr_assert_eq(r.n, 3);
    /* Reported as they end: B at its RST (frame 13), A at its last ACK (frame 22), C at EOF. */
    expect_int(r.rec[0], "src_port", 50401);
    expect_int(r.rec[1], "src_port", 50400);
    expect_int(r.rec[2], "src_port", 50402);
    struct json_object *ra = rec_by_port(&r, 50400), *rb = rec_by_port(&r, 50401),
                       *rc = rec_by_port(&r, 50402);
    /* A: as fin_client_closes_first: 6 / 420 and 5 / 468; from frame 0 to frame 22. */
    expect_conn(ra, "SF", "ShADadFf", "fin");
    expect_counts(ra, 6, 420, 5, 468);
    expect_payload(ra, 100, 200);
    expect_time(ra, "ts", T(0));
    expect_time(ra, "end_ts", T(22));
    expect_int(ra, "handshake.syn_to_synack_us", 30000); /* frame 0 → frame 3 */
    /* B: SYN 60, ACK 52, data 352 = 3, 464; SYN/ACK 60, RST 40 = 2, 100; frames 1..13. */
    expect_conn(rb, "RSTR", "ShADr", "rst");
    expect_counts(rb, 3, 464, 2, 100);
    expect_payload(rb, 300, 0);
    expect_time(rb, "ts", T(1));
    expect_time(rb, "end_ts", T(13));
    /* C: SYN 60, ACK 52, data 102, ACK 52 = 4, 266; SYN/ACK 60, ACK 52, data 122 = 3, 234;
     * frames 2..18. */
    expect_conn(rc, "S1", "ShADad", "capture_end");
    expect_counts(rc, 4, 266, 3, 234);
    expect_payload(rc, 50, 70);
    expect_time(rc, "ts", T(2));
    expect_time(rc, "end_ts", T(18));
    expect_int(r.summary, "connections.peak_open", 3);
    run_free(&r);
}

/* The standard exchange on 50500 → 80 (client closes, frames 0..10), then 1 s later a new SYN on
 * the same four-tuple with another ISN and a second full exchange (frames 11..21). */
Test(tracking, port_reuse_new_syn) {
    struct cap c;
    struct session s1, s2;
    cap_open(&c, "reuse.pcap");
    conn_init(&s1, &c, 50500, 80, CISN, SISN);
    standard_exchange(&s1, 100, 200, SESSION_CLIENT, 11);
    conn_done(&s1);
    cap_at(&c, T(10) + SEC);
    conn_init(&s2, &c, 50500, 80, CISN + 0x01000000u, SISN + 0x01000000u);
    standard_exchange(&s2, 100, 200, SESSION_CLIENT, 11);
    conn_done(&s2);
    cap_close(&c);
    struct run r;
    run_capture(&r, c.path, NULL);
    /* The first is closed and reported at frame 10; a SYN on its ports starts a new
     * connection: two records (check_run: different uids), both complete, nothing late. */
    cr_assert_eq(r.n, 2);
    for (int i = 0; i < 2; i++) {
        expect_int(r.rec[i], "src_port", 50500);
        expect_conn(r.rec[i], "SF", "ShADadFf", "fin");
        expect_counts(r.rec[i], 6, 420, 5, 468);
        expect_bool(r.rec[i], "midstream", false);
    }
    expect_time(r.rec[0], "ts", T(0));
    expect_time(r.rec[1], "ts", T(10) + SEC);
    expect_int(r.rec[1], "first_frame", 12);
    expect_int(r.summary, "connections.late_packets", 0);
    run_free(&r);
}

/* The standard exchange on 50501 (client closes; the server's FIN|ACK is frame 9 with seq sf,
 * ack cf + 1), then that very FIN|ACK again at close + 1 s and, with after_time_wait, once more
 * at close + 20 s. */
static const char *write_late_fin(const char *name, bool after_time_wait) {
    static struct cap c;
    struct session s;
    cap_open(&c, name);
    conn_init(&s, &c, 50501, 80, CISN, SISN);
    standard_exchange(&s, 100, 200, SESSION_CLIENT, 9); /* 0..8 */
    uint32_t sf = s.snd_nxt[SESSION_SERVER], ack = s.snd_nxt[SESSION_CLIENT];
    session_write_segment(&s, SESSION_SERVER, PB_FIN | PB_ACK, sf, ack, 0); /* 9 */
    s.snd_nxt[SESSION_SERVER] = sf + 1;
    session_ack(&s, SESSION_CLIENT); /* 10: completes the close */
    cap_at(&c, T(10) + SEC);
    session_write_segment(&s, SESSION_SERVER, PB_FIN | PB_ACK, sf, ack, 0); /* late copy */
    if (after_time_wait) {
        cap_at(&c, T(10) + 20 * SEC);
        session_write_segment(&s, SESSION_SERVER, PB_FIN | PB_ACK, sf, ack, 0);
    }
    conn_done(&s);
    cap_close(&c);
    return c.path;
}

Test(tracking, late_fin_within_time_wait_is_not_new) {
    const char *path = write_late_fin("late1.pcap", false);
    const char *opts[] = {"--time-wait", "10", NULL};
    struct run r;
    struct json_object *rec = only_record(&r, path, opts);
    /* The copy arrives 1 s after the close, within the 10 s TIME_WAIT, and lies in the closed
     * connection's sequence space: a late packet of it, not a new connection; the record (sent
     * at the close) keeps its 5 responder packets. */
    expect_conn(rec, "SF", "ShADadFf", "fin");
    expect_int(rec, "resp.pkts", 5);
    expect_time(rec, "end_ts", T(10));
    expect_int(r.summary, "connections.late_packets", 1);
    run_free(&r);
}

Test(tracking, same_fin_after_time_wait_starts_new_connection) {
    const char *path = write_late_fin("late2.pcap", true);
    const char *opts[] = {"--time-wait", "10", NULL};
    struct run r;
    run_capture(&r, path, opts);
    /* The first copy (close + 1 s) is late, as above. The second comes 20 s after the close,
     * past the 10 s TIME_WAIT: the closed connection is forgotten and the FIN starts a new one,
     * picked up mid-stream. Port 80 is the server's, so the originator is 10.0.0.1:50501 and the
     * FIN is the responder's (^f); Zeek: resp CLOSED, orig INACTIVE → SHR. Still open (one FIN)
     * at EOF. */
    cr_assert_eq(r.n, 2);
    expect_conn(r.rec[0], "SF", "ShADadFf", "fin");
    struct json_object *n = r.rec[1];
    expect_conn(n, "SHR", "^f", "capture_end");
    expect_int(n, "src_port", 50501);
    expect_str(n, "src_ip", "10.0.0.1");
    expect_bool(n, "midstream", true);
    expect_time(n, "ts", T(10) + 20 * SEC);
    expect_counts(n, 0, 0, 1, IP_SEG);
    /* The responder's FIN, unacknowledged → FIN_WAIT_1; the originator, established by
     * mid-stream pickup, has not acknowledged it → ESTABLISHED. */
    expect_states(n, "ESTABLISHED", "FIN_WAIT_1");
    expect_int(r.summary, "connections.late_packets", 1);
    run_free(&r);
}

/* Frame 0 the server's SYN/ACK (ack = CISN + 1), frame 1 the client's SYN, then frames 2..10 as
 * in the standard exchange from the client's ACK on (client closes). */
static const char *write_reordered_handshake(void) {
    static struct cap c;
    struct session s;
    cap_open(&c, "reorder.pcap");
    conn_init(&s, &c, 50600, 80, CISN, SISN);
    session_write_segment(&s, SESSION_SERVER, PB_SYN | PB_ACK, SISN, CISN + 1, 0); /* 0 */
    s.snd_nxt[SESSION_SERVER] = SISN + 1;
    session_syn(&s);                       /* 1 */
    session_ack(&s, SESSION_CLIENT);       /* 2 */
    session_data(&s, SESSION_CLIENT, 100); /* 3 */
    session_ack(&s, SESSION_SERVER);       /* 4 */
    session_data(&s, SESSION_SERVER, 200); /* 5 */
    session_ack(&s, SESSION_CLIENT);       /* 6 */
    session_close(&s, SESSION_CLIENT);     /* 7..10 */
    conn_done(&s);
    cap_close(&c);
    return c.path;
}

Test(tracking, reordered_handshake) {
    struct run r;
    struct json_object *rec = only_record(&r, write_reordered_handshake(), NULL);
    /* One connection; the SYN/ACK's receiver (the client) is the originator. The client's ACK
     * (frame 2) acknowledges the SYN/ACK: handshake complete. Both FINs acknowledged → fin. */
    expect_str(rec, "src_ip", "10.0.0.1");
    expect_int(rec, "src_port", 50600);
    expect_int(rec, "dest_port", 80);
    expect_bool(rec, "handshake.completed", true);
    expect_bool(rec, "midstream", false);
    expect_str(rec, "conn_state", "SF");
    expect_str(rec, "close.how", "fin");
    expect_states(rec, "TIME_WAIT", "CLOSED");
    expect_time(rec, "ts", T(0)); /* the first packet, the SYN/ACK */
    /* orig: SYN 60, ACK 52, 152, ACK 52, FIN 52, ACK 52 = 6, 420; resp: SYN/ACK 60, ACK 52,
     * 252, ACK 52, FIN 52 = 5, 468. */
    expect_counts(rec, 6, 420, 5, 468);
    expect_payload(rec, 100, 200);
    run_free(&r);
}

/* The reordered handshake's SYN is the client's first and only SYN: not a retransmission. */
Test(tracking, reordered_handshake_syn_is_not_a_retransmission) {
    struct run r;
    struct json_object *rec = only_record(&r, write_reordered_handshake(), NULL);
    expect_int(rec, "orig.retransmits", 0);
    expect_int(rec, "orig.retransmitted_bytes", 0);
    run_free(&r);
}

/* Zeek's history of the same capture: flipped at creation (^), the SYN/ACK (h), then the
 * client's SYN — the originator's first SYN, so an S (Zeek records S/H again unless the same
 * endpoint already sent a SYN at that sequence position) — then A D a d F f as usual. */
Test(tracking, reordered_handshake_history_records_the_syn) {
    struct run r;
    struct json_object *rec = only_record(&r, write_reordered_handshake(), NULL);
    expect_str(rec, "history", "^hSADadFf");
    run_free(&r);
}

/* The client's SYN in the reordered handshake carries MSS 1460, SACK-permitted, timestamps and
 * window scale 7 (session.h): its options are the originator's handshake options. */
Test(tracking, reordered_handshake_syn_options_recorded) {
    struct run r;
    struct json_object *rec = only_record(&r, write_reordered_handshake(), NULL);
    expect_int(rec, "orig.options.mss", 1460);
    expect_int(rec, "orig.options.window_scale", 7);
    expect_bool(rec, "orig.options.sack_permitted", true);
    expect_bool(rec, "orig.options.timestamps", true);
    run_free(&r);
}

/* Picked up mid-stream on 51000 ↔ 443: frame 0 the server's 100 bytes (443 → 51000), 1 client
 * ACK, 2 client 50 bytes, 3 server ACK. */
Test(tracking, midstream_pickup_from_server) {
    struct cap c;
    struct session s;
    cap_open(&c, "midstream.pcap");
    conn_init(&s, &c, 51000, 443, CISN, SISN);
    session_data(&s, SESSION_SERVER, 100);
    session_ack(&s, SESSION_CLIENT);
    session_data(&s, SESSION_CLIENT, 50);
    session_ack(&s, SESSION_SERVER);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* No SYN; 443 looks like a server port and 51000 does not: the originator is the client,
     * the first packet's receiver (history ^, then d for its data), then A, D, a. Zeek: both
     * PARTIAL → OTH. */
    expect_str(rec, "src_ip", "10.0.0.1");
    expect_int(rec, "src_port", 51000);
    expect_str(rec, "dest_ip", "10.0.0.2");
    expect_int(rec, "dest_port", 443);
    expect_bool(rec, "midstream", true);
    expect_bool(rec, "handshake.observed", false);
    expect_bool(rec, "handshake.completed", false);
    expect_conn(rec, "OTH", "^dADa", "capture_end");
    cr_expect(json_str_or(rec, "history")[0] == '^', "history starts with ^");
    expect_states(rec, "ESTABLISHED", "ESTABLISHED");
    /* orig: ACK 52, data 102 = 2, 154; resp: data 152, ACK 52 = 2, 204. */
    expect_counts(rec, 2, 154, 2, 204);
    expect_payload(rec, 50, 100);
    expect_time(rec, "ts", T(0));
    expect_time(rec, "end_ts", T(3));
    run_free(&r);
}
