/* tcp_metrics: each endpoint's measurements (struct tcp_metrics in tcp_conn.h; docs/metrics.md),
 * updated by tcp_conn_on_segment from every segment, before and after it tracks the segment. */
#ifndef SHAKEDOWN_TCP_METRICS_H
#define SHAKEDOWN_TCP_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "packet.h"
#include "tcp_conn.h"

/* What a segment p from endpoint dir (pos: its relative position) shows before the tracking
 * updates dir's facts: a copy captured again, a duplicate ACK, its size, its window. Returns
 * whether it is a copy captured again. */
bool tcp_metrics_before(struct tcp_conn *t, int dir, const struct packet *p, int64_t pos,
                        int64_t ts);

/* After the tracking: RTT timing of dir's data and of the peer's data this segment acknowledges.
 * copy: tcp_metrics_before's answer; resent: the tracking counted a retransmission; grew: dir's
 * highest data byte moved forward. */
void tcp_metrics_after(struct tcp_conn *t, int dir, const struct packet *p, int64_t ts, bool copy,
                       bool resent, bool grew);

/* Endpoint dir's throughput over duration_ns (> 0), in bytes per second rounded to the nearest
 * (half to even): its bytes by sequence space (payload_bytes + missed_bytes: what the peer
 * acknowledged counts even where the capture lost it), as docs/metrics.md explains. */
uint64_t tcp_metrics_throughput(const struct tcp_conn *t, int dir, int64_t duration_ns);

/* Time endpoint dir advertised a zero window, until now_ns if it still does. */
uint64_t tcp_metrics_zero_window_ns(const struct tcp_conn *t, int dir, int64_t now_ns);

#endif
