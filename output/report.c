/* report: the HTML report. The page (output/report_page.html, compiled in as report_page[]) is
 * split at its data marker: the part before is written when the report is opened; then one line
 * of JSON per reported connection ({"c": [...]}), per anomaly event ({"a": [...]}) and per
 * detailed connection ({"d": {...}}) goes into a non-executed script element as they happen; at
 * the end the summary ({"s": ...}, the JSON summary record's own members) and the anomaly
 * catalog's severities, then the rest of the page, whose script reads the lines. Every '<' in the
 * data is written as \u003c, so nothing in a capture can end the script element early. The
 * segments of the connections being kept (report.h says which) are in REPORT_DETAIL_OPEN
 * details, found by serial through a small open-addressing index, each with an array of
 * REPORT_POINTS_MAX points allocated at its first use and reused: nothing is allocated per
 * packet. */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowtext.h"
#include "format_json.h"
#include "jsonw.h"
#include "report_page.h"
#include "safe_open.h"
#include "timefmt.h"

#define DATA_MARKER "<!--SHAKEDOWN-DATA-->"
#define INDEX_BITS 9
#define INDEX_SLOTS (1u << INDEX_BITS) /* ≥ 2 × REPORT_DETAIL_OPEN: short probe runs */

_Static_assert(INDEX_SLOTS >= 2 * REPORT_DETAIL_OPEN, "the index is at most half full");

/* One segment of a detailed connection. */
struct point {
    int64_t ts_ns;
    uint32_t seq, ack, win, len; /* seq and ack relative to the ISNs; win scaled */
    anomaly_set raised;
    uint8_t dir, flags, state[2];
    bool sack; /* carried SACK blocks */
};

/* The segments of one connection being kept, while it is open. */
struct detail {
    uint64_t serial;  /* the connection's first frame */
    uint64_t skipped; /* its segments before the first kept one (it got the detail late) */
    uint64_t more;    /* segments past REPORT_POINTS_MAX */
    size_t n;
    bool notable;         /* it had an anomaly above info severity at its last segment */
    struct point *points; /* REPORT_POINTS_MAX, allocated at the first use, kept for reuse */
};

/* Why a connection row has no detail ("c" row, last member; the page says it in words). */
enum detail_note {
    DETAIL_KEPT,         /* a "d" line follows */
    DETAIL_NOT_TCP,      /* ladders are for TCP */
    DETAIL_PLAIN_FULL,   /* no notable anomaly, and REPORT_DETAIL_PLAIN such were kept */
    DETAIL_NOTABLE_FULL, /* notable, and REPORT_DETAIL_NOTABLE such were kept */
    DETAIL_NO_SLOT, /* REPORT_DETAIL_OPEN others were kept open when it started, or its slot went
                       to a connection with a notable anomaly */
};

struct report {
    FILE *f;
    char *path;
    struct outbuf buf; /* one data line at a time, reused */
    uint64_t anomalies_listed;
    /* Per-segment detail: the connections being kept, found by serial through index (linear
     * probing, deletion by backward shift: no tombstones, so a miss stays short). The details
     * not held by an open connection are on the free stack: at the start, all of them. */
    struct detail details[REPORT_DETAIL_OPEN];
    uint16_t free_details[REPORT_DETAIL_OPEN]; /* a stack, details[0] on top at the start */
    unsigned nfree, open_notable;              /* open: REPORT_DETAIL_OPEN - nfree */
    unsigned written_plain, written_notable;   /* details written, by kind */
    uint16_t index[INDEX_SLOTS];               /* details[] position + 1; 0: empty */
};

static const char *page_tail(void) {
    const char *m = strstr((const char *)report_page, DATA_MARKER);
    return m ? m + strlen(DATA_MARKER) : "";
}

struct report *report_begin(const char *path, unsigned mode, char *err, size_t errlen) {
    struct report *r = calloc(1, sizeof *r);
    char why[512] = "out of memory";
    if (!r) {
        snprintf(err, errlen, "%s", why);
        return NULL;
    }
    for (unsigned i = 0; i < REPORT_DETAIL_OPEN; i++)
        r->free_details[r->nfree++] = (uint16_t)(REPORT_DETAIL_OPEN - 1 - i);
    r->path = strdup(path);
    r->f = r->path ? safe_open_stream(path, 0, mode, why, sizeof why) : NULL;
    if (!r->f) {
        snprintf(err, errlen, "%s: %s", path, why);
        report_discard(r);
        return NULL;
    }
    return r;
}

