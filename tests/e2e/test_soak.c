/* Soak test (issue 19): 48 hours of capture time of a sensor's traffic, replayed in seconds —
 * thousands of connections open at once, long-lived and short-lived mixed, steady churn, and
 * quiet spells longer than every timeout — read with --stats-interval. Checked: memory flat after
 * warm-up (the stats records' memory_used_bytes, and the process's resident set sampled from
 * /proc/PID/statm as it runs), every connection reported exactly once and ended the way the
 * capture says, idle and handshake expiry and TIME_WAIT firing in every six-hour window, every
 * packet counted (no counter wrapped).
 *
 * The traffic: LANES clients (2,000), each an address of its own, talk to 64 servers; each
 * lane runs one connection after another, on a new source port each time (so no two connections
 * share a 4-tuple). Time moves in ticks of TICK (120 s); a lane acts at most once a tick, its
 * frames 1 µs apart. Each connection is one of four kinds (kind_of: a fixed hash of lane and
 * cycle, so the capture is the same on every run):
 *   SHORT      handshake, 100 bytes, the server's ACK, FIN close by the client (9 frames): ends
 *              by fin; some get a retransmitted final ACK one tick later (120 s, inside TIME_WAIT
 *              = 240 s: packet_during_time_wait) or three ticks later (360 s: past TIME_WAIT,
 *              before it is forgotten at 2 x 240 s: packet_after_time_wait);
 *   LONG       handshake, 100 bytes, ACK (5 frames), then a keepalive ACK from the client every
 *              second tick (240 s, under the 300 s idle timeout), then a FIN close after 60 to
 *              240 ticks (2 to 8 hours) — unless a quiet spell comes first;
 *   ABANDONED  handshake, 100 bytes, ACK, then nothing: expires after the 300 s idle timeout;
 *   UNANSWERED a SYN alone: expires after the 30 s handshake timeout.
 * Every six hours (QUIET_EVERY ticks) comes a quiet spell of QUIET_TICKS (20 minutes): no frame
 * at all, longer than every timeout (idle 300 s, TIME_WAIT forgotten after 480 s). Connections
 * open when it starts are abandoned by their lane: they expire by idle timeout during the spell.
 * No connection starts in the last 360 s, so those still open when the capture ends, reported as
 * capture_end, are LONG ones; every other one has expired or closed by then. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pktbuild.h"
#include "run.h"
#include "script.h"

/* Under ASan + UBSan (tests/CMakeLists.txt leaves SOAK_FULL out) the same 48 hours with a
 * quarter of the clients, so the sanitized suite stays fast. */
#ifdef SOAK_FULL
#define SOAK_LANES 2000
#else
#define SOAK_LANES 500
#endif

enum {
    LANES = SOAK_LANES,
    SERVERS = 64,
    TICKS = 48 * 30,   /* 48 hours of 120-second ticks */
    QUIET_EVERY = 180, /* six hours */
    QUIET_TICKS = 10,  /* twenty minutes */
    WINDOWS = TICKS / QUIET_EVERY,
    MAX_FLOWS = 65536,
};
#define TICK (120 * SEC)

enum kind { SHORT, LONG, ABANDONED, UNANSWERED };
enum lane_state { LANE_IDLE, LANE_OPEN };

struct lane {
    struct session s;    /* the current connection */
    struct session last; /* the last one closed by FIN, for its late ACK */
    enum lane_state state;
    enum kind kind;
    uint32_t cycle;
    int next_tick;       /* IDLE: when the next connection starts */
    int end_tick;        /* LONG: when it closes */
    int late_tick;       /* a late ACK of `last` is due then; -1: none */
    bool late_during;    /* it falls inside TIME_WAIT (else after it) */
    uint32_t last_cycle; /* the cycle `last` was */
};

/* What the capture holds, counted as it is written: the expected results. */
struct expect {
    uint8_t *records; /* per (lane, cycle): connection records to be written, 0 to 2 */
    uint64_t frames;
    uint64_t conns;
    uint64_t fin, timeout, capture_end;
    uint64_t during_tw[WINDOWS], after_tw[WINDOWS]; /* late ACKs, by six-hour window */
    int64_t last_ns;
};

static uint32_t mix(uint32_t a, uint32_t b) {
    uint32_t h = a * 0x9E3779B1u ^ (b + 0x7F4A7C15u) * 0x85EBCA77u;
    h ^= h >> 15;
    h *= 0xC2B2AE3Du;
    return h ^ (h >> 13);
}

