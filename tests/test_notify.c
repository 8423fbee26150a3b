/* Tests for notify: the watchdog's pings go to the socket systemd names ($NOTIFY_SOCKET, here a
 * Unix datagram socket the test binds), at half of WATCHDOG_USEC, and only while the reading
 * makes progress — the gate that keeps a --workers run whose capture thread is stuck from being
 * pinged alive by its periodic thread. Times are made up: notify takes them as given. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"

#define MS 1000000LL

/* A socket standing in for systemd's, named in the environment with a 400 ms watchdog for this
 * process; returns its descriptor. */
static int fake_systemd(void) {
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    cr_assert(fd >= 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "/tmp/shakedown-notify-%d.sock", (int)getpid());
    unlink(sa.sun_path);
    cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    setenv("NOTIFY_SOCKET", sa.sun_path, 1);
    setenv("WATCHDOG_USEC", "400000", 1);
    unsetenv("WATCHDOG_PID");
    return fd;
}

/* How many WATCHDOG=1 datagrams are waiting (and nothing else). */
static int pings(int fd) {
    char buf[256];
    ssize_t len;
    int n = 0;
    while ((len = recv(fd, buf, sizeof buf - 1, 0)) > 0) {
        buf[len] = '\0';
        cr_expect_str_eq(buf, "WATCHDOG=1");
        n++;
    }
    return n;
}

Test(notify, pings_only_while_the_reading_makes_progress) {
    int fd = fake_systemd();
    struct notify n;
    notify_init(&n);
    if (n.interval_ns == 0) { /* as live_notify.py: a build without libsystemd must be meant */
        const char *meant = getenv("SHAKEDOWN_NO_SYSTEMD");
        if (meant && strcmp(meant, "1") == 0)
            cr_skip_test("built without libsystemd, as SHAKEDOWN_NO_SYSTEMD=1 says");
        cr_assert_fail(
            "notify does nothing: built without libsystemd (set SHAKEDOWN_NO_SYSTEMD=1 if "
            "that build is the one meant)");
    }
    cr_assert_eq(n.interval_ns, 200 * MS, "half of WATCHDOG_USEC");
    notify_watchdog(&n, 1000 * MS, 1000 * MS); /* the first: due at once */
    cr_expect_eq(pings(fd), 1);
    notify_watchdog(&n, 1100 * MS, 1100 * MS); /* 100 ms later: not due yet */
    cr_expect_eq(pings(fd), 0);
    /* Due (200 ms after the last), but the reading's last progress is 450 ms old, more than
     * the whole 400 ms watchdog interval: a thread is stuck, no ping. */
    notify_watchdog(&n, 1250 * MS, 800 * MS);
    cr_expect_eq(pings(fd), 0);
    notify_watchdog(&n, 1400 * MS, 1300 * MS); /* progress 100 ms ago: alive again */
    cr_expect_eq(pings(fd), 1);
    notify_watchdog(&n, 1600 * MS, 1200 * MS); /* exactly the interval old: still alive */
    cr_expect_eq(pings(fd), 1);
    notify_watchdog(NULL, 2000 * MS, 2000 * MS); /* no watchdog at all */
    cr_expect_eq(pings(fd), 0);
    close(fd);
    unlink(getenv("NOTIFY_SOCKET"));
}

Test(notify, no_pings_for_another_process) {
    int fd = fake_systemd();
    setenv("WATCHDOG_PID", "1", 1); /* the watchdog is PID 1's, not ours */
    struct notify n;
    notify_init(&n);
    cr_expect_eq(n.interval_ns, 0);
    notify_watchdog(&n, 1000 * MS, 1000 * MS);
    cr_expect_eq(pings(fd), 0);
    close(fd);
    unlink(getenv("NOTIFY_SOCKET"));
}
