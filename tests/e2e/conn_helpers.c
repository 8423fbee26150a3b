/* conn_helpers: scripted connections, runs and record expectations of the connection tests (see
 * conn_helpers.h). */
#include "conn_helpers.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pktbuild.h"
#include "run.h"

/* ---- writing captures ---------------------------------------------------------------------- */

void conn_init(struct session *s, struct cap *c, uint16_t sport, uint16_t dport, uint32_t cisn,
               uint32_t sisn) {
    struct pb_frame f = pb_tcp4(); /* 10.0.0.1 -> 10.0.0.2, Ethernet */
    f.sport = sport;
    f.dport = dport;
    session_init(s, c->w, &c->clock, &f, cisn, sisn);
}

void conn_done(const struct session *s) {
    cr_assert(s->ok, "a frame could not be built or written");
}

void standard_exchange(struct session *s, size_t request, size_t response, enum session_side closer,
                       int n) {
    enum session_side peer = session_peer(closer);
    for (int k = 0; k < n; k++) {
        switch (k) {
        case 0:
            session_syn(s);
            break;
        case 1:
            session_syn_ack(s);
            break;
        case 2:
            session_ack(s, SESSION_CLIENT);
            break;
        case 3:
            session_data(s, SESSION_CLIENT, request);
            break;
        case 4:
            session_ack(s, SESSION_SERVER);
            break;
        case 5:
            session_data(s, SESSION_SERVER, response);
            break;
        case 6:
            session_ack(s, SESSION_CLIENT);
            break;
        case 7:
            session_segment(s, closer, PB_FIN | PB_ACK, 0);
            break;
        case 8:
            session_ack(s, peer);
            break;
        case 9:
            session_segment(s, peer, PB_FIN | PB_ACK, 0);
            break;
        case 10:
            session_ack(s, closer);
            break;
        default:
            break;
        }
    }
}

void bulk_transfer_capture(struct cap *c, const char *name, uint16_t sport, int rounds,
                           size_t len) {
    struct session s;
    cap_open(c, name);
    conn_init(&s, c, sport, 80, CISN, SISN);
    session_handshake(&s);
    for (int i = 0; i < rounds; i++) {
        session_data(&s, SESSION_CLIENT, len);
        session_ack(&s, SESSION_SERVER);
    }
    session_close(&s, SESSION_CLIENT);
    conn_done(&s);
    cap_close(c);
}

void resent_unacked_capture(struct cap *c, const char *name, uint16_t sport) {
    struct session s;
    cap_open(c, name);
    conn_init(&s, c, sport, 80, CISN, SISN);
    session_handshake(&s);
    session_data(&s, SESSION_CLIENT, 100);
    session_write_segment(&s, SESSION_CLIENT, PB_PSH | PB_ACK, CISN + 1, SISN + 1, 100);
    conn_done(&s);
    cap_close(c);
}

void lone_syn(struct cap *c, uint16_t sport, int64_t at) {
    struct session s;
    cap_at(c, at);
    conn_init(&s, c, sport, 80, 0x7000000u, 0);
    session_syn(&s);
    conn_done(&s);
}

/* ---- running shakedown and reading its records --------------------------------------------- */

/* Invariants of every run: the summary is the last line; each connection is one record with its
 * own uid and a version-1 Community ID; the summary's counts agree with the records. */
static void check_run(const struct run *r) {
    for (int i = 0; i < r->n; i++) {
        const char *uid = json_str_or(r->rec[i], "uid");
        cr_expect(uid[0] == 'C' && strlen(uid) == 17, "uid %s", uid);
        for (int j = 0; j < i; j++)
            cr_expect_str_neq(uid, json_str_or(r->rec[j], "uid"), "records %d and %d share a uid",
                              j, i);
        cr_expect(strncmp(json_str_or(r->rec[i], "community_id"), "1:", 2) == 0, "community_id %s",
                  json_str_or(r->rec[i], "community_id"));
        cr_expect_str_eq(json_str_or(r->rec[i], "proto"), "tcp");
    }
    cr_expect_eq(json_int_at(r->summary, "connections.total"), r->n);
    cr_expect_eq(json_int_at(r->summary, "connections.tcp"), r->n);
    expect_breakdown(r->summary, "connections.by_close", r->rec, r->n, "close.how");
    expect_breakdown(r->summary, "connections.by_conn_state", r->rec, r->n, "conn_state");
}

void run_capture(struct run *r, const char *path, const char *const *opts) {
    struct run_result rr = run_json(path, opts);
    cr_assert_eq(rr.status, 0, "exit %d; stderr: %s", rr.status, rr.err);
    cr_expect_str_empty(rr.err, "a clean capture gives no message: %s", rr.err);
    memset(r, 0, sizeof *r);
    char *save = NULL;
    int lines = 0, summary_line = -1;
    for (char *line = strtok_r(rr.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        struct json_object *o = json_parse_record(line);
        cr_assert(o, "not JSON: %s", line);
        const char *type = json_str_or(o, "type");
        if (strcmp(type, "connection") == 0) {
            cr_assert_lt(r->n, MAX_RECS, "too many records");
            r->rec[r->n++] = o;
        } else if (strcmp(type, "summary") == 0) {
            cr_assert_null(r->summary, "two summaries");
            r->summary = o;
            summary_line = lines;
        } else {
            json_object_put(o);
        }
        lines++;
    }
    cr_assert(r->summary, "no summary in: %s", rr.out);
    cr_assert_eq(summary_line, lines - 1, "the summary is not the last line");
    run_result_free(&rr);
    check_run(r);
}

void run_free(struct run *r) {
    for (int i = 0; i < r->n; i++)
        json_object_put(r->rec[i]);
    json_object_put(r->summary);
}

/* ---- expectations -------------------------------------------------------------------------- */

void expect_bool(struct json_object *o, const char *path, bool want) {
    struct json_object *v = json_at(o, path);
    cr_expect(v && json_object_is_type(v, json_type_boolean), "%s is not a boolean", path);
    if (v)
        cr_expect_eq(json_object_get_boolean(v), want, "%s is %d, want %d", path,
                     json_object_get_boolean(v), want);
}

void expect_absent(struct json_object *o, const char *path) {
    cr_expect_null(json_at(o, path), "%s should be absent", path);
}

void expect_conn(struct json_object *rec, const char *conn_state, const char *history,
                 const char *how) {
    expect_str(rec, "conn_state", conn_state);
    expect_str(rec, "history", history);
    expect_str(rec, "close.how", how);
}

void expect_states(struct json_object *rec, const char *orig, const char *resp) {
    expect_str(rec, "orig.state", orig);
    expect_str(rec, "resp.state", resp);
}

void expect_counts(struct json_object *rec, int64_t opkts, int64_t obytes, int64_t rpkts,
                   int64_t rbytes) {
    expect_int(rec, "orig.pkts", opkts);
    expect_int(rec, "orig.bytes", obytes);
    expect_int(rec, "resp.pkts", rpkts);
    expect_int(rec, "resp.bytes", rbytes);
}

void expect_payload(struct json_object *rec, int64_t orig, int64_t resp) {
    expect_int(rec, "orig.payload_bytes", orig);
    expect_int(rec, "resp.payload_bytes", resp);
}

struct json_object *only_record(struct run *r, const char *path, const char *const *opts) {
    run_capture(r, path, opts);
    cr_assert_eq(r->n, 1, "%d records, want 1", r->n);
    return r->rec[0];
}
