/* End-to-end tests of resource exhaustion (issue 7): a SYN flood from millions of spoofed
 * sources, a million simultaneous half-open connections, and a capture that never closes
 * anything. The captures are far too large for the disk (5 million SYNs are 350 MB of pcap), so a
 * thread of this test generates each one into a pipe that is shakedown's standard input
 * (`-r -`), while the test reads shakedown's JSON lines from another pipe as they come, without
 * keeping them: it counts connection records, checks their uids are unique, tallies close
 * reasons, conn_states and histories, and keeps the summary (the last line).
 *
 * What every test checks:
 *  - every connection is reported exactly once: as many connection records as connections in the
 *    capture, no uid twice, and the summary's connections.total / by_close / by_conn_state equal
 *    the tallies of the records themselves;
 *  - the packet accounting of docs/schema.md: packets = filtered + analysed + checksum_dropped +
 *    decode_failed, and decode_failed = the sum of decode_errors;
 *  - memory: the peak RSS of the shakedown child (getrusage(RUSAGE_CHILDREN).ru_maxrss, see
 *    rss_bound_kb for the bound and why) stays within what --max-flows allows;
 *  - the output is well-formed: every line is one JSON object; the first HEAD_LINES lines and the
 *    summary are validated against docs/shakedown.schema.json by tests/schema/validate.py.
 *
 * Sizes: the full sizes of issue 7 run in release builds (EXHAUSTION_FULL, set by
 * tests/CMakeLists.txt unless SHAKEDOWN_SANITIZE); under AddressSanitizer the same scenarios run
 * scaled down, with a table small enough that eviction still happens, and without the RSS check
 * (ASan's shadow memory and quarantine make RSS meaningless). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "capwrite.h"
#include "pktbuild.h"
#include "run.h"

#define T0_NS 1704067200000000000ull /* 2024-01-01T00:00:00Z */
#define STEP_NS 1000ull              /* 1 µs between packets: 1 Mpps, a plausible flood rate */
#define DEFAULT_MAX_FLOWS 262144u    /* shakedown(1), --max-flows */

#ifdef EXHAUSTION_FULL
#define FLOOD_SYNS 5000000u      /* issue 7: 5 million spoofed sources */
#define FLOOD_MAX_FLOWS 0u       /* 0: shakedown's default (262144), no option given */
#define HALF_OPEN_CONNS 1000000u /* a million half-open connections */
#define HALF_OPEN_MAX_FLOWS 131072u
#define HALF_OPEN_BATCH 50000u
#define NEVER_CLOSED_CONNS 1000000u
#define NEVER_CLOSED_MAX_FLOWS 100000u
#define NEVER_CLOSED_WINDOW 25000u
#else
#define FLOOD_SYNS 200000u
#define FLOOD_MAX_FLOWS 16384u
#define HALF_OPEN_CONNS 100000u
#define HALF_OPEN_MAX_FLOWS 16384u
#define HALF_OPEN_BATCH 5000u
#define NEVER_CLOSED_CONNS 60000u
#define NEVER_CLOSED_MAX_FLOWS 8192u
#define NEVER_CLOSED_WINDOW 2000u
#endif

#define HEAD_LINES 2000 /* lines of each run validated against the schema (with the summary) */

/* ---- the documented memory of the flow tables ---------------------------------------------- */

/* docs/schema.md (stats record, memory_reserved_bytes): the flow tables, block pools and host
 * counters take 281675904 bytes with the default --max-flows 262144 and 8022144 with --max-flows
 * 1024, "all reserved at the start" (the figures tracker_memory() gives). Two points of a line: per
 * connection (live entry, its closed-table entry, their hash buckets, one anomaly-list and one
 * holes block) (281675904 - 8022144) / (262144 - 1024) = 1048 bytes, and a fixed part (host
 * counters) of 8022144 - 1024 × 1048 = 6948992 bytes. */
#define DOC_MEM_DEFAULT 281675904ull
#define DOC_MEM_1024 8022144ull
#define DOC_PER_FLOW ((DOC_MEM_DEFAULT - DOC_MEM_1024) / (DEFAULT_MAX_FLOWS - 1024u))
#define DOC_FIXED (DOC_MEM_1024 - 1024u * DOC_PER_FLOW)

