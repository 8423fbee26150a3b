/* format_json: the JSON records (one object per line, NDJSON) for SIEM pipelines, written with
 * the streaming writer. Field names, their order and their types are part of the interface
 * (docs/schema.md, tests/schema); counters are JSON integers, timestamps epoch seconds with
 * exactly six decimals (or ISO 8601 strings with --iso-time). */
#include <stdio.h>

#include "community_id.h"
#include "flowtext.h"
#include "format.h"
#include "format_json.h"
#include "jsonw.h"
#include "packet.h"
#include "tcp_metrics.h"
#include "timefmt.h"

#ifndef SHAKEDOWN_VERSION
#define SHAKEDOWN_VERSION "unknown"
#endif

/* A timestamp as epoch seconds with µs, or with --iso-time an ISO 8601 string. */
static void put_ts(struct jsonw *w, const char *key, int64_t ns, const struct record_options *o) {
    int64_t sec;
    uint32_t nsec;
    char buf[TIMEFMT_ISO_LEN];
    timefmt_split(ns, &sec, &nsec);
    if (o->iso_time) {
        timefmt_iso8601(buf, sizeof buf, sec, nsec);
        jsonw_string(w, key, buf);
    } else {
        timefmt_epoch(buf, sizeof buf, sec, nsec);
        jsonw_number_text(w, key, buf);
    }
}

/* A duration in seconds with µs precision. */
static void put_seconds(struct jsonw *w, const char *key, int64_t ns) {
    char buf[TIMEFMT_ISO_LEN];
    timefmt_epoch_ns(buf, sizeof buf, ns);
    jsonw_number_text(w, key, buf);
}

static void put_addr(struct jsonw *w, const char *key, const uint8_t *addr, uint8_t ip_version) {
    char text[FLOWTEXT_ADDR_LEN];
    flowtext_addr(text, sizeof text, addr, ip_version);
    jsonw_string(w, key, text);
}

/* Starts a record: its object and "type". */
static void record_begin(struct jsonw *w, struct format_ctx *f, const char *type) {
    jsonw_start(w, f->out);
    jsonw_object_begin(w, NULL);
    jsonw_string(w, "type", type);
}

static void record_end(struct jsonw *w) {
    jsonw_object_end(w);
    outbuf_putc(w->out, '\n');
}

/* ---- connection records ------------------------------------------------------------------ */

/* The 5-tuple (src = originator), VLANs and Community ID of a flow given by its key, roles and
 * ports by role (for ICMP, the originator's type and code: the spec's port equivalents). */
static void put_flow(struct jsonw *w, const struct flow_key *k, uint8_t orig_side,
                     const uint16_t port[2], const struct record_options *o) {
    const uint8_t *src = k->addr[orig_side], *dst = k->addr[!orig_side];
    put_addr(w, "src_ip", src, k->ip_version);
    jsonw_u64(w, "src_port", port[0]);
    put_addr(w, "dest_ip", dst, k->ip_version);
    jsonw_u64(w, "dest_port", port[1]);
    jsonw_u64(w, "ip_version", k->ip_version);
    if (k->vlan[0] || k->vlan[1]) { /* outer first; VLAN 0 is a priority tag */
        jsonw_array_begin(w, "vlan");
        jsonw_u64(w, NULL, k->vlan[0]);
        if (k->vlan[1])
            jsonw_u64(w, NULL, k->vlan[1]);
        jsonw_array_end(w);
    }
    char cid[COMMUNITY_ID_LEN];
    struct community_id_tuple t = {k->ip_version, src, dst, k->proto, port[0], port[1]};
    if (community_id_v1(o->hasher, &t, o->community_id_seed, cid))
        jsonw_string(w, "community_id", cid);
}

static void put_handshake(struct jsonw *w, const struct tcp_conn *t) {
    jsonw_object_begin(w, "handshake");
    jsonw_bool(w, "observed", t->syn_ns != 0 || t->synack_ns != 0);
    jsonw_bool(w, "completed", t->handshake_done);
    jsonw_bool(w, "simultaneous_open", t->simultaneous_open);
    if (t->syn_ns && t->synack_ns && t->synack_ns >= t->syn_ns)
        jsonw_u64(w, "syn_to_synack_us", (uint64_t)(t->synack_ns - t->syn_ns) / 1000u);
    if (t->synack_ns && t->ack_ns && t->ack_ns >= t->synack_ns)
        jsonw_u64(w, "synack_to_ack_us", (uint64_t)(t->ack_ns - t->synack_ns) / 1000u);
    jsonw_object_end(w);
}