bool report_start(struct report *r, char *err, size_t errlen) {
    if (!safe_open_empty(fileno(r->f))) {
        snprintf(err, errlen, "%s: %s", r->path, strerror(errno));
        return false;
    }
    const char *page = (const char *)report_page, *marker = strstr(page, DATA_MARKER);
    fwrite(page, 1, marker ? (size_t)(marker - page) : strlen(page), r->f);
    fputs("<script type=\"application/x-ndjson\" id=\"data\">\n", r->f);
    return true;
}

void report_discard(struct report *r) {
    if (!r)
        return;
    if (r->f)
        fclose(r->f);
    for (unsigned i = 0; i < REPORT_DETAIL_OPEN; i++)
        free(r->details[i].points);
    outbuf_free(&r->buf);
    free(r->path);
    free(r);
}

/* Writes the line in r->buf with '<' escaped, and empties the buffer. */
static void line_flush(struct report *r) {
    const char *p = r->buf.data, *end = p + r->buf.len;
    while (p < end) {
        const char *lt = memchr(p, '<', (size_t)(end - p));
        size_t n = (size_t)((lt ? lt : end) - p);
        fwrite(p, 1, n, r->f);
        if (!lt)
            break;
        fputs("\\u003c", r->f);
        p = lt + 1;
    }
    fputc('\n', r->f);
    outbuf_reset(&r->buf);
}

static void put_seconds(struct jsonw *w, int64_t ns) {
    char text[TIMEFMT_ISO_LEN];
    timefmt_epoch_ns(text, sizeof text, ns);
    jsonw_number_text(w, NULL, text);
}

/* ---- detailed connections ------------------------------------------------------------------ */

/* Above info severity (info: retransmissions, reordering and the like, routine on any busy
 * link): the anomalies that make a connection's ladder worth keeping first. */
static bool notable(enum anomaly a) {
    return anomaly_severity_of(a) > SEVERITY_INFO;
}

/* Does the TCP connection c have a notable anomaly? Those its last segment raised are in
 * c->tcp.raised until the tracker lists them. */
static bool has_notable_anomaly(const struct conn *c) {
    const struct conn_anomalies *l = c->anomalies;
    for (anomaly_set s = c->tcp.raised; s; s &= s - 1)
        if (notable((enum anomaly)__builtin_ctz(s)))
            return true;
    for (unsigned i = 0; l && i < l->n; i++)
        if (notable((enum anomaly)l->list[i].id))
            return true;
    for (uint64_t u = l ? l->unlisted : 0; u; u &= u - 1) /* bit 2 × anomaly + direction */
        if (notable((enum anomaly)(__builtin_ctzll(u) / 2)))
            return true;
    return false;
}

static unsigned index_home(uint64_t serial) {
    return (unsigned)((serial * UINT64_C(0x9e3779b97f4a7c15)) >> (64 - INDEX_BITS));
}

/* The index position of serial's detail, or the empty one where the search for it ends (the
 * index is never more than half full, so there is one). */
static unsigned index_pos(const struct report *r, uint64_t serial) {
    unsigned k = index_home(serial);
    while (r->index[k] && r->details[r->index[k] - 1].serial != serial)
        k = (k + 1) & (INDEX_SLOTS - 1);
    return k;
}

static struct detail *detail_find(struct report *r, uint64_t serial) {
    unsigned k = index_pos(r, serial);
    return r->index[k] ? &r->details[r->index[k] - 1] : NULL;
}

/* Takes d's entry out of the index; the entries after it that would no longer be found move
 * back into the hole (backward-shift deletion). */
static void index_remove(struct report *r, const struct detail *d) {
    unsigned hole = index_pos(r, d->serial);
    r->index[hole] = 0;
    for (unsigned k = (hole + 1) & (INDEX_SLOTS - 1); r->index[k];
         k = (k + 1) & (INDEX_SLOTS - 1)) {
        unsigned home = index_home(r->details[r->index[k] - 1].serial);
        bool reachable = hole <= k ? hole < home && home <= k : hole < home || home <= k;
        if (reachable)
            continue;
        r->index[hole] = r->index[k];
        r->index[k] = 0;
        hole = k;
    }
}