static uint64_t documented_table_bytes(uint32_t max_flows) {
    return DOC_FIXED + DOC_PER_FLOW * max_flows;
}

/* ---- capture generators (run in a thread, writing into shakedown's standard input) -------- */

struct gen {
    void (*write)(struct gen *g, struct capwrite *w);
    uint32_t n;      /* connections */
    uint32_t window; /* connections in flight at once (half-open, never-closed) */
    int fd;          /* the write end of shakedown's stdin pipe */
    uint64_t packets;
    bool ok;
};

/* Client i's address, 10.0.0.0/8 plus i + 1: distinct for every i < 2^24 - 1. */
static void client_addr(uint8_t *a, uint32_t i) {
    uint32_t v = i + 1;
    a[0] = 10;
    a[1] = (uint8_t)(v >> 16);
    a[2] = (uint8_t)(v >> 8);
    a[3] = (uint8_t)v;
}

static bool gen_put(struct gen *g, struct capwrite *w, const struct pb_frame *f) {
    uint8_t buf[256];
    size_t len = pb_build(f, buf, sizeof buf);
    if (len == 0 || !capwrite_packet(w, 0, T0_NS + g->packets * STEP_NS, buf, len))
        return false;
    g->packets++;
    return true;
}

/* One TCP segment between client i (10.x.y.z:sport) and server 192.0.2.80:443. */
static struct pb_frame conn_frame(uint32_t i, bool from_client, uint8_t flags, uint32_t seq,
                                  uint32_t ack, size_t payload) {
    struct pb_frame f = pb_tcp4();
    uint8_t client[4], server[4] = {192, 0, 2, 80};
    client_addr(client, i);
    uint16_t cport = (uint16_t)(1024u + i % 60000u);
    memcpy(from_client ? f.src : f.dst, client, 4);
    memcpy(from_client ? f.dst : f.src, server, 4);
    f.sport = from_client ? cport : 443;
    f.dport = from_client ? 443 : cport;
    f.flags = flags;
    f.seq = seq;
    f.ack = ack;
    f.payload_len = payload;
    return f;
}

static uint32_t client_isn(uint32_t i) {
    return 0x10000000u + i * 2654435761u;
}

static uint32_t server_isn(uint32_t i) {
    return 0x80000000u + i * 40503u;
}

/* The flood: n SYNs to 192.0.2.1:80, each from its own spoofed source address, none answered. */
static void write_flood(struct gen *g, struct capwrite *w) {
    for (uint32_t i = 0; i < g->n; i++) {
        struct pb_frame f = pb_tcp4();
        client_addr(f.src, i);
        memcpy(f.dst, (const uint8_t[]){192, 0, 2, 1}, 4);
        f.sport = (uint16_t)(1024u + i % 64000u);
        f.dport = 80;
        f.flags = PB_SYN;
        f.seq = client_isn(i);
        f.win = 1024;
        if (!gen_put(g, w, &f))
            return;
    }
    g->ok = true;
}

/* Half-open: in batches of `window` connections, every client of the batch sends its SYN, then
 * the server answers each with a SYN/ACK; no client ever sends the final ACK. */
static void write_half_open(struct gen *g, struct capwrite *w) {
    for (uint32_t b = 0; b < g->n; b += g->window) {
        uint32_t end = b + g->window < g->n ? b + g->window : g->n;
        for (uint32_t i = b; i < end; i++) {
            struct pb_frame f = conn_frame(i, true, PB_SYN, client_isn(i), 0, 0);
            if (!gen_put(g, w, &f))
                return;
        }
        for (uint32_t i = b; i < end; i++) {
            struct pb_frame f =
                conn_frame(i, false, PB_SYN | PB_ACK, server_isn(i), client_isn(i) + 1, 0);
            if (!gen_put(g, w, &f))
                return;
        }
    }
    g->ok = true;
}

/* Never closed: in windows of `window` connections, round by round over the window: SYN,
 * SYN/ACK, ACK, 100 bytes from the client, 200 bytes from the server (acknowledging the 100),
 * the client's ACK of them. No FIN, no RST, and the capture (6 µs per connection) ends long
 * before any timeout. */
