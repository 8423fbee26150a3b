/* ladder: the ladder diagrams (--ladder, --ladder-svg). Each connection being drawn has a record,
 * found by its first frame in a small chained hash, holding its rows so far (ladder_svg.h). A
 * segment is "plain" when it carries no SYN, FIN or RST, raised no anomaly and changed neither
 * state; runs of plain segments are kept as their first FOLD_HEAD and last FOLD_TAIL rows and
 * totals, and folded into one row ("... 1,204 segments, 1.7 MB ->, 52 kB <- ...") when they are
 * longer, so the handshake and the teardown stay on one screen. When the connection is reported its
 * rows are drawn as text (this file) and as SVG (ladder_svg.c). Nothing here runs unless --ladder
 * or
 * --ladder-svg was given. */
#include "ladder.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "flowtext.h"
#include "ladder_svg.h"
#include "timefmt.h"

#define FOLD_HEAD 3   /* plain segments shown before a fold */
#define FOLD_TAIL 2   /* and after it */
#define TIME_COLS 10  /* seconds since the connection's first packet, "%10.6f" */
#define STATE_COLS 12 /* "SYN_RECEIVED" */
#define ARROW_COLS 56 /* between the lifelines' bars */
#define ARROW_INDENT (TIME_COLS + 2 + STATE_COLS + 2) /* where an arrow starts */
#define LINE_BYTES 320                                /* one line, colour escapes included */
#define LEFT_END_COLS (STATE_COLS + ARROW_COLS / 2)   /* heading over the left lifeline */
#define RIGHT_END_COLS (LEFT_END_COLS + 2)            /* over the right one, to its state column */
#define MIN_BUCKETS 64

#define COLOUR_STATE "\033[1;32m"
#define COLOUR_ANOMALY "\033[1;31m"
#define COLOUR_FOLD "\033[2m"
#define COLOUR_OFF "\033[0m"

/* A run of plain segments not yet kept: its first rows, a ring of its last ones, totals. */
struct fold_run {
    uint64_t n;
    uint64_t bytes[2]; /* payload by direction */
    struct ladder_row head[FOLD_HEAD];
    struct ladder_row tail[FOLD_TAIL + 1]; /* up to FOLD_HEAD + FOLD_TAIL + 1 are shown unfolded */
};

/* One connection being drawn. */
struct drawn {
    struct drawn *next; /* hash chain */
    size_t *rows_total; /* the ladder's count of rows allocated, LADDER_ROWS_TOTAL at most */
    uint64_t serial;    /* the connection's first frame */
    int64_t first_ns;
    uint8_t state[2]; /* enum tcp_state as last drawn */
    uint64_t segments, left_out;
    struct ladder_row *rows;
    size_t nrows, cap;
    struct fold_run run;
};

struct ladder {
    struct ladder_options opt;
    bool *found; /* per uid asked for */
    struct drawn **buckets;
    size_t nbuckets, count;
    size_t rows_total;  /* rows allocated for all the connections being drawn */
    uint64_t not_drawn; /* connections that opened while LADDER_DRAWN_MAX were being drawn */
    bool svg_failed;    /* an SVG could not be written: said once */
};

struct ladder *ladder_new(const struct ladder_options *opt) {
    struct ladder *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->opt = *opt;
    l->found = calloc(opt->nuids ? opt->nuids : 1, sizeof *l->found);
    l->nbuckets = MIN_BUCKETS;
    l->buckets = calloc(l->nbuckets, sizeof *l->buckets);
    if (!l->found || !l->buckets) {
        ladder_free(l);
        return NULL;
    }
    return l;
}

static void drawn_free(struct drawn *d) {
    *d->rows_total -= d->cap;
    free(d->rows);
    free(d);
}

void ladder_free(struct ladder *l) {
    if (!l)
        return;
    for (size_t i = 0; l->buckets && i < l->nbuckets; i++)
        for (struct drawn *d = l->buckets[i], *next; d; d = next) {
            next = d->next;
            drawn_free(d);
        }
    free(l->buckets);
    free(l->found);
    free(l);
}