/* 60 % long, 25 % short, 10 % abandoned, 5 % unanswered; every lane's first is unanswered, so
 * that every client has its host entry (the syn_flood and port_scan counters: slots claimed once
 * per host, never freed, reused for other hosts when the table is full) from the first minutes
 * on — warm-up ends when every host has been seen, as on a sensor. */
static enum kind kind_of(uint32_t lane, uint32_t cycle) {
    uint32_t r = cycle == 0 ? 99 : mix(lane, cycle) % 100;
    return r < 60 ? LONG : r < 85 ? SHORT : r < 95 ? ABANDONED : UNANSWERED;
}

/* The first QUIET_TICKS of every six-hour window but the first. */
static bool quiet(int tick) {
    return tick >= QUIET_EVERY && tick % QUIET_EVERY < QUIET_TICKS;
}

static void lane_start(struct lane *l, uint32_t lane, struct cap *c, int tick, struct expect *e) {
    struct pb_frame f = pb_tcp4();
    f.src[0] = 10, f.src[1] = (uint8_t)(1 + lane / 250), f.src[2] = (uint8_t)(lane % 250);
    f.src[3] = 1;
    f.dst[0] = 10, f.dst[1] = 200, f.dst[2] = (uint8_t)(lane % SERVERS), f.dst[3] = 1;
    f.sport = (uint16_t)(1024 + l->cycle); /* a new port each connection: no 4-tuple reused */
    f.dport = 443;
    session_init(&l->s, c->w, &c->clock, &f, CISN + l->cycle, SISN);
    e->records[lane * TICKS + l->cycle] = 1;
    l->kind = kind_of(lane, l->cycle++);
    e->conns++;
    if (l->kind == UNANSWERED) {
        session_syn(&l->s);
        e->timeout++; /* handshake timeout */
        l->next_tick = tick + 1;
        return;
    }
    session_handshake(&l->s);
    session_data(&l->s, SESSION_CLIENT, 100);
    session_ack(&l->s, SESSION_SERVER);
    if (l->kind == ABANDONED) {
        e->timeout++; /* idle timeout */
        l->next_tick = tick + 1;
    } else if (l->kind == LONG) {
        l->state = LANE_OPEN;
        l->end_tick = tick + 60 + (int)(mix(lane, l->cycle ^ 0x5bd1e995u) % 181);
    } else {
        session_close(&l->s, SESSION_CLIENT);
        e->fin++;
        l->last = l->s;
        l->last_cycle = l->cycle - 1;
        /* Every fourth short connection gets a late ACK 120 s on, every fourth other one 360 s
         * on (inside TIME_WAIT; past it but not yet forgotten). */
        uint32_t which = l->cycle % 4;
        l->late_tick = which == 0 ? tick + 1 : which == 1 ? tick + 3 : -1;
        l->late_during = which == 0;
        l->next_tick = tick + 1 + (int)(l->cycle % 3);
    }
}

/* The client retransmits its final ACK (the one that acknowledged the server's FIN). Inside
 * TIME_WAIT it is one of the closed connection's late_packets; past it the connection is no
 * longer the packet's (packet_after_time_wait), and the packet starts a connection of its own:
 * midstream, one frame, expiring idle — a second record for the same ports. */
static void lane_late_ack(struct lane *l, uint32_t lane, int tick, struct expect *e) {
    struct session *s = &l->last;
    session_write_segment(s, SESSION_CLIENT, PB_ACK, s->snd_nxt[SESSION_CLIENT],
                          s->snd_nxt[SESSION_SERVER], 0);
    e->frames++;
    int w = tick / QUIET_EVERY;
    if (l->late_during) {
        e->during_tw[w]++;
    } else {
        e->after_tw[w]++;
        e->records[lane * TICKS + l->last_cycle]++;
        e->conns++;
        e->timeout++;
    }
    l->late_tick = -1;
}