static void write_never_closed(struct gen *g, struct capwrite *w) {
    for (uint32_t b = 0; b < g->n; b += g->window) {
        uint32_t end = b + g->window < g->n ? b + g->window : g->n;
        for (int step = 0; step < 6; step++) {
            for (uint32_t i = b; i < end; i++) {
                uint32_t c = client_isn(i) + 1, s = server_isn(i) + 1;
                struct pb_frame f;
                switch (step) {
                case 0:
                    f = conn_frame(i, true, PB_SYN, c - 1, 0, 0);
                    break;
                case 1:
                    f = conn_frame(i, false, PB_SYN | PB_ACK, s - 1, c, 0);
                    break;
                case 2:
                    f = conn_frame(i, true, PB_ACK, c, s, 0);
                    break;
                case 3:
                    f = conn_frame(i, true, PB_PSH | PB_ACK, c, s, 100);
                    break;
                case 4:
                    f = conn_frame(i, false, PB_PSH | PB_ACK, s, c + 100, 200);
                    break;
                default:
                    f = conn_frame(i, true, PB_ACK, c + 100, s + 200, 0);
                    break;
                }
                if (!gen_put(g, w, &f))
                    return;
            }
        }
    }
    g->ok = true;
}

static void *gen_thread(void *arg) {
    struct gen *g = arg;
    struct capwrite *w = capwrite_fdopen(g->fd, CAPWRITE_PCAP_USEC, 1, 65535);
    if (!w) {
        close(g->fd);
        return NULL;
    }
    g->write(g, w);
    if (!capwrite_close(w)) /* a failed write: shakedown went away early */
        g->ok = false;
    return NULL;
}

/* ---- reading the output as it comes -------------------------------------------------------- */

#define TALLY_KEYS 32

/* Counts by string value (close reasons, conn_states, histories, anomaly names). */
struct counts {
    char key[TALLY_KEYS][40];
    uint64_t n[TALLY_KEYS];
    int used;
};

static void counts_add(struct counts *c, const char *v, size_t len) {
    if (len >= sizeof c->key[0])
        len = sizeof c->key[0] - 1;
    for (int i = 0; i < c->used; i++) {
        if (strncmp(c->key[i], v, len) == 0 && c->key[i][len] == '\0') {
            c->n[i]++;
            return;
        }
    }
    if (c->used == TALLY_KEYS)
        return;
    memcpy(c->key[c->used], v, len);
    c->key[c->used][len] = '\0';
    c->n[c->used++] = 1;
}

static uint64_t counts_get(const struct counts *c, const char *key) {
    for (int i = 0; i < c->used; i++)
        if (strcmp(c->key[i], key) == 0)
            return c->n[i];
    return 0;
}

struct tally {
    uint64_t lines, conns, anomaly_lines, other_lines, malformed;
    uint64_t not_final, half_open_true, dup_uids, bad_uids, after_summary;
    struct counts close_how, conn_state, history, anomaly;
    uint64_t *uid_set; /* open addressing on a 64-bit hash of the uid; 0 = empty */
    size_t uid_mask;
    char *summary;
    FILE *head; /* the first HEAD_LINES lines, then the summary: for validate.py */
    char head_path[256];
};

static void tally_init(struct tally *t, uint32_t expected_conns) {
    memset(t, 0, sizeof *t);
    size_t cap = 1024;
    while (cap < (size_t)expected_conns * 2)
        cap <<= 1;
    t->uid_set = calloc(cap, sizeof *t->uid_set);
    cr_assert(t->uid_set);
    t->uid_mask = cap - 1;
    snprintf(t->head_path, sizeof t->head_path, "%s", tmp_path("head.json"));
    t->head = fopen(t->head_path, "w");
    cr_assert(t->head);
}

static void tally_free(struct tally *t) {
    free(t->uid_set);
    free(t->summary);
    if (t->head)
        fclose(t->head);
    unlink(t->head_path);
}

/* The string value after `"key":"` in line, its length in *len; NULL if absent. */
static const char *field(const char *line, const char *key, size_t *len) {
    const char *p = strstr(line, key);
    if (!p)
        return NULL;
    p += strlen(key);
    const char *q = strchr(p, '"');
    if (!q)
        return NULL;
    *len = (size_t)(q - p);
    return p;
}

