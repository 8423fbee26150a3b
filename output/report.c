/* report: the HTML report. The page (output/report_page.html, compiled in as report_page[]) is
 * split at its data marker: the part before is written when the report is opened; then one line
 * of JSON per reported connection ({"c": [...]}), per anomaly event ({"a": [...]}) and per
 * detailed connection ({"d": {...}}) goes into a non-executed script element as they happen; at
 * the end the summary ({"s": ...}, the JSON summary record's own members) and the anomaly
 * catalog's severities, then the rest of the page, whose script reads the lines. Every '<' in the
 * data is written as \u003c, so nothing in a capture can end the script element early. The
 * detailed connections' segments are kept in a small open-addressing table keyed by serial, each
 * with a fixed array of REPORT_POINTS_MAX points taken at its first segment: nothing is
 * allocated per packet. */
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
#define SLOTS 512 /* > 2 × REPORT_DETAIL_CONNS: short probe chains */

/* One segment of a detailed connection. */
struct point {
    int64_t ts_ns;
    uint32_t seq, ack, win, len; /* seq and ack relative to the ISNs; win scaled */
    anomaly_set raised;
    uint8_t dir, flags, state[2];
    bool sack; /* carried SACK blocks */
};

struct detail {
    uint64_t serial; /* 0: free slot */
    size_t n;
    uint64_t more; /* segments past REPORT_POINTS_MAX */
    struct point *points;
};

struct report {
    FILE *f;
    char *path;
    struct outbuf buf;     /* one data line at a time, reused */
    unsigned detailed;     /* connections given a detail so far (never more than the limit) */
    unsigned open_details; /* of those, not reported yet */
    uint64_t last_detailed_serial; /* the serial of the last one: later ones have none */
    uint64_t anomalies_listed;
    struct detail slots[SLOTS];
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
    for (unsigned i = 0; i < SLOTS; i++)
        free(r->slots[i].points);
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

static struct detail *slot_find(struct report *r, uint64_t serial) {
    for (unsigned i = 0, k = (unsigned)(serial % SLOTS); i < SLOTS; i++, k = (k + 1) % SLOTS) {
        if (r->slots[k].serial == serial)
            return &r->slots[k];
        if (r->slots[k].serial == 0 && r->slots[k].points == NULL)
            return NULL; /* never used: the chain ends */
    }
    return NULL;
}

/* A slot for a new detailed connection (a freed one keeps its points array for reuse). */
static struct detail *slot_take(struct report *r, uint64_t serial) {
    for (unsigned i = 0, k = (unsigned)(serial % SLOTS); i < SLOTS; i++, k = (k + 1) % SLOTS) {
        struct detail *d = &r->slots[k];
        if (d->serial != 0)
            continue;
        if (!d->points && !(d->points = malloc(REPORT_POINTS_MAX * sizeof *d->points)))
            return NULL;
        d->serial = serial;
        d->n = 0;
        d->more = 0;
        return d;
    }
    return NULL;
}

void report_on_segment(struct report *r, const struct conn *c, int dir, const struct packet *p) {
    struct detail *d;
    if (c->pkts[0] + c->pkts[1] == 1) { /* its first packet: one of the first ones? */
        if (r->detailed >= REPORT_DETAIL_CONNS)
            return;
        r->detailed++;
        r->last_detailed_serial = c->first_frame;
        if (!(d = slot_take(r, c->first_frame)))
            return;
        r->open_details++;
    } else {
        /* Past the first connections, the common case: one comparison. */
        if (r->open_details == 0 || c->first_frame > r->last_detailed_serial)
            return;
        d = slot_find(r, c->first_frame);
    }
    if (!d)
        return;
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

/* {"d": {"uid", "first", "more", "p": [[µs since first, dir, flags, seq, ack, len, win, orig
 * state, resp state, "anomalies", sack], ...]}} */
static void detail_write(struct report *r, struct detail *d, const struct conn *c) {
    struct jsonw w;
    char uid[CONN_UID_LEN];
    conn_uid(c, uid);
    jsonw_start(&w, &r->buf);
    jsonw_object_begin(&w, NULL);
    jsonw_object_begin(&w, "d");
    jsonw_string(&w, "uid", uid);
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
    d->serial = 0; /* free again; its points array stays for the next */
    r->open_details--;
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
 * state]} */
void report_on_conn(struct report *r, const struct conn *c) {
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
    jsonw_array_end(&w);
    jsonw_object_end(&w);
    line_flush(r);
    struct detail *d = tcp && r->open_details && c->first_frame <= r->last_detailed_serial
                           ? slot_find(r, c->first_frame)
                           : NULL;
    if (d)
        detail_write(r, d, c);
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
    jsonw_u64(&w, "detail_conns", REPORT_DETAIL_CONNS);
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