static void lane_tick(struct lane *l, uint32_t lane, struct cap *c, int tick, struct expect *e) {
    size_t before = l->s.packets;
    if (l->late_tick == tick && tick < TICKS - 3) /* as connections: none in the last 360 s */
        lane_late_ack(l, lane, tick, e);
    if (l->state == LANE_OPEN && tick == l->end_tick) {
        session_close(&l->s, SESSION_CLIENT);
        e->fin++;
        l->state = LANE_IDLE;
        l->next_tick = tick + 1;
    } else if (l->state == LANE_OPEN && (tick + (int)lane) % 2 == 0) {
        session_ack(&l->s, SESSION_CLIENT); /* keepalive: every 240 s */
    } else if (l->state == LANE_IDLE && tick >= l->next_tick && tick < TICKS - 3) {
        /* None starts in the last three ticks (360 s): every abandoned or unanswered one has
         * expired (300 s, 30 s) by the last frame, so those still open at the end are LONG. */
        before = 0;
        lane_start(l, lane, c, tick, e);
    }
    e->frames += l->s.packets - before;
    cr_assert(l->s.ok && l->last.ok, "a frame could not be written");
}

/* A quiet spell begins: the lane's open connection is abandoned (it will expire idle), and a
 * late ACK due inside the spell is not sent. */
static void lane_quiet(struct lane *l, int tick, struct expect *e) {
    if (l->state == LANE_OPEN)
        e->timeout++;
    l->state = LANE_IDLE;
    l->late_tick = -1;
    l->next_tick = tick + QUIET_TICKS;
}

static const char *soak_capture(struct expect *e) {
    static struct cap c;
    struct lane *lanes = calloc(LANES, sizeof *lanes);
    cr_assert(lanes);
    memset(e, 0, sizeof *e);
    e->records = calloc((size_t)LANES * TICKS, 1);
    cr_assert(e->records);
    cap_open(&c, "soak.pcap");
    c.clock.step_ns = 1000; /* 1 µs between the frames of one tick */
    for (uint32_t i = 0; i < LANES; i++) {
        lanes[i].late_tick = -1;
        lanes[i].next_tick = (int)(i % 8);       /* a staggered start */
        lanes[i].s.ok = lanes[i].last.ok = true; /* nothing written yet */
    }
    for (int tick = 0; tick < TICKS; tick++) {
        if (quiet(tick)) {
            if (!quiet(tick - 1))
                for (uint32_t i = 0; i < LANES; i++)
                    lane_quiet(&lanes[i], tick, e);
            continue;
        }
        cap_at(&c, T0 + tick * TICK);
        for (uint32_t i = 0; i < LANES; i++)
            lane_tick(&lanes[i], i, &c, tick, e);
        e->last_ns = (int64_t)c.clock.now_ns - 1000;
    }
    for (uint32_t i = 0; i < LANES; i++)
        e->capture_end += lanes[i].state == LANE_OPEN;
    cap_close(&c);
    free(lanes);
    return c.path;
}

/* ==== running it, its resident memory sampled ================================================= */

/* One sample of the running process: its resident set (/proc/PID/statm) and how far its output
 * file had got (the records are in the order they were made, so the last stats record before
 * that offset says how far the replay was). */
struct rss_sample {
    int64_t rss_bytes;
    int64_t out_bytes;
};

struct rss_samples {
    struct rss_sample at[20000];
    int n;
};

/* The resident set of pid in bytes, or -1 once it is gone. */
static int64_t resident_bytes(pid_t pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/statm", (int)pid);
    FILE *f = fopen(path, "r");
    long long size, resident;
    int got = f ? fscanf(f, "%lld %lld", &size, &resident) : 0;
    if (f)
        fclose(f);
    return got == 2 ? resident * sysconf(_SC_PAGESIZE) : -1;
}

/* Runs SHAKEDOWN_BIN with args (stdout and stderr to /dev/null: the records go to out) and
 * samples it every 2 ms until it exits; returns its exit status. */
static int run_sampled(const char *const *args, const char *out, struct rss_samples *rs) {
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        const char *argv[32] = {SHAKEDOWN_BIN};
        for (size_t i = 0; args[i] && i < 30; i++)
            argv[i + 1] = args[i];
        execv(SHAKEDOWN_BIN, (char *const *)argv);
        _exit(127);
    }
    cr_assert(pid > 0);
    int ws = 0;
    rs->n = 0;
    while (waitpid(pid, &ws, WNOHANG) == 0) {
        struct stat st;
        int64_t rss = resident_bytes(pid);
        if (rss > 0 && rs->n < (int)(sizeof rs->at / sizeof rs->at[0]))
            rs->at[rs->n++] = (struct rss_sample){rss, stat(out, &st) == 0 ? st.st_size : 0};
        nanosleep(&(struct timespec){0, 2000000}, NULL);
    }
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