/* Flags of a TCP record (facts about the connection, not anomalies). */
static void put_tcp_flags(struct jsonw *w, const struct conn *c) {
    const struct tcp_conn *t = &c->tcp;
    enum tcp_state so = tcp_conn_state(t, 0), sr = tcp_conn_state(t, 1);
    bool half_open =
        (so == TCP_STATE_SYN_SENT && !t->ep[1].syn_sent) || sr == TCP_STATE_SYN_RECEIVED;
    jsonw_bool(w, "half_open", half_open);
    jsonw_bool(w, "midstream", t->midstream);
    jsonw_bool(w, "one_sided", conn_one_sided(c));
    jsonw_bool(w, "handshake_reordered", t->reordered);
}

static void put_close(struct jsonw *w, const struct conn *c) {
    jsonw_object_begin(w, "close");
    jsonw_string(w, "how", conn_end_name((enum conn_end)c->end));
    int who = c->e.key.proto == 6 ? c->tcp.close_initiator : -1;
    if (who >= 0)
        jsonw_string(w, "initiator", flowtext_direction(who));
    jsonw_object_end(w);
}

static void put_options(struct jsonw *w, const struct tcp_endpoint *x) {
    jsonw_object_begin(w, "options");
    if (x->mss)
        jsonw_u64(w, "mss", x->mss);
    if (x->has_wscale)
        jsonw_u64(w, "window_scale", x->wscale);
    jsonw_bool(w, "sack_permitted", x->sack_permitted);
    jsonw_bool(w, "timestamps", x->timestamps);
    jsonw_object_end(w);
}

void format_json_metrics(struct jsonw *w, const char *key, const struct conn *c, int role) {
    const struct tcp_endpoint *x = &c->tcp.ep[role];
    const struct tcp_metrics *m = &x->m;
    jsonw_object_begin(w, key);
    jsonw_object_begin(w, "rtt");
    jsonw_u64(w, "samples", m->rtt_count);
    if (m->rtt_count) {
        jsonw_u64(w, "min_us", m->rtt_min_us);
        jsonw_u64(w, "avg_us", m->rtt_sum_us / m->rtt_count);
        jsonw_u64(w, "max_us", m->rtt_max_us);
    }
    jsonw_object_end(w);
    int64_t duration = c->last_ns - c->first_ns;
    if (duration > 0)
        jsonw_u64(w, "throughput_bytes_per_s", tcp_metrics_throughput(&c->tcp, role, duration));
    jsonw_u64(w, "duplicate_acks", m->dup_acks);
    jsonw_u64(w, "duplicate_segments", m->dup_segments);
    jsonw_u64(w, "resent_segments", x->retrans_pkts - m->dup_retransmits);
    jsonw_u64(w, "max_segment", m->max_segment);
    if (m->window_seen) {
        jsonw_object_begin(w, "window");
        jsonw_u64(w, "min", m->window_min);
        jsonw_u64(w, "max", m->window_max);
        jsonw_u64(w, "zero_us", tcp_metrics_zero_window_ns(&c->tcp, role, c->last_ns) / 1000u);
        if (x->has_wscale && c->tcp.ep[!role].has_wscale)
            jsonw_u64(w, "scale", x->wscale);
        jsonw_object_end(w);
    }
    jsonw_object_end(w);
}

/* orig / resp: packets, IP bytes and payload bytes for every protocol; TCP adds the endpoint's
 * final RFC 793 state, the other sequence-space byte counts and the options of its SYN. */
static void put_endpoint(struct jsonw *w, const char *key, const struct conn *c, int role) {
    bool tcp = c->e.key.proto == 6;
    jsonw_object_begin(w, key);
    if (tcp)
        jsonw_string(w, "state", tcp_state_name(tcp_conn_state(&c->tcp, role)));
    jsonw_u64(w, "pkts", c->pkts[role]);
    jsonw_u64(w, "bytes", c->ip_bytes[role]);
    jsonw_u64(w, "payload_bytes", conn_payload_bytes(c, role));
    if (tcp) {
        const struct tcp_endpoint *x = &c->tcp.ep[role];
        jsonw_u64(w, "retransmits", x->retrans_pkts);
        jsonw_u64(w, "retransmitted_bytes", x->retrans_bytes);
        jsonw_u64(w, "missed_bytes", x->missed_bytes);
        if (x->opt_seen)
            put_options(w, x);
        format_json_metrics(w, "metrics", c, role);
    }
    jsonw_object_end(w);
}

