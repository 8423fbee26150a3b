/* transport_syslog: records as syslog messages, one record a message (its newline stripped).
 *   -o syslog://HOST:PORT      UDP, RFC 5424 (one datagram a record; RFC 5426)
 *   -o syslog+tcp://HOST:PORT  TCP, RFC 5424 in RFC 6587 octet-counting frames ("LEN SP MSG")
 *   -o syslog, syslog:///PATH  the local daemon's socket (/dev/log, or PATH), in the RFC 3164
 *                              form glibc's syslog(3) sends there
 * RFC 5424 header: <PRI>1 TIMESTAMP HOSTNAME shakedown PROCID MSGID - MSG, with MSGID the record
 * type and PRI = facility * 8 + severity (the facility from --syslog-facility, local5 unless
 * told; the severity from an anomaly's: docs/shakedown.1). A receiver that is down or goes away
 * is reached again with backoff: reading files, shakedown waits for it (nothing is dropped);
 * live, the records meanwhile are dropped and counted. Over UDP the only sign of a receiver that
 * is not there is its host's refusal (ICMP port unreachable): looked for at start (a probe) and
 * after every datagram. Over TCP, what a connection given up on still held unacknowledged is
 * counted lost. -F zeek's '#' lines (a file's header and #close) are not sent. */
#define _DEFAULT_SOURCE 1 /* gethostname, struct sockaddr_un */
#include <errno.h>
#include <linux/sockios.h> /* SIOCOUTQ */
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "netout.h"
#include "outbuf.h"
#include "transport.h"

/* ---- facilities and severities -------------------------------------------------------------- */

/* RFC 5424 §6.2.1, table 1, by the names syslog.conf gives them. */
static const char *const facility_names[24] = {
    "kern",   "user",   "mail",     "daemon", "auth",   "syslog",   "lpr",     "news",
    "uucp",   "cron",   "authpriv", "ftp",    "ntp",    "security", "console", "clock",
    "local0", "local1", "local2",   "local3", "local4", "local5",   "local6",  "local7",
};
enum { FACILITY_DEFAULT = 21 }; /* local5, as Suricata's syslog output */

int transport_syslog_facility(const char *name) {
    for (int i = 0; i < 24; i++)
        if (strcmp(name, facility_names[i]) == 0)
            return i;
    return -1;
}

void transport_syslog_facility_names(char *buf, size_t len, const char *sep) {
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < 24 && used < len; i++) {
        int n = snprintf(buf + used, len - used, "%s%s", i ? sep : "", facility_names[i]);
        used += n > 0 ? (size_t)n : 0;
    }
}

/* RFC 5424 §6.2.1 severities for the records: an anomaly's severity chooses one (high: error,
 * medium: warning, low: notice, info: informational); every other record is informational. */
static int severity_of(const struct transport_record *r) {
    static const int by_anomaly[] = {
        [SEVERITY_INFO] = 6, [SEVERITY_LOW] = 5, [SEVERITY_MEDIUM] = 4, [SEVERITY_HIGH] = 3};
    if (r->kind != TRANSPORT_RECORD_ANOMALY || (unsigned)r->severity > SEVERITY_HIGH)
        return 6;
    return by_anomaly[r->severity];
}

/* The MSGID: what the record is (RFC 5424 §6.2.7: at most 32 printable characters). */
static const char *msgid_of(const struct transport_record *r) {
    switch (r->kind) {
    case TRANSPORT_RECORD_ANOMALY:
        return "anomaly";
    case TRANSPORT_RECORD_STATS:
        return "stats";
    case TRANSPORT_RECORD_SUMMARY:
        return "summary";
    case TRANSPORT_RECORD_CONNECTION:
        break;
    }
    return "connection";
}

/* ---- what a TCP connection holds back ------------------------------------------------------ */

/* The sizes of the last messages sent whole on the current TCP connection, newest last. When
 * shakedown gives a connection up, the bytes its socket still holds unacknowledged (SIOCOUTQ)
 * never reach the receiver; they are mapped back to the messages they belong to, which are
 * counted lost (dropped) instead of written. The ring covers a socket buffer of many megabytes of
 * records; unacknowledged bytes beyond it (older messages) are counted at the mean size of the
 * messages it holds, rounded up. */
