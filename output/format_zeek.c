/* format_zeek: records as Zeek's logs — `zeek` in Zeek's TSV form (the #-header with #fields and
 * #types, one row per record, #close at the end), `zeek-json` as Zeek's JSON writer produces it
 * (flat "id.orig_h" keys, unset fields left out). conn.log: Zeek's columns first, in Zeek's
 * order, types and unset/empty conventions (scripts/base/protocols/conn/main.zeek: duration and
 * orig_bytes/resp_bytes only when the duration is positive, for every protocol, history only when
 * not empty, local_orig/local_resp unset without Site::local_nets), then ip_proto and community_id
 * as recent Zeek writes them, then shakedown's own columns. weird.log (-o DIR only): one row per
 * anomaly in the columns of Zeek's base/frameworks/notice/weird.zeek. One column table per log
 * drives both forms.
 *
 * In one stream (a file, stdout) only conn.log is written: anomalies are listed in each row's
 * `anomalies` column. Stats and summary records have no place in Zeek's logs; the summary ends
 * a TSV log with #close. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "capture.h"
#include "community_id.h"
#include "flowtext.h"
#include "format.h"
#include "jsonw.h"
#include "timefmt.h"

enum zeek_kind {
    ZEEK_UNSET,  /* "-" in TSV, left out in JSON */
    ZEEK_NUMBER, /* time, interval, count, port */
    ZEEK_STRING, /* string, addr, enum */
    ZEEK_BOOL,   /* "T" / "F", JSON true / false */
    ZEEK_SET,    /* set[string]: comma-separated text; "(empty)" in TSV, [] in JSON */
};

/* One column's value for one connection, as text. */
struct zeek_value {
    enum zeek_kind kind;
    char text[256];
};

/* The record a row is made of: a connection (conn.log) or an anomaly (weird.log). */
struct zeek_row {
    const struct conn *c;
    const struct anomaly_event *ev;
    const struct record_options *opt;
};

struct zeek_column {
    const char *name;
    const char *type; /* Zeek's type name, for #types */
    void (*value)(const struct zeek_row *r, struct zeek_value *v);
};

static void set_text(struct zeek_value *v, enum zeek_kind kind, const char *text) {
    v->kind = kind;
    snprintf(v->text, sizeof v->text, "%s", text);
}

static void set_count(struct zeek_value *v, uint64_t n) {
    v->kind = ZEEK_NUMBER;
    timefmt_u64(v->text, n);
}

/* Seconds with six decimals: Zeek's time and interval. */
static void set_seconds(struct zeek_value *v, int64_t ns) {
    v->kind = ZEEK_NUMBER;
    timefmt_epoch_ns(v->text, sizeof v->text, ns);
}

static bool is_tcp(const struct conn *c) {
    return c->e.key.proto == 6;
}

/* ---- Zeek's columns ------------------------------------------------------------------------ */

static void col_ts(const struct zeek_row *r, struct zeek_value *v) {
    set_seconds(v, r->c->first_ns);
}

static void col_uid(const struct zeek_row *r, struct zeek_value *v) {
    v->kind = ZEEK_STRING;
    conn_uid(r->c, v->text);
}

static void put_addr(const struct conn *c, int role, struct zeek_value *v) {
    v->kind = ZEEK_STRING;
    flowtext_addr(v->text, sizeof v->text, conn_addr(c, role), c->e.key.ip_version);
}

static void col_orig_h(const struct zeek_row *r, struct zeek_value *v) {
    put_addr(r->c, 0, v);
}

static void col_orig_p(const struct zeek_row *r, struct zeek_value *v) {
    set_count(v, conn_port(r->c, 0));
}

static void col_resp_h(const struct zeek_row *r, struct zeek_value *v) {
    put_addr(r->c, 1, v);
}

static void col_resp_p(const struct zeek_row *r, struct zeek_value *v) {
    set_count(v, conn_port(r->c, 1));
}