void format_json_anomalies(struct jsonw *w, const struct conn *c, const struct record_options *o) {
    const struct conn_anomalies *l = c->anomalies;
    jsonw_array_begin(w, "anomalies");
    for (unsigned i = 0; l && i < l->n; i++) {
        enum anomaly id = (enum anomaly)l->list[i].id;
        jsonw_object_begin(w, NULL);
        jsonw_string(w, "name", anomaly_name(id));
        jsonw_string(w, "severity", anomaly_severity_name(anomaly_severity_of(id)));
        jsonw_u64(w, "count", l->list[i].count);
        put_ts(w, "first_ts", l->list[i].first_ns, o);
        jsonw_string(w, "direction", flowtext_direction(l->list[i].dir));
        jsonw_object_end(w);
    }
    jsonw_array_end(w);
    if (l && l->overflow)
        jsonw_u64(w, "anomalies_unlisted", l->overflow);
}

static void json_connection(struct format_ctx *f, const struct conn *c, bool final) {
    struct jsonw w;
    char uid[CONN_UID_LEN], hist[TCP_HISTORY_MAX];
    conn_uid(c, uid);
    conn_history(c, hist);
    record_begin(&w, f, "connection");
    jsonw_string(&w, "uid", uid);
    put_ts(&w, "ts", c->first_ns, f->opt);
    put_ts(&w, "end_ts", c->last_ns, f->opt);
    put_seconds(&w, "duration", c->last_ns - c->first_ns);
    jsonw_string(&w, "proto", flowtext_proto(c->e.key.proto, c->e.key.ip_version));
    uint16_t port[2] = {conn_port(c, 0), conn_port(c, 1)};
    put_flow(&w, &c->e.key, c->orig_side, port, f->opt);
    jsonw_string(&w, "conn_state", zeek_conn_state_name(conn_zeek_state(c)));
    jsonw_string(&w, "history", hist);
    if (c->e.key.proto == 6) {
        put_handshake(&w, &c->tcp);
        put_tcp_flags(&w, c);
    }
    jsonw_bool(&w, "final", final);
    if (final)
        put_close(&w, c);
    put_endpoint(&w, "orig", c, 0);
    put_endpoint(&w, "resp", c, 1);
    jsonw_u64(&w, "first_frame", c->first_frame);
    format_json_anomalies(&w, c, f->opt);
    record_end(&w);
}

/* ---- anomaly and stats records ------------------------------------------------------------ */

/* A host aggregate's "folded": {events, connections, anomalies, window_start, first_ts, last_ts}
 * (nothing for any other event). */
static void format_json_folded(struct jsonw *w, const struct anomaly_event *ev,
                               const struct record_options *o) {
    const struct anomaly_fold *f = &ev->folded;
    if (!f->events)
        return;
    jsonw_object_begin(w, "folded");
    jsonw_u64(w, "events", f->events);
    jsonw_u64(w, "connections", f->conns);
    jsonw_array_begin(w, "anomalies");
    for (anomaly_set set = f->kinds; set; set &= set - 1)
        jsonw_string(w, NULL, anomaly_name((enum anomaly)__builtin_ctz(set)));
    jsonw_array_end(w);
    put_ts(w, "window_start", f->window_start_ns, o);
    put_ts(w, "first_ts", f->first_ns, o);
    put_ts(w, "last_ts", f->last_ns, o);
    jsonw_object_end(w);
}

