/* End-to-end tests of the terminal table (-F text): it fits the width it is given (the
 * terminal's; $COLUMNS when the output is not a terminal), shedding columns below 119 by the rule
 * format_text.c states, never shortening an IPv4 address (a tuple too long puts its responder on
 * a continuation line), shortening long IPv6 ones; --wide adds the other columns; rows name
 * their end time; anomaly lines — under their row or on their own — share their columns and
 * wrap to the width; a run with no connection says why in its first line, and the summary
 * leaves out what is empty and names what it counts. */
#define _XOPEN_SOURCE 700 /* posix_openpt, grantpt, unlockpt, ptsname */
#define _DEFAULT_SOURCE 1 /* TIOCSWINSZ, struct winsize */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* shakedown -F text -r path [extra...] with $COLUMNS set to columns; exit status 0. */
static struct run_result run_text_with(const char *path, const char *columns,
                                       const char *const *extra) {
    setenv("COLUMNS", columns, 1);
    const char *args[16] = {"-F", "text", "-r", path};
    size_t n = 4;
    for (size_t i = 0; extra && extra[i] && n < 15; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    struct run_result r = run_shakedown(NULL, args);
    unsetenv("COLUMNS");
    cr_assert_eq(r.status, 0, "%s", r.err);
    return r;
}

static struct run_result run_text(const char *path, const char *columns, const char *extra) {
    const char *const extras[] = {extra, NULL};
    return run_text_with(path, columns, extras);
}

/* The length of the line at p (up to its newline). */
static size_t line_len(const char *p) {
    const char *end = strchr(p, '\n');
    return end ? (size_t)(end - p) : strlen(p);
}

/* The line after the one at p (NULL at the end). */
static const char *next_line(const char *p) {
    const char *end = strchr(p, '\n');
    return end && end[1] ? end + 1 : NULL;
}

/* Checks every line of out, the summary too, fits width characters (all ASCII here but the
 * summary's "—", which these tests do not produce). */
static void expect_lines_fit(const char *out, size_t width) {
    for (const char *line = out; line; line = next_line(line))
        cr_expect_leq(line_len(line), width, "line of %zu characters at width %zu: %.*s",
                      line_len(line), width, (int)line_len(line), line);
}

/* Checks every line of the table (up to the blank line before the summary) fits width, and
 * counts them: the header and want_lines more. */
static void expect_table_fits(const char *out, size_t width, int want_lines) {
    int lines = 0;
    for (const char *line = out; line && *line != '\n'; line = next_line(line)) {
        cr_expect_leq(line_len(line), width, "line of %zu characters at width %zu: %.*s",
                      line_len(line), width, (int)line_len(line), line);
        lines++;
    }
    cr_expect_eq(lines, want_lines + 1, "header and %d lines:\n%s", want_lines, out);
}

/* The start of the first line of out containing needle, or NULL. */
static const char *line_with(const char *out, const char *needle) {
    const char *p = strstr(out, needle);
    if (!p)
        return NULL;
    while (p > out && p[-1] != '\n')
        p--;
    return p;
}

/* At 120 and 100 columns (the default when the width is not known is 120): the header and the
 * one row fit; the 38-character addresses do not fit twice into the tuple column (47 at 120, 50
 * at 100, by the rule of format_text.c) but keep at least 12 characters each, so both are
 * shortened with ".." on the row's line and the ports stay whole. */
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

/* At 80 the tuple column is 37 (80 - 43: no date, no protocol, no anomaly count, the bytes in
 * one column): with the ports (":50123", ":443"), brackets and " -> " (18), each address would
 * keep 9 characters on one line, fewer than 12: the originator ends the row's line with " ->",
 * the responder has a continuation line starting at the tuple column (13: the 12 of the time and
 * a blank). Each is shortened to fit its line, keeping both ends: "2001:db8" and its last group. */
Test(text, long_ipv6_takes_two_lines_when_narrow) {
    const char *path = long_ipv6_capture();
    struct run_result r = run_text(path, "80", NULL);
    expect_table_fits(r.out, 80, 2);
    const char *row = next_line(r.out), *cont = row ? next_line(row) : NULL;
    cr_assert(row && cont, "%s", r.out);
    cr_expect(strncmp(row + 13, "[2001:db8", 9) == 0, "%s", r.out);
    cr_expect(strstr(row, ":7334]:50123 -> ") != NULL && strstr(row, ".."), "%s", r.out);
    cr_expect(strncmp(cont, "             [2001:db8", 22) == 0, "%s", r.out);
    const char *dots = strstr(cont, "..");
    cr_expect(strstr(cont, ":7335]:443\n") != NULL && dots && dots < strchr(cont, '\n'), "%s",
              r.out);
    run_result_free(&r);
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

/* ---- a capture with a long IPv4 tuple and all three kinds of anomaly line --------------------
 * Frames 10 ms apart from T0:
 *  1. 192.168.100.200:65535 -> 203.0.113.200:65534 (a tuple of 44 characters): handshake (0-20
 *     ms), 100 bytes from the client (30), the server's RST (40: the connection ends, its row is
 *     written, RSTR), 100 more bytes from the client (50): data_after_rst, seen after the row, a
 *     line of its own. IP bytes: the client's SYN 60 (20 + 20 + MSS, SACK-permitted, timestamps,
 *     window scale: 20), ACK 52 (timestamps), data 152: 264; the server's SYN/ACK 60, RST 40:
 *     100.
 *  2. 192.0.2.10:51070 -> 198.51.100.20:80: handshake (60-80), a segment with no flag from the
 *     client (90): invalid_flags, under its row; close (100-130).
 *  3. 198.51.100.77 tries ports 1001..1005 of 192.0.2.99, each refused (SYN, RST|ACK; 140-230):
 *     with --port-scan-threshold 3 the fourth refused port (its RST at 210) fires port_scan, a
 *     host-level line of its own. */
static void v4_session(struct session *s, struct cap *c, const uint8_t src[4], uint16_t sport,
                       const uint8_t dst[4], uint16_t dport, uint32_t cisn) {
    struct pb_frame tmpl = pb_tcp4();
    memcpy(tmpl.src, src, 4);
    memcpy(tmpl.dst, dst, 4);
    tmpl.sport = sport;
    tmpl.dport = dport;
    session_init(s, c->w, &c->clock, &tmpl, cisn, SISN);
}

static const char *anomaly_lines_capture(void) {
    static const uint8_t client[4] = {192, 168, 100, 200}, server[4] = {203, 0, 113, 200};
    static const uint8_t a[4] = {192, 0, 2, 10}, b[4] = {198, 51, 100, 20};
    static const uint8_t scanner[4] = {198, 51, 100, 77}, scanned[4] = {192, 0, 2, 99};
    struct cap c;
    struct session s;
    cap_open(&c, "anomaly-lines.pcap");
    v4_session(&s, &c, client, 65535, server, 65534, CISN);
    cr_assert(session_handshake(&s));
    cr_assert(session_data(&s, SESSION_CLIENT, 100));
    cr_assert(session_rst(&s, SESSION_SERVER));
    cr_assert(session_data(&s, SESSION_CLIENT, 100));
    v4_session(&s, &c, a, 51070, b, 80, CISN);
    cr_assert(session_handshake(&s));
    cr_assert(session_write_segment(&s, SESSION_CLIENT, 0, s.snd_nxt[SESSION_CLIENT], 0, 0));
    cr_assert(session_close(&s, SESSION_CLIENT));
    for (uint16_t k = 0; k < 5; k++) {
        v4_session(&s, &c, scanner, (uint16_t)(40001 + k), scanned, (uint16_t)(1001 + k), CISN + k);
        cr_assert(session_syn(&s));
        cr_assert(session_rst(&s, SESSION_SERVER));
    }
    cap_close(&c);
    static char path[256];
    snprintf(path, sizeof path, "%s", c.path);
    return path;
}

/* What the table looks like at one width, by the rule of format_text.c. */
struct width_case {
    const char *columns;
    size_t width;
    const char *header;
    const char *row;      /* how the first row starts */
    const char *row_next; /* its continuation line (the responder), or NULL */
    const char *row_end;  /* how it ends */
    size_t name_col;      /* where an anomaly line has its name (the severity 23 further on,
                           * the text 30) */
    size_t indent;        /* where an anomaly line's continuation starts */
};

/* 80: the time without its date (12), no protocol, no anomaly count, one bytes column of 13:
 * the tuple column is 37 < 44, so the responder goes on a continuation line at column 13 —
 * whole, as IPv4 is never shortened. An anomaly line has its name at 4 + 12 + 1 = 17 and its
 * text at 47, which leaves 33 < 40: continuation lines start under the name.
 * 100: the protocol is back (100 >= 96), the tuple column is 50: one line. Anomaly text at 47
 * leaves 53: continuation lines under the text.
 * 120: the full table (date, two byte columns, anomaly count), the tuple column 47; anomaly
 * names at 23, text at 53. */
static const struct width_case width_cases[] = {
    {"80", 80, "end (UTC)    originator -> responder               state  duration  IP bytes o/r",
     "00:00:00.040 192.168.100.200:65535 ->"
     "              " /* 37 - 24 + 1 */ "RSTR",
     "             203.0.113.200:65534", " 264/100", 17, 17},
    {"100", 100,
     "end (UTC)    proto  originator -> responder                            state  duration  IP "
     "bytes o/r",
     "00:00:00.040 tcp    192.168.100.200:65535 -> 203.0.113.200:65534", NULL, " 264/100", 17, 47},
    {"120", 120,
     "end (UTC)          proto  originator -> responder                         state  duration   "
     "orig IP B   resp IP B  anom.",
     "01-01 00:00:00.040 tcp    192.168.100.200:65535 -> 203.0.113.200:65534", NULL,
     " 264         100  -", 23, 53},
};

/* Checks the anomaly line at line: name at its column, then severity and text in theirs; if it
 * has a continuation line, that starts at the indent. */
static void expect_anomaly_line(const char *line, const struct width_case *w, const char *name,
                                const char *severity, const char *text, bool wraps) {
    cr_assert_not_null(line, "no %s line at %s columns", name, w->columns);
    size_t len = line_len(line), n = w->name_col;
    cr_expect(strncmp(line, "  ! ", 4) == 0 && len > n + 30, "%.*s", (int)len, line);
    cr_expect(line[n - 1] == ' ' && strncmp(line + n, name, strlen(name)) == 0,
              "%s not at column %zu: %.*s", name, n, (int)len, line);
    cr_expect(line[n + 22] == ' ' && strncmp(line + n + 23, severity, strlen(severity)) == 0,
              "severity not at column %zu: %.*s", n + 23, (int)len, line);
    cr_expect(line[n + 29] == ' ' && strncmp(line + n + 30, text, strlen(text)) == 0,
              "text not at column %zu: %.*s", n + 30, (int)len, line);
    const char *next = next_line(line);
    bool continued = next && next[0] == ' ' && next[1] == ' ' && next[2] != '!';
    cr_expect(continued == wraps, "%s %s at %s columns: %.*s", name,
              wraps ? "does not wrap" : "wraps", w->columns, (int)len, line);
    if (continued) {
        size_t blanks = strspn(next, " ");
        cr_expect_eq(blanks, w->indent, "continuation at column %zu, not %zu: %.*s", blanks,
                     w->indent, (int)line_len(next), next);
    }
}

/* At 80, 100 and 120 columns: every line fits (the summary's too), the header and the first row
 * are as the rule says, both IPv4 endpoints appear whole and nothing is shortened; the anomaly
 * under its row and the two on lines of their own have name, severity and text in the same
 * columns, and the two long ones (over 100 characters of text) wrap at the indent. */
Test(text, fits_80_100_120_and_anomaly_lines_share_their_columns) {
    const char *path = anomaly_lines_capture();
    static const char *const scan3[] = {"--port-scan-threshold", "3", NULL};
    for (size_t i = 0; i < sizeof width_cases / sizeof width_cases[0]; i++) {
        const struct width_case *w = &width_cases[i];
        struct run_result r = run_text_with(path, w->columns, scan3);
        expect_lines_fit(r.out, w->width);
        cr_expect(strncmp(r.out, w->header, strlen(w->header)) == 0 &&
                      r.out[strlen(w->header)] == '\n',
                  "header at %s:\n%s", w->columns, r.out);
        const char *row = next_line(r.out);
        cr_assert(row, "%s", r.out);
        cr_expect(strncmp(row, w->row, strlen(w->row)) == 0, "row at %s:\n%s", w->columns, r.out);
        size_t len = line_len(row), end = strlen(w->row_end);
        cr_expect(len >= end && strncmp(row + len - end, w->row_end, end) == 0, "row end:\n%s",
                  r.out);
        const char *cont = next_line(row);
        if (w->row_next)
            cr_expect(cont && strncmp(cont, w->row_next, strlen(w->row_next)) == 0 &&
                          cont[strlen(w->row_next)] == '\n',
                      "continuation at %s:\n%s", w->columns, r.out);
        const char *dots = strstr(r.out, ".."), *summary = strstr(r.out, "\n\n");
        cr_expect(summary && (!dots || dots > summary), "nothing to shorten:\n%s", r.out);
        expect_anomaly_line(line_with(r.out, "invalid_flags"), w, "invalid_flags", "high",
                            "from originator, 1 time", false);
        expect_anomaly_line(line_with(r.out, "data_after_rst "), w, "data_after_rst", "high", "C",
                            true);
        expect_anomaly_line(line_with(r.out, "port_scan "), w, "port_scan", "high",
                            "198.51.100.77: 4 distinct ports", true);
        run_result_free(&r);
    }
}

/* ---- the width of a real terminal ------------------------------------------------------------
 * shakedown -r FILE on a pseudo-terminal whose window is 90 columns, with COLUMNS=200 in its
 * environment: the terminal's width wins. At 90 (below 96, at least 89) the table has no date,
 * no protocol, no anomaly count and one bytes column: the tuple column is 90 - 43 = 47, so the
 * header and every row are exactly 90 characters (the last column is right-aligned); the
 * default format on a terminal is text. */
static char *run_on_terminal(const char *path, unsigned short columns) {
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    cr_assert(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0, "no pty: %s",
              strerror(errno));
    struct winsize ws = {.ws_row = 40, .ws_col = columns};
    cr_assert_eq(ioctl(master, TIOCSWINSZ, &ws), 0);
    const char *slave = ptsname(master);
    cr_assert_not_null(slave);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        setsid();
        int tty = open(slave, O_RDWR), null = open("/dev/null", O_RDONLY);
        if (tty < 0 || null < 0)
            _exit(126);
        dup2(null, 0);
        dup2(tty, 1);
        dup2(tty, 2);
        close(master);
        setenv("COLUMNS", "200", 1);
        execl(SHAKEDOWN_BIN, SHAKEDOWN_BIN, "-r", path, (char *)NULL);
        _exit(127);
    }
    size_t len = 0, cap = 1 << 16;
    char *out = malloc(cap);
    cr_assert_not_null(out);
    for (ssize_t n; len < cap - 1 && (n = read(master, out + len, cap - 1 - len)) != 0;) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) /* EIO: the terminal's last user has gone */
            break;
        len += (size_t)n;
    }
    close(master);
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
    size_t k = 0; /* the terminal writes "\r\n" for each newline */
    for (size_t i = 0; i < len; i++)
        if (out[i] != '\r')
            out[k++] = out[i];
    out[k] = '\0';
    return out;
}