/* Zeek's transport_proto enum: tcp, udp, icmp (ICMPv6 too), unknown_transport. */
static void col_proto(const struct zeek_row *r, struct zeek_value *v) {
    const char *p = flowtext_proto(r->c->e.key.proto, r->c->e.key.ip_version);
    set_text(v, ZEEK_STRING,
             strcmp(p, "icmpv6") == 0  ? "icmp"
             : strcmp(p, "other") == 0 ? "unknown_transport"
                                       : p);
}

static void col_unset(const struct zeek_row *r, struct zeek_value *v) {
    (void)r;
    v->kind = ZEEK_UNSET; /* service (no application analysis), local_orig/resp, tunnels */
}

/* Bytes of the endpoint's sequence space the capture missed (TCP only). */
static uint64_t missed(const struct conn *c, int role) {
    return is_tcp(c) ? c->tcp.ep[role].missed_bytes : 0;
}

static bool has_duration(const struct conn *c) {
    return c->last_ns > c->first_ns;
}

static void col_duration(const struct zeek_row *r, struct zeek_value *v) {
    if (has_duration(r->c))
        set_seconds(v, r->c->last_ns - r->c->first_ns);
    else
        v->kind = ZEEK_UNSET;
}

/* orig_bytes / resp_bytes: Zeek's c$orig$size, set only when the duration is positive. TCP:
 * payload bytes by sequence space (bytes the capture missed but the sequence numbers cover count
 * too); UDP and ICMP: the datagrams' payload bytes (Zeek's UDP and ICMP session adapters add up
 * each packet's UDP length, or ICMP message length, less the 8-byte header). */
static void put_payload(const struct conn *c, int role, struct zeek_value *v) {
    if (has_duration(c))
        set_count(v,
                  is_tcp(c) ? tcp_conn_sequence_bytes(&c->tcp, role) : conn_payload_bytes(c, role));
    else
        v->kind = ZEEK_UNSET;
}

static void col_orig_bytes(const struct zeek_row *r, struct zeek_value *v) {
    put_payload(r->c, 0, v);
}

static void col_resp_bytes(const struct zeek_row *r, struct zeek_value *v) {
    put_payload(r->c, 1, v);
}

static void col_conn_state(const struct zeek_row *r, struct zeek_value *v) {
    set_text(v, ZEEK_STRING, zeek_conn_state_name(conn_zeek_state(r->c)));
}

/* Zeek adds up the content gaps of both directions. */
static void col_missed_bytes(const struct zeek_row *r, struct zeek_value *v) {
    set_count(v, missed(r->c, 0) + missed(r->c, 1));
}

/* Unset when empty, and for ICMP: Zeek's ICMP analyzer records no history letters (its UDP
 * analyzer records D and d, as conn_history has them). */
static void col_history(const struct zeek_row *r, struct zeek_value *v) {
    char hist[TCP_HISTORY_MAX];
    conn_history(r->c, hist);
    uint8_t proto = r->c->e.key.proto;
    if (hist[0] && proto != 1 && proto != 58)
        set_text(v, ZEEK_STRING, hist);
    else
        v->kind = ZEEK_UNSET;
}

static void col_orig_pkts(const struct zeek_row *r, struct zeek_value *v) {
    set_count(v, r->c->pkts[0]);
}

static void col_orig_ip_bytes(const struct zeek_row *r, struct zeek_value *v) {
    set_count(v, r->c->ip_bytes[0]);
}

static void col_resp_pkts(const struct zeek_row *r, struct zeek_value *v) {
    set_count(v, r->c->pkts[1]);
}

static void col_resp_ip_bytes(const struct zeek_row *r, struct zeek_value *v) {
    set_count(v, r->c->ip_bytes[1]);
}

static void col_ip_proto(const struct zeek_row *r, struct zeek_value *v) {
    set_count(v, r->c->e.key.proto);
}

static void col_community_id(const struct zeek_row *r, struct zeek_value *v) {
    const struct flow_key *k = &r->c->e.key;
    struct community_id_tuple t = {k->ip_version, conn_addr(r->c, 0), conn_addr(r->c, 1),
                                   k->proto,      conn_port(r->c, 0), conn_port(r->c, 1)};
    char cid[COMMUNITY_ID_LEN];
    if (community_id_v1(r->opt->hasher, &t, r->opt->community_id_seed, cid))
        set_text(v, ZEEK_STRING, cid);
    else
        v->kind = ZEEK_UNSET;
}