/* ==== reading the records ==================================================================== */

struct stats_point {
    int64_t packets, memory_used, open, reported;
    int64_t offset; /* where in the output the record ends */
};

struct seen {
    uint8_t *records; /* per (lane, cycle): connection records seen */
    uint64_t conns, fin, timeout, capture_end, other;
    uint64_t fin_w[WINDOWS], idle_w[WINDOWS], handshake_w[WINDOWS];
    uint64_t during_tw[WINDOWS], after_tw[WINDOWS];
    struct stats_point stats[4096];
    int nstats;
    struct json_object *summary;
};

/* The six-hour window a record's time falls in. */
static int window_of(double ts) {
    int64_t ns = (int64_t)(ts * 1e9 + 0.5) - T0;
    int w = (int)(ns / (QUIET_EVERY * TICK));
    cr_assert(w >= 0 && w < WINDOWS, "time %.6f outside the capture", ts);
    return w;
}

static double dbl_at(struct json_object *o, const char *path) {
    struct json_object *v = json_at(o, path);
    cr_assert(v, "no %s", path);
    return json_object_get_double(v);
}

static void see_connection(struct seen *s, struct json_object *o) {
    /* Lane from the client address 10.(1 + lane / 250).(lane % 250).1, cycle from the port. */
    unsigned a, b, c, d;
    cr_assert_eq(sscanf(json_str_or(o, "src_ip"), "%u.%u.%u.%u", &a, &b, &c, &d), 4);
    int64_t lane = (int64_t)(b - 1) * 250 + c, cycle = json_int_at(o, "src_port") - 1024;
    cr_assert(a == 10 && lane >= 0 && lane < LANES && cycle >= 0 && cycle < TICKS,
              "a connection the capture does not hold: %s", json_object_to_json_string(o));
    s->records[lane * TICKS + cycle]++;
    s->conns++;
    const char *how = json_str_or(o, "close.how");
    int w = window_of(dbl_at(o, "end_ts"));
    if (strcmp(how, "fin") == 0) {
        s->fin++;
        s->fin_w[w]++;
    } else if (strcmp(how, "timeout") == 0) {
        s->timeout++;
        /* S0: a SYN alone (handshake timeout); S1: established and then silent (idle). */
        if (strcmp(json_str_or(o, "conn_state"), "S0") == 0)
            s->handshake_w[w]++;
        else
            s->idle_w[w]++;
    } else if (strcmp(how, "capture_end") == 0) {
        s->capture_end++;
    } else {
        s->other++;
    }
}

static void see_line(struct seen *s, const char *line, int64_t offset) {
    struct json_object *o = json_parse_record(line);
    cr_assert(o, "not JSON: %.200s", line);
    const char *type = json_str_or(o, "type");
    if (strcmp(type, "connection") == 0) {
        see_connection(s, o);
    } else if (strcmp(type, "anomaly") == 0) {
        const char *name = json_str_or(o, "name");
        if (strcmp(name, "packet_during_time_wait") == 0)
            s->during_tw[window_of(dbl_at(o, "ts"))]++;
        else if (strcmp(name, "packet_after_time_wait") == 0)
            s->after_tw[window_of(dbl_at(o, "ts"))]++;
    } else if (strcmp(type, "stats") == 0 && s->nstats < 4096) {
        s->stats[s->nstats++] = (struct stats_point){
            json_int_at(o, "packets"), json_int_at(o, "memory_used_bytes"),
            json_int_at(o, "connections_open"), json_int_at(o, "connections_reported"), offset};
    } else if (strcmp(type, "summary") == 0) {
        s->summary = o;
        return;
    }
    json_object_put(o);
}

static void read_records(struct seen *s, const char *path) {
    FILE *f = fopen(path, "r");
    cr_assert(f, "no output %s", path);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int64_t offset = 0;
    while ((len = getline(&line, &cap, f)) > 0) {
        offset += len;
        see_line(s, line, offset);
    }
    free(line);
    fclose(f);
}

/* Which eighth of the replay (six hours of capture time, about: the traffic is steady but for
 * the quiet spells) packets read fall in. */
static int eighth_of(int64_t packets, int64_t frames) {
    int eighth = (int)(packets * WINDOWS / frames);
    return eighth < WINDOWS ? eighth : WINDOWS - 1;
}

