/* format_text: the terminal report. Plain aligned columns, a column header at the top of each
 * output file; only non-zero rows are listed. A connection's anomalies are listed under its line;
 * anomalies get a line of their own only when they are host-level or came after that line. */
#include <inttypes.h>
#include <stdio.h>

#include "flowtext.h"
#include "format.h"
#include "packet.h"
#include "timefmt.h"

static void text_counter(struct outbuf *out, const char *name, const struct counter *c) {
    if (c->packets)
        outbuf_printf(out, "  %-22s %12" PRIu64 " packets %14" PRIu64 " bytes\n", name, c->packets,
                      c->bytes);
}

static void text_inputs(struct outbuf *out, const struct input_report *in, size_t n) {
    outbuf_printf(out, "Inputs\n");
    for (size_t i = 0; i < n; i++) {
        outbuf_printf(out, "  %s: %s", in[i].path, input_status_name(in[i].status));
        if (in[i].link >= 0)
            outbuf_printf(out, ", %s%s, %" PRIu64 " packets", in[i].link_name,
                          in[i].link_supported ? "" : " (unsupported)", in[i].packets);
        if (in[i].status != INPUT_OK)
            outbuf_printf(out, " — %s", in[i].message);
        outbuf_putc(out, '\n');
    }
}

static void text_protocols(struct outbuf *out, const struct run_stats *s) {
    outbuf_printf(out, "Link layer\n");
    for (unsigned i = 0; i < LINK_KIND_COUNT; i++)
        text_counter(out, link_kind_name((enum link_kind)i), &s->link[i]);
    outbuf_printf(out, "Network layer\n");
    for (unsigned i = NET_NONE + 1; i < NET_COUNT; i++)
        text_counter(out, net_proto_name((enum net_proto)i), &s->net[i]);
    outbuf_printf(out, "Transport layer\n");
    for (unsigned i = TRANSPORT_NONE + 1; i < TRANSPORT_COUNT; i++)
        text_counter(out, transport_proto_name((enum transport_proto)i), &s->transport[i]);
}

static void text_problems(struct outbuf *out, const struct run_stats *s) {
    outbuf_printf(out, "Decode errors\n");
    if (stats_decode_error_total(s) == 0)
        outbuf_printf(out, "  none\n");
    for (unsigned i = DECODE_OK + 1; i < DECODE_STATUS_COUNT; i++)
        if (s->decode_errors[i])
            outbuf_printf(out, "  %-22s %12" PRIu64 "\n", decode_status_name((enum decode_status)i),
                          s->decode_errors[i]);
    outbuf_printf(out, "Checksums\n");
    for (unsigned i = 0; i < CHECKSUM_LAYER_COUNT; i++)
        if (s->checksum_good[i] || s->checksum_bad[i])
            outbuf_printf(out, "  %-22s %12" PRIu64 " good %12" PRIu64 " bad\n",
                          checksum_layer_name((enum checksum_layer)i), s->checksum_good[i],
                          s->checksum_bad[i]);
}

static void text_connection_header(struct outbuf *out) {
    outbuf_printf(out, "%-26s %-5s %-47s %-6s %-14s %-25s %9s %11s  %s\n", "start", "proto",
                  "originator -> responder", "state", "history", "orig / resp TCP state", "pkts",
                  "bytes", "close");
}

static void text_endpoint(char *buf, size_t len, const struct conn *c, int role) {
    char addr[64];
    flowtext_addr(addr, sizeof addr, conn_addr(c, role), c->e.key.ip_version);
    snprintf(buf, len, c->e.key.ip_version == 6 ? "[%s]:%u" : "%s:%u", addr,
             (unsigned)conn_port(c, role));
}

/* The anomalies of one connection, under its line. */
static void text_conn_anomalies(struct outbuf *out, const struct conn *c) {
    const struct conn_anomalies *l = c->anomalies;
    if (!l)
        return;
    for (unsigned i = 0; i < l->n; i++) {
        const struct conn_anomaly *a = &l->list[i];
        outbuf_printf(out, "    ! %-24s %-6s x%-6" PRIu32 " %s\n",
                      anomaly_name((enum anomaly)a->id),
                      anomaly_severity_name(anomaly_severity_of((enum anomaly)a->id)), a->count,
                      a->dir == 0 ? "from originator" : "from responder");
    }
    if (l->overflow)
        outbuf_printf(out, "    ! %" PRIu32 " more anomaly occurrences not listed\n", l->overflow);
}