/* ---- shakedown's own columns --------------------------------------------------------------- */

static void put_state(const struct conn *c, int role, struct zeek_value *v) {
    if (is_tcp(c))
        set_text(v, ZEEK_STRING, tcp_state_name(tcp_conn_state(&c->tcp, role)));
    else
        v->kind = ZEEK_UNSET;
}

static void col_orig_state(const struct zeek_row *r, struct zeek_value *v) {
    put_state(r->c, 0, v);
}

static void col_resp_state(const struct zeek_row *r, struct zeek_value *v) {
    put_state(r->c, 1, v);
}

static void col_close(const struct zeek_row *r, struct zeek_value *v) {
    set_text(v, ZEEK_STRING, conn_end_name((enum conn_end)r->c->end));
}

static void col_close_initiator(const struct zeek_row *r, struct zeek_value *v) {
    int who = is_tcp(r->c) ? r->c->tcp.close_initiator : -1;
    if (who >= 0)
        set_text(v, ZEEK_STRING, flowtext_direction(who));
    else
        v->kind = ZEEK_UNSET;
}

/* The names of the connection's anomalies, as a set (each once, in the order first seen). */
static void col_anomalies(const struct zeek_row *r, struct zeek_value *v) {
    const struct conn_anomalies *l = r->c->anomalies;
    size_t k = 0;
    v->kind = ZEEK_SET;
    v->text[0] = '\0';
    for (unsigned i = 0; l && i < l->n; i++) {
        const char *name = anomaly_name((enum anomaly)l->list[i].id);
        bool seen = false;
        for (unsigned j = 0; j < i && !seen; j++)
            seen = l->list[j].id == l->list[i].id;
        int n = seen ? 0 : snprintf(v->text + k, sizeof v->text - k, "%s%s", k ? "," : "", name);
        if (n > 0 && (size_t)n < sizeof v->text - k)
            k += (size_t)n;
    }
}

static const struct zeek_column columns[] = {
    {"ts", "time", col_ts},
    {"uid", "string", col_uid},
    {"id.orig_h", "addr", col_orig_h},
    {"id.orig_p", "port", col_orig_p},
    {"id.resp_h", "addr", col_resp_h},
    {"id.resp_p", "port", col_resp_p},
    {"proto", "enum", col_proto},
    {"service", "string", col_unset},
    {"duration", "interval", col_duration},
    {"orig_bytes", "count", col_orig_bytes},
    {"resp_bytes", "count", col_resp_bytes},
    {"conn_state", "string", col_conn_state},
    {"local_orig", "bool", col_unset},
    {"local_resp", "bool", col_unset},
    {"missed_bytes", "count", col_missed_bytes},
    {"history", "string", col_history},
    {"orig_pkts", "count", col_orig_pkts},
    {"orig_ip_bytes", "count", col_orig_ip_bytes},
    {"resp_pkts", "count", col_resp_pkts},
    {"resp_ip_bytes", "count", col_resp_ip_bytes},
    {"tunnel_parents", "set[string]", col_unset},
    {"ip_proto", "count", col_ip_proto},
    {"community_id", "string", col_community_id},
    {"orig_state", "string", col_orig_state},
    {"resp_state", "string", col_resp_state},
    {"close", "string", col_close},
    {"close_initiator", "string", col_close_initiator},
    {"anomalies", "set[string]", col_anomalies},
};

#define NCOLUMNS (sizeof columns / sizeof columns[0])

/* ---- weird.log ----------------------------------------------------------------------------- */

static void weird_ts(const struct zeek_row *r, struct zeek_value *v) {
    set_seconds(v, r->ev->ts_ns);
}

