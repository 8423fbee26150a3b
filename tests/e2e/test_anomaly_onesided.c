/* End-to-end tests of issue 13 §2, captures that see one direction only: hundreds of healthy
 * sessions of which the tap saw only the server's segments, or only the client's. A responder
 * that acknowledges bytes the originator sent after its SYN — or an originator whose ACKs move
 * past its first — proves the other side was synchronized (RFC 9293 §3.10.7.4 accepts and sends
 * such bytes only then): the handshake counts as completed, no synack_unanswered, nothing counts
 * toward syn_flood, one record per connection even across an idle time longer than the handshake
 * timeout. Near misses: what proves nothing (an ACK of exactly the SYN, ACKs that never move)
 * is still judged. Conventions and helpers: anomaly_helpers.h. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anomaly_helpers.h"
#include "pktbuild.h"
#include "run.h"
#include "session.h"

#define SESSIONS 300 /* more than the default --syn-flood-threshold (200) within 10 s */

/* The half of the conversation the tap does not see: `from` sends it (its sequence numbers
 * advance as session_segment() would advance them), nothing is written. */
static void unseen(struct session *s, enum session_side from, uint8_t flags, size_t len) {
    s->snd_nxt[from] += (uint32_t)len + ((flags & PB_SYN) ? 1u : 0u) + ((flags & PB_FIN) ? 1u : 0u);
}

/* Each of the n sessions, whose first frames are first[0..n-1], is exactly one record. */
static void expect_one_record_each(const struct tally *t, const int64_t *first, int n) {
    cr_expect_eq(t->conns, n, "%d connection records for %d sessions", t->conns, n);
    for (int i = 0; i < n; i++)
        cr_expect_eq(t->per_frame[first[i]], 1, "session %d (frame %" PRId64 "): %d records", i,
                     first[i], t->per_frame[first[i]]);
}

/* No anomaly of severity medium or high, as records or in the summary's totals. */
static void expect_nothing_serious(const struct tally *t) {
    cr_expect_eq(t->medium_or_high, 0, "medium/high anomalies: %s", t->bad);
    static const char *const serious[] = {"syn_unanswered",   "synack_unanswered", "data_unacked",
                                          "fin_unacked",      "syn_flood",         "port_scan",
                                          "handshake_bad_ack"};
    for (size_t i = 0; i < sizeof serious / sizeof serious[0]; i++)
        cr_expect_null(json_at(json_at(t->summary, "anomalies"), serious[i]), "summary counts %s",
                       serious[i]);
}

/* Writes SESSIONS sessions with `write` (its last argument: `full`) into a capture of its own,
 * runs shakedown on it and counts what it wrote into t; first[i] is session i's first frame. */
typedef void (*sessions_fn)(struct cap *c, struct session *s, int64_t *first, bool full);
static void run_sessions(struct tally *t, const char *name, sessions_fn write, bool full,
                         int64_t *first) {
    static struct session s[SESSIONS];
    struct cap c;
    cap_open(&c, name);
    write(&c, s, first, full);
    cap_close(&c);
    tally_run(t, &c, NULL);
}

/* ---- only the server's direction ------------------------------------------------------------- */

/* SESSIONS sessions 10.0.0.1:(40000 + i) → 10.0.0.2:80 of which the tap saw only the server's
 * segments. Phase 1, 10 ms between frames (all 300 handshakes within 9 s): the client's SYN
 * (unseen), the server's SYN/ACK, the client's ACK and 100-byte request (unseen), the server's ACK
 * of the request (ack = client ISN + 101), its 200-byte response. Phase 2, 70 s later — every
 * session idle for longer than the 30 s handshake timeout —: the client's ACK (unseen), the
 * server's 300 more bytes, the client's FIN (unseen), the server's ACK of it and its own FIN. */
static void write_server_side(struct cap *c, struct session *s, int64_t *first, bool ack_request) {
    for (int i = 0; i < SESSIONS; i++) {
        conn_init(&s[i], c, (uint16_t)(40000 + i), CISN + (uint32_t)i * 7919u, SISN + (uint32_t)i);
        unseen(&s[i], SESSION_CLIENT, PB_SYN, 0);
        first[i] = put(c, session_syn_ack(&s[i])).frame;
        unseen(&s[i], SESSION_CLIENT, PB_ACK, 0);
        if (ack_request)
            unseen(&s[i], SESSION_CLIENT, PB_ACK | PB_PSH, 100);
        put(c, session_ack(&s[i], SESSION_SERVER));
        put(c, session_data(&s[i], SESSION_SERVER, 200));
    }
    cap_at(c, T0 + 70 * SEC);
    for (int i = 0; i < SESSIONS; i++) {
        unseen(&s[i], SESSION_CLIENT, PB_ACK, 0);
        put(c, session_data(&s[i], SESSION_SERVER, 300));
        unseen(&s[i], SESSION_CLIENT, PB_FIN | PB_ACK, 0);
        put(c, session_ack(&s[i], SESSION_SERVER));
        put(c, session_segment(&s[i], SESSION_SERVER, PB_FIN | PB_ACK, 0));
    }
}

/* The server's ACK of frame 3 acknowledges 100 bytes past the client's SYN: the client was
 * synchronized, so it had the SYN/ACK — the handshake completed. Hence: no synack_unanswered,
 * no syn_flood (300 SYN/ACKs to one client address within 9 s are no half-open attempts), the
 * established timer (300 s), so the 70 s pause splits nothing: exactly one record per session,
 * which starts with the SYN/ACK. The SYN/ACK's receiver is the originator (the client, 10.0.0.1
 * on its port 40000 + i, to port 80). one_sided on every record and in the summary
 * (connections.one_sided = 300). What the client sent was never captured: its bytes, once the
 * server acknowledges them, are ack_unseen_segment (low), nothing worse. */
