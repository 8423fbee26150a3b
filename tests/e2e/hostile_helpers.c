/* hostile_helpers: runs, output checks and byte-by-byte capture writing of the hostile-input tests
 * (see hostile_helpers.h). */
#include "hostile_helpers.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run.h"

/* ---- output checks and schema validation ---------------------------------------------------- */

static void outputs_add(struct outputs *o, const char *text) {
    cr_assert_lt(o->n, MAX_OUTPUTS);
    snprintf(o->path[o->n], sizeof o->path[0], "%s", tmp_path("out"));
    char *p = o->path[o->n];
    snprintf(p + strlen(p), sizeof o->path[0] - strlen(p), ".%d.json", o->n);
    FILE *f = fopen(p, "w");
    cr_assert(f);
    fputs(text, f);
    fclose(f);
    o->n++;
}

void outputs_validate(struct outputs *o) {
    if (o->n == 0)
        return;
    const char **argv = calloc((size_t)o->n + 8, sizeof *argv);
    cr_assert(argv);
    int k = 0;
    argv[k++] = SHAKEDOWN_PYTHON;
    argv[k++] = SHAKEDOWN_SOURCE_DIR "/tests/schema/validate.py";
    argv[k++] = "--time";
    argv[k++] = "epoch";
    argv[k++] = "--whole-run";
    for (int i = 0; i < o->n; i++)
        argv[k++] = o->path[i];
    argv[k] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int ws = 0;
    cr_assert_eq(waitpid(pid, &ws, 0), pid);
    cr_expect(WIFEXITED(ws) && WEXITSTATUS(ws) == 0,
              "validate.py rejected some of the %d outputs (its messages are above)", o->n);
    for (int i = 0; i < o->n; i++)
        unlink(o->path[i]);
    free(argv);
    o->n = 0;
}

static int by_string(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The invariants of the file comment. */
static void check_output(struct result *r, char *out) {
    int lines = 0, summary_line = -1;
    char *save = NULL;
    for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        struct json_object *o = json_parse_record(line);
        cr_assert(o && json_object_is_type(o, json_type_object), "not a JSON object: %s", line);
        const char *type = json_str_or(o, "type");
        if (strcmp(type, "connection") == 0 && r->nconn < MAX_CONNS) {
            r->conn[r->nconn++] = o;
        } else if (strcmp(type, "anomaly") == 0 && r->nanomaly < MAX_CONNS) {
            r->anomaly[r->nanomaly++] = o;
        } else if (strcmp(type, "summary") == 0) {
            cr_assert_null(r->summary, "two summaries");
            r->summary = o;
            summary_line = lines;
        } else {
            cr_assert_fail("unexpected record (or more than %d): %s", MAX_CONNS, line);
        }
        lines++;
    }
    cr_assert(r->summary, "no summary");
    cr_assert_eq(summary_line, lines - 1, "the summary is not the last line");
    const char **uids = malloc(((size_t)r->nconn + 1) * sizeof *uids);
    cr_assert(uids);
    for (int i = 0; i < r->nconn; i++)
        uids[i] = json_str_or(r->conn[i], "uid");
    qsort(uids, (size_t)r->nconn, sizeof *uids, by_string);
    for (int i = 1; i < r->nconn; i++)
        cr_expect_str_neq(uids[i - 1], uids[i], "two records have uid %s", uids[i]);
    free(uids);
    struct json_object *s = r->summary;
    cr_expect_eq(json_int_at(s, "connections.total"), r->nconn);
    expect_breakdown(s, "connections.by_close", r->conn, r->nconn, "close.how");
    expect_breakdown(s, "connections.by_conn_state", r->conn, r->nconn, "conn_state");
    expect_packet_accounting(s);
}

void run_on(struct result *r, struct outputs *outs, const char *path, const char *const *opts) {
    struct run_result rr = run_json(path, opts);
    memset(r, 0, sizeof *r);
    r->status = rr.status;
    r->err = rr.err;
    cr_assert_lt(rr.status, 128, "shakedown died of signal %d on %s; stderr: %s", rr.status - 128,
                 path, rr.err);
    outputs_add(outs, rr.out);
    check_output(r, rr.out);
    free(rr.out);
}

void result_free(struct result *r) {
    for (int i = 0; i < r->nconn; i++)
        json_object_put(r->conn[i]);
    for (int i = 0; i < r->nanomaly; i++)
        json_object_put(r->anomaly[i]);
    json_object_put(r->summary);
    free(r->err);
}

const char *text_at(struct json_object *o, const char *path) {
    struct json_object *v = json_at(o, path);
    return v ? json_object_to_json_string(v) : "(absent)";
}

int anomaly_records(const struct result *r, const char *name) {
    int n = 0;
    for (int i = 0; i < r->nanomaly; i++)
        n += strcmp(json_str_or(r->anomaly[i], "name"), name) == 0;
    return n;
}

/* ---- writing captures byte by byte ---------------------------------------------------------- */

void put(struct bytes *x, const void *p, size_t len) {
    if (x->n + len > x->cap) {
        x->cap = (x->n + len) * 2 + 256;
        x->b = realloc(x->b, x->cap);
        cr_assert(x->b);
    }
    memcpy(x->b + x->n, p, len);
    x->n += len;
}

void put_le32(struct bytes *x, uint32_t v) {
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(x, b, 4);
}

static void put_le16(struct bytes *x, uint16_t v) {
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    put(x, b, 2);
}

void pcap_header(struct bytes *x, uint32_t linktype, uint32_t snaplen) {
    put_le32(x, 0xa1b2c3d4u);
    put_le16(x, 2);
    put_le16(x, 4);
    put_le32(x, 0);
    put_le32(x, 0);
    put_le32(x, snaplen);
    put_le32(x, linktype);
}

void pcap_record(struct bytes *x, uint32_t sec, uint32_t usec, uint32_t caplen, uint32_t len,
                 const uint8_t *data, size_t stored) {
    put_le32(x, sec);
    put_le32(x, usec);
    put_le32(x, caplen);
    put_le32(x, len);
    put(x, data, stored);
}

const char *write_bytes(const char *name, const uint8_t *b, size_t n) {
    static char paths[4][256];
    static unsigned next;
    char *p = paths[next++ % 4];
    snprintf(p, sizeof paths[0], "%s", tmp_path(name));
    FILE *f = fopen(p, "wb");
    cr_assert(f);
    cr_assert_eq(fwrite(b, 1, n, f), n);
    fclose(f);
    return p;
}

uint8_t *read_whole(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    cr_assert(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(*n + 1);
    cr_assert(b && fread(b, 1, *n, f) == *n);
    fclose(f);
    return b;
}

uint32_t le32_at(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

size_t frame(const struct pb_frame *f, uint8_t *buf, size_t cap) {
    size_t n = pb_build(f, buf, cap);
    cr_assert(n > 0, "pb_build failed");
    return n;
}

void session_on(struct session *s, struct capwrite *w, struct session_clock *clock,
                uint16_t sport) {
    struct pb_frame f = pb_tcp4();
    f.sport = sport;
    session_init(s, w, clock, &f, CISN, SISN);
}