/* FNV-1a, 64 bits; a collision between two of 5 million uids (probability ~1e-6) would show as a
 * false duplicate, never hide a real one. */
static uint64_t uid_hash(const char *s, size_t len) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
    return h ? h : 1;
}

static void uid_insert(struct tally *t, const char *uid, size_t len) {
    uint64_t h = uid_hash(uid, len);
    for (size_t i = h & t->uid_mask;; i = (i + 1) & t->uid_mask) {
        if (t->uid_set[i] == h) {
            t->dup_uids++;
            return;
        }
        if (t->uid_set[i] == 0) {
            t->uid_set[i] = h;
            return;
        }
    }
}

static void tally_line(struct tally *t, char *line, size_t len) {
    t->lines++;
    if (t->lines <= HEAD_LINES)
        fprintf(t->head, "%.*s\n", (int)len, line);
    if (len < 2 || line[0] != '{' || line[len - 1] != '}') {
        t->malformed++;
        return;
    }
    line[len] = '\0';
    if (t->summary) /* the summary must be the last line */
        t->after_summary++;
    /* Every 4096th line is parsed as JSON in full (all of them would take longer than the run). */
    if ((t->lines & 4095) == 1) {
        struct json_object *o = json_parse_record(line);
        if (!o || !json_object_is_type(o, json_type_object))
            t->malformed++;
        json_object_put(o);
    }
    size_t n;
    const char *v;
    if (strncmp(line, "{\"type\":\"connection\",", 21) == 0) {
        t->conns++;
        if ((v = field(line, "\"uid\":\"", &n)) && n == 17 && v[0] == 'C')
            uid_insert(t, v, n);
        else
            t->bad_uids++;
        if ((v = field(line, "\"close\":{\"how\":\"", &n)))
            counts_add(&t->close_how, v, n);
        if ((v = field(line, "\"conn_state\":\"", &n)))
            counts_add(&t->conn_state, v, n);
        if ((v = field(line, "\"history\":\"", &n)))
            counts_add(&t->history, v, n);
        if (!strstr(line, "\"final\":true"))
            t->not_final++;
        if (strstr(line, "\"half_open\":true"))
            t->half_open_true++;
    } else if (strncmp(line, "{\"type\":\"anomaly\",", 18) == 0) {
        t->anomaly_lines++;
        if ((v = field(line, "\"name\":\"", &n)))
            counts_add(&t->anomaly, v, n);
    } else if (strncmp(line, "{\"type\":\"summary\",", 18) == 0) {
        free(t->summary);
        t->summary = strdup(line);
        t->after_summary = 0;
    } else {
        t->other_lines++;
    }
}

/* ---- running shakedown on a generated stream ----------------------------------------------- */

struct stream_run {
    int status;
    long maxrss_kb; /* getrusage(RUSAGE_CHILDREN).ru_maxrss after it ended */
    double seconds;
    char err[4096];
};

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs shakedown -F json -r - [opts] with g's capture on its standard input; every output line
 * goes to t. */
