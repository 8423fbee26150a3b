/* analyze: drives the inputs — capture files in order, or a live interface — through capture →
 * decode → track → output, and the periodic work of a long run (idle timeouts on the wall clock,
 * stats and interim records, output reopen and rotation, stopping on a signal, the "listening
 * on" banner and the status line of a live run). The per-packet path allocates nothing: one
 * packet view on the stack is refilled for every frame. */
#include "analyze.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture.h"
#include "engine.h"
#include "flowtext.h"
#include "packet.h"
#include "status_line.h"

struct stream {
    const struct analyze_config *cfg;
    struct run_stats *stats;
    struct decode_options decode;
    struct checksum_policy *checksums; /* --checksums, and auto's per-source table */
    struct engine *engine;             /* the trackers: one, or --workers of them */
    uint64_t frame;                    /* frames read so far, across all inputs */
    FILE *err;                         /* where problems are said */
    bool stopped;                      /* by a signal or a vanished reader: stop reading */
    int64_t started_ns;                /* wall clock */
    int64_t next_stats_ns;             /* wall clock of the next stats record */
    int64_t next_interim_ns;           /* capture time of the next interim pass */
    int64_t next_periodic_ns;  /* wall clock of the next periodic() while packets flow (live) */
    struct status_line status; /* live, --stats-interval, err a terminal: the in-place status */
    bool records_on_terminal;  /* records go to that terminal too: erase the status first */
};

/* Before a record is written: the status line, if records share its terminal, is erased (the
 * next periodic() draws it again below the record). */
static void before_record(struct stream *s) {
    if (s->records_on_terminal)
        status_line_clear(&s->status);
}

/* The tracker's one report path: count the connection, write its record. */
static void on_conn_reported(void *ctx, const struct conn *c) {
    struct stream *s = ctx;
    stats_count_conn(s->stats, c);
    /* Ladders on standard output whose reader went away (`--ladder all | head`): when they are
     * the only output, stop as for records, quietly; with -o the records go on. */
    if (s->cfg->ladder && !ladder_on_conn_end(s->cfg->ladder, c) && s->cfg->records_off)
        s->cfg->sink->broken_pipe = true;
    if (s->cfg->report)
        report_on_conn(s->cfg->report, c);
    if (!s->cfg->records_off) {
        before_record(s);
        sink_connection(s->cfg->sink, c, true);
    }
}

/* Only when connections are being drawn (--ladder, --ladder-svg, --report). */
static void on_segment(void *ctx, const struct conn *c, int dir, const struct packet *p) {
    struct stream *s = ctx;
    if (s->cfg->ladder)
        ladder_on_segment(s->cfg->ladder, c, dir, p);
    if (s->cfg->report)
        report_on_segment(s->cfg->report, c, dir, p);
}

/* Anomalies are written the moment they are detected, so a SIEM can alert at once. */
static void on_anomaly(void *ctx, const struct anomaly_event *ev) {
    struct stream *s = ctx;
    if (!s->cfg->records_off) {
        before_record(s);
        sink_anomaly(s->cfg->sink, ev);
    }
    if (s->cfg->report)
        report_on_anomaly(s->cfg->report, ev);
}

static void on_interim(void *ctx, const struct conn *c) {
    struct stream *s = ctx;
    if (!s->cfg->records_off) {
        before_record(s);
        sink_connection(s->cfg->sink, c, false);
    }
}

/* Packet times a capture file can hold that are not times: before 1970 (libpcap reads a pcap
 * seconds field of 0xffffffff as -1), after 2100 (a 64-bit pcapng timestamp can reach 2554,
 * where nanoseconds since 1970 overflow 64 bits), or a fraction of a second of a second or more.
 * They are brought into [1970, 2100] — carried, then clamped — and counted, so every later time
 * computation stays in range and every record's timestamps are valid. */
#define PACKET_TIME_MAX_SEC INT64_C(4102444800) /* 2100-01-01T00:00:00Z */

static bool packet_time_sane(int64_t sec, uint32_t nsec, int64_t *out_sec, uint32_t *out_nsec) {
    bool sane = nsec < 1000000000u && sec >= 0 && sec < PACKET_TIME_MAX_SEC;
    if (nsec >= 1000000000u && sec >= 0 && sec < PACKET_TIME_MAX_SEC) {
        sec += nsec / 1000000000u;
        nsec %= 1000000000u;
    }
    if (sec < 0) {
        sec = 0;
        nsec = 0;
    } else if (sec >= PACKET_TIME_MAX_SEC) {
        sec = PACKET_TIME_MAX_SEC;
        nsec = 0;
    }
    *out_sec = sec;
    *out_nsec = nsec;
    return sane;
}

