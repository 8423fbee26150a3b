/* anomaly: the catalog of what can go wrong in a connection — stable names (part of the output
 * interface), severities, the events a connection accumulates, and the TCP flag whitelist (the
 * one-line English detail each event carries is anomaly_detail.h's). docs/anomalies.md describes
 * each one: what it means, the exact rule, its peers' equivalents. */
#ifndef SHAKEDOWN_ANOMALY_H
#define SHAKEDOWN_ANOMALY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum anomaly {
    ANOMALY_SYN_UNANSWERED,
    ANOMALY_SYNACK_UNANSWERED,
    ANOMALY_SYNACK_BAD_ACK,
    ANOMALY_HANDSHAKE_BAD_ACK,
    ANOMALY_SYN_ISN_CHANGED,
    ANOMALY_SYN_ON_ESTABLISHED,
    ANOMALY_SIMULTANEOUS_OPEN,
    ANOMALY_INVALID_FLAGS,
    ANOMALY_DATA_UNACKED,
    ANOMALY_FIN_UNACKED,
    ANOMALY_DATA_AFTER_FIN,
    ANOMALY_LATE_SEGMENT_AFTER_FIN,
    ANOMALY_PACKET_DURING_TIME_WAIT,
    ANOMALY_PACKET_AFTER_TIME_WAIT,
    ANOMALY_DATA_AFTER_RST,
    ANOMALY_RST_OUT_OF_WINDOW,
    ANOMALY_SEGMENT_OUT_OF_WINDOW,
    ANOMALY_PORT_REUSE,
    ANOMALY_RETRANSMISSION,
    ANOMALY_OUT_OF_ORDER,
    ANOMALY_SEGMENT_NOT_CAPTURED,
    ANOMALY_ACK_UNSEEN_SEGMENT,
    ANOMALY_ZERO_WINDOW,
    ANOMALY_SYN_FLOOD,
    ANOMALY_PORT_SCAN,
    ANOMALY_COUNT
};

enum anomaly_severity {
    SEVERITY_INFO,
    SEVERITY_LOW,
    SEVERITY_MEDIUM,
    SEVERITY_HIGH,
};

/* A set of anomalies, one bit per enum anomaly (what one segment raised). */
typedef uint32_t anomaly_set;

static inline anomaly_set anomaly_bit(enum anomaly a) {
    return (anomaly_set)1u << a;
}

const char *anomaly_name(enum anomaly a);

/* Anomalies seen only after their connection's record was written (late packets): they exist
 * as event records alone. */
static inline bool anomaly_after_close(enum anomaly a) {
    return a == ANOMALY_PACKET_DURING_TIME_WAIT || a == ANOMALY_PACKET_AFTER_TIME_WAIT ||
           a == ANOMALY_DATA_AFTER_RST;
}
enum anomaly_severity anomaly_severity_of(enum anomaly a);
const char *anomaly_severity_name(enum anomaly_severity s);

/* A host aggregate: the events of the connections a syn_flood or port_scan alert covers, folded
 * into one event per host and window (tracker.h). */
struct anomaly_fold {
    uint64_t events;           /* events folded (0: not an aggregate) */
    uint32_t conns;            /* connections they came from */
    anomaly_set kinds;         /* which anomalies they were */
    int64_t window_start_ns;   /* the host window they were counted in */
    int64_t first_ns, last_ns; /* the first and the last of them */
};

/* One anomaly as a connection accumulates it: how often, since when, in which direction. */
struct conn_anomaly {
    uint8_t id;  /* enum anomaly */
    uint8_t dir; /* 0: segments from the originator, 1: from the responder */
    uint32_t count;
    int64_t first_ns;
};

#define CONN_MAX_ANOMALIES 8

struct conn_anomalies {
    uint8_t n;
    uint32_t overflow; /* occurrences of (anomaly, direction) pairs beyond CONN_MAX_ANOMALIES */
    uint64_t unlisted; /* those pairs already seen once: bit 2 × anomaly + direction */
    struct conn_anomaly list[CONN_MAX_ANOMALIES];
};

/* Counts one occurrence; returns true if it is the first of this anomaly in this direction for
 * the connection (the moment to emit an event record). */
bool conn_anomalies_add(struct conn_anomalies *l, enum anomaly a, int dir, int64_t ts_ns);

/* RFC 9293 flag combinations a TCP stack sends, after ignoring PSH, ECE and CWR (Linux
 * conntrack's whitelist): SYN, SYN+URG, SYN+ACK, RST, RST+ACK, FIN+ACK, FIN+ACK+URG, ACK,
 * ACK+URG. */
bool tcp_flags_valid(uint8_t flags);

/* Writes the flags as e.g. "SYN+FIN" or "NULL" (no flags) into buf. */
void tcp_flags_format(uint8_t flags, char *buf, size_t len);

#endif
