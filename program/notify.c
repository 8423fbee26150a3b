/* notify: sd_notify readiness, watchdog pings and stopping (see notify.h). libsystemd decides
 * whether systemd is listening ($NOTIFY_SOCKET); without SHAKEDOWN_HAVE_SYSTEMD (libsystemd-dev
 * absent at configure time) the same calls do nothing. */
#include "notify.h"

#include <stddef.h>

#ifdef SHAKEDOWN_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>

void notify_init(struct notify *n) {
    uint64_t usec = 0;
    n->interval_ns = 0;
    n->next_ns = 0;
    /* > 0 only when WATCHDOG_USEC is set for this very process (WATCHDOG_PID, if set, is ours). */
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
        n->interval_ns = (int64_t)(usec / 2) * 1000; /* sd_watchdog_enabled(3): ping at half */
}

void notify_ready(void) {
    sd_notify(0, "READY=1");
}

void notify_watchdog(struct notify *n, int64_t now_ns, int64_t progress_ns) {
    if (!n || n->interval_ns <= 0 || now_ns < n->next_ns ||
        now_ns - progress_ns > 2 * n->interval_ns)
        return;
    n->next_ns = now_ns + n->interval_ns;
    sd_notify(0, "WATCHDOG=1");
}

void notify_stopping(void) {
    sd_notify(0, "STOPPING=1");
}

#else

void notify_init(struct notify *n) {
    n->interval_ns = 0;
    n->next_ns = 0;
}

void notify_ready(void) {}

void notify_watchdog(struct notify *n, int64_t now_ns, int64_t progress_ns) {
    (void)n, (void)now_ns, (void)progress_ns;
}

void notify_stopping(void) {}

#endif