Test(one_sided, server_side_only_sessions) {
    static int64_t first[SESSIONS];
    static struct tally t;
    run_sessions(&t, "server-side-only.pcap", write_server_side, true, first);
    expect_one_record_each(&t, first, SESSIONS);
    expect_nothing_serious(&t);
    cr_expect_eq(t.completed, SESSIONS, "handshake.completed on %d records", t.completed);
    cr_expect_eq(t.one_sided, SESSIONS);
    cr_expect_eq(t.client_is_orig, SESSIONS, "the client is the originator");
    expect_int(t.summary, "connections.one_sided", SESSIONS);
    expect_int(t.summary, "connections.tcp", SESSIONS);
    tally_free(&t);
}

/* Near miss: the same sessions, but the client sent no request: the server's ACK after its
 * SYN/ACK acknowledges exactly the client's SYN (ack = ISN + 1), which proves nothing about the
 * client having got the SYN/ACK (a spoofed SYN gets the same). The handshakes stay half done:
 * every one expires at the 30 s handshake timeout, 70 s later, judged synack_unanswered, and
 * they are 300 half-open attempts on 10.0.0.2 within 9 s — syn_flood (more than 200). The later
 * packets of each session then start a second, mid-stream record: 600 records. */
Test(one_sided, near_miss_ack_of_the_syn_alone_proves_nothing) {
    static int64_t first[SESSIONS];
    static struct tally t;
    run_sessions(&t, "server-side-synack-only.pcap", write_server_side, false, first);
    cr_expect_eq(t.conns, 2 * SESSIONS);
    cr_expect_eq(t.completed, 0);
    expect_int(t.summary, "anomalies.synack_unanswered", SESSIONS);
    expect_int(t.summary, "anomalies.syn_flood", 1);
    tally_free(&t);
}

/* ---- only the client's direction ------------------------------------------------------------- */

/* SESSIONS sessions of which the tap saw only the client's segments. Phase 1: the client's SYN,
 * the server's SYN/ACK (unseen), the client's ACK of it and its 100-byte request, the server's
 * ACK and 200-byte response (unseen), the client's ACK of the response. Phase 2, 70 s later: the
 * server's 300 more bytes (unseen), the client's ACK, its FIN, the server's ACK and FIN (unseen),
 * the client's ACK of that FIN. respond: whether the server's response was sent at all. */
static void write_client_side(struct cap *c, struct session *s, int64_t *first, bool respond) {
    for (int i = 0; i < SESSIONS; i++) {
        conn_init(&s[i], c, (uint16_t)(40000 + i), CISN + (uint32_t)i * 7919u, SISN + (uint32_t)i);
        first[i] = put(c, session_syn(&s[i])).frame;
        unseen(&s[i], SESSION_SERVER, PB_SYN | PB_ACK, 0);
        put(c, session_ack(&s[i], SESSION_CLIENT));
        put(c, session_data(&s[i], SESSION_CLIENT, 100));
        if (respond)
            unseen(&s[i], SESSION_SERVER, PB_ACK | PB_PSH, 200);
        put(c, session_ack(&s[i], SESSION_CLIENT));
    }
    cap_at(c, T0 + 70 * SEC);
    for (int i = 0; i < SESSIONS; i++) {
        if (respond)
            unseen(&s[i], SESSION_SERVER, PB_ACK | PB_PSH, 300);
        put(c, session_ack(&s[i], SESSION_CLIENT));
        put(c, session_segment(&s[i], SESSION_CLIENT, PB_FIN | PB_ACK, 0));
        unseen(&s[i], SESSION_SERVER, PB_FIN | PB_ACK, 0);
        put(c, session_ack(&s[i], SESSION_CLIENT));
    }
}

/* The client's first ACK after its SYN acknowledges the server's SYN (server ISN + 1); its ACK
 * of the response (frame 4 of each session) moves 200 bytes past it: the server sent bytes after
 * its SYN, so it was synchronized — it had the client's ACK. The handshake completed: one record
 * per session across the 70 s pause (established timer), no syn_unanswered (the client was
 * answered), nothing toward syn_flood; one_sided everywhere. The server's sequence space is never
 * known (none of its segments seen), so no byte of it is judged or counted. */
Test(one_sided, client_side_only_sessions) {
    static int64_t first[SESSIONS];
    static struct tally t;
    run_sessions(&t, "client-side-only.pcap", write_client_side, true, first);
    expect_one_record_each(&t, first, SESSIONS);
    expect_nothing_serious(&t);
    cr_expect_eq(t.completed, SESSIONS, "handshake.completed on %d records", t.completed);
    cr_expect_eq(t.one_sided, SESSIONS);
    cr_expect_eq(t.client_is_orig, SESSIONS);
    expect_int(t.summary, "connections.one_sided", SESSIONS);
    tally_free(&t);
}

/* Near miss: the server never sends a byte after its SYN/ACK, so the client's ACKs never move
 * past the first (server ISN + 1): nothing shows the server got the client's ACK. The handshake
 * is not taken as completed, so at the 70 s pause the connections expire on the 30 s handshake
 * timer and the client's later segments open a second (mid-stream) record each: 600 records.
 * Still no syn_unanswered: a client that acknowledges was answered. */
Test(one_sided, near_miss_acks_that_never_move_prove_nothing) {
    static int64_t first[SESSIONS];
    static struct tally t;
    run_sessions(&t, "client-side-silent-server.pcap", write_client_side, false, first);
    cr_expect_eq(t.conns, 2 * SESSIONS);
    cr_expect_eq(t.completed, 0);
    cr_expect_null(json_at(json_at(t.summary, "anomalies"), "syn_unanswered"));
    tally_free(&t);
}
