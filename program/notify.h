/* notify: what systemd is told about a running shakedown — ready (Type=notify) once the capture
 * and the output are open, alive (WatchdogSec=) from the run's periodic work, stopping on the
 * way out — through libsystemd's sd_notify. Built without libsystemd, or not started by
 * systemd, every call does nothing. */
#ifndef SHAKEDOWN_NOTIFY_H
#define SHAKEDOWN_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

struct notify {
    int64_t interval_ns; /* between watchdog pings: half of WatchdogSec; 0: no watchdog */
    int64_t next_ns;     /* wall clock of the next ping */
};

/* Reads the watchdog's interval from the environment systemd set (WATCHDOG_USEC, WATCHDOG_PID). */
void notify_init(struct notify *n);

/* READY=1: the service is up. */
void notify_ready(void);

/* WATCHDOG=1 when the last ping is half a watchdog interval old; now_ns is the wall clock. n may
 * be NULL (no watchdog). Called from the run's periodic work, so a capture or an output that is
 * stuck stops the pings and systemd restarts the service. */
void notify_watchdog(struct notify *n, int64_t now_ns);

/* STOPPING=1: an orderly stop has begun (open connections are being reported). */
void notify_stopping(void);

#endif
