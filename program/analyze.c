/* analyze: drives the inputs — capture files in order, or a live interface — through capture →
 * decode → track → output, and the periodic work of a long run (idle timeouts on the wall clock,
 * stats and interim records, output reopen and rotation, stopping on a signal, the "listening
 * on" banner and the status line of a live run). The per-packet path allocates nothing: one
 * packet view on the stack is refilled for every frame. A live interface with --workers is read
 * by fanout.c's capture threads, one socket each; this thread then does only the periodic work. */
#include "analyze.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "engine.h"
#include "fanout.h"
#include "flowtext.h"
#include "packet.h"
#include "packet_path.h"
#include "status_line.h"

struct stream {
    const struct analyze_config *cfg;
    struct run_stats *stats;
    struct packet_path path;     /* the steps before the tracker, and their counts */
    struct engine *engine;       /* the trackers: one, or --workers of them */
    struct fanout *fanout;       /* live --workers: the capture threads; else NULL */
    FILE *err;                   /* where problems are said */
    bool stopped;                /* by a signal or a vanished reader: stop reading */
    int64_t started_ns;          /* monotonic clock (capture_mono_ns), as the two below */
    int64_t next_stats_ns;       /* the next stats record */
    int64_t next_interim_ns;     /* capture time of the next interim pass */
    int64_t next_periodic_ns;    /* the next periodic() while packets flow (live) */
    struct status_line status;   /* live, --stats-interval, err a terminal: the in-place status */
    struct capture *first_input; /* cfg->first_input until it is read (or closed unread) */
    bool records_on_terminal;    /* records go to that terminal too: erase the status first */
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

/* --checksums auto took p's source as offloading (packet_path_judge counts it): said once. */
static void say_offload_source(void *ctx, const struct packet *p,
                               const struct checksum_source_counts *n) {
    struct stream *s = ctx;
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
}

static void analyze_packet(struct stream *s, const struct capture_packet *cp, int link,
                           bool filtered) {
    struct packet p;
    enum decode_status st;
    if (!packet_path_decode(&s->path, cp, link, filtered, &p, &st))
        return;
    if (st == DECODE_OK) /* the bucket loads while checksums are verified */
        engine_prefetch(s->engine, &p);
    enum packet_fate fate = packet_path_judge(&s->path, &p, st);
    if (fate == PACKET_FATE_ANALYSE || fate == PACKET_FATE_BAD_CHECKSUM)
        engine_packet(s->engine, &p, fate == PACKET_FATE_BAD_CHECKSUM);
    else if (fate == PACKET_FATE_PASS)
        engine_pass(s->engine, &p);
}

/* ---- periodic work ------------------------------------------------------------------------- */

/* What has been read so far, and the capture's counters: this thread's own, or what the capture
 * threads of a live --workers run last published (fanout.h). */
static void read_so_far(struct stream *s, struct capture *cap, struct fanout_view *v) {
    if (s->fanout) {
        fanout_view(s->fanout, v);
        return;
    }
    v->packets = s->stats->read.packets;
    v->bytes = s->stats->read.bytes;
    memcpy(v->checksums, s->stats->checksums, sizeof v->checksums);
    v->have_capture = cap && capture_get_stats(cap, &v->capture);
}

/* The caller holds the output (engine_hold_output): no worker hands on a record meanwhile. */
static void emit_stats(struct stream *s, const struct fanout_view *v, int64_t now, int64_t mono,
                       const struct tracker_counts *tc, size_t mem_reserved, size_t mem_used) {
    struct live_stats ls = {.wall_ns = now,
                            .uptime_seconds = (double)(mono - s->started_ns) / 1e9,
                            .packets = v->packets,
                            .bytes = v->bytes,
                            .connections_open = tc->open_now,
                            .connections_reported = tc->reported,
                            .memory_reserved_bytes = mem_reserved,
                            .memory_used_bytes = mem_used}; /* the sink adds its own counts */
    memcpy(ls.checksums, v->checksums, sizeof ls.checksums);
    for (unsigned a = 0; a < ANOMALY_COUNT; a++)
        ls.anomalies += tc->anomalies[a];
    ls.anomaly_events_folded = tc->folded_events;
    if (v->have_capture) {
        ls.have_capture = true;
        ls.received = v->capture.received;
        ls.dropped = v->capture.dropped;
        ls.if_dropped = v->capture.if_dropped;
    }
    before_record(s);
    sink_stats(s->cfg->sink, &ls);
}

/* The status line, drawn afresh: packets read, connections open, packets dropped (the kernel's
 * and the interface's, when libpcap can say). */
static void show_status(struct stream *s, const struct fanout_view *v, uint32_t open) {
    struct status_counts c = {.packets = v->packets, .open = open};
    if (v->have_capture) {
        c.drops_known = true;
        c.dropped = v->capture.dropped + v->capture.if_dropped;
    }
    status_line_show(&s->status, &c);
}

/* Called between packets now and then, and whenever a live capture is idle. Its schedule is on
 * the monotonic clock (a step of the wall clock moves neither it nor the watchdog's pings);
 * capture time and the records' times follow the wall clock. */
static void periodic(struct stream *s, struct capture *cap, bool live) {
    const struct analyze_config *cfg = s->cfg;
    int64_t now = capture_wall_ns(), mono = capture_mono_ns();
    s->next_periodic_ns = mono + 100000000; /* at most ten times a second */
    /* An idle link: capture time follows the wall clock, so timeouts still fire (the capture
     * threads of a --workers run each do it for their own tracker). */
    if (live && !s->fanout)
        engine_advance(s->engine, now);
    /* The counts first: the engine's locks come before the output's (engine.h). */
    struct tracker_counts counts;
    struct fanout_view so_far;
    size_t mem_reserved = 0, mem_used = 0;
    bool stats_due = cfg->stats_interval_ns > 0 && !cfg->records_off && mono >= s->next_stats_ns;
    bool status_due = s->status.out && (stats_due || !s->status.shown);
    if (stats_due || status_due) {
        engine_counts(s->engine, &counts);
        read_so_far(s, cap, &so_far);
    }
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
        emit_stats(s, &so_far, now, mono, &counts, mem_reserved, mem_used);
        s->next_stats_ns = mono + cfg->stats_interval_ns;
    }
    if (status_due) { /* at each stats record, and at the start or once erased for a record */
        /* Records reach the terminal from the writer threads: every one queued is written
         * before the status is drawn again, or one could land after it, mixed with it. */
        if (s->records_on_terminal)
            sink_drain(cfg->sink);
        show_status(s, &so_far, counts.open_now);
    }
    sink_tick(cfg->sink, now);
    engine_hold_output(s->engine, false);
    int64_t ctime = engine_now(s->engine);
    if (cfg->interim_ns > 0 && ctime >= s->next_interim_ns && !s->fanout) { /* threads: their own */
        engine_interim(s->engine, cfg->interim_ns);
        s->next_interim_ns = ctime + cfg->interim_ns / 4 + 1;
    }
    /* This thread's own reading made progress to be here; --workers: the capture threads'. */
    notify_watchdog(cfg->watchdog, mono, s->fanout ? fanout_progress_ns(s->fanout) : mono);
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

/* A capture that broke off (a read error, the interface gone): said once, and in the summary. */
static enum input_status say_damaged(struct stream *s, struct input_report *r, const char *why,
                                     FILE *err) {
    status_line_clear(&s->status);
    fprintf(err, "shakedown: %s: damaged after %llu packets: %s\n", r->path,
            (unsigned long long)r->packets, why);
    snprintf(r->message, sizeof r->message, "%s", why);
    return INPUT_DAMAGED;
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
            if (live ? capture_mono_ns() >= s->next_periodic_ns : (r->packets & 1023) == 0)
                periodic(s, cap, live);
        } else if (cs == CAPTURE_IDLE) {
            periodic(s, cap, live);
        } else if (cs == CAPTURE_DAMAGED && !(live && should_stop(s))) {
            return say_damaged(s, r, capture_error(cap), err);
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

/* An input: the first (inputs[0]) as the caller opened it (or the reason it could not: it is not
 * read twice, standard input could not be), the others opened now. NULL with why set. */
static struct capture *input_open(struct stream *s, const char *path, bool first, char *why,
                                  size_t len) {
    const struct analyze_config *cfg = s->cfg;
    if (first && s->first_input) {
        struct capture *cap = s->first_input;
        s->first_input = NULL; /* taken: no longer the caller's to close */
        return cap;
    }
    if (first && cfg->first_input_error) {
        snprintf(why, len, "%s", cfg->first_input_error);
        return NULL;
    }
    return capture_open_file(path, cfg->filter, why, len);
}

/* Opens and reads one input file (first: inputs[0]); returns its status. */
static enum input_status analyze_input(struct stream *s, const char *path, bool first,
                                       struct input_report *r, FILE *err) {
    char why[512];
    r->path = path;
    r->link = -1;
    struct capture *cap = input_open(s, path, first, why, sizeof why);
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
    engine_set_input_at_hand(s->engine, input_is_regular_file(path));
    enum input_status status = read_capture(s, cap, false, r, err);
    engine_set_input_at_hand(s->engine, false);
    capture_close(cap);
    return status;
}

/* Live with --workers: the capture threads read (fanout.c), one socket of the group each; this
 * thread does the periodic work ten times a second until a stop, or until a thread's capture
 * ends. Then every thread stops reading, and its counts join the run's. */
static enum input_status read_group(struct stream *s, struct input_report *r, FILE *err) {
    const struct analyze_config *cfg = s->cfg;
    char why[256];
    struct fanout_config fc = {.group = cfg->live_group,
                               .engine = s->engine,
                               .checksums = cfg->checksums,
                               .run_checksums = s->path.checksums,
                               .shard_index = cfg->shard_index,
                               .shard_count = cfg->shard_count,
                               .interim_ns = cfg->interim_ns,
                               .offload = say_offload_source,
                               .ctx = s};
    s->fanout = fanout_start(&fc, why, sizeof why);
    if (!s->fanout) {
        fprintf(err, "shakedown: %s: %s\n", r->path, why);
        snprintf(r->message, sizeof r->message, "%s", why);
        return INPUT_UNREADABLE;
    }
    while (!should_stop(s) && fanout_running(s->fanout)) {
        struct timespec tick = {0, 100000000}; /* a stop signal ends it early (EINTR) */
        nanosleep(&tick, NULL);
        periodic(s, NULL, true);
    }
    const char *damage = NULL;
    bool whole = fanout_stop(s->fanout, &damage);
    fanout_account(s->fanout, s->stats, &r->packets);
    return whole || s->stopped ? INPUT_OK : say_damaged(s, r, damage, err);
}

static enum exit_status read_inputs(struct stream *s, struct input_report *reports, FILE *err) {
    const struct analyze_config *cfg = s->cfg;
    enum exit_status rc = EXIT_STATUS_OK;
    if (cfg->live || cfg->live_group) {
        struct capture *cap = cfg->live ? cfg->live : capture_group_member(cfg->live_group, 0);
        reports[0].path = cfg->live_name;
        report_open(&reports[0], cap);
        /* At once, as tcpdump does: the capture is open and shakedown is waiting for packets (a
         * group of sockets is complete, and what its sockets held before was discarded). */
        fprintf(err, "listening on %s, link-type %s (%s), snapshot length %d bytes\n",
                cfg->live_name, reports[0].link_name, capture_link_description(cap),
                capture_snaplen(cap));
        reports[0].status = cfg->live ? read_capture(s, cfg->live, true, &reports[0], err)
                                      : read_group(s, &reports[0], err);
        return reports[0].status == INPUT_OK        ? EXIT_STATUS_OK
               : reports[0].status == INPUT_DAMAGED ? EXIT_STATUS_DAMAGED
                                                    : EXIT_STATUS_USAGE;
    }
    for (size_t i = 0; i < cfg->ninputs && !should_stop(s); i++) {
        reports[i].status = analyze_input(s, cfg->inputs[i], i == 0, &reports[i], err);
        if (reports[i].status == INPUT_UNREADABLE)
            rc = EXIT_STATUS_USAGE;
        else if (reports[i].status == INPUT_DAMAGED && rc == EXIT_STATUS_OK)
            rc = EXIT_STATUS_DAMAGED;
    }
    return rc;
}

/* The analysis' tables: the stream its callbacks are given, at an address that stays put. */
struct analysis {
    struct stream s;
};

/* Why the engine could not be made: the memory its tables need (every worker's), in one line. */
static void tables_error(const struct analyze_config *cfg, char *err, size_t errlen) {
    unsigned workers = cfg->workers > 1 ? cfg->workers : 1;
    size_t each = tracker_memory_for(&cfg->tracker), need = each * workers;
    bool gib = need >= (size_t)1 << 30;
    char per_worker[96] = "";
    if (workers > 1)
        snprintf(per_worker, sizeof per_worker, ", %zu for each of the %u workers", each, workers);
    snprintf(err, errlen,
             "cannot allocate the flow tables%s: --max-flows %u needs %zu bytes (%.1f %s%s) of "
             "memory; lower --max-flows%s or allow more memory (ulimit -v)",
             workers > 1 ? " and worker threads" : "", cfg->tracker.max_flows, need,
             (double)need / (gib ? 1 << 30 : 1 << 20), gib ? "GiB" : "MiB", per_worker,
             workers > 1 ? " or --workers" : "");
}

struct analysis *analyze_new(const struct analyze_config *cfg, bool segments, char *err,
                             size_t errlen) {
    struct analysis *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    struct stream *s = &a->s;
    s->cfg = cfg;
    struct engine_config ec = {.tracker = cfg->tracker,
                               .workers = cfg->workers,
                               .report = on_conn_reported,
                               .anomaly = on_anomaly,
                               .interim = on_interim,
                               .segment = segments ? on_segment : NULL,
                               .ctx = s};
    s->engine = engine_new(&ec);
    if (!s->engine) {
        tables_error(cfg, err, errlen);
        analyze_free(a);
        return NULL;
    }
    s->path.checksums = checksum_policy_new(cfg->checksums, CHECKSUM_POLICY_SOURCES);
    if (!s->path.checksums) {
        snprintf(err, errlen, "cannot allocate the table of checksum sources (%u sources)",
                 CHECKSUM_POLICY_SOURCES);
        analyze_free(a);
        return NULL;
    }
    return a;
}

void analyze_free(struct analysis *a) {
    if (!a)
        return;
    engine_free(a->s.engine);
    checksum_policy_free(a->s.path.checksums);
    free(a);
}

enum exit_status analyze_run(struct analysis *a, struct run_stats *stats,
                             struct input_report *reports, FILE *err, bool *stopped_by_reader) {
    struct stream *s = &a->s;
    const struct analyze_config *cfg = s->cfg;
    bool live = cfg->live || cfg->live_group;
    struct checksum_policy *checksums = s->path.checksums; /* made by analyze_new */
    s->stats = stats;
    s->err = err;
    s->path = (struct packet_path){.stats = stats,
                                   .decode = {checksum_mode_verifies(cfg->checksums)},
                                   .checksums = checksums,
                                   .shard_index = cfg->shard_index,
                                   .shard_count = cfg->shard_count,
                                   .next_frame = 1,
                                   .frame_step = 1,
                                   .say_offload = say_offload_source,
                                   .ctx = s};
    s->first_input = cfg->first_input;
    s->started_ns = capture_mono_ns();
    s->next_stats_ns = s->started_ns + cfg->stats_interval_ns;
    stats_set_shard(stats, cfg->shard_index, cfg->shard_count);
    status_line_init(&s->status, err, live && cfg->stats_interval_ns > 0 && isatty(fileno(err)));
    s->records_on_terminal = s->status.out && sink_any_terminal(cfg->sink);
    enum exit_status rc = read_inputs(s, reports, err);
    engine_sync(s->engine);
    status_line_clear(&s->status); /* before the summary and any message after the run */
    sink_drain(cfg->sink); /* a reader that went away is known once every record was tried */
    *stopped_by_reader = cfg->sink->broken_pipe;
    engine_flush(s->engine, s->stopped ? CONN_END_SHUTDOWN : CONN_END_CAPTURE_END);
    struct tracker_counts counts;
    engine_counts(s->engine, &counts);
    stats_note_tracker(stats, &counts);
    stats_note_checksum_untracked(stats, checksum_policy_untracked(s->path.checksums));
    struct capture_stats cs;
    if ((cfg->live && capture_get_stats(cfg->live, &cs)) ||
        (cfg->live_group && capture_group_stats(cfg->live_group, &cs)))
        stats_note_capture(stats, &cs);
    fanout_free(s->fanout);
    s->fanout = NULL;
    capture_close(s->first_input); /* stopped before it was read */
    s->first_input = NULL;
    return rc;
}