static void json_anomaly(struct format_ctx *f, const struct anomaly_event *ev) {
    struct jsonw w;
    record_begin(&w, f, "anomaly");
    put_ts(&w, "ts", ev->ts_ns, f->opt);
    jsonw_u64(&w, "frame", ev->frame);
    jsonw_string(&w, "name", anomaly_name(ev->id));
    jsonw_string(&w, "severity", anomaly_severity_name(anomaly_severity_of(ev->id)));
    jsonw_string(&w, "detail", ev->detail);
    if (!ev->key) { /* host-level: the host, how many, over how long */
        put_addr(&w, ev->id == ANOMALY_PORT_SCAN ? "src_ip" : "dest_ip", ev->host,
                 ev->host_version);
        jsonw_u64(&w, "count", ev->count);
        put_seconds(&w, "window", ev->window_ns);
        format_json_folded(&w, ev, f->opt);
    } else {
        char uid[CONN_UID_LEN];
        conn_uid_make(ev->serial, ev->first_ns, ev->key, uid);
        jsonw_string(&w, "uid", uid);
        jsonw_string(&w, "proto", flowtext_proto(ev->key->proto, ev->key->ip_version));
        uint16_t port[2] = {ev->key->port[ev->orig_side], ev->key->port[!ev->orig_side]};
        put_flow(&w, ev->key, ev->orig_side, port, f->opt);
        jsonw_string(&w, "direction", flowtext_direction(ev->dir));
    }
    record_end(&w);
}

static void put_capture(struct jsonw *w, uint64_t received, uint64_t dropped, uint64_t if_dropped) {
    jsonw_object_begin(w, "capture");
    jsonw_u64(w, "received", received);
    jsonw_u64(w, "dropped", dropped);
    jsonw_u64(w, "if_dropped", if_dropped);
    jsonw_object_end(w);
}

/* Per layer, the layers that had any checksum verified: the summary and stats records alike. */
static void put_checksums(struct jsonw *w, const struct checksum_counts *c) {
    jsonw_object_begin(w, "checksums");
    for (unsigned i = 0; i < CHECKSUM_LAYER_COUNT; i++) {
        if (c[i].good == 0 && c[i].bad == 0 && c[i].offloaded == 0)
            continue;
        jsonw_object_begin(w, checksum_layer_name((enum checksum_layer)i));
        jsonw_u64(w, "good", c[i].good);
        jsonw_u64(w, "bad", c[i].bad);
        jsonw_u64(w, "offloaded", c[i].offloaded);
        jsonw_object_end(w);
    }
    jsonw_object_end(w);
}

void format_json_anomaly_own(struct jsonw *w, const struct anomaly_event *ev, const char *uid,
                             bool with_detail, const struct record_options *o) {
    jsonw_object_begin(w, "shakedown");
    if (ev->key) {
        jsonw_string(w, "uid", uid);
        jsonw_string(w, "direction", flowtext_direction(ev->dir));
    } else {
        jsonw_u64(w, "count", ev->count);
    }
    jsonw_string(w, "severity", anomaly_severity_name(anomaly_severity_of(ev->id)));
    jsonw_u64(w, "frame", ev->frame);
    if (with_detail)
        jsonw_string(w, "detail", ev->detail);
    format_json_folded(w, ev, o);
    jsonw_object_end(w);
}

/* "outputs": [{target, format, written, dropped, failed}, …], one per -o. */
static void put_outputs(struct jsonw *w, const struct output_account *a, size_t n) {
    if (!n)
        return;
    jsonw_array_begin(w, "outputs");
    for (size_t i = 0; i < n; i++) {
        jsonw_object_begin(w, NULL);
        jsonw_string(w, "target", a[i].target);
        jsonw_string(w, "format", a[i].format);
        jsonw_u64(w, "written", a[i].written);
        jsonw_u64(w, "dropped", a[i].dropped);
        jsonw_u64(w, "failed", a[i].failed);
        jsonw_object_end(w);
    }
    jsonw_array_end(w);
}

void format_json_stats_members(struct jsonw *w, const struct live_stats *ls,
                               const struct record_options *o) {
    put_ts(w, "ts", ls->wall_ns, o);
    put_seconds(w, "uptime", (int64_t)(ls->uptime_seconds * 1e9));
    jsonw_u64(w, "packets", ls->packets);
    jsonw_u64(w, "bytes", ls->bytes);
    if (ls->have_capture)
        put_capture(w, ls->received, ls->dropped, ls->if_dropped);
    jsonw_u64(w, "connections_open", ls->connections_open);
    jsonw_u64(w, "connections_reported", ls->connections_reported);
    jsonw_u64(w, "memory_reserved_bytes", ls->memory_reserved_bytes);
    jsonw_u64(w, "memory_used_bytes", ls->memory_used_bytes);
    jsonw_u64(w, "anomalies", ls->anomalies);
    jsonw_u64(w, "anomaly_events_folded", ls->anomaly_events_folded);
    jsonw_u64(w, "records_lost", ls->records_lost);
    jsonw_u64(w, "rotations_failed", ls->rotations_failed);
    put_outputs(w, ls->outputs, ls->noutputs);
    put_checksums(w, ls->checksums);
}

