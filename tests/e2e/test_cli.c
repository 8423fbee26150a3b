/* End-to-end tests of the command line: help, version, the man page (and the README where it
 * says the same), and one-line errors with exit status 2 for every kind of bad input on the
 * command line. */
#define _GNU_SOURCE 1 /* strcasestr */
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "run.h"

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = calloc(1, (size_t)n + 1);
    cr_assert(s && fread(s, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    return s;
}

Test(cli, version) {
    const char *args[] = {"--version", NULL};
    struct run_result r = run_shakedown(NULL, args);
    cr_expect_eq(r.status, 0);
    cr_expect(strncmp(r.out, "shakedown ", 10) == 0, "%s", r.out);
    run_result_free(&r);
}

/* Every long option the help lists ("--name") must be documented in the man page, where troff
 * writes the dashes escaped ("\-\-name"), and the help must list the options the parser knows. */
Test(cli, help_and_man_page_document_every_option) {
    const char *args[] = {"--help", NULL};
    struct run_result r = run_shakedown(NULL, args);
    cr_assert_eq(r.status, 0);
    char *man = read_file(SHAKEDOWN_SOURCE_DIR "/docs/shakedown.1");
    int found = 0;
    for (const char *p = r.out; (p = strstr(p, "--")) != NULL; p += 2) {
        char name[64] = {0};
        size_t n = 0;
        while (n < sizeof name - 1 && (p[2 + n] == '-' || (p[2 + n] >= 'a' && p[2 + n] <= 'z')))
            n++;
        if (n == 0)
            continue;
        memcpy(name, p + 2, n);
        char troff[200] = "\\-\\-";
        for (size_t i = 0, k = 4; i < n && k + 3 < sizeof troff; i++) {
            if (name[i] == '-')
                troff[k++] = '\\';
            troff[k++] = name[i];
            troff[k] = '\0';
        }
        cr_expect(strstr(man, troff), "man page lacks --%s", name);
        found++;
    }
    const char *known[] = {"--read",
                           "--format",
                           "--output",
                           "--checksums",
                           "--iso-time",
                           "--community-id-seed",
                           "--max-flows",
                           "--time-wait",
                           "--handshake-timeout",
                           "--idle-timeout",
                           "--half-closed-timeout",
                           "--closing-timeout",
                           "--udp-timeout",
                           "--icmp-timeout",
                           "--answer-grace",
                           "--syn-flood-threshold",
                           "--syn-flood-window",
                           "--port-scan-threshold",
                           "--port-scan-window",
                           "--help",
                           "--version"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        cr_expect(strstr(r.out, known[i]), "--help lacks %s", known[i]);
    cr_expect_geq(found, 21);
    free(man);
    run_result_free(&r);
}

/* What text says exit status 3 means: from " 3 " (followed by "records", after "Exit status"
 * or the man page's ".B 3") to the end of its sentence, whitespace collapsed, lower case; "" if
 * text does not say. */
static void exit3_meaning(const char *text, const char *section, char *out, size_t len) {
    out[0] = '\0';
    const char *p = strcasestr(text, section);
    cr_assert_not_null(p, "no \"%s\"", section);
    size_t n = 0;
    for (bool blank = false; *p && n + 1 < len; p++) { /* the section, normalised */
        if (isspace((unsigned char)*p)) {
            blank = true;
            continue;
        }
        if (blank && n + 2 < len)
            out[n++] = ' ';
        blank = false;
        out[n++] = (char)tolower((unsigned char)*p);
    }
    out[n] = '\0';
    char *start = strstr(out, " 3 records");
    if (!start) {
        out[0] = '\0';
        return;
    }
    char *end = strchr(start, '.');
    if (end)
        *end = '\0';
    memmove(out, start + 1, strlen(start + 1) + 1);
}

/* Exit status 3 (records lost: the output could not be written) is in --help and the README,
 * meaning what the man page's EXIT STATUS says: records lost, because the output could not be
 * written. */
Test(cli, exit_status_3_documented_alike) {
    const char *args[] = {"--help", NULL};
    struct run_result r = run_shakedown(NULL, args);
    cr_assert_eq(r.status, 0);
    char *man = read_file(SHAKEDOWN_SOURCE_DIR "/docs/shakedown.1");
    char *readme = read_file(SHAKEDOWN_SOURCE_DIR "/README.md");
    const struct {
        const char *name, *text, *section;
    } docs[] = {{"--help", r.out, "Exit status:"},
                {"README.md", readme, "Exit status:"},
                {"shakedown.1", man, ".SH EXIT STATUS"}};
    for (size_t i = 0; i < 3; i++) {
        char meaning[4096];
        exit3_meaning(docs[i].text, docs[i].section, meaning, sizeof meaning);
        cr_expect(strstr(meaning, "3 records") == meaning && strstr(meaning, " lost") &&
                      strstr(meaning, "the output could not be written"),
                  "%s: exit status 3 means \"%s\"", docs[i].name, meaning);
    }
    free(readme);
    free(man);
    run_result_free(&r);
}

/* Each bad command line gets exactly one line on stderr, nothing on stdout, and exit 2. */
static void assert_usage_error(const char *const *args, const char *needle) {
    struct run_result r = run_shakedown(NULL, args);
    cr_expect_eq(r.status, 2, "exit %d for %s", r.status, needle);
    cr_expect_eq(count_lines(r.err), 1, "one line: %s", r.err);
    cr_expect(strstr(r.err, needle), "'%s' not in: %s", needle, r.err);
    cr_expect_str_empty(r.out);
    run_result_free(&r);
}

Test(cli, usage_errors) {
    const char *none[] = {NULL};
    assert_usage_error(none, "no input");
    const char *unknown[] = {"--frobnicate", NULL};
    assert_usage_error(unknown, "--frobnicate");
    const char *noval[] = {"-r", NULL};
    assert_usage_error(noval, "-r");
    const char *fmt[] = {"-r", "x.pcap", "--format", "xml", NULL};
    assert_usage_error(fmt, "xml");
    const char *ck[] = {"-r", "x.pcap", "--checksums", "maybe", NULL};
    assert_usage_error(ck, "maybe");
    const char *flows[] = {"-r", "x.pcap", "--max-flows", "0", NULL};
    assert_usage_error(flows, "--max-flows");
    const char *flows2[] = {"-r", "x.pcap", "--max-flows", "12abc", NULL};
    assert_usage_error(flows2, "12abc");
    const char *tw[] = {"-r", "x.pcap", "--time-wait", "-5", NULL};
    assert_usage_error(tw, "--time-wait");
    const char *seed[] = {"-r", "x.pcap", "--community-id-seed", "65536", NULL};
    assert_usage_error(seed, "65536");
    /* An input that exists: a missing one is refused first, before any output is opened. */
    const char *out[] = {"-r", SHAKEDOWN_SOURCE_DIR "/samples/clean-ipv4.pcap", "-o",
                         "/nonexistent/dir/out.json", NULL};
    assert_usage_error(out, "/nonexistent/dir/out.json");
}

/* -o writes the records to the file (JSON, since a file is not a terminal) and nothing to
 * standard output: the sample's one connection and the summary, two lines. */
Test(cli, output_file) {
    const char *path = tmp_path("out.json");
    const char *args[] = {"-r", SHAKEDOWN_SOURCE_DIR "/samples/clean-ipv4.pcap", "-o", path, NULL};
    struct run_result r = run_shakedown(NULL, args);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_str_empty(r.out);
    char *text = read_file(path);
    cr_expect_eq(count_lines(text), 2, "%s", text);
    cr_expect(strncmp(text, "{\"type\":\"connection\"", 20) == 0, "%s", text);
    free(text);
    run_result_free(&r);
}

/* The -F entry of --help lists the formats from the format table (output/format.c): its six
 * rows, in the table's order. Each name listed is one -F accepts: the sample read in it exits 0
 * and writes something. */
Test(cli, help_lists_the_format_table) {
    const char *args[] = {"--help", NULL};
    struct run_result r = run_shakedown(NULL, args);
    cr_assert_eq(r.status, 0);
    const char *entry = strstr(r.out, "--format FORMAT");
    cr_assert(entry, "%s", r.out);
    const char *list = strstr(entry, "one of ");
    cr_assert(list && list < strchr(entry, '\n'), "no list on the -F line: %.200s", entry);
    list += strlen("one of ");
    size_t len = strcspn(list, ";\n");
    cr_expect(strncmp(list, "json, text, zeek, zeek-json, eve, ecs", len) == 0 && len == 37, "%.*s",
              (int)len, list);
    char names[128];
    snprintf(names, sizeof names, "%.*s", (int)len, list);
    char *save = NULL;
    for (char *name = strtok_r(names, ", ", &save); name; name = strtok_r(NULL, ", ", &save)) {
        const char *run[] = {"-F", name, "-r", SHAKEDOWN_SOURCE_DIR "/samples/clean-ipv4.pcap",
                             NULL};
        struct run_result f = run_shakedown(NULL, run);
        cr_expect_eq(f.status, 0, "-F %s: %s", name, f.err);
        cr_expect(f.out[0], "-F %s wrote nothing", name);
        run_result_free(&f);
    }
    run_result_free(&r);
}

/* --file-mode is for the targets whose transport writes and rotates files: standard output
 * (with or without -o -) and a network output are refused. */
Test(cli, file_mode_needs_a_file) {
    const char *cap = SHAKEDOWN_SOURCE_DIR "/samples/clean-ipv4.pcap";
    const char *plain[] = {"-r", cap, "--file-mode", "0600", NULL};
    assert_usage_error(plain, "--file-mode needs an output file");
    const char *dash[] = {"-r", cap, "-o", "-", "--file-mode", "0600", NULL};
    assert_usage_error(dash, "--file-mode needs an output file");
    const char *redis[] = {"-r", cap, "-o", "redis://127.0.0.1:9/k", "--file-mode", "0600", NULL};
    assert_usage_error(redis, "--file-mode needs an output file");
}

/* The report page is a file shakedown creates too: --file-mode applies to it (without any -o
 * file), so the page is created with exactly the mode given (the tests run with umask 022 or
 * stricter, which leaves 0600 alone). */
Test(cli, file_mode_applies_to_the_report) {
    const char *page = tmp_path("mode-report.html");
    const char *run[] = {"-r",          SHAKEDOWN_SOURCE_DIR "/samples/clean-ipv4.pcap",
                         "--report",    page,
                         "--file-mode", "0600",
                         NULL};
    struct run_result r = run_shakedown(NULL, run);
    cr_assert_eq(r.status, 0, "%s", r.err);
    struct stat st;
    cr_assert_eq(stat(page, &st), 0);
    cr_expect_eq(st.st_mode & 0777, 0600, "mode %o", st.st_mode & 0777);
    run_result_free(&r);
}
