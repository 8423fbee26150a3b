/* tcp_conn: the TCP side of one connection — both endpoints' observed facts (SYN/FIN sent and
 * acknowledged, RST), their RFC 793 states derived from those facts, sequence-space byte
 * accounting (64-bit, wrap-safe), handshake timing and options, and Zeek's history letters and
 * conn_state. It knows nothing of flow tables or output. Endpoint 0 is the originator. */
#ifndef SHAKEDOWN_TCP_CONN_H
#define SHAKEDOWN_TCP_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "anomaly.h"
#include "block_pool.h"
#include "packet.h"

enum tcp_state {
    TCP_STATE_CLOSED,
    TCP_STATE_LISTEN,
    TCP_STATE_SYN_SENT,
    TCP_STATE_SYN_RECEIVED,
    TCP_STATE_ESTABLISHED,
    TCP_STATE_FIN_WAIT_1,
    TCP_STATE_FIN_WAIT_2,
    TCP_STATE_CLOSE_WAIT,
    TCP_STATE_CLOSING,
    TCP_STATE_LAST_ACK,
    TCP_STATE_TIME_WAIT,
    TCP_STATE_COUNT
};

/* Zeek's per-endpoint states (TCP_INACTIVE … TCP_RESET), kept only to derive conn_state exactly
 * the way Zeek does. */
enum zeek_endpoint_state {
    ZEEK_INACTIVE,
    ZEEK_SYN_SENT,
    ZEEK_SYN_ACK_SENT,
    ZEEK_PARTIAL,
    ZEEK_ESTABLISHED,
    ZEEK_CLOSED,
    ZEEK_RESET,
};

#define TCP_MAX_HOLES 4
#define TCP_HISTORY_MAX 32 /* letters kept, NUL included; Zeek's own history rarely passes 20 */

struct seq_range {
    int64_t start, end; /* relative positions, [start, end) */
};

/* Measurements of one endpoint X (docs/metrics.md): as a sender (RTT of its data to the peer's
 * ACK, its segments captured twice or resent, its largest segment) and as a receiver (the
 * windows it advertised, its duplicate ACKs). What every segment of X writes comes first,
 * together (spread out, it cost more cache misses); the rest is ordered widest first, so that
 * only one byte is padding (88 bytes; docs/scaling.md, "Memory per connection"). */
struct tcp_metrics {
    bool timing : 1;         /* a data segment of X is being timed (one at a time, Karn's rule) */
    bool window_seen : 1;    /* window_min/max valid */
    uint16_t last_ip_id;     /* IPv4 identification of X's previous segment */
    uint32_t last_fp;        /* fingerprint of X's previous segment's TCP header */
    int64_t last_ns;         /* time of X's previous segment */
    int64_t timed_ns;        /* when the timed data was sent */
    int64_t zero_since_ns;   /* X has advertised a zero window since then (0: it does not) */
    uint64_t zero_window_ns; /* time X advertised a zero window, intervals that ended */
    uint64_t rtt_sum_us;
    uint32_t rtt_count, rtt_min_us, rtt_max_us;
    uint32_t dup_acks;        /* pure ACKs repeating X's last ack and window */
    uint32_t dup_segments;    /* segments that were a copy of X's previous one, captured again */
    uint32_t dup_retransmits; /* of those, the ones retrans_pkts counts */
    uint32_t window_min, window_max; /* advertised, scaled, in bytes */
    uint32_t max_segment;            /* largest payload (TSO captures exceed 16 bits) */
    /* Relative position just past the timed data, truncated to 32 bits: the timed data is in
     * flight, so the ACK that ends it lies within 2^31 of it and serial-number arithmetic
     * (seq.h) orders the two across any wrap of the 32-bit relative space. */
    uint32_t timed_end;
};

/* Facts about one endpoint X, as seen from the wire; tcp_conn_state() derives X's RFC 793 state
 * from them (the table of docs/schema.md, "TCP endpoint states"). */