/* The uid of the connection the anomaly is in; host-level anomalies (flood, scan) have none. */
static void weird_uid(const struct zeek_row *r, struct zeek_value *v) {
    const struct anomaly_event *ev = r->ev;
    if (!ev->key) {
        v->kind = ZEEK_UNSET;
        return;
    }
    v->kind = ZEEK_STRING;
    conn_uid_make(ev->serial, ev->first_ns, ev->key, v->text);
}

/* id.*: the connection's originator (role 0) and responder (role 1). A host-level anomaly has
 * one address, as Zeek's flow weirds do: a scan's source as the originator, a flood's target as
 * the responder; its ports are unset. */
static void weird_host(const struct zeek_row *r, int role, struct zeek_value *v) {
    const struct anomaly_event *ev = r->ev;
    const uint8_t *addr = NULL;
    uint8_t version = ev->host_version;
    if (ev->key) {
        addr = ev->key->addr[role ? !ev->orig_side : ev->orig_side];
        version = ev->key->ip_version;
    } else if (ev->host && (ev->id == ANOMALY_PORT_SCAN) == (role == 0)) {
        addr = ev->host;
    }
    if (!addr) {
        v->kind = ZEEK_UNSET;
        return;
    }
    v->kind = ZEEK_STRING;
    flowtext_addr(v->text, sizeof v->text, addr, version);
}

static void weird_port(const struct zeek_row *r, int role, struct zeek_value *v) {
    const struct anomaly_event *ev = r->ev;
    if (ev->key)
        set_count(v, ev->key->port[role ? !ev->orig_side : ev->orig_side]);
    else
        v->kind = ZEEK_UNSET;
}

static void weird_orig_h(const struct zeek_row *r, struct zeek_value *v) {
    weird_host(r, 0, v);
}

static void weird_orig_p(const struct zeek_row *r, struct zeek_value *v) {
    weird_port(r, 0, v);
}

static void weird_resp_h(const struct zeek_row *r, struct zeek_value *v) {
    weird_host(r, 1, v);
}

static void weird_resp_p(const struct zeek_row *r, struct zeek_value *v) {
    weird_port(r, 1, v);
}

static void weird_name(const struct zeek_row *r, struct zeek_value *v) {
    set_text(v, ZEEK_STRING, anomaly_name(r->ev->id));
}

static void weird_addl(const struct zeek_row *r, struct zeek_value *v) {
    if (r->ev->detail[0])
        set_text(v, ZEEK_STRING, r->ev->detail);
    else
        v->kind = ZEEK_UNSET;
}

/* shakedown raises no notices from its anomalies (Zeek: only weirds in Weird::actions do). */
static void weird_notice(const struct zeek_row *r, struct zeek_value *v) {
    (void)r;
    set_text(v, ZEEK_BOOL, "F");
}

/* Zeek's peer is the name of the node that saw it ("zeek" standalone): here, shakedown. */
static void weird_peer(const struct zeek_row *r, struct zeek_value *v) {
    (void)r;
    set_text(v, ZEEK_STRING, "shakedown");
}

/* Zeek's source is the analyzer that raised it ("TCP", "UDP"...); host-level ones: unset. */
static void weird_source(const struct zeek_row *r, struct zeek_value *v) {
    const struct flow_key *k = r->ev->key;
    if (!k) {
        v->kind = ZEEK_UNSET;
        return;
    }
    v->kind = ZEEK_STRING;
    const char *p = flowtext_proto(k->proto, k->ip_version);
    size_t i = 0;
    for (; p[i] && i + 1 < sizeof v->text; i++)
        v->text[i] = (char)(p[i] >= 'a' && p[i] <= 'z' ? p[i] - 'a' + 'A' : p[i]);
    v->text[i] = '\0';
}

static const struct zeek_column weird_columns[] = {
    {"ts", "time", weird_ts},
    {"uid", "string", weird_uid},
    {"id.orig_h", "addr", weird_orig_h},
    {"id.orig_p", "port", weird_orig_p},
    {"id.resp_h", "addr", weird_resp_h},
    {"id.resp_p", "port", weird_resp_p},
    {"name", "string", weird_name},
    {"addl", "string", weird_addl},
    {"notice", "bool", weird_notice},
    {"peer", "string", weird_peer},
    {"source", "string", weird_source},
};