/* ---- the table of connections being drawn -------------------------------------------------- */

static size_t bucket_of(const struct ladder *l, uint64_t serial) {
    return (size_t)((serial * UINT64_C(0x9e3779b97f4a7c15)) >> 32) & (l->nbuckets - 1);
}

static struct drawn **find_link(struct ladder *l, uint64_t serial) {
    struct drawn **link = &l->buckets[bucket_of(l, serial)];
    while (*link && (*link)->serial != serial)
        link = &(*link)->next;
    return link;
}

/* Doubles the buckets when chains grow past two on average (--ladder all); on failure the
 * chains just stay longer. */
static void grow(struct ladder *l) {
    size_t n = l->nbuckets * 2;
    struct drawn **b = calloc(n, sizeof *b);
    if (!b)
        return;
    struct drawn **old = l->buckets;
    size_t oldn = l->nbuckets;
    l->buckets = b;
    l->nbuckets = n;
    for (size_t i = 0; i < oldn; i++)
        for (struct drawn *d = old[i], *next; d; d = next) {
            next = d->next;
            struct drawn **link = &l->buckets[bucket_of(l, d->serial)];
            d->next = *link;
            *link = d;
        }
    free(old);
}

/* Is c, at its first packet, one of the connections asked for? */
static bool wanted(struct ladder *l, const struct conn *c) {
    if (l->opt.all)
        return true;
    char uid[CONN_UID_LEN];
    conn_uid(c, uid);
    for (size_t i = 0; i < l->opt.nuids; i++)
        if (strcmp(uid, l->opt.uids[i]) == 0) {
            l->found[i] = true;
            return true;
        }
    return false;
}

/* ---- rows ---------------------------------------------------------------------------------- */

/* Keeps row r, within LADDER_ROWS_MAX and what LADDER_ROWS_TOTAL leaves; returns false when
 * it did not fit. */
static bool row_keep(struct drawn *d, const struct ladder_row *r) {
    if (d->nrows == LADDER_ROWS_MAX)
        return false;
    if (d->nrows == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 32, left = LADDER_ROWS_TOTAL - *d->rows_total;
        if (cap > LADDER_ROWS_MAX)
            cap = LADDER_ROWS_MAX;
        if (cap - d->cap > left)
            cap = d->cap + left;
        struct ladder_row *rows = cap > d->cap ? realloc(d->rows, cap * sizeof *rows) : NULL;
        if (!rows)
            return false;
        *d->rows_total += cap - d->cap;
        d->rows = rows;
        d->cap = cap;
    }
    d->rows[d->nrows++] = *r;
    return true;
}

static void row_keep_segment(struct drawn *d, const struct ladder_row *r) {
    if (!row_keep(d, r))
        d->left_out++;
}

/* v with thousands separators: 1204 → "1,204". */
static void grouped(char *buf, size_t len, uint64_t v) {
    char digits[TIMEFMT_U64_LEN];
    size_t n = timefmt_u64(digits, v), k = 0;
    for (size_t i = 0; i < n && k + 2 < len; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[k++] = ',';
        buf[k++] = digits[i];
    }
    buf[k] = '\0';
}

/* A byte count as people read it: "640 B", "52.3 kB", "1.7 MB" (decimal units, as tcptrace). */
static void human_bytes(char *buf, size_t len, uint64_t v) {
    static const char *const units[] = {"kB", "MB", "GB", "TB"};
    if (v < 1000) {
        snprintf(buf, len, "%" PRIu64 " B", v);
        return;
    }
    double x = (double)v / 1000.0;
    unsigned u = 0;
    while (x >= 1000.0 && u + 1 < sizeof units / sizeof units[0]) {
        x /= 1000.0;
        u++;
    }
    snprintf(buf, len, "%.1f %s", x, units[u]);
}

/* "SYN+ACK seq 0 ack 1 len 0": sequence numbers relative to the sender's ISN, the ack relative
 * to the peer's once the peer's sequence space is known (absolute before). */
