/* End-to-end tests of where records go: -o DIR with the Zeek formats (DIR/conn.log and
 * DIR/weird.log, read back with bro-cut), several -o in one run each with the -F before it, and
 * the command lines that rule refuses (one line, exit 2).
 *
 * The capture (written by write_capture): 10.0.0.1:51000 sends a lone SYN to 10.0.0.2:80 at T0
 * and nothing answers; 5 s later 10.0.0.1:51001 and 10.0.0.3:80 have a complete exchange
 * (handshake, 100 bytes up, 200 down, the client closes first: frames 2-11). The lone SYN is older
 * than the 1 s answer grace when the input ends, so it is judged: one anomaly, syn_unanswered,
 * from the originator of 51000, and that connection is S0 (a SYN, no reply); the other is SF
 * (the same reasoning as test_anomaly_handshake.c's trigger_lone_syn_at_capture_end). */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "run.h"
#include "script.h"

static void conn_init(struct session *s, struct cap *c, uint8_t server, uint16_t sport) {
    struct pb_frame f = pb_tcp4();
    memcpy(f.src, (uint8_t[]){10, 0, 0, 1}, 4);
    memcpy(f.dst, (uint8_t[]){10, 0, 0, server}, 4);
    f.sport = sport;
    f.dport = 80;
    session_init(s, c->w, &c->clock, &f, CISN, SISN);
}

static const char *write_capture(void) {
    static struct cap c;
    struct session a, b;
    cap_open(&c, "outputs.pcap");
    conn_init(&a, &c, 2, 51000);
    bool ok = session_syn(&a);
    cap_at(&c, T0 + 5 * SEC);
    conn_init(&b, &c, 3, 51001);
    ok = session_handshake(&b) && ok;
    ok = session_data(&b, SESSION_CLIENT, 100) && session_ack(&b, SESSION_SERVER) && ok;
    ok = session_data(&b, SESSION_SERVER, 200) && session_ack(&b, SESSION_CLIENT) && ok;
    ok = session_close(&b, SESSION_CLIENT) && ok;
    cr_assert(ok);
    cap_close(&c);
    return c.path;
}

/* The output of the shell command cmd (which must succeed). */
static char *shell_run(const char *cmd) {
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t cap = 1 << 16, len = 0, n;
    char *out = malloc(cap);
    while ((n = fread(out + len, 1, cap - len - 1, p)) > 0)
        len += n;
    out[len] = '\0';
    cr_assert_eq(pclose(p), 0, "failed: %s", cmd);
    return out;
}

__attribute__((format(printf, 1, 2))) static char *shell(const char *fmt, ...) {
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return shell_run(cmd);
}

/* The command's output must be want. */
__attribute__((format(printf, 2, 3))) static void expect_shell(const char *want, const char *fmt,
                                                               ...) {
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    char *out = shell_run(cmd);
    cr_expect_str_eq(out, want, "%s", cmd);
    free(out);
}

/* A fresh directory path ending in '/' (it does not exist yet: shakedown creates it). */
static const char *dir_path(const char *name) {
    static char buf[512];
    snprintf(buf, sizeof buf, "%s/", tmp_path(name));
    return buf;
}

/* -F zeek -o DIR/: conn.log holds the two connections (S0 and SF, see the top), weird.log the one
 * anomaly with the uid and id.* of the lone SYN's connection; both are Zeek logs of their own,
 * ended by #close; nothing goes to standard output. */