Test(text, width_is_read_from_the_terminal) {
    const char *path = tmp_path("multi.pcap");
    cr_assert(gen_multi(path));
    char *out = run_on_terminal(path, 90);
    cr_expect(strncmp(out, "end (UTC)    originator -> responder ", 37) == 0, "%s", out);
    int lines = 0;
    for (const char *line = out; line && *line != '\n'; line = next_line(line), lines++)
        cr_expect_eq(line_len(line), 90, "not 90 wide: %.*s", (int)line_len(line), line);
    cr_expect_eq(lines, 7, "header and multi.pcap's 6 rows:\n%s", out);
    free(out);
}

/* ---- the summary -------------------------------------------------------------------------- */

/* No connection: the first line says why — every packet filtered (multi.pcap has 48), or the
 * input could not be read (a file that opens but is not a capture: a missing one is refused
 * before any output, test_hardening_setup.c). Empty sections are left out: with every packet
 * filtered, nothing is counted by protocol, and there are no connections nor anomalies; an
 * unreadable input has only its Inputs line. */
Test(text, no_connection_says_why_first) {
    const char *path = tmp_path("multi.pcap");
    cr_assert(gen_multi(path));
    const char *filtered[] = {"-F", "text", "-r", path, "port 9", NULL};
    struct run_result r = run_shakedown(NULL, filtered);
    const char *why = "0 connections: all 48 packets were filtered out by the BPF expression\n";
    cr_expect(strncmp(r.out, why, strlen(why)) == 0, "%s", r.out);
    cr_expect(strstr(r.out, "\nPackets      48 read (7558 frame bytes): 0 analysed, 48 filtered "
                            "out\n"),
              "%s", r.out);
    static const char *const empty[] = {"Protocols", "Connections", "Anomalies"};
    for (size_t i = 0; i < 3; i++)
        cr_expect_null(strstr(r.out, empty[i]), "%s:\n%s", empty[i], r.out);
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
    const char *blank = strstr(r.out, "\n\n");
    cr_assert_not_null(blank, "%s", r.out);
    snprintf(want, sizeof want, "Inputs       %s: unreadable — ", text);
    cr_expect(strncmp(blank + 2, want, strlen(want)) == 0, "%s", r.out);
    cr_expect_eq(count_lines(blank + 2), 1, "only the Inputs line:\n%s", r.out);
    run_result_free(&r);
}

