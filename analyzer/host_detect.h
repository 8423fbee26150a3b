/* host_detect: the host-level detectors, syn_flood and port_scan, fed by connections as they are
 * reported. It decides what a connection's end counts for — a half-open connection against its
 * destination, a failed attempt against its source — and hosts.c keeps the counts. */
#ifndef SHAKEDOWN_HOST_DETECT_H
#define SHAKEDOWN_HOST_DETECT_H

#include <stdint.h>

#include "anomaly.h"
#include "conn.h"
#include "hosts.h"

/* A host-level anomaly that fired. */
struct host_alert {
    enum anomaly id; /* ANOMALY_SYN_FLOOD or ANOMALY_PORT_SCAN */
    const uint8_t
        *host; /* the flood's destination or the scan's source (in the connection's key) */
    uint8_t ip_version;
    uint32_t count;     /* half-open connections, or distinct failed targets */
    int64_t window_ns;  /* the window they were counted in */
    uint32_t threshold; /* the count it went above, as configured */
};

#define HOST_DETECT_MAX_ALERTS 2

/* What a connection's end did to the host counters. */
struct host_verdict {
    struct host_alert alert[HOST_DETECT_MAX_ALERTS]; /* the alerts that fired (syn_flood first) */
    unsigned alerts;
    bool folded; /* its events went into a host's aggregate (hosts.h, folding) */
};

/* What a connection's end counts for, judged from the connection alone. */
struct host_counting {
    bool half_open;      /* against its destination, for syn_flood */
    bool failed_attempt; /* against its source, for port_scan */
};

/* What connection c, being reported because `why` with the end anomalies end_set, counts for.
 * Reads no host table: a caller sharing one need hold it only when this counts for something. */
struct host_counting host_detect_judge(const struct conn *c, enum conn_end why,
                                       anomaly_set end_set);

/* Counts c as judged (host_detect_judge) against the hosts it involves, and folds fold (the
 * events it is about to report; NULL: none) into the aggregate of a host it counted against
 * whose window folds. Touches the table only when `counts` counts for something. The alerts
 * point into c: use them before c goes. */
void host_detect_count(struct hosts *h, const struct host_config *cfg, const struct conn *c,
                       struct host_counting counts, const struct host_fold_in *fold,
                       struct host_verdict *v);

#endif
