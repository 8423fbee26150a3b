/* End-to-end tests of the terminal ladder (--ladder, issue 15): golden text of a handshake, a
 * simultaneous open, a 4-way close, a simultaneous close, a RST close, a connection picked up
 * mid-stream and a folded data transfer, and the options' contract (choosing a uid, a uid not in
 * the input, a malformed one, records to -o alongside). Every expected line is worked out from the
 * frames the test writes (conventions: conn_helpers.h — client 10.0.0.1, server 10.0.0.2:80,
 * frame k at T0 + k × 10 ms, ISNs CISN and SISN); none is copied from the program's output.
 *
 * The layout (docs/shakedown.1, "LADDER DIAGRAMS"): seconds since the connection's first packet
 * in 10 columns, two spaces, the originator's state in 12 columns, " |", a 56-column arrow, "| ",
 * the responder's state; a state is written only where it changed (both on the first line);
 * blanks at a line's end are dropped. An arrow to the right is "-- LABEL ---->", to the left
 * "<---- LABEL --"; LABEL is the flags, seq relative to the sender's ISN, ack relative to the
 * receiver's (once known) and the payload length. row() below builds such a line from its parts;
 * the handshake test spells its lines out in full, so the layout itself is pinned too. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conn_helpers.h"
#include "pktbuild.h"
#include "run.h"
#include "session.h"

#define ARROW 56

/* One segment line of the layout above; time in units of 10 ms (the frame's index k). */
static void row(char *out, size_t len, int k, const char *left, int dir, const char *label,
                const char *right) {
    char arrow[2 * ARROW];
    size_t dashes = ARROW - strlen(label) - 5; /* "-- " + label + " " + ">" or the mirror */
    char fill[ARROW + 1];
    memset(fill, '-', dashes);
    fill[dashes] = '\0';
    if (dir == 0)
        snprintf(arrow, sizeof arrow, "-- %s %s>", label, fill);
    else
        snprintf(arrow, sizeof arrow, "<%s %s --", fill, label);
    snprintf(out, len, "%3d.%06d  %-12s |%s| %s", k / 100, (k % 100) * 10000, left, arrow, right);
    size_t n = strlen(out);
    while (n > 0 && out[n - 1] == ' ')
        out[--n] = '\0';
}

struct seg {
    int k; /* frame index: time k × 10 ms */
    const char *left;
    int dir;
    const char *label;
    const char *right;
};

/* Runs shakedown --ladder all on path (exit 0, nothing on stderr) and returns its stdout. */
static char *ladder_all(const char *path) {
    const char *args[] = {"-r", path, "--ladder", "all", NULL};
    struct run_result r = run_shakedown(NULL, args);
    cr_assert_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
    cr_expect_str_empty(r.err, "stderr: %s", r.err);
    char *out = r.out;
    r.out = NULL;
    run_result_free(&r);
    return out;
}

/* Opens the capture name for one connection 10.0.0.1:sport -> 10.0.0.2:80 (ISNs CISN, SISN),
 * ready for the test's script of it. */
static void one_conn_open(struct cap *c, struct session *s, const char *name, uint16_t sport) {
    cap_open(c, name);
    conn_init(s, c, sport, 80, CISN, SISN);
}

/* Ends the script and the capture; returns shakedown --ladder all of it (as ladder_all). */
static char *one_conn_ladder(struct cap *c, struct session *s) {
    conn_done(s);
    cap_close(c);
    return ladder_all(c->path);
}

/* Every line at most 100 columns (no colour: stdout is not a terminal, and the text is ASCII). */
static void expect_narrow(const char *text) {
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        cr_expect_leq(n, 100, "line wider than 100 columns: %.*s", (int)n, p);
        cr_expect_null(memchr(p, '\033', n), "a colour escape off a terminal: %.*s", (int)n, p);
        p += n + (nl ? 1 : 0);
    }
}

/* The ladder of one connection 10.0.0.1:sport -> 10.0.0.2:80 that started at T0: its two header
 * lines (uid as records write it), the segment lines built from segs, the fold and anomaly lines
 * given in extras after the segment of that index, and its end line. */
struct extra {
    int after; /* index into segs */
    const char *line;
};

/* The standard handshake's lines (see Test(ladder, handshake) for why). */
static const struct seg handshake_rows[] = {
    {0, "SYN_SENT", 0, "SYN seq 0 len 0", "LISTEN"},
    {1, "", 1, "SYN+ACK seq 0 ack 1 len 0", "SYN_RECEIVED"},
    {2, "ESTABLISHED", 0, "ACK seq 1 ack 1 len 0", "ESTABLISHED"},
};

