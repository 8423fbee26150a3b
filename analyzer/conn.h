/* conn: one tracked connection (TCP, UDP or ICMP flow) — its key, roles, times, per-direction
 * counters and, for TCP, the endpoint tracking — and how it ended. This is what the tracker keeps
 * in the flow table and what output/ turns into a connection record. */
#ifndef SHAKEDOWN_CONN_H
#define SHAKEDOWN_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "anomaly.h"
#include "tcp_conn.h"

/* A flow's identity in canonical order (lower address/port first), so both directions of a
 * connection find the same key. VLAN ids are part of it: the same addresses on two VLANs are two
 * networks. */
struct flow_key {
    uint8_t addr[2][16];
    uint16_t port[2];   /* TCP/UDP ports; ICMP: type and code of the first packet */
    uint16_t vlan[2];   /* outer, inner (0 = untagged) */
    uint8_t proto;      /* IP protocol number */
    uint8_t ip_version; /* 4 or 6 */
    uint8_t pad[2];     /* always zero: keys are hashed and compared as bytes */
};

enum conn_end {
    CONN_END_OPEN, /* not ended (interim) */
    CONN_END_FIN,  /* 4-way close completed */
    CONN_END_SIMULTANEOUS_FIN,
    CONN_END_RST,
    CONN_END_HALF_CLOSED, /* one side closed, the other never did, until the half-closed timeout */
    CONN_END_TIMEOUT,     /* idle past its timeout */
    CONN_END_CAPTURE_END, /* still open at the end of the input */
    CONN_END_EVICTED,     /* the flow table was full; least recently active connection */
    CONN_END_SHUTDOWN,    /* SIGINT/SIGTERM */
    CONN_END_COUNT
};

/* Flow-table timer classes: each has its own timeout and its own list ordered by last activity. */
enum conn_timer {
    CONN_TIMER_HANDSHAKE,   /* TCP before the handshake completed */
    CONN_TIMER_ESTABLISHED, /* TCP established (or picked up mid-stream), no FIN */
    CONN_TIMER_HALF_CLOSED, /* TCP, one side sent FIN */
    CONN_TIMER_CLOSING,     /* TCP, both sent FIN, not both acknowledged */
    CONN_TIMER_UDP,
    CONN_TIMER_ICMP,
    CONN_TIMER_COUNT
};

/* The part of every flow-table entry the table itself manages. */
struct flow_entry {
    struct flow_key key;
    uint32_t hash_next;              /* bucket chain (pool index, UINT32_MAX = end) */
    uint32_t timer_prev, timer_next; /* timer list links */
    uint8_t timer;                   /* which timer list */
};

struct conn {
    struct flow_entry e;              /* first: the flow table's part (key, links) */
    uint8_t orig_side;                /* e.key.addr index of the originator */
    uint8_t end;                      /* enum conn_end once reported */
    uint64_t first_frame, last_frame; /* first_frame is also its uid's source: the same in every
                                         run over the same input, sharded or not */
    int64_t first_ns, last_ns;        /* first and last packet */
    uint64_t pkts[2], ip_bytes[2];    /* by role: [0] originator → responder, [1] back */
    int64_t last_interim_ns;          /* capture time of its last interim record */

    /* Its anomalies, in a block of the tracker's pool from the first one on (NULL: none). */
    struct conn_anomalies *anomalies;
    /* By protocol (e.key.proto), so that what UDP and ICMP flows keep costs no memory beside the
     * TCP tracking they do not use: every reader of tcp checks that the connection is TCP first,
     * every reader of the datagram part that it is not. */
    union {
        struct tcp_conn tcp; /* TCP only */
        struct {
            /* UDP and ICMP: payload bytes by role, as Zeek counts orig_bytes/resp_bytes — UDP:
             * each datagram's UDP length less its 8-byte header; ICMP: each message's length
             * less its 8-byte header. */
            uint64_t datagram_payload[2];
            uint8_t icmp_type[2], icmp_code[2]; /* ICMP: first type and code in each direction */
        };
    };
};

const char *conn_end_name(enum conn_end e);

#define CONN_UID_LEN 18 /* "C" + 16 base62 characters + NUL */
/* A connection's uid, from what names it in every run over the same input — its first frame,
 * first packet time and key — so runs that split the work (--shard) name it alike. */
void conn_uid(const struct conn *c, char out[CONN_UID_LEN]);
void conn_uid_make(uint64_t serial, int64_t first_ns, const struct flow_key *k,
                   char out[CONN_UID_LEN]);

/* Address (4 or 16 bytes) and port of the originator (role 0) or responder (role 1). */
const uint8_t *conn_addr(const struct conn *c, int role);
uint16_t conn_port(const struct conn *c, int role);

/* Payload bytes the endpoint of role 0 or 1 sent: TCP by sequence space (each byte once, a
 * capture gap not counted), UDP and ICMP the sum of their datagrams' payloads. */
uint64_t conn_payload_bytes(const struct conn *c, int role);

/* Zeek conn_state and history of any connection (TCP, UDP, ICMP). */
enum zeek_conn_state conn_zeek_state(const struct conn *c);
void conn_history(const struct conn *c, char out[TCP_HISTORY_MAX]);

/* A TCP connection of which only one direction was captured: one endpoint sent no packet that
 * was analysed (a tap on one side of an asymmetric route, or nothing came back to a SYN). */
bool conn_one_sided(const struct conn *c);

#endif
