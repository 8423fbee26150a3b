/* End-to-end tests of the configuration file (issue 19): `--config FILE` settings apply, the
 * command line replaces them (options, -o and -F included, and the filter), `--check-config
 * [FILE]` validates and exits 0 or 2, and a mistake in the file stops a run with one line naming
 * file and line. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run.h"
#include "script.h"

/* Two connections one after the other, 10.0.0.1:50000 -> 10.0.0.2:80 then 10.0.0.1:50001 ->
 * 10.0.0.2:443, each: handshake (3 frames), 100 bytes from the client (1), the server's ACK
 * (1), the four-frame close (4) = 9 frames, 18 in all. */
static const char *two_conns(void) {
    static struct cap c;
    cap_open(&c, "config-two.pcap");
    for (uint16_t i = 0; i < 2; i++) {
        struct session s;
        struct pb_frame f = pb_tcp4();
        f.sport = (uint16_t)(50000 + i);
        f.dport = i == 0 ? 80 : 443;
        session_init(&s, c.w, &c.clock, &f, CISN, SISN);
        session_handshake(&s);
        session_data(&s, SESSION_CLIENT, 100);
        session_ack(&s, SESSION_SERVER);
        session_close(&s, SESSION_CLIENT);
        cr_assert(s.ok);
    }
    cap_close(&c);
    return c.path;
}

