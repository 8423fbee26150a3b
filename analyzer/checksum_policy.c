/* checksum_policy: the --checksums verdict for each packet, and the per-source table of `auto`
 * (open addressing over a fixed array, probed CHECKSUM_POLICY_PROBE slots at most: every call is
 * O(1) and nothing is allocated after checksum_policy_new). Several threads of one run judge
 * through the run's table under its lock, each keeping the sources already decided in a table of
 * its own, read without the lock. */
#include "checksum_policy.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct checksum_source {
    uint8_t addr[16];   /* IPv4 in the first 4 bytes, the rest zero */
    uint8_t ip_version; /* 0: a free entry */
    bool offloading;
    uint16_t checked; /* checksummed packets of the window, up to CHECKSUM_POLICY_WINDOW */
    uint16_t bad;     /* of them, bad */
};

struct checksum_policy {
    enum checksum_mode mode;
    uint32_t capacity, count; /* capacity: 0 unless auto */
    uint64_t untracked;
    /* A thread's policy: the run's, where its sources are judged (under run->lock) until they
     * are decided; sources[] then holds the decided ones, copied from the run's table. */
    struct checksum_policy *run;
    pthread_mutex_t lock;             /* the run's policy: taken by its threads' policies */
    struct checksum_source sources[]; /* capacity entries, allocated with the policy */
};

struct checksum_policy *checksum_policy_new(enum checksum_mode mode, uint32_t sources) {
    uint32_t n = mode != CHECKSUM_MODE_AUTO ? 0 : sources ? sources : 1;
    struct checksum_policy *cp = calloc(1, sizeof *cp + (size_t)n * sizeof cp->sources[0]);
    if (!cp)
        return NULL;
    if (pthread_mutex_init(&cp->lock, NULL) != 0) {
        free(cp);
        return NULL;
    }
    cp->mode = mode;
    cp->capacity = n;
    return cp;
}

struct checksum_policy *checksum_policy_new_thread(struct checksum_policy *run, uint32_t sources) {
    struct checksum_policy *cp = checksum_policy_new(run->mode, sources);
    if (cp)
        cp->run = run;
    return cp;
}

void checksum_policy_free(struct checksum_policy *cp) {
    if (!cp)
        return;
    pthread_mutex_destroy(&cp->lock);
    free(cp);
}

bool checksum_mode_verifies(enum checksum_mode mode) {
    return mode != CHECKSUM_MODE_OFF;
}

/* A multiplicative mix of the address's two halves and its version (an IPv4 address is its
 * first 4 bytes only, whatever follows them), brought into [0, capacity) by a multiply and a
 * shift rather than a division: this runs for every packet. The address is read where the
 * packet has it, long written, not from a key just built on the stack (a store the load would
 * have to wait for). */
static uint32_t source_slot(const struct checksum_policy *cp, const uint8_t *addr,
                            uint8_t ip_version) {
    uint64_t lo = 0, hi = 0;
    if (ip_version == 4) {
        uint32_t v4;
        memcpy(&v4, addr, 4);
        lo = v4;
    } else {
        memcpy(&lo, addr, 8);
        memcpy(&hi, addr + 8, 8);
    }
    uint64_t h = (lo ^ (hi * 0x9e3779b97f4a7c15ull) ^ ip_version) * 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return (uint32_t)(((h >> 32) * cp->capacity) >> 32);
}

/* An entry whose window ended with the source not offloading: nothing left to decide for it. */
static bool source_settled(const struct checksum_source *e) {
    return e->checked >= CHECKSUM_POLICY_WINDOW && !e->offloading;
}

/* The entry of key's source, whose slot is i: found within the probe, or a free or settled entry
 * there taken over for it; NULL when the neighbourhood has neither. Entries are never freed, so a
 * free slot ends the search: the source is nowhere beyond it. */
static struct checksum_source *source_get(struct checksum_policy *cp,
                                          const struct checksum_source *key, uint32_t i) {
    uint32_t probe = cp->capacity < CHECKSUM_POLICY_PROBE ? cp->capacity : CHECKSUM_POLICY_PROBE;
    struct checksum_source *reuse = NULL;
    for (uint32_t n = 0; n < probe; n++) {
        struct checksum_source *e = &cp->sources[i];
        if (e->ip_version == 0) {
            if (!reuse) {
                reuse = e;
                cp->count++;
            }
            break;
        }
        if (e->ip_version == key->ip_version && memcmp(e->addr, key->addr, 16) == 0)
            return e;
        if (!reuse && source_settled(e))
            reuse = e;
        if (++i == cp->capacity)
            i = 0;
    }
    if (reuse)
        *reuse = *key;
    return reuse;
}

/* The key of p's source. */
static struct checksum_source source_key(const struct packet *p) {
    struct checksum_source key = {.ip_version = p->ip_version};
    memcpy(key.addr, p->src, p->ip_version == 4 ? 4 : 16);
    return key;
}

