/* format_text: the terminal report. Plain aligned columns, a column header at the top of each
 * output file; only non-zero rows are listed. A connection's anomalies are listed under its line;
 * anomalies get a line of their own only when they are host-level or came after that line. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "checksum_policy.h"
#include "flowtext.h"
#include "format.h"
#include "packet.h"
#include "textwrap.h"
#include "timefmt.h"

/* The summary: one labelled line per subject (label column LABEL_W wide), only what happened —
 * empty sections and zero counts are left out. */
#define LABEL_W 13

static void label(struct outbuf *out, const char *name) {
    outbuf_printf(out, "%-*s", LABEL_W, name);
}

static void text_inputs(struct outbuf *out, const struct input_report *in, size_t n) {
    for (size_t i = 0; i < n; i++) {
        label(out, i ? "" : "Inputs");
        outbuf_printf(out, "%s: %s", in[i].path, input_status_name(in[i].status));
        if (in[i].link >= 0)
            outbuf_printf(out, ", %s%s, %" PRIu64 " packets", in[i].link_name,
                          in[i].link_supported ? "" : " (unsupported)", in[i].packets);
        if (in[i].status != INPUT_OK)
            outbuf_printf(out, " — %s", in[i].message);
        outbuf_putc(out, '\n');
    }
}

/* "name N" for each non-zero counter, separated by ", "; returns how many were written. */
static unsigned counter_list(struct outbuf *out, const struct counter *c, unsigned from,
                             unsigned to, const char *(*name)(unsigned), unsigned written) {
    unsigned n = 0;
    for (unsigned i = from; i < to; i++)
        if (c[i].packets)
            outbuf_printf(out, "%s%s %" PRIu64,
                          n++       ? ", "
                          : written ? "; "
                                    : "",
                          name(i), c[i].packets);
    return n;
}

static const char *link_name(unsigned i) {
    return link_kind_name((enum link_kind)i);
}

static const char *net_name(unsigned i) {
    return net_proto_name((enum net_proto)i);
}

static const char *transport_name(unsigned i) {
    return transport_proto_name((enum transport_proto)i);
}

/* Packets by protocol, layer by layer: "ethernet 48; ipv4 37, ipv6 11; tcp 44, udp 2". */
static void text_protocols(struct outbuf *out, const struct run_stats *s) {
    size_t at = out->len;
    label(out, "Protocols");
    unsigned n = counter_list(out, s->link, 0, LINK_KIND_COUNT, link_name, 0);
    n += counter_list(out, s->net, NET_NONE + 1, NET_COUNT, net_name, n);
    n += counter_list(out, s->transport, TRANSPORT_NONE + 1, TRANSPORT_COUNT, transport_name, n);
    if (n)
        outbuf_printf(out, " (packets)\n");
    else /* nothing counted (every packet filtered out): no section */
        out->len = at;
}

/* The sources --checksums auto took as offloading, on one line. */
static void text_offload_sources(struct outbuf *out, const struct run_stats *s) {
    if (s->offload_source_count == 0)
        return;
    outbuf_printf(out, "  %-22s", "offloading sources");
    for (uint32_t i = 0; i < s->offload_source_count && i < STATS_MAX_OFFLOAD_SOURCES; i++) {
        char addr[64];
        flowtext_addr(addr, sizeof addr, s->offload_sources[i].addr,
                      s->offload_sources[i].ip_version);
        outbuf_printf(out, "%s%s", i ? ", " : " ", addr);
    }
    if (s->offload_source_count > STATS_MAX_OFFLOAD_SOURCES)
        outbuf_printf(out, " and %" PRIu32 " more",
                      s->offload_source_count - STATS_MAX_OFFLOAD_SOURCES);
    outbuf_putc(out, '\n');
}

static void text_problems(struct outbuf *out, const struct run_stats *s) {
    if (stats_decode_error_total(s)) {
        label(out, "Not decoded");
        unsigned n = 0;
        for (unsigned i = DECODE_OK + 1; i < DECODE_STATUS_COUNT; i++)
            if (s->decode_errors[i])
                outbuf_printf(out, "%s%s %" PRIu64, n++ ? ", " : "",
                              decode_status_name((enum decode_status)i), s->decode_errors[i]);
        outbuf_putc(out, '\n');
    }
    unsigned n = 0;
    for (unsigned i = 0; i < CHECKSUM_LAYER_COUNT; i++) {
        const struct checksum_counts *c = &s->checksums[i];
        if (!c->good && !c->bad && !c->offloaded)
            continue;
        if (n++ == 0)
            label(out, "Checksums");
        outbuf_printf(out, "%s%s %" PRIu64 " good", n > 1 ? "; " : "",
                      checksum_layer_name((enum checksum_layer)i), c->good);
        if (c->bad)
            outbuf_printf(out, ", %" PRIu64 " bad", c->bad);
        if (c->offloaded)
            outbuf_printf(out, ", %" PRIu64 " offloaded", c->offloaded);
    }
    if (n)
        outbuf_putc(out, '\n');
    text_offload_sources(out, s);
    if (s->checksum_untracked)
        outbuf_printf(out,
                      "  %-22s %" PRIu64 " packets of sources --checksums auto could not track "
                      "(its table of %d sources was full): a bad checksum among them was left "
                      "out\n",
                      "untracked sources", s->checksum_untracked, CHECKSUM_POLICY_SOURCES);
}

