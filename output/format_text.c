/* format_text: the terminal report. Plain aligned columns, a column header at the top of each
 * output file; only non-zero rows are listed. A connection's anomalies are listed under its line;
 * anomalies get a line of their own only when they are host-level or came after that line. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "checksum_policy.h"
#include "flowtext.h"
#include "format.h"
#include "packet.h"
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
    if (s->read.packets == 0)
        return;
    label(out, "Protocols");
    unsigned n = counter_list(out, s->link, 0, LINK_KIND_COUNT, link_name, 0);
    n += counter_list(out, s->net, NET_NONE + 1, NET_COUNT, net_name, n);
    counter_list(out, s->transport, TRANSPORT_NONE + 1, TRANSPORT_COUNT, transport_name, n);
    outbuf_printf(out, " (packets)\n");
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
 * Rows come out as connections end, so the time column is each connection's end. By default the
 * table has the columns that matter at a glance (time, protocol, originator -> responder,
 * conn_state, duration, IP bytes each way, anomalies) and fits the output's width, shortening
 * long addresses rather than wrapping; --wide adds history, both TCP states, packets and the
 * close reason. A connection's anomalies are listed under its row. */

#define TIME_W 18 /* "01-01 00:00:00.340" */
#define TUPLE_MIN 24
#define NARROW_FIXED (TIME_W + 1 + 6 + 1 + 1 + 6 + 1 + 9 + 1 + 11 + 1 + 11 + 2 + 5)
#define WIDE_TUPLE 47

/* A time as "01-01 00:00:00.340", UTC (month-day and ms: enough to tell rows apart on a
 * terminal; the records in other formats carry the full time). */
static void row_time(char out[TIMEFMT_ISO_LEN], int64_t ns) {
    char iso[TIMEFMT_ISO_LEN];
    timefmt_iso8601_ns(iso, sizeof iso, ns);
    if (strlen(iso) < 23) { /* "invalid" */
        snprintf(out, TIMEFMT_ISO_LEN, "%s", iso);
        return;
    }
    snprintf(out, TIMEFMT_ISO_LEN, "%.5s %.12s", iso + 5, iso + 11);
}

static size_t tuple_width(const struct format_ctx *f) {
    if (f->opt->text_wide)
        return WIDE_TUPLE;
    unsigned cols = f->opt->text_columns ? f->opt->text_columns : 120;
    return cols > NARROW_FIXED + TUPLE_MIN ? cols - NARROW_FIXED : TUPLE_MIN;
}

/* Shortens s in place to at most max (at least 4) characters, keeping both ends:
 * "2001:db8:..:7334". */
static void shorten(char *s, size_t max) {
    size_t n = strlen(s);
    if (max < 4)
        max = 4;
    if (n <= max)
        return;
    size_t head = (max - 2) / 2, tail = max - 2 - head;
    memmove(s + head + 2, s + n - tail, tail + 1);
    memcpy(s + head, "..", 2);
}

/* "a:p -> b:p" (IPv6 in brackets) in at most width characters: addresses shortened if need be. */
static void row_tuple(char *out, size_t len, const struct conn *c, size_t width) {
    char addr[2][FLOWTEXT_ADDR_LEN], port[2][8];
    bool v6 = c->e.key.ip_version == 6;
    size_t rest = 4 + (v6 ? 4 : 0); /* " -> " and the brackets */
    for (int role = 0; role < 2; role++) {
        flowtext_addr(addr[role], sizeof addr[role], conn_addr(c, role), c->e.key.ip_version);
        snprintf(port[role], sizeof port[role], ":%u", (unsigned)conn_port(c, role));
        rest += strlen(port[role]);
    }
    size_t budget = width > rest ? (width - rest) / 2 : 0;
    if (strlen(addr[0]) + strlen(addr[1]) + rest > width)
        for (int role = 0; role < 2; role++)
            shorten(addr[role], budget);
    snprintf(out, len, v6 ? "[%s]%s -> [%s]%s" : "%s%s -> %s%s", addr[0], port[0], addr[1],
             port[1]);
}

static void text_connection_header(struct format_ctx *f) {
    int tw = (int)tuple_width(f);
    if (f->opt->text_wide)
        outbuf_printf(f->out, "%-*s %-6s %-*s %-6s %9s %11s %11s  %-5s %-14s %-25s %9s  %s\n",
                      TIME_W, "end (UTC)", "proto", tw, "originator -> responder", "state",
                      "duration", "orig bytes", "resp bytes", "anom.", "history",
                      "orig / resp TCP state", "pkts", "close");
    else
        outbuf_printf(f->out, "%-*s %-6s %-*s %-6s %9s %11s %11s  %s\n", TIME_W, "end (UTC)",
                      "proto", tw, "originator -> responder", "state", "duration", "orig bytes",
                      "resp bytes", "anom.");
}

/* One anomaly line, the same columns wherever it is written: under its connection's row, or on
 * its own (host-level, or seen after the row was written). */