/* A log: its #path and its columns. */
struct zeek_log {
    const char *path;
    const struct zeek_column *columns;
    size_t n;
};

static const struct zeek_log conn_log = {"conn", columns, NCOLUMNS};
static const struct zeek_log weird_log = {"weird", weird_columns,
                                          sizeof weird_columns / sizeof weird_columns[0]};

/* ---- TSV ----------------------------------------------------------------------------------- */

/* Zeek's log time stamp for #open and #close: the wall clock, local time as Zeek writes it. */
static void put_log_time(struct outbuf *out, const char *tag) {
    time_t now = (time_t)(capture_wall_ns() / 1000000000);
    struct tm tm;
    char stamp[32] = "-";
    if (localtime_r(&now, &tm))
        strftime(stamp, sizeof stamp, "%Y-%m-%d-%H-%M-%S", &tm);
    outbuf_printf(out, "#%s\t%s\n", tag, stamp);
}

static void put_header(struct outbuf *out, const struct zeek_log *log) {
    outbuf_puts(out, "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n"
                     "#unset_field\t-\n");
    outbuf_printf(out, "#path\t%s\n", log->path);
    put_log_time(out, "open");
    outbuf_puts(out, "#fields");
    for (size_t i = 0; i < log->n; i++)
        outbuf_printf(out, "\t%s", log->columns[i].name);
    outbuf_puts(out, "\n#types");
    for (size_t i = 0; i < log->n; i++)
        outbuf_printf(out, "\t%s", log->columns[i].type);
    outbuf_putc(out, '\n');
}

/* A string value as Zeek's ASCII writer escapes it: the separator, other control bytes and the
 * backslash as \xNN. Most values are shakedown's own (numbers, addresses, names from its
 * tables) and hold none of them; an anomaly's detail (weird.log's addl) might. */
static bool needs_escape(unsigned char c) {
    return c < 0x20 || c == 0x7f || c == '\\';
}

/* Runs of bytes that need nothing go out in one piece (nearly every value is one such run). */
static void put_escaped(struct outbuf *out, const char *text) {
    const unsigned char *p = (const unsigned char *)text;
    for (;;) {
        size_t n = 0;
        while (p[n] && !needs_escape(p[n]))
            n++;
        outbuf_append(out, p, n);
        p += n;
        if (!*p)
            return;
        outbuf_printf(out, "\\x%02x", *p++);
    }
}

/* One row of log from the record in row, the header first in a log that is still empty. */
static void tsv_row(struct format_ctx *f, const struct zeek_log *log, const struct zeek_row *row) {
    struct zeek_value v;
    if (f->output_empty)
        put_header(f->out, log);
    for (size_t i = 0; i < log->n; i++) {
        log->columns[i].value(row, &v);
        if (i)
            outbuf_putc(f->out, '\t');
        if (v.kind == ZEEK_UNSET)
            outbuf_putc(f->out, '-');
        else if (v.kind == ZEEK_SET && !v.text[0])
            outbuf_puts(f->out, "(empty)");
        else
            put_escaped(f->out, v.text);
    }
    outbuf_putc(f->out, '\n');
}

static void tsv_connection(struct format_ctx *f, const struct conn *c, bool final) {
    (void) final; /* an interim row has close "open", as its end is not known yet */
    tsv_row(f, &conn_log, &(struct zeek_row){.c = c, .opt = f->opt});
}

static void tsv_weird(struct format_ctx *f, const struct anomaly_event *ev) {
    tsv_row(f, &weird_log, &(struct zeek_row){.ev = ev, .opt = f->opt});
}

static void zeek_no_record(struct format_ctx *f, const void *record) {
    (void)f;
    (void)record;
}

static void zeek_no_connection(struct format_ctx *f, const struct conn *c, bool final) {
    (void) final;
    zeek_no_record(f, c);
}

static void zeek_anomaly(struct format_ctx *f, const struct anomaly_event *ev) {
    zeek_no_record(f, ev);
}