static const char *write_conf(const char *name, const char *text) {
    const char *path = tmp_path(name);
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* The connection records' dest_port values, in order, and how many. */
static int conn_ports(const char *out, int64_t *ports, int max) {
    int n = 0;
    for (const char *line = out; *line && n < max;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        char *copy = strndup(line, len);
        struct json_object *o = json_parse_record(copy);
        if (o && strcmp(json_str_or(o, "type"), "connection") == 0)
            ports[n++] = json_int_at(o, "dest_port");
        json_object_put(o);
        free(copy);
        line += len + (nl ? 1 : 0);
    }
    return n;
}

Test(config, file_settings_apply) {
    const char *pcap = two_conns();
    const char *conf = write_conf("apply.conf", "# sensor\nformat = json\nfilter = tcp port 80\n");
    const char *args[] = {"--config", conf, "-r", pcap, NULL};
    struct run_result r = run_shakedown(NULL, args);
    cr_assert_eq(r.status, 0, "%s", r.err);
    /* The file's filter keeps only the port-80 connection: one record, and its 9 frames
     * analysed, the other connection's 9 filtered. */
    int64_t ports[4];
    cr_assert_eq(conn_ports(r.out, ports, 4), 1, "%s", r.out);
    cr_expect_eq(ports[0], 80);
    struct json_object *sum = json_last_line(r.out);
    cr_assert(sum);
    cr_expect_eq(json_int_at(sum, "filtered"), 9);
    cr_expect_eq(json_int_at(sum, "analysed"), 9);
    json_object_put(sum);
    run_result_free(&r);
}

Test(config, command_line_overrides_the_file) {
    const char *pcap = two_conns();
    const char *conf = write_conf("override.conf", "format = zeek\nfilter = tcp port 80\n");
    /* The file says zeek and port 80; the command line says json and port 443. */
    const char *args[] = {"--config", conf, "-r", pcap, "-F", "json", "tcp port 443", NULL};
    struct run_result r = run_shakedown(NULL, args);
    cr_assert_eq(r.status, 0, "%s", r.err);
    /* JSON, not Zeek's TSV (whose first line is "#separator \x09"). */
    cr_expect(r.out[0] == '{', "%.80s", r.out);
    int64_t ports[4];
    cr_assert_eq(conn_ports(r.out, ports, 4), 1, "%s", r.out);
    cr_expect_eq(ports[0], 443);
    run_result_free(&r);
    /* And with the file's format left alone, it is the file's: zeek's header. */
    const char *args3[] = {"--config=", "-r", pcap, NULL};
    char eq[300];
    snprintf(eq, sizeof eq, "--config=%s", conf); /* the --config=FILE spelling */
    args3[0] = eq;
    r = run_shakedown(NULL, args3);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(strncmp(r.out, "#separator", 10) == 0, "%.80s", r.out);
    run_result_free(&r);
}

Test(config, check_config_accepts_a_good_file) {
    const char *conf = write_conf("good.conf", "max-flows = 65536\nidle-timeout = 600\nwide\n"
                                               "filter = not port 22\n");
    const char *args[] = {"--check-config", conf, NULL};
    struct run_result r = run_shakedown(NULL, args);
    cr_expect_eq(r.status, 0, "%s", r.err);
    /* Three settings (max-flows, idle-timeout, wide), the filter counted apart. */
    cr_expect(strstr(r.out, "ok (3 settings and a filter)"), "%s", r.out);
    cr_expect_str_eq(r.err, "");
    run_result_free(&r);
}

/* Each mistake: exit 2, one line on stderr naming FILE:LINE, nothing on stdout. */
static void expect_config_error(const char *const *args, const char *where) {
    struct run_result r = run_shakedown(NULL, args);
    cr_expect_eq(r.status, 2);
    cr_expect_eq(count_lines(r.err), 1, "%s", r.err);
    cr_expect(strstr(r.err, where), "'%s' not in: %s", where, r.err);
    cr_expect_str_eq(r.out, "");
    run_result_free(&r);
}

Test(config, check_config_names_file_and_line) {
    const char *conf = write_conf("bad.conf", "# comment\nwide\nmax-flows = 0\n");
    char where[300];
    snprintf(where, sizeof where, "%s:3: --max-flows needs a whole number", conf);
    const char *args[] = {"--check-config", conf, NULL};
    expect_config_error(args, where);
    /* The same mistake stops a run before anything is read or written. */
    const char *pcap = two_conns();
    const char *run_args[] = {"--config", conf, "-r", pcap, NULL};
    expect_config_error(run_args, where);
}

Test(config, check_config_without_file_reads_the_default_path) {
    /* No FILE: /etc/shakedown/shakedown.conf, which a test machine need not have; either it is
     * named in an error or said to be ok. */
    const char *args[] = {"--check-config", NULL};
    struct run_result r = run_shakedown(NULL, args);
    const char *said = r.status == 0 ? r.out : r.err;
    cr_expect(strstr(said, "/etc/shakedown/shakedown.conf"), "%s", said);
    run_result_free(&r);
    const char *missing[] = {"--check-config", "/nonexistent.conf", NULL};
    expect_config_error(missing, "/nonexistent.conf: No such file or directory");
    const char *two[] = {"--check-config", "a", "b", NULL};
    expect_config_error(two, "--check-config takes one FILE at most");
    const char *none[] = {"--config", NULL};
    expect_config_error(none, "--config needs a FILE");
}

/* conn_ports of the file at path (an output the run wrote). */
static int file_ports(const char *path, int64_t *ports, int max) {
    char *text = read_whole_file(path);
    int n = conn_ports(text, ports, max);
    free(text);
    return n;
}

enum { PATH_LEN = 300 };

/* Two output paths TAG-a.json and TAG-b.json into a and b, and a configuration file TAG.conf
 * (returned) saying format = json and output = a, and output = b too when both. */
static const char *outputs_conf(const char *tag, char *a, char *b, bool both) {
    char name[64], text[3 * PATH_LEN];
    snprintf(a, PATH_LEN, "%s-a.json", tmp_path(tag));
    snprintf(b, PATH_LEN, "%s-b.json", tmp_path(tag));
    snprintf(text, sizeof text, "format = json\noutput = %s\n%s%s%s", a, both ? "output = " : "",
             both ? b : "", both ? "\n" : "");
    snprintf(name, sizeof name, "%s.conf", tag);
    return write_conf(name, text);
}

Test(config, command_line_output_replaces_the_files) {
    const char *pcap = two_conns();
    char a[PATH_LEN], b[PATH_LEN];
    const char *conf = outputs_conf("replace", a, b, false);
    int64_t ports[4];
    /* The unit's way: the file names the output and the command line names it again (-o is
     * what ExecStart always passes). One output, not the same file twice (which cli refuses):
     * both connections in it, in the file's format. */
    const char *same[] = {"--config", conf, "-r", pcap, "-o", a, NULL};
    struct run_result r = run_shakedown(NULL, same);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(file_ports(a, ports, 4), 2);
    run_result_free(&r);
    /* Another file on the command line: only it is written; the file's output is not opened. */
    remove(a);
    const char *other[] = {"--config", conf, "-r", pcap, "-o", b, NULL};
    r = run_shakedown(NULL, other);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(file_ports(b, ports, 4), 2);
    cr_expect_eq(access(a, F_OK), -1, "%s was written", a);
    run_result_free(&r);
    /* -F on the command line replaces the file's format (two -F would need an -o each), and
     * "-o -" its output: Zeek's TSV on standard output, the file's output not opened. */
    const char *zeek[] = {"--config", conf, "-r", pcap, "-F", "zeek", "-o", "-", NULL};
    r = run_shakedown(NULL, zeek);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(strncmp(r.out, "#separator", 10) == 0, "%.80s", r.out);
    cr_expect_eq(access(a, F_OK), -1, "%s was written", a);
    run_result_free(&r);
}

Test(config, outputs_of_the_file_add_up) {
    const char *pcap = two_conns();
    char a[PATH_LEN], b[PATH_LEN];
    const char *conf = outputs_conf("both", a, b, true);
    /* Without -o on the command line, every output the file names gets every record (-o
     * repeats within one source of options), and nothing goes to standard output. */
    const char *args[] = {"--config", conf, "-r", pcap, NULL};
    struct run_result r = run_shakedown(NULL, args);
    cr_assert_eq(r.status, 0, "%s", r.err);
    int64_t ports[4];
    cr_expect_eq(file_ports(a, ports, 4), 2);
    cr_expect_eq(file_ports(b, ports, 4), 2);
    cr_expect_str_eq(r.out, "");
    run_result_free(&r);
}
