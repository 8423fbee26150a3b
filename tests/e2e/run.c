/* run: process and JSON helpers for the end-to-end tests (see run.h): running the binary, which
 * format its command line sends to standard output (as program/cli.c and program/config.c
 * decide it), and the strict check of every JSON line it writes there. */
#define _XOPEN_SOURCE 700 /* nftw */
#include "run.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The whole file at path, NUL-terminated ("" if it cannot be opened); its length in *len. */
static char *slurp(const char *path, size_t *len) {
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return strdup("");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = calloc(1, (size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n)
        s[0] = '\0';
    else if (s)
        *len = (size_t)n;
    fclose(f);
    return s;
}

char *read_whole_file(const char *path) {
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    fclose(f);
    size_t len;
    char *s = slurp(path, &len);
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

/* One line parsed strictly (JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8): the whole of
 * s[0..len) must be one JSON object. NULL if it is not, with the reason in *why. */
static struct json_object *parse_strict(const char *s, size_t len, const char **why) {
    *why = "not one JSON object";
    if (len > INT32_MAX || memchr(s, '\0', len)) {
        *why = len > INT32_MAX ? "line too long" : "NUL byte in the line";
        return NULL;
    }
    struct json_tokener *tok = json_tokener_new();
    cr_assert(tok, "json_tokener_new failed");
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    struct json_object *o = json_tokener_parse_ex(tok, s, (int)len);
    enum json_tokener_error e = json_tokener_get_error(tok);
    bool whole = o && e == json_tokener_success && json_tokener_get_parse_end(tok) == len;
    if (e != json_tokener_success)
        *why = json_tokener_error_desc(e);
    else if (o && !whole)
        *why = "something after the JSON value";
    json_tokener_free(tok);
    if (whole && json_object_is_type(o, json_type_object))
        return o;
    json_object_put(o);
    return NULL;
}

/* Criterion expectations: out (len bytes) is lines that each end with a newline and are each
 * one JSON object, parsed strictly; each line that is not is named with the reason. */
static void expect_json_lines(const char *out, size_t len) {
    cr_expect_eq(strlen(out), len, "standard output holds a NUL byte at offset %zu", strlen(out));
    int line_no = 1;
    for (const char *line = out; *line; line_no++) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        const char *why = "the last line has no newline";
        struct json_object *o = nl ? parse_strict(line, n, &why) : NULL;
        if (!o)
            cr_expect_fail("stdout line %d is not a strict JSON object (%s): %.*s", line_no, why,
                           n > 300 ? 300 : (int)n, line);
        json_object_put(o);
        line += n + (nl ? 1 : 0);
    }
}

/* What a command line sends to standard output, as far as the check of its lines needs it:
 * the -F options in order (the configuration file's first), where "-o -" came among them, and
 * whether it prints something else instead of records (--help, --ladder ...). */
struct stdout_plan {
    const char *formats[16]; /* names, pointing into args or into config_values */
    size_t nformats;
    bool any_output;            /* some -o was given */
    bool stdout_output;         /* one of them was "-" */
    size_t formats_before_dash; /* -F options before the first "-o -" */
    bool not_records;
    char config_values[16][64]; /* format and output values read from a --config file */
    size_t nconfig_values;
};

/* One option of the command line or of the configuration file, by its long name. */
static void plan_setting(struct stdout_plan *p, const char *name, const char *value) {
    static const char *const not_records[] = {
        "help", "version", "list-interfaces", "check-config", "ladder", "h", "V", "D"};
    for (size_t i = 0; i < sizeof not_records / sizeof not_records[0]; i++)
        p->not_records = p->not_records || strcmp(name, not_records[i]) == 0;
    if (value && (strcmp(name, "format") == 0 || strcmp(name, "F") == 0) && p->nformats < 16)
        p->formats[p->nformats++] = value;
    if (value && (strcmp(name, "output") == 0 || strcmp(name, "o") == 0)) {
        p->any_output = true;
        if (strcmp(value, "-") == 0 && !p->stdout_output) {
            p->stdout_output = true;
            p->formats_before_dash = p->nformats;
        }
    }
}

/* The settings of a --config file (`name = value` lines, program/config.c), in order. */
static void plan_config_file(struct stdout_plan *p, const char *path) {
    FILE *f = fopen(path, "r");
    char line[4096];
    while (f && fgets(line, sizeof line, f)) {
        char name[64] = "", value[64] = "";
        if (sscanf(line, " %63[a-z0-9-] = %63s", name, value) < 1 || !value[0])
            continue;
        bool kept = strcmp(name, "format") == 0 || strcmp(name, "output") == 0;
        if (kept && p->nconfig_values == 16)
            continue;
        char *v = kept ? p->config_values[p->nconfig_values++] : NULL;
        if (v)
            memcpy(v, value, sizeof value);
        plan_setting(p, name, v);
    }
    if (f)
        fclose(f);
}

/* Reads args as getopt_long would for the options that matter here: -F/--format, -o/--output
 * and --config with their values, attached or in the next argument, and the flags above. */
static void plan_args(struct stdout_plan *p, const char *const *args) {
    for (size_t i = 0; args[i]; i++) {
        const char *a = args[i], *value = NULL;
        char name[64];
        if (strncmp(a, "--", 2) == 0) {
            const char *eq = strchr(a, '=');
            size_t n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
            snprintf(name, sizeof name, "%.*s", (int)(n < 63 ? n : 63), a + 2);
            bool takes = strcmp(name, "format") == 0 || strcmp(name, "output") == 0 ||
                         strcmp(name, "config") == 0;
            value = eq ? eq + 1 : takes && args[i + 1] ? args[++i] : NULL;
        } else if (a[0] == '-' && a[1]) {
            snprintf(name, sizeof name, "%c", a[1]);
            if (a[1] == 'F' || a[1] == 'o')
                value = a[2] ? a + 2 : args[i + 1] ? args[++i] : NULL;
        } else {
            continue;
        }
        if (strcmp(name, "config") == 0 && value)
            plan_config_file(p, value);
        else
            plan_setting(p, name, value);
    }
}

/* The format of the records on standard output (program/cli.c's resolve_formats): with no -o,
 * the last -F; with "-o -", the one -F or else the -F before it; no -F: json (standard output is
 * a file here, never a terminal). NULL when standard output carries no records. */
static const char *stdout_format(const struct stdout_plan *p) {
    if (p->not_records || (p->any_output && !p->stdout_output))
        return NULL;
    if (p->nformats == 0)
        return "json";
    if (!p->any_output)
        return p->formats[p->nformats - 1];
    if (p->nformats == 1)
        return p->formats[0];
    return p->formats_before_dash ? p->formats[p->formats_before_dash - 1] : NULL;
}

/* True if args make shakedown write JSON lines on standard output. */
static bool stdout_is_json(const char *const *args) {
    struct stdout_plan *p = calloc(1, sizeof *p);
    cr_assert(p);
    plan_args(p, args);
    const char *format = stdout_format(p);
    static const char *const json_formats[] = {"json", "eve", "ecs", "zeek-json"};
    bool json = false;
    for (size_t i = 0; format && i < sizeof json_formats / sizeof json_formats[0]; i++)
        json = json || strcmp(format, json_formats[i]) == 0;
    free(p);
    return json;
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
    size_t out_len, err_len;
    r.out = slurp(outp, &out_len);
    r.err = slurp(errp, &err_len);
    unlink(outp);
    unlink(errp);
    if (stdout_is_json(args))
        expect_json_lines(r.out, out_len);
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
    const char *why;
    return parse_strict(start, (size_t)(end - start), &why);
}

struct json_object *json_parse_record(const char *line) {
    const char *why;
    struct json_object *o = parse_strict(line, strlen(line), &why);
    cr_assert(o, "not a strict JSON object (%s): %.300s", why, line);
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