struct tcp_endpoint {
    /* Facts, one bit each. */
    bool seen : 1;          /* X sent something */
    bool syn_sent : 1;      /* X sent a SYN (isn valid) */
    bool syn_implied : 1;   /* ... inferred from the peer's SYN/ACK; the SYN itself not yet seen */
    bool syn_acked : 1;     /* the peer acknowledged X's SYN */
    bool peer_syn_rcvd : 1; /* X acknowledged the peer's SYN */
    bool fin_sent : 1;      /* X sent a FIN (fin_pos valid) */
    bool fin_acked : 1;     /* the peer acknowledged X's FIN: ack = FIN seq + 1 */
    bool peer_fin_rcvd : 1; /* X acknowledged the peer's FIN */
    bool active_closer : 1; /* X's FIN came before it acknowledged a FIN of the peer */
    bool rst_sent : 1;      /* X sent an acceptable RST */
    bool ack_sent : 1;      /* X sent a segment with ACK: last_ack valid */
    bool synack_sent : 1;   /* X sent a SYN/ACK */
    bool window_from_syn : 1; /* the last window X advertised came in a SYN (never scaled) */
    bool probe_pending : 1;   /* X's last segment was a zero-window probe of the byte at hi */
    bool base_known : 1;      /* isn (or the mid-stream base) set: relative positions valid */
    bool fin_resent : 1;      /* X sent its FIN again: by its own timer, the ACK is overdue */
    /* Handshake options from X's SYN (or SYN/ACK). */
    bool opt_seen : 1, sack_permitted : 1, timestamps : 1, has_wscale : 1;
    uint8_t wscale;
    uint16_t mss;

    uint8_t zeek;         /* enum zeek_endpoint_state */
    uint8_t zeek_prev;    /* its value before a RST */
    uint8_t history_once; /* A, D, I, Q letters already recorded; RST seen */
    uint8_t flags_seen;   /* every TCP flag X sent (OR of its segments' flags: EVE tcp_flags);
                             its TCP_RST bit: X sent a RST, acceptable or not */
    uint16_t window;      /* last window X advertised (unscaled) */
    uint32_t isn;         /* SYN's sequence number, or first seq − 1 when picked up mid-stream */
    uint32_t last_ack;    /* highest acknowledgement X sent */
    /* History repetition rules (Zeek compares sequence numbers: 32 bits are enough). */
    uint32_t last_syn_pos, last_fin_pos, last_rst_pos;
    uint32_t retrans_pkts;
    uint32_t n_bad_checksum, n_zero_window, n_gaps, n_retrans_data; /* history counters */
    uint32_t resent_end; /* seq just past the highest payload byte X retransmitted (valid once
                            retrans_bytes > 0) */

    int64_t hi;                   /* highest relative position sent + 1 (SYN is position 0) */
    int64_t fin_pos;              /* relative position of X's FIN */
    int64_t data_hi;              /* highest relative position of payload sent + 1 (FIN excluded) */
    int64_t last_data_ns, fin_ns; /* when data_hi last grew; when the FIN was first sent */

    uint64_t payload_bytes; /* distinct payload bytes sent (a retransmitted byte counts once) */
    uint64_t retrans_bytes;
    uint64_t missed_bytes; /* acknowledged by the peer but never captured (at finish) */
    struct tcp_metrics m;
};

/* Ranges below an endpoint's highest byte that were never seen (capture loss), for both
 * endpoints. Most connections never have one: this block is attached only while a connection
 * has holes, from the pool the caller passes to tcp_conn_on_segment. */
struct tcp_hole_list {
    uint8_t n;
    struct seq_range r[TCP_MAX_HOLES];
};
struct tcp_holes {
    struct tcp_hole_list ep[2];
};

enum tcp_close_how {
    TCP_CLOSE_NONE,             /* still open */
    TCP_CLOSE_FIN,              /* 4-way close: both FINs acknowledged */
    TCP_CLOSE_SIMULTANEOUS_FIN, /* both sent FIN before seeing the other's */
    TCP_CLOSE_RST,
};

/* What every segment writes (raised, the flags) right after the endpoints; the history and
 * handshake times after it, then the 8-byte members: one byte of padding in all. */