static void anomaly_row(struct outbuf *out, int64_t ns, enum anomaly id, const char *text) {
    char ts[TIMEFMT_ISO_LEN];
    row_time(ts, ns);
    outbuf_printf(out, "  ! %-*s %-24s %-6s %s\n", TIME_W, ts, anomaly_name(id),
                  anomaly_severity_name(anomaly_severity_of(id)), text);
}

/* The anomalies of one connection, under its row. */
static void text_conn_anomalies(struct outbuf *out, const struct conn *c) {
    const struct conn_anomalies *l = c->anomalies;
    if (!l)
        return;
    for (unsigned i = 0; i < l->n; i++) {
        const struct conn_anomaly *a = &l->list[i];
        char text[64];
        snprintf(text, sizeof text, "from %s, %" PRIu32 " time%s",
                 a->dir == 0 ? "originator" : "responder", a->count, a->count == 1 ? "" : "s");
        anomaly_row(out, a->first_ns, (enum anomaly)a->id, text);
    }
    if (l->overflow)
        outbuf_printf(out, "  ! %" PRIu32 " more anomaly occurrences not listed\n", l->overflow);
}

static void text_connection_line(struct format_ctx *f, const struct conn *c, bool final) {
    char ts[TIMEFMT_ISO_LEN], tuple[200], dur[24], anomalies[16];
    size_t tw = tuple_width(f);
    row_time(ts, c->last_ns);
    row_tuple(tuple, sizeof tuple, c, tw);
    int64_t d = c->last_ns - c->first_ns;
    snprintf(dur, sizeof dur, "%" PRId64 ".%03ds", d / 1000000000, (int)(d / 1000000 % 1000));
    unsigned n = c->anomalies ? c->anomalies->n : 0;
    snprintf(anomalies, sizeof anomalies, n ? "%u" : "-", n);
    const char *proto = flowtext_proto(c->e.key.proto, c->e.key.ip_version); /* icmpv6: 6 */
    outbuf_printf(f->out, "%-*s %-6s %-*s %-6s %9s %11" PRIu64 " %11" PRIu64 "  %-5s", TIME_W, ts,
                  proto, (int)tw, tuple, zeek_conn_state_name(conn_zeek_state(c)), dur,
                  c->ip_bytes[0], c->ip_bytes[1], anomalies);
    if (f->opt->text_wide) {
        char hist[TCP_HISTORY_MAX], states[40] = "-";
        conn_history(c, hist);
        if (c->e.key.proto == 6)
            snprintf(states, sizeof states, "%s / %s", tcp_state_name(tcp_conn_state(&c->tcp, 0)),
                     tcp_state_name(tcp_conn_state(&c->tcp, 1)));
        outbuf_printf(f->out, " %-14s %-25s %9" PRIu64 "  %s", hist[0] ? hist : "-", states,
                      c->pkts[0] + c->pkts[1],
                      final ? conn_end_name((enum conn_end)c->end) : "(still open)");
    }
    /* no padding after the last column */
    while (f->out->len > 0 && f->out->data[f->out->len - 1] == ' ')
        f->out->len--;
    outbuf_putc(f->out, '\n');
    text_conn_anomalies(f->out, c);
}

static void text_stats(struct format_ctx *f, const struct live_stats *ls) {
    struct outbuf *out = f->out;
    char ts[TIMEFMT_ISO_LEN];
    timefmt_iso8601_ns(ts, sizeof ts, ls->wall_ns);
    outbuf_printf(out,
                  "%-26s stats: %" PRIu64 " packets, %" PRIu32 " open, %" PRIu64
                  " reported, %" PRIu64 " anomalies",
                  ts, ls->packets, ls->connections_open, ls->connections_reported, ls->anomalies);
    if (ls->have_capture)
        outbuf_printf(out, ", kernel drops %" PRIu64 ", interface drops %" PRIu64, ls->dropped,
                      ls->if_dropped);
    uint64_t bad = 0, offloaded = 0;
    for (unsigned i = 0; i < CHECKSUM_LAYER_COUNT; i++) {
        bad += ls->checksums[i].bad;
        offloaded += ls->checksums[i].offloaded;
    }
    if (bad || offloaded)
        outbuf_printf(out, ", checksums %" PRIu64 " bad %" PRIu64 " offloaded", bad, offloaded);
    for (size_t i = 0; i < ls->noutputs; i++) /* outputs that lost records */
        if (ls->outputs[i].dropped || ls->outputs[i].failed)
            outbuf_printf(out, ", %s dropped %" PRIu64 " failed %" PRIu64, ls->outputs[i].target,
                          ls->outputs[i].dropped, ls->outputs[i].failed);
    outbuf_putc(out, '\n');
}

