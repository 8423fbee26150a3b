/* End-to-end tests of the terminal table (-F text): it fits the width it is given ($COLUMNS when
 * the output is not a terminal), shortening long addresses instead of wrapping; --wide adds the
 * other columns; rows name their end time; a connection's anomalies are listed under its row in
 * fixed columns; a run with no connection says why in its first line. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capwrite.h"
#include "pktbuild.h"
#include "run.h"
#include "samples.h"
#include "script.h"
#include "session.h"

/* One TCP exchange between two IPv6 addresses of 38 characters each (no zero group to
 * compress): 2001:db8:85a3:1234:5678:8a2e:370:7334 port 50123 -> ...:7335 port 443; handshake,
 * 100 bytes each way, close by the client. */
static const char *long_ipv6_capture(void) {
    static const uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8, 0x85, 0xa3, 0x12, 0x34,
                                  0x56, 0x78, 0x8a, 0x2e, 0x03, 0x70, 0x73, 0x34};
    struct cap c;
    struct session s;
    cap_open(&c, "long6.pcap");
    struct pb_frame tmpl = pb_tcp6();
    memcpy(tmpl.src, a, 16);
    memcpy(tmpl.dst, a, 16);
    tmpl.dst[15] = 0x35;
    tmpl.sport = 50123;
    tmpl.dport = 443;
    session_init(&s, c.w, &c.clock, &tmpl, CISN, SISN);
    cr_assert(session_handshake(&s));
    cr_assert(session_data(&s, SESSION_CLIENT, 100));
    cr_assert(session_data(&s, SESSION_SERVER, 100));
    cr_assert(session_close(&s, SESSION_CLIENT));
    cap_close(&c);
    static char path[256];
    snprintf(path, sizeof path, "%s", c.path);
    return path;
}

static struct run_result run_text(const char *path, const char *columns, const char *extra) {
    setenv("COLUMNS", columns, 1);
    const char *args[] = {"-F", "text", "-r", path, extra, NULL};
    struct run_result r = run_shakedown(NULL, args);
    unsetenv("COLUMNS");
    cr_assert_eq(r.status, 0, "%s", r.err);
    return r;
}

/* Checks every line of the table (up to the blank line before the summary) fits width. */
static void expect_table_fits(const char *out, size_t width, int want_rows) {
    int rows = 0;
    for (const char *line = out; *line && *line != '\n';) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        cr_expect_leq(n, width, "line of %zu characters at width %zu: %.*s", n, width, (int)n,
                      line);
        rows++;
        line = end ? end + 1 : line + n;
    }
    cr_expect_eq(rows, want_rows + 1, "header and %d rows:\n%s", want_rows, out);
}

/* At 120 and 100 columns (the default when the width is not known is 120): the header and the
 * one row fit; the 38-character addresses do not fit twice into the tuple column, so both are
 * shortened with ".." and the ports stay whole. */
Test(text, table_fits_the_width_and_shortens_long_addresses) {
    const char *path = long_ipv6_capture();
    static const char *const widths[] = {"120", "100"};
    for (size_t i = 0; i < 2; i++) {
        struct run_result r = run_text(path, widths[i], NULL);
        expect_table_fits(r.out, (size_t)atoi(widths[i]), 1);
        cr_expect(strstr(r.out, "..") != NULL, "addresses not shortened:\n%s", r.out);
        cr_expect(strstr(r.out, "]:50123 -> [") != NULL, "%s", r.out);
        cr_expect(strstr(r.out, "]:443 ") != NULL, "%s", r.out);
        run_result_free(&r);
    }
}

/* multi.pcap's 6 connections, IPv4 and short IPv6 addresses, fit 120 columns unshortened. The
 * first row ends 340 ms after T0 (the first TCP connection, frames 0..300 ms after its start at
 * 40 ms): "01-01 00:00:00.340", under a header that says the time is the end; then the protocol
 * in a column of 6 (the width of "icmpv6") and one blank. */
Test(text, rows_name_their_end_time) {
    const char *path = tmp_path("multi.pcap");
    cr_assert(gen_multi(path));
    struct run_result r = run_text(path, "120", NULL);
    expect_table_fits(r.out, 120, 6);
    cr_expect(strncmp(r.out, "end (UTC) ", 10) == 0, "%s", r.out);
    cr_expect(strstr(r.out, "\n01-01 00:00:00.340 tcp    192.0.2.10:50001 -> "
                            "198.51.100.20:443") != NULL,
              "%s", r.out);
    cr_expect(strstr(r.out, "[2001:db8::10]:50004 -> [2001:db8::20]:443") != NULL, "%s", r.out);
    cr_expect_null(strstr(r.out, "ShADadFf"), "history is a --wide column");
    run_result_free(&r);
}