/* ---- the connection table ------------------------------------------------------------------
 * Rows come out as connections end, so the time column is each connection's end; a connection's
 * anomalies are listed under its row. The default table fits the output's width W (the
 * terminal's, else $COLUMNS, else 120); --wide has every column, whatever the width.
 *
 * The full table (W >= 120, and --wide): end "01-01 00:00:00.340" (18), proto (6), originator ->
 * responder (W - 73), state (6), duration (8), orig IP B and resp IP B (11 each), anom. (5);
 * --wide adds history, both TCP states, packets and the close reason, and its tuple column is
 * always 47 wide (the longest IPv6 tuple is shortened). Narrower, the tuple column would be
 * shorter than the longest IPv4 tuple (46: "255.255.255.255:65535 -> 255.255.255.255:65535"),
 * so the table sheds, in this order, until it is not: the date of the end time (below 119
 * columns), the two byte columns for one "IP bytes o/r" with units ("15.2k/1.5M", below 113),
 * the anomaly count (below 103: the anomalies are still listed under the row), the protocol
 * (below 96). Below 89 the tuple column is W - 43 (37 at 80, at least 24). A tuple that does not
 * fit its column puts the responder on a continuation line; IPv4 addresses are never shortened,
 * IPv6 ones keep both ends ("2001:..:370:7334") when each keeps 12 characters on one line, else
 * they take two lines too (shortened only if one endpoint does not fit a line). */

#define TIME_W 18       /* "01-01 00:00:00.340" */
#define DATE_W 6        /* "01-01 " */
#define PROTO_W 6       /* "icmpv6" */
#define STATE_W 6       /* "RSTOS0" */
#define DURATION_W 8    /* "999.999s", "1234567s" */
#define BYTES_W 11      /* each of orig IP B, resp IP B */
#define BYTES_PAIR_W 13 /* " IP bytes o/r": "15.2k/1.5M" */
#define ANOM_W 5        /* "anom." */
#define FULL_FIXED                                                                                 \
    (TIME_W + 1 + PROTO_W + 1 + 1 + STATE_W + 1 + DURATION_W + 1 + BYTES_W + 1 + BYTES_W + 2 +     \
     ANOM_W)
#define TUPLE_IPV4_MAX 46
#define TUPLE_MIN 24 /* "255.255.255.255:65535 ->", an originator on a line of its own */
#define WIDE_TUPLE 47
#define ADDR_SHORT_MIN 12 /* an IPv6 address shortened on one line keeps at least this much */
#define ENDPOINT_LEN 80   /* "[" address "]:65535" */
#define TUPLE_LEN (2 * ENDPOINT_LEN + 4)
#define WIDTH_DEFAULT 120u /* when the sink did not say */

/* The columns of the table, from the output's width. */
struct table_layout {
    size_t width; /* of the output; 0: no limit (--wide) */
    bool wide, date, bytes_apart, anomaly_count, proto;
    size_t time_w, tuple_w;
};

static size_t output_width(const struct record_options *opt) {
    return opt->text_columns ? opt->text_columns : WIDTH_DEFAULT;
}

static struct table_layout table_layout(const struct record_options *opt) {
    struct table_layout l = {.date = true,
                             .bytes_apart = true,
                             .anomaly_count = true,
                             .proto = true,
                             .time_w = TIME_W,
                             .tuple_w = WIDE_TUPLE};
    if (opt->text_wide) {
        l.wide = true;
        return l;
    }
    l.width = output_width(opt);
    bool *const shed[] = {&l.date, &l.bytes_apart, &l.anomaly_count, &l.proto};
    static const size_t saves[] = {DATE_W, 2 * BYTES_W + 1 - BYTES_PAIR_W, 2 + ANOM_W, PROTO_W + 1};
    size_t fixed = FULL_FIXED;
    for (size_t i = 0; i < 4 && l.width < fixed + TUPLE_IPV4_MAX; i++) {
        *shed[i] = false;
        fixed -= saves[i];
    }
    l.time_w = l.date ? TIME_W : TIME_W - DATE_W;
    l.tuple_w = l.width > fixed + TUPLE_MIN ? l.width - fixed : TUPLE_MIN;
    return l;
}

