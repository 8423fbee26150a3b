/* notify: what systemd is told about a running shakedown — ready (Type=notify) once the capture
 * and the output are open, alive (WatchdogSec=) from the run's periodic work while the reading
 * makes progress, stopping on the way out — through libsystemd's sd_notify. Built without
 * libsystemd, or not started by systemd, every call does nothing. */
#ifndef SHAKEDOWN_NOTIFY_H
#define SHAKEDOWN_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

/* Times are on the monotonic clock (capture_mono_ns): a step of the wall clock neither stops
 * the pings nor sends them early. */
struct notify {
    int64_t interval_ns; /* between watchdog pings: half of WatchdogSec; 0: no watchdog */
    int64_t next_ns;     /* the next ping is due then */
};

/* Reads the watchdog's interval from the environment systemd set (WATCHDOG_USEC, WATCHDOG_PID). */
void notify_init(struct notify *n);

/* READY=1: the service is up. */
void notify_ready(void);

/* WATCHDOG=1 when the last ping is half a watchdog interval old (at now_ns) and the reading
 * made progress — read a packet, or found its capture idle — at progress_ns, at most a whole
 * watchdog interval (WatchdogSec) before now_ns. Called from the run's periodic work: a capture or
 * an output that is stuck stops the pings (the periodic work itself, or with --workers a capture
 * thread's progress, falls behind), and systemd restarts the service. n may be NULL (none). */
void notify_watchdog(struct notify *n, int64_t now_ns, int64_t progress_ns);

/* STOPPING=1: an orderly stop has begun (open connections are being reported). */
void notify_stopping(void);

#endif
