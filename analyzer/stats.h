/* stats: the run's packet accounting — what was read from each input and what became of every
 * packet (filtered, decoded, dropped for a bad checksum, or a decode failure by reason), with
 * packets and bytes by link, network and transport protocol. Every packet read lands in exactly
 * one of: filtered, analysed, checksum_dropped, other_shards, decode_errors[reason]. Only the
 * functions of this header write a struct run_stats — in stats.c, or inline below where they run
 * for every packet; everyone else only reads it, so each counter has one place that says when it
 * moves. */
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
    uint64_t anomaly_events_folded;    /* events folded into host aggregates (tracker.h) */
    uint64_t anomaly_aggregates;       /* the aggregate events that hold them */
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

/* One layer's checksums: verified right, wrong, or offloaded (the partial sum a sending host left
 * for its NIC: CHECKSUM_OFFLOADED). */
struct checksum_counts {
    uint64_t good, bad, offloaded;
};

/* Sources `--checksums auto` took as offloading, listed in the summary: the first
 * STATS_MAX_OFFLOAD_SOURCES, in the order they were switched; the rest are only counted. */
#define STATS_MAX_OFFLOAD_SOURCES 64
struct stats_source {
    uint8_t ip_version;
    uint8_t addr[16];
};

struct run_stats {
    struct counter read;       /* every packet record read from the inputs */
    uint64_t filtered;         /* rejected by the BPF filter */
    uint64_t analysed;         /* decoded and passed on */
    uint64_t checksum_dropped; /* decoded, but left out by --checksums for a checksum not right */
    uint64_t other_shards;     /* decoded, but of a connection another share analyses (--shard) */
    uint32_t shard_index, shard_count; /* --shard K/N: K - 1 and N; N 0 or 1: not sharded */
    uint64_t decode_errors[DECODE_STATUS_COUNT]; /* [DECODE_OK] stays 0 */

    /* Of the packets that passed the filter: by protocol, as far as decoding got. */
    struct counter link[LINK_KIND_COUNT];
    struct counter net[NET_COUNT];
    struct counter transport[TRANSPORT_COUNT];

    uint64_t truncated; /* decoded, but bytes the headers announce were not captured */
    uint64_t tcp_options_malformed;
    uint64_t timestamps_out_of_range; /* packet times before 1970 or after 2100: clamped */
    struct checksum_counts checksums[CHECKSUM_LAYER_COUNT];
    struct stats_source offload_sources[STATS_MAX_OFFLOAD_SOURCES];
    uint32_t offload_source_count; /* all sources switched, listed or not */
    uint64_t checksum_untracked;   /* packets of sources auto's full table could not track */

    struct conn_totals conns;

    uint64_t records_lost;     /* records that could not be written (known before the summary) */
    uint64_t rotations_failed; /* output rotations that did not happen (the file was kept) */

    /* Live capture: libpcap's counters at the end (kernel and interface drops). */
    bool have_capture_stats;
    uint64_t capture_received, capture_dropped, capture_if_dropped;

    bool have_ts;
    int64_t first_sec, last_sec; /* earliest and latest packet time */
    uint32_t first_nsec, last_nsec;
    const struct output_account *outputs; /* per -o, as of the summary (the sink sets them) */
    size_t noutputs;
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

/* What became of the records one output (-o) was given: the sink fills it in as it writes the
 * records that carry it (stats and the summary). */
struct output_account {
    const char *target; /* as -o names it ("-": standard output) */
    const char *format;
    uint64_t written; /* handed to the output */
    uint64_t dropped; /* never delivered: its queue was full, or a live receiver was down */
    uint64_t failed;  /* a write that failed (a full disk) */
};

/* A periodic snapshot of a long run (live capture), for --stats-interval. */
struct live_stats {
    int64_t wall_ns;                        /* when it was taken */
    double uptime_seconds;                  /* since the run started */
    uint64_t packets, bytes;                /* read by shakedown so far */
    bool have_capture;                      /* the capture counters below are known */
    uint64_t received, dropped, if_dropped; /* libpcap: kernel drops and interface drops */
    uint32_t connections_open;
    uint64_t connections_reported;
    uint64_t memory_reserved_bytes; /* flow tables and host counters, allocated at the start */
    uint64_t memory_used_bytes;     /* of those, in use so far */
    uint64_t anomalies;             /* occurrences so far */
    uint64_t anomaly_events_folded; /* of their events, folded into host aggregates so far */
    uint64_t records_lost;          /* records that could not be written */
    uint64_t rotations_failed;      /* output rotations that did not happen */
    struct checksum_counts checksums[CHECKSUM_LAYER_COUNT]; /* so far */
    const struct output_account *outputs; /* per -o, as of this record (the sink sets them) */
    size_t noutputs;
};

/* Counts one packet that passed the filter and was decoded with result st. Returns the packet's
 * checksums in one state — BAD if any layer's was bad, else OFFLOADED if any was offloaded, else
 * GOOD if any verified, else UNVERIFIED — for the caller to judge by --checksums. */
enum checksum_state stats_count_decoded(struct run_stats *s, const struct packet *p,
                                        enum decode_status st);

/* Packets of sources --checksums auto could not track (its table was full), at the end. */
void stats_note_checksum_untracked(struct run_stats *s, uint64_t packets);

/* A source --checksums auto has taken as offloading (p is the packet that decided it). */
void stats_note_offload_source(struct run_stats *s, const struct packet *p);

/* Counts a packet read from the input (before filtering); keeps the earliest and latest
 * timestamps. */
void stats_count_read(struct run_stats *s, const struct packet *p);

/* Counts one reported connection. */
void stats_count_conn(struct run_stats *s, const struct conn *c);

/* What became of a packet read (after stats_count_read): rejected by the filter; or decoded
 * (stats_count_decoded) and then analysed, left out for a bad checksum, or left to another share
 * (--shard). Inline, as the one
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
static inline void stats_count_other_shard(struct run_stats *s) {
    s->other_shards++;
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
/* The outputs' counts (a[0..n), the caller's, alive while s is used). */
void stats_set_outputs(struct run_stats *s, const struct output_account *a, size_t n);
/* --shard K/N: this run analyses share index (K - 1) of count (N). */
void stats_set_shard(struct run_stats *s, uint32_t index, uint32_t count);
void stats_set_rotations_failed(struct run_stats *s, uint64_t failed);

/* Adds every counter of from to into (the counts of several threads of one run: --workers on a
 * live interface, where each capture thread counts its own packets): packets and bytes by kind,
 * checksums, decode errors, connections (peak_open too: the sum of the peaks, at least the real
 * one), the earliest and latest packet time, and the sources taken as offloading (listed after
 * into's own, up to STATS_MAX_OFFLOAD_SOURCES). The shard and the outputs are into's. */
void stats_merge(struct run_stats *into, const struct run_stats *from);
/* The checksum counts of every layer (CHECKSUM_LAYER_COUNT of them) of from added to into. */
void stats_add_checksums(struct checksum_counts *into, const struct checksum_counts *from);

/* Sum of decode_errors[]. */
uint64_t stats_decode_error_total(const struct run_stats *s);

const char *checksum_layer_name(enum checksum_layer l);

/* Everything read, in one number, is filtered + analysed + checksum_dropped + other_shards +
 * decode errors. */
static inline uint64_t stats_accounted(const struct run_stats *s) {
    return s->filtered + s->analysed + s->checksum_dropped + s->other_shards +
           stats_decode_error_total(s);
}

#endif