Test(outputs, zeek_directory_read_back_with_bro_cut) {
    const char *cap = write_capture();
    char dir[512];
    snprintf(dir, sizeof dir, "%s", dir_path("zeek"));
    struct run_result r =
        run_shakedown(NULL, (const char *[]){"-F", "zeek", "-r", cap, "-o", dir, NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_str_empty(r.out);
    expect_shell("51000\t10.0.0.2\tS0\n51001\t10.0.0.3\tSF\n",
                 "bro-cut id.orig_p id.resp_h conn_state < %sconn.log | sort", dir);
    char *uid =
        shell("bro-cut id.orig_p uid < %sconn.log | grep ^51000 | cut -f2 | tr -d '\\n'", dir);
    char want[256];
    snprintf(want, sizeof want,
             "%s\t10.0.0.1\t51000\t10.0.0.2\t80\tsyn_unanswered\tF\tshakedown\tTCP\n", uid);
    expect_shell(want,
                 "bro-cut uid id.orig_h id.orig_p id.resp_h id.resp_p name notice peer source "
                 "< %sweird.log",
                 dir);
    expect_shell("#path\tconn\n#close\n#path\tweird\n#close\n",
                 "cd %s && grep -h -o '^#path.*\\|^#close' conn.log weird.log", dir);
    free(uid);
    run_result_free(&r);
}

/* -F zeek-json -o DIR/: the same logs as Zeek's JSON writer writes them: one object per line,
 * flat id.* keys, notice a JSON boolean. */
Test(outputs, zeek_json_directory) {
    const char *cap = write_capture();
    const char *dir = dir_path("zeekjson");
    struct run_result r =
        run_shakedown(NULL, (const char *[]){"-F", "zeek-json", "-r", cap, "-o", dir, NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    expect_shell("2\n", "wc -l < %sconn.log", dir);
    char *weird = shell("cat %sweird.log", dir);
    cr_expect_eq(count_lines(weird), 1, "%s", weird);
    struct json_object *o = json_last_line(weird);
    cr_assert_not_null(o, "%s", weird);
    expect_str(o, "name", "syn_unanswered");
    struct json_object *v; /* flat keys with a dot: not json_at's dotted paths */
    cr_assert(json_object_object_get_ex(o, "id.orig_h", &v), "%s", weird);
    cr_expect_str_eq(json_object_get_string(v), "10.0.0.1");
    cr_assert(json_object_object_get_ex(o, "id.orig_p", &v), "%s", weird);
    cr_expect_eq(json_object_get_int(v), 51000);
    cr_expect_eq(json_object_get_type(json_at(o, "notice")), json_type_boolean);
    json_object_put(o);
    free(weird);
    run_result_free(&r);
}

/* Two outputs, each with the -F before it: the Zeek directory and a JSON file get the same
 * records — two connections, one anomaly — with the same uids. */
Test(outputs, several_outputs_each_with_its_format) {
    const char *cap = write_capture();
    char dir[512];
    snprintf(dir, sizeof dir, "%s", dir_path("multi"));
    const char *json = tmp_path("multi.json");
    struct run_result r = run_shakedown(
        NULL, (const char *[]){"-r", cap, "-F", "zeek", "-o", dir, "-F", "json", "-o", json, NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_str_empty(r.out);
    char *zeek_uids = shell("bro-cut uid < %sconn.log | sort", dir);
    char *json_uids =
        shell("grep '\"type\":\"connection\"' %s | sed 's/.*\"uid\":\"\\([^\"]*\\)\".*/\\1/' "
              "| sort",
              json);
    cr_expect_eq(count_lines(zeek_uids), 2);
    cr_expect_str_eq(zeek_uids, json_uids);
    expect_shell("1\n", "grep -c '\"type\":\"anomaly\"' %s", json);
    expect_shell("1\n", "grep -vc '^#' %sweird.log", dir);
    /* The summary accounts for each output, in command-line order: the directory was handed 3
     * rows (2 in conn.log, 1 in weird.log), the JSON file 3 records (2 connections, 1 anomaly)
     * before the summary; nothing dropped or failed. */
    char *all = shell("cat %s", json);
    struct json_object *summary = json_last_line(all), *outs = json_at(summary, "outputs");
    cr_assert_not_null(outs);
    cr_assert_eq(json_object_array_length(outs), 2);
    struct json_object *zo = json_object_array_get_idx(outs, 0),
                       *jo = json_object_array_get_idx(outs, 1);
    expect_str(zo, "target", dir);
    expect_str(zo, "format", "zeek");
    expect_int(zo, "written", 3);
    expect_str(jo, "target", json);
    expect_str(jo, "format", "json");
    expect_int(jo, "written", 3);
    expect_int(jo, "dropped", 0);
    expect_int(jo, "failed", 0);
    json_object_put(summary);
    free(all);
    /* the text summary lists them too, one line each */
    struct run_result t =
        run_shakedown(NULL, (const char *[]){"-r", cap, "-F", "text", "-o", json, "-o", "-", NULL});
    cr_assert_eq(t.status, 0, "%s", t.err);
    char want[600];
    snprintf(want, sizeof want, "Outputs      %s (text): ", json);
    cr_expect(strstr(t.out, want) && strstr(t.out, "\n             - (text): "), "%s", t.out);
    run_result_free(&t);
    free(zeek_uids);
    free(json_uids);
    run_result_free(&r);
}

/* Without -o, the last -F is standard output's format, as before -o could repeat. */
Test(outputs, without_output_the_last_format_wins) {
    const char *cap = write_capture();
    struct run_result r =
        run_shakedown(NULL, (const char *[]){"-F", "json", "-r", cap, "-F", "zeek", NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(strncmp(r.out, "#separator", 10) == 0, "%s", r.out);
    run_result_free(&r);
}

/* One -F applies to every -o, wherever it stands. */
Test(outputs, a_single_format_applies_to_every_output) {
    const char *cap = write_capture();
    char a[512];
    snprintf(a, sizeof a, "%s", tmp_path("one-a.log"));
    const char *b = tmp_path("one-b.log");
    struct run_result r =
        run_shakedown(NULL, (const char *[]){"-o", a, "-r", cap, "-o", b, "-F", "zeek-json", NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    /* zeek-json writes one line per connection and nothing else in one stream */
    expect_shell("2\n", "grep -c '\"id.orig_h\"' %s", a);
    expect_shell("", "cmp %s %s", a, b);
    run_result_free(&r);
}

static void expect_refused(const char *const *args, const char *needle) {
    struct run_result r = run_shakedown(NULL, args);
    cr_expect_eq(r.status, 2, "exit %d for %s", r.status, needle);
    cr_expect_eq(count_lines(r.err), 1, "one line: %s", r.err);
    cr_expect(strstr(r.err, needle), "'%s' not in: %s", needle, r.err);
    run_result_free(&r);
}

/* Command lines the rule cannot read one way only, and targets that cannot work. */
Test(outputs, ambiguous_or_impossible_outputs_are_refused) {
    const char *cap = write_capture();
    char a[512];
    snprintf(a, sizeof a, "%s", tmp_path("amb-a"));
    const char *b = tmp_path("amb-b");
    /* the last -F has no -o after it */
    expect_refused((const char *[]){"-r", cap, "-F", "zeek", "-o", a, "-F", "json", NULL},
                   "-F json applies to no output");
    /* two -F in a row: the first applies to nothing */
    expect_refused((const char *[]){"-r", cap, "-F", "zeek", "-F", "json", "-o", a, NULL},
                   "-F zeek applies to no output");
    /* an -o before the first of several -F */
    expect_refused(
        (const char *[]){"-r", cap, "-o", a, "-F", "zeek", "-o", b, "-F", "json", "-o", "-", NULL},
        "comes before any -F");
    expect_refused((const char *[]){"-r", cap, "-o", a, "-o", a, NULL}, "given twice");
    expect_refused((const char *[]){"-r", cap, "-o", "-", "-o", "-", NULL}, "given twice");
    /* a directory takes only the formats of several logs */
    expect_refused((const char *[]){"-r", cap, "-F", "json", "-o", dir_path("jsondir"), NULL},
                   "writes one stream");
    /* rotation is for files: with only network outputs it is refused, not ignored */
    expect_refused(
        (const char *[]){"-r", cap, "-o", "redis://127.0.0.1:9/k", "--rotate-size", "1M", NULL},
        "rotate files");
    expect_refused(
        (const char *[]){"-r", cap, "-o", "syslog://127.0.0.1:9", "--rotate-seconds", "60", NULL},
        "rotate files");
    /* a Redis mode that is neither shakedown's nor Suricata's name is refused before any
     * connection is tried (port 9: nothing listens, which would be another error) */
    expect_refused((const char *[]){"-r", cap, "-o", "redis://127.0.0.1:9/k?mode=fifo", NULL},
                   "'mode=fifo': the modes are list (or rpush), lpush, publish (or channel)");
    /* the queue holds 16 to 1048576 records */
    expect_refused((const char *[]){"-r", cap, "--output-queue", "15", NULL},
                   "--output-queue needs a whole number from 16 to 1048576");
    struct stat st;
    cr_expect_neq(stat(a, &st), 0, "a refused command line created %s", a);
}