struct tcp_conn {
    struct tcp_endpoint ep[2];
    anomaly_set raised; /* what the last segment raised (read after tcp_conn_on_segment) */
    bool midstream : 1; /* no SYN seen from the originator when the connection was picked up */
    bool flipped : 1;   /* roles decided against the first packet's direction */
    bool simultaneous_open : 1;
    bool handshake_done : 1;        /* both SYNs acknowledged (seen, or sync_inferred) */
    bool handshake_ack_checked : 1; /* the originator's first ACK after the SYN/ACK was judged */
    bool reordered : 1;             /* the SYN/ACK was seen before the SYN it answers */
    bool sync_inferred : 1; /* handshake_done inferred from one direction's ACKs, not seen */
    uint8_t close_how;      /* enum tcp_close_how, set when the connection closes */
    int8_t close_initiator; /* endpoint that sent the first FIN or the RST, -1 none */
    char history[TCP_HISTORY_MAX];
    int64_t syn_ns, synack_ns, ack_ns; /* handshake packet times, 0 = not seen */
    struct tcp_holes *holes;           /* NULL while neither endpoint has a hole */
};

/* Starts tracking a connection. flipped: the originator is the receiver of the connection's first
 * packet (a SYN/ACK, or a mid-stream packet from the server port), so history starts with '^';
 * midstream: that first packet was not a SYN, so the handshake was not seen. */
void tcp_conn_init(struct tcp_conn *t, bool flipped, bool midstream);

/* Applies one segment from endpoint dir (0 originator, 1 responder) at time ts_ns. Returns true
 * if this segment completed the connection's close (FIN exchange done, or an accepted RST).
 * t->raised then holds the anomalies the segment showed, all in direction dir. holes is the
 * pool of struct tcp_holes blocks (NULL, or empty: a gap's bytes are counted as missed at once
 * instead of waiting to see whether they come later). */
bool tcp_conn_on_segment(struct tcp_conn *t, int dir, const struct packet *p, int64_t ts_ns,
                         struct block_pool *holes);

/* Gives the connection's holes block back to the pool (when the connection is dropped). */
void tcp_conn_release(struct tcp_conn *t, struct block_pool *holes);

/* A segment of the connection whose checksum was wrong (left out of the analysis): only the
 * history's C/c letter records it, as Zeek does. */
void tcp_conn_on_bad_checksum(struct tcp_conn *t, int dir);

/* Anomalies that can only be known when the connection ends (half-open handshakes, data or FIN
 * never acknowledged), for endpoint dir (tcp_judge.c). What dir sent after judge_until_ns is not
 * judged — when the connection ends because the input did, or by dir's own RST, its answer may
 * simply not have come yet (INT64_MAX judges everything) — except data or a FIN that dir had
 * already sent again: its own timer said the answer was overdue. */
anomaly_set tcp_conn_end_anomalies(const struct tcp_conn *t, int dir, int64_t judge_until_ns);

/* The payload bytes endpoint dir's sequence space covers: those captured (each once) and those
 * the capture missed (Zeek's orig_bytes/resp_bytes; what throughput is worked out from). */
uint64_t tcp_conn_sequence_bytes(const struct tcp_conn *t, int dir);

/* Payload bytes endpoint dir sent that its peer has not acknowledged (0 if none or unknown). */
uint64_t tcp_conn_unacked_bytes(const struct tcp_conn *t, int dir);

/* A window endpoint dir advertised (window, as on the wire), in bytes: scaled by dir's shift
 * (at most 14) once both endpoints offered window scaling, and never in a SYN (RFC 7323 §2.2). */
uint32_t tcp_conn_window_bytes(const struct tcp_conn *t, int dir, uint16_t window, bool syn);

/* RFC 793 state of endpoint dir, a pure function of the facts above. */
enum tcp_state tcp_conn_state(const struct tcp_conn *t, int dir);

/* True once one side has sent a FIN, and whether both have. */
bool tcp_conn_any_fin(const struct tcp_conn *t);
bool tcp_conn_established(const struct tcp_conn *t);

/* Zeek's conn_state values (main.zeek). */
enum zeek_conn_state {
    ZEEK_S0,
    ZEEK_S1,
    ZEEK_SF,
    ZEEK_REJ,
    ZEEK_S2,
    ZEEK_S3,
    ZEEK_RSTO,
    ZEEK_RSTR,
    ZEEK_RSTOS0,
    ZEEK_RSTRH,
    ZEEK_SH,
    ZEEK_SHR,
    ZEEK_OTH,
    ZEEK_CONN_STATE_COUNT
};

/* Zeek conn_state for the connection as it is now. */
enum zeek_conn_state tcp_conn_zeek_state(const struct tcp_conn *t);
const char *zeek_conn_state_name(enum zeek_conn_state s);

const char *tcp_state_name(enum tcp_state s);

#endif