static void add_row(char *want, const struct seg *g) {
    char line[256];
    row(line, sizeof line, g->k, g->left, g->dir, g->label, g->right);
    strcat(want, line);
    strcat(want, "\n");
}

/* after_handshake: the ladder starts with handshake_rows, and segs follow them. */
static void expect_ladder(const char *out, uint16_t sport, bool after_handshake,
                          const struct seg *segs, size_t n, const struct extra *extras,
                          size_t nextras, const char *end) {
    expect_narrow(out);
    /* Header: uid ("C" + 16 base62), protocol, endpoints, first packet's time. */
    cr_assert(strlen(out) > 18 && out[0] == 'C', "no uid at the start: %s", out);
    char want[4096];
    /* the column heading: each endpoint over its lifeline (12 + 28 columns for the left one,
     * the right one ending with the responder's state column, at column 96) */
    char left_end[32];
    snprintf(left_end, sizeof left_end, "10.0.0.1:%u", sport);
    snprintf(want, sizeof want,
             "  tcp  10.0.0.1:%u -> 10.0.0.2:80  2024-01-01T00:00:00.000000Z\n"
             "  time (s)  %-40s  %42s\n",
             sport, left_end, "10.0.0.2:80");
    for (size_t i = 0; after_handshake && i < 3; i++)
        add_row(want, &handshake_rows[i]);
    for (size_t i = 0; i < n; i++) {
        add_row(want, &segs[i]);
        for (size_t e = 0; e < nextras; e++)
            if (extras[e].after == (int)i) {
                strcat(want, extras[e].line);
                strcat(want, "\n");
            }
    }
    strcat(want, end);
    strcat(want, "\n\n");
    cr_expect_str_eq(out + 17, want, "ladder:\n%s\nwanted (after the uid):\n%s", out, want);
}

/* ==== golden ladders ========================================================================== */

/* 0 SYN, 1 SYN/ACK, 2 ACK; the capture ends. Spelled out in full. After the SYN the client has
 * sent a SYN nobody acknowledged (SYN_SENT) and the server, addressed by it and silent, is in
 * LISTEN. The SYN/ACK acknowledges the client's SYN (ack 1) and sends the server's: the server
 * has answered a SYN whose own SYN is unacknowledged (SYN_RECEIVED); the client has not yet
 * acknowledged the server's SYN, so it stays in SYN_SENT (not written again). The ACK
 * acknowledges the server's SYN: both SYNs acknowledged, both ESTABLISHED. Open at the end of the
 * input: capture_end. */
Test(ladder, handshake) {
    struct cap c;
    struct session s;
    one_conn_open(&c, &s, "ladder-handshake.pcap", 50000);
    session_handshake(&s);
    char *out = one_conn_ladder(&c, &s);
    expect_narrow(out);
    const char *want =
        "  tcp  10.0.0.1:50000 -> 10.0.0.2:80  2024-01-01T00:00:00.000000Z\n"
        "  time (s)  10.0.0.1:50000                                                           "
        "10.0.0.2:80\n"
        "  0.000000  SYN_SENT     |-- SYN seq 0 len 0 ------------------------------------>| "
        "LISTEN\n"
        "  0.010000               |<-------------------------- SYN+ACK seq 0 ack 1 len 0 --| "
        "SYN_RECEIVED\n"
        "  0.020000  ESTABLISHED  |-- ACK seq 1 ack 1 len 0 ------------------------------>| "
        "ESTABLISHED\n"
        "end: capture_end, 3 segments; orig ESTABLISHED, resp ESTABLISHED\n\n";
    cr_assert(strlen(out) > 17 && out[0] == 'C', "no uid: %s", out);
    cr_expect_str_eq(out + 17, want, "ladder:\n%s", out);
    free(out);
}

/* RFC 9293 §3.5 figure 8: 0 client SYN, 1 server SYN crossing it, 2 client SYN/ACK (ack 1),
 * 3 server SYN/ACK (ack 1), 4 client 100 bytes, 5 server ACK, then the client closes: 6 FIN|ACK,
 * 7 ACK, 8 FIN|ACK, 9 ACK.
 *  0: client SYN_SENT, server LISTEN (as in the handshake).
 *  1: the server sends a SYN of its own without ACK: SYN_SENT; the client still SYN_SENT. Both
 *     sides sent a bare SYN: simultaneous_open, raised by this segment.
 *  2: the client acknowledges the server's SYN while its own is unacknowledged: SYN_RECEIVED;
 *     the server's SYN is now acknowledged but it has not acknowledged the client's: SYN_SENT.
 *  3: the server acknowledges the client's SYN: both SYNs acknowledged both ways, ESTABLISHED.
 *  4, 5: data and its ACK, no state change (plain, two: not folded).
 *  6: the client's FIN before any FIN of the server: active closer, FIN_WAIT_1.
 *  7: the server acknowledges it: client FIN_WAIT_2; the server has received a FIN: CLOSE_WAIT.
 *  8: the server's FIN, answering: LAST_ACK.  9: the client acknowledges it: client TIME_WAIT,
 *     server CLOSED; both FINs acknowledged, the close is a "fin". */
