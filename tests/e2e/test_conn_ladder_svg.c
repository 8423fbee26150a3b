/* End-to-end tests of --ladder-svg DIR (issue 15): one DIR/UID.svg per TCP connection, the
 * capture point between the lifelines, the far endpoint's part of each arrow dashed (inferred),
 * states, labels (XML-escaped), the time scale; a directory that cannot be used. Conventions of
 * the captures: conn_helpers.h. Expected contents are worked out from the frames written. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conn_helpers.h"
#include "pktbuild.h"
#include "run.h"
#include "session.h"

/* Occurrences of needle in hay. */
static int count(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* Runs shakedown -F json --ladder-svg dir on path (exit 0) and returns the SVG of its only
 * connection, named by the uid of its record. */
static char *only_svg(const char *path, const char *dirname) {
    char dir[300];
    snprintf(dir, sizeof dir, "%s", tmp_path(dirname));
    mkdir(dir, 0700);
    const char *opts[] = {"--ladder-svg", dir, NULL};
    struct run r;
    run_capture(&r, path, opts);
    cr_assert_eq(r.n, 1);
    char svg[400];
    snprintf(svg, sizeof svg, "%s/%s.svg", dir, json_str_at(r.rec[0], "uid"));
    run_free(&r);
    return read_whole_file(svg);
}

/* The standard exchange, client closing (11 frames, 10 ms apart): SYN→SYN/ACK and SYN/ACK→ACK
 * both 10 ms, so which side is near the capture point is unknown: it is drawn in the middle and
 * both parts of every arrow are inferred — 2 dashed parts and 2 hollow dots per segment. Every
 * state of the 4-way close is written beside its lifeline where it changes (as in the text
 * ladder: SYN_SENT, LISTEN, SYN_RECEIVED, ESTABLISHED twice, FIN_WAIT_1, FIN_WAIT_2, CLOSE_WAIT,
 * LAST_ACK, TIME_WAIT, CLOSED); the time scale has one label per row (0.000000 … 0.100000). */
Test(ladder_svg, four_way_close_capture_point_unknown) {
    struct cap c;
    struct session s;
    cap_open(&c, "svg-4way.pcap");
    conn_init(&s, &c, 52000, 80, CISN, SISN);
    standard_exchange(&s, 100, 200, SESSION_CLIENT, 11);
    conn_done(&s);
    cap_close(&c);
    char *svg = only_svg(c.path, "svg-4way");
    cr_expect(strncmp(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39) == 0, "%.80s", svg);
    cr_expect(strstr(svg, "</svg>\n"), "not closed");
    cr_expect(strstr(svg, ">capture point</text>"));
    cr_expect(strstr(svg, "10.0.0.1:52000 -&gt; 10.0.0.2:80"), "title");
    cr_expect_eq(count(svg, "stroke-dasharray=\"5 4\""), 22, "2 inferred parts x 11 segments");
    cr_expect_eq(count(svg, "fill=\"#fff\" stroke="), 22, "hollow inferred ends");
    const char *states[] = {">SYN_SENT<",   ">LISTEN<",     ">SYN_RECEIVED<",
                            ">FIN_WAIT_1<", ">FIN_WAIT_2<", ">CLOSE_WAIT<",
                            ">LAST_ACK<",   ">TIME_WAIT<",  ">CLOSED<"};
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
        cr_expect_eq(count(svg, states[i]), 1, "%s once", states[i]);
    cr_expect_eq(count(svg, ">ESTABLISHED<"), 2, "both sides on frame 2");
    cr_expect(strstr(svg, ">SYN seq 0 len 0<"));
    cr_expect(strstr(svg, ">SYN+ACK seq 0 ack 1 len 0<"));
    cr_expect(strstr(svg, ">FIN+ACK seq 101 ack 201 len 0<"));
    cr_expect(strstr(svg, ">0.000000<") && strstr(svg, ">0.100000<"), "time scale");
    cr_expect(strstr(svg, "end: fin, 11 segments; orig TIME_WAIT, resp CLOSED"));
    cr_expect_null(strstr(svg, "at the end"), "a clean close judged nothing at its end");
    free(svg);
}

/* After the handshake, the client's 100 bytes sent twice and never acknowledged, then the input
 * ends: data_unacked (resent data gets no answer grace), judged at the end and raised on no
 * segment, is written in red under the end line (the retransmission is on its segment). */
Test(ladder_svg, end_anomalies_under_the_end_line) {
    struct cap c;
    resent_unacked_capture(&c, "svg-end.pcap", 52010);
    char *svg = only_svg(c.path, "svg-end");
    cr_expect(strstr(svg, "end: capture_end, 5 segments; orig ESTABLISHED, resp ESTABLISHED"));
    cr_expect(strstr(svg, "fill=\"#c00\">! at the end: data_unacked</text>"), "%s", svg);
    cr_expect(strstr(svg, "! retransmission</text>"), "on its segment");
    cr_expect(strstr(svg, "</svg>\n"), "not closed");
    free(svg);
}

/* The capture point next to the client: the SYN/ACK comes 40 ms after the SYN, the client's ACK
 * 1 ms after the SYN/ACK (the capture sees the client answer at once: it sits by the client).
 * Then the client sends 100 bytes and the capture ends: 4 segments. Only the parts between the
 * capture point and the responder are inferred: one dashed part and one hollow dot per segment.
 * The capture point's line is drawn at 22 % of the way from the originator's lifeline (x 250) to
 * the responder's (x 800): x = 371.0. */
Test(ladder_svg, capture_point_near_the_client) {
    struct cap c;
    struct session s;
    cap_open(&c, "svg-near.pcap");
    conn_init(&s, &c, 52001, 80, CISN, SISN);
    session_syn(&s);
    cap_at(&c, T0 + 40 * 1000000);
    session_syn_ack(&s);
    cap_at(&c, T0 + 41 * 1000000);
    session_ack(&s, SESSION_CLIENT);
    session_data(&s, SESSION_CLIENT, 100);
    conn_done(&s);
    cap_close(&c);
    char *svg = only_svg(c.path, "svg-near");
    cr_expect_eq(count(svg, "stroke-dasharray=\"5 4\""), 4, "the far part of 4 segments");
    cr_expect_eq(count(svg, "fill=\"#fff\" stroke="), 4);
    cr_expect(strstr(svg, "x1=\"371.0\" y1=\"100\" x2=\"371.0\""), "capture point at x 371");
    free(svg);
}

/* A folded run (the fold test of the text ladder: 40 plain segments, 35 folded) is one row whose
 * text carries "->" and "<-": written escaped, so the file stays well-formed XML. */
Test(ladder_svg, fold_label_is_escaped) {
    struct cap c;
    bulk_transfer_capture(&c, "svg-fold.pcap", 52002, 20, 1000);
    char *svg = only_svg(c.path, "svg-fold");
    cr_expect(strstr(svg, ">... 35 segments, 17.0 kB -&gt;, 0 B &lt;-, 0.360 s ...<"), "fold row");
    cr_expect_null(strstr(svg, " <-"), "an unescaped < in text");
    cr_expect(strstr(svg, "end: fin, 47 segments"));
    free(svg);
}

/* A directory that does not exist, or a file: refused before anything is read, one line, 2. */
Test(ladder_svg, unusable_directory_is_a_usage_error) {
    struct cap c;
    struct session s;
    cap_open(&c, "svg-baddir.pcap");
    conn_init(&s, &c, 52003, 80, CISN, SISN);
    session_handshake(&s);
    conn_done(&s);
    cap_close(&c);
    const char *dirs[] = {tmp_path("no-such-dir"), c.path};
    for (size_t i = 0; i < 2; i++) {
        char dir[300];
        snprintf(dir, sizeof dir, "%s", dirs[i]);
        const char *args[] = {"-r", c.path, "--ladder-svg", dir, NULL};
        struct run_result r = run_shakedown(NULL, args);
        cr_expect_eq(r.status, 2, "%s: exit %d", dir, r.status);
        cr_expect_eq(count_lines(r.err), 1, "%s", r.err);
        cr_expect(strstr(r.err, "--ladder-svg"), "%s", r.err);
        cr_expect_str_empty(r.out, "%s", r.out);
        run_result_free(&r);
    }
}
