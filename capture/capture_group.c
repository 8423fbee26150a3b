/* capture_group: one live interface read through several sockets joined in one PACKET_FANOUT
 * group (--workers N on -i), one socket per analysis thread. The kernel splits the traffic by
 * connection; this file forms the group so that no packet reaches two sockets, and adds up the
 * sockets' counters. */
#include "capture.h"

#include <stdlib.h>
#include <string.h>

struct capture_group {
    unsigned n;
    struct capture **member;
    struct capture_stats *base; /* each socket's counters when the group was complete */
};

void capture_group_close(struct capture_group *g) {
    if (!g)
        return;
    for (unsigned i = 0; i < g->n; i++)
        capture_close(g->member[i]);
    free(g->member);
    free(g->base);
    free(g);
}

/* Until a socket joins, it has a packet hook of its own on the interface and takes a copy of
 * every packet; only once every socket has joined does each packet reach exactly one of them.
 * So what the sockets hold then may be copies of one another's, and is read out and discarded
 * (uncounted: the capture starts here, before the "listening on" banner), and each socket's
 * counters start from here too. A packet may still arrive between the last join and the drain
 * of a socket and be discarded with the rest: it came before the capture started. */
static void group_start(struct capture_group *g) {
    for (unsigned i = 0; i < g->n; i++) {
        capture_drain(g->member[i]);
        if (!capture_get_stats(g->member[i], &g->base[i]))
            memset(&g->base[i], 0, sizeof g->base[i]);
    }
}

struct capture_group *capture_open_group(const struct capture_live_options *o, unsigned n,
                                         const char *filter, char *err, size_t errlen) {
    struct capture_group *g = calloc(1, sizeof *g);
    if (g) {
        g->member = calloc(n, sizeof *g->member);
        g->base = calloc(n, sizeof *g->base);
    }
    if (!g || !g->member || !g->base || n == 0) {
        snprintf(err, errlen, n == 0 ? "no sockets asked for" : "out of memory");
        capture_group_close(g);
        return NULL;
    }
    int id = -1; /* the first join creates the group */
    char why[512];
    bool ok = true;
    for (g->n = 0; g->n < n && ok; g->n++) {
        g->member[g->n] = capture_open_live(o, filter, err, errlen);
        if (!g->member[g->n])
            break;
        if (!capture_fanout_join(g->member[g->n], &id, why, sizeof why)) {
            snprintf(err, errlen, "socket %u of %u: %s", g->n + 1, n, why);
            ok = false;
        }
    }
    if (!ok || g->n < n) {
        capture_group_close(g);
        return NULL;
    }
    group_start(g);
    return g;
}

unsigned capture_group_size(const struct capture_group *g) {
    return g->n;
}

struct capture *capture_group_member(struct capture_group *g, unsigned i) {
    return g->member[i];
}

/* libpcap's counters are unsigned ints on Linux (they wrap at 2^32): the difference is taken in
 * that width, so one wrap since the start is still right. */
static uint64_t since(uint64_t now, uint64_t base) {
    return (uint32_t)((uint32_t)now - (uint32_t)base);
}

bool capture_group_member_stats(struct capture_group *g, unsigned i, struct capture_stats *st) {
    struct capture_stats now;
    if (!capture_get_stats(g->member[i], &now))
        return false;
    st->received = since(now.received, g->base[i].received);
    st->dropped = since(now.dropped, g->base[i].dropped);
    st->if_dropped = since(now.if_dropped, g->base[i].if_dropped);
    return true;
}

bool capture_group_stats(struct capture_group *g, struct capture_stats *st) {
    memset(st, 0, sizeof *st);
    for (unsigned i = 0; i < g->n; i++) {
        struct capture_stats one;
        if (!capture_group_member_stats(g, i, &one))
            return false;
        capture_stats_add(st, &one);
    }
    return true;
}
