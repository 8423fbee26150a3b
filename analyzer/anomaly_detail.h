/* anomaly_detail: the short English detail each anomaly event carries — one function per moment
 * an anomaly can be detected, written from the connection, packet or host counts involved. Kept
 * apart from the catalog (anomaly.h), which the connection state machine itself uses: the
 * details read connections, so the catalog need not. */
#ifndef SHAKEDOWN_ANOMALY_DETAIL_H
#define SHAKEDOWN_ANOMALY_DETAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "anomaly.h"

/* The short English detail of an event record, written into buf (len bytes, always terminated).
 * One function per moment an anomaly can be detected; dir is the role that sent what showed it
 * (0 originator, 1 responder). */
struct conn;
struct packet;

/* An anomaly tcp_conn raised on segment p, sent by role dir of c (after c took the segment). */
void anomaly_describe_segment(char *buf, size_t len, enum anomaly a, const struct conn *c, int dir,
                              const struct packet *p);

/* An anomaly c's end revealed about role dir (c->end set): syn_unanswered, synack_unanswered,
 * data_unacked, fin_unacked. */
void anomaly_describe_end(char *buf, size_t len, enum anomaly a, const struct conn *c, int dir);

/* A late packet of a closed connection (packet_during_time_wait, packet_after_time_wait,
 * data_after_rst) with payload_len bytes, since_ms after the close. */
void anomaly_describe_late(char *buf, size_t len, enum anomaly a, int dir, uint32_t payload_len,
                           long long since_ms);

/* port_reuse: a new SYN on the ports of connection uid, which closed by RST (else FIN), during its
 * TIME_WAIT or after it. */
void anomaly_describe_port_reuse(char *buf, size_t len, const char *uid, bool closed_by_rst,
                                 bool in_time_wait);

/* syn_flood or port_scan: count (half-open connections, or distinct failed targets) within
 * window_ns, above threshold. */
void anomaly_describe_host(char *buf, size_t len, enum anomaly a, uint32_t count, int64_t window_ns,
                           uint32_t threshold);

/* syn_flood or port_scan aggregate: what f folded, in the window of window_ns. */
void anomaly_describe_fold(char *buf, size_t len, enum anomaly a, const struct anomaly_fold *f,
                           int64_t window_ns);

#endif
