/* End-to-end tests of connection tracking (issue 3): the real binary on captures scripted with the
 * generator (tests/gen/session.h), one scenario per close kind, Zeek conn_state and RFC 793
 * endpoint state. Every expectation below is worked out from the packets the test writes, with
 * the reasoning next to it; none is copied from the program's output.
 *
 * Conventions of the scenarios (unless a test says otherwise):
 *  - client 10.0.0.1:<port> (the session's SESSION_CLIENT), server 10.0.0.2:80; Ethernet, pcap
 *    with µs timestamps; frame k of a capture is at T0 + k × 10 ms.
 *  - client ISN CISN, server ISN SISN. session.h numbering: a segment carries seq = the sender's
 *    next sequence number and ack = everything the peer has sent so far.
 *  - IP sizes (what orig.bytes / resp.bytes add up: the IP total length of every packet):
 *    SYN and SYN/ACK carry 20 option bytes (MSS, SACK_PERM, TS, NOP, WS) → 20 + 20 + 20 = 60;
 *    every later non-RST segment carries NOP, NOP, TS (12 bytes) → 52 + payload; an RST carries
 *    no options → 40. Test record.frame_lengths_behind_ip_byte_counts checks these constants
 *    against the frames written (frame length − 14 bytes of Ethernet header).
 *  - Every run is also checked for the record-set invariants (check_run): each record's uid is
 *    distinct and community_id starts with "1:", and the summary's connections.total,
 *    by_close and by_conn_state agree with the records printed. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capwrite.h"
#include "pktbuild.h"
#include "run.h"
#include "samples.h"
#include "session.h"

#define T0 INT64_C(1704067200000000000) /* 2024-01-01T00:00:00Z */
#define STEP INT64_C(10000000)          /* 10 ms between frames */
#define SEC INT64_C(1000000000)
#define T(k) (T0 + (int64_t)(k)*STEP)

#define CISN 0x10000000u
#define SISN 0x20000000u

#define IP_SYN 60u /* SYN or SYN/ACK */
#define IP_SEG 52u /* any later non-RST segment, plus its payload */
#define IP_RST 40u

/* ---- writing captures ---------------------------------------------------------------------- */

struct cap {
    char path[256];
    struct capwrite *w;
    struct session_clock clock;
};

static void cap_open(struct cap *c, const char *name) {
    snprintf(c->path, sizeof c->path, "%s", tmp_path(name));
    c->w = capwrite_open(c->path, CAPWRITE_PCAP_USEC, pb_linktype(PB_LINK_ETHERNET), 65535);
    cr_assert(c->w, "cannot write %s", c->path);
    c->clock.now_ns = (uint64_t)T0;
    c->clock.step_ns = (uint64_t)STEP;
}

static void cap_close(struct cap *c) {
    cr_assert(capwrite_close(c->w), "writing %s failed", c->path);
}

/* Sets the time of the next frame. */
static void cap_at(struct cap *c, int64_t ns) {
    c->clock.now_ns = (uint64_t)ns;
}

/* A session between 10.0.0.1:sport (client) and 10.0.0.2:dport (server) on c. */
static void conn_init(struct session *s, struct cap *c, uint16_t sport, uint16_t dport,
                      uint32_t cisn, uint32_t sisn) {
    struct pb_frame f = pb_tcp4(); /* 10.0.0.1 -> 10.0.0.2, Ethernet */
    f.sport = sport;
    f.dport = dport;
    session_init(s, c->w, &c->clock, &f, cisn, sisn);
}

static void conn_done(const struct session *s) {
    cr_assert(s->ok, "a frame could not be built or written");
}

/* Frames 0..n-1 of the standard exchange (as in samples.h, with request / response sizes):
 * 0 SYN, 1 SYN/ACK, 2 ACK, 3 client data, 4 server ACK, 5 server data, 6 client ACK,
 * 7 FIN|ACK from closer, 8 ACK from the peer, 9 FIN|ACK from the peer, 10 ACK from closer. */
static void standard_exchange(struct session *s, size_t request, size_t response,
                              enum session_side closer, int n) {
    enum session_side peer = session_peer(closer);
    for (int k = 0; k < n; k++) {
        switch (k) {
        case 0:
            session_syn(s);
            break;
        case 1:
            session_syn_ack(s);
            break;
        case 2:
            session_ack(s, SESSION_CLIENT);
            break;
        case 3:
            session_data(s, SESSION_CLIENT, request);
            break;
        case 4:
            session_ack(s, SESSION_SERVER);
            break;
        case 5:
            session_data(s, SESSION_SERVER, response);
            break;
        case 6:
            session_ack(s, SESSION_CLIENT);
            break;
        case 7:
            session_segment(s, closer, PB_FIN | PB_ACK, 0);
            break;
        case 8:
            session_ack(s, peer);
            break;
        case 9:
            session_segment(s, peer, PB_FIN | PB_ACK, 0);
            break;
        case 10:
            session_ack(s, closer);
            break;
        default:
            break;
        }
    }
}

/* A lone SYN from 10.0.0.1:sport at time at: an unrelated packet that moves capture time on. */
static void lone_syn(struct cap *c, uint16_t sport, int64_t at) {
    struct session s;
    cap_at(c, at);
    conn_init(&s, c, sport, 80, 0x7000000u, 0);
    session_syn(&s);
    conn_done(&s);
}

/* ---- running shakedown and reading its records --------------------------------------------- */

#define MAX_RECS 16

struct run {
    struct json_object *rec[MAX_RECS]; /* type:"connection", in output order */
    int n;
    struct json_object *summary;
};

/* Invariants of every run: the summary is the last line; each connection is one record with its
 * own uid and a version-1 Community ID; the summary's counts agree with the records. */
static void check_run(const struct run *r) {
    for (int i = 0; i < r->n; i++) {
        const char *uid = json_str_or(r->rec[i], "uid");
        cr_expect(uid[0] == 'C' && strlen(uid) == 17, "uid %s", uid);
        for (int j = 0; j < i; j++)
            cr_expect_str_neq(uid, json_str_or(r->rec[j], "uid"), "records %d and %d share a uid",
                              j, i);
        cr_expect(strncmp(json_str_or(r->rec[i], "community_id"), "1:", 2) == 0, "community_id %s",
                  json_str_or(r->rec[i], "community_id"));
        cr_expect_str_eq(json_str_or(r->rec[i], "proto"), "tcp");
    }
    cr_expect_eq(json_int_at(r->summary, "connections.total"), r->n);
    cr_expect_eq(json_int_at(r->summary, "connections.tcp"), r->n);
    expect_breakdown(r->summary, "connections.by_close", r->rec, r->n, "close.how");
    expect_breakdown(r->summary, "connections.by_conn_state", r->rec, r->n, "conn_state");
}