/* An open detail given up: free for the next connection (its points array stays). */
static void detail_release(struct report *r, struct detail *d) {
    index_remove(r, d);
    if (d->notable)
        r->open_notable--;
    r->free_details[r->nfree++] = (uint16_t)(d - r->details);
}

/* A detail for the connection of serial, of which `skipped` segments went by without one: a
 * free one, else, if evict, the one of an open connection without a notable anomaly (whose
 * detail is worth less); NULL if there is none. */
static struct detail *detail_take(struct report *r, uint64_t serial, uint64_t skipped, bool evict) {
    struct detail *d = NULL;
    if (r->nfree)
        d = &r->details[r->free_details[--r->nfree]];
    else if (evict && r->open_notable < REPORT_DETAIL_OPEN) { /* all open: one is plain */
        for (unsigned i = 0; !d; i++)
            if (!r->details[i].notable)
                d = &r->details[i];
        detail_release(r, d);
        r->nfree--; /* taken again at once */
    }
    if (!d)
        return NULL;
    if (!d->points && !(d->points = malloc(REPORT_POINTS_MAX * sizeof *d->points))) {
        r->free_details[r->nfree++] = (uint16_t)(d - r->details);
        return NULL;
    }
    *d = (struct detail){.serial = serial, .skipped = skipped, .points = d->points};
    r->index[index_pos(r, serial)] = (uint16_t)(d - r->details + 1);
    return d;
}

static void point_add(struct detail *d, const struct conn *c, int dir, const struct packet *p) {
    if (d->n == REPORT_POINTS_MAX) {
        d->more++;
        return;
    }
    const struct tcp_endpoint *x = &c->tcp.ep[dir], *peer = &c->tcp.ep[!dir];
    struct point *pt = &d->points[d->n++];
    pt->ts_ns = packet_ts_ns(p);
    pt->seq = p->tcp.seq - x->isn;
    pt->ack = peer->base_known ? p->tcp.ack - peer->isn : 0;
    pt->win = tcp_conn_window_bytes(&c->tcp, dir, p->tcp.window, p->tcp.flags & TCP_SYN);
    pt->len = p->payload_len;
    pt->raised = c->tcp.raised;
    pt->dir = (uint8_t)dir;
    pt->flags = p->tcp.flags;
    pt->state[0] = (uint8_t)tcp_conn_state(&c->tcp, 0);
    pt->state[1] = (uint8_t)tcp_conn_state(&c->tcp, 1);
    pt->sack = p->tcp.opt.sack_count > 0;
}

/* A connection's segments are kept from its first one while a detail is free and either kind
 * may still be written; one without a detail gets one (a free one, or that of an open
 * connection with no notable anomaly) when it shows a notable anomaly, from that segment on. */
void report_on_segment(struct report *r, const struct conn *c, int dir, const struct packet *p) {
    uint64_t seen = c->pkts[0] + c->pkts[1];
    struct detail *d =
        seen > 1 && r->nfree < REPORT_DETAIL_OPEN ? detail_find(r, c->first_frame) : NULL;
    bool notable_room = r->written_notable + r->open_notable < REPORT_DETAIL_NOTABLE;
    bool now_notable = (!d || !d->notable) && notable_room && has_notable_anomaly(c);
    if (!d) {
        bool first = seen == 1 && (notable_room || r->written_plain < REPORT_DETAIL_PLAIN);
        if (!(first || now_notable) || !(d = detail_take(r, c->first_frame, seen - 1, now_notable)))
            return;
    }
    if (now_notable && !d->notable) {
        d->notable = true;
        r->open_notable++;
    }
    point_add(d, c, dir, p);
}

/* {"d": {"uid", "skipped", "more", "p": [[µs since first, dir, flags, seq, ack, len, win, orig
 * state, resp state, "anomalies", sack], ...]}} */
