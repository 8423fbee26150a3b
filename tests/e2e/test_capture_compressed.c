/* End-to-end tests of compressed captures: gzip, zstd and xz files (made with the gzip, zstd and
 * xz tools) and the same on standard input give exactly the records of the plain capture; the
 * compression is recognised by its magic bytes, not the file name; a damaged compressed stream
 * is a damaged input (exit status 1), never a crash. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"
#include "samples.h"

/* Runs `tool < in > out` in a shell, failing the test if it fails. */
static void sh(const char *tool, const char *in, const char *out) {
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "%s < '%s' > '%s'", tool, in, out);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
}

/* out without its last line (the summary, which names the input and the run time). */
static char *records(const char *out) {
    char *copy = strdup(out);
    size_t n = strlen(copy);
    if (n && copy[n - 1] == '\n')
        copy[--n] = '\0';
    char *last = strrchr(copy, '\n');
    *(last ? last + 1 : copy) = '\0';
    return copy;
}

/* The status of the summary's first input. */
static const char *input_status(struct json_object *summary) {
    struct json_object *in = json_at(summary, "inputs");
    cr_assert(in && json_object_is_type(in, json_type_array) && json_object_array_length(in) > 0);
    return json_str_or(json_object_array_get_idx(in, 0), "status");
}

static void expect_same_records(const char *plain, const char *other, const char *what) {
    struct run_result a = run_json(plain, NULL), b = run_json(other, NULL);
    cr_assert_eq(b.status, 0, "%s: %s", what, b.err);
    char *ra = records(a.out), *rb = records(b.out);
    cr_expect_gt(strlen(ra), 0);
    cr_expect_str_eq(rb, ra, "%s", what);
    /* and the summary counts the same packets */
    struct json_object *sa = json_last_line(a.out), *sb = json_last_line(b.out);
    cr_expect_eq(json_int_at(sb, "packets"), json_int_at(sa, "packets"), "%s", what);
    cr_expect_str_eq(input_status(sb), "ok", "%s", what);
    json_object_put(sa);
    json_object_put(sb);
    free(ra);
    free(rb);
    run_result_free(&a);
    run_result_free(&b);
}

Test(compressed, gzip_zstd_xz_files_read_as_the_plain_capture) {
    static const struct {
        const char *name;
        bool (*gen)(const char *);
    } samples[] = {{"multi.pcap", gen_multi}, {"clean.pcapng", gen_clean_pcapng}};
    static const char *const tools[][2] = {
        {"gzip -c", ".gz"}, {"zstd -q -c", ".zst"}, {"xz -c", ".xz"}};
    for (size_t i = 0; i < 2; i++) {
        char plain[512];
        snprintf(plain, sizeof plain, "%s", tmp_path(samples[i].name));
        cr_assert(samples[i].gen(plain));
        for (size_t t = 0; t < 3; t++) {
            char packed[600];
            snprintf(packed, sizeof packed, "%s%s", plain, tools[t][1]);
            sh(tools[t][0], plain, packed);
            expect_same_records(plain, packed, packed);
        }
    }
}

/* Standard input cannot seek: the magic bytes read to recognise it are handed back first. */
Test(compressed, standard_input_plain_and_compressed) {
    char plain[512], packed[600];
    snprintf(plain, sizeof plain, "%s", tmp_path("multi.pcap"));
    cr_assert(gen_multi(plain));
    snprintf(packed, sizeof packed, "%s.zst", plain);
    sh("zstd -q -c", plain, packed);
    struct run_result a = run_json(plain, NULL);
    const char *args[] = {"-F", "json", "-r", "-", NULL};
    struct run_result b = run_shakedown(packed, args), c = run_shakedown(plain, args);
    char *ra = records(a.out), *rb = records(b.out), *rc = records(c.out);
    cr_expect_str_eq(rb, ra, "zstd on stdin");
    cr_expect_str_eq(rc, ra, "plain pcap on stdin");
    free(ra);
    free(rb);
    free(rc);
    run_result_free(&a);
    run_result_free(&b);
    run_result_free(&c);
}

/* By content, not by name: gzip data named .pcap is decompressed, a plain capture named .gz is
 * read as it is. */
Test(compressed, recognised_by_magic_not_name) {
    char plain[512], gz_named_pcap[600], pcap_named_gz[600];
    snprintf(plain, sizeof plain, "%s", tmp_path("multi.pcap"));
    cr_assert(gen_multi(plain));
    snprintf(gz_named_pcap, sizeof gz_named_pcap, "%s.really-gzip.pcap", plain);
    snprintf(pcap_named_gz, sizeof pcap_named_gz, "%s.plain.gz", plain);
    sh("gzip -c", plain, gz_named_pcap);
    sh("cat", plain, pcap_named_gz);
    expect_same_records(plain, gz_named_pcap, "gzip named .pcap");
    expect_same_records(plain, pcap_named_gz, "pcap named .gz");
}

/* The first 200 bytes of an xz file: the stream ends before its data does. Whatever was
 * decompressed before the damage is analysed; the input is damaged, exit status 1 (as for a
 * truncated plain capture), with the reason on stderr. */
Test(compressed, damaged_stream_is_a_damaged_input) {
    char plain[512], packed[600], cut[600];
    snprintf(plain, sizeof plain, "%s", tmp_path("multi.pcap"));
    cr_assert(gen_multi(plain));
    snprintf(packed, sizeof packed, "%s.xz", plain);
    snprintf(cut, sizeof cut, "%s.cut.xz", plain);
    sh("xz -c", plain, packed);
    sh("head -c 200", packed, cut);
    struct run_result r = run_json(cut, NULL);
    cr_expect_eq(r.status, 1, "%s", r.err);
    struct json_object *s = json_last_line(r.out);
    cr_assert_not_null(s);
    cr_expect_str_eq(input_status(s), "damaged");
    cr_expect(strstr(r.err, "damaged") != NULL, "%s", r.err);
    json_object_put(s);
    run_result_free(&r);
}