static void segment_label(char *buf, size_t len, const struct conn *c, int dir,
                          const struct packet *p) {
    const struct tcp_endpoint *x = &c->tcp.ep[dir], *peer = &c->tcp.ep[!dir];
    char flags[48];
    tcp_flags_format(p->tcp.flags, flags, sizeof flags);
    uint32_t seq = p->tcp.seq - x->isn;
    if (!(p->tcp.flags & TCP_ACK)) {
        snprintf(buf, len, "%s seq %" PRIu32 " len %" PRIu32, flags, seq, p->payload_len);
        return;
    }
    uint32_t ack = peer->base_known ? p->tcp.ack - peer->isn : p->tcp.ack;
    snprintf(buf, len, "%s seq %" PRIu32 " ack %" PRIu32 " len %" PRIu32, flags, seq, ack,
             p->payload_len);
}

/* ---- folding -------------------------------------------------------------------------------- */

static void run_add(struct fold_run *r, const struct ladder_row *row) {
    struct ladder_row *k =
        r->n < FOLD_HEAD ? &r->head[r->n] : &r->tail[(r->n - FOLD_HEAD) % (FOLD_TAIL + 1)];
    *k = *row;
    r->bytes[row->dir] += row->payload;
    r->n++;
}

/* The ring's row of the run's segment i (FOLD_HEAD ≤ i < n). */
static const struct ladder_row *run_tail(const struct fold_run *r, uint64_t i) {
    return &r->tail[(i - FOLD_HEAD) % (FOLD_TAIL + 1)];
}

/* The fold row: how many segments, their payload each way, and the time from the row above it
 * to the row below it. */
static void fold_keep(struct drawn *d, const struct ladder_row *above, uint64_t folded,
                      const uint64_t bytes[2], int64_t span_ns) {
    struct ladder_row f = {.kind = LADDER_ROW_FOLD,
                           .ts_ns = above->ts_ns,
                           .state = {above->state[0], above->state[1]},
                           .fold_segments = folded,
                           .fold_bytes = {bytes[0], bytes[1]},
                           .fold_span_ns = span_ns};
    char n[32], b0[24], b1[24];
    grouped(n, sizeof n, folded);
    human_bytes(b0, sizeof b0, bytes[0]);
    human_bytes(b1, sizeof b1, bytes[1]);
    char text[160];
    int len = snprintf(text, sizeof text, "... %s segments, %s ->, %s <-, %.3f s ...", n, b0, b1,
                       (double)span_ns / 1e9);
    size_t k = len < 0 ? 0 : (size_t)len < sizeof f.label ? (size_t)len : sizeof f.label - 1;
    memcpy(f.label, text, k);
    f.label[k] = '\0';
    row_keep(d, &f);
}

/* Keeps the pending run: all of it when short, else its head, a fold row, its tail. */
static void run_flush(struct drawn *d) {
    struct fold_run *r = &d->run;
    uint64_t shown_head = r->n < FOLD_HEAD ? r->n : FOLD_HEAD;
    for (uint64_t i = 0; i < shown_head; i++)
        row_keep_segment(d, &r->head[i]);
    if (r->n <= FOLD_HEAD + FOLD_TAIL + 1) {
        for (uint64_t i = FOLD_HEAD; i < r->n; i++)
            row_keep_segment(d, run_tail(r, i));
    } else {
        uint64_t bytes[2] = {r->bytes[0], r->bytes[1]};
        for (uint64_t i = 0; i < FOLD_HEAD; i++)
            bytes[r->head[i].dir] -= r->head[i].payload;
        for (uint64_t i = r->n - FOLD_TAIL; i < r->n; i++)
            bytes[run_tail(r, i)->dir] -= run_tail(r, i)->payload;
        const struct ladder_row *above = &r->head[FOLD_HEAD - 1];
        int64_t span = run_tail(r, r->n - FOLD_TAIL)->ts_ns - above->ts_ns;
        fold_keep(d, above, r->n - FOLD_HEAD - FOLD_TAIL, bytes, span);
        for (uint64_t i = r->n - FOLD_TAIL; i < r->n; i++)
            row_keep_segment(d, run_tail(r, i));
    }
    memset(r, 0, sizeof *r);
}