enum { SENT_RING = 16384 };

struct sent_ring {
    uint32_t size[SENT_RING];
    uint64_t n;     /* messages sent whole on this connection; the ring holds the last ones */
    uint64_t bytes; /* the sum of the sizes the ring holds */
};

static void sent_push(struct sent_ring *r, size_t len) {
    size_t i = (size_t)(r->n % SENT_RING);
    if (r->n >= SENT_RING)
        r->bytes -= r->size[i];
    r->size[i] = len < UINT32_MAX ? (uint32_t)len : UINT32_MAX;
    r->bytes += r->size[i];
    r->n++;
}

/* How many of the messages sent whole have a byte among the last `unacked` of the stream. */
static uint64_t sent_unacked(const struct sent_ring *r, uint64_t unacked) {
    uint64_t held = r->n < SENT_RING ? r->n : SENT_RING, count = 0;
    for (; count < held && unacked > 0; count++) {
        uint32_t size = r->size[(r->n - 1 - count) % SENT_RING];
        unacked -= size < unacked ? size : unacked;
    }
    if (unacked > 0 && held == SENT_RING) { /* older than the ring: at the mean size */
        uint64_t mean = r->bytes / held ? r->bytes / held : 1;
        count += (unacked + mean - 1) / mean;
    }
    return count < r->n ? count : r->n;
}

/* ---- the target ----------------------------------------------------------------------------- */

enum syslog_mode { SYSLOG_LOCAL, SYSLOG_UDP, SYSLOG_TCP };

struct syslog_out {
    enum syslog_mode mode;
    struct netout_endpoint ep; /* UDP, TCP */
    struct sockaddr_un local;  /* local */
    int fd;                    /* -1: not connected */
    int facility;
    long pid;
    char hostname[256];
    struct outbuf msg; /* the message being sent, with its frame */
    struct netout_link link;
    struct sent_ring *sent; /* TCP: what the connection carried */
    bool sent_datagram;     /* UDP: one was sent (a refusal found later is one of theirs) */
};

static bool syslog_accepts(const struct transport_options *opt) {
    const char *p = opt->path;
    return p && (strcmp(p, "syslog") == 0 || strncmp(p, "syslog://", 9) == 0 ||
                 strncmp(p, "syslog+tcp://", 13) == 0);
}

/* Fills in the mode and the address from the -o target. */
static bool parse_target(struct syslog_out *so, const char *p, char *err, size_t errlen) {
    const char *path = "/dev/log";
    if (strncmp(p, "syslog+tcp://", 13) == 0) {
        so->mode = SYSLOG_TCP;
        return netout_endpoint_parse(&so->ep, p + 13, strlen(p + 13), err, errlen);
    }
    if (strncmp(p, "syslog://", 9) == 0 && p[9] != '/') {
        so->mode = SYSLOG_UDP;
        return netout_endpoint_parse(&so->ep, p + 9, strlen(p + 9), err, errlen);
    }
    if (strncmp(p, "syslog://", 9) == 0)
        path = p + 9;
    so->mode = SYSLOG_LOCAL;
    so->local.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof so->local.sun_path) {
        snprintf(err, errlen, "%s: the socket path is too long", p);
        return false;
    }
    strcpy(so->local.sun_path, path);
    return true;
}

/* Live, a TCP receiver that accepts and then stops reading would otherwise hold the writer in
 * send() for good once the socket's buffer is full: records queue and are dropped (counted), but
 * the run could not end, its final records waiting behind the blocked one. A send that makes no
 * progress for this long fails with EAGAIN instead: the receiver is taken as lost and connected
 * to again (as Redis's one-second reply timeout does). */
#define SYSLOG_LIVE_SEND_TIMEOUT_S 1

/* How long shakedown listens at start for a UDP receiver's refusal of its probe: an ICMP port
 * unreachable is there at once from the same host, within a round trip across a network. */
#define SYSLOG_UDP_PROBE_MS 100

/* An error waiting on the socket (an ICMP refusal of a datagram sent earlier), cleared; 0 if
 * none. */