/* The column where the tuple starts. */
static size_t tuple_column(const struct table_layout *l) {
    return l->time_w + 1 + (l->proto ? PROTO_W + 1 : 0);
}

/* A time as "01-01 00:00:00.340", UTC, or without the date "00:00:00.340" (enough to tell rows
 * apart on a terminal; the records in other formats carry the full time). */
static void row_time(char out[TIMEFMT_ISO_LEN], int64_t ns, bool date) {
    char iso[TIMEFMT_ISO_LEN];
    timefmt_iso8601_ns(iso, sizeof iso, ns);
    if (strlen(iso) < 23) { /* "invalid" */
        snprintf(out, TIMEFMT_ISO_LEN, "%s", iso);
        return;
    }
    snprintf(out, TIMEFMT_ISO_LEN, "%.*s%.12s", date ? 6 : 0, date ? iso + 5 : "", iso + 11);
    if (date)
        out[5] = ' ';
}

#define BYTES_SHORT_LEN 24 /* room for any uint64_t, whatever the compiler can prove */

/* n bytes in at most 5 characters: "420", "9999", "15.2k", "152k", "1.5M" (powers of 1000). */
static void bytes_short(char out[BYTES_SHORT_LEN], uint64_t n) {
    static const char units[] = "kMGTPE";
    if (n < 10000) {
        snprintf(out, BYTES_SHORT_LEN, "%" PRIu64, n);
        return;
    }
    uint64_t div = 1000;
    unsigned u = 0;
    while (n / div >= 1000 && u + 1 < sizeof units - 1) {
        div *= 1000;
        u++;
    }
    uint64_t tenths = n / (div / 10);
    if (tenths < 1000)
        snprintf(out, BYTES_SHORT_LEN, "%" PRIu64 ".%" PRIu64 "%c", tenths / 10, tenths % 10,
                 units[u]);
    else
        snprintf(out, BYTES_SHORT_LEN, "%" PRIu64 "%c", n / div, units[u]);
}

/* A duration in at most 8 characters: "0.300s", "999.999s", then whole seconds ("86400s"), then
 * days ("1200d"). */
static void duration_text(char out[24], int64_t ns) {
    int64_t sec = ns > 0 ? ns / 1000000000 : 0;
    if (sec < 1000)
        snprintf(out, 24, "%" PRId64 ".%03ds", sec, ns > 0 ? (int)(ns / 1000000 % 1000) : 0);
    else if (sec < 10000000)
        snprintf(out, 24, "%" PRId64 "s", sec);
    else
        snprintf(out, 24, "%" PRId64 "d", sec / 86400);
}

/* Shortens s in place to at most max (at least 4) characters, keeping both ends, cut at whole
 * groups where the halves hold a ':' ("2001:db8:..:370:7334"), else anywhere. */
static void shorten(char *s, size_t max) {
    size_t n = strlen(s);
    if (max < 4)
        max = 4;
    if (n <= max)
        return;
    size_t head = (max - 2) / 2, h = head;
    while (h > 0 && s[h - 1] != ':')
        h--;
    if (h >= 2) /* the head ends after a ':' */
        head = h;
    size_t tail = max - 2 - head, t = tail;
    while (t > 0 && s[n - t] != ':')
        t--;
    if (t >= 2) /* the tail starts at a ':' */
        tail = t;
    memmove(s + head + 2, s + n - tail, tail + 1);
    memcpy(s + head, "..", 2);
}

/* "192.0.2.1:80" or "[2001:db8::1]:80". */
static void endpoint_text(char *out, size_t len, const char *addr, unsigned port, bool v6) {
    snprintf(out, len, v6 ? "[%s]:%u" : "%s:%u", addr, port);
}

/* The tuple cell: "a:p -> b:p" on the row's line, or "a:p ->" there and "b:p" on a continuation
 * line (next; "" when there is none) — the rule is at the top of this section. */
struct tuple_text {
    char line[TUPLE_LEN], next[ENDPOINT_LEN];
};