/* --checksums auto took p's source as offloading: said once, here, and listed in the summary. */
static void note_offload_source(struct stream *s, const struct packet *p,
                                const struct checksum_source_counts *n) {
    char addr[64];
    flowtext_addr(addr, sizeof addr, p->src, p->ip_version);
    engine_hold_output(s->engine, true); /* workers clear the status line too */
    status_line_clear(&s->status);
    fprintf(s->err,
            "shakedown: %s: %" PRIu32 " of its first %" PRIu32 " checksummed packets had a bad "
            "checksum (more than %d of %d): taking it as offloading checksums from frame %" PRIu64
            " on; its %" PRIu32 " earlier ones were left out\n",
            addr, n->bad, n->checked, CHECKSUM_POLICY_BAD_MAX, CHECKSUM_POLICY_WINDOW, p->frame,
            n->bad - 1);
    engine_hold_output(s->engine, false);
    stats_note_offload_source(s->stats, p);
}

static void analyze_packet(struct stream *s, const struct capture_packet *cp, int link,
                           bool filtered) {
    struct packet p;
    p.frame = ++s->frame;
    if (!packet_time_sane(cp->ts_sec, cp->ts_nsec, &p.ts_sec, &p.ts_nsec))
        stats_count_bad_timestamp(s->stats);
    p.caplen = cp->caplen;
    p.wirelen = cp->wirelen;
    p.link = link;
    stats_count_read(s->stats, &p);
    if (filtered) {
        stats_count_filtered(s->stats);
        return;
    }
    enum decode_status st = packet_decode(&p, cp->data, &s->decode);
    if (st == DECODE_OK) /* the bucket loads while checksums are verified */
        engine_prefetch(s->engine, &p);
    enum checksum_state cs = stats_count_decoded(s->stats, &p, st);
    if (st != DECODE_OK)
        return;
    struct checksum_source_counts counts;
    enum checksum_verdict v = checksum_policy_judge(s->checksums, &p, cs, &counts);
    /* --shard: another share's packet is decoded and judged as every share does (so the per-source
     * checksum inference sees what a single run sees), then only moves capture time on as it
     * would in a single run, so that this share's connections expire exactly then. */
    bool mine = s->cfg->shard_count <= 1 ||
                tracker_shard_of(&p, s->cfg->shard_count) == s->cfg->shard_index;
    if (v == CHECKSUM_VERDICT_DROP) {
        stats_count_checksum_dropped(s->stats);
        if (mine)
            engine_packet(s->engine, &p, true);
        else
            engine_pass(s->engine, &p);
        return;
    }
    if (v == CHECKSUM_VERDICT_SWITCHED)
        note_offload_source(s, &p, &counts);
    if (!mine) {
        stats_count_other_shard(s->stats);
        engine_pass(s->engine, &p);
        return;
    }
    stats_count_analysed(s->stats);
    engine_packet(s->engine, &p, false);
}

/* ---- periodic work ------------------------------------------------------------------------- */

/* The caller holds the output (engine_hold_output): no worker hands on a record meanwhile. */
static void emit_stats(struct stream *s, struct capture *cap, int64_t now,
                       const struct tracker_counts *tc, size_t mem_reserved, size_t mem_used) {
    struct live_stats ls = {.wall_ns = now,
                            .uptime_seconds = (double)(now - s->started_ns) / 1e9,
                            .packets = s->stats->read.packets,
                            .bytes = s->stats->read.bytes,
                            .connections_open = tc->open_now,
                            .connections_reported = tc->reported,
                            .memory_reserved_bytes = mem_reserved,
                            .memory_used_bytes = mem_used,
                            .records_lost = s->cfg->sink->lost_records,
                            .rotations_failed = sink_rotations_failed(s->cfg->sink)};
    memcpy(ls.checksums, s->stats->checksums, sizeof ls.checksums);
    for (unsigned a = 0; a < ANOMALY_COUNT; a++)
        ls.anomalies += tc->anomalies[a];
    ls.anomaly_events_folded = tc->folded_events;
    struct capture_stats cs;
    if (cap && capture_get_stats(cap, &cs)) {
        ls.have_capture = true;
        ls.received = cs.received;
        ls.dropped = cs.dropped;
        ls.if_dropped = cs.if_dropped;
    }
    before_record(s);
    sink_stats(s->cfg->sink, &ls);
}

