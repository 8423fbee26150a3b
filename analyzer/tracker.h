/* tracker: turns decoded packets into connections. Finds or creates each packet's connection in
 * the flow table, decides roles (originator/responder), feeds TCP segments to tcp_conn, runs
 * timeouts on capture time, evicts when the table is full, detects the anomalies of the catalog
 * (anomaly.h), and reports every connection exactly once — when it closes, expires, is evicted,
 * or at flush — and every anomaly as it is detected, through two callbacks. */
#ifndef SHAKEDOWN_TRACKER_H
#define SHAKEDOWN_TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "anomaly.h"
#include "conn.h"
#include "hosts.h"
#include "packet.h"

struct tracker_config {
    uint32_t max_flows;                   /* live connections, and closed ones remembered */
    int64_t timeout_ns[CONN_TIMER_COUNT]; /* idle time after which each class expires */
    int64_t time_wait_ns;                 /* TIME_WAIT, 2×MSL: closed connections remembered */
    int64_t answer_grace_ns;  /* at the end of input, what was sent this recently is not judged
                                 unanswered or unacknowledged */
    struct host_config hosts; /* syn_flood and port_scan thresholds */
    bool fold_host_events;    /* once syn_flood or port_scan fired for a host, the end events of
                                 the connections it covers (those judged when a connection
                                 ends) become one aggregate event per host and window (hosts.h,
                                 folding); their records still list them */
};

/* Defaults (documented in docs/shakedown.1): handshake 30 s, established idle 300 s, half-closed
 * 120 s, closing 30 s, TIME_WAIT 240 s (2 × MSL of 120 s), UDP 60 s, ICMP 60 s, 262144 flows,
 * answer grace 1 s, host events folded, host defaults of host_config_defaults(). */
void tracker_config_defaults(struct tracker_config *cfg);

struct tracker_counts {
    uint64_t created, reported, late_packets, untracked_packets, evicted;
    uint64_t by_end[CONN_END_COUNT];
    uint64_t anomalies[ANOMALY_COUNT]; /* every occurrence, by anomaly */
    uint64_t folded_events;            /* events folded into host aggregates (not emitted alone) */
    uint64_t aggregates;               /* aggregate events emitted */
    uint32_t open_now, peak_open;
};

/* One anomaly as it is detected. Connection anomalies name their connection (key, roles, and
 * what its uid is made of); host-level ones (syn_flood, port_scan) name a host instead. */
struct anomaly_event {
    enum anomaly id;
    int dir; /* 0: segments from the originator, 1: from the responder, -1: host-level */
    int64_t ts_ns;
    uint64_t frame;             /* the packet that showed it; at a connection's end, its last */
    const struct flow_key *key; /* NULL for host-level anomalies */
    uint8_t orig_side;
    uint64_t serial; /* the connection's first frame: with first_ns and key, its uid (conn.h) */
    int64_t first_ns;
    const uint8_t *host; /* host-level: the flood's destination or the scan's source */
    uint8_t host_version;
    uint32_t count;             /* host-level: half-open connections or distinct failed targets */
    int64_t window_ns;          /* host-level: the window they were counted in */
    struct anomaly_fold folded; /* host-level aggregate: folded.events > 0 */
    char detail[192];
};

/* Called once per connection with c->end set; c is valid only during the call. */
typedef void (*tracker_report_fn)(void *ctx, const struct conn *c);
/* Called as each anomaly is detected (the first of its kind per connection and direction; the
 * connection record counts them all) — except the end events (judged when a connection ends)
 * of connections a host alert covers, which come folded, as one aggregate event per host and window
 * (folded.events > 0) when the window's aggregate ends. ev is valid only during the call. */
typedef void (*tracker_anomaly_fn)(void *ctx, const struct anomaly_event *ev);

/* Called for every TCP segment of a connection once tcp_conn has applied it (c->tcp.raised: the
 * anomalies it showed), before the connection is reported if the segment closed it. For views of
 * single connections (--ladder); unset, it costs one test per segment. c and p are valid only
 * during the call. */
typedef void (*tracker_segment_fn)(void *ctx, const struct conn *c, int dir,
                                   const struct packet *p);

struct tracker *tracker_new(const struct tracker_config *cfg, tracker_report_fn report,
                            tracker_anomaly_fn anomaly, void *ctx);

/* Host counters shared by several trackers, each on a thread of its own (--workers): one table,
 * used only between guard(ctx, true) and guard(ctx, false). Its owner, not the trackers, sets
 * its fold callback (hosts_on_fold_end, with tracker_aggregate_event), ends its aggregates by
 * time (hosts_close_ended) and at the end (hosts_close_all), and frees it. */