static void text_connection_line(struct outbuf *out, const struct conn *c, bool final) {
    char ts[TIMEFMT_ISO_LEN], a[80], b[80], tuple[170], hist[TCP_HISTORY_MAX], states[40];
    int64_t sec;
    uint32_t nsec;
    timefmt_split(c->first_ns, &sec, &nsec);
    timefmt_iso8601(ts, sizeof ts, sec, nsec);
    text_endpoint(a, sizeof a, c, 0);
    text_endpoint(b, sizeof b, c, 1);
    snprintf(tuple, sizeof tuple, "%s -> %s", a, b);
    conn_history(c, hist);
    states[0] = '\0';
    if (c->e.key.proto == 6)
        snprintf(states, sizeof states, "%s / %s", tcp_state_name(tcp_conn_state(&c->tcp, 0)),
                 tcp_state_name(tcp_conn_state(&c->tcp, 1)));
    const char *proto = c->e.key.proto == 6 ? "tcp" : c->e.key.proto == 17 ? "udp" : "icmp";
    outbuf_printf(out, "%-26s %-5s %-47s %-6s %-14s %-25s %9" PRIu64 " %11" PRIu64 "  %s\n", ts,
                  proto, tuple, zeek_conn_state_name(conn_zeek_state(c)), hist[0] ? hist : "-",
                  states[0] ? states : "-", c->pkts[0] + c->pkts[1],
                  c->ip_bytes[0] + c->ip_bytes[1],
                  final ? conn_end_name((enum conn_end)c->end) : "(still open)");
    text_conn_anomalies(out, c);
}

static void text_stats(struct format_ctx *f, const struct live_stats *ls) {
    struct outbuf *out = f->out;
    char ts[TIMEFMT_ISO_LEN];
    int64_t sec;
    uint32_t nsec;
    timefmt_split(ls->wall_ns, &sec, &nsec);
    timefmt_iso8601(ts, sizeof ts, sec, nsec);
    outbuf_printf(out,
                  "%-26s stats: %" PRIu64 " packets, %" PRIu32 " open, %" PRIu64
                  " reported, %" PRIu64 " anomalies",
                  ts, ls->packets, ls->connections_open, ls->connections_reported, ls->anomalies);
    if (ls->have_capture)
        outbuf_printf(out, ", kernel drops %" PRIu64 ", interface drops %" PRIu64, ls->dropped,
                      ls->if_dropped);
    outbuf_putc(out, '\n');
}

static void text_anomaly_line(struct outbuf *out, const struct anomaly_event *ev) {
    char who[160], ts[TIMEFMT_ISO_LEN];
    int64_t sec;
    uint32_t nsec;
    timefmt_split(ev->ts_ns, &sec, &nsec);
    timefmt_iso8601(ts, sizeof ts, sec, nsec);
    if (ev->key) {
        char a[64], b[64];
        const struct flow_key *k = ev->key;
        flowtext_addr(a, sizeof a, k->addr[ev->orig_side], k->ip_version);
        flowtext_addr(b, sizeof b, k->addr[!ev->orig_side], k->ip_version);
        bool v6 = k->ip_version == 6;
        snprintf(who, sizeof who, "%s%s%s:%u -> %s%s%s:%u", v6 ? "[" : "", a, v6 ? "]" : "",
                 (unsigned)k->port[ev->orig_side], v6 ? "[" : "", b, v6 ? "]" : "",
                 (unsigned)k->port[!ev->orig_side]);
    } else {
        flowtext_addr(who, sizeof who, ev->host, ev->host_version);
    }
    outbuf_printf(out, "%-26s ! %s %s %s: %s\n", ts, anomaly_name(ev->id),
                  anomaly_severity_name(anomaly_severity_of(ev->id)), who, ev->detail);
}