static int pending_error(int fd) {
    int e = 0;
    socklen_t len = sizeof e;
    return getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) == 0 ? e : errno;
}

/* A UDP receiver that is there does not answer: one that is not refuses. At start, an empty
 * datagram (no message: rsyslog, for one, takes it for nothing) and a moment to hear a refusal
 * of it; false with the reason in err. */
static bool udp_probe(int fd, char *err, size_t errlen) {
    int e = 0;
    if (send(fd, "", 0, MSG_NOSIGNAL) < 0) {
        e = errno;
    } else {
        struct pollfd p = {.fd = fd, .events = 0}; /* POLLERR comes whatever is asked */
        int n;
        do
            n = poll(&p, 1, SYSLOG_UDP_PROBE_MS);
        while (n < 0 && errno == EINTR);
        e = n > 0 ? pending_error(fd) : 0;
    }
    if (e)
        snprintf(err, errlen, "%s", strerror(e));
    return e == 0;
}

/* A connected socket to the receiver into so->fd; false with the reason in err. */
static bool syslog_connect(struct syslog_out *so, bool live, int timeout_ms, char *err,
                           size_t errlen) {
    if (so->mode != SYSLOG_LOCAL) {
        so->fd = netout_connect(&so->ep, so->mode == SYSLOG_TCP ? SOCK_STREAM : SOCK_DGRAM,
                                timeout_ms, err, errlen);
        if (so->fd >= 0 && live && so->mode == SYSLOG_TCP) {
            struct timeval tv = {SYSLOG_LIVE_SEND_TIMEOUT_S, 0};
            setsockopt(so->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        }
        if (so->sent)
            so->sent->n = so->sent->bytes = 0;
        return so->fd >= 0;
    }
    so->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (so->fd >= 0 && connect(so->fd, (struct sockaddr *)&so->local, sizeof so->local) == 0)
        return true;
    snprintf(err, errlen, "%s", strerror(errno));
    if (so->fd >= 0)
        close(so->fd);
    so->fd = -1;
    return false;
}

static void syslog_disconnect(struct syslog_out *so) {
    if (so->fd >= 0)
        close(so->fd);
    so->fd = -1;
}

/* Gives the TCP connection up after a failure. What its socket still holds unacknowledged, less
 * the `partial` bytes of the message being sent (sent again, or dropped, by the caller), never
 * reaches the receiver: the connection is reset rather than closed, so that the kernel does not
 * deliver it later either, and the messages it carries are counted lost. */
static void syslog_abandon(struct transport *t, struct syslog_out *so, size_t partial) {
    int unacked = 0;
    if (so->mode == SYSLOG_TCP && so->fd >= 0 && ioctl(so->fd, SIOCOUTQ, &unacked) == 0 &&
        unacked > 0) {
        uint64_t bytes = (uint64_t)unacked;
        t->lost += sent_unacked(so->sent, bytes > partial ? bytes - partial : 0);
        struct linger reset = {.l_onoff = 1, .l_linger = 0};
        setsockopt(so->fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    }
    syslog_disconnect(so);
}

/* The syslog_out for opt's target, its first connection made (UDP: not refused); NULL with the
 * reason in err. */
static struct syslog_out *syslog_start(const struct transport_options *opt, char *err,
                                       size_t errlen) {
    struct syslog_out *so = calloc(1, sizeof *so);
    if (!so) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    so->fd = -1;
    so->facility =
        opt->syslog_facility ? transport_syslog_facility(opt->syslog_facility) : FACILITY_DEFAULT;
    so->pid = (long)getpid();
    if (gethostname(so->hostname, sizeof so->hostname - 1) != 0 || !so->hostname[0])
        strcpy(so->hostname, "-");
    for (char *c = so->hostname; *c; c++) /* RFC 5424 §6.2.4: PRINTUSASCII, no spaces */
        if (*c <= ' ' || *c > '~')
            *c = '-';
    so->link =
        (struct netout_link){.what = "syslog receiver", .target = opt->path, .live = opt->live};
    char why[256];
    if (so->facility < 0) {
        snprintf(err, errlen, "unknown syslog facility '%s'", opt->syslog_facility);
    } else if (!parse_target(so, opt->path, why, sizeof why)) {
        snprintf(err, errlen, "-o %s: %s", opt->path, why);
    } else if (so->mode == SYSLOG_TCP && !(so->sent = calloc(1, sizeof *so->sent))) {
        snprintf(err, errlen, "out of memory");
    } else if (syslog_connect(so, opt->live, 5000, why, sizeof why) &&
               (so->mode != SYSLOG_UDP || udp_probe(so->fd, why, sizeof why))) {
        return so;
    } else if (so->mode == SYSLOG_LOCAL) {
        snprintf(err, errlen, "cannot reach the local syslog socket %s: %s", so->local.sun_path,
                 why);
    } else {
        snprintf(err, errlen, "cannot reach the syslog receiver %s: %s", opt->path, why);
    }
    syslog_disconnect(so);
    free(so->sent);
    free(so);
    return NULL;
}

static bool syslog_open(struct transport *t, char *err, size_t errlen) {
    t->own = syslog_start(&t->opt, err, errlen);
    return t->own != NULL;
}

/* ---- messages ------------------------------------------------------------------------------- */

/* The whole message for the record rec (len bytes, its newline stripped) into so->msg. */
static void syslog_format(struct syslog_out *so, const struct transport_record *rec,
                          const char *buf, size_t len) {
    struct timespec now;
    struct tm tm;
    char stamp[64] = "-";
    clock_gettime(CLOCK_REALTIME, &now);
    int pri = so->facility * 8 + severity_of(rec);
    outbuf_reset(&so->msg);
    if (so->mode == SYSLOG_LOCAL) { /* <PRI>Mmm dd hh:mm:ss TAG[PID]: MSG, as syslog(3) sends */
        if (localtime_r(&now.tv_sec, &tm))
            strftime(stamp, sizeof stamp, "%b %e %H:%M:%S", &tm);
        outbuf_printf(&so->msg, "<%d>%s shakedown[%ld]: ", pri, stamp, so->pid);
        outbuf_append(&so->msg, buf, len);
        return;
    }
    if (gmtime_r(&now.tv_sec, &tm)) { /* RFC 5424 §6.2.3: RFC 3339, UTC, microseconds */
        strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
        size_t n = strlen(stamp);
        snprintf(stamp + n, sizeof stamp - n, ".%06ldZ", now.tv_nsec / 1000);
    }
    char head[512];
    int hl = snprintf(head, sizeof head, "<%d>1 %s %s shakedown %ld %s - ", pri, stamp,
                      so->hostname, so->pid, msgid_of(rec));
    size_t headlen = hl > 0 ? (size_t)hl : 0;
    if (so->mode == SYSLOG_TCP) /* RFC 6587 §3.4.1: MSG-LEN SP SYSLOG-MSG */
        outbuf_printf(&so->msg, "%zu ", headlen + len);
    outbuf_append(&so->msg, head, headlen);
    outbuf_append(&so->msg, buf, len);
}

/* True for a failure that another connection (a restarted receiver) may not have. */
static bool retryable(int e) {
    return e == ECONNREFUSED || e == ECONNRESET || e == EPIPE || e == ENOTCONN || e == ENOENT ||
           e == ETIMEDOUT || e == EHOSTUNREACH || e == ENETUNREACH || e == ECONNABORTED ||
           e == EAGAIN || e == ENOBUFS;
}

/* ---- UDP ------------------------------------------------------------------------------------ */

/* One datagram, and a look for its refusal right after: from the same host the ICMP error is
 * there by the time send returns; across a network it comes a round trip later, and is found
 * after a later datagram or fails that one's send. Returns 0, or the error: the receiver
 * refuses or cannot be reached (retryable), or the datagram can never be sent (EMSGSIZE). A
 * refusal that failed the send is an earlier datagram's: that one is counted lost. */
static int udp_send(struct transport *t, struct syslog_out *so) {
    if (send(so->fd, so->msg.data, so->msg.len, MSG_NOSIGNAL) >= 0)
        return pending_error(so->fd);
    int e = errno;
    if (e == ECONNREFUSED && so->sent_datagram)
        t->lost++;
    return e;
}

/* Reading files, a refused datagram is sent again (with backoff) until one is not refused;
 * live, it is dropped, and so are the records after it until the next attempt is due. The link
 * keeps the refusing state (netout.h): lost until a datagram goes through, with backoff. */
static bool udp_write(struct transport *t, struct syslog_out *so) {
    for (;;) {
        if (!netout_link_may_try(&so->link)) {
            errno = ENOTCONN;
            return false;
        }
        int e = udp_send(t, so);
        if (e == 0) {
            netout_link_worked(&so->link);
            so->sent_datagram = true;
            t->bytes += so->msg.len;
            return true;
        }
        if (!retryable(e)) {
            errno = e;
            return false;
        }
        netout_link_lost(&so->link, strerror(e));
        if (t->opt.live) {
            errno = ENOTCONN; /* dropped, as for a TCP receiver that is down */
            return false;
        }
    }
}

/* ---- TCP and the local socket --------------------------------------------------------------- */

/* One attempt at sending the message on the connection there is; false (errno set) if it was
 * not sent, *partial: the bytes of it the kernel took. A TCP receiver never speaks, so a
 * readable socket means it has gone: writing into it would hand the message to a connection
 * nobody reads. */
static bool syslog_send(struct syslog_out *so, size_t *partial) {
    *partial = 0;
    if (so->mode == SYSLOG_TCP && netout_peer_closed(so->fd)) {
        errno = ECONNRESET;
        return false;
    }
    if (so->mode == SYSLOG_TCP) {
        bool sent = netout_send_all(so->fd, so->msg.data, so->msg.len, partial);
        if (sent)
            sent_push(so->sent, so->msg.len);
        return sent;
    }
    ssize_t n = send(so->fd, so->msg.data, so->msg.len, MSG_NOSIGNAL);
    return n >= 0 && (size_t)n == so->msg.len;
}

/* Connects again if the backoff allows (reading files: after waiting for it). */
static bool syslog_reconnect(struct transport *t, struct syslog_out *so) {
    char why[256];
    if (!netout_link_may_try(&so->link))
        return false;
    if (!syslog_connect(so, t->opt.live, t->opt.live ? 200 : 5000, why, sizeof why)) {
        netout_link_try_failed(&so->link);
        return false;
    }
    return true;
}

/* Reading files, tries until the message is sent; live, gives up (the record is lost) when the
 * receiver cannot be reached at once. */
static bool stream_write(struct transport *t, struct syslog_out *so) {
    for (int attempt = 0;; attempt++) {
        if (so->fd < 0 && !syslog_reconnect(t, so)) {
            if (t->opt.live) {
                errno = ENOTCONN;
                return false;
            }
            continue;
        }
        size_t partial;
        if (syslog_send(so, &partial)) {
            netout_link_worked(&so->link);
            t->bytes += so->msg.len;
            return true;
        }
        int e = errno;
        if (!retryable(e))
            return false;
        syslog_abandon(t, so, partial);
        netout_link_lost(&so->link, strerror(e));
        if (t->opt.live && attempt > 0) {
            errno = ENOTCONN; /* the receiver, not the output, is gone: dropped (EPIPE here
                               * would read as shakedown's own reader gone, ending the run) */
            return false;
        }
    }
}

/* One record a message; a record that is only a log file's '#' lines (-F zeek's #close) sends
 * nothing (netout_message). */
static bool syslog_write(struct transport *t, const char *buf, size_t len) {
    struct syslog_out *so = t->own;
    len = netout_message(&buf, len);
    if (len == 0)
        return true;
    syslog_format(so, &t->record, buf, len);
    if (outbuf_failed(&so->msg)) {
        errno = ENOMEM;
        return false;
    }
    return so->mode == SYSLOG_UDP ? udp_write(t, so) : stream_write(t, so);
}

static bool syslog_close(struct transport *t) {
    struct syslog_out *so = t->own;
    syslog_disconnect(so);
    outbuf_free(&so->msg);
    free(so->sent);
    free(so);
    t->own = NULL;
    return true;
}

extern const struct transport_ops output_transport_syslog;
const struct transport_ops output_transport_syslog = {
    .name = "syslog",
    .accepts = syslog_accepts,
    .open = syslog_open,
    .write = syslog_write,
    .close = syslog_close,
};