static void run_streamed(struct gen *g, const char *const *opts, struct tally *t,
                         struct stream_run *r) {
    int in[2], out[2];
    cr_assert(pipe(in) == 0 && pipe(out) == 0);
    const char *errp = tmp_path("stream.err");
    signal(SIGPIPE, SIG_IGN); /* the generator sees EPIPE if shakedown dies early */
    double t0 = now_seconds();
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        int err = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (err < 0 || dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(err, 2) < 0)
            _exit(126);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        const char *argv[32] = {SHAKEDOWN_BIN, "-F", "json", "-r", "-"};
        size_t n = 5;
        for (size_t i = 0; opts && opts[i] && n < 31; i++)
            argv[n++] = opts[i];
        argv[n] = NULL;
        execv(SHAKEDOWN_BIN, (char *const *)argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    g->fd = in[1];
    pthread_t th;
    cr_assert(pthread_create(&th, NULL, gen_thread, g) == 0);

    size_t cap = 1 << 20, have = 0;
    char *buf = malloc(cap + 1);
    cr_assert(buf);
    for (;;) {
        if (have == cap) { /* a line longer than the buffer: grow it */
            cap *= 2;
            buf = realloc(buf, cap + 1);
            cr_assert(buf);
        }
        ssize_t k = read(out[0], buf + have, cap - have);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        have += (size_t)k;
        size_t start = 0;
        for (char *nl; (nl = memchr(buf + start, '\n', have - start)) != NULL;) {
            size_t len = (size_t)(nl - (buf + start));
            tally_line(t, buf + start, len);
            start += len + 1;
        }
        memmove(buf, buf + start, have - start);
        have -= start;
    }
    if (have > 0) /* a last line without its newline */
        t->malformed++;
    free(buf);
    close(out[0]);
    int ws = 0;
    cr_assert_eq(waitpid(pid, &ws, 0), pid);
    pthread_join(th, NULL);
    r->seconds = now_seconds() - t0;
    r->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    r->maxrss_kb = ru.ru_maxrss;
    FILE *f = fopen(errp, "r");
    size_t got = f ? fread(r->err, 1, sizeof r->err - 1, f) : 0;
    r->err[got] = '\0';
    if (f)
        fclose(f);
    if (t->summary)
        fprintf(t->head, "%s\n", t->summary);
    fflush(t->head);
    cr_log_info("%s: %" PRIu64 " packets, %" PRIu64 " records, %.1f s, peak RSS %ld kB",
                criterion_current_test->name, g->packets, t->lines, r->seconds, r->maxrss_kb);
}

/* ---- checks -------------------------------------------------------------------------------- */

/* The peak RSS of shakedown on a 1-packet capture with --max-flows 1024: the program, its
 * libraries (libpcap, json-c, libcrypto, libc), stdio and json-c's reused record trees, with
 * almost nothing of the tables touched. Measured first, so that RUSAGE_CHILDREN's maxrss (the
 * largest of all children waited for) is the big run's afterwards. */
static long baseline_rss_kb(void) {
    const char *path = tmp_path("one.pcap");
    struct capwrite *w = capwrite_open(path, CAPWRITE_PCAP_USEC, 1, 65535);
    cr_assert(w);
    struct pb_frame f = pb_tcp4();
    f.flags = PB_SYN;
    uint8_t buf[128];
    size_t n = pb_build(&f, buf, sizeof buf);
    cr_assert(n > 0 && capwrite_packet(w, 0, T0_NS, buf, n) && capwrite_close(w));
    const char *args[] = {"-F", "json", "--max-flows", "1024", "-r", path, NULL};
    struct run_result r = run_shakedown(NULL, args);
    cr_assert_eq(r.status, 0, "%s", r.err);
    run_result_free(&r);
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    return ru.ru_maxrss;
}

/* The bound on shakedown's peak RSS for a given --max-flows: the documented memory of the tables
 * at that size (documented_table_bytes, counted in full even though pages never touched are not
 * resident), plus the footprint of the program without tables (baseline_rss_kb), plus 16 MB for
 * what neither covers: malloc's arenas and fragmentation, the output buffer, the record being
 * formatted. A run that keeps anything per connection beyond the table (a leak per evicted
 * connection, a table that grows past --max-flows) exceeds it: 5 million connections × only 4
 * bytes is already 20 MB. */
static long rss_bound_kb(uint32_t max_flows, long baseline_kb) {
    uint64_t bytes =
        documented_table_bytes(max_flows) + (uint64_t)baseline_kb * 1024u + 16u * 1024u * 1024u;
    return (long)(bytes / 1024u);
}

static void check_rss(const struct stream_run *r, uint32_t max_flows, long baseline_kb) {
    long bound = rss_bound_kb(max_flows, baseline_kb);
    cr_log_info("peak RSS %ld kB, bound %ld kB (tables %" PRIu64 " kB + baseline %ld kB + 16 MB)",
                r->maxrss_kb, bound, documented_table_bytes(max_flows) / 1024u, baseline_kb);
#ifdef EXHAUSTION_FULL
    cr_expect_leq(r->maxrss_kb, bound,
                  "shakedown's peak RSS %ld kB is over the bound of %ld kB for --max-flows %u",
                  r->maxrss_kb, bound, max_flows);
#endif
}

/* A summary's integer member, 0 when absent (the by_* objects list only values that occurred). */
static int64_t sum_int(struct json_object *o, const char *path) {
    int64_t v = json_int_at(o, path);
    return v < 0 ? 0 : v;
}

/* The summary's breakdown object equals the tally of the records, key by key, both ways. */
static void check_breakdown(struct json_object *summary, const char *path, const struct counts *c) {
    struct json_object *by = json_at(summary, path);
    cr_assert(by && json_object_is_type(by, json_type_object), "summary lacks %s", path);
    json_object_object_foreach(by, key, val) {
        cr_expect_eq((uint64_t)json_object_get_int64(val), counts_get(c, key),
                     "summary %s.%s = %" PRId64 ", the records say %" PRIu64, path, key,
                     json_object_get_int64(val), counts_get(c, key));
    }
    for (int i = 0; i < c->used; i++)
        cr_expect_eq(sum_int(by, c->key[i]), (int64_t)c->n[i],
                     "%" PRIu64 " records with %s %s, the summary says %" PRId64, c->n[i], path,
                     c->key[i], sum_int(by, c->key[i]));
}

/* What every run must show, whatever the scenario: see the file comment. */
static struct json_object *check_common(const struct gen *g, const struct tally *t,
                                        const struct stream_run *r) {
    cr_assert(g->ok,
              "the generator could not write the whole capture (shakedown stopped "
              "reading?); status %d, stderr: %s",
              r->status, r->err);
    cr_assert_eq(r->status, 0, "exit status %d; stderr: %s", r->status, r->err);
    cr_expect_str_empty(r->err, "a clean capture gives no message: %s", r->err);
    cr_expect_eq(t->malformed, 0, "%" PRIu64 " lines are not JSON objects", t->malformed);
    cr_expect_eq(t->other_lines, 0, "%" PRIu64 " lines of an unexpected type", t->other_lines);
    cr_assert(t->summary, "no summary line");
    cr_expect_eq(t->after_summary, 0, "the summary is not the last line");
    cr_expect_eq(t->bad_uids, 0, "%" PRIu64 " records without a well-formed uid", t->bad_uids);
    cr_expect_eq(t->dup_uids, 0, "%" PRIu64 " uids reported twice", t->dup_uids);
    cr_expect_eq(t->not_final, 0, "%" PRIu64 " records are not final", t->not_final);
    struct json_object *s = json_parse_record(t->summary);
    cr_assert(s, "the summary is not JSON");

    /* Packet accounting (docs/schema.md, decode_failed): every packet written is read; the four
     * outcomes add up to it, and decode_failed is the sum of decode_errors. */
    int64_t packets = json_int_at(s, "packets");
    cr_expect_eq(packets, (int64_t)g->packets, "read %" PRId64 " packets of %" PRIu64, packets,
                 g->packets);
    expect_packet_accounting(s);

    /* Each connection reported exactly once, and the summary says what the records say. */
    cr_expect_eq(json_int_at(s, "connections.total"), (int64_t)t->conns,
                 "summary total %" PRId64 ", %" PRIu64 " records",
                 json_int_at(s, "connections.total"), t->conns);
    check_breakdown(s, "connections.by_close", &t->close_how);
    check_breakdown(s, "connections.by_conn_state", &t->conn_state);
    /* Anomaly records: one per syn_flood / port_scan occurrence (docs/schema.md, anomalies). */
    cr_expect_eq(sum_int(s, "anomalies.syn_flood"), (int64_t)counts_get(&t->anomaly, "syn_flood"));
    cr_expect_eq(sum_int(s, "anomalies.port_scan"), (int64_t)counts_get(&t->anomaly, "port_scan"));
    return s;
}

/* validate.py over the first HEAD_LINES lines and the summary. */
static void check_schema(const struct tally *t) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' '%s/tests/schema/validate.py' --time epoch --whole-run '%s'",
             SHAKEDOWN_PYTHON, SHAKEDOWN_SOURCE_DIR, t->head_path);
    int rc = system(cmd);
    cr_expect(WIFEXITED(rc) && WEXITSTATUS(rc) == 0,
              "validate.py rejected the output (first %d lines and the summary): status %d",
              HEAD_LINES, rc);
}

