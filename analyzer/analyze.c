/* analyze: drives the inputs through capture → decode → count. The per-packet path allocates
 * nothing: one packet view on the stack is refilled for every frame. */
#include "analyze.h"

#include <stdio.h>
#include <string.h>

#include "capture.h"
#include "packet.h"

struct stream {
    const struct analyze_config *cfg;
    struct run_stats *stats;
    struct decode_options decode;
    struct tracker *tracker;
    uint64_t frame; /* frames read so far, across all inputs */
};

/* The tracker's one report path: count the connection, write its record. */
static void on_conn_reported(void *ctx, const struct conn *c) {
    struct stream *s = ctx;
    stats_count_conn(s->stats, c);
    sink_connection(s->cfg->sink, c);
}

/* Anomalies are written the moment they are detected, so a SIEM can alert at once. */
static void on_anomaly(void *ctx, const struct anomaly_event *ev) {
    struct stream *s = ctx;
    sink_anomaly(s->cfg->sink, ev);
}

static void analyze_packet(struct stream *s, const struct capture_packet *cp, int link,
                           bool filtered) {
    struct packet p;
    p.frame = ++s->frame;
    p.ts_sec = cp->ts_sec;
    p.ts_nsec = cp->ts_nsec;
    p.caplen = cp->caplen;
    p.wirelen = cp->wirelen;
    p.link = link;
    stats_count_read(s->stats, &p);
    if (filtered) {
        s->stats->filtered++;
        return;
    }
    enum decode_status st = packet_decode(&p, cp->data, &s->decode);
    bool bad_checksum = stats_count_decoded(s->stats, &p, st);
    if (st != DECODE_OK)
        return;
    if (bad_checksum && s->cfg->checksums == CHECKSUM_MODE_DROP) {
        s->stats->checksum_dropped++;
        tracker_on_packet(s->tracker, &p, true);
        return;
    }
    s->stats->analysed++;
    tracker_on_packet(s->tracker, &p, false);
}

static void report_open(struct input_report *r, const struct capture *cap) {
    r->link = capture_link(cap);
    snprintf(r->link_name, sizeof r->link_name, "%s", capture_link_name(cap));
    r->link_supported = link_type_name(r->link) != NULL;
}

/* Reads one input to its end; returns its status. */
static enum input_status analyze_input(struct stream *s, const char *path, struct input_report *r,
                                       FILE *err) {
    char why[512];
    r->path = path;
    r->link = -1;
    struct capture *cap = capture_open_file(path, s->cfg->filter, why, sizeof why);
    size_t plen = strlen(path);
    if (!cap && strncmp(why, path, plen) == 0 && strncmp(why + plen, ": ", 2) == 0)
        memmove(why, why + plen + 2, strlen(why + plen + 2) + 1); /* libpcap named it already */
    if (!cap) {
        fprintf(err, "shakedown: %s: %s\n", path, why);
        snprintf(r->message, sizeof r->message, "%s", why);
        return INPUT_UNREADABLE;
    }
    report_open(r, cap);
    if (!r->link_supported)
        fprintf(err,
                "shakedown: %s: link type %s (%d) is not supported; its packets are counted "
                "as link_unsupported\n",
                path, r->link_name, r->link);

    struct capture_packet cp;
    enum capture_status cs;
    while ((cs = capture_next(cap, &cp)) == CAPTURE_PACKET || cs == CAPTURE_FILTERED) {
        r->packets++;
        analyze_packet(s, &cp, r->link, cs == CAPTURE_FILTERED);
    }
    enum input_status status = INPUT_OK;
    if (cs == CAPTURE_DAMAGED) {
        fprintf(err, "shakedown: %s: damaged after %llu packets: %s\n", path,
                (unsigned long long)r->packets, capture_error(cap));
        snprintf(r->message, sizeof r->message, "%s", capture_error(cap));
        status = INPUT_DAMAGED;
    }
    capture_close(cap);
    return status;
}

enum exit_status analyze_run(const struct analyze_config *cfg, struct run_stats *stats,
                             struct input_report *reports, FILE *err) {
    struct stream s = {cfg, stats, {cfg->checksums != CHECKSUM_MODE_OFF}, NULL, 0};
    s.tracker = tracker_new(&cfg->tracker, on_conn_reported, on_anomaly, &s);
    if (!s.tracker) {
        fprintf(err, "shakedown: cannot allocate a flow table for %u connections\n",
                cfg->tracker.max_flows);
        return EXIT_STATUS_USAGE;
    }
    enum exit_status rc = EXIT_STATUS_OK;
    for (size_t i = 0; i < cfg->ninputs; i++) {
        reports[i].status = analyze_input(&s, cfg->inputs[i], &reports[i], err);
        if (reports[i].status == INPUT_UNREADABLE)
            rc = EXIT_STATUS_USAGE;
        else if (reports[i].status == INPUT_DAMAGED && rc == EXIT_STATUS_OK)
            rc = EXIT_STATUS_DAMAGED;
    }
    tracker_flush(s.tracker, CONN_END_CAPTURE_END);
    const struct tracker_counts *tc = tracker_counts(s.tracker);
    stats->conns.late_packets = tc->late_packets;
    stats->conns.untracked_packets = tc->untracked_packets;
    stats->conns.peak_open = tc->peak_open;
    for (unsigned a = 0; a < ANOMALY_COUNT; a++)
        stats->conns.anomalies[a] = tc->anomalies[a];
    tracker_free(s.tracker);
    return rc;
}