Test(ladder, simultaneous_open) {
    struct cap c;
    struct session s;
    one_conn_open(&c, &s, "ladder-simopen.pcap", 50001);
    session_syn(&s);
    session_write_segment(&s, SESSION_SERVER, PB_SYN, SISN, 0, 0);
    s.snd_nxt[SESSION_SERVER] = SISN + 1;
    session_write_segment(&s, SESSION_CLIENT, PB_SYN | PB_ACK, CISN, SISN + 1, 0);
    session_write_segment(&s, SESSION_SERVER, PB_SYN | PB_ACK, SISN, CISN + 1, 0);
    session_data(&s, SESSION_CLIENT, 100);
    session_ack(&s, SESSION_SERVER);
    session_close(&s, SESSION_CLIENT);
    char *out = one_conn_ladder(&c, &s);
    const struct seg segs[] = {
        {0, "SYN_SENT", 0, "SYN seq 0 len 0", "LISTEN"},
        {1, "", 1, "SYN seq 0 len 0", "SYN_SENT"},
        {2, "SYN_RECEIVED", 0, "SYN+ACK seq 0 ack 1 len 0", ""},
        {3, "ESTABLISHED", 1, "SYN+ACK seq 0 ack 1 len 0", "ESTABLISHED"},
        {4, "", 0, "PSH+ACK seq 1 ack 1 len 100", ""},
        {5, "", 1, "ACK seq 1 ack 101 len 0", ""},
        {6, "FIN_WAIT_1", 0, "FIN+ACK seq 101 ack 1 len 0", ""},
        {7, "FIN_WAIT_2", 1, "ACK seq 1 ack 102 len 0", "CLOSE_WAIT"},
        {8, "", 1, "FIN+ACK seq 1 ack 102 len 0", "LAST_ACK"},
        {9, "TIME_WAIT", 0, "ACK seq 102 ack 2 len 0", "CLOSED"},
    };
    /* the anomaly line: indented to the arrow (26 columns) */
    const struct extra extras[] = {{1, "                          ! simultaneous_open"}};
    expect_ladder(out, 50001, false, segs, 10, extras, 1,
                  "end: fin, 10 segments; orig TIME_WAIT, resp CLOSED");
    free(out);
}

/* The standard exchange with the server closing (conn_helpers.h): 0 SYN, 1 SYN/ACK, 2 ACK,
 * 3 client 100 bytes, 4 ACK, 5 server 200 bytes, 6 ACK, 7 server FIN|ACK, 8 client ACK,
 * 9 client FIN|ACK, 10 server ACK. Handshake as above; 3..6 plain (four: not folded);
 *  7: the server's FIN first: active closer, FIN_WAIT_1 (server seq 1 + 200 = 201).
 *  8: the client acknowledges it (ack 202): the server FIN_WAIT_2, the client CLOSE_WAIT.
 *  9: the client's FIN answers: LAST_ACK.  10: acknowledged (ack 102): the client CLOSED, the
 *     server TIME_WAIT. */
Test(ladder, four_way_close) {
    struct cap c;
    struct session s;
    one_conn_open(&c, &s, "ladder-4way.pcap", 50002);
    standard_exchange(&s, 100, 200, SESSION_SERVER, 11);
    char *out = one_conn_ladder(&c, &s);
    const struct seg segs[] = {
        {3, "", 0, "PSH+ACK seq 1 ack 1 len 100", ""},
        {4, "", 1, "ACK seq 1 ack 101 len 0", ""},
        {5, "", 1, "PSH+ACK seq 1 ack 101 len 200", ""},
        {6, "", 0, "ACK seq 101 ack 201 len 0", ""},
        {7, "", 1, "FIN+ACK seq 201 ack 101 len 0", "FIN_WAIT_1"},
        {8, "CLOSE_WAIT", 0, "ACK seq 101 ack 202 len 0", "FIN_WAIT_2"},
        {9, "LAST_ACK", 0, "FIN+ACK seq 101 ack 202 len 0", ""},
        {10, "CLOSED", 1, "ACK seq 202 ack 102 len 0", "TIME_WAIT"},
    };
    expect_ladder(out, 50002, true, segs, 8, NULL, 0,
                  "end: fin, 11 segments; orig CLOSED, resp TIME_WAIT");
    free(out);
}

