/* Unit tests of program/config.c: the configuration file's syntax, the arguments it becomes, the
 * order of the merged command line (file first, so the command line overrides it), and every
 * mistake named by file and line. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

/* Writes text to a fresh temporary file; returns its path (static storage). */
static const char *conf_file(const char *text, size_t len) {
    static char path[64];
    snprintf(path, sizeof path, "/tmp/shakedown-config-XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, text, len), (ssize_t)len);
    close(fd);
    return path;
}

static const char *conf(const char *text) {
    return conf_file(text, strlen(text));
}

/* Loads text expecting a mistake; returns the message (static storage). */
static const char *load_error(const char *text) {
    static char err[1024];
    struct config c;
    const char *path = conf(text);
    cr_assert_not(config_load(&c, path, err, sizeof err), "accepted: %s", text);
    unlink(path);
    return err;
}

/* Loads text expecting it to be read, then validates it expecting a mistake. */
static const char *validate_error(const char *text) {
    static char err[1024];
    struct config c;
    const char *path = conf(text);
    cr_assert(config_load(&c, path, err, sizeof err), "%s", err);
    cr_assert_not(config_validate(&c, err, sizeof err), "accepted: %s", text);
    config_free(&c);
    unlink(path);
    return err;
}

/* The message starts with "PATH:LINE: " and then says what. */
static void expect_at_line(const char *err, unsigned line, const char *what) {
    char want[64];
    snprintf(want, sizeof want, ":%u: ", line);
    cr_expect(strncmp(err, "/tmp/shakedown-config-", 22) == 0, "no file name: %s", err);
    cr_expect(strstr(err, want), "not at line %u: %s", line, err);
    cr_expect(strstr(err, what), "'%s' not in: %s", what, err);
}

Test(config, settings_become_long_options_in_file_order) {
    struct config c;
    char err[256];
    const char *path = conf("# a sensor\n"
                            "\n"
                            "   max-flows = 65536   \n"
                            "idle-timeout=600\n"
                            "\t# indented comment\n"
                            "wide\n"
                            "filter = tcp and not port 22\n"
                            "output = /var/log/shakedown/eth0.json\r\n");
    cr_assert(config_load(&c, path, err, sizeof err), "%s", err);
    cr_assert_eq(c.nargs, 4);
    cr_expect_str_eq(c.args[0], "--max-flows=65536");
    cr_expect_eq(c.lines[0], 3);
    cr_expect_str_eq(c.args[1], "--idle-timeout=600");
    cr_expect_eq(c.lines[1], 4);
    cr_expect_str_eq(c.args[2], "--wide");
    cr_expect_eq(c.lines[2], 6);
    /* The CR of a CRLF line is not part of the value. */
    cr_expect_str_eq(c.args[3], "--output=/var/log/shakedown/eth0.json");
    /* The filter is the trailing operands on a command line, not an option: kept apart, the
     * spaces inside it kept. */
    cr_expect_str_eq(c.filter, "tcp and not port 22");
    cr_expect_eq(c.filter_line, 7);
    cr_expect(config_validate(&c, err, sizeof err), "%s", err);
    config_free(&c);
    unlink(path);
}

/* The merged vector for the file text and the command line cmdline (n arguments), compared
 * with want (nwant arguments, the program name first). */
static void expect_merged(const char *text, char **cmdline, int n, const char *const *want,
                          int nwant) {
    struct config c;
    char err[256];
    const char *path = conf(text);
    cr_assert(config_load(&c, path, err, sizeof err), "%s", err);
    int got = 0;
    char **m = config_merge_argv(&c, "shakedown", n, cmdline, &got);
    cr_assert(m);
    cr_assert_eq(got, nwant);
    for (int i = 0; i < got; i++)
        cr_expect_str_eq(m[i], want[i]);
    cr_expect_null(m[got]);
    free(m);
    config_free(&c);
    unlink(path);
}

Test(config, merged_command_line_puts_the_file_first) {
    /* The file's settings come first, so that getopt reads the command line's last; an option
     * the command line gives is left out of the file's: here -F (whose values would otherwise
     * add up: two -F each want an -o of their own). */
    char *cmdline[] = {"-F", "json", "-r", "x.pcap"};
    const char *want[] = {"shakedown", "--max-flows=10", "-F", "json", "-r", "x.pcap"};
    expect_merged("format = zeek\nmax-flows = 10\n", cmdline, 4, want, 6);
}

Test(config, command_line_output_replaces_the_files) {
    /* Every output line of the file goes when the command line names an output, however it
     * spells it: -o, or -o in a cluster of letters (-po: -p, then -o with the next argument);
     * and an option given by an abbreviation of its name replaces the file's too. */
    const char *file = "output = /var/log/a.json\noutput = /var/log/b.json\nidle-timeout = 9\n";
    char *short_o[] = {"-i", "eth0", "-o", "/var/log/a.json"};
    const char *want_short[] = {"shakedown", "--idle-timeout=9", "-i", "eth0",
                                "-o",        "/var/log/a.json"};
    expect_merged(file, short_o, 4, want_short, 6);
    char *abbreviated[] = {"--idle=4", "-r", "x.pcap"}; /* --idle-timeout, abbreviated */
    const char *want_abbreviated[] = {
        "shakedown", "--output=/var/log/a.json", "--output=/var/log/b.json", "--idle=4", "-r",
        "x.pcap"};
    expect_merged(file, abbreviated, 3, want_abbreviated, 6);
    char *cluster[] = {"-po", "c.json", "-r", "x.pcap"};
    const char *want_cluster[] = {"shakedown", "--idle-timeout=9", "-po", "c.json", "-r", "x.pcap"};
    expect_merged(file, cluster, 4, want_cluster, 6);
    /* "-o" as the value of another option (-r's file name) is not an output: the file's stay. */
    char *as_value[] = {"-r", "-o"};
    const char *want_value[] = {"shakedown",
                                "--output=/var/log/a.json",
                                "--output=/var/log/b.json",
                                "--idle-timeout=9",
                                "-r",
                                "-o"};
    expect_merged(file, as_value, 2, want_value, 6);
}

Test(config, syntax_mistakes_name_the_line) {
    expect_at_line(load_error("max-flows = 1\n= 5\n"), 2, "expected 'option = value'");
    expect_at_line(load_error("\n\n--max-flows = 5\n"), 3, "expected 'option = value'");
    expect_at_line(load_error("max flows = 5\n"), 1, "expected 'option = value'");
    expect_at_line(load_error("# ok\nmax-flows =\n"), 2, "has no value");
    expect_at_line(load_error("filter\n"), 1, "needs an expression");
    expect_at_line(load_error("wide\nread = a.pcap\n"), 2, "'read' cannot be set");
    expect_at_line(load_error("help\n"), 1, "'help' cannot be set");
}

/* Hostile files: a NUL byte, an endless line. */
Test(config, nul_bytes_and_long_lines_are_mistakes) {
    static const char nul[] = "wide\nmax-flows = 1\0 0\n";
    struct config c;
    char err[256];
    const char *path = conf_file(nul, sizeof nul - 1);
    cr_assert_not(config_load(&c, path, err, sizeof err));
    expect_at_line(err, 2, "NUL byte");
    unlink(path);
    size_t len = 10000;
    char *big = malloc(len + 1);
    memset(big, 'a', len);
    big[len] = '\0';
    expect_at_line(load_error(big), 1, "longer than");
    free(big);
}

Test(config, missing_file_is_named_with_the_reason) {
    struct config c;
    char err[256];
    cr_assert_not(config_load(&c, "/nonexistent/shakedown.conf", err, sizeof err));
    cr_expect_str_eq(err, "/nonexistent/shakedown.conf: No such file or directory");
}

/* Values are checked by the command line's own parser, and its message comes back with the
 * line. */
Test(config, bad_values_name_the_line_with_the_parsers_message) {
    expect_at_line(validate_error("wide\nmax-flows = lots\n"), 2,
                   "--max-flows needs a whole number from 1 to 268435456, not 'lots'");
    expect_at_line(validate_error("idle-timeout = -3\n"), 1, "--idle-timeout needs a number");
    expect_at_line(validate_error("format = xml\n"), 1, "unknown format 'xml'");
    expect_at_line(validate_error("no-such-option = 1\n"), 1, "unknown option");
    /* An option that takes a value, given as a flag: nothing follows it to be taken as one. */
    expect_at_line(validate_error("# x\n\nformat\n"), 3, "'--format' needs a value");
    /* A flag given a value. */
    expect_at_line(validate_error("wide = yes\n"), 1, "unknown option '--wide=yes'");
    expect_at_line(validate_error("max-flows = 5\nfilter = tcp port\n"), 2,
                   "bad filter expression 'tcp port'");
}
