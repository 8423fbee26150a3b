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

static void counters_merge(struct counter *into, const struct counter *from, unsigned n) {
    for (unsigned i = 0; i < n; i++) {
        into[i].packets += from[i].packets;
        into[i].bytes += from[i].bytes;
    }
}

static void u64_merge(uint64_t *into, const uint64_t *from, unsigned n) {
    for (unsigned i = 0; i < n; i++)
        into[i] += from[i];
}

static void conns_merge(struct conn_totals *into, const struct conn_totals *from) {
    into->reported += from->reported;
    into->tcp += from->tcp;
    into->udp += from->udp;
    into->icmp += from->icmp;
    u64_merge(into->by_end, from->by_end, CONN_END_COUNT);
    u64_merge(into->by_state, from->by_state, ZEEK_CONN_STATE_COUNT);
    into->one_sided += from->one_sided;
    into->late_packets += from->late_packets;
    into->untracked_packets += from->untracked_packets;
    into->peak_open += from->peak_open;
    u64_merge(into->anomalies, from->anomalies, ANOMALY_COUNT);
    into->anomaly_events_folded += from->anomaly_events_folded;
    into->anomaly_aggregates += from->anomaly_aggregates;
}

static void times_merge(struct run_stats *into, const struct run_stats *from) {
    if (!from->have_ts)
        return;
    if (!into->have_ts ||
        ts_before(from->first_sec, from->first_nsec, into->first_sec, into->first_nsec)) {
        into->first_sec = from->first_sec;
        into->first_nsec = from->first_nsec;
    }
    if (!into->have_ts ||
        ts_before(into->last_sec, into->last_nsec, from->last_sec, from->last_nsec)) {
        into->last_sec = from->last_sec;
        into->last_nsec = from->last_nsec;
    }
    into->have_ts = true;
}

void stats_add_checksums(struct checksum_counts *into, const struct checksum_counts *from) {
    for (unsigned i = 0; i < CHECKSUM_LAYER_COUNT; i++) {
        into[i].good += from[i].good;
        into[i].bad += from[i].bad;
        into[i].offloaded += from[i].offloaded;
    }
}

void stats_merge(struct run_stats *into, const struct run_stats *from) {
    counters_merge(&into->read, &from->read, 1);
    into->filtered += from->filtered;
    into->analysed += from->analysed;
    into->checksum_dropped += from->checksum_dropped;
    into->other_shards += from->other_shards;
    u64_merge(into->decode_errors, from->decode_errors, DECODE_STATUS_COUNT);
    counters_merge(into->link, from->link, LINK_KIND_COUNT);
    counters_merge(into->net, from->net, NET_COUNT);
    counters_merge(into->transport, from->transport, TRANSPORT_COUNT);
    into->truncated += from->truncated;
    into->tcp_options_malformed += from->tcp_options_malformed;
    into->timestamps_out_of_range += from->timestamps_out_of_range;
    stats_add_checksums(into->checksums, from->checksums);
    uint32_t listed = from->offload_source_count < STATS_MAX_OFFLOAD_SOURCES
                          ? from->offload_source_count
                          : STATS_MAX_OFFLOAD_SOURCES;
    for (uint32_t i = 0; i < listed; i++) {
        if (into->offload_source_count < STATS_MAX_OFFLOAD_SOURCES)
            into->offload_sources[into->offload_source_count] = from->offload_sources[i];
        into->offload_source_count++;
    }
    into->offload_source_count += from->offload_source_count - listed; /* counted, not listed */
    into->checksum_untracked += from->checksum_untracked;
    conns_merge(&into->conns, &from->conns);
    into->records_lost += from->records_lost;
    into->rotations_failed += from->rotations_failed;
    if (from->have_capture_stats) {
        into->have_capture_stats = true;
        into->capture_received += from->capture_received;
        into->capture_dropped += from->capture_dropped;
        /* The interface's own counter, which every socket on it reports alike (as
         * capture_stats_add takes it): counted once. */
        if (from->capture_if_dropped > into->capture_if_dropped)
            into->capture_if_dropped = from->capture_if_dropped;
    }
    times_merge(into, from);
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