static void row_tuple(struct tuple_text *t, const struct conn *c, size_t width) {
    char addr[2][FLOWTEXT_ADDR_LEN], end[2][ENDPOINT_LEN];
    unsigned port[2];
    bool v6 = c->e.key.ip_version == 6;
    size_t ports = 0;
    for (int role = 0; role < 2; role++) {
        flowtext_addr(addr[role], sizeof addr[role], conn_addr(c, role), c->e.key.ip_version);
        port[role] = conn_port(c, role);
        snprintf(end[role], sizeof end[role], ":%u", port[role]);
        ports += strlen(end[role]) + (v6 ? 2 : 0); /* and the brackets */
    }
    size_t need = strlen(addr[0]) + strlen(addr[1]) + ports + 4; /* " -> " */
    size_t budget = width > ports + 4 ? (width - ports - 4) / 2 : 0;
    bool one_line = need <= width || (v6 && budget >= ADDR_SHORT_MIN);
    for (int role = 0; role < 2; role++) {
        size_t own = strlen(end[role]) + (v6 ? 2 : 0) + (role ? 0 : 3); /* ":p", "[]", " ->" */
        if (v6 && need > width)
            shorten(addr[role], one_line ? budget : width > own ? width - own : 0);
        endpoint_text(end[role], sizeof end[role], addr[role], port[role], v6);
    }
    if (one_line) {
        snprintf(t->line, sizeof t->line, "%s -> %s", end[0], end[1]);
        t->next[0] = '\0';
    } else {
        snprintf(t->line, sizeof t->line, "%s ->", end[0]);
        snprintf(t->next, sizeof t->next, "%s", end[1]);
    }
}

/* One line of the table (the header or a row): the cells the layout has, in its columns. */
struct table_cells {
    const char *time, *proto, *tuple, *state, *duration;
    const char *orig_bytes, *resp_bytes, *bytes_pair, *anomalies;
    const char *history, *tcp_states, *packets, *close; /* --wide */
};

static void table_line(struct outbuf *out, const struct table_layout *l,
                       const struct table_cells *c) {
    outbuf_printf(out, "%-*s ", (int)l->time_w, c->time);
    if (l->proto)
        outbuf_printf(out, "%-*s ", PROTO_W, c->proto);
    outbuf_printf(out, "%-*s %-*s %*s ", (int)l->tuple_w, c->tuple, STATE_W, c->state, DURATION_W,
                  c->duration);
    if (l->bytes_apart)
        outbuf_printf(out, "%*s %*s", BYTES_W, c->orig_bytes, BYTES_W, c->resp_bytes);
    else
        outbuf_printf(out, "%*s", BYTES_PAIR_W, c->bytes_pair);
    if (l->anomaly_count)
        outbuf_printf(out, "  %-*s", ANOM_W, c->anomalies);
    if (l->wide)
        outbuf_printf(out, " %-14s %-25s %9s  %s", c->history, c->tcp_states, c->packets, c->close);
    /* no padding after the last column */
    while (out->len > 0 && out->data[out->len - 1] == ' ')
        out->len--;
    outbuf_putc(out, '\n');
}

static void text_connection_header(struct format_ctx *f) {
    struct table_layout l = table_layout(f->opt);
    const struct table_cells header = {
        .time = "end (UTC)",
        .proto = "proto",
        .tuple = "originator -> responder",
        .state = "state",
        .duration = "duration",
        .orig_bytes = "orig IP B",
        .resp_bytes = "resp IP B",
        .bytes_pair = "IP bytes o/r",
        .anomalies = "anom.",
        .history = "history",
        .tcp_states = "orig / resp TCP state",
        .packets = "pkts",
        .close = "close",
    };
    table_line(f->out, &l, &header);
}

/* One anomaly line, the same columns wherever it is written — under its connection's row, or
 * on its own (host-level, or seen after the row was written): "  ! ", the time as the rows
 * write it, the name, the severity, the text. A text too long for the width goes on under the
 * text column, or under the name when that leaves the text fewer than 40 characters. */
#define ANOMALY_NAME_W 22 /* "packet_after_time_wait" */
#define SEVERITY_W 6      /* "medium" */
#define ANOMALY_TEXT_MIN 40

static void anomaly_row(struct outbuf *out, const struct table_layout *l, int64_t ns,
                        enum anomaly id, const char *text) {
    char ts[TIMEFMT_ISO_LEN];
    row_time(ts, ns, l->date);
    size_t start = out->len, name_col = 4 + l->time_w + 1;
    size_t text_col = name_col + ANOMALY_NAME_W + 1 + SEVERITY_W + 1;
    outbuf_printf(out, "  ! %-*s %-*s %-*s %s", (int)l->time_w, ts, ANOMALY_NAME_W,
                  anomaly_name(id), SEVERITY_W, anomaly_severity_name(anomaly_severity_of(id)),
                  text);
    size_t indent = l->width >= text_col + ANOMALY_TEXT_MIN ? text_col : name_col;
    textwrap(out, start, l->width, indent < text_col ? text_col - 1 : text_col, indent);
    outbuf_putc(out, '\n');
}

