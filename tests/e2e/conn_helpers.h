/* conn_helpers: what the end-to-end tests of connection tracking (issue 3, test_conn_*.c) share:
 * scripting the standard exchange and other connections into a capture, running shakedown on it
 * and reading its connection records, and expectations on a record's fields. Every expectation in
 * those tests is worked out from the packets the test writes, with the reasoning next to it; none
 * is copied from the program's output.
 *
 * Conventions of the scenarios (unless a test says otherwise):
 *  - client 10.0.0.1:<port> (the session's SESSION_CLIENT), server 10.0.0.2:80; Ethernet, pcap
 *    with µs timestamps; frame k of a capture is at T0 + k × 10 ms.
 *  - client ISN CISN, server ISN SISN. session.h numbering: a segment carries seq = the sender's
 *    next sequence number and ack = everything the peer has sent so far.
 *  - IP sizes (what orig.bytes / resp.bytes add up: the IP total length of every packet):
 *    SYN and SYN/ACK carry 20 option bytes (MSS, SACK_PERM, TS, NOP, WS) → 20 + 20 + 20 = 60;
 *    every later non-RST segment carries NOP, NOP, TS (12 bytes) → 52 + payload; an RST carries
 *    no options → 40. Test record.frame_lengths_behind_ip_byte_counts checks these constants
 *    against the frames written (frame length − 14 bytes of Ethernet header).
 *  - Every run is also checked for the record-set invariants (check_run): each record's uid is
 *    distinct and community_id starts with "1:", and the summary's connections.total,
 *    by_close and by_conn_state agree with the records printed. */
#ifndef SHAKEDOWN_E2E_CONN_HELPERS_H
#define SHAKEDOWN_E2E_CONN_HELPERS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "script.h"
#include "session.h"

#define T(k) (T0 + (int64_t)(k)*STEP) /* the time of frame k */

#define IP_SYN 60u /* SYN or SYN/ACK */
#define IP_SEG 52u /* any later non-RST segment, plus its payload */
#define IP_RST 40u

/* ---- writing captures ---------------------------------------------------------------------- */

/* A session between 10.0.0.1:sport (client) and 10.0.0.2:dport (server) on c. */
void conn_init(struct session *s, struct cap *c, uint16_t sport, uint16_t dport, uint32_t cisn,
               uint32_t sisn);

/* Fails the test if any frame of the session could not be built or written. */
void conn_done(const struct session *s);

/* Frames 0..n-1 of the standard exchange (as in samples.h, with request / response sizes):
 * 0 SYN, 1 SYN/ACK, 2 ACK, 3 client data, 4 server ACK, 5 server data, 6 client ACK,
 * 7 FIN|ACK from closer, 8 ACK from the peer, 9 FIN|ACK from the peer, 10 ACK from closer. */
void standard_exchange(struct session *s, size_t request, size_t response, enum session_side closer,
                       int n);

/* A capture named name of one bulk transfer from 10.0.0.1:sport: frames 0..2 handshake, then
 * `rounds` times the client's `len` bytes and the server's ACK, then the client's close (4
 * frames). */
void bulk_transfer_capture(struct cap *c, const char *name, uint16_t sport, int rounds, size_t len);

/* A capture named name of a connection from 10.0.0.1:sport whose data is never acknowledged:
 * frames 0..2 handshake, 3 the client's 100 bytes, 4 the same 100 bytes resent; then it ends. */
void resent_unacked_capture(struct cap *c, const char *name, uint16_t sport);

/* A lone SYN from 10.0.0.1:sport at time at: an unrelated packet that moves capture time on. */
void lone_syn(struct cap *c, uint16_t sport, int64_t at);

/* ---- running shakedown and reading its records --------------------------------------------- */

#define MAX_RECS 16

struct run {
    struct json_object *rec[MAX_RECS]; /* type:"connection", in output order */
    int n;
    struct json_object *summary;
};

/* Runs shakedown -F json on path with extra options (NULL-terminated list, may be NULL), and
 * checks the invariants of every run (check_run, in the conventions above). */
void run_capture(struct run *r, const char *path, const char *const *opts);
void run_free(struct run *r);

/* ---- expectations -------------------------------------------------------------------------- */

/* A boolean member, and a member that must be absent. */
void expect_bool(struct json_object *o, const char *path, bool want);
void expect_absent(struct json_object *o, const char *path);

/* conn_state, history and close.how of a record. */
void expect_conn(struct json_object *rec, const char *conn_state, const char *history,
                 const char *how);

/* orig.state and resp.state. */
void expect_states(struct json_object *rec, const char *orig, const char *resp);

/* Packets and IP bytes of both directions. */
void expect_counts(struct json_object *rec, int64_t opkts, int64_t obytes, int64_t rpkts,
                   int64_t rbytes);

/* orig.payload_bytes and resp.payload_bytes. */
void expect_payload(struct json_object *rec, int64_t orig, int64_t resp);

/* Runs one capture with one expected connection; returns it (owned by r). */
struct json_object *only_record(struct run *r, const char *path, const char *const *opts);

#endif
