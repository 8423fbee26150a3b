/* stats: per-packet accounting for the run summary; with the inline counters of stats.h, the only
 * code that writes a struct run_stats. Counting is a handful of increments: no allocation. */
#include "stats.h"

#include <string.h>

#include "capture.h"
#include "tracker.h"

static void counter_add(struct counter *c, uint32_t bytes) {
    c->packets++;
    c->bytes += bytes;
}

static bool ts_before(int64_t a_sec, uint32_t a_nsec, int64_t b_sec, uint32_t b_nsec) {
    return a_sec < b_sec || (a_sec == b_sec && a_nsec < b_nsec);
}

void stats_count_read(struct run_stats *s, const struct packet *p) {
    counter_add(&s->read, p->wirelen);
    /* Earliest and latest, not first and last: files may be given out of order. */
    if (!s->have_ts || ts_before(p->ts_sec, p->ts_nsec, s->first_sec, s->first_nsec)) {
        s->first_sec = p->ts_sec;
        s->first_nsec = p->ts_nsec;
    }
    if (!s->have_ts || ts_before(s->last_sec, s->last_nsec, p->ts_sec, p->ts_nsec)) {
        s->last_sec = p->ts_sec;
        s->last_nsec = p->ts_nsec;
    }
    s->have_ts = true;
}

static enum checksum_layer checksum_layer_of(enum transport_proto t) {
    switch (t) {
    case TRANSPORT_TCP:
        return CHECKSUM_LAYER_TCP;
    case TRANSPORT_UDP:
        return CHECKSUM_LAYER_UDP;
    case TRANSPORT_ICMP:
        return CHECKSUM_LAYER_ICMP;
    default:
        return CHECKSUM_LAYER_ICMPV6;
    }
}

/* Counts one layer's checksum; returns the worse of it and the packet's state so far. */
static enum checksum_state count_checksum(struct checksum_counts *n, enum checksum_state c,
                                          enum checksum_state so_far) {
    static const uint8_t rank[] = {[CHECKSUM_UNVERIFIED] = 0,
                                   [CHECKSUM_GOOD] = 1,
                                   [CHECKSUM_OFFLOADED] = 2,
                                   [CHECKSUM_BAD] = 3};
    if (c == CHECKSUM_GOOD)
        n->good++;
    else if (c == CHECKSUM_BAD)
        n->bad++;
    else if (c == CHECKSUM_OFFLOADED)
        n->offloaded++;
    return rank[c] > rank[so_far] ? c : so_far;
}

enum checksum_state stats_count_decoded(struct run_stats *s, const struct packet *p,
                                        enum decode_status st) {
    counter_add(&s->link[link_kind_of(p->link)], p->wirelen);
    if (p->net != NET_NONE)
        counter_add(&s->net[p->net], p->wirelen);
    if (p->transport != TRANSPORT_NONE)
        counter_add(&s->transport[p->transport], p->wirelen);
    if (st != DECODE_OK) {
        s->decode_errors[st]++;
        return CHECKSUM_UNVERIFIED;
    }
    if (p->truncated)
        s->truncated++;
    if (p->transport == TRANSPORT_TCP && p->tcp.opt.malformed)
        s->tcp_options_malformed++;
    enum checksum_state cs =
        count_checksum(&s->checksums[CHECKSUM_LAYER_IPV4], p->ip_checksum, CHECKSUM_UNVERIFIED);
    return count_checksum(&s->checksums[checksum_layer_of(p->transport)], p->l4_checksum, cs);
}

void stats_note_offload_source(struct run_stats *s, const struct packet *p) {
    if (s->offload_source_count < STATS_MAX_OFFLOAD_SOURCES) {
        struct stats_source *src = &s->offload_sources[s->offload_source_count];
        src->ip_version = p->ip_version;
        memcpy(src->addr, p->src, sizeof src->addr);
    }
    s->offload_source_count++;
}

void stats_count_conn(struct run_stats *s, const struct conn *c) {
    struct conn_totals *t = &s->conns;
    t->reported++;
    if (c->e.key.proto == 6)
        t->tcp++;
    else if (c->e.key.proto == 17)
        t->udp++;
    else
        t->icmp++;
    t->by_end[c->end]++;
    t->by_state[conn_zeek_state(c)]++;
    if (conn_one_sided(c))
        t->one_sided++;
}

void stats_note_tracker(struct run_stats *s, const struct tracker_counts *tc) {
    s->conns.late_packets = tc->late_packets;
    s->conns.untracked_packets = tc->untracked_packets;
    s->conns.peak_open = tc->peak_open;
    for (unsigned a = 0; a < ANOMALY_COUNT; a++)
        s->conns.anomalies[a] = tc->anomalies[a];
    s->conns.anomaly_events_folded = tc->folded_events;
    s->conns.anomaly_aggregates = tc->aggregates;
}

void stats_note_capture(struct run_stats *s, const struct capture_stats *cs) {
    s->have_capture_stats = true;
    s->capture_received = cs->received;
    s->capture_dropped = cs->dropped;
    s->capture_if_dropped = cs->if_dropped;
}

void stats_set_shard(struct run_stats *s, uint32_t index, uint32_t count) {
    s->shard_index = index;
    s->shard_count = count;
}

void stats_set_outputs(struct run_stats *s, const struct output_account *a, size_t n) {
    s->outputs = a;
    s->noutputs = n;
}

void stats_note_checksum_untracked(struct run_stats *s, uint64_t packets) {
    s->checksum_untracked = packets;
}

void stats_set_records_lost(struct run_stats *s, uint64_t lost) {
    s->records_lost = lost;
}

void stats_set_rotations_failed(struct run_stats *s, uint64_t failed) {
    s->rotations_failed = failed;
}

uint64_t stats_decode_error_total(const struct run_stats *s) {
    uint64_t n = 0;
    for (unsigned i = 0; i < DECODE_STATUS_COUNT; i++)
        n += s->decode_errors[i];
    return n;
}

const char *checksum_layer_name(enum checksum_layer l) {
    static const char *const names[CHECKSUM_LAYER_COUNT] = {"ipv4", "tcp", "udp", "icmp", "icmpv6"};
    return (unsigned)l < CHECKSUM_LAYER_COUNT ? names[l] : "unknown";
}

const char *input_status_name(enum input_status s) {
    switch (s) {
    case INPUT_OK:
        return "ok";
    case INPUT_DAMAGED:
        return "damaged";
    case INPUT_UNREADABLE:
        return "unreadable";
    }
    return "unknown";
}