static void detail_write(struct report *r, const struct detail *d, const struct conn *c) {
    struct jsonw w;
    char uid[CONN_UID_LEN];
    conn_uid(c, uid);
    jsonw_start(&w, &r->buf);
    jsonw_object_begin(&w, NULL);
    jsonw_object_begin(&w, "d");
    jsonw_string(&w, "uid", uid);
    jsonw_u64(&w, "skipped", d->skipped);
    jsonw_u64(&w, "more", d->more);
    jsonw_array_begin(&w, "p");
    for (size_t i = 0; i < d->n; i++) {
        const struct point *pt = &d->points[i];
        char names[256] = "";
        size_t k = 0;
        for (anomaly_set s = pt->raised; s && k < sizeof names - 40; s &= s - 1)
            k += (size_t)snprintf(names + k, sizeof names - k, "%s%s", k ? "," : "",
                                  anomaly_name((enum anomaly)__builtin_ctz(s)));
        jsonw_array_begin(&w, NULL);
        jsonw_u64(&w, NULL,
                  (uint64_t)(pt->ts_ns > c->first_ns ? pt->ts_ns - c->first_ns : 0) / 1000);
        jsonw_u64(&w, NULL, pt->dir);
        jsonw_u64(&w, NULL, pt->flags);
        jsonw_u64(&w, NULL, pt->seq);
        jsonw_u64(&w, NULL, pt->ack);
        jsonw_u64(&w, NULL, pt->len);
        jsonw_u64(&w, NULL, pt->win);
        jsonw_string(&w, NULL, tcp_state_name((enum tcp_state)pt->state[0]));
        jsonw_string(&w, NULL, tcp_state_name((enum tcp_state)pt->state[1]));
        jsonw_string(&w, NULL, names);
        jsonw_u64(&w, NULL, pt->sack);
        jsonw_array_end(&w);
    }
    jsonw_array_end(&w);
    jsonw_object_end(&w);
    jsonw_object_end(&w);
    line_flush(r);
}

/* At c's end: is its detail written, and if not, why (its open detail, if any, is released by
 * the caller once written)? Counts the one written against its kind's budget. */
static enum detail_note detail_judge(struct report *r, const struct conn *c, struct detail **d) {
    *d = NULL;
    if (c->e.key.proto != 6)
        return DETAIL_NOT_TCP;
    *d = r->nfree < REPORT_DETAIL_OPEN ? detail_find(r, c->first_frame) : NULL;
    bool notable = has_notable_anomaly(c);
    unsigned *written = notable ? &r->written_notable : &r->written_plain;
    if (*written >= (notable ? REPORT_DETAIL_NOTABLE : REPORT_DETAIL_PLAIN))
        return notable ? DETAIL_NOTABLE_FULL : DETAIL_PLAIN_FULL;
    if (!*d)
        return DETAIL_NO_SLOT;
    ++*written;
    return DETAIL_KEPT;
}

/* ---- connections and anomalies ------------------------------------------------------------- */

static void put_endpoint(struct jsonw *w, const struct conn *c, int role) {
    char addr[FLOWTEXT_ADDR_LEN];
    flowtext_addr(addr, sizeof addr, conn_addr(c, role), c->e.key.ip_version);
    jsonw_string(w, NULL, addr);
    jsonw_u64(w, NULL, conn_port(c, role));
}

static uint32_t anomaly_total(const struct conn *c) {
    uint32_t n = 0;
    for (unsigned i = 0; c->anomalies && i < c->anomalies->n; i++)
        n += c->anomalies->list[i].count;
    return n + (c->anomalies ? c->anomalies->overflow : 0);
}

/* {"c": [uid, ts, duration, proto, orig addr, port, resp addr, port, conn_state, close, orig
 * IP bytes, resp IP bytes, handshake µs (-1: none), anomalies, history, orig state, resp
 * state, enum detail_note]} */