/* A capture file with no packet at all (its header only): the first line says so, and the summary
 * is the Inputs line alone — nothing was read, so no Packets, Protocols, Connections or Anomalies
 * section. */
Test(text, empty_capture_has_only_its_inputs_line) {
    struct cap c;
    cap_open(&c, "empty.pcap");
    cap_close(&c);
    struct run_result r = run_text(c.path, "120", NULL);
    char want[600];
    snprintf(want, sizeof want,
             "0 connections: the input holds no packets\n\nInputs       %s: ok, EN10MB, 0 "
             "packets\n",
             c.path);
    cr_expect_str_eq(r.out, want);
    run_result_free(&r);
}

/* 10.0.0.1:40000 -> 10.0.0.2:80 (pb_tcp4's defaults, whatever they are): handshake, 100 bytes,
 * close: 8 frames, every TCP checksum wrong (the IPv4 ones right). With --checksums auto a
 * source is taken as offloading only after more than 100 bad packets: all 8 are left out, and
 * the first line says so and what to try. At 120 it is one line of 115 characters; at 80 it is
 * broken at a blank, the rest under the text after "0 connections: " (15). */
Test(text, checksum_failures_say_what_to_try) {
    struct cap c;
    struct session s;
    cap_open(&c, "all-bad.pcap");
    struct pb_frame tmpl = pb_tcp4();
    session_init(&s, c.w, &c.clock, &tmpl, CISN, SISN);
    s.bad_checksum[0] = s.bad_checksum[1] = true;
    cr_assert(session_handshake(&s));
    cr_assert(session_data(&s, SESSION_CLIENT, 100));
    cr_assert(session_close(&s, SESSION_CLIENT));
    cap_close(&c);
    const char *why = "0 connections: 8 of 8 packets were left out for a bad checksum (captured "
                      "on the sending host? try --checksums keep)";
    struct run_result r = run_text(c.path, "120", NULL);
    cr_expect(strncmp(r.out, why, strlen(why)) == 0 && r.out[strlen(why)] == '\n', "%s", r.out);
    run_result_free(&r);
    r = run_text(c.path, "80", NULL);
    expect_lines_fit(r.out, 80);
    const char *second = next_line(r.out);
    cr_assert_not_null(second);
    size_t first = line_len(r.out);
    cr_expect(strncmp(r.out, why, first) == 0 && why[first] == ' ', "%s", r.out);
    cr_expect(strncmp(second, "               ", 15) == 0 && second[15] != ' ', "%s", r.out);
    cr_expect(strncmp(second + 15, why + first + 1, line_len(second) - 15) == 0, "%s", r.out);
    run_result_free(&r);
}