static void json_stats(struct format_ctx *f, const struct live_stats *ls) {
    struct jsonw w;
    record_begin(&w, f, "stats");
    format_json_stats_members(&w, ls, f->opt);
    record_end(&w);
}

/* ---- the run summary ---------------------------------------------------------------------- */

static void put_inputs(struct jsonw *w, const struct input_report *in, size_t n) {
    jsonw_array_begin(w, "inputs");
    for (size_t i = 0; i < n; i++) {
        jsonw_object_begin(w, NULL);
        jsonw_string(w, "file", in[i].path);
        if (in[i].link >= 0)
            jsonw_string(w, "link_type", in[i].link_name);
        jsonw_u64(w, "packets", in[i].packets);
        jsonw_string(w, "status", input_status_name(in[i].status));
        if (in[i].status != INPUT_OK)
            jsonw_string(w, "error", in[i].message);
        jsonw_object_end(w);
    }
    jsonw_array_end(w);
}

static void put_counter(struct jsonw *w, const char *key, const struct counter *c) {
    if (c->packets == 0)
        return;
    jsonw_object_begin(w, key);
    jsonw_u64(w, "packets", c->packets);
    jsonw_u64(w, "bytes", c->bytes);
    jsonw_object_end(w);
}

static void put_protocols(struct jsonw *w, const struct run_stats *s) {
    jsonw_object_begin(w, "protocols");
    jsonw_object_begin(w, "link");
    for (unsigned i = 0; i < LINK_KIND_COUNT; i++)
        put_counter(w, link_kind_name((enum link_kind)i), &s->link[i]);
    jsonw_object_end(w);
    jsonw_object_begin(w, "network");
    for (unsigned i = NET_NONE + 1; i < NET_COUNT; i++)
        put_counter(w, net_proto_name((enum net_proto)i), &s->net[i]);
    jsonw_object_end(w);
    jsonw_object_begin(w, "transport");
    for (unsigned i = TRANSPORT_NONE + 1; i < TRANSPORT_COUNT; i++)
        put_counter(w, transport_proto_name((enum transport_proto)i), &s->transport[i]);
    jsonw_object_end(w);
    jsonw_object_end(w);
}

/* The sources --checksums auto took as offloading (the first STATS_MAX_OFFLOAD_SOURCES). */
static void put_offload_sources(struct jsonw *w, const struct run_stats *s) {
    jsonw_array_begin(w, "checksum_offload_sources");
    for (uint32_t i = 0; i < s->offload_source_count && i < STATS_MAX_OFFLOAD_SOURCES; i++) {
        char addr[64];
        flowtext_addr(addr, sizeof addr, s->offload_sources[i].addr,
                      s->offload_sources[i].ip_version);
        jsonw_string(w, NULL, addr);
    }
    jsonw_array_end(w);
    if (s->offload_source_count > STATS_MAX_OFFLOAD_SOURCES)
        jsonw_u64(w, "checksum_offload_sources_unlisted",
                  s->offload_source_count - STATS_MAX_OFFLOAD_SOURCES);
}

static void put_decode_errors(struct jsonw *w, const struct run_stats *s) {
    jsonw_object_begin(w, "decode_errors");
    for (unsigned i = DECODE_OK + 1; i < DECODE_STATUS_COUNT; i++)
        if (s->decode_errors[i])
            jsonw_u64(w, decode_status_name((enum decode_status)i), s->decode_errors[i]);
    jsonw_object_end(w);
}