/* --wide: history, both TCP states, packets and the close reason too (the first connection:
 * ShADadFf, client in TIME_WAIT, 11 packets, closed by FIN). */
Test(text, wide_adds_the_other_columns) {
    const char *path = tmp_path("multi.pcap");
    cr_assert(gen_multi(path));
    struct run_result r = run_text(path, "120", "--wide");
    cr_expect(strstr(r.out, "history") != NULL, "%s", r.out);
    cr_expect(strstr(r.out, "ShADadFf       TIME_WAIT / CLOSED               11  fin") != NULL,
              "%s", r.out);
    run_result_free(&r);
}

/* 1..3 handshake, 4 a segment with no flag at all from the client (invalid_flags, 30 ms after
 * T0), 5..8 close. The anomaly is listed under the row: "  ! ", its time, its name at a fixed
 * column, severity, direction and count. */
Test(text, anomalies_under_their_row_in_fixed_columns) {
    struct cap c;
    struct session s;
    cap_open(&c, "null-flags.pcap");
    struct pb_frame tmpl = pb_tcp4();
    tmpl.sport = 51070;
    tmpl.dport = 80;
    session_init(&s, c.w, &c.clock, &tmpl, CISN, SISN);
    cr_assert(session_handshake(&s));
    cr_assert(session_write_segment(&s, SESSION_CLIENT, 0, s.snd_nxt[SESSION_CLIENT], 0, 0));
    cr_assert(session_close(&s, SESSION_CLIENT));
    cap_close(&c);
    struct run_result r = run_text(c.path, "120", NULL);
    const char *line = strstr(r.out, "\n  ! ");
    cr_assert_not_null(line, "%s", r.out);
    cr_expect(strncmp(line + 1, "  ! 01-01 00:00:00.030 invalid_flags", 36) == 0, "%s", r.out);
    cr_expect(strstr(line, "from originator, 1 time\n") != NULL, "%s", r.out);
    run_result_free(&r);
}

/* No connection: the first line says why — every packet filtered (multi.pcap has 48), or the
 * input could not be read (a file that opens but is not a capture: a missing one is refused
 * before any output, test_hardening_setup.c). */
Test(text, no_connection_says_why_first) {
    const char *path = tmp_path("multi.pcap");
    cr_assert(gen_multi(path));
    const char *filtered[] = {"-F", "text", "-r", path, "port 9", NULL};
    struct run_result r = run_shakedown(NULL, filtered);
    const char *why = "0 connections: all 48 packets were filtered out by the BPF expression\n";
    cr_expect(strncmp(r.out, why, strlen(why)) == 0, "%s", r.out);
    run_result_free(&r);
    const char *text = tmp_path("not-a-capture.pcap");
    FILE *f = fopen(text, "w");
    cr_assert_not_null(f);
    fputs("this is not a capture file\n", f);
    fclose(f);
    const char *unreadable[] = {"-F", "text", "-r", text, NULL};
    r = run_shakedown(NULL, unreadable);
    cr_expect_eq(r.status, 2);
    char want[600];
    snprintf(want, sizeof want, "0 connections: %s could not be read: ", text);
    cr_expect(strncmp(r.out, want, strlen(want)) == 0, "%s", r.out);
    run_result_free(&r);
}

/* An ICMPv6 echo request and its reply (2001:db8::1 <-> 2001:db8::2, 10 ms apart): its row names
 * the protocol "icmpv6" as the records do (not "icmp"), in the 6-column protocol column, so the
 * tuple starts where every row's does (column 26: the 18 of the time, a blank, 6, a blank). */
Test(text, icmpv6_row_names_its_protocol) {
    struct cap c;
    cap_open(&c, "icmpv6.pcap");
    struct pb_frame f = pb_tcp6();
    f.proto = 58;
    f.icmp_type = 128; /* echo request */
    f.icmp_id = 7;
    f.icmp_seq = 1;
    uint8_t buf[256];
    size_t n = pb_build(&f, buf, sizeof buf);
    cr_assert(n && capwrite_packet(c.w, 0, c.clock.now_ns, buf, n));
    struct pb_frame r = f;
    memcpy(r.src, f.dst, 16);
    memcpy(r.dst, f.src, 16);
    r.icmp_type = 129; /* echo reply */
    n = pb_build(&r, buf, sizeof buf);
    cr_assert(n && capwrite_packet(c.w, 0, c.clock.now_ns + 10000000, buf, n));
    cap_close(&c);
    struct run_result t = run_text(c.path, "120", NULL);
    expect_table_fits(t.out, 120, 1);
    const char *row = strchr(t.out, '\n');
    cr_assert(row, "%s", t.out);
    cr_expect(strncmp(row + 1 + 19, "icmpv6 [2001:db8::1]:128 -> [2001:db8::2]:0", 43) == 0, "%s",
              t.out);
    run_result_free(&t);
}
