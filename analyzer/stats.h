/* stats: the run's packet accounting — what was read from each input and what became of every
 * packet (filtered, decoded, dropped for a bad checksum, or a decode failure by reason), with
 * packets and bytes by link, network and transport protocol. Every packet read lands in exactly
 * one of: filtered, analysed, checksum_dropped, decode_errors[reason]. Only the functions of this
 * header write a struct run_stats — in stats.c, or inline below where they run for every packet;
 * everyone else only reads it, so each counter has one place that says when it moves. */
#ifndef SHAKEDOWN_STATS_H
#define SHAKEDOWN_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "conn.h"
#include "packet.h"

struct capture_stats;  /* capture.h */
struct tracker_counts; /* tracker.h */

struct counter {
    uint64_t packets, bytes; /* bytes = wire length */
};

/* Connections reported, by how they ended and by Zeek conn_state. */
struct conn_totals {
    uint64_t reported;
    uint64_t tcp, udp, icmp;
    uint64_t by_end[CONN_END_COUNT];
    uint64_t by_state[ZEEK_CONN_STATE_COUNT];
    uint64_t one_sided;         /* TCP connections with one direction captured (conn_one_sided) */
    uint64_t late_packets;      /* packets of connections already closed and reported */
    uint64_t untracked_packets; /* decoded, but of no connection (fragments, other protocols) */
    uint32_t peak_open;         /* most connections open at once */
    uint64_t anomalies[ANOMALY_COUNT]; /* every occurrence, by anomaly */
};

/* Checksums verified, by the layer they belong to. */
enum checksum_layer {
    CHECKSUM_LAYER_IPV4,
    CHECKSUM_LAYER_TCP,
    CHECKSUM_LAYER_UDP,
    CHECKSUM_LAYER_ICMP,
    CHECKSUM_LAYER_ICMPV6,
    CHECKSUM_LAYER_COUNT
};

struct run_stats {
    struct counter read;       /* every packet record read from the inputs */
    uint64_t filtered;         /* rejected by the BPF filter */
    uint64_t analysed;         /* decoded and passed on */
    uint64_t checksum_dropped; /* decoded, but a checksum was bad and --checksums=drop */
    uint64_t decode_errors[DECODE_STATUS_COUNT]; /* [DECODE_OK] stays 0 */

    /* Of the packets that passed the filter: by protocol, as far as decoding got. */
    struct counter link[LINK_KIND_COUNT];
    struct counter net[NET_COUNT];
    struct counter transport[TRANSPORT_COUNT];

    uint64_t truncated; /* decoded, but bytes the headers announce were not captured */
    uint64_t tcp_options_malformed;
    uint64_t timestamps_out_of_range; /* packet times before 1970 or after 2100: clamped */
    uint64_t checksum_good[CHECKSUM_LAYER_COUNT];
    uint64_t checksum_bad[CHECKSUM_LAYER_COUNT];

    struct conn_totals conns;

    uint64_t records_lost; /* records that could not be written (known before the summary) */

    /* Live capture: libpcap's counters at the end (kernel and interface drops). */
    bool have_capture_stats;
    uint64_t capture_received, capture_dropped, capture_if_dropped;

    bool have_ts;
    int64_t first_sec, last_sec; /* earliest and latest packet time */
    uint32_t first_nsec, last_nsec;
};

enum input_status {
    INPUT_OK,         /* read to its end */
    INPUT_DAMAGED,    /* read up to a truncation or read error; what came before was analysed */
    INPUT_UNREADABLE, /* could not be opened: missing, unreadable, not a capture, bad filter */
};

/* What became of one input file. */
struct input_report {
    const char *path;
    int link;           /* DLT value, -1 if never opened */
    char link_name[32]; /* libpcap's name for it */
    bool link_supported;
    uint64_t packets; /* records read from this input */
    enum input_status status;
    char message[512]; /* the damage or the reason it could not be read */
};

const char *input_status_name(enum input_status s);

/* A periodic snapshot of a long run (live capture), for --stats-interval. */
struct live_stats {
    int64_t wall_ns;                        /* when it was taken */
    double uptime_seconds;                  /* since the run started */
    uint64_t packets, bytes;                /* read by shakedown so far */
    bool have_capture;                      /* the capture counters below are known */
    uint64_t received, dropped, if_dropped; /* libpcap: kernel drops and interface drops */
    uint32_t connections_open;
    uint64_t connections_reported;
    uint64_t memory_bytes; /* flow tables and host counters, allocated */
    uint64_t anomalies;    /* occurrences so far */
    uint64_t records_lost; /* records that could not be written */
};

/* Counts one packet that passed the filter and was decoded with result st. Returns whether the
 * packet has a bad checksum (the caller decides, by --checksums, whether to drop it). */
bool stats_count_decoded(struct run_stats *s, const struct packet *p, enum decode_status st);

/* Counts a packet read from the input (before filtering); keeps the earliest and latest
 * timestamps. */
void stats_count_read(struct run_stats *s, const struct packet *p);

/* Counts one reported connection. */
void stats_count_conn(struct run_stats *s, const struct conn *c);

/* What became of a packet read (after stats_count_read): rejected by the filter; or decoded
 * (stats_count_decoded) and then analysed, or left out for a bad checksum. Inline, as the one
 * increment each is, because they run for every packet. */
static inline void stats_count_filtered(struct run_stats *s) {
    s->filtered++;
}
static inline void stats_count_analysed(struct run_stats *s) {
    s->analysed++;
}
static inline void stats_count_checksum_dropped(struct run_stats *s) {
    s->checksum_dropped++;
}

/* Counts a packet whose time could not be a time and was clamped into range. */
static inline void stats_count_bad_timestamp(struct run_stats *s) {
    s->timestamps_out_of_range++;
}

/* At the end of the run: what the tracker counted (late and untracked packets, the most
 * connections open at once, anomalies); libpcap's counters of a live capture; records that could
 * not be written. */
void stats_note_tracker(struct run_stats *s, const struct tracker_counts *tc);
void stats_note_capture(struct run_stats *s, const struct capture_stats *cs);
void stats_set_records_lost(struct run_stats *s, uint64_t lost);

/* Sum of decode_errors[]. */
uint64_t stats_decode_error_total(const struct run_stats *s);

const char *checksum_layer_name(enum checksum_layer l);

/* Everything read, in one number, is filtered + analysed + checksum_dropped + decode errors. */
static inline uint64_t stats_accounted(const struct run_stats *s) {
    return s->filtered + s->analysed + s->checksum_dropped + stats_decode_error_total(s);
}

#endif