/* ---- recording ------------------------------------------------------------------------------ */

static struct drawn *drawn_start(struct ladder *l, const struct conn *c) {
    if (l->count >= LADDER_DRAWN_MAX) {
        l->not_drawn++;
        return NULL;
    }
    struct drawn *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->rows_total = &l->rows_total;
    d->serial = c->first_frame;
    d->first_ns = c->first_ns;
    d->state[0] = d->state[1] = TCP_STATE_COUNT; /* nothing drawn: both shown at first */
    if (l->count >= l->nbuckets * 2)
        grow(l);
    struct drawn **link = find_link(l, c->first_frame);
    d->next = *link;
    *link = d;
    l->count++;
    return d;
}

void ladder_on_segment(struct ladder *l, const struct conn *c, int dir, const struct packet *p) {
    struct drawn *d;
    if (c->pkts[0] + c->pkts[1] == 1) /* its first packet: decide once */
        d = wanted(l, c) ? drawn_start(l, c) : NULL;
    else
        d = *find_link(l, c->first_frame);
    if (!d)
        return;
    struct ladder_row row = {.kind = LADDER_ROW_SEGMENT,
                             .ts_ns = packet_ts_ns(p),
                             .raised = c->tcp.raised,
                             .payload = p->payload_len,
                             .dir = (uint8_t)dir};
    for (int r = 0; r < 2; r++) {
        row.state[r] = (uint8_t)tcp_conn_state(&c->tcp, r);
        if (row.state[r] != d->state[r])
            row.changed |= (uint8_t)(1u << r);
        d->state[r] = row.state[r];
    }
    segment_label(row.label, sizeof row.label, c, dir, p);
    d->segments++;
    if (!row.changed && !row.raised && !(p->tcp.flags & (TCP_SYN | TCP_FIN | TCP_RST))) {
        run_add(&d->run, &row);
        return;
    }
    run_flush(d);
    row_keep_segment(d, &row);
}

/* ---- drawing as text ------------------------------------------------------------------------ */

/* s padded (or cut) to exactly cols columns, in colour when asked. */
static void cell(char *buf, size_t len, const char *s, int cols, const char *colour) {
    if (colour)
        snprintf(buf, len, "%s%-*.*s%s", colour, cols, cols, s, COLOUR_OFF);
    else
        snprintf(buf, len, "%-*.*s", cols, cols, s);
}

/* The arrow of a segment from dir: "-- LABEL ------>" or "<------ LABEL --", ARROW_COLS wide. */
static void arrow(char *buf, const char *label, int dir) {
    size_t n = strlen(label);
    if (n > ARROW_COLS - 6)
        n = ARROW_COLS - 6;
    memset(buf, '-', ARROW_COLS);
    buf[ARROW_COLS] = '\0';
    size_t at = dir == 0 ? 3 : ARROW_COLS - 3 - n;
    buf[at - 1] = ' ';
    memcpy(buf + at, label, n);
    buf[at + n] = ' ';
    buf[dir == 0 ? ARROW_COLS - 1 : 0] = dir == 0 ? '>' : '<';
}

/* One state cell: the state's name where it changed (or on the first line), blank otherwise. */
static void state_cell(char *buf, size_t len, uint8_t s, bool show, bool colour) {
    cell(buf, len, show ? tcp_state_name((enum tcp_state)s) : "", STATE_COLS,
         show && colour ? COLOUR_STATE : NULL);
}

/* Under a segment that raised anomalies: "! retransmission, zero_window". */
static void anomaly_line(FILE *out, anomaly_set raised, bool colour) {
    char names[LADDER_COLUMNS];
    size_t k = 0;
    names[0] = '\0';
    for (anomaly_set s = raised; s; s &= s - 1) {
        const char *name = anomaly_name((enum anomaly)__builtin_ctz(s));
        int n = snprintf(names + k, sizeof names - k, "%s%s", k ? ", " : "! ", name);
        if (n < 0 || (size_t)n >= sizeof names - k)
            break;
        k += (size_t)n;
    }
    names[LADDER_COLUMNS - ARROW_INDENT - 1] = '\0';
    fprintf(out, "%*s%s%s%s\n", ARROW_INDENT, "", colour ? COLOUR_ANOMALY : "", names,
            colour ? COLOUR_OFF : "");
}