/* Handshake (0..2), then FINs that cross: 3 client FIN|ACK (seq 1, ack 1), 4 server FIN|ACK
 * (seq 1, ack 1: it has not received the client's FIN), 5 client ACK (ack 2), 6 server ACK
 * (ack 2).
 *  3: client active closer, FIN_WAIT_1.
 *  4: the server's FIN does not acknowledge the client's: it too closes actively, FIN_WAIT_1.
 *  5: the client acknowledges the server's FIN while its own is unacknowledged: the FINs crossed,
 *     CLOSING; the server's FIN is acknowledged, and it has acknowledged no FIN yet: FIN_WAIT_2
 *     (what the capture point can tell: the server's receipt of the client's FIN shows only in
 *     its ACK, frame 6).
 *  6: the server acknowledges the client's FIN: both in TIME_WAIT; both were active closers, so
 *     the close is a simultaneous_fin. */
Test(ladder, simultaneous_close) {
    struct cap c;
    struct session s;
    one_conn_open(&c, &s, "ladder-simclose.pcap", 50003);
    session_handshake(&s);
    session_write_segment(&s, SESSION_CLIENT, PB_FIN | PB_ACK, CISN + 1, SISN + 1, 0);
    session_write_segment(&s, SESSION_SERVER, PB_FIN | PB_ACK, SISN + 1, CISN + 1, 0);
    session_write_segment(&s, SESSION_CLIENT, PB_ACK, CISN + 2, SISN + 2, 0);
    session_write_segment(&s, SESSION_SERVER, PB_ACK, SISN + 2, CISN + 2, 0);
    char *out = one_conn_ladder(&c, &s);
    const struct seg segs[] = {
        {3, "FIN_WAIT_1", 0, "FIN+ACK seq 1 ack 1 len 0", ""},
        {4, "", 1, "FIN+ACK seq 1 ack 1 len 0", "FIN_WAIT_1"},
        {5, "CLOSING", 0, "ACK seq 2 ack 2 len 0", "FIN_WAIT_2"},
        {6, "TIME_WAIT", 1, "ACK seq 2 ack 2 len 0", "TIME_WAIT"},
    };
    expect_ladder(out, 50003, true, segs, 4, NULL, 0,
                  "end: simultaneous_fin, 7 segments; orig TIME_WAIT, resp TIME_WAIT");
    free(out);
}

/* Handshake, 3 client 100 bytes, 4 server ACK (ack 101), 5 server RST|ACK at its next sequence
 * number (seq 1, ack 101: acceptable, RFC 9293 §3.10.7.4): a reset connection is gone on both
 * sides, CLOSED and CLOSED; close "rst". */
Test(ladder, rst_close) {
    struct cap c;
    struct session s;
    one_conn_open(&c, &s, "ladder-rst.pcap", 50004);
    session_handshake(&s);
    session_data(&s, SESSION_CLIENT, 100);
    session_ack(&s, SESSION_SERVER);
    session_rst(&s, SESSION_SERVER);
    char *out = one_conn_ladder(&c, &s);
    const struct seg segs[] = {
        {3, "", 0, "PSH+ACK seq 1 ack 1 len 100", ""},
        {4, "", 1, "ACK seq 1 ack 101 len 0", ""},
        {5, "CLOSED", 1, "RST+ACK seq 1 ack 101 len 0", "CLOSED"},
    };
    expect_ladder(out, 50004, true, segs, 3, NULL, 0,
                  "end: rst, 6 segments; orig CLOSED, resp CLOSED");
    free(out);
}

/* No handshake: 0 client 100 bytes (seq CISN + 1, ack SISN + 1), 1 server ACK (ack CISN + 101),
 * 2 server 200 bytes, 3 client ACK. The client (port 50005 to 80) is the originator. Picked up
 * mid-stream, both sides count as ESTABLISHED from the first segment (the handshake happened
 * before the capture). The client's sequence space starts as if its SYN were at seq − 1, so its
 * first byte is seq 1; the server's is not known yet at frame 0, so that ack is written as it
 * is on the wire: SISN + 1 = 0x20000001 = 536870913. From frame 1 the server's space is known
 * the same way (its first seq is 1). */