/* The anomalies of one connection, under its row. */
static void text_conn_anomalies(struct outbuf *out, const struct table_layout *l,
                                const struct conn *c) {
    const struct conn_anomalies *a = c->anomalies;
    if (!a)
        return;
    for (unsigned i = 0; i < a->n; i++) {
        const struct conn_anomaly *e = &a->list[i];
        char text[64];
        snprintf(text, sizeof text, "from %s, %" PRIu32 " time%s",
                 e->dir == 0 ? "originator" : "responder", e->count, e->count == 1 ? "" : "s");
        anomaly_row(out, l, e->first_ns, (enum anomaly)e->id, text);
    }
    if (a->overflow)
        outbuf_printf(out, "  ! %" PRIu32 " more anomaly occurrences not listed\n", a->overflow);
}

static void text_connection_line(struct format_ctx *f, const struct conn *c, bool final) {
    struct table_layout l = table_layout(f->opt);
    char ts[TIMEFMT_ISO_LEN], dur[24], anomalies[16], orig[24], resp[24];
    char pair[2 * BYTES_SHORT_LEN + 1];
    struct tuple_text tuple;
    row_time(ts, c->last_ns, l.date);
    row_tuple(&tuple, c, l.tuple_w);
    duration_text(dur, c->last_ns - c->first_ns);
    unsigned n = c->anomalies ? c->anomalies->n : 0;
    snprintf(anomalies, sizeof anomalies, n ? "%u" : "-", n);
    snprintf(orig, sizeof orig, "%" PRIu64, c->ip_bytes[0]);
    snprintf(resp, sizeof resp, "%" PRIu64, c->ip_bytes[1]);
    char short_bytes[2][BYTES_SHORT_LEN];
    bytes_short(short_bytes[0], c->ip_bytes[0]);
    bytes_short(short_bytes[1], c->ip_bytes[1]);
    snprintf(pair, sizeof pair, "%s/%s", short_bytes[0], short_bytes[1]);
    char hist[TCP_HISTORY_MAX] = "", states[40] = "-", pkts[24] = "";
    if (l.wide) {
        conn_history(c, hist);
        if (c->e.key.proto == 6)
            snprintf(states, sizeof states, "%s / %s", tcp_state_name(tcp_conn_state(&c->tcp, 0)),
                     tcp_state_name(tcp_conn_state(&c->tcp, 1)));
        snprintf(pkts, sizeof pkts, "%" PRIu64, c->pkts[0] + c->pkts[1]);
    }
    const struct table_cells row = {
        .time = ts,
        .proto = flowtext_proto(c->e.key.proto, c->e.key.ip_version), /* icmpv6: 6 */
        .tuple = tuple.line,
        .state = zeek_conn_state_name(conn_zeek_state(c)),
        .duration = dur,
        .orig_bytes = orig,
        .resp_bytes = resp,
        .bytes_pair = pair,
        .anomalies = anomalies,
        .history = hist[0] ? hist : "-",
        .tcp_states = states,
        .packets = pkts,
        .close = final ? conn_end_name((enum conn_end)c->end) : "(still open)",
    };
    table_line(f->out, &l, &row);
    if (tuple.next[0])
        outbuf_printf(f->out, "%*s%s\n", (int)tuple_column(&l), "", tuple.next);
    text_conn_anomalies(f->out, &l, c);
}

/* A stats line being built of phrases joined by ", ": a phrase that would pass the width goes
 * on a continuation line, indented (a phrase is never broken). */
struct phrase_line {
    struct outbuf *out;
    size_t line_start; /* offset in out where the current line starts */
    size_t width;      /* 0: no limit (--wide) */
    size_t indent;
    bool first;
};