/* Whether the entry's verdict is final: offloading, or its window ended without it. */
static bool source_decided(const struct checksum_source *e) {
    return e->offloading || e->checked >= CHECKSUM_POLICY_WINDOW;
}

/* A packet of a source the full table could not track. */
static enum checksum_verdict judge_untracked(struct checksum_policy *cp, enum checksum_state cs) {
    cp->untracked++;
    return cs == CHECKSUM_BAD ? CHECKSUM_VERDICT_DROP : CHECKSUM_VERDICT_ANALYSE;
}

/* Counts the packet in its source's window (entry e) and decides. */
static enum checksum_verdict judge_source(struct checksum_source *e, enum checksum_state cs,
                                          struct checksum_source_counts *counts) {
    if (e->offloading)
        return CHECKSUM_VERDICT_ANALYSE;
    if (e->checked < CHECKSUM_POLICY_WINDOW) {
        e->checked++;
        e->bad = (uint16_t)(e->bad + (cs == CHECKSUM_BAD));
    }
    if (cs != CHECKSUM_BAD)
        return CHECKSUM_VERDICT_ANALYSE;
    /* bad only grows inside the window, so this is "more than 10 % of the first WINDOW", known
     * for certain as soon as the (BAD_MAX + 1)th bad packet of the window arrives. */
    if (e->bad <= CHECKSUM_POLICY_BAD_MAX)
        return CHECKSUM_VERDICT_DROP;
    e->offloading = true;
    if (counts)
        *counts = (struct checksum_source_counts){.checked = e->checked, .bad = e->bad};
    return CHECKSUM_VERDICT_SWITCHED;
}

/* auto, one thread: the packet judged in its source's entry of cp's own table. */
static enum checksum_verdict judge_auto(struct checksum_policy *cp, const struct packet *p,
                                        enum checksum_state cs,
                                        struct checksum_source_counts *counts) {
    struct checksum_source key = source_key(p);
    struct checksum_source *e = source_get(cp, &key, source_slot(cp, p->src, p->ip_version));
    return e ? judge_source(e, cs, counts) : judge_untracked(cp, cs);
}

/* auto, one thread of several: a source this thread knows to be decided is judged from its own
 * entry, without the lock (the per-packet path of a source once its window is over, or it
 * offloads); any other is judged in the run's table under its lock — so each source is counted
 * once for the run, and switched (said) once — and the run's entry copied into this thread's.
 * Should the run's table later reuse a settled source's entry, a thread that copied the verdict
 * keeps it while the source may start a new window in the run's table. */
static enum checksum_verdict judge_in_run(struct checksum_policy *cp, const struct packet *p,
                                          enum checksum_state cs,
                                          struct checksum_source_counts *counts) {
    struct checksum_source key = source_key(p);
    struct checksum_source *mine = source_get(cp, &key, source_slot(cp, p->src, p->ip_version));
    if (mine && source_decided(mine))
        return judge_source(mine, cs, counts); /* counts nothing: the window is over */
    struct checksum_policy *run = cp->run;
    pthread_mutex_lock(&run->lock);
    struct checksum_source *e = source_get(run, &key, source_slot(run, p->src, p->ip_version));
    enum checksum_verdict v = e ? judge_source(e, cs, counts) : judge_untracked(run, cs);
    if (e && mine)
        *mine = *e;
    pthread_mutex_unlock(&run->lock);
    return v;
}

enum checksum_verdict checksum_policy_judge(struct checksum_policy *cp, const struct packet *p,
                                            enum checksum_state cs,
                                            struct checksum_source_counts *counts) {
    switch (cp->mode) {
    case CHECKSUM_MODE_AUTO:
        if (cs == CHECKSUM_UNVERIFIED || (p->ip_version != 4 && p->ip_version != 6))
            return CHECKSUM_VERDICT_ANALYSE;
        return cp->run ? judge_in_run(cp, p, cs, counts) : judge_auto(cp, p, cs, counts);
    case CHECKSUM_MODE_DROP:
        return cs == CHECKSUM_BAD || cs == CHECKSUM_OFFLOADED ? CHECKSUM_VERDICT_DROP
                                                              : CHECKSUM_VERDICT_ANALYSE;
    case CHECKSUM_MODE_KEEP:
    case CHECKSUM_MODE_OFF:
        break;
    }
    return CHECKSUM_VERDICT_ANALYSE;
}

uint64_t checksum_policy_untracked(const struct checksum_policy *cp) {
    return cp->untracked;
}

uint32_t checksum_policy_sources(const struct checksum_policy *cp) {
    return cp->count;
}

size_t checksum_policy_memory(const struct checksum_policy *cp) {
    return sizeof *cp + (size_t)cp->capacity * sizeof cp->sources[0];
}