static void max_flows_opt(char *buf, size_t len, uint32_t max_flows, const char **opts) {
    if (max_flows == 0)
        return;
    snprintf(buf, len, "%u", max_flows);
    opts[0] = "--max-flows";
    opts[1] = buf;
}

/* ---- the scenarios ------------------------------------------------------------------------- */

/* FLOOD_SYNS SYNs to 192.0.2.1:80, each from another source address, 1 µs apart (5 s of capture
 * for 5 million), none answered. Expected, from the capture:
 *  - every SYN opens its own connection (distinct 5-tuples): FLOOD_SYNS records, each a lone SYN:
 *    conn_state S0, history "S";
 *  - the table holds F = --max-flows connections; nothing leaves it otherwise (the capture lasts
 *    less than the 30 s handshake timeout), so each SYN beyond the first F evicts the least
 *    recently active connection: FLOOD_SYNS - F evicted, F still open at the end (capture_end),
 *    and peak_open = F;
 *  - no syn_unanswered: an evicted SYN is F µs old (at most 0.27 s) and those open at the end are
 *    within the last F µs, all inside the 1 s --answer-grace, so none is judged;
 *  - syn_flood fires once: more than 200 half-open connections to 192.0.2.1 within 10 s, and the
 *    whole flood fits in one 10 s window (no source leaves a failed attempt — none is judged — so
 *    nothing competes with 192.0.2.1 for the host table);
 *  - every packet is decoded and analysed. */