static void phrase_add(struct phrase_line *pl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void phrase_add(struct phrase_line *pl, const char *fmt, ...) {
    char phrase[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(phrase, sizeof phrase, fmt, ap);
    va_end(ap);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof phrase ? (size_t)n : sizeof phrase - 1;
    struct outbuf *out = pl->out;
    if (outbuf_failed(out)) /* the record is lost anyway (out of memory): offsets may not hold */
        return;
    size_t used = textwrap_columns(out->data + pl->line_start, out->len - pl->line_start);
    size_t cols = textwrap_columns(phrase, len), join = pl->first ? 0 : 2; /* ", " */
    if (pl->width && used + join + cols + 1 > pl->width && used > pl->indent) {
        /* on a line of its own: room is kept for the comma a break after it would add */
        if (pl->first && out->len > 0 && out->data[out->len - 1] == ' ')
            out->len--; /* "stats:" ends the line, no blank after it */
        outbuf_printf(out, "%s\n%*s", pl->first ? "" : ",", (int)pl->indent, "");
        if (outbuf_failed(out))
            return;
        pl->line_start = out->len - pl->indent;
    } else if (!pl->first) {
        outbuf_append(out, ", ", 2);
    }
    outbuf_append(out, phrase, len);
    pl->first = false;
}

/* "TIME stats: N packets, N open, ..." — what the live capture has done so far; fitted to the
 * output's width like the table, a phrase a line at the least. */
static void text_stats(struct format_ctx *f, const struct live_stats *ls) {
    struct outbuf *out = f->out;
    char ts[TIMEFMT_ISO_LEN];
    timefmt_iso8601_ns(ts, sizeof ts, ls->wall_ns);
    struct table_layout l = table_layout(f->opt);
    size_t start = out->len;
    outbuf_printf(out, "%-26s stats: ", ts);
    size_t prefix = out->len - start; /* continuation lines go under the first phrase, or */
    size_t indent = !l.width || l.width >= prefix + 30 ? prefix : 2; /* narrow: 2 blanks in */
    struct phrase_line pl = {out, start, l.width, indent, true};
    phrase_add(&pl, "%" PRIu64 " packets", ls->packets);
    phrase_add(&pl, "%" PRIu32 " open", ls->connections_open);
    phrase_add(&pl, "%" PRIu64 " reported", ls->connections_reported);
    phrase_add(&pl, "%" PRIu64 " anomalies", ls->anomalies);
    if (ls->have_capture) {
        phrase_add(&pl, "kernel drops %" PRIu64, ls->dropped);
        phrase_add(&pl, "interface drops %" PRIu64, ls->if_dropped);
    }
    uint64_t bad = 0, offloaded = 0;
    for (unsigned i = 0; i < CHECKSUM_LAYER_COUNT; i++) {
        bad += ls->checksums[i].bad;
        offloaded += ls->checksums[i].offloaded;
    }
    if (bad || offloaded)
        phrase_add(&pl, "checksums %" PRIu64 " bad %" PRIu64 " offloaded", bad, offloaded);
    for (size_t i = 0; i < ls->noutputs; i++) /* outputs that lost records */
        if (ls->outputs[i].dropped || ls->outputs[i].failed)
            phrase_add(&pl, "%.400s dropped %" PRIu64 " failed %" PRIu64, ls->outputs[i].target,
                       ls->outputs[i].dropped, ls->outputs[i].failed);
    outbuf_putc(out, '\n');
}

static void text_anomaly_line(struct format_ctx *f, const struct anomaly_event *ev) {
    struct table_layout l = table_layout(f->opt);
    char text[CONN_UID_LEN + TUPLE_LEN + sizeof ev->detail + 4];
    if (ev->key) {
        char addr[2][FLOWTEXT_ADDR_LEN], end[2][ENDPOINT_LEN], uid[CONN_UID_LEN];
        const struct flow_key *k = ev->key;
        for (int role = 0; role < 2; role++) {
            int side = role ? !ev->orig_side : ev->orig_side;
            flowtext_addr(addr[role], sizeof addr[role], k->addr[side], k->ip_version);
            endpoint_text(end[role], sizeof end[role], addr[role], k->port[side],
                          k->ip_version == 6);
        }
        conn_uid_make(ev->serial, ev->first_ns, k, uid);
        snprintf(text, sizeof text, "%s %s -> %s: %s", uid, end[0], end[1], ev->detail);
    } else {
        char host[FLOWTEXT_ADDR_LEN];
        flowtext_addr(host, sizeof host, ev->host, ev->host_version);
        snprintf(text, sizeof text, "%s: %s", host, ev->detail);
    }
    anomaly_row(f->out, &l, ev->ts_ns, ev->id, text);
}

static void text_anomaly_totals(struct outbuf *out, const struct conn_totals *t) {
    unsigned n = 0;
    for (unsigned i = 0; i < ANOMALY_COUNT; i++) {
        if (!t->anomalies[i])
            continue;
        label(out, n++ ? "" : "Anomalies");
        outbuf_printf(out, "%-*s %-*s %10" PRIu64 "\n", ANOMALY_NAME_W,
                      anomaly_name((enum anomaly)i), SEVERITY_W,
                      anomaly_severity_name(anomaly_severity_of((enum anomaly)i)), t->anomalies[i]);
    }
    if (!n && t->reported) {
        label(out, "Anomalies");
        outbuf_printf(out, "none\n");
    }
    if (t->anomaly_events_folded) {
        label(out, "");
        outbuf_printf(out,
                      "(%" PRIu64 " events of hosts under syn_flood/port_scan folded into %" PRIu64
                      " aggregate line%s; --no-fold writes each)\n",
                      t->anomaly_events_folded, t->anomaly_aggregates,
                      t->anomaly_aggregates == 1 ? "" : "s");
    }
}

static void text_connections(struct outbuf *out, const struct conn_totals *t) {
    if (!t->reported && !t->one_sided && !t->late_packets)
        return; /* none: the first line said why */
    label(out, "Connections");
    outbuf_printf(out,
                  "%" PRIu64 " (tcp %" PRIu64 ", udp %" PRIu64 ", icmp %" PRIu64
                  "), at most %" PRIu32 " open at once",
                  t->reported, t->tcp, t->udp, t->icmp, t->peak_open);
    if (t->one_sided)
        outbuf_printf(out, ", %" PRIu64 " one-sided (TCP, one direction captured)", t->one_sided);
    if (t->late_packets)
        outbuf_printf(out, ", %" PRIu64 " late packets", t->late_packets);
    if (!t->reported) {
        outbuf_putc(out, '\n');
        return;
    }
    outbuf_printf(out, "\n%-*sconn_state:", LABEL_W, "");
    unsigned n = 0;
    for (unsigned i = 0; i < ZEEK_CONN_STATE_COUNT; i++)
        if (t->by_state[i])
            outbuf_printf(out, "%s %s %" PRIu64, n++ ? "," : "",
                          zeek_conn_state_name((enum zeek_conn_state)i), t->by_state[i]);
    outbuf_printf(out, "; close:");
    n = 0;
    for (unsigned i = CONN_END_OPEN + 1; i < CONN_END_COUNT; i++)
        if (t->by_end[i])
            outbuf_printf(out, "%s %s %" PRIu64, n++ ? "," : "", conn_end_name((enum conn_end)i),
                          t->by_end[i]);
    outbuf_putc(out, '\n');
}

/* A live capture's own counts, from libpcap. */
static void text_capture(struct outbuf *out, const struct run_stats *s) {
    if (!s->have_capture_stats)
        return;
    label(out, "Capture");
    outbuf_printf(out,
                  "%" PRIu64 " received (libpcap's count: on loopback each packet twice), "
                  "%" PRIu64 " dropped by the kernel, %" PRIu64 " by the interface\n",
                  s->capture_received, s->capture_dropped, s->capture_if_dropped);
}

/* Packets: how many read, and what became of them (only the outcomes that happened). */
static void text_packets(struct outbuf *out, const struct run_stats *s) {
    if (s->read.packets == 0) { /* nothing read: no section (the first line said why) */
        text_capture(out, s);
        return;
    }
    label(out, "Packets");
    outbuf_printf(out, "%" PRIu64 " read (%" PRIu64 " frame bytes): %" PRIu64 " analysed",
                  s->read.packets, s->read.bytes, s->analysed);
    if (s->filtered)
        outbuf_printf(out, ", %" PRIu64 " filtered out", s->filtered);
    if (s->checksum_dropped)
        outbuf_printf(out, ", %" PRIu64 " left out for a bad checksum", s->checksum_dropped);
    if (s->shard_count)
        outbuf_printf(out, ", %" PRIu64 " left to the other shares of --shard %u/%u",
                      s->other_shards, s->shard_index + 1, s->shard_count);
    if (stats_decode_error_total(s))
        outbuf_printf(out, ", %" PRIu64 " not decoded", stats_decode_error_total(s));
    outbuf_putc(out, '\n');
    if (s->truncated || s->timestamps_out_of_range) {
        label(out, "");
        if (s->truncated)
            outbuf_printf(out,
                          "%" PRIu64 " with payload cut by the snap length (headers kept: "
                          "expected, harmless)%s",
                          s->truncated, s->timestamps_out_of_range ? "; " : "");
        if (s->timestamps_out_of_range)
            outbuf_printf(out, "%" PRIu64 " with a time outside 1970-2100 (clamped)",
                          s->timestamps_out_of_range);
        outbuf_putc(out, '\n');
    }
    if (s->have_ts) {
        char a[TIMEFMT_ISO_LEN], b[TIMEFMT_ISO_LEN];
        timefmt_iso8601(a, sizeof a, s->first_sec, s->first_nsec);
        timefmt_iso8601(b, sizeof b, s->last_sec, s->last_nsec);
        label(out, "Time");
        outbuf_printf(out, "%s .. %s\n", a, b);
    }
    text_capture(out, s);
}

/* Each output's accounting, when there are several or one lost records: "PATH (FORMAT): N
 * written, N dropped, N failed" (zero counts left out). */
static void text_outputs(struct outbuf *out, const struct run_stats *s) {
    bool lost = false;
    for (size_t i = 0; i < s->noutputs; i++)
        lost = lost || s->outputs[i].dropped || s->outputs[i].failed;
    for (size_t i = 0; (s->noutputs > 1 || lost) && i < s->noutputs; i++) {
        const struct output_account *a = &s->outputs[i];
        label(out, i ? "" : "Outputs");
        outbuf_printf(out, "%s (%s): %" PRIu64 " written", a->target, a->format, a->written);
        if (a->dropped)
            outbuf_printf(out, ", %" PRIu64 " dropped", a->dropped);
        if (a->failed)
            outbuf_printf(out, ", %" PRIu64 " failed", a->failed);
        outbuf_putc(out, '\n');
    }
}

/* Why a run reported no connection, in one line (wrapped to the width), the first thing the
 * output says. */
#define NO_CONNECTIONS "0 connections: "

static void text_no_connections(struct outbuf *out, const struct run_stats *s,
                                const struct input_report *inputs, size_t ninputs) {
    uint64_t read = s->read.packets, undecoded = stats_decode_error_total(s);
    for (size_t i = 0; i < ninputs && read == 0; i++)
        if (inputs[i].status == INPUT_UNREADABLE) {
            outbuf_printf(out, NO_CONNECTIONS "%s could not be read: %s", inputs[i].path,
                          inputs[i].message);
            return;
        }
    if (read == 0)
        outbuf_printf(out, NO_CONNECTIONS "the input holds no packets");
    else if (s->filtered == read)
        outbuf_printf(out,
                      NO_CONNECTIONS "all %" PRIu64 " packets were filtered out by the BPF "
                                     "expression",
                      read);
    else if (s->analysed == 0 && s->checksum_dropped > 0)
        outbuf_printf(out,
                      NO_CONNECTIONS "%" PRIu64 " of %" PRIu64 " packets were left out for a bad "
                                     "checksum (captured on the sending host? try --checksums "
                                     "keep)",
                      s->checksum_dropped, read);
    else if (s->analysed == 0 && undecoded > 0)
        outbuf_printf(out,
                      NO_CONNECTIONS "%" PRIu64 " of %" PRIu64 " packets could not be "
                                     "decoded (see Not decoded below)",
                      undecoded, read);
    else
        outbuf_printf(out,
                      NO_CONNECTIONS "none of the %" PRIu64 " packets analysed was TCP, UDP "
                                     "or ICMP",
                      s->analysed);
}

/* The summary: its lines, then any too long for the width broken with their continuation under
 * the label column. */
static void text_summary(struct format_ctx *f, const struct run_stats *s,
                         const struct input_report *inputs, size_t ninputs, double run_seconds) {
    struct outbuf *out = f->out;
    size_t width = output_width(f->opt), start = out->len;
    (void)run_seconds;
    if (f->output_empty && s->conns.reported == 0) {
        text_no_connections(out, s, inputs, ninputs);
        textwrap(out, start, width, strlen(NO_CONNECTIONS), strlen(NO_CONNECTIONS));
        outbuf_putc(out, '\n');
    }
    outbuf_putc(out, '\n');
    start = out->len;
    text_inputs(out, inputs, ninputs);
    text_packets(out, s);
    text_protocols(out, s);
    text_problems(out, s);
    text_outputs(out, s);
    text_connections(out, &s->conns);
    text_anomaly_totals(out, &s->conns);
    textwrap(out, start, width, LABEL_W, LABEL_W);
}

static void text_connection(struct format_ctx *f, const struct conn *c, bool final) {
    if (f->output_empty)
        text_connection_header(f);
    text_connection_line(f, c, final);
}

static void text_anomaly(struct format_ctx *f, const struct anomaly_event *ev) {
    if (!ev->key || anomaly_after_close(ev->id))
        text_anomaly_line(f, ev);
}

extern const struct format_ops output_format_text;
const struct format_ops output_format_text = {
    .name = "text",
    .connection = text_connection,
    .anomaly = text_anomaly,
    .stats = text_stats,
    .summary = text_summary,
};