Test(ladder, midstream) {
    struct cap c;
    struct session s;
    one_conn_open(&c, &s, "ladder-midstream.pcap", 50005);
    session_write_segment(&s, SESSION_CLIENT, PB_PSH | PB_ACK, CISN + 1, SISN + 1, 100);
    session_write_segment(&s, SESSION_SERVER, PB_ACK, SISN + 1, CISN + 101, 0);
    session_write_segment(&s, SESSION_SERVER, PB_PSH | PB_ACK, SISN + 1, CISN + 101, 200);
    session_write_segment(&s, SESSION_CLIENT, PB_ACK, CISN + 101, SISN + 201, 0);
    char *out = one_conn_ladder(&c, &s);
    const struct seg segs[] = {
        {0, "ESTABLISHED", 0, "PSH+ACK seq 1 ack 536870913 len 100", "ESTABLISHED"},
        {1, "", 1, "ACK seq 1 ack 101 len 0", ""},
        {2, "", 1, "PSH+ACK seq 1 ack 101 len 200", ""},
        {3, "", 0, "ACK seq 101 ack 201 len 0", ""},
    };
    expect_ladder(out, 50005, false, segs, 4, NULL, 0,
                  "end: capture_end, 4 segments; orig ESTABLISHED, resp ESTABLISHED");
    free(out);
}

/* Handshake, then twenty rounds of client 1000 bytes + server ACK (frames 3..42, forty plain
 * segments), then the client's close (43..46). The run of forty is folded: its first three lines
 * (3 data, 4 ACK, 5 data), one fold line for the 35 in between, its last two (41 data, 42 ACK).
 * The folded segments hold 17 of the 20 data segments (the 20 minus frames 3, 5 and 41):
 * 17,000 bytes = "17.0 kB" to the server, nothing back ("0 B"); the fold spans frame 5 to frame
 * 41, 36 × 10 ms = 0.360 s. Client seq after k rounds: 1 + 1000 k. */
Test(ladder, long_transfer_is_folded) {
    struct cap c;
    bulk_transfer_capture(&c, "ladder-fold.pcap", 50006, 20, 1000);
    char *out = ladder_all(c.path);
    const struct seg segs[] = {
        {3, "", 0, "PSH+ACK seq 1 ack 1 len 1000", ""},
        {4, "", 1, "ACK seq 1 ack 1001 len 0", ""},
        {5, "", 0, "PSH+ACK seq 1001 ack 1 len 1000", ""},
        {41, "", 0, "PSH+ACK seq 19001 ack 1 len 1000", ""},
        {42, "", 1, "ACK seq 1 ack 20001 len 0", ""},
        {43, "FIN_WAIT_1", 0, "FIN+ACK seq 20001 ack 1 len 0", ""},
        {44, "FIN_WAIT_2", 1, "ACK seq 1 ack 20002 len 0", "CLOSE_WAIT"},
        {45, "", 1, "FIN+ACK seq 1 ack 20002 len 0", "LAST_ACK"},
        {46, "TIME_WAIT", 0, "ACK seq 20002 ack 2 len 0", "CLOSED"},
    };
    const struct extra extras[] = {
        {2, "                          ... 35 segments, 17.0 kB ->, 0 B <-, 0.360 s ..."}};
    expect_ladder(out, 50006, true, segs, 9, extras, 1,
                  "end: fin, 47 segments; orig TIME_WAIT, resp CLOSED");
    free(out);
}

/* ==== choosing connections =====================================================================
 */

/* Two connections (ports 50007 and 50008, each the standard exchange, the second starting at
 * 1 s). --ladder with the second's uid (read from its JSON record) draws that one only: one
 * header, naming port 50008; ends with the second's close. */
Test(ladder, uid_picks_one_connection) {
    struct cap c;
    struct session a, b;
    cap_open(&c, "ladder-pick.pcap");
    conn_init(&a, &c, 50007, 80, CISN, SISN);
    standard_exchange(&a, 100, 200, SESSION_CLIENT, 11);
    cap_at(&c, T0 + SEC);
    conn_init(&b, &c, 50008, 80, CISN, SISN);
    standard_exchange(&b, 100, 200, SESSION_CLIENT, 11);
    conn_done(&a);
    conn_done(&b);
    cap_close(&c);
    struct run r;
    run_capture(&r, c.path, NULL);
    cr_assert_eq(r.n, 2);
    const char *uid = json_str_at(r.rec[1], "uid");
    cr_assert(uid);
    char want_uid[32];
    snprintf(want_uid, sizeof want_uid, "%s", uid);
    cr_assert_eq(json_int_at(r.rec[1], "src_port"), 50008);
    run_free(&r);
    const char *args[] = {"-r", c.path, "--ladder", want_uid, NULL};
    struct run_result l = run_shakedown(NULL, args);
    cr_expect_eq(l.status, 0, "exit %d: %s", l.status, l.err);
    cr_expect(strncmp(l.out, want_uid, strlen(want_uid)) == 0, "not its ladder: %s", l.out);
    cr_expect(strstr(l.out, "10.0.0.1:50008 -> 10.0.0.2:80"), "%s", l.out);
    cr_expect_null(strstr(l.out, "50007"), "the other connection drawn too: %s", l.out);
    /* 2 header lines, 11 segments, the end line and a blank line; no record (no -o) */
    cr_expect_eq(count_lines(l.out), 15, "%s", l.out);
    cr_expect_null(strstr(l.out, "\"type\""), "records on stdout with the ladder: %s", l.out);
    run_result_free(&l);
}