/* Three frames cut after 24 bytes: the Ethernet header (14) and 10 of the IPv4 header's 20, so
 * none decodes (ipv4_truncated). The first line points at the section that lists them, by its
 * label. */
Test(text, undecodable_input_points_at_its_section) {
    struct cap c;
    cap_open(&c, "cut.pcap");
    struct pb_frame f = pb_tcp4();
    uint8_t buf[256];
    size_t n = pb_build(&f, buf, sizeof buf);
    for (uint64_t i = 0; i < 3; i++)
        cr_assert(n >= 24 && capwrite_packet(c.w, 0, c.clock.now_ns + i * 1000, buf, 24));
    cap_close(&c);
    struct run_result r = run_text(c.path, "120", NULL);
    const char *why =
        "0 connections: 3 of 3 packets could not be decoded (see Not decoded below)\n";
    cr_expect(strncmp(r.out, why, strlen(why)) == 0, "%s", r.out);
    cr_expect(strstr(r.out, "\nNot decoded  ipv4_truncated 3\n"), "%s", r.out);
    run_result_free(&r);
}

/* Three IPv4 packets of protocol 47 (GRE) with 20 bytes of payload: decoded and analysed, but no
 * connection is made of them. */
Test(text, no_tcp_udp_or_icmp_says_so) {
    struct cap c;
    cap_open(&c, "gre.pcap");
    struct pb_frame f = pb_tcp4();
    f.proto = 47;
    f.payload_len = 20;
    uint8_t buf[256];
    size_t n = pb_build(&f, buf, sizeof buf);
    for (uint64_t i = 0; i < 3; i++)
        cr_assert(n && capwrite_packet(c.w, 0, c.clock.now_ns + i * 1000, buf, n));
    cap_close(&c);
    struct run_result r = run_text(c.path, "120", NULL);
    const char *why = "0 connections: none of the 3 packets analysed was TCP, UDP or ICMP\n";
    cr_expect(strncmp(r.out, why, strlen(why)) == 0, "%s", r.out);
    cr_expect_null(strstr(r.out, "Connections"), "%s", r.out);
    run_result_free(&r);
}

