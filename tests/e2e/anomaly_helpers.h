/* anomaly_helpers: what the end-to-end tests of the anomaly catalog (issue 4, test_anomaly_*.c)
 * share: writing scripted captures frame by frame, running shakedown on them and stating the
 * complete set of anomalies a run must show. Every expectation in those tests is worked out from
 * the packets the test writes, with the reasoning next to it; none is copied from the program's
 * output.
 *
 * Conventions (unless a test says otherwise):
 *  - client 10.0.0.1:<port> (SESSION_CLIENT), server 10.0.0.2:80; Ethernet, pcap with µs
 *    timestamps, 10 ms between frames. Client ISN CISN, server ISN SISN; session.h numbering (a
 *    segment carries seq = the sender's next sequence number, ack = all the peer sent so far).
 *  - Frames are numbered from 1, as the `frame` field of an anomaly record and `first_frame` of
 *    a connection record are. put() counts the frames as they are written and notes each one's
 *    time; the run checks that the summary's packet count equals the frames written.
 *  - Non-SYN segments advertise window 502 with window scale 7 (64256 bytes); SYN and SYN/ACK
 *    advertise 64240, never scaled.
 *  - expect_anomalies() states the complete set of anomalies a run must show: exactly those
 *    anomaly records (name, severity from the catalog, direction, frame, ts, and the uid,
 *    community_id and 5-tuple of the connection record they name), exactly those entries in each
 *    connection record's `anomalies` array (count, direction, first_ts), and exactly those
 *    totals in the summary's `anomalies` object. An empty set is "no anomaly at all".
 *  - Anomalies known only at a connection's end (syn_unanswered, synack_unanswered,
 *    data_unacked, fin_unacked) carry the frame of the connection's last packet and the time of
 *    the connection's end (for a connection still open when the input ends, the capture's last
 *    packet). At the end of the input, what was sent in the last --answer-grace (1 s by default)
 *    is not judged; so triggers of those anomalies end with an unrelated clean connection
 *    (filler()) 5 s later, and other tests whose connections stay open end within that second. */
#ifndef SHAKEDOWN_E2E_ANOMALY_HELPERS_H
#define SHAKEDOWN_E2E_ANOMALY_HELPERS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "script.h"
#include "session.h"

/* ---- writing captures ---------------------------------------------------------------------- */

/* A frame written: its number (from 1) and its time. */
struct mark {
    int64_t frame;
    int64_t ts;
};

/* Accounts for the one frame a session call just wrote. */
struct mark put(struct cap *c, bool ok);

/* A session between IPv4 hosts src:sport (client) and dst:dport (server) on c. */
void conn_init_hosts(struct session *s, struct cap *c, const uint8_t src[4], uint16_t sport,
                     const uint8_t dst[4], uint16_t dport, uint32_t cisn, uint32_t sisn);

extern const uint8_t host_client[4]; /* 10.0.0.1 */
extern const uint8_t host_server[4]; /* 10.0.0.2 */

/* The usual pair: 10.0.0.1:sport -> 10.0.0.2:80. */
void conn_init(struct session *s, struct cap *c, uint16_t sport, uint32_t cisn, uint32_t sisn);

/* SYN, SYN/ACK, ACK; returns the ACK. */
struct mark handshake(struct cap *c, struct session *s);

/* FIN|ACK from closer, ACK, FIN|ACK from the peer, ACK; returns the last. */
struct mark close_from(struct cap *c, struct session *s, enum session_side closer);

struct span {
    struct mark first, last;
};

/* An unrelated, healthy connection 10.0.0.1:sport -> 10.0.0.3:80 starting at `start`: the
 * standard exchange (handshake, 100 bytes up, ACK, 200 bytes down, ACK, client-initiated 4-way
 * close), 11 frames. It moves capture time on without raising anything (the clean corpus
 * checks such exchanges), so a connection left open before it is judged at the end of the input. */
struct span filler(struct cap *c, uint16_t sport, int64_t start);

/* ---- running shakedown and reading its records --------------------------------------------- */

#define MAX_RECS 64

struct run {
    struct json_object *conn[MAX_RECS]; /* type "connection", in output order */
    int nconn;
    struct json_object *anom[MAX_RECS]; /* type "anomaly", in output order */
    int nanom;
    struct json_object *summary;
    char seen[4096]; /* the anomaly records as name/direction@frame, for failure messages */
};

/* Runs shakedown -F json -r path with extra options (NULL-terminated, may be NULL); packets is
 * how many frames the file holds (the summary must have read them all). */
void run_path(struct run *r, const char *path, int64_t packets, const char *const *opts);

/* run_path on a capture written with cap_open() and put(): all its frames must be read. */
void run_cap(struct run *r, const struct cap *c, const char *const *opts);
void run_free(struct run *r);

/* The connection record whose first packet was frame `first`. */
struct json_object *conn_by_frame(const struct run *r, int64_t first);

/* ---- expectations -------------------------------------------------------------------------- */

/* One anomaly a run must show. */
struct want {
    const char *name;
    const char *dir;   /* "orig" or "resp"; NULL for a host-level anomaly */
    struct mark at;    /* the frame and time its record carries */
    int64_t conn;      /* first_frame of the connection record it names (0: host-level) */
    int64_t count;     /* occurrences in the run (0 means 1) */
    bool after_record; /* shown by a late packet after its connection's record was written, so
                          absent from that record's anomalies array */
    const char *host;  /* host-level: dest_ip of a syn_flood, src_ip of a port_scan */
    int64_t host_count;
    int64_t window_s;
    bool folded; /* a connection's anomaly whose event a host alert folded: counted and listed
                    on its record, no event record of its own */
    /* host-level aggregate of folded events (tracker.h): the record's folded object holds this
     * many events of that many connections, the first and last at these times; not an
     * occurrence (the summary counts the folded anomalies themselves) */
    int64_t folded_events, folded_conns, folded_first_ts, folded_last_ts;
};

/* The run shows exactly the n anomalies w (see the conventions at the top). */
void expect_anomalies(const struct run *r, const struct want *w, size_t n);

/* No anomaly at all: no record, empty lists, an empty summary object. */
void expect_no_anomalies(const struct run *r);

/* The near miss's point, stated on its own: nothing named `name` anywhere. */
void expect_not(const struct run *r, const char *name);

/* ---- many connections: counting instead of listing ----------------------------------------- */

#define TALLY_FRAMES 4096

/* What a run of many connections wrote, counted (for captures with more than MAX_RECS records). */
struct tally {
    int conns;
    int medium_or_high;               /* anomaly records of severity medium or high */
    int per_frame[TALLY_FRAMES];      /* connection records by first_frame */
    int completed, one_sided;         /* records with handshake.completed, one_sided true */
    int client_is_orig;               /* records from 10.0.0.1 to port 80: the client originates */
    char bad[512];                    /* the first medium/high anomaly records, for messages */
    struct json_object *host_anomaly; /* the first host-level anomaly record, if any */
    struct json_object *summary;
};

/* Runs shakedown -F json on the capture c with extra options (may be NULL) and counts its
 * records into t; all of c's frames must be read. tally_free() releases what it keeps. */
void tally_run(struct tally *t, const struct cap *c, const char *const *opts);
void tally_free(struct tally *t);

#endif