/* A well-formed uid that no connection has: the input is analysed, one line names the uid, and
 * the exit status is 2 (what was asked cannot be drawn). */
Test(ladder, unknown_uid_is_an_error) {
    struct cap c;
    struct session s;
    one_conn_open(&c, &s, "ladder-unknown.pcap", 50009);
    session_handshake(&s);
    conn_done(&s);
    cap_close(&c);
    const char *args[] = {"-r", c.path, "--ladder", "C0000000000000000", NULL};
    struct run_result r = run_shakedown(NULL, args);
    cr_expect_eq(r.status, 2);
    cr_expect_str_empty(r.out, "%s", r.out);
    cr_expect_eq(count_lines(r.err), 1, "%s", r.err);
    cr_expect(strstr(r.err, "C0000000000000000"), "%s", r.err);
    run_result_free(&r);
}

/* Not a uid: refused before anything is read, one line, exit 2. */
Test(ladder, malformed_uid_is_a_usage_error) {
    const char *bad[] = {"C123", "X0000000000000000", "C00000000000000-0", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *args[] = {"-r", "/nonexistent.pcap", "--ladder", bad[i], NULL};
        struct run_result r = run_shakedown(NULL, args);
        cr_expect_eq(r.status, 2, "'%s': exit %d", bad[i], r.status);
        cr_expect_eq(count_lines(r.err), 1, "'%s': %s", bad[i], r.err);
        cr_expect(strstr(r.err, "--ladder"), "'%s': %s", bad[i], r.err);
        run_result_free(&r);
    }
}

/* With -o FILE the records still go to the file while the ladder has standard output: the file
 * holds the connection record (and the summary), stdout the ladder only. */
Test(ladder, records_go_to_the_output_file) {
    struct cap c;
    struct session s;
    one_conn_open(&c, &s, "ladder-records.pcap", 50010);
    standard_exchange(&s, 100, 200, SESSION_CLIENT, 11);
    conn_done(&s);
    cap_close(&c);
    char outfile[300];
    snprintf(outfile, sizeof outfile, "%s", tmp_path("ladder-records.json"));
    const char *args[] = {"-r", c.path, "--ladder", "all", "-F", "json", "-o", outfile, NULL};
    struct run_result r = run_shakedown(NULL, args);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "end: fin, 11 segments"), "%s", r.out);
    FILE *f = fopen(outfile, "r");
    cr_assert(f);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    cr_expect(strstr(buf, "\"type\":\"connection\""), "%s", buf);
    cr_expect(strstr(buf, "\"type\":\"summary\""), "%s", buf);
    run_result_free(&r);
}

/* `shakedown --ladder all | head -1`: the reader goes away after the first line. 400
 * connections draw about 400 KB of ladders, far more than a pipe holds, so writing fails while
 * the input is still being read: shakedown stops quietly, status 0, nothing on stderr — as it
 * does when the reader of its records goes away (docs/shakedown.1, SIGNALS). */