/* A capture with a snap length of 96: handshake and close fit (at most 74 bytes a frame), the
 * client's 200 bytes and the server's 300 do not: 2 packets with their payload cut, which the
 * summary says is expected and harmless; the connection is whole all the same (SF). */
Test(text, snap_length_cuts_are_named_harmless) {
    const char *path = tmp_path("snap96.pcap");
    struct cap c = {.w = capwrite_open(path, CAPWRITE_PCAP_USEC, pb_linktype(PB_LINK_ETHERNET), 96),
                    .clock = {.now_ns = (uint64_t)T0, .step_ns = (uint64_t)STEP}};
    cr_assert_not_null(c.w);
    struct session s;
    struct pb_frame tmpl = pb_tcp4();
    session_init(&s, c.w, &c.clock, &tmpl, CISN, SISN);
    cr_assert(session_handshake(&s));
    cr_assert(session_data(&s, SESSION_CLIENT, 200));
    cr_assert(session_data(&s, SESSION_SERVER, 300));
    cr_assert(session_close(&s, SESSION_CLIENT));
    cr_assert(capwrite_close(c.w));
    struct run_result r = run_text(path, "120", NULL);
    cr_expect(strstr(r.out, "\n             2 with payload cut by the snap length (headers kept: "
                            "expected, harmless)\n"),
              "%s", r.out);
    cr_expect(strstr(r.out, " SF "), "%s", r.out);
    run_result_free(&r);
}