Test(exhaustion, syn_flood_spoofed_sources, .timeout = 600) {
    long baseline = baseline_rss_kb();
    uint32_t max_flows = FLOOD_MAX_FLOWS ? FLOOD_MAX_FLOWS : DEFAULT_MAX_FLOWS;
    struct gen g = {.write = write_flood, .n = FLOOD_SYNS};
    struct tally t;
    tally_init(&t, g.n);
    char mf[16];
    const char *opts[4] = {NULL};
    max_flows_opt(mf, sizeof mf, FLOOD_MAX_FLOWS, opts);
    struct stream_run r;
    run_streamed(&g, opts, &t, &r);
    struct json_object *s = check_common(&g, &t, &r);
    cr_expect_eq(t.conns, FLOOD_SYNS);
    cr_expect_eq(json_int_at(s, "analysed"), FLOOD_SYNS);
    cr_expect_eq(json_int_at(s, "connections.tcp"), FLOOD_SYNS);
    cr_expect_eq(counts_get(&t.conn_state, "S0"), FLOOD_SYNS);
    cr_expect_eq(counts_get(&t.history, "S"), FLOOD_SYNS);
    cr_expect_eq(counts_get(&t.close_how, "evicted"), FLOOD_SYNS - max_flows);
    cr_expect_eq(counts_get(&t.close_how, "capture_end"), max_flows);
    cr_expect_eq(json_int_at(s, "connections.peak_open"), max_flows);
    cr_expect_eq(counts_get(&t.anomaly, "syn_unanswered"), 0);
    cr_expect_eq(counts_get(&t.anomaly, "syn_flood"), 1);
    check_rss(&r, max_flows, baseline);
    check_schema(&t);
    json_object_put(s);
    tally_free(&t);
}

/* HALF_OPEN_CONNS connections from distinct clients to 192.0.2.80:443, in batches of
 * HALF_OPEN_BATCH: the batch's SYNs, then a SYN/ACK for each; no final ACK ever. Expected:
 *  - each connection is a SYN and a SYN/ACK: conn_state S1 ("a SYN and a SYN/ACK are enough"),
 *    history "Sh", half_open true (the responder is left in SYN_RECEIVED);
 *  - the batch (50000) is smaller than the table (F = 131072), so a connection is never evicted
 *    before its SYN/ACK: the least recently active entry is always one of an earlier batch. Each
 *    connection is created once and reported once: HALF_OPEN_CONNS records; F remain at the end
 *    (capture_end), HALF_OPEN_CONNS - F were evicted; peak_open = F;
 *  - the capture lasts 2 µs per connection (2 s), less than the handshake timeout, and an evicted
 *    SYN/ACK is at most 2F µs old (0.26 s): inside the answer grace, so no synack_unanswered. */