static void zeek_stats(struct format_ctx *f, const struct live_stats *ls) {
    zeek_no_record(f, ls);
}

/* A log that was opened (has its header) is closed: before it is rotated away, and at the end. */
static void tsv_trailer(struct format_ctx *f) {
    if (!f->output_empty)
        put_log_time(f->out, "close");
}

static void tsv_summary(struct format_ctx *f, const struct run_stats *s,
                        const struct input_report *inputs, size_t ninputs, double run_seconds) {
    (void)s;
    (void)inputs;
    (void)ninputs;
    (void)run_seconds;
    tsv_trailer(f);
}

/* ---- JSON ---------------------------------------------------------------------------------- */

static void json_set(struct jsonw *w, const char *key, const char *list) {
    jsonw_array_begin(w, key);
    while (*list) {
        char item[64];
        size_t n = strcspn(list, ",");
        snprintf(item, sizeof item, "%.*s", (int)n, list);
        jsonw_string(w, NULL, item);
        list += n + (list[n] == ',');
    }
    jsonw_array_end(w);
}

static void json_row(struct format_ctx *f, const struct zeek_log *log, const struct zeek_row *row) {
    struct zeek_value v;
    struct jsonw w;
    jsonw_start(&w, f->out);
    jsonw_object_begin(&w, NULL);
    for (size_t i = 0; i < log->n; i++) {
        const char *name = log->columns[i].name;
        log->columns[i].value(row, &v);
        if (v.kind == ZEEK_NUMBER)
            jsonw_number_text(&w, name, v.text);
        else if (v.kind == ZEEK_STRING)
            jsonw_string(&w, name, v.text);
        else if (v.kind == ZEEK_BOOL)
            jsonw_bool(&w, name, v.text[0] == 'T');
        else if (v.kind == ZEEK_SET)
            json_set(&w, name, v.text);
    }
    jsonw_object_end(&w);
    outbuf_putc(f->out, '\n');
}

static void json_connection(struct format_ctx *f, const struct conn *c, bool final) {
    (void) final;
    json_row(f, &conn_log, &(struct zeek_row){.c = c, .opt = f->opt});
}

static void json_weird(struct format_ctx *f, const struct anomaly_event *ev) {
    json_row(f, &weird_log, &(struct zeek_row){.ev = ev, .opt = f->opt});
}

static void json_summary(struct format_ctx *f, const struct run_stats *s,
                         const struct input_report *inputs, size_t ninputs, double run_seconds) {
    (void)s;
    (void)inputs;
    (void)ninputs;
    (void)run_seconds;
    zeek_no_record(f, NULL);
}

/* -o DIR: conn.log with the connections, weird.log with the anomalies. */
static const struct format_ops zeek_weird = {
    .name = "zeek",
    .connection = zeek_no_connection,
    .anomaly = tsv_weird,
    .stats = zeek_stats,
    .summary = tsv_summary,
    .trailer = tsv_trailer,
};
static const struct format_ops zeek_json_weird = {
    .name = "zeek-json",
    .connection = zeek_no_connection,
    .anomaly = json_weird,
    .stats = zeek_stats,
    .summary = json_summary,
};

extern const struct format_ops output_format_zeek, output_format_zeek_json;
static const struct format_log zeek_logs[] = {
    {"conn.log", &output_format_zeek}, {"weird.log", &zeek_weird}, {NULL, NULL}};
static const struct format_log zeek_json_logs[] = {
    {"conn.log", &output_format_zeek_json}, {"weird.log", &zeek_json_weird}, {NULL, NULL}};

const struct format_ops output_format_zeek = {
    .name = "zeek",
    .logs = zeek_logs,
    .connection = tsv_connection,
    .anomaly = zeek_anomaly,
    .stats = zeek_stats,
    .summary = tsv_summary,
    .trailer = tsv_trailer,
};
const struct format_ops output_format_zeek_json = {
    .name = "zeek-json",
    .logs = zeek_json_logs,
    .connection = json_connection,
    .anomaly = zeek_anomaly,
    .stats = zeek_stats,
    .summary = json_summary,
};