static void put_connections(struct jsonw *w, const struct conn_totals *t) {
    jsonw_object_begin(w, "connections");
    jsonw_u64(w, "total", t->reported);
    jsonw_u64(w, "tcp", t->tcp);
    jsonw_u64(w, "udp", t->udp);
    jsonw_u64(w, "icmp", t->icmp);
    jsonw_object_begin(w, "by_conn_state");
    for (unsigned i = 0; i < ZEEK_CONN_STATE_COUNT; i++)
        if (t->by_state[i])
            jsonw_u64(w, zeek_conn_state_name((enum zeek_conn_state)i), t->by_state[i]);
    jsonw_object_end(w);
    jsonw_object_begin(w, "by_close");
    for (unsigned i = CONN_END_OPEN + 1; i < CONN_END_COUNT; i++)
        if (t->by_end[i])
            jsonw_u64(w, conn_end_name((enum conn_end)i), t->by_end[i]);
    jsonw_object_end(w);
    jsonw_u64(w, "peak_open", t->peak_open);
    jsonw_u64(w, "one_sided", t->one_sided);
    jsonw_u64(w, "late_packets", t->late_packets);
    jsonw_u64(w, "untracked_packets", t->untracked_packets);
    jsonw_object_end(w);
}

/* Every anomaly occurrence of the run, by name (including those beyond the first per connection,
 * which have no event record of their own). */
static void put_anomaly_totals(struct jsonw *w, const struct conn_totals *t) {
    jsonw_object_begin(w, "anomalies");
    for (unsigned i = 0; i < ANOMALY_COUNT; i++)
        if (t->anomalies[i])
            jsonw_u64(w, anomaly_name((enum anomaly)i), t->anomalies[i]);
    jsonw_object_end(w);
}

void format_json_summary_members(struct jsonw *w, const struct run_stats *s,
                                 const struct input_report *inputs, size_t ninputs,
                                 double run_seconds, const struct record_options *o) {
    jsonw_string(w, "version", SHAKEDOWN_VERSION);
    if (s->have_ts) {
        put_ts(w, "first_ts", s->first_sec * 1000000000 + s->first_nsec, o);
        put_ts(w, "last_ts", s->last_sec * 1000000000 + s->last_nsec, o);
    }
    char rt[32];
    snprintf(rt, sizeof rt, "%.6f", run_seconds);
    jsonw_number_text(w, "run_seconds", rt);
    put_inputs(w, inputs, ninputs);
    jsonw_u64(w, "packets", s->read.packets);
    jsonw_u64(w, "bytes", s->read.bytes);
    jsonw_u64(w, "filtered", s->filtered);
    jsonw_u64(w, "analysed", s->analysed);
    jsonw_u64(w, "checksum_dropped", s->checksum_dropped);
    if (s->shard_count) { /* --shard K/N */
        jsonw_object_begin(w, "shard");
        jsonw_u64(w, "index", s->shard_index + 1);
        jsonw_u64(w, "count", s->shard_count);
        jsonw_u64(w, "other_packets", s->other_shards);
        jsonw_object_end(w);
    }
    jsonw_u64(w, "decode_failed", stats_decode_error_total(s));
    jsonw_u64(w, "truncated", s->truncated);
    jsonw_u64(w, "tcp_options_malformed", s->tcp_options_malformed);
    jsonw_u64(w, "timestamps_out_of_range", s->timestamps_out_of_range);
    put_decode_errors(w, s);
    put_protocols(w, s);
    put_checksums(w, s->checksums);
    put_offload_sources(w, s);
    jsonw_u64(w, "checksum_untracked_packets", s->checksum_untracked);
    put_connections(w, &s->conns);
    put_anomaly_totals(w, &s->conns);
    jsonw_u64(w, "anomaly_events_folded", s->conns.anomaly_events_folded);
    jsonw_u64(w, "anomaly_aggregates", s->conns.anomaly_aggregates);
    if (s->records_lost)
        jsonw_u64(w, "records_lost", s->records_lost);
    if (s->rotations_failed)
        jsonw_u64(w, "rotations_failed", s->rotations_failed);
    put_outputs(w, s->outputs, s->noutputs);
    if (s->have_capture_stats)
        put_capture(w, s->capture_received, s->capture_dropped, s->capture_if_dropped);
}

static void json_summary(struct format_ctx *f, const struct run_stats *s,
                         const struct input_report *inputs, size_t ninputs, double run_seconds) {
    struct jsonw w;
    record_begin(&w, f, "summary");
    format_json_summary_members(&w, s, inputs, ninputs, run_seconds, f->opt);
    record_end(&w);
}

extern const struct format_ops output_format_json;
const struct format_ops output_format_json = {
    .name = "json",
    .connection = json_connection,
    .anomaly = json_anomaly,
    .stats = json_stats,
    .summary = json_summary,
};
