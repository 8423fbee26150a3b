/* hardening_helpers: see hardening_helpers.h. */
#include "hardening_helpers.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capwrite.h"
#include "pktbuild.h"
#include "samples.h"
#include "session.h"

struct run_result run_sh(const char *script, const char *const *args) {
    static unsigned seq;
    char outp[300], errp[300];
    snprintf(outp, sizeof outp, "%s.sh%u", tmp_path("stdout"), seq);
    snprintf(errp, sizeof errp, "%s.sh%u", tmp_path("stderr"), seq++);
    struct run_result r = {-1, NULL, NULL};
    pid_t pid = fork();
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int out = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int err = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || out < 0 || err < 0)
            _exit(126);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        const char *argv[64] = {"sh", "-c", script, SHAKEDOWN_BIN};
        size_t n = 4;
        for (size_t i = 0; args[i] && n < 63; i++)
            argv[n++] = args[i];
        argv[n] = NULL;
        execv("/bin/sh", (char *const *)argv);
        _exit(127);
    }
    int ws = 0;
    if (pid > 0 && waitpid(pid, &ws, 0) == pid)
        r.status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    r.out = file_get(outp);
    r.err = file_get(errp);
    unlink(outp);
    unlink(errp);
    return r;
}

void file_put(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    cr_assert(f, "cannot write %s", path);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
}

char *file_get(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (cap - len < 2) {
            char *bigger = realloc(buf, cap *= 2);
            if (!bigger)
                free(buf);
            buf = bigger;
        }
    }
    fclose(f);
    if (buf)
        buf[len] = '\0';
    return buf;
}

/* All of the file at path into *buf (malloc'ed), its size into *len; false if unreadable. */
static bool file_bytes(const char *path, char **buf, size_t *len) {
    FILE *f = fopen(path, "rb");
    *buf = NULL;
    *len = 0;
    if (!f)
        return false;
    size_t cap = 0;
    for (;;) {
        if (*len == cap) {
            char *bigger = realloc(*buf, cap = cap ? 2 * cap : 4096);
            cr_assert(bigger);
            *buf = bigger;
        }
        size_t got = fread(*buf + *len, 1, cap - *len, f);
        if (got == 0)
            break;
        *len += got;
    }
    fclose(f);
    return true;
}

void file_copy(const char *from, const char *to) {
    char *buf;
    size_t len;
    cr_assert(file_bytes(from, &buf, &len), "cannot read %s", from);
    FILE *f = fopen(to, "wb");
    cr_assert(f && fwrite(buf, 1, len, f) == len && fclose(f) == 0, "cannot write %s", to);
    free(buf);
}

bool file_same(const char *a, const char *b) {
    char *ba = NULL, *bb = NULL;
    size_t la, lb;
    bool same =
        file_bytes(a, &ba, &la) && file_bytes(b, &bb, &lb) && la == lb && memcmp(ba, bb, la) == 0;
    free(ba);
    free(bb);
    return same;
}

const char *healthy_capture(const char *name, int n) {
    static char path[300]; /* not tmp_path's: its buffers are reused by every run */
    snprintf(path, sizeof path, "%s", tmp_path(name));
    struct capwrite *w = capwrite_open(path, CAPWRITE_PCAP_USEC, 1, 65535);
    cr_assert(w);
    struct session_clock clock = {SAMPLES_START_NS, 1000000};
    for (int i = 0; i < n; i++) {
        struct session s;
        struct pb_frame f = pb_tcp4();
        f.sport = (uint16_t)(42000 + i);
        session_init(&s, w, &clock, &f, 1000, 5000);
        session_handshake(&s);
        session_data(&s, SESSION_CLIENT, 100);
        session_ack(&s, SESSION_SERVER);
        session_close(&s, SESSION_CLIENT);
        cr_assert(s.ok);
    }
    cr_assert(capwrite_close(w));
    return path;
}

bool file_lines_parse(const char *path, int *lines, int *whole) {
    *lines = *whole = 0;
    char *text = file_get(path);
    if (!text)
        return false;
    size_t len = strlen(text);
    bool ends_whole = len == 0 || text[len - 1] == '\n';
    char *save = NULL;
    for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        (*lines)++;
        struct json_object *o = json_parse_record(l);
        if (o && json_object_is_type(o, json_type_object))
            (*whole)++;
        json_object_put(o);
    }
    free(text);
    return ends_whole;
}

void expect_refused_run(const struct run_result *r, const char *needle) {
    cr_expect_lt(r->status, 128, "killed by signal %d; stderr: %s", r->status - 128, r->err);
    cr_expect_eq(r->status, 2, "exit status %d, want 2; stderr: %s", r->status, r->err);
    cr_expect_eq(count_lines(r->err), 1, "one line: %s", r->err);
    cr_expect(r->err && strstr(r->err, needle), "'%s' not in: %s", needle, r->err);
    cr_expect_str_empty(r->out);
}

void require_root(const char *why) {
    if (geteuid() == 0)
        return;
    const char *skip = getenv("SHAKEDOWN_SKIP_LIVE");
    if (skip && strcmp(skip, "1") == 0)
        cr_skip_test("needs root (%s); skipped: SHAKEDOWN_SKIP_LIVE=1", why);
    cr_assert_fail(
        "needs root (%s): run as root, or set SHAKEDOWN_SKIP_LIVE=1 to skip it explicitly", why);
}

const char *sticky_dir(const char *name) {
    static char path[300]; /* not tmp_path's: its buffers are reused by every run */
    cr_assert_eq(chmod(tmp_path(""), 0711), 0); /* other users may pass through (not list) */
    snprintf(path, sizeof path, "%s", tmp_path(name));
    cr_assert_eq(mkdir(path, 0700), 0, "%s exists already", path);
    cr_assert_eq(chmod(path, 01777), 0); /* chmod: mkdir's mode goes through the umask */
    return path;
}

void plant_symlink(const char *target, const char *link, unsigned uid) {
    cr_assert_eq(symlink(target, link), 0, "cannot make the symlink %s", link);
    cr_assert_eq(lchown(link, (uid_t)uid, (gid_t)uid), 0, "cannot give %s to uid %u", link, uid);
}

bool file_is(const char *path, const char *text) {
    char *got = file_get(path);
    bool same = got && strcmp(got, text) == 0;
    free(got);
    return same;
}