Test(ladder, reader_going_away_stops_quietly) {
    struct cap c;
    cap_open(&c, "ladder-many.pcap");
    for (uint16_t i = 0; i < 400; i++) {
        struct session s;
        conn_init(&s, &c, (uint16_t)(54000 + i), 80, CISN, SISN);
        standard_exchange(&s, 100, 200, SESSION_CLIENT, 11);
        conn_done(&s);
    }
    cap_close(&c);
    int out[2];
    cr_assert_eq(pipe(out), 0);
    char errpath[300];
    snprintf(errpath, sizeof errpath, "%s", tmp_path("ladder-many.err"));
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        int err = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(out[1], STDOUT_FILENO);
        dup2(err, STDERR_FILENO);
        close(out[0]);
        signal(SIGPIPE, SIG_DFL); /* as a shell would start it; shakedown ignores it itself */
        execl(SHAKEDOWN_BIN, SHAKEDOWN_BIN, "-r", c.path, "--ladder", "all", (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    char first[64];
    cr_assert_gt(read(out[0], first, sizeof first), 0);
    close(out[0]); /* the reader is gone */
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
    char *err = read_whole_file(errpath);
    cr_expect_str_empty(err, "stderr: %s", err);
    free(err);
}

/* What a connection's end reveals is drawn under its end line, as a segment's anomalies are
 * under the segment: after the handshake (0-2), 3 the client's 100 bytes, 4 the same 100 bytes
 * again (seq 1 again: retransmission, raised on that segment; no state changes, so no state is
 * written on either row), then the input ends. The server never acknowledged them, and data its
 * sender resent gets no answer grace (the resend says the sender's own timer found the ACK
 * overdue): data_unacked, judged at the end and shown on no segment, so under the end line; both
 * ends still ESTABLISHED. */
Test(ladder, end_anomalies_under_the_end_line) {
    struct cap c;
    resent_unacked_capture(&c, "ladder-end-anomalies.pcap", 50020);
    char *out = ladder_all(c.path);
    const struct seg segs[] = {
        {3, "", 0, "PSH+ACK seq 1 ack 1 len 100", ""},
        {4, "", 0, "PSH+ACK seq 1 ack 1 len 100", ""},
    };
    const struct extra extras[] = {{1, "                          ! retransmission"}};
    expect_ladder(out, 50020, true, segs, 2, extras, 1,
                  "end: capture_end, 5 segments; orig ESTABLISHED, resp ESTABLISHED\n"
                  "                          ! data_unacked");
    free(out);
}

/* IPv6 ends of the longest kind (8 groups of 4 digits: 39 characters; with brackets and port 47
 * for the client's, 45 for the server's): uid, protocol, both ends and the time would take 17 +
 * 7 + 47 + 4 + 45 + 2 + 27 = 149 columns, so the header is the uid, protocol and time (51
 * columns), then the two ends on a line of their own (2 + 47 + 4 + 45 = 98). The column heading
 * keeps its widths (40 over the left lifeline, 42 over the right): the client's end becomes its
 * first 18 characters, "...", its last 19; the server's its first 19, "...", its last 20. Every
 * line within 100 (the heading 10 + 2 + 40 + 2 + 42 = 96). */
Test(ladder, long_ipv6_ends_stay_within_100_columns) {
    struct cap c;
    struct session s;
    struct pb_frame f = pb_tcp6();
    static const uint8_t client[16] = {0x2a, 0x01, 0x4f, 0x8d, 0x11, 0x11, 0x22, 0x22,
                                       0x33, 0x33, 0x44, 0x44, 0x55, 0x55, 0x66, 0x66};
    static const uint8_t server[16] = {0x2a, 0x01, 0x4f, 0x8d, 0xaa, 0xaa, 0xbb, 0xbb,
                                       0xcc, 0xcc, 0xdd, 0xdd, 0xee, 0xee, 0xff, 0xff};
    memcpy(f.src, client, 16);
    memcpy(f.dst, server, 16);
    f.sport = 50030;
    f.dport = 443;
    cap_open(&c, "ladder-ipv6.pcap");
    session_init(&s, c.w, &c.clock, &f, CISN, SISN);
    session_handshake(&s);
    char *out = one_conn_ladder(&c, &s);
    expect_narrow(out);
    const char *nl = strchr(out, '\n');
    cr_assert(nl);
    /* from the line's end back over "  tcp  " and the time: the uid before is the records' */
    const char *want = "  tcp  2024-01-01T00:00:00.000000Z\n"
                       "  [2a01:4f8d:1111:2222:3333:4444:5555:6666]:50030 -> "
                       "[2a01:4f8d:aaaa:bbbb:cccc:dddd:eeee:ffff]:443\n"
                       "  time (s)  [2a01:4f8d:1111:22...44:5555:6666]:50030  "
                       "[2a01:4f8d:aaaa:bbb...:dddd:eeee:ffff]:443\n"
                       "  0.000000  SYN_SENT     |";
    cr_expect(strncmp(nl - 34, want, strlen(want)) == 0, "ladder:\n%s\nwanted after the uid:\n%s",
              out, want);
    free(out);
}

/* ==== the memory bounds of --ladder all =========================================================
 */

/* Occurrences of needle in s (one pass: strstr from each match on would cost a strlen of the
 * rest per match under AddressSanitizer's interceptor, quadratic on these megabytes). */
static size_t count_of(const char *s, const char *needle) {
    size_t n = 0, len = strlen(needle), slen = strlen(s);
    for (size_t i = 0; i + len <= slen; i++)
        if (s[i] == needle[0] && memcmp(s + i, needle, len) == 0)
            n++;
    return n;
}

/* 16384 connections are drawn at once at the most. 16387 clients (ports 1024 on)
 * each send a SYN, 1 µs apart (no timeout between), then each a RST, then an hour later a last
 * one (port 60000) a SYN and a RST. The first 16384 are drawn; the next 3 open while 16384 are
 * being drawn and are not (no ladder names ports 17408-17410); an hour later every earlier one
 * has ended, so the last one is drawn: 16385 ladders, and one line on stderr counting the 3. */
Test(ladder, all_draws_at_most_16384_connections_at_once, .timeout = 120) {
    enum { DRAWN_MAX = 16384, N = DRAWN_MAX + 3 }; /* docs/shakedown.1, "LADDER DIAGRAMS" */
    struct cap c;
    cap_open(&c, "ladder-cap-drawn.pcap");
    c.clock.step_ns = 1000;
    struct session *s = calloc(N, sizeof *s);
    cr_assert(s);
    for (int i = 0; i < N; i++) {
        conn_init(&s[i], &c, (uint16_t)(1024 + i), 80, CISN, SISN);
        session_syn(&s[i]);
    }
    for (int i = 0; i < N; i++) {
        session_rst(&s[i], SESSION_CLIENT);
        conn_done(&s[i]);
    }
    free(s);
    struct session last;
    cap_at(&c, T0 + 3600 * SEC);
    conn_init(&last, &c, 60000, 80, CISN, SISN);
    session_syn(&last);
    session_rst(&last, SESSION_CLIENT);
    conn_done(&last);
    cap_close(&c);
    const char *args[] = {"-r", c.path, "--ladder", "all", NULL};
    struct run_result r = run_shakedown(NULL, args);
    cr_expect_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    cr_expect_str_eq(r.err,
                     "shakedown: --ladder: 3 connections not drawn: 16384 were being drawn at "
                     "once (the bound on its memory)\n");
    cr_expect_eq(count_of(r.out, "\nend: "), DRAWN_MAX + 1);
    cr_expect(strstr(r.out, "10.0.0.1:17407 -> 10.0.0.2:80"), "the 16384th not drawn");
    for (int port = 17408; port <= 17410; port++) {
        char end[64];
        snprintf(end, sizeof end, "10.0.0.1:%d -> ", port);
        cr_expect_null(strstr(r.out, end), "port %d drawn", port);
    }
    cr_expect(strstr(r.out, "10.0.0.1:60000 -> 10.0.0.2:80"), "the last one not drawn");
    run_result_free(&r);
}

/* 131072 rows (64 connections' worth) are kept across the connections being drawn at once. 65
 * clients (ports 1024-1088) each send 2030 SYNs (the same ISN: retransmissions), round robin, 1 µs
 * apart: each segment is a row (a SYN is never folded), 2030 a connection, within LADDER_ROWS_MAX
 * (2048) but 131950 in all. Rows are reserved as a connection needs them, doubling from 32: all 65
 * reach 1024 together (66560), then in turn ask for 2048; the 131072 − 66560 = 64512 rows
 * left give 63 of them their 1024 more, the last two (ports 1087, 1088) none: they keep 1024
 * rows and leave 1006 segments out, the others keep all 2030. */
Test(ladder, all_keeps_at_most_131072_rows_at_once, .timeout = 120) {
    enum { N = 65, SYNS = 2030 };
    struct cap c;
    cap_open(&c, "ladder-cap-rows.pcap");
    c.clock.step_ns = 1000;
    struct session s[N];
    for (int i = 0; i < N; i++)
        conn_init(&s[i], &c, (uint16_t)(1024 + i), 80, CISN, SISN);
    for (int k = 0; k < SYNS; k++)
        for (int i = 0; i < N; i++)
            session_write_segment(&s[i], SESSION_CLIENT, PB_SYN, CISN, 0, 0);
    for (int i = 0; i < N; i++)
        conn_done(&s[i]);
    cap_close(&c);
    const char *args[] = {"-r", c.path, "--ladder", "all", NULL};
    struct run_result r = run_shakedown(NULL, args);
    cr_expect_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    cr_expect_str_empty(r.err, "%s", r.err);
    cr_expect_eq(count_of(r.out, "\nend: capture_end, 2,030 segments"), N);
    cr_expect_eq(count_of(r.out, "... 1006 more segments not drawn (1024 rows kept)\n"), 2);
    cr_expect_eq(count_of(r.out, "more segments not drawn"), 2);
    for (int port = 1087; port <= 1088; port++) {
        char head[64];
        snprintf(head, sizeof head, "10.0.0.1:%d -> 10.0.0.2:80", port);
        const char *at = strstr(r.out, head), *next = at ? strstr(at, "\nend: ") : NULL;
        const char *cut = at ? strstr(at, "more segments not drawn (1024 rows kept)") : NULL;
        cr_expect(at && cut && next && cut < next, "port %d: not the one cut short", port);
    }
    run_result_free(&r);
}