static void text_row(FILE *out, const struct ladder_view *v, const struct ladder_row *r,
                     bool colour) {
    if (r->kind == LADDER_ROW_FOLD) {
        fprintf(out, "%*s%s%s%s\n", ARROW_INDENT, "", colour ? COLOUR_FOLD : "", r->label,
                colour ? COLOUR_OFF : "");
        return;
    }
    char arr[ARROW_COLS + 1], left[48], right[48], line[LINE_BYTES];
    arrow(arr, r->label, r->dir);
    state_cell(left, sizeof left, r->state[0], r->changed & 1, colour);
    state_cell(right, sizeof right, r->state[1], r->changed & 2, colour);
    int n = snprintf(line, sizeof line, "%*.6f  %s |%s| %s", TIME_COLS,
                     (double)(r->ts_ns - v->first_ns) / 1e9, left, arr, right);
    while (n > 0 && line[n - 1] == ' ') /* no trailing blanks where a state is not shown */
        line[--n] = '\0';
    fprintf(out, "%s\n", line);
    if (r->raised)
        anomaly_line(out, r->raised, colour);
}

/* end ("addr:port") in at most cols columns: whole, or its start and its end (the port) around
 * "..." (the header above the column heading has it whole). */
static void end_fit(char *out, size_t outlen, const char *end, size_t cols) {
    size_t n = strlen(end);
    if (n <= cols) {
        snprintf(out, outlen, "%s", end);
        return;
    }
    size_t head = (cols - 3) / 2, tail = cols - 3 - head;
    snprintf(out, outlen, "%.*s...%s", (int)head, end, end + n - tail);
}

/* The connection's header: uid, protocol, both ends, the first packet's time, on one line when
 * that fits in LADDER_COLUMNS (IPv4 always does); else the ends go on a line of their own, or each
 * on one (long IPv6 addresses). Then the column heading, each end over its lifeline. */
static void text_header(FILE *out, const struct ladder_view *v) {
    char iso[TIMEFMT_ISO_LEN], left[LEFT_END_COLS + 1], right[RIGHT_END_COLS + 1];
    timefmt_iso8601_ns(iso, sizeof iso, v->first_ns);
    size_t ends = strlen(v->ends[0]) + 4 + strlen(v->ends[1]);
    if (strlen(v->uid) + 7 + ends + 2 + strlen(iso) <= LADDER_COLUMNS)
        fprintf(out, "%s  tcp  %s -> %s  %s\n", v->uid, v->ends[0], v->ends[1], iso);
    else if (2 + ends <= LADDER_COLUMNS)
        fprintf(out, "%s  tcp  %s\n  %s -> %s\n", v->uid, iso, v->ends[0], v->ends[1]);
    else
        fprintf(out, "%s  tcp  %s\n  %s\n  -> %s\n", v->uid, iso, v->ends[0], v->ends[1]);
    end_fit(left, sizeof left, v->ends[0], LEFT_END_COLS);
    end_fit(right, sizeof right, v->ends[1], RIGHT_END_COLS);
    fprintf(out, "%*s  %-*s  %*s\n", TIME_COLS, "time (s)", LEFT_END_COLS, left, RIGHT_END_COLS,
            right);
}

static void text_write(FILE *out, const struct ladder_view *v, bool colour) {
    char segs[32];
    text_header(out, v);
    for (size_t i = 0; i < v->nrows; i++)
        text_row(out, v, &v->rows[i], colour);
    if (v->left_out)
        fprintf(out, "%*s... %" PRIu64 " more segments not drawn (%zu rows kept)\n", ARROW_INDENT,
                "", v->left_out, v->nrows);
    grouped(segs, sizeof segs, v->segments);
    fprintf(out, "end: %s, %s segments; orig %s, resp %s\n", v->end, segs,
            tcp_state_name((enum tcp_state)v->final_state[0]),
            tcp_state_name((enum tcp_state)v->final_state[1]));
    if (v->end_raised) /* judged when the connection ended: under the end, as under a segment */
        anomaly_line(out, v->end_raised, colour);
    fputc('\n', out);
}