/* Runs shakedown -F json on path with extra options (NULL-terminated list, may be NULL). */
static void run_capture(struct run *r, const char *path, const char *const *opts) {
    const char *args[32] = {"-F", "json", "-r", path};
    size_t n = 4;
    for (size_t i = 0; opts && opts[i] && n < 31; i++)
        args[n++] = opts[i];
    args[n] = NULL;
    struct run_result rr = run_shakedown(NULL, args);
    cr_assert_eq(rr.status, 0, "exit %d; stderr: %s", rr.status, rr.err);
    cr_expect_str_empty(rr.err, "a clean capture gives no message: %s", rr.err);
    memset(r, 0, sizeof *r);
    char *save = NULL;
    int lines = 0, summary_line = -1;
    for (char *line = strtok_r(rr.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        struct json_object *o = json_tokener_parse(line);
        cr_assert(o, "not JSON: %s", line);
        const char *type = json_str_or(o, "type");
        if (strcmp(type, "connection") == 0) {
            cr_assert_lt(r->n, MAX_RECS, "too many records");
            r->rec[r->n++] = o;
        } else if (strcmp(type, "summary") == 0) {
            cr_assert_null(r->summary, "two summaries");
            r->summary = o;
            summary_line = lines;
        } else {
            json_object_put(o);
        }
        lines++;
    }
    cr_assert(r->summary, "no summary in: %s", rr.out);
    cr_assert_eq(summary_line, lines - 1, "the summary is not the last line");
    run_result_free(&rr);
    check_run(r);
}

static void run_free(struct run *r) {
    for (int i = 0; i < r->n; i++)
        json_object_put(r->rec[i]);
    json_object_put(r->summary);
}

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

/* ---- expectations -------------------------------------------------------------------------- */

static void expect_str(struct json_object *o, const char *path, const char *want) {
    cr_expect_str_eq(json_str_or(o, path), want, "%s is %s, want %s", path, json_str_or(o, path),
                     want);
}

static void expect_int(struct json_object *o, const char *path, int64_t want) {
    int64_t got = json_int_at(o, path);
    cr_expect_eq(got, want, "%s is %" PRId64 ", want %" PRId64, path, got, want);
}

static void expect_bool(struct json_object *o, const char *path, bool want) {
    struct json_object *v = json_at(o, path);
    cr_expect(v && json_object_is_type(v, json_type_boolean), "%s is not a boolean", path);
    if (v)
        cr_expect_eq(json_object_get_boolean(v), want, "%s is %d, want %d", path,
                     json_object_get_boolean(v), want);
}

static void expect_absent(struct json_object *o, const char *path) {
    cr_expect_null(json_at(o, path), "%s should be absent", path);
}

/* Timestamps and durations are written with µs: compare the JSON text. */
static void expect_time(struct json_object *o, const char *key, int64_t ns) {
    char want[40];
    snprintf(want, sizeof want, "%" PRId64 ".%06" PRId64, ns / SEC, ns % SEC / 1000);
    struct json_object *v = json_at(o, key);
    const char *got = v ? json_object_to_json_string(v) : "(absent)";
    cr_expect_str_eq(got, want, "%s is %s, want %s", key, got, want);
}

/* conn_state, history and close.how of a record. */
static void expect_conn(struct json_object *rec, const char *conn_state, const char *history,
                        const char *how) {
    expect_str(rec, "conn_state", conn_state);
    expect_str(rec, "history", history);
    expect_str(rec, "close.how", how);
}

static void expect_states(struct json_object *rec, const char *orig, const char *resp) {
    expect_str(rec, "orig.state", orig);
    expect_str(rec, "resp.state", resp);
}

/* Packets and IP bytes of both directions. */
static void expect_counts(struct json_object *rec, int64_t opkts, int64_t obytes, int64_t rpkts,
                          int64_t rbytes) {
    expect_int(rec, "orig.pkts", opkts);
    expect_int(rec, "orig.bytes", obytes);
    expect_int(rec, "resp.pkts", rpkts);
    expect_int(rec, "resp.bytes", rbytes);
}

static void expect_payload(struct json_object *rec, int64_t orig, int64_t resp) {
    expect_int(rec, "orig.payload_bytes", orig);
    expect_int(rec, "resp.payload_bytes", resp);
}

/* Runs one capture with one expected connection; returns it (owned by r). */
static struct json_object *only_record(struct run *r, const char *path, const char *const *opts) {
    run_capture(r, path, opts);
    cr_assert_eq(r->n, 1, "%d records, want 1", r->n);
    return r->rec[0];
}

/* ==== close kinds ============================================================================= */

/* The standard exchange, client closing: frames 0 SYN, 1 SYN/ACK, 2 ACK, 3 client 100 bytes,
 * 4 ACK, 5 server 200 bytes, 6 ACK, 7 client FIN|ACK, 8 server ACK, 9 server FIN|ACK,
 * 10 client ACK. */
Test(close, fin_client_closes_first) {
    struct cap c;
    struct session s;
    cap_open(&c, "fin-client.pcap");
    conn_init(&s, &c, 50000, 80, CISN, SISN);
    standard_exchange(&s, 100, 200, SESSION_CLIENT, 11);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* History: S (SYN), h (SYN/ACK), A (first pure ACK), D (client data), a (server's first pure
     * ACK), d (server data); frame 6's ACK repeats A (once per direction); F (client FIN), frame
     * 8's ACK repeats a, f (server FIN), frame 10 repeats A. Both sides FIN → Zeek SF. Frame 10
     * acknowledges the server's FIN (ack = FIN seq + 1) after frame 8 acknowledged the client's:
     * both FINs acknowledged, so the close completes as "fin", initiated by the originator. */
    expect_conn(rec, "SF", "ShADadFf", "fin");
    expect_str(rec, "close.initiator", "orig");
    /* The client sent its FIN before acknowledging the server's (active closer); its FIN is
     * acknowledged (frame 8) and it acknowledged the server's FIN (frame 10) → TIME_WAIT. The
     * server's FIN answered the client's (passive closer) and frame 10 acknowledged it →
     * CLOSED. */
    expect_states(rec, "TIME_WAIT", "CLOSED");
    /* orig: SYN 60, ACK 52, data 52+100, ACK 52, FIN 52, ACK 52 = 6 packets, 420 bytes.
     * resp: SYN/ACK 60, ACK 52, data 52+200, ACK 52, FIN 52 = 5 packets, 468 bytes. */
    expect_counts(rec, 6, 420, 5, 468);
    expect_payload(rec, 100, 200);
    expect_str(rec, "src_ip", "10.0.0.1");
    expect_int(rec, "src_port", 50000);
    expect_str(rec, "dest_ip", "10.0.0.2");
    expect_int(rec, "dest_port", 80);
    expect_int(rec, "ip_version", 4);
    /* SYN at T(0), SYN/ACK at T(1), ACK at T(2): 10 ms = 10000 µs each. */
    expect_bool(rec, "handshake.observed", true);
    expect_bool(rec, "handshake.completed", true);
    expect_bool(rec, "handshake.simultaneous_open", false);
    expect_int(rec, "handshake.syn_to_synack_us", 10000);
    expect_int(rec, "handshake.synack_to_ack_us", 10000);
    expect_bool(rec, "midstream", false);
    /* First packet T(0), last T(10) (the final ACK closes it). */
    expect_time(rec, "ts", T(0));
    expect_time(rec, "end_ts", T(10));
    expect_time(rec, "duration", 10 * STEP);
    expect_int(rec, "first_frame", 1);
    expect_int(rec, "orig.retransmits", 0);
    expect_int(rec, "resp.retransmits", 0);
    expect_int(rec, "orig.missed_bytes", 0);
    expect_int(rec, "resp.missed_bytes", 0);
    /* SYN options as session.h writes them: MSS 1460, window scale 7, SACK, timestamps. */
    expect_int(rec, "orig.options.mss", 1460);
    expect_int(rec, "resp.options.window_scale", 7);
    expect_bool(rec, "orig.options.sack_permitted", true);
    expect_bool(rec, "resp.options.timestamps", true);
    run_free(&r);
}

/* The same exchange with the server closing first: 7 server FIN|ACK, 8 client ACK, 9 client
 * FIN|ACK, 10 server ACK. */
Test(close, fin_server_closes_first) {
    struct cap c;
    struct session s;
    cap_open(&c, "fin-server.pcap");
    conn_init(&s, &c, 50001, 80, CISN, SISN);
    standard_exchange(&s, 100, 200, SESSION_SERVER, 11);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* Letters as in the client-close case, but the server's f comes before the client's F. */
    expect_conn(rec, "SF", "ShADadfF", "fin");
    expect_str(rec, "close.initiator", "resp");
    /* The server's FIN came first (active closer): acknowledged at frame 8, and it acknowledged
     * the client's FIN at frame 10 → TIME_WAIT. The client's FIN followed its ACK of the
     * server's FIN (passive closer) and was acknowledged at frame 10 → CLOSED. */
    expect_states(rec, "CLOSED", "TIME_WAIT");
    /* orig: SYN 60, ACK 52, data 152, ACK 52, ACK 52, FIN 52 = 6, 420;
     * resp: SYN/ACK 60, ACK 52, data 252, FIN 52, ACK 52 = 5, 468. */
    expect_counts(rec, 6, 420, 5, 468);
    expect_time(rec, "end_ts", T(10));
    run_free(&r);
}

/* A three-way close: 7 client FIN|ACK, 8 server FIN|ACK whose ack already covers the client's
 * FIN, 9 client ACK. */
Test(close, fin_ack_shortcut) {
    struct cap c;
    struct session s;
    cap_open(&c, "fin-3way.pcap");
    conn_init(&s, &c, 50002, 80, CISN, SISN);
    standard_exchange(&s, 100, 200, SESSION_CLIENT, 8);      /* frames 0..7 */
    session_segment(&s, SESSION_SERVER, PB_FIN | PB_ACK, 0); /* 8: acks client FIN + its own */
    session_ack(&s, SESSION_CLIENT);                         /* 9: acks the server's FIN */
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    expect_conn(rec, "SF", "ShADadFf", "fin");
    expect_str(rec, "close.initiator", "orig");
    /* Frame 8 acknowledges the client's FIN in the very packet that carries the server's FIN:
     * the server had received the client's FIN before sending its own, so it is the passive
     * closer, and frame 9 acknowledges its FIN → CLOSED. The client (active) has its FIN
     * acknowledged and acknowledged the server's → TIME_WAIT. */
    expect_states(rec, "TIME_WAIT", "CLOSED");
    /* orig: SYN, ACK, data 100, ACK, FIN, ACK = 6 pkts, 420; resp: SYN/ACK, ACK, data 200, FIN
     * = 4 pkts, 60 + 52 + 252 + 52 = 416. */
    expect_counts(rec, 6, 420, 4, 416);
    expect_time(rec, "end_ts", T(9));
    run_free(&r);
}

/* Crossing FINs: 7 client FIN|ACK (seq cf), 8 server FIN|ACK whose ack is cf (it has not seen
 * the client's FIN), 9 client ACK of the server's FIN, 10 server ACK of the client's FIN.
 * frames says how many are written in all: 9 (up to both FINs), 10 or 11. */
static void write_simultaneous_close(struct cap *c, uint16_t port, int frames) {
    struct session s;
    conn_init(&s, c, port, 80, CISN, SISN);
    standard_exchange(&s, 100, 200, SESSION_CLIENT, 7); /* frames 0..6 */
    uint32_t cfin = s.snd_nxt[SESSION_CLIENT];
    session_segment(&s, SESSION_CLIENT, PB_FIN | PB_ACK, 0); /* 7 */
    uint32_t sfin = s.snd_nxt[SESSION_SERVER];
    session_write_segment(&s, SESSION_SERVER, PB_FIN | PB_ACK, sfin, cfin, 0); /* 8 */
    s.snd_nxt[SESSION_SERVER] = sfin + 1;
    if (frames > 9)
        session_ack(&s, SESSION_CLIENT); /* 9: ack = sfin + 1 */
    if (frames > 10)
        session_ack(&s, SESSION_SERVER); /* 10: ack = cfin + 1 */
    conn_done(&s);
}

Test(close, simultaneous_fin) {
    struct cap c;
    cap_open(&c, "simfin.pcap");
    write_simultaneous_close(&c, 50003, 11);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* Each side sent its FIN before acknowledging the other's (frame 8's ack = the client's FIN
     * sequence number, not past it): both are active closers → "simultaneous_fin"; the first
     * FIN was the client's. Frames 9 and 10 acknowledge both FINs (ack = FIN seq + 1), so both
     * active closers have their FIN acknowledged and acknowledged the peer's → both TIME_WAIT.
     * History: F then f; the two final ACKs repeat A / a. Both closed → SF. */
    expect_conn(rec, "SF", "ShADadFf", "simultaneous_fin");
    expect_str(rec, "close.initiator", "orig");
    expect_states(rec, "TIME_WAIT", "TIME_WAIT");
    /* 6 / 5 packets with the same sizes as the ordinary close: 420 / 468. */
    expect_counts(rec, 6, 420, 5, 468);
    expect_time(rec, "end_ts", T(10));
    run_free(&r);
}