/* The status line, drawn afresh: packets read, connections open, packets dropped (the kernel's
 * and the interface's, when libpcap can say). */
static void show_status(struct stream *s, struct capture *cap, uint32_t open) {
    struct status_counts c = {.packets = s->stats->read.packets, .open = open};
    struct capture_stats cs;
    if (cap && capture_get_stats(cap, &cs)) {
        c.drops_known = true;
        c.dropped = cs.dropped + cs.if_dropped;
    }
    status_line_show(&s->status, &c);
}

/* Called between packets now and then, and whenever a live capture is idle. */
static void periodic(struct stream *s, struct capture *cap, bool live) {
    const struct analyze_config *cfg = s->cfg;
    int64_t now = capture_wall_ns();
    s->next_periodic_ns = now + 100000000; /* at most ten times a second */
    if (live) /* an idle link: capture time follows the wall clock, so timeouts still fire */
        engine_advance(s->engine, now);
    /* The counts first: the engine's locks come before the output's (engine.h). */
    struct tracker_counts counts;
    size_t mem_reserved = 0, mem_used = 0;
    bool stats_due = cfg->stats_interval_ns > 0 && !cfg->records_off && now >= s->next_stats_ns;
    bool status_due = s->status.out && (stats_due || !s->status.shown);
    if (stats_due || status_due)
        engine_counts(s->engine, &counts);
    if (stats_due) {
        mem_reserved = engine_memory(s->engine);
        mem_used = engine_memory_used(s->engine);
    }
    engine_hold_output(s->engine, true);
    if (cfg->reopen && *cfg->reopen) {
        *cfg->reopen = 0;
        status_line_clear(&s->status); /* a reopen that fails says so on stderr */
        sink_reopen(cfg->sink);
    }
    if (stats_due) {
        emit_stats(s, cap, now, &counts, mem_reserved, mem_used);
        s->next_stats_ns = now + cfg->stats_interval_ns;
    }
    if (status_due) { /* at each stats record, and at the start or once erased for a record */
        /* Records reach the terminal from the writer threads: every one queued is written
         * before the status is drawn again, or one could land after it, mixed with it. */
        if (s->records_on_terminal)
            sink_drain(cfg->sink);
        show_status(s, cap, counts.open_now);
    }
    sink_tick(cfg->sink, now);
    engine_hold_output(s->engine, false);
    int64_t ctime = engine_now(s->engine);
    if (cfg->interim_ns > 0 && ctime >= s->next_interim_ns) {
        engine_interim(s->engine, cfg->interim_ns);
        s->next_interim_ns = ctime + cfg->interim_ns / 4 + 1;
    }
    notify_watchdog(cfg->watchdog, now);
}

static bool should_stop(struct stream *s) {
    if ((s->cfg->stop && *s->cfg->stop) || s->cfg->sink->broken_pipe)
        s->stopped = true;
    return s->stopped;
}

/* ---- reading ------------------------------------------------------------------------------- */

static void report_open(struct input_report *r, const struct capture *cap) {
    r->link = capture_link(cap);
    snprintf(r->link_name, sizeof r->link_name, "%s", capture_link_name(cap));
    r->link_supported = link_type_name(r->link) != NULL;
}

/* Reads a capture until its end, damage, or a stop; returns its status. */
static enum input_status read_capture(struct stream *s, struct capture *cap, bool live,
                                      struct input_report *r, FILE *err) {
    struct capture_packet cp;
    enum capture_status cs;
    while (!should_stop(s)) {
        cs = capture_next(cap, &cp);
        if (cs == CAPTURE_PACKET || cs == CAPTURE_FILTERED) {
            r->packets++;
            analyze_packet(s, &cp, r->link, cs == CAPTURE_FILTERED);
            /* Files: now and then. Live: on time even when packets trickle in steadily and the
             * capture is never idle (a clock read per packet is cheap at live rates). */
            if (live ? capture_wall_ns() >= s->next_periodic_ns : (r->packets & 1023) == 0)
                periodic(s, cap, live);
        } else if (cs == CAPTURE_IDLE) {
            periodic(s, cap, live);
        } else if (cs == CAPTURE_DAMAGED && !(live && should_stop(s))) {
            status_line_clear(&s->status);
            fprintf(err, "shakedown: %s: damaged after %llu packets: %s\n", r->path,
                    (unsigned long long)r->packets, capture_error(cap));
            snprintf(r->message, sizeof r->message, "%s", capture_error(cap));
            return INPUT_DAMAGED;
        } else {
            break;
        }
    }
    return INPUT_OK;
}

