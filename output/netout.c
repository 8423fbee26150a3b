/* netout: HOST:PORT targets, connections with a time limit, whole writes, records as messages,
 * backoff. */
#define _DEFAULT_SOURCE 1 /* struct addrinfo, getaddrinfo */
#include "netout.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "capture.h" /* capture_mono_ns */

bool netout_endpoint_parse(struct netout_endpoint *e, const char *s, size_t len, char *err,
                           size_t errlen) {
    memset(e, 0, sizeof *e);
    const char *end = s + len, *colon;
    const char *host = s, *host_end;
    if (len > 0 && s[0] == '[') { /* [2001:db8::1]:514 */
        host = s + 1;
        host_end = memchr(host, ']', (size_t)(end - host));
        colon = host_end && host_end + 1 < end && host_end[1] == ':' ? host_end + 1 : NULL;
    } else {
        colon = memchr(s, ':', len);
        host_end = colon;
    }
    if (!colon || host_end == host || (size_t)(host_end - host) >= sizeof e->host) {
        snprintf(err, errlen, "'%.*s' is not HOST:PORT", (int)len, s);
        return false;
    }
    char *pend;
    errno = 0;
    unsigned long port = strtoul(colon + 1, &pend, 10);
    if (pend != end || colon + 1 == end || colon[1] == '-' || errno || port == 0 || port > 65535) {
        snprintf(err, errlen, "'%.*s': the port must be a number from 1 to 65535", (int)len, s);
        return false;
    }
    memcpy(e->host, host, (size_t)(host_end - host));
    snprintf(e->port, sizeof e->port, "%lu", port);
    e->port_number = (uint16_t)port;
    return true;
}

/* connect() on a non-blocking socket, then poll for at most timeout_ms. */
static bool connect_within(int fd, const struct sockaddr *sa, socklen_t salen, int timeout_ms) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return false;
    int rc = connect(fd, sa, salen);
    if (rc != 0 && errno == EINPROGRESS) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int n;
        do
            n = poll(&p, 1, timeout_ms);
        while (n < 0 && errno == EINTR);
        if (n == 0)
            errno = ETIMEDOUT;
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (n > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0)
            errno = soerr;
        rc = n > 0 && soerr == 0 ? 0 : -1;
    }
    if (rc != 0)
        return false;
    return fcntl(fd, F_SETFL, flags) == 0;
}

int netout_connect(const struct netout_endpoint *e, int socktype, int timeout_ms, char *err,
                   size_t errlen) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = socktype}, *res;
    int gai = getaddrinfo(e->host, e->port, &hints, &res);
    if (gai != 0) {
        snprintf(err, errlen, "%s", gai_strerror(gai));
        return -1;
    }
    int fd = -1, saved = 0;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd >= 0 && !connect_within(fd, ai->ai_addr, ai->ai_addrlen, timeout_ms)) {
            saved = errno;
            close(fd);
            fd = -1;
        } else if (fd < 0) {
            saved = errno;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(err, errlen, "%s", strerror(saved));
    return fd;
}

bool netout_send_all(int fd, const char *buf, size_t len, size_t *sent) {
    *sent = 0;
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        buf += n;
        len -= (size_t)n;
        *sent += (size_t)n;
    }
    return true;
}

size_t netout_message(const char **buf, size_t len) {
    const char *p = *buf, *end = p + len;
    while (p < end && *p == '#') {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        p = nl ? nl + 1 : end;
    }
    *buf = p;
    if (p < end && end[-1] == '\n')
        end--;
    return (size_t)(end - p);
}

bool netout_peer_closed(int fd) {
    char c;
    ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

enum { BACKOFF_FIRST_NS = 100000000, BACKOFF_MAX_NS = 1000000000 };

bool netout_link_may_try(const struct netout_link *l) {
    int64_t left = l->delay_ns ? l->next_ns - capture_mono_ns() : 0;
    if (left <= 0)
        return true;
    if (l->live)
        return false;
    struct timespec ts = {(time_t)(left / 1000000000), (long)(left % 1000000000)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
    return true;
}

void netout_link_try_failed(struct netout_link *l) {
    l->delay_ns = l->delay_ns ? l->delay_ns * 2 : BACKOFF_FIRST_NS;
    if (l->delay_ns > BACKOFF_MAX_NS)
        l->delay_ns = BACKOFF_MAX_NS;
    l->next_ns = capture_mono_ns() + l->delay_ns;
}

void netout_link_worked(struct netout_link *l) {
    if (l->lost_reported)
        fprintf(stderr, "shakedown: %s %s: connected again\n", l->what, l->target);
    l->lost_reported = false;
    l->worked = true;
    l->delay_ns = 0;
}

void netout_link_lost(struct netout_link *l, const char *why) {
    if (!l->lost_reported)
        fprintf(stderr, "shakedown: %s %s: %s; %s\n", l->what, l->target, why,
                l->live ? "records are dropped and counted until it is back" : "waiting for it");
    l->lost_reported = true;
    if (l->worked)
        l->delay_ns = 0;
    else
        netout_link_try_failed(l);
    l->worked = false;
}
