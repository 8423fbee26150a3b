/* hosts: per-host counters for the host-level anomalies syn_flood and port_scan, in a bounded
 * table allocated once (no allocation per packet). Time is capture time (ns). */
#ifndef SHAKEDOWN_HOSTS_H
#define SHAKEDOWN_HOSTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Windows: fixed windows that start at a host's first event and last T; an event at or after
 * start + T starts a new window (counts reset, the alert may fire again). An event stamped
 * before its host's window start (capture timestamps slightly out of order) counts in the
 * current window; windows only move forward.
 *
 * One entry per host, keyed by (ip_version, address), holds both anomalies' windows. Entries are
 * never freed, only reused. Approximation, to keep every call O(1): a host is looked up only in
 * a neighbourhood of HOSTS_PROBE slots from its hash position. When that neighbourhood is full
 * (not necessarily the whole table), a new host takes over the entry there whose windows have
 * all ended, else the one that has counted least (so a spoofed flood's one-attempt sources push
 * each other out, not the victim), then the one whose newest window is oldest; the evicted host
 * starts over if it is seen again, and answers to its earlier attempts are ignored. */
#define HOSTS_PROBE 8

/* Distinct failed targets remembered per host and window (as 32-bit hashes of address and port,
 * so two targets may rarely count as one). The count is exact up to HOSTS_MAX_SCAN_TARGETS + 1
 * and then stays there ("at least that many"). */
#define HOSTS_MAX_SCAN_TARGETS 64

struct host_config {
    uint32_t capacity;            /* hosts tracked at once (table entries) */
    uint32_t syn_flood_threshold; /* N: more than N half-open connections ... */
    int64_t syn_flood_window_ns;  /* ... within T */
    uint32_t port_scan_threshold; /* N: more than N distinct failed targets ... (≤
                                     HOSTS_MAX_SCAN_TARGETS) */
    int64_t port_scan_window_ns;  /* ... within T */
};

struct hosts;

/* capacity 16384, syn flood 200 in 10 s, port scan 20 in 60 s */
void host_config_defaults(struct host_config *c);

/* NULL if allocation fails or c->capacity is 0. A port_scan_threshold above
 * HOSTS_MAX_SCAN_TARGETS is lowered to it. */
struct hosts *hosts_new(const struct host_config *c);
void hosts_free(struct hosts *h);

/* A connection to dst that ended half-open (its SYN or SYN/ACK was never answered: the tracker
 * calls this as it reports the connection), counted in the window of its start, now_ns.
 * Returns true exactly when dst's half-open count in its current window goes above the threshold
 * (once per window); *half_open (if not NULL) receives the count. ip_version other than 4 or 6:
 * ignored (false, count 0). */
bool hosts_syn_attempt(struct hosts *h, const uint8_t *dst, uint8_t ip_version, int64_t now_ns,
                       uint32_t *half_open);

/* A failed attempt (unanswered or rejected) from src to dst:dport that started at start_ns.
 * Returns true exactly when src's number of distinct failed targets (dst, dport) in its current
 * window goes above the threshold (once per window); *distinct (if not NULL) receives the count.
 * src and dst are of the same ip_version. */
bool hosts_failed_attempt(struct hosts *h, const uint8_t *src, const uint8_t *dst, uint16_t dport,
                          uint8_t ip_version, int64_t start_ns, uint32_t *distinct);

/* ---- folding --------------------------------------------------------------------------------
 * Once a host's alert has fired, the connections counted against it would each bring their own
 * anomaly events: a flood of N spoofed SYNs, N more events. Those events are folded instead into
 * one aggregate per host, alarm and window. A window folds from its alert on; a window that
 * follows straight on one whose alert fired (starting less than one window length after it ended)
 * folds from its start: the host is still under attack, even before the threshold is crossed
 * again. hosts keeps the aggregates and hands each, once, to the function set with
 * hosts_on_fold_end when it ends: when its window ends (hosts_close_ended), when a new window of
 * the host starts, when the host's entry is reused for another host, or at hosts_close_all. */
enum host_alarm { HOST_SYN_FLOOD, HOST_PORT_SCAN };

/* What one connection brings to fold: kinds is the caller's (hosts only ORs it together). */
struct host_fold_in {
    uint64_t kinds;  /* which events (the caller's bits) */
    uint32_t events; /* how many */
    int64_t ts_ns;   /* when they were raised */
    uint64_t frame;  /* the packet that showed them */
};

/* One aggregate, as it ends. host points into hosts' table: valid during the call only. */
struct host_fold {
    enum host_alarm alarm;
    const uint8_t *host; /* the flood's destination or the scan's source */
    uint8_t ip_version;
    int64_t window_start_ns, window_ns;
    uint32_t count;            /* the window's count: half-open connections or failed targets */
    uint32_t conns;            /* connections whose events were folded */
    uint64_t events;           /* events folded */
    uint64_t kinds;            /* OR of the host_fold_in kinds */
    int64_t first_ns, last_ns; /* first and last folded event */
    uint64_t last_frame;
    int64_t ended_ns; /* capture time when it ended (hosts_set_now, hosts_close_ended) */
};

typedef void (*host_fold_fn)(void *ctx, const struct host_fold *f);

/* Turns folding on: aggregates end through fn(ctx, ...). Without it, nothing is folded. An
 * aggregate ends by time linger_ns after its window ended: connections are counted when they are
 * reported, which for a half-open one is its handshake timeout after it was attempted, so the
 * linger is at least that. Events of a window whose aggregate ended by time are not folded. */
void hosts_on_fold_end(struct hosts *h, host_fold_fn fn, void *ctx, int64_t linger_ns);

/* Folds in the events of a connection counted against host (for alarm) at attempt_ns — right
 * after hosts_syn_attempt / hosts_failed_attempt counted it — when the window it was counted in
 * folds. Returns whether it did (false: the caller reports the events one by one). */
bool hosts_fold(struct hosts *h, enum host_alarm alarm, const uint8_t *host, uint8_t ip_version,
                int64_t attempt_ns, const struct host_fold_in *in);

/* Capture time, as the caller knows it: the time an aggregate that ends now ends at. */
void hosts_set_now(struct hosts *h, int64_t now_ns);

/* Ends the aggregates whose window has ended by now_ns (and sets the time, as hosts_set_now);
 * cheap when none has (a comparison). */
void hosts_close_ended(struct hosts *h, int64_t now_ns);
/* Ends every aggregate (end of input, shutdown). */
void hosts_close_all(struct hosts *h);

/* Hosts currently in the table (≤ capacity). */
uint32_t hosts_count(const struct hosts *h);
/* Bytes the table allocated (fixed at hosts_new); what hosts_new(c) would allocate; and the bytes
 * of the entries in use (hosts_count of them). */
size_t hosts_memory(const struct hosts *h);
size_t hosts_memory_for(const struct host_config *c);
size_t hosts_memory_used(const struct hosts *h);

#endif