static void text_anomaly_totals(struct outbuf *out, const struct conn_totals *t) {
    outbuf_printf(out, "Anomalies\n");
    bool any = false;
    for (unsigned i = 0; i < ANOMALY_COUNT; i++) {
        if (!t->anomalies[i])
            continue;
        any = true;
        outbuf_printf(out, "  %-24s %-6s %10" PRIu64 "\n", anomaly_name((enum anomaly)i),
                      anomaly_severity_name(anomaly_severity_of((enum anomaly)i)), t->anomalies[i]);
    }
    if (!any)
        outbuf_printf(out, "  none\n");
}

static void text_connections(struct outbuf *out, const struct conn_totals *t) {
    outbuf_printf(out, "Connections\n");
    outbuf_printf(out,
                  "  %-22s %12" PRIu64 " (tcp %" PRIu64 ", udp %" PRIu64 ", icmp %" PRIu64 ")\n",
                  "reported", t->reported, t->tcp, t->udp, t->icmp);
    outbuf_printf(out, "  %-22s %12" PRIu32 "\n", "most open at once", t->peak_open);
    if (t->one_sided)
        outbuf_printf(out, "  %-22s %12" PRIu64 " (TCP, only one direction captured)\n",
                      "one-sided", t->one_sided);
    if (t->late_packets)
        outbuf_printf(out, "  %-22s %12" PRIu64 "\n", "late packets", t->late_packets);
    outbuf_printf(out, "  by conn_state:");
    for (unsigned i = 0; i < ZEEK_CONN_STATE_COUNT; i++)
        if (t->by_state[i])
            outbuf_printf(out, " %s %" PRIu64, zeek_conn_state_name((enum zeek_conn_state)i),
                          t->by_state[i]);
    outbuf_printf(out, "\n  by close:");
    for (unsigned i = CONN_END_OPEN + 1; i < CONN_END_COUNT; i++)
        if (t->by_end[i])
            outbuf_printf(out, " %s %" PRIu64, conn_end_name((enum conn_end)i), t->by_end[i]);
    outbuf_putc(out, '\n');
}

static void text_summary(struct format_ctx *f, const struct run_stats *s,
                         const struct input_report *inputs, size_t ninputs, double run_seconds) {
    struct outbuf *out = f->out;
    (void)run_seconds;
    outbuf_printf(out, "\n");
    text_inputs(out, inputs, ninputs);
    outbuf_printf(out, "Packets\n");
    outbuf_printf(out, "  %-22s %12" PRIu64 " (%" PRIu64 " bytes)\n", "read", s->read.packets,
                  s->read.bytes);
    outbuf_printf(out, "  %-22s %12" PRIu64 "\n", "filtered out", s->filtered);
    outbuf_printf(out, "  %-22s %12" PRIu64 "\n", "analysed", s->analysed);
    outbuf_printf(out, "  %-22s %12" PRIu64 "\n", "bad checksum, dropped", s->checksum_dropped);
    outbuf_printf(out, "  %-22s %12" PRIu64 "\n", "not decoded", stats_decode_error_total(s));
    if (s->truncated)
        outbuf_printf(out, "  %-22s %12" PRIu64 "\n", "truncated (snaplen)", s->truncated);
    if (s->timestamps_out_of_range)
        outbuf_printf(out, "  %-22s %12" PRIu64 "\n", "bad timestamps", s->timestamps_out_of_range);
    if (s->have_ts) {
        char a[TIMEFMT_ISO_LEN], b[TIMEFMT_ISO_LEN];
        timefmt_iso8601(a, sizeof a, s->first_sec, s->first_nsec);
        timefmt_iso8601(b, sizeof b, s->last_sec, s->last_nsec);
        outbuf_printf(out, "  %-22s %s .. %s\n", "time", a, b);
    }
    if (s->have_capture_stats)
        outbuf_printf(out,
                      "  %-22s %12" PRIu64 " received, %" PRIu64 " dropped by the kernel, %" PRIu64
                      " by the interface\n",
                      "capture", s->capture_received, s->capture_dropped, s->capture_if_dropped);
    text_protocols(out, s);
    text_problems(out, s);
    text_connections(out, &s->conns);
    text_anomaly_totals(out, &s->conns);
}

static void text_connection(struct format_ctx *f, const struct conn *c, bool final) {
    if (f->output_empty)
        text_connection_header(f->out);
    text_connection_line(f->out, c, final);
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