Test(exhaustion, million_half_open, .timeout = 600) {
    long baseline = baseline_rss_kb();
    struct gen g = {.write = write_half_open, .n = HALF_OPEN_CONNS, .window = HALF_OPEN_BATCH};
    struct tally t;
    tally_init(&t, g.n);
    char mf[16];
    const char *opts[4] = {NULL};
    max_flows_opt(mf, sizeof mf, HALF_OPEN_MAX_FLOWS, opts);
    struct stream_run r;
    run_streamed(&g, opts, &t, &r);
    struct json_object *s = check_common(&g, &t, &r);
    cr_expect_eq(g.packets, 2u * HALF_OPEN_CONNS);
    cr_expect_eq(t.conns, HALF_OPEN_CONNS);
    cr_expect_eq(counts_get(&t.conn_state, "S1"), HALF_OPEN_CONNS);
    cr_expect_eq(counts_get(&t.history, "Sh"), HALF_OPEN_CONNS);
    cr_expect_eq(t.half_open_true, HALF_OPEN_CONNS);
    cr_expect_eq(counts_get(&t.close_how, "evicted"), HALF_OPEN_CONNS - HALF_OPEN_MAX_FLOWS);
    cr_expect_eq(counts_get(&t.close_how, "capture_end"), HALF_OPEN_MAX_FLOWS);
    cr_expect_eq(json_int_at(s, "connections.peak_open"), HALF_OPEN_MAX_FLOWS);
    cr_expect_eq(counts_get(&t.anomaly, "synack_unanswered"), 0);
    check_rss(&r, HALF_OPEN_MAX_FLOWS, baseline);
    check_schema(&t);
    json_object_put(s);
    tally_free(&t);
}

/* NEVER_CLOSED_CONNS connections, NEVER_CLOSED_WINDOW at a time interleaved round by round:
 * handshake, 100 bytes up, 200 bytes down, ACK — and then silence, never a FIN or RST. Expected:
 *  - each: conn_state S1, history "ShADd" (SYN, SYN/ACK, the client's ACK, its data, the server's
 *    data; the client's last ACK adds no second A);
 *  - the window (25000) is smaller than the table (F = 100000): every connection is created once
 *    (its own packets are never more than a window apart), so NEVER_CLOSED_CONNS records;
 *    nothing ends but by eviction (6 s of capture, no timeout of 30 s or more can fire), so
 *    NEVER_CLOSED_CONNS - F evicted and F at capture_end; peak_open = F. */
Test(exhaustion, capture_that_never_closes, .timeout = 600) {
    long baseline = baseline_rss_kb();
    struct gen g = {
        .write = write_never_closed, .n = NEVER_CLOSED_CONNS, .window = NEVER_CLOSED_WINDOW};
    struct tally t;
    tally_init(&t, g.n);
    char mf[16];
    const char *opts[4] = {NULL};
    max_flows_opt(mf, sizeof mf, NEVER_CLOSED_MAX_FLOWS, opts);
    struct stream_run r;
    run_streamed(&g, opts, &t, &r);
    struct json_object *s = check_common(&g, &t, &r);
    cr_expect_eq(g.packets, 6u * NEVER_CLOSED_CONNS);
    cr_expect_eq(t.conns, NEVER_CLOSED_CONNS);
    cr_expect_eq(counts_get(&t.conn_state, "S1"), NEVER_CLOSED_CONNS);
    cr_expect_eq(counts_get(&t.history, "ShADd"), NEVER_CLOSED_CONNS);
    cr_expect_eq(counts_get(&t.close_how, "evicted"), NEVER_CLOSED_CONNS - NEVER_CLOSED_MAX_FLOWS);
    cr_expect_eq(counts_get(&t.close_how, "capture_end"), NEVER_CLOSED_MAX_FLOWS);
    cr_expect_eq(json_int_at(s, "connections.peak_open"), NEVER_CLOSED_MAX_FLOWS);
    cr_expect_eq(t.anomaly_lines, 0, "healthy exchanges, %" PRIu64 " anomaly records",
                 t.anomaly_lines);
    check_rss(&r, NEVER_CLOSED_MAX_FLOWS, baseline);
    check_schema(&t);
    json_object_put(s);
    tally_free(&t);
}
