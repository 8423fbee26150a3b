/* run: process and JSON helpers for the end-to-end tests (see run.h). */
#define _XOPEN_SOURCE 700 /* nftw */
#include "run.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return strdup("");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = calloc(1, (size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n)
        s[0] = '\0';
    fclose(f);
    return s;
}

char *read_whole_file(const char *path) {
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    fclose(f);
    char *s = slurp(path);
    cr_assert(s, "cannot read %s", path);
    return s;
}

static char tmp_dir_name[64];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

/* The test's directory and everything in it, when its process exits (Criterion runs each test in
 * a process of its own: without this, every run of the suite left thousands behind). */
static void tmp_dir_remove(void) {
    if (tmp_dir_name[0])
        nftw(tmp_dir_name, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *tmp_dir(void) {
    if (!tmp_dir_name[0]) {
        snprintf(tmp_dir_name, sizeof tmp_dir_name, "/tmp/shakedown-e2e-XXXXXX");
        if (!mkdtemp(tmp_dir_name))
            abort();
        atexit(tmp_dir_remove);
    }
    return tmp_dir_name;
}

const char *tmp_path(const char *name) {
    static char bufs[8][256];
    static unsigned next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s", tmp_dir(), name);
    return b;
}

static void child_exec(const char *stdin_path, const char *const *args, const char *outp,
                       const char *errp) {
    int in = open(stdin_path ? stdin_path : "/dev/null", O_RDONLY);
    int out = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0 || err < 0)
        _exit(126);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    const char *argv[64] = {SHAKEDOWN_BIN};
    size_t n = 1;
    for (; args[n - 1] && n < 63; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    execv(SHAKEDOWN_BIN, (char *const *)argv);
    _exit(127);
}

struct run_result run_shakedown(const char *stdin_path, const char *const *args) {
    static unsigned seq;
    char outp[300], errp[300];
    snprintf(outp, sizeof outp, "%s.%u", tmp_path("stdout"), seq);
    snprintf(errp, sizeof errp, "%s.%u", tmp_path("stderr"), seq++);
    struct run_result r = {-1, NULL, NULL};
    pid_t pid = fork();
    if (pid == 0)
        child_exec(stdin_path, args, outp, errp);
    int ws = 0;
    if (pid > 0 && waitpid(pid, &ws, 0) == pid)
        r.status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    r.out = slurp(outp);
    r.err = slurp(errp);
    unlink(outp);
    unlink(errp);
    return r;
}

void run_result_free(struct run_result *r) {
    free(r->out);
    free(r->err);
}

struct run_result run_json(const char *path, const char *const *opts) {
    const char *args[32] = {"-F", "json", "-r", path};
    size_t n = 4;
    for (size_t i = 0; opts && opts[i] && n < 31; i++)
        args[n++] = opts[i];
    args[n] = NULL;
    return run_shakedown(NULL, args);
}

struct json_object *json_last_line(const char *out) {
    const char *end = out + strlen(out);
    while (end > out && end[-1] == '\n')
        end--;
    const char *start = end;
    while (start > out && start[-1] != '\n')
        start--;
    char *line = strndup(start, (size_t)(end - start));
    struct json_object *o = json_tokener_parse(line);
    free(line);
    if (o && !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        return NULL;
    }
    return o;
}

int count_lines(const char *s) {
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

struct json_object *json_at(struct json_object *o, const char *path) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    char *save = NULL;
    for (char *k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save)) {
        struct json_object *next = NULL;
        if (!json_object_object_get_ex(o, k, &next))
            return NULL;
        o = next;
    }
    return o;
}

int64_t json_int_at(struct json_object *o, const char *path) {
    struct json_object *v = json_at(o, path);
    return v && json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : -1;
}

const char *json_str_or(struct json_object *o, const char *path) {
    const char *s = json_str_at(o, path);
    return s ? s : "(absent)";
}

const char *json_str_at(struct json_object *o, const char *path) {
    struct json_object *v = json_at(o, path);
    return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

void expect_packet_accounting(struct json_object *summary) {
    int64_t packets = json_int_at(summary, "packets");
    int64_t other = json_at(summary, "shard") ? json_int_at(summary, "shard.other_packets") : 0;
    int64_t parts = json_int_at(summary, "filtered") + json_int_at(summary, "analysed") +
                    json_int_at(summary, "checksum_dropped") + other +
                    json_int_at(summary, "decode_failed");
    cr_expect_eq(packets, parts,
                 "packets %" PRId64 " != filtered + analysed + checksum_dropped + "
                 "shard.other_packets + decode_failed = %" PRId64,
                 packets, parts);
    int64_t errors = 0;
    struct json_object *de = json_at(summary, "decode_errors");
    cr_assert(de, "the summary has no decode_errors");
    json_object_object_foreach(de, key, val) {
        (void)key;
        errors += json_object_get_int64(val);
    }
    cr_expect_eq(json_int_at(summary, "decode_failed"), errors,
                 "decode_failed is not the sum of decode_errors");
}

void expect_breakdown(struct json_object *summary, const char *summary_key,
                      struct json_object *const *recs, int n, const char *rec_key) {
    struct json_object *by = json_at(summary, summary_key);
    cr_assert(by && json_object_is_type(by, json_type_object), "summary lacks %s", summary_key);
    int64_t sum = 0;
    json_object_object_foreach(by, key, val) {
        int64_t count = 0;
        for (int i = 0; i < n; i++)
            count += strcmp(json_str_or(recs[i], rec_key), key) == 0;
        cr_expect_eq(json_object_get_int64(val), count, "%s.%s = %" PRId64 ", records say %" PRId64,
                     summary_key, key, json_object_get_int64(val), count);
        sum += json_object_get_int64(val);
    }
    cr_expect_eq(sum, n, "%s adds up to %" PRId64 ", %d records", summary_key, sum, n);
}

void expect_str(struct json_object *o, const char *path, const char *want) {
    cr_expect_str_eq(json_str_or(o, path), want, "%s is %s, want %s", path, json_str_or(o, path),
                     want);
}

void expect_int(struct json_object *o, const char *path, int64_t want) {
    int64_t got = json_int_at(o, path);
    cr_expect_eq(got, want, "%s is %" PRId64 ", want %" PRId64, path, got, want);
}

void expect_time(struct json_object *o, const char *key, int64_t ns) {
    const int64_t sec = INT64_C(1000000000);
    char want[40];
    snprintf(want, sizeof want, "%" PRId64 ".%06" PRId64, ns / sec, ns % sec / 1000);
    struct json_object *v = json_at(o, key);
    const char *got = v ? json_object_to_json_string(v) : "(absent)";
    cr_expect_str_eq(got, want, "%s is %s, want %s", key, got, want);
}