static void text_anomaly_line(struct outbuf *out, const struct anomaly_event *ev) {
    char text[400];
    if (ev->key) {
        char a[FLOWTEXT_ADDR_LEN], b[FLOWTEXT_ADDR_LEN], uid[CONN_UID_LEN];
        const struct flow_key *k = ev->key;
        flowtext_addr(a, sizeof a, k->addr[ev->orig_side], k->ip_version);
        flowtext_addr(b, sizeof b, k->addr[!ev->orig_side], k->ip_version);
        conn_uid_make(ev->serial, ev->first_ns, k, uid);
        bool v6 = k->ip_version == 6;
        snprintf(text, sizeof text, "%s %s%s%s:%u -> %s%s%s:%u: %s", uid, v6 ? "[" : "", a,
                 v6 ? "]" : "", (unsigned)k->port[ev->orig_side], v6 ? "[" : "", b, v6 ? "]" : "",
                 (unsigned)k->port[!ev->orig_side], ev->detail);
    } else {
        char host[FLOWTEXT_ADDR_LEN];
        flowtext_addr(host, sizeof host, ev->host, ev->host_version);
        snprintf(text, sizeof text, "%s: %s", host, ev->detail);
    }
    anomaly_row(out, ev->ts_ns, ev->id, text);
}

static void text_anomaly_totals(struct outbuf *out, const struct conn_totals *t) {
    unsigned n = 0;
    for (unsigned i = 0; i < ANOMALY_COUNT; i++) {
        if (!t->anomalies[i])
            continue;
        label(out, n++ ? "" : "Anomalies");
        outbuf_printf(out, "%-24s %-6s %10" PRIu64 "\n", anomaly_name((enum anomaly)i),
                      anomaly_severity_name(anomaly_severity_of((enum anomaly)i)), t->anomalies[i]);
    }
    if (!n) {
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

/* Packets: how many read, and what became of them (only the outcomes that happened). */
static void text_packets(struct outbuf *out, const struct run_stats *s) {
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
    if (s->have_capture_stats) {
        label(out, "Capture");
        outbuf_printf(out,
                      "%" PRIu64 " received (libpcap's count: on loopback each packet twice), "
                      "%" PRIu64 " dropped by the kernel, %" PRIu64 " by the interface\n",
                      s->capture_received, s->capture_dropped, s->capture_if_dropped);
    }
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

/* Why a run reported no connection, in one line, the first thing the output says. */
static void text_no_connections(struct outbuf *out, const struct run_stats *s,
                                const struct input_report *inputs, size_t ninputs) {
    uint64_t read = s->read.packets, undecoded = stats_decode_error_total(s);
    for (size_t i = 0; i < ninputs && read == 0; i++)
        if (inputs[i].status == INPUT_UNREADABLE) {
            outbuf_printf(out, "0 connections: %s could not be read: %s\n", inputs[i].path,
                          inputs[i].message);
            return;
        }
    if (read == 0)
        outbuf_printf(out, "0 connections: the input holds no packets\n");
    else if (s->filtered == read)
        outbuf_printf(out,
                      "0 connections: all %" PRIu64 " packets were filtered out by the BPF "
                      "expression\n",
                      read);
    else if (s->analysed == 0 && s->checksum_dropped > 0)
        outbuf_printf(out,
                      "0 connections: %" PRIu64 " of %" PRIu64 " packets failed checksum "
                      "verification and were left out; a capture taken on a sending host "
                      "needs --checksums keep\n",
                      s->checksum_dropped, read);
    else if (s->analysed == 0 && undecoded > 0)
        outbuf_printf(out,
                      "0 connections: %" PRIu64 " of %" PRIu64 " packets could not be "
                      "decoded (see Decode errors below)\n",
                      undecoded, read);
    else
        outbuf_printf(out,
                      "0 connections: none of the %" PRIu64 " packets analysed was TCP, UDP or "
                      "ICMP\n",
                      s->analysed);
}

static void text_summary(struct format_ctx *f, const struct run_stats *s,
                         const struct input_report *inputs, size_t ninputs, double run_seconds) {
    struct outbuf *out = f->out;
    (void)run_seconds;
    if (f->output_empty && s->conns.reported == 0)
        text_no_connections(out, s, inputs, ninputs);
    outbuf_printf(out, "\n");
    text_inputs(out, inputs, ninputs);
    text_packets(out, s);
    text_protocols(out, s);
    text_problems(out, s);
    text_outputs(out, s);
    text_connections(out, &s->conns);
    text_anomaly_totals(out, &s->conns);
}

static void text_connection(struct format_ctx *f, const struct conn *c, bool final) {
    if (f->output_empty)
        text_connection_header(f);
    text_connection_line(f, c, final);
}

static void text_anomaly(struct format_ctx *f, const struct anomaly_event *ev) {
    if (!ev->key || anomaly_after_close(ev->id))
        text_anomaly_line(f->out, ev);
}

extern const struct format_ops output_format_text;
const struct format_ops output_format_text = {
    .name = "text",
    .connection = text_connection,
    .anomaly = text_anomaly,
    .stats = text_stats,
    .summary = text_summary,
};