/* The packets read when the output had reached offset: those of the last stats record written
 * by then (0 before the first). */
static int64_t packets_by(const struct seen *s, int64_t offset) {
    int64_t packets = 0;
    for (int i = 0; i < s->nstats && s->stats[i].offset <= offset; i++)
        packets = s->stats[i].packets;
    return packets;
}

/* The process's own resident memory, not only the tables' mark: after warm-up (the first twelve
 * hours of capture time, as for the tables) its peak stays within 2 % and 1 MB of where it
 * stood then. The 1 MB: the writer's queue of 1,024 records (under 1 MB, writer.h) touches its
 * pages only as deep as it has ever been, which is how far the writer thread fell behind — the
 * machine's scheduling, not the capture. Measured: +0.4 %; with --idle-timeout 1000000 (no
 * connection expires idle, the abandoned ones pile up) +48 %, 21 to 31 MB. Under ASan the
 * resident set is the sanitizer's (its quarantine grows by design): logged, not judged. Both
 * curves, the tables' and the resident set's, go to the log by eighths of the packets read. */
static void check_resident_flat(const struct seen *s, const struct rss_samples *rs,
                                int64_t frames) {
    cr_assert_geq(rs->n, 20, "only %d resident-memory samples", rs->n);
    int64_t warm = -1, peak = 0, eighth_max[WINDOWS] = {0}, tables_max[WINDOWS] = {0};
    for (int i = 0; i < s->nstats; i++) {
        int eighth = eighth_of(s->stats[i].packets, frames);
        if (s->stats[i].memory_used > tables_max[eighth])
            tables_max[eighth] = s->stats[i].memory_used;
    }
    for (int i = 0; i < rs->n; i++) {
        int64_t packets = packets_by(s, rs->at[i].out_bytes), rss = rs->at[i].rss_bytes;
        int eighth = eighth_of(packets, frames);
        eighth_max[eighth] = rss > eighth_max[eighth] ? rss : eighth_max[eighth];
        if (packets < frames / WINDOWS * 2)
            continue;
        if (warm < 0)
            warm = rss;
        peak = rss > peak ? rss : peak;
    }
    for (int w = 0; w < WINDOWS; w++)
        cr_log_info("soak memory: hours %d-%d: tables %.2f MB, resident %.2f MB", w * 6, w * 6 + 6,
                    (double)tables_max[w] / 1e6, (double)eighth_max[w] / 1e6);
    cr_log_info("soak rss: %d samples, after warm-up %" PRId64 " bytes, peak %" PRId64, rs->n, warm,
                peak);
    cr_assert_gt(warm, 0, "no resident-memory sample after warm-up");
#ifdef SOAK_FULL
    cr_expect_leq(peak, warm + warm / 50 + 1000000,
                  "resident memory grew from %" PRId64 " to %" PRId64 " bytes", warm, peak);
#endif
}