/* The same crossing FINs, capture cut before the close completes (no close yet: capture_end). */
Test(endpoint_state, simultaneous_close_intermediate) {
    struct cap c;
    cap_open(&c, "simfin8.pcap");
    write_simultaneous_close(&c, 50004, 9);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* Frames 0..8: both FINs sent, neither acknowledged by anyone (frame 8's ack stops at the
     * client's FIN): each side has sent a FIN with no evidence yet of the other's → both
     * FIN_WAIT_1. Zeek: both endpoints CLOSED → SF. */
    expect_conn(rec, "SF", "ShADadFf", "capture_end");
    expect_states(rec, "FIN_WAIT_1", "FIN_WAIT_1");
    expect_str(rec, "close.initiator", "orig");
    run_free(&r);

    cap_open(&c, "simfin9.pcap");
    write_simultaneous_close(&c, 50005, 10);
    cap_close(&c);
    rec = only_record(&r, c.path, NULL);
    /* Frame 9: the client acknowledges the server's FIN while its own FIN is still
     * unacknowledged — RFC 793's CLOSING (FIN_WAIT_1 + FIN received). The server's FIN is now
     * acknowledged but the server has not yet acknowledged the client's FIN: FIN_WAIT_2 (the
     * one-packet lag of inferring receipt from the receiver's own ACK, reference §3.4). */
    expect_conn(rec, "SF", "ShADadFf", "capture_end");
    expect_states(rec, "CLOSING", "FIN_WAIT_2");
    run_free(&r);
}

/* 0 SYN, 1 SYN/ACK, 2 ACK, 3 client 100 bytes, 4 server ACK, 5 client RST|ACK. */
Test(close, rst_from_orig) {
    struct cap c;
    struct session s;
    cap_open(&c, "rsto.pcap");
    conn_init(&s, &c, 50010, 80, CISN, SISN);
    standard_exchange(&s, 100, 0, SESSION_CLIENT, 5);
    session_rst(&s, SESSION_CLIENT); /* seq = the client's next sequence number: acceptable */
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* Established (S h A), data D, ACK a, then the originator's R: Zeek orig RESET, resp
     * ESTABLISHED → RSTO. A reset connection is gone on both sides: CLOSED, CLOSED. */
    expect_conn(rec, "RSTO", "ShADaR", "rst");
    expect_str(rec, "close.initiator", "orig");
    expect_states(rec, "CLOSED", "CLOSED");
    /* orig: SYN 60, ACK 52, data 152, RST 40 = 4, 304; resp: SYN/ACK 60, ACK 52 = 2, 112. */
    expect_counts(rec, 4, 304, 2, 112);
    expect_payload(rec, 100, 0);
    expect_time(rec, "end_ts", T(5));
    run_free(&r);
}

/* 0 SYN, 1 SYN/ACK, 2 ACK, 3 client 100 bytes, 4 server RST|ACK. */
Test(close, rst_from_resp) {
    struct cap c;
    struct session s;
    cap_open(&c, "rstr.pcap");
    conn_init(&s, &c, 50011, 80, CISN, SISN);
    standard_exchange(&s, 100, 0, SESSION_CLIENT, 4);
    session_rst(&s, SESSION_SERVER);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* Zeek: resp RESET, orig ESTABLISHED → RSTR. */
    expect_conn(rec, "RSTR", "ShADr", "rst");
    expect_str(rec, "close.initiator", "resp");
    expect_states(rec, "CLOSED", "CLOSED");
    /* orig: SYN 60, ACK 52, data 152 = 3, 264; resp: SYN/ACK 60, RST 40 = 2, 100. */
    expect_counts(rec, 3, 264, 2, 100);
    run_free(&r);
}

/* Connection A (port 50020): frames 0..6 = SYN, SYN/ACK, ACK, client 100 bytes, server ACK,
 * client FIN|ACK, server ACK; the server never closes. At T0 + 20 s a SYN on port 50021 moves
 * capture time past --half-closed-timeout 5. */
Test(close, half_closed) {
    struct cap c;
    struct session s;
    cap_open(&c, "half.pcap");
    conn_init(&s, &c, 50020, 80, CISN, SISN);
    standard_exchange(&s, 100, 0, SESSION_CLIENT, 5);        /* 0..4 */
    session_segment(&s, SESSION_CLIENT, PB_FIN | PB_ACK, 0); /* 5 */
    session_ack(&s, SESSION_SERVER);                         /* 6 */
    conn_done(&s);
    lone_syn(&c, 50021, T0 + 20 * SEC);
    cap_close(&c);
    const char *opts[] = {"--half-closed-timeout", "5", NULL};
    struct run r;
    run_capture(&r, c.path, opts);
    cr_assert_eq(r.n, 2);
    /* A expires when the packet 20 s later arrives (20 s > 5 s of silence after one FIN), so
     * it is reported before B, which is still open at the end of the capture. */
    struct json_object *a = r.rec[0], *b = r.rec[1];
    expect_int(a, "src_port", 50020);
    expect_int(b, "src_port", 50021);
    /* One FIN (the client's), acknowledged; the server stayed open: Zeek orig CLOSED, resp
     * ESTABLISHED → S2. Client: active closer, FIN acknowledged, no FIN from the peer →
     * FIN_WAIT_2; server: acknowledged the client's FIN, sent none → CLOSE_WAIT. */
    expect_conn(a, "S2", "ShADaF", "half_closed");
    expect_str(a, "close.initiator", "orig");
    expect_states(a, "FIN_WAIT_2", "CLOSE_WAIT");
    /* end_ts is A's own last packet (frame 6), not the time it expired. */
    expect_time(a, "ts", T(0));
    expect_time(a, "end_ts", T(6));
    expect_time(a, "duration", 6 * STEP);
    /* orig: SYN 60, ACK 52, data 152, FIN 52 = 4, 316; resp: SYN/ACK 60, ACK 52, ACK 52 = 3,
     * 164. */
    expect_counts(a, 4, 316, 3, 164);
    expect_conn(b, "S0", "S", "capture_end");
    expect_time(b, "ts", T0 + 20 * SEC);
    run_free(&r);
}

/* Frames 0..6 (SYN … client ACK of the server's 200 bytes), then nothing from it; a SYN on
 * another port 20 s later, --idle-timeout 5. */
Test(close, idle_timeout) {
    struct cap c;
    struct session s;
    cap_open(&c, "idle.pcap");
    conn_init(&s, &c, 50030, 80, CISN, SISN);
    standard_exchange(&s, 100, 200, SESSION_CLIENT, 7);
    conn_done(&s);
    lone_syn(&c, 50031, T0 + 20 * SEC);
    cap_close(&c);
    const char *opts[] = {"--idle-timeout", "5", NULL};
    struct run r;
    run_capture(&r, c.path, opts);
    cr_assert_eq(r.n, 2);
    struct json_object *a = r.rec[0];
    expect_int(a, "src_port", 50030);
    /* Established, no FIN or RST, idle 20 s > 5 s → timeout; Zeek S1 (both ESTABLISHED). */
    expect_conn(a, "S1", "ShADad", "timeout");
    expect_states(a, "ESTABLISHED", "ESTABLISHED");
    expect_absent(a, "close.initiator"); /* nobody closed it */
    expect_time(a, "end_ts", T(6));
    expect_int(r.rec[1], "src_port", 50031);
    run_free(&r);
}

/* A lone SYN, then a SYN on another port 20 s later, --handshake-timeout 5. */
Test(close, handshake_timeout) {
    struct cap c;
    cap_open(&c, "hs-timeout.pcap");
    lone_syn(&c, 50040, T0);
    lone_syn(&c, 50041, T0 + 20 * SEC);
    cap_close(&c);
    const char *opts[] = {"--handshake-timeout", "5", NULL};
    struct run r;
    run_capture(&r, c.path, opts);
    cr_assert_eq(r.n, 2);
    /* The first SYN's connection never completed its handshake and is silent for 20 s > 5 s. */
    expect_int(r.rec[0], "src_port", 50040);
    expect_conn(r.rec[0], "S0", "S", "timeout");
    expect_int(r.rec[1], "src_port", 50041);
    expect_conn(r.rec[1], "S0", "S", "capture_end");
    run_free(&r);
}

/* Frames 0..9 of the client-close exchange (both FINs, the client's final ACK missing), then a
 * SYN on another port 20 s later, --closing-timeout 5. */
Test(close, closing_timeout) {
    struct cap c;
    struct session s;
    cap_open(&c, "closing.pcap");
    conn_init(&s, &c, 50050, 80, CISN, SISN);
    standard_exchange(&s, 100, 200, SESSION_CLIENT, 10);
    conn_done(&s);
    lone_syn(&c, 50051, T0 + 20 * SEC);
    cap_close(&c);
    const char *opts[] = {"--closing-timeout", "5", NULL};
    struct run r;
    run_capture(&r, c.path, opts);
    cr_assert_eq(r.n, 2);
    struct json_object *a = r.rec[0];
    expect_int(a, "src_port", 50050);
    /* Both FINs sent (Zeek: both CLOSED → SF) but the server's FIN is never acknowledged: the
     * close does not complete and the connection expires. Client: active closer, FIN
     * acknowledged (frame 8), server's FIN not acknowledged → FIN_WAIT_2; server: passive
     * closer, FIN unacknowledged → LAST_ACK. */
    expect_conn(a, "SF", "ShADadFf", "timeout");
    expect_str(a, "close.initiator", "orig");
    expect_states(a, "FIN_WAIT_2", "LAST_ACK");
    expect_time(a, "end_ts", T(9));
    run_free(&r);
}

/* Frames 0..6 and the end of the file. */
Test(close, capture_end) {
    struct cap c;
    struct session s;
    cap_open(&c, "eof.pcap");
    conn_init(&s, &c, 50060, 80, CISN, SISN);
    standard_exchange(&s, 100, 200, SESSION_CLIENT, 7);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* Still open at EOF: capture_end. Handshake and data both ways, no close → S1. */
    expect_conn(rec, "S1", "ShADad", "capture_end");
    expect_states(rec, "ESTABLISHED", "ESTABLISHED");
    /* orig: SYN 60, ACK 52, data 152, ACK 52 = 4, 316; resp: SYN/ACK 60, ACK 52, data 252 = 3,
     * 364. */
    expect_counts(rec, 4, 316, 3, 364);
    expect_payload(rec, 100, 200);
    expect_time(rec, "end_ts", T(6));
    run_free(&r);
}

/* --max-flows 2, three connections at once. A (50070): handshake at frames 0..2; B (50071): a
 * SYN at frame 3, unanswered so far; A sends 100 bytes at frame 4; C (50072): SYN at frame 5
 * (table full), SYN/ACK 6, ACK 7. A started first, but B has been silent longest. */
Test(close, evicted_least_recently_active) {
    struct cap c;
    struct session a, b, cc;
    cap_open(&c, "evict.pcap");
    conn_init(&a, &c, 50070, 80, 0x11000000u, 0x21000000u);
    conn_init(&b, &c, 50071, 80, 0x12000000u, 0x22000000u);
    conn_init(&cc, &c, 50072, 80, 0x13000000u, 0x23000000u);
    session_handshake(&a);                 /* 0..2 */
    session_syn(&b);                       /* 3 */
    session_data(&a, SESSION_CLIENT, 100); /* 4 */
    session_handshake(&cc);                /* 5..7 */
    conn_done(&a);
    conn_done(&b);
    conn_done(&cc);
    cap_close(&c);
    const char *opts[] = {"--max-flows", "2", NULL};
    struct run r;
    run_capture(&r, c.path, opts);
    /* Three connections, each reported exactly once (check_run: distinct uids, totals). */
    cr_assert_eq(r.n, 3);
    /* C's SYN finds the table full (A and B). B's last packet is frame 3, A's frame 4: B is the
     * least recently active (though created after A) and is reported as evicted at once, before
     * anything else. A and C are open at the end of the capture, reported in the order they
     * started. */
    expect_int(r.rec[0], "src_port", 50071);
    expect_int(r.rec[1], "src_port", 50070);
    expect_int(r.rec[2], "src_port", 50072);
    /* B: a lone SYN (S0), as it was when evicted. */
    expect_conn(r.rec[0], "S0", "S", "evicted");
    expect_states(r.rec[0], "SYN_SENT", "LISTEN");
    expect_time(r.rec[0], "end_ts", T(3));
    expect_counts(r.rec[0], 1, IP_SYN, 0, 0);
    /* A: SYN 60, ACK 52, data 152 = 3, 264; SYN/ACK 60 = 1, 60. */
    expect_conn(r.rec[1], "S1", "ShAD", "capture_end");
    expect_counts(r.rec[1], 3, 264, 1, IP_SYN);
    expect_payload(r.rec[1], 100, 0);
    expect_conn(r.rec[2], "S1", "ShA", "capture_end");
    expect_int(r.summary, "connections.by_close.evicted", 1);
    expect_int(r.summary, "connections.by_close.capture_end", 2);
    /* Never more than two at once: the table's limit. */
    expect_int(r.summary, "connections.peak_open", 2);
    run_free(&r);
}

/* --max-flows 2. A (50075): the whole client-close exchange, frames 0..10 (closed, remembered
 * for TIME_WAIT); B (50076): handshake, frames 11..13; C (50077): SYN at frame 14. */
Test(close, time_wait_entry_goes_before_eviction) {
    struct cap c;
    struct session a, b, cc;
    cap_open(&c, "evict-tw.pcap");
    conn_init(&a, &c, 50075, 80, 0x14000000u, 0x24000000u);
    conn_init(&b, &c, 50076, 80, 0x15000000u, 0x25000000u);
    conn_init(&cc, &c, 50077, 80, 0x16000000u, 0x26000000u);
    standard_exchange(&a, 100, 200, SESSION_CLIENT, 11);
    session_handshake(&b);
    session_syn(&cc);
    conn_done(&a);
    conn_done(&b);
    conn_done(&cc);
    cap_close(&c);
    const char *opts[] = {"--max-flows", "2", NULL};
    struct run r;
    run_capture(&r, c.path, opts);
    /* A was reported at its close (frame 10). When C needs room, A's remembered entry is
     * forgotten rather than B evicted (man page, --max-flows): no "evicted" at all. */
    cr_assert_eq(r.n, 3);
    expect_int(r.rec[0], "src_port", 50075);
    expect_conn(r.rec[0], "SF", "ShADadFf", "fin");
    expect_int(r.rec[1], "src_port", 50076);
    expect_conn(r.rec[1], "S1", "ShA", "capture_end");
    expect_int(r.rec[2], "src_port", 50077);
    expect_conn(r.rec[2], "S0", "S", "capture_end");
    expect_absent(r.summary, "connections.by_close.evicted");
    run_free(&r);
}

/* ==== conn_state ============================================================================== */

Test(conn_state, S0_lone_syn) {
    struct cap c;
    cap_open(&c, "s0.pcap");
    lone_syn(&c, 50100, T0);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* One SYN, no reply: Zeek orig SYN_SENT, resp INACTIVE → S0. The client sent a SYN that
     * nobody acknowledged → SYN_SENT; the server was addressed by a SYN and is silent →
     * LISTEN. */
    expect_conn(rec, "S0", "S", "capture_end");
    expect_states(rec, "SYN_SENT", "LISTEN");
    expect_counts(rec, 1, IP_SYN, 0, 0);
    expect_bool(rec, "handshake.observed", true);
    expect_bool(rec, "handshake.completed", false);
    expect_absent(rec, "handshake.syn_to_synack_us"); /* there was no SYN/ACK */
    expect_time(rec, "duration", 0);
    run_free(&r);
}

/* The SYN, and the same SYN (same ISN) again 1 s later. */
Test(conn_state, S0_syn_retransmitted) {
    struct cap c;
    struct session s;
    cap_open(&c, "s0-retx.pcap");
    conn_init(&s, &c, 50101, 80, CISN, SISN);
    session_syn(&s);
    cap_at(&c, T0 + SEC);
    session_write_segment(&s, SESSION_CLIENT, PB_SYN, CISN, 0, 0);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* Same sequence position → no second S; one retransmission of no payload. */
    expect_conn(rec, "S0", "S", "capture_end");
    expect_states(rec, "SYN_SENT", "LISTEN");
    expect_counts(rec, 2, 2 * IP_SYN, 0, 0);
    expect_int(rec, "orig.retransmits", 1);
    expect_int(rec, "orig.retransmitted_bytes", 0);
    expect_time(rec, "end_ts", T0 + SEC);
    run_free(&r);
}

/* SYN, then SYN/ACK, no third ACK. */
Test(conn_state, S1_syn_synack_only) {
    struct cap c;
    struct session s;
    cap_open(&c, "s1-sh.pcap");
    conn_init(&s, &c, 50102, 80, CISN, SISN);
    session_syn(&s);
    session_syn_ack(&s);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* Zeek: the SYN/ACK establishes both endpoints → S1 with history Sh. The server answered the
     * SYN (its SYN/ACK acknowledges it) and its own SYN is not acknowledged → SYN_RECEIVED.
     * The client's SYN is acknowledged but the client has acknowledged nothing yet: no
     * evidence it received the SYN/ACK → still SYN_SENT. */
    expect_conn(rec, "S1", "Sh", "capture_end");
    expect_states(rec, "SYN_SENT", "SYN_RECEIVED");
    expect_bool(rec, "handshake.completed", false);
    expect_int(rec, "handshake.syn_to_synack_us", 10000);
    expect_absent(rec, "handshake.synack_to_ack_us");
    run_free(&r);
}

/* SYN, then the server's RST|ACK with seq 0 and ack = CISN + 1 (how a closed port answers). */
Test(conn_state, REJ) {
    struct cap c;
    struct session s;
    cap_open(&c, "rej.pcap");
    conn_init(&s, &c, 50103, 80, CISN, SISN);
    session_syn(&s);
    session_write_segment(&s, SESSION_SERVER, PB_RST | PB_ACK, 0, CISN + 1, 0);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* Zeek: resp RESET while orig SYN_SENT → REJ, history Sr. */
    expect_conn(rec, "REJ", "Sr", "rst");
    expect_str(rec, "close.initiator", "resp");
    expect_states(rec, "CLOSED", "CLOSED");
    expect_counts(rec, 1, IP_SYN, 1, IP_RST);
    expect_bool(rec, "handshake.completed", false);
    run_free(&r);
}

/* Frames 0..7 of the client-close exchange: the client's FIN is the last packet. */
Test(conn_state, S2_orig_fin_unanswered) {
    struct cap c;
    struct session s;
    cap_open(&c, "s2.pcap");
    conn_init(&s, &c, 50104, 80, CISN, SISN);
    standard_exchange(&s, 100, 200, SESSION_CLIENT, 8);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* Zeek: orig CLOSED, resp ESTABLISHED → S2. The client's FIN is unacknowledged →
     * FIN_WAIT_1; the server has not acknowledged it → still ESTABLISHED. */
    expect_conn(rec, "S2", "ShADadF", "capture_end");
    expect_states(rec, "FIN_WAIT_1", "ESTABLISHED");
    expect_str(rec, "close.initiator", "orig");
    run_free(&r);
}

/* Frames 0..8 of the server-close exchange: server FIN|ACK (7), client ACK (8). */
Test(conn_state, S3_resp_fin_only) {
    struct cap c;
    struct session s;
    cap_open(&c, "s3.pcap");
    conn_init(&s, &c, 50105, 80, CISN, SISN);
    standard_exchange(&s, 100, 200, SESSION_SERVER, 9);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* Zeek: resp CLOSED, orig ESTABLISHED → S3; frame 8 repeats A. Server: active closer, FIN
     * acknowledged → FIN_WAIT_2; client: acknowledged the server's FIN, sent none →
     * CLOSE_WAIT. */
    expect_conn(rec, "S3", "ShADadf", "capture_end");
    expect_states(rec, "CLOSE_WAIT", "FIN_WAIT_2");
    expect_str(rec, "close.initiator", "resp");
    run_free(&r);
}

/* SYN, then an RST from the client (seq CISN + 1, no ACK): it gave up before any answer. */
Test(conn_state, RSTOS0) {
    struct cap c;
    struct session s;
    cap_open(&c, "rstos0.pcap");
    conn_init(&s, &c, 50106, 80, CISN, SISN);
    session_syn(&s);
    session_write_segment(&s, SESSION_CLIENT, PB_RST, CISN + 1, 0, 0);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* Zeek: orig RESET, resp INACTIVE, history SR matches ^?S[^HAFGIQ]*R → RSTOS0. */
    expect_conn(rec, "RSTOS0", "SR", "rst");
    expect_str(rec, "close.initiator", "orig");
    expect_states(rec, "CLOSED", "CLOSED");
    expect_counts(rec, 2, IP_SYN + IP_RST, 0, 0);
    run_free(&r);
}

/* A lone RST|ACK from 10.0.0.2:80 to 10.0.0.1:50107. */
Test(conn_state, RSTRH_lone_rst_from_server_port) {
    struct cap c;
    struct session s;
    cap_open(&c, "rstrh.pcap");
    conn_init(&s, &c, 50107, 80, CISN, SISN);
    session_rst(&s, SESSION_SERVER);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* No SYN: picked up mid-stream. Port 80 looks like a server and 50107 does not, so the
     * originator is the RST's receiver: the history starts with ^, and the RST is the
     * responder's r. Zeek: resp RESET, orig INACTIVE → RSTRH. */
    expect_conn(rec, "RSTRH", "^r", "rst");
    expect_str(rec, "src_ip", "10.0.0.1");
    expect_int(rec, "src_port", 50107);
    expect_int(rec, "dest_port", 80);
    expect_bool(rec, "midstream", true);
    expect_str(rec, "close.initiator", "resp");
    expect_states(rec, "CLOSED", "CLOSED");
    expect_counts(rec, 0, 0, 1, IP_RST);
    run_free(&r);
}

/* A SYN/ACK from the server (ack = CISN + 1), then its RST|ACK; no SYN captured. */
Test(conn_state, RSTRH_synack_then_rst) {
    struct cap c;
    struct session s;
    cap_open(&c, "rstrh2.pcap");
    conn_init(&s, &c, 50108, 80, CISN, SISN);
    session_write_segment(&s, SESSION_SERVER, PB_SYN | PB_ACK, SISN, CISN + 1, 0);
    session_write_segment(&s, SESSION_SERVER, PB_RST | PB_ACK, SISN + 1, CISN + 1, 0);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* A SYN/ACK's receiver is the originator (^, then h); the RST is r. Zeek: resp RESET, orig
     * INACTIVE → RSTRH. */
    expect_conn(rec, "RSTRH", "^hr", "rst");
    expect_int(rec, "src_port", 50108);
    expect_states(rec, "CLOSED", "CLOSED");
    expect_counts(rec, 0, 0, 2, IP_SYN + IP_RST);
    run_free(&r);
}

/* SYN, then a FIN from the client (seq CISN + 1, no ACK), no reply. */
Test(conn_state, SH) {
    struct cap c;
    struct session s;
    cap_open(&c, "sh.pcap");
    conn_init(&s, &c, 50109, 80, CISN, SISN);
    session_syn(&s);
    session_write_segment(&s, SESSION_CLIENT, PB_FIN, CISN + 1, 0, 0);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* Zeek: orig CLOSED, resp INACTIVE → SH. Client: FIN sent, not acknowledged, no FIN from
     * the peer → FIN_WAIT_1; server silent after a SYN → LISTEN. */
    expect_conn(rec, "SH", "SF", "capture_end");
    expect_states(rec, "FIN_WAIT_1", "LISTEN");
    expect_str(rec, "close.initiator", "orig");
    expect_counts(rec, 2, IP_SYN + IP_SEG, 0, 0);
    run_free(&r);
}

/* SYN/ACK from the server (ack = CISN + 1), then its FIN|ACK; no SYN, nothing from the client. */
Test(conn_state, SHR) {
    struct cap c;
    struct session s;
    cap_open(&c, "shr.pcap");
    conn_init(&s, &c, 50110, 80, CISN, SISN);
    session_write_segment(&s, SESSION_SERVER, PB_SYN | PB_ACK, SISN, CISN + 1, 0);
    session_write_segment(&s, SESSION_SERVER, PB_FIN | PB_ACK, SISN + 1, CISN + 1, 0);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* Zeek: resp CLOSED, orig INACTIVE → SHR; history ^hf. Server: FIN sent first and not
     * acknowledged → FIN_WAIT_1. Client: the SYN/ACK acknowledges a SYN of its own (never
     * captured) and the client has acknowledged nothing → SYN_SENT. */
    expect_conn(rec, "SHR", "^hf", "capture_end");
    expect_int(rec, "src_port", 50110);
    expect_states(rec, "SYN_SENT", "FIN_WAIT_1");
    expect_str(rec, "close.initiator", "resp");
    expect_counts(rec, 0, 0, 2, IP_SYN + IP_SEG);
    run_free(&r);
}

/* A lone data segment (10 bytes) from 10.0.0.1:51001 to 10.0.0.2:443. */
Test(conn_state, OTH_lone_midstream_data) {
    struct cap c;
    struct session s;
    cap_open(&c, "oth.pcap");
    conn_init(&s, &c, 51001, 443, CISN, SISN);
    session_data(&s, SESSION_CLIENT, 10);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* No SYN: mid-stream; the sender's port is not a server port and the receiver's (443) is,
     * so the sender is the originator (no ^). Zeek: orig PARTIAL, resp INACTIVE → OTH.
     * Picked up mid-stream, both sides count as ESTABLISHED. */
    expect_conn(rec, "OTH", "D", "capture_end");
    expect_int(rec, "src_port", 51001);
    expect_bool(rec, "midstream", true);
    expect_bool(rec, "handshake.observed", false);
    expect_states(rec, "ESTABLISHED", "ESTABLISHED");
    expect_counts(rec, 1, IP_SEG + 10, 0, 0);
    expect_payload(rec, 10, 0);
    run_free(&r);
}

/* A lone SYN/ACK from 10.0.0.2:80 to 10.0.0.1:50111 (ack = CISN + 1). */
Test(conn_state, OTH_lone_synack) {
    struct cap c;
    struct session s;
    cap_open(&c, "oth-synack.pcap");
    conn_init(&s, &c, 50111, 80, CISN, SISN);
    session_write_segment(&s, SESSION_SERVER, PB_SYN | PB_ACK, SISN, CISN + 1, 0);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* The SYN/ACK's receiver is the originator: ^h. Zeek: orig INACTIVE, resp not closed or
     * reset → none of the other states → OTH. The server answered a SYN (its ack covers the
     * client's implied SYN) and its own SYN is unacknowledged → SYN_RECEIVED; the client's SYN
     * is implied by that ack, and it has acknowledged nothing → SYN_SENT. */
    expect_conn(rec, "OTH", "^h", "capture_end");
    expect_int(rec, "src_port", 50111);
    expect_states(rec, "SYN_SENT", "SYN_RECEIVED");
    expect_counts(rec, 0, 0, 1, IP_SYN);
    expect_bool(rec, "handshake.completed", false);
    run_free(&r);
}

/* SYN, RST|ACK (seq 0, ack = CISN + 1); 1 s later the same SYN again and the same RST|ACK. */
Test(conn_state, REJ_then_syn_again_is_a_new_connection) {
    struct cap c;
    struct session s;
    cap_open(&c, "rej2.pcap");
    conn_init(&s, &c, 50112, 80, CISN, SISN);
    session_write_segment(&s, SESSION_CLIENT, PB_SYN, CISN, 0, 0);
    session_write_segment(&s, SESSION_SERVER, PB_RST | PB_ACK, 0, CISN + 1, 0);
    cap_at(&c, T0 + SEC);
    session_write_segment(&s, SESSION_CLIENT, PB_SYN, CISN, 0, 0);
    session_write_segment(&s, SESSION_SERVER, PB_RST | PB_ACK, 0, CISN + 1, 0);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    run_capture(&r, c.path, NULL);
    /* The first attempt closed with the RST and was reported; a SYN on its ports starts a new
     * connection (as Zeek logs each rejected attempt as its own REJ row): two REJ records. */
    cr_assert_eq(r.n, 2);
    for (int i = 0; i < 2; i++) {
        expect_conn(r.rec[i], "REJ", "Sr", "rst");
        expect_counts(r.rec[i], 1, IP_SYN, 1, IP_RST);
    }
    expect_time(r.rec[1], "ts", T0 + SEC);
    expect_int(r.summary, "connections.late_packets", 0);
    run_free(&r);
}

/* ==== endpoint states through a close ========================================================= */

/* The first n frames of the standard exchange with the given closer, in their own capture. */
static struct json_object *prefix_record(struct run *r, const char *name, uint16_t port,
                                         enum session_side closer, int n) {
    struct cap c;
    struct session s;
    cap_open(&c, name);
    conn_init(&s, &c, port, 80, CISN, SISN);
    standard_exchange(&s, 100, 200, closer, n);
    conn_done(&s);
    cap_close(&c);
    return only_record(r, c.path, NULL);
}

Test(endpoint_state, client_close_progression) {
    struct run r;
    struct json_object *rec = prefix_record(&r, "cp7.pcap", 50200, SESSION_CLIENT, 7);
    /* After frame 6: handshake done both ways → ESTABLISHED, ESTABLISHED. */
    expect_states(rec, "ESTABLISHED", "ESTABLISHED");
    run_free(&r);
    rec = prefix_record(&r, "cp8.pcap", 50201, SESSION_CLIENT, 8);
    /* Frame 7 client FIN, unacknowledged → FIN_WAIT_1; server unaware → ESTABLISHED. */
    expect_states(rec, "FIN_WAIT_1", "ESTABLISHED");
    run_free(&r);
    rec = prefix_record(&r, "cp9.pcap", 50202, SESSION_CLIENT, 9);
    /* Frame 8 server ACK of the FIN → client FIN_WAIT_2, server CLOSE_WAIT. */
    expect_states(rec, "FIN_WAIT_2", "CLOSE_WAIT");
    run_free(&r);
    rec = prefix_record(&r, "cp10.pcap", 50203, SESSION_CLIENT, 10);
    /* Frame 9 server FIN: passive closer's FIN unacknowledged → LAST_ACK; the client has not
     * acknowledged it yet → still FIN_WAIT_2. */
    expect_states(rec, "FIN_WAIT_2", "LAST_ACK");
    expect_str(rec, "close.how", "capture_end");
    run_free(&r);
    rec = prefix_record(&r, "cp11.pcap", 50204, SESSION_CLIENT, 11);
    /* Frame 10 acknowledges the server's FIN → TIME_WAIT, CLOSED; the close is complete. */
    expect_states(rec, "TIME_WAIT", "CLOSED");
    expect_str(rec, "close.how", "fin");
    run_free(&r);
}

Test(endpoint_state, server_close_progression) {
    struct run r;
    struct json_object *rec = prefix_record(&r, "sp8.pcap", 50210, SESSION_SERVER, 8);
    /* Frame 7 server FIN, unacknowledged. */
    expect_states(rec, "ESTABLISHED", "FIN_WAIT_1");
    run_free(&r);
    rec = prefix_record(&r, "sp9.pcap", 50211, SESSION_SERVER, 9);
    /* Frame 8 client ACK of it. */
    expect_states(rec, "CLOSE_WAIT", "FIN_WAIT_2");
    run_free(&r);
    rec = prefix_record(&r, "sp10.pcap", 50212, SESSION_SERVER, 10);
    /* Frame 9 client FIN (passive closer), unacknowledged. */
    expect_states(rec, "LAST_ACK", "FIN_WAIT_2");
    run_free(&r);
    rec = prefix_record(&r, "sp11.pcap", 50213, SESSION_SERVER, 11);
    /* Frame 10 server ACK of the client's FIN. */
    expect_states(rec, "CLOSED", "TIME_WAIT");
    run_free(&r);
}

/* ==== sequence space ========================================================================== */

/* Client ISN 0xFFFFFF00, server ISN 0xFFFFFFF0. The client sends 100 bytes (seq 0xFFFFFF01 ..
 * 0xFFFFFF64), 200 bytes from 0xFFFFFF65 that run past 2^32 (the last at 0x0000002C), then 100
 * bytes wholly after the wrap (0x0000002D .. 0x00000090); the server sends 100 bytes from
 * 0xFFFFFFF1 (crossing zero after 15 bytes), then 50 from 0x00000055.
 * Frames: 0..2 handshake, 3..5 client data, 6 server ACK, 7..8 server data, 9 client ACK,
 * 10..13 client-initiated close. */
Test(seq, wraparound) {
    struct cap c;
    struct session s;
    cap_open(&c, "wrap.pcap");
    conn_init(&s, &c, 50300, 80, 0xFFFFFF00u, 0xFFFFFFF0u);
    session_handshake(&s);
    session_data(&s, SESSION_CLIENT, 100);
    session_data(&s, SESSION_CLIENT, 200);
    cr_assert_eq(s.snd_nxt[SESSION_CLIENT], 0x0000002Du, "the client's bytes crossed zero");
    session_data(&s, SESSION_CLIENT, 100);
    session_ack(&s, SESSION_SERVER);
    session_data(&s, SESSION_SERVER, 100);
    cr_assert_eq(s.snd_nxt[SESSION_SERVER], 0x00000055u, "the server's bytes crossed zero");
    session_data(&s, SESSION_SERVER, 50);
    session_ack(&s, SESSION_CLIENT);
    session_close(&s, SESSION_CLIENT);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* Every byte sent once, in order: exact payload counts (the segments after the wrap are new
     * bytes, not old ones), nothing retransmitted or missed, and the FINs (past the wrap)
     * acknowledged → SF, fin. */
    expect_conn(rec, "SF", "ShADadFf", "fin");
    expect_payload(rec, 400, 150);
    expect_int(rec, "orig.retransmits", 0);
    expect_int(rec, "orig.retransmitted_bytes", 0);
    expect_int(rec, "resp.retransmits", 0);
    expect_int(rec, "resp.retransmitted_bytes", 0);
    expect_int(rec, "orig.missed_bytes", 0);
    expect_int(rec, "resp.missed_bytes", 0);
    expect_states(rec, "TIME_WAIT", "CLOSED");
    /* orig: SYN 60, ACK 52, 152, 252, 152, ACK 52, FIN 52, ACK 52 = 8, 824;
     * resp: SYN/ACK 60, ACK 52, 152, 102, ACK 52, FIN 52 = 6, 470. */
    expect_counts(rec, 8, 824, 6, 470);
    run_free(&r);
}

/* 0 SYN, 1 SYN/ACK, 2 ACK, 3 client 100 bytes, 4 the same 100 bytes again (same seq), 5 server
 * ACK, 6..9 client-initiated close. */
Test(seq, retransmitted_segment) {
    struct cap c;
    struct session s;
    cap_open(&c, "retx.pcap");
    conn_init(&s, &c, 50301, 80, CISN, SISN);
    session_handshake(&s);
    session_data(&s, SESSION_CLIENT, 100);
    session_write_segment(&s, SESSION_CLIENT, PB_PSH | PB_ACK, CISN + 1, SISN + 1, 100);
    session_ack(&s, SESSION_SERVER);
    session_close(&s, SESSION_CLIENT);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* Frame 4 covers only bytes already seen: one retransmission of 100 bytes; the payload is
     * counted once. History: D for the first copy, T for the retransmission. */
    expect_conn(rec, "SF", "ShADTaFf", "fin");
    expect_int(rec, "orig.retransmits", 1);
    expect_int(rec, "orig.retransmitted_bytes", 100);
    expect_payload(rec, 100, 0);
    expect_int(rec, "orig.missed_bytes", 0);
    expect_int(rec, "resp.retransmits", 0);
    /* orig: SYN 60, ACK 52, 152, 152, FIN 52, ACK 52 = 6, 520; resp: SYN/ACK 60, ACK 52,
     * ACK 52, FIN 52 = 4, 216. */
    expect_counts(rec, 6, 520, 4, 216);
    run_free(&r);
}

/* 0 SYN, 1 SYN/ACK, 2 ACK, 3 client bytes 1..100; bytes 101..200 are sent but not captured;
 * 4 client bytes 201..300; 5 server ACK of all 300; 6..9 client-initiated close. */
Test(seq, capture_gap_is_missed) {
    struct cap c;
    struct session s;
    cap_open(&c, "gap.pcap");
    conn_init(&s, &c, 50302, 80, CISN, SISN);
    session_handshake(&s);
    session_data(&s, SESSION_CLIENT, 100);
    s.snd_nxt[SESSION_CLIENT] += 100; /* the segment the capture lost */
    session_data(&s, SESSION_CLIENT, 100);
    session_ack(&s, SESSION_SERVER);
    session_close(&s, SESSION_CLIENT);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* The server's ACK (frame 5) covers bytes 101..200 that were never captured: 100 missed
     * bytes (a content gap, history G after the a of that ACK); the 200 captured bytes are the
     * payload; nothing was sent twice. */
    expect_int(rec, "orig.missed_bytes", 100);
    expect_payload(rec, 200, 0);
    expect_int(rec, "orig.retransmits", 0);
    expect_int(rec, "orig.retransmitted_bytes", 0);
    expect_conn(rec, "SF", "ShADaGFf", "fin");
    /* orig: SYN 60, ACK 52, 152, 152, FIN 52, ACK 52 = 6, 520. */
    expect_counts(rec, 6, 520, 4, 216);
    run_free(&r);
}

/* 0 SYN, 1 SYN/ACK, 2 ACK, 3 client bytes 1..100; bytes 101..200 are sent but not captured;
 * 4 server ACK of all 200; then nothing (open at EOF). */
Test(seq, capture_gap_at_end_is_missed) {
    struct cap c;
    struct session s;
    cap_open(&c, "gap-end.pcap");
    conn_init(&s, &c, 50303, 80, CISN, SISN);
    session_handshake(&s);
    session_data(&s, SESSION_CLIENT, 100);
    s.snd_nxt[SESSION_CLIENT] += 100; /* the last segment, lost */
    session_ack(&s, SESSION_SERVER);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* The ACK acknowledges 100 bytes beyond anything captured from the client: missed. */
    expect_int(rec, "orig.missed_bytes", 100);
    expect_payload(rec, 100, 0);
    expect_int(rec, "orig.retransmits", 0);
    expect_conn(rec, "S1", "ShADa", "capture_end");
    run_free(&r);
}

/* 0 SYN, 1 SYN/ACK, 2 ACK, 3 client bytes 1..100; bytes 101..200 sent but not captured; 4 the
 * client's FIN|ACK (seq = CISN + 201, after the lost bytes); 5 server ACK of the FIN (ack =
 * CISN + 202); 6 server FIN|ACK; 7 client ACK. */
Test(seq, capture_gap_before_fin_is_missed) {
    struct cap c;
    struct session s;
    cap_open(&c, "gap-fin.pcap");
    conn_init(&s, &c, 50304, 80, CISN, SISN);
    session_handshake(&s);
    session_data(&s, SESSION_CLIENT, 100);
    s.snd_nxt[SESSION_CLIENT] += 100; /* the segment the capture lost */
    session_segment(&s, SESSION_CLIENT, PB_FIN | PB_ACK, 0);
    session_ack(&s, SESSION_SERVER);
    session_segment(&s, SESSION_SERVER, PB_FIN | PB_ACK, 0);
    session_ack(&s, SESSION_CLIENT);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* The FIN sits at relative position 201, so positions 101..200 were sent before it; the
     * server's ACK of the FIN acknowledges them, and they were never captured: 100 missed bytes,
     * exactly as in capture_gap_is_missed where a data segment rather than the FIN follows the
     * hole (Zeek: the ACK passes a hole → content gap of 100). */
    expect_int(rec, "orig.missed_bytes", 100);
    expect_payload(rec, 100, 0);
    expect_conn(rec, "SF", "ShADFaGf", "fin");
    run_free(&r);
}

/* 0 SYN, 1 SYN/ACK, 2 ACK, 3 client bytes 1..100, 4 client bytes 51..150 (50 old, 50 new),
 * 5 server ACK of 150; open at EOF. */
Test(seq, partial_overlap) {
    struct cap c;
    struct session s;
    cap_open(&c, "overlap.pcap");
    conn_init(&s, &c, 50305, 80, CISN, SISN);
    session_handshake(&s);
    session_data(&s, SESSION_CLIENT, 100);
    session_write_segment(&s, SESSION_CLIENT, PB_PSH | PB_ACK, CISN + 51, SISN + 1, 100);
    s.snd_nxt[SESSION_CLIENT] = CISN + 151;
    session_ack(&s, SESSION_SERVER);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* 150 distinct bytes; 50 of frame 4's were sent before. */
    expect_payload(rec, 150, 0);
    expect_int(rec, "orig.retransmitted_bytes", 50);
    expect_int(rec, "orig.missed_bytes", 0);
    /* Zeek's T is for a payload segment whose end is not past the highest byte already seen;
     * an overlap that also extends past it is not a T (reference, history table): S h A D a. */
    expect_conn(rec, "S1", "ShADa", "capture_end");
    run_free(&r);
}

/* Frames 0..7 of the client-close exchange, the client's FIN|ACK again (same seq, ack), then
 * server ACK, server FIN|ACK, client ACK. */
Test(seq, retransmitted_fin) {
    struct cap c;
    struct session s;
    cap_open(&c, "fin-retx.pcap");
    conn_init(&s, &c, 50306, 80, CISN, SISN);
    standard_exchange(&s, 100, 200, SESSION_CLIENT, 7);
    uint32_t cf = s.snd_nxt[SESSION_CLIENT], ack = s.snd_nxt[SESSION_SERVER];
    session_segment(&s, SESSION_CLIENT, PB_FIN | PB_ACK, 0);                /* 7 */
    session_write_segment(&s, SESSION_CLIENT, PB_FIN | PB_ACK, cf, ack, 0); /* 8: again */
    session_ack(&s, SESSION_SERVER);
    session_segment(&s, SESSION_SERVER, PB_FIN | PB_ACK, 0);
    session_ack(&s, SESSION_CLIENT);
    conn_done(&s);
    cap_close(&c);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* The second FIN is at the same position: no second F, one retransmission of no payload. */
    expect_conn(rec, "SF", "ShADadFf", "fin");
    expect_int(rec, "orig.retransmits", 1);
    expect_int(rec, "orig.retransmitted_bytes", 0);
    expect_payload(rec, 100, 200);
    expect_states(rec, "TIME_WAIT", "CLOSED");
    /* orig: 420 of the ordinary close plus the second FIN, 52 → 7, 472. */
    expect_counts(rec, 7, 472, 5, 468);
    run_free(&r);
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

/* ==== the record ============================================================================= */

/* gen_clean_ipv4: 192.0.2.10:49152 → 198.51.100.20:80, the standard exchange with 120 / 1000
 * bytes. The Community ID (v1, seed 0) computed independently with Python's hashlib: SHA-1 over
 *   seed 00 00 | src c0 00 02 0a | dst c6 33 64 14 | proto 06 | pad 00 | sport c0 00 | dport 00 50
 * (the source is the smaller address, so no swap), base64 of the digest, prefixed with "1:". */
Test(record, standard_sample_community_id_and_counts) {
    const char *path = tmp_path("clean4.pcap");
    cr_assert(gen_clean_ipv4(path));
    struct run r;
    struct json_object *rec = only_record(&r, path, NULL);
    expect_str(rec, "community_id", "1:1m1W/WLkzBYWJoj/5SpV8lAVCaE=");
    expect_str(rec, "src_ip", "192.0.2.10");
    expect_int(rec, "src_port", 49152);
    expect_str(rec, "dest_ip", "198.51.100.20");
    expect_int(rec, "dest_port", 80);
    expect_conn(rec, "SF", "ShADadFf", "fin");
    expect_states(rec, "TIME_WAIT", "CLOSED");
    /* orig: SYN 60, ACK 52, data 172, ACK 52, FIN 52, ACK 52 = 6, 440; resp: SYN/ACK 60,
     * ACK 52, data 1052, FIN 52, ACK 52 = 5, 1268. */
    expect_counts(rec, 6, 440, 5, 1268);
    expect_payload(rec, 120, 1000);
    /* Frames every 10 ms from 2024-01-01T00:00:00Z (SAMPLES_STEP_NS). */
    expect_int(rec, "handshake.syn_to_synack_us", 10000);
    expect_time(rec, "ts", (int64_t)SAMPLES_START_NS);
    expect_time(rec, "end_ts", (int64_t)SAMPLES_START_NS + 10 * (int64_t)SAMPLES_STEP_NS);
    /* --community-id-seed changes the hash (the seed is part of the hashed bytes). */
    run_free(&r);
    const char *opts[] = {"--community-id-seed", "1", NULL};
    rec = only_record(&r, path, opts);
    cr_expect_str_neq(json_str_or(rec, "community_id"), "1:1m1W/WLkzBYWJoj/5SpV8lAVCaE=");
    run_free(&r);
}

/* Reads the frame lengths of a pcap written by capwrite (little-endian, 24-byte file header,
 * 16-byte record headers with incl_len at offset 8). */
static size_t pcap_frame_lengths(const char *path, uint32_t *lens, size_t max) {
    FILE *f = fopen(path, "rb");
    cr_assert(f);
    uint8_t h[24];
    cr_assert_eq(fread(h, 1, sizeof h, f), sizeof h);
    size_t n = 0;
    uint8_t rh[16];
    while (n < max && fread(rh, 1, sizeof rh, f) == sizeof rh) {
        uint32_t incl = (uint32_t)rh[8] | (uint32_t)rh[9] << 8 | (uint32_t)rh[10] << 16 |
                        (uint32_t)rh[11] << 24;
        lens[n++] = incl;
        cr_assert_eq(fseek(f, (long)incl, SEEK_CUR), 0);
    }
    fclose(f);
    return n;
}

/* The IP sizes the expectations above are built on, read back from written frames: Ethernet
 * frame length − 14. */
Test(record, frame_lengths_behind_ip_byte_counts) {
    struct cap c;
    struct session s;
    cap_open(&c, "sizes.pcap");
    conn_init(&s, &c, 50700, 80, CISN, SISN);
    session_syn(&s);
    session_syn_ack(&s);
    session_ack(&s, SESSION_CLIENT);
    session_data(&s, SESSION_CLIENT, 100);
    session_rst(&s, SESSION_SERVER);
    conn_done(&s);
    cap_close(&c);
    uint32_t lens[8];
    cr_assert_eq(pcap_frame_lengths(c.path, lens, 8), 5);
    cr_expect_eq(lens[0] - 14, IP_SYN);
    cr_expect_eq(lens[1] - 14, IP_SYN);
    cr_expect_eq(lens[2] - 14, IP_SEG);
    cr_expect_eq(lens[3] - 14, IP_SEG + 100);
    cr_expect_eq(lens[4] - 14, IP_RST);
    /* And the analyzer adds exactly these up: orig SYN + ACK + data, resp SYN/ACK + RST. */
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    expect_counts(rec, 3, lens[0] + lens[2] + lens[3] - 3 * 14, 2, lens[1] + lens[4] - 2 * 14);
    run_free(&r);
}

/* A SYN and the server's RST|ACK (seq 0, ack = CISN + 1), every frame with 6 bytes of Ethernet
 * padding after the IP packet (a 54-byte RST frame padded to the 60-byte minimum). */
Test(record, ethernet_padding_is_not_ip_bytes) {
    struct cap c;
    struct session s;
    cap_open(&c, "padded.pcap");
    struct pb_frame f = pb_tcp4();
    f.sport = 50701;
    f.eth_padding = 6;
    session_init(&s, c.w, &c.clock, &f, CISN, SISN);
    session_syn(&s);
    session_write_segment(&s, SESSION_SERVER, PB_RST | PB_ACK, 0, CISN + 1, 0);
    conn_done(&s);
    cap_close(&c);
    uint32_t lens[4];
    cr_assert_eq(pcap_frame_lengths(c.path, lens, 4), 2);
    cr_assert_eq(lens[1], 14 + IP_RST + 6);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* IP total lengths: 60 and 40; the padding is not part of the IP packet. */
    expect_counts(rec, 1, IP_SYN, 1, IP_RST);
    expect_conn(rec, "REJ", "Sr", "rst");
    run_free(&r);
}