/* ---- the end of a connection ---------------------------------------------------------------- */

static void view_of(struct ladder_view *v, const struct drawn *d, const struct conn *c) {
    memset(v, 0, sizeof *v);
    conn_uid(c, v->uid);
    for (int r = 0; r < 2; r++) {
        char a[FLOWTEXT_ADDR_LEN];
        bool v6 = c->e.key.ip_version == 6;
        flowtext_addr(a, sizeof a, conn_addr(c, r), c->e.key.ip_version);
        snprintf(v->ends[r], sizeof v->ends[r], "%s%s%s:%u", v6 ? "[" : "", a, v6 ? "]" : "",
                 (unsigned)conn_port(c, r));
        v->final_state[r] = (uint8_t)tcp_conn_state(&c->tcp, r);
    }
    v->first_ns = d->first_ns;
    v->rows = d->rows;
    v->nrows = d->nrows;
    v->segments = d->segments;
    v->left_out = d->left_out;
    v->end = conn_end_name((enum conn_end)c->end);
    anomaly_set drawn = 0;
    for (size_t i = 0; i < d->nrows; i++)
        drawn |= d->rows[i].raised;
    for (unsigned i = 0; c->anomalies && i < c->anomalies->n; i++)
        v->end_raised |= anomaly_bit((enum anomaly)c->anomalies->list[i].id);
    v->end_raised &= ~drawn;
    const struct tcp_conn *t = &c->tcp;
    if (t->syn_ns && t->synack_ns > t->syn_ns)
        v->syn_to_synack_ns = t->synack_ns - t->syn_ns;
    if (t->synack_ns && t->ack_ns > t->synack_ns)
        v->synack_to_ack_ns = t->ack_ns - t->synack_ns;
}

static void svg_write(struct ladder *l, const struct ladder_view *v) {
    char path[4096], err[512];
    snprintf(path, sizeof path, "%s/%s.svg", l->opt.svg_dir, v->uid);
    if (ladder_svg_write(v, path, l->opt.file_mode, err, sizeof err) || l->svg_failed)
        return;
    l->svg_failed = true;
    fprintf(l->opt.err ? l->opt.err : stderr, "shakedown: %s: %s\n", path, err);
}

bool ladder_on_conn_end(struct ladder *l, const struct conn *c) {
    if (c->e.key.proto != 6)
        return true;
    struct drawn **link = find_link(l, c->first_frame), *d = *link;
    if (!d)
        return true;
    run_flush(d);
    struct ladder_view v;
    view_of(&v, d, c);
    bool ok = true;
    if (l->opt.out) {
        text_write(l->opt.out, &v, l->opt.colour);
        ok = fflush(l->opt.out) == 0 && !ferror(l->opt.out);
    }
    if (l->opt.svg_dir)
        svg_write(l, &v);
    *link = d->next;
    l->count--;
    drawn_free(d);
    return ok;
}

size_t ladder_report_missing(const struct ladder *l, FILE *err) {
    size_t missing = 0;
    for (size_t i = 0; !l->opt.all && i < l->opt.nuids; i++)
        if (!l->found[i]) {
            fprintf(err, "shakedown: --ladder %s: no TCP connection with this uid in the input\n",
                    l->opt.uids[i]);
            missing++;
        }
    return missing;
}

void ladder_report_limits(const struct ladder *l, FILE *err) {
    if (l->not_drawn)
        fprintf(err,
                "shakedown: --ladder: %" PRIu64 " connections not drawn: %d were being drawn at "
                "once (the bound on its memory)\n",
                l->not_drawn, LADDER_DRAWN_MAX);
}