void report_on_conn(struct report *r, const struct conn *c) {
    struct detail *d;
    enum detail_note note = detail_judge(r, c, &d);
    struct jsonw w;
    char uid[CONN_UID_LEN], hist[TCP_HISTORY_MAX], rtt[24] = "-1";
    bool tcp = c->e.key.proto == 6;
    conn_uid(c, uid);
    conn_history(c, hist);
    const struct tcp_conn *t = &c->tcp;
    if (tcp && t->syn_ns && t->ack_ns > t->syn_ns)
        snprintf(rtt, sizeof rtt, "%" PRId64, (t->ack_ns - t->syn_ns) / 1000);
    jsonw_start(&w, &r->buf);
    jsonw_object_begin(&w, NULL);
    jsonw_array_begin(&w, "c");
    jsonw_string(&w, NULL, uid);
    put_seconds(&w, c->first_ns);
    put_seconds(&w, c->last_ns - c->first_ns);
    jsonw_string(&w, NULL, flowtext_proto(c->e.key.proto, c->e.key.ip_version));
    put_endpoint(&w, c, 0);
    put_endpoint(&w, c, 1);
    jsonw_string(&w, NULL, zeek_conn_state_name(conn_zeek_state(c)));
    jsonw_string(&w, NULL, conn_end_name((enum conn_end)c->end));
    jsonw_u64(&w, NULL, c->ip_bytes[0]);
    jsonw_u64(&w, NULL, c->ip_bytes[1]);
    jsonw_number_text(&w, NULL, rtt);
    jsonw_u64(&w, NULL, anomaly_total(c));
    jsonw_string(&w, NULL, hist);
    jsonw_string(&w, NULL, tcp ? tcp_state_name(tcp_conn_state(t, 0)) : "");
    jsonw_string(&w, NULL, tcp ? tcp_state_name(tcp_conn_state(t, 1)) : "");
    jsonw_u64(&w, NULL, note);
    jsonw_array_end(&w);
    jsonw_object_end(&w);
    line_flush(r);
    if (note == DETAIL_KEPT)
        detail_write(r, d, c);
    if (d)
        detail_release(r, d);
}

/* {"a": [ts, name, severity, uid ("" host-level), direction]} — the first
 * REPORT_ANOMALIES_MAX events. */
void report_on_anomaly(struct report *r, const struct anomaly_event *ev) {
    if (r->anomalies_listed >= REPORT_ANOMALIES_MAX)
        return;
    r->anomalies_listed++;
    struct jsonw w;
    char uid[CONN_UID_LEN] = "";
    if (ev->key)
        conn_uid_make(ev->serial, ev->first_ns, ev->key, uid);
    jsonw_start(&w, &r->buf);
    jsonw_object_begin(&w, NULL);
    jsonw_array_begin(&w, "a");
    put_seconds(&w, ev->ts_ns);
    jsonw_string(&w, NULL, anomaly_name(ev->id));
    jsonw_string(&w, NULL, anomaly_severity_name(anomaly_severity_of(ev->id)));
    jsonw_string(&w, NULL, uid);
    jsonw_string(&w, NULL, ev->dir < 0 ? "" : flowtext_direction(ev->dir));
    jsonw_array_end(&w);
    jsonw_object_end(&w);
    line_flush(r);
}

/* ---- the end ------------------------------------------------------------------------------- */

bool report_finish(struct report *r, const struct run_stats *s, const struct input_report *inputs,
                   size_t ninputs, double run_seconds, const struct record_options *o, char *err,
                   size_t errlen) {
    struct jsonw w;
    jsonw_start(&w, &r->buf);
    jsonw_object_begin(&w, NULL);
    jsonw_object_begin(&w, "sev"); /* the catalog: every anomaly's severity */
    for (unsigned a = 0; a < ANOMALY_COUNT; a++)
        jsonw_string(&w, anomaly_name((enum anomaly)a),
                     anomaly_severity_name(anomaly_severity_of((enum anomaly)a)));
    jsonw_object_end(&w);
    jsonw_u64(&w, "detail_plain", REPORT_DETAIL_PLAIN);
    jsonw_u64(&w, "detail_notable", REPORT_DETAIL_NOTABLE);
    jsonw_u64(&w, "detail_open", REPORT_DETAIL_OPEN);
    jsonw_u64(&w, "points_max", REPORT_POINTS_MAX);
    jsonw_u64(&w, "anomalies_listed_max", REPORT_ANOMALIES_MAX);
    jsonw_object_end(&w);
    line_flush(r);
    jsonw_start(&w, &r->buf);
    jsonw_object_begin(&w, NULL);
    jsonw_object_begin(&w, "s");
    format_json_summary_members(&w, s, inputs, ninputs, run_seconds, o);
    jsonw_object_end(&w);
    jsonw_object_end(&w);
    line_flush(r);
    fputs("</script>", r->f);
    fputs(page_tail(), r->f);
    bool ok = !ferror(r->f) && !outbuf_failed(&r->buf);
    int e = errno;
    if (fclose(r->f) != 0) {
        ok = false;
        e = errno;
    }
    r->f = NULL;
    if (!ok)
        snprintf(err, errlen, "%s: %s", r->path, strerror(e ? e : EIO));
    report_discard(r);
    return ok;
}
