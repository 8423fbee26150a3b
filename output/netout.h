/* netout: what the network transports (syslog, Redis) share — a HOST:PORT target from the -o
 * URL, TCP connections with a time limit, whole writes, a record as a message, and the backoff
 * between attempts to reach a receiver that is down. */
#ifndef SHAKEDOWN_NETOUT_H
#define SHAKEDOWN_NETOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct netout_endpoint {
    char host[256]; /* a name or an address (an IPv6 address without its brackets) */
    char port[8];
    uint16_t port_number;
};

/* Parses "HOST:PORT" or "[V6ADDR]:PORT" from the first len bytes of s; false with a one-line
 * reason in err. */
bool netout_endpoint_parse(struct netout_endpoint *e, const char *s, size_t len, char *err,
                           size_t errlen);

/* A TCP connection to e (every address it resolves to, in turn), waiting at most timeout_ms
 * for each; the socket, or -1 with a one-line reason in err. */
int netout_connect(const struct netout_endpoint *e, int socktype, int timeout_ms, char *err,
                   size_t errlen);

/* Writes all of buf (MSG_NOSIGNAL: a vanished receiver is EPIPE, not a signal); false (errno
 * set) if the connection failed on the way. *sent: how many bytes the kernel took. */
bool netout_send_all(int fd, const char *buf, size_t len, size_t *sent);

/* A record as a message transport sends it, one record a message: *buf is moved past the lines
 * at its start that begin with '#' (-F zeek's header: #separator, #fields, #types …, or its
 * #close), and the length left, without the record's newline, is returned (0: nothing to send).
 * Those lines describe a log file, and a file reader (bro-cut) needs them; a message stands
 * alone, and a consumer that starts reading later would never see them. */
size_t netout_message(const char **buf, size_t len);

/* True if a connection whose peer never sends anything has been closed by it (EOF or an error
 * waiting to be read): a write into it would be taken by the kernel and lost. */
bool netout_peer_closed(int fd);

/* A link to a receiver that may go away, and the policy for reaching it again: after a
 * connection that carried records is lost, at once; after a failed attempt, 100 ms later,
 * doubling up to a second. Reading files (live false) the caller waits for the next attempt;
 * live, it skips attempts that are not due (and drops what it cannot send). Losing the receiver
 * and getting it back are each said once on stderr, naming what (e.g. "syslog receiver") and
 * target (the -o URL). */
struct netout_link {
    const char *what, *target;
    bool live;
    bool worked;        /* the current connection carried records */
    bool lost_reported; /* the loss was said; "connected again" is due */
    int64_t delay_ns;   /* the backoff after the last failed attempt (0: none failed) */
    int64_t next_ns;    /* capture_mono_ns(): no attempt before this */
};

/* Whether to attempt a connection now (reading files: after sleeping until it is due). */
bool netout_link_may_try(const struct netout_link *l);
/* An attempt failed: the next one waits longer. */
void netout_link_try_failed(struct netout_link *l);
/* Records went through on the connection; the first time after a loss, "connected again" is
 * said (not when the connection is made: a Redis server still loading its data accepts
 * connections and refuses every command until it is ready). */
void netout_link_worked(struct netout_link *l);
/* The connection failed (why: the reason, for stderr). */
void netout_link_lost(struct netout_link *l, const char *why);

#endif