/* A regular file (not standard input, a pipe or a FIFO): its next packets are always at hand. */
static bool input_is_regular_file(const char *path) {
    struct stat st;
    return strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Opens and reads one input file; returns its status. */
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
    engine_set_lookahead(s->engine, input_is_regular_file(path));
    enum input_status status = read_capture(s, cap, false, r, err);
    engine_set_lookahead(s->engine, false);
    capture_close(cap);
    return status;
}

static enum exit_status read_inputs(struct stream *s, struct input_report *reports, FILE *err) {
    const struct analyze_config *cfg = s->cfg;
    enum exit_status rc = EXIT_STATUS_OK;
    if (cfg->live) {
        reports[0].path = cfg->live_name;
        report_open(&reports[0], cfg->live);
        /* At once, as tcpdump does: the capture is open and shakedown is waiting for packets. */
        fprintf(err, "listening on %s, link-type %s (%s), snapshot length %d bytes\n",
                cfg->live_name, reports[0].link_name, capture_link_description(cfg->live),
                capture_snaplen(cfg->live));
        reports[0].status = read_capture(s, cfg->live, true, &reports[0], err);
        return reports[0].status == INPUT_OK ? EXIT_STATUS_OK : EXIT_STATUS_DAMAGED;
    }
    for (size_t i = 0; i < cfg->ninputs && !should_stop(s); i++) {
        reports[i].status = analyze_input(s, cfg->inputs[i], &reports[i], err);
        if (reports[i].status == INPUT_UNREADABLE)
            rc = EXIT_STATUS_USAGE;
        else if (reports[i].status == INPUT_DAMAGED && rc == EXIT_STATUS_OK)
            rc = EXIT_STATUS_DAMAGED;
    }
    return rc;
}

enum exit_status analyze_run(const struct analyze_config *cfg, struct run_stats *stats,
                             struct input_report *reports, FILE *err, bool *stopped_by_reader) {
    struct stream s = {
        .cfg = cfg, .stats = stats, .err = err, .decode = {checksum_mode_verifies(cfg->checksums)}};
    s.started_ns = capture_wall_ns();
    s.next_stats_ns = s.started_ns + cfg->stats_interval_ns;
    stats_set_shard(stats, cfg->shard_index, cfg->shard_count);
    s.checksums = checksum_policy_new(cfg->checksums, CHECKSUM_POLICY_SOURCES);
    status_line_init(&s.status, err,
                     cfg->live && cfg->stats_interval_ns > 0 && isatty(fileno(err)));
    s.records_on_terminal = s.status.out && sink_any_terminal(cfg->sink);
    struct engine_config ec = {.tracker = cfg->tracker,
                               .workers = cfg->workers,
                               .live = cfg->live != NULL,
                               .report = on_conn_reported,
                               .anomaly = on_anomaly,
                               .interim = on_interim,
                               .segment = cfg->ladder || cfg->report ? on_segment : NULL,
                               .ctx = &s};
    s.engine = engine_new(&ec);
    if (!s.engine || !s.checksums) {
        if (!s.engine)
            fprintf(err, "shakedown: cannot allocate a flow table for %u connections%s\n",
                    cfg->tracker.max_flows, cfg->workers > 1 ? " per worker" : "");
        else
            fprintf(err, "shakedown: cannot allocate the table of checksum sources\n");
        engine_free(s.engine);
        checksum_policy_free(s.checksums);
        for (size_t i = 0; i < (cfg->live ? 1 : cfg->ninputs); i++) /* named in the summary */
            reports[i].path = cfg->live ? cfg->live_name : cfg->inputs[i];
        return EXIT_STATUS_USAGE;
    }
    enum exit_status rc = read_inputs(&s, reports, err);
    engine_sync(s.engine);
    status_line_clear(&s.status); /* before the summary and any message after the run */
    sink_drain(cfg->sink);        /* a reader that went away is known once every record was tried */
    *stopped_by_reader = cfg->sink->broken_pipe;
    engine_flush(s.engine, s.stopped ? CONN_END_SHUTDOWN : CONN_END_CAPTURE_END);
    struct tracker_counts counts;
    engine_counts(s.engine, &counts);
    stats_note_tracker(stats, &counts);
    stats_note_checksum_untracked(stats, checksum_policy_untracked(s.checksums));
    struct capture_stats cs;
    if (cfg->live && capture_get_stats(cfg->live, &cs))
        stats_note_capture(stats, &cs);
    engine_free(s.engine);
    checksum_policy_free(s.checksums);
    return rc;
}