struct tracker_hosts_share {
    struct hosts *hosts;
    void (*guard)(void *ctx, bool hold);
    void *ctx;
};

/* tracker_new with the host counters of share instead of a table of its own. */
struct tracker *tracker_new_sharing(const struct tracker_config *cfg, tracker_report_fn report,
                                    tracker_anomaly_fn anomaly, void *ctx,
                                    const struct tracker_hosts_share *share);

/* The event that says what a host aggregate holds (what the tracker emits when one of its own
 * table's aggregates ends): for the owner of a shared table. */
void tracker_aggregate_event(struct anomaly_event *ev, const struct host_fold *f);

/* How long a host aggregate stays open after its window (hosts_on_fold_end's linger): a
 * half-open connection is counted against its host when it is reported, at the latest its
 * handshake timeout (and the answer grace) after it was attempted. */
int64_t tracker_fold_linger_ns(const struct tracker_config *cfg);
void tracker_free(struct tracker *tr);

/* Sets (fn NULL: clears) the per-segment hook and its context. */
void tracker_set_segment_hook(struct tracker *tr, tracker_segment_fn fn, void *ctx);

/* One decoded packet. bad_checksum: the packet failed its checksum and is left out of the
 * analysis; it only marks its connection's history (C/c). */
void tracker_on_packet(struct tracker *tr, const struct packet *p, bool bad_checksum);

/* Starts loading the flow-table bucket of p's connection while the caller does other work (say,
 * verifying checksums, or analysing the packets before p); tracker_on_packet(p) then finds it in
 * the cache and reuses the key and hash worked out here. A hint only: nothing changes.
 * p->frame must be set (non-zero); the hints of up to TRACKER_LOOKAHEAD packets in a row are
 * kept at once (a later packet's takes the slot of the one TRACKER_LOOKAHEAD frames before it). */
#define TRACKER_LOOKAHEAD 16
void tracker_prefetch(struct tracker *tr, const struct packet *p);
/* The second step, some packets later, once the bucket has arrived: starts loading the entry the
 * bucket leads to (p's connection, most of the time). */
void tracker_prefetch_entry(struct tracker *tr, const struct packet *p);

/* A packet another share analyses (--shard): moves capture time exactly as tracker_on_packet(p)
 * would, and does nothing else. */
void tracker_pass(struct tracker *tr, const struct packet *p);

/* Moves capture time forward to now_ns (if later) and expires what that times out: lets idle
 * connections of a live capture expire while no packet arrives. */
void tracker_advance(struct tracker *tr, int64_t now_ns);

/* Capture time: the latest packet timestamp seen (or time advanced to). */
int64_t tracker_now(const struct tracker *tr);

/* Calls fn for every open connection that has been open at least interval_ns and had no interim
 * report for as long (--interim). */
void tracker_interim(struct tracker *tr, int64_t interval_ns, tracker_report_fn fn, void *ctx);

/* Reports every open connection with reason why (capture end, shutdown) and empties the table. */
void tracker_flush(struct tracker *tr, enum conn_end why);

const struct tracker_counts *tracker_counts(const struct tracker *tr);
/* Bytes reserved for the tables (all at tracker_new: the pools of --max-flows entries, the host
 * counters); of those, the ones in use (entries and blocks handed out so far, the hash indexes);
 * and what tracker_new(cfg, ...) would reserve. */
size_t tracker_memory(const struct tracker *tr);
size_t tracker_memory_used(const struct tracker *tr);
size_t tracker_memory_for(const struct tracker_config *cfg);

/* Which of `shards` shares (0 … shards - 1) the connection of packet p falls in (--shard): a hash
 * of the connection's key, the same for both directions, with a fixed key so that every machine
 * and every run of this version splits a capture alike. Packets of no connection fall in share 0.
 * Not for tables: a fixed key can be flooded (at worst, one share gets the work). */
uint32_t tracker_shard_of(const struct packet *p, uint32_t shards);
/* Which of `workers` analysis threads (--workers) takes p's connection: the same kind of hash,
 * split independently of the shares, so that --shard K/N with --workers M uses all M. */
uint32_t tracker_worker_of(const struct packet *p, uint32_t workers);

/* Is `port` one a server typically listens on (below 1024, or a well-known service port)? Used
 * to pick the originator of a connection picked up mid-stream. */
bool tracker_port_is_server(uint16_t port);

#endif