Test(soak, two_days_of_churn, .timeout = 120) {
    struct expect e;
    const char *pcap = soak_capture(&e);
    const char *out = tmp_path("soak.json");
    /* A stats record every 20 ms of wall clock: some dozens over a replay of a second or so. */
    const char *args[] = {"-r",   pcap,          "-F",    "json", "-o", out, "--stats-interval",
                          "0.02", "--max-flows", "65536", NULL};
    struct rss_samples *rs = malloc(sizeof *rs);
    cr_assert(rs);
    int status = run_sampled(args, out, rs);
    cr_assert_eq(status, 0, "exit status %d (run it by hand to see why)", status);
    struct seen *s = calloc(1, sizeof *s);
    cr_assert(s);
    s->records = calloc((size_t)LANES * TICKS, 1);
    cr_assert(s->records);
    read_records(s, out);
    cr_assert(s->summary, "no summary");

    /* Every connection written is reported, once, and ends as the capture says. */
    cr_log_info("soak: %" PRIu64 " frames, %" PRIu64 " connections (%" PRIu64 " fin, %" PRIu64
                " timeout, %" PRIu64 " capture_end), %d stats records",
                e.frames, e.conns, e.fin, e.timeout, e.capture_end, s->nstats);
    uint64_t wrong = 0, during = 0;
    for (size_t i = 0; i < (size_t)LANES * TICKS; i++)
        wrong += s->records[i] != e.records[i];
    cr_expect_eq(wrong, 0, "%" PRIu64 " connections reported a wrong number of times", wrong);
    cr_expect_eq(s->conns, e.conns);
    cr_expect_eq(s->fin, e.fin);
    cr_expect_eq(s->timeout, e.timeout);
    cr_expect_eq(s->capture_end, e.capture_end);
    cr_expect_eq(s->other, 0, "%" PRIu64 " connections ended otherwise (evicted?)", s->other);
    cr_expect_eq(json_int_at(s->summary, "connections.total"), (int64_t)e.conns);
    cr_expect_eq(json_int_at(s->summary, "connections.by_close.evicted"), -1); /* none */
    for (int w = 0; w < WINDOWS; w++)
        during += e.during_tw[w];
    cr_expect_eq(json_int_at(s->summary, "connections.late_packets"), (int64_t)during);

    /* Every frame counted, over the whole 48 hours: first and last frame times exact. */
    cr_expect_eq(json_int_at(s->summary, "packets"), (int64_t)e.frames);
    cr_expect_eq(json_int_at(s->summary, "analysed"), (int64_t)e.frames);
    expect_time(s->summary, "first_ts", T0);
    expect_time(s->summary, "last_ts", e.last_ns);
    expect_packet_accounting(s->summary);

    /* Expiry and TIME_WAIT at work in every six-hour window: FIN closes, idle and handshake
     * timeouts, and the late ACKs exactly as scheduled — those 120 s after the close inside
     * TIME_WAIT (counted above, in the summary only), those 360 s after it past TIME_WAIT
     * (240 s) but still remembered (480 s): packet_after_time_wait, in the window they were
     * sent in. */
    for (int w = 0; w < WINDOWS; w++) {
        cr_expect_gt(s->fin_w[w], 0, "window %d: no FIN close", w);
        cr_expect_gt(s->idle_w[w], 0, "window %d: no idle timeout", w);
        cr_expect_gt(s->handshake_w[w], 0, "window %d: no handshake timeout", w);
        cr_expect_gt(e.during_tw[w], 0);
        cr_expect_gt(e.after_tw[w], 0);
        cr_expect_eq(s->during_tw[w], 0, "window %d: packet_during_time_wait for an ACK", w);
        cr_expect_eq(s->after_tw[w], e.after_tw[w], "window %d: packet_after_time_wait", w);
    }

    /* The curve: memory in use after warm-up — the first twelve hours, with the first quiet
     * spell, when all the open connections expire at once and as many open again right after —
     * stays within 2 % of where it stood then. A table that never let go would hold every one
     * of the 47,000 connections (632 bytes and a bucket each, 30 MB); the open ones are about
     * 2,000. */
    cr_assert_geq(s->nstats, 10, "only %d stats records: no curve to judge", s->nstats);
    int64_t warm = -1, peak = 0, open_max = 0, prev_packets = 0, prev_reported = 0;
    for (int i = 0; i < s->nstats; i++) {
        const struct stats_point *p = &s->stats[i];
        cr_log_info("soak curve: packets %" PRId64 " open %" PRId64 " memory_used %" PRId64,
                    p->packets, p->open, p->memory_used);
        /* Counters only grow (none wrapped). */
        cr_expect_geq(p->packets, prev_packets);
        cr_expect_geq(p->reported, prev_reported);
        prev_packets = p->packets;
        prev_reported = p->reported;
        open_max = p->open > open_max ? p->open : open_max;
        if (p->packets < (int64_t)e.frames / WINDOWS * 2)
            continue;
        if (warm < 0)
            warm = p->memory_used;
        peak = p->memory_used > peak ? p->memory_used : peak;
    }
    cr_assert_gt(warm, 0, "no stats record after warm-up");
    cr_expect_leq(peak * 50, warm * 51, "memory grew from %" PRId64 " to %" PRId64 " bytes", warm,
                  peak);
    /* Most lanes hold a long-lived connection most of the time (60 % of the connections, and
     * the longest by far): over half of them open at once — 1,000 of 2,000 at full size. */
    cr_expect_geq(open_max, LANES / 2, "at most %" PRId64 " open at once", open_max);
    check_resident_flat(s, rs, (int64_t)e.frames);
    free(rs);
    json_object_put(s->summary);
    free(s->records);
    free(e.records);
    free(s);
}