/* The header says what the byte columns count: IP bytes (the records' ip_bytes), in full at
 * 120 and in one column with units when narrower. The client sends 10 segments of 1000 bytes
 * (1052 IP bytes each with the 20 of IPv4 and 32 of TCP with timestamps): with its SYN (60),
 * its ACK, FIN and last ACK (52 each) that is 10,736 IP bytes, "10.7k" (tenths, rounded down);
 * the server's SYN/ACK (60) and three segments of 52 (ACK, ACK of the FIN, FIN) are 216. */
Test(text, byte_columns_are_named_ip_bytes) {
    struct cap c;
    struct session s;
    cap_open(&c, "bulk.pcap");
    struct pb_frame tmpl = pb_tcp4();
    session_init(&s, c.w, &c.clock, &tmpl, CISN, SISN);
    cr_assert(session_handshake(&s));
    for (int i = 0; i < 10; i++)
        cr_assert(session_data(&s, SESSION_CLIENT, 1000));
    cr_assert(session_ack(&s, SESSION_SERVER));
    cr_assert(session_close(&s, SESSION_CLIENT));
    cap_close(&c);
    struct run_result r = run_text(c.path, "120", NULL);
    cr_expect(strstr(r.out, "   orig IP B   resp IP B  anom.\n"), "%s", r.out);
    cr_expect(strstr(r.out, "      10736         216  -\n"), "%s", r.out);
    run_result_free(&r);
    r = run_text(c.path, "100", NULL);
    cr_expect(strstr(r.out, "  IP bytes o/r\n"), "%s", r.out);
    cr_expect(strstr(r.out, "    10.7k/216\n"), "%s", r.out);
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
