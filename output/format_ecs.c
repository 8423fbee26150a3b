/* format_ecs: Elastic Common Schema documents, one per line, mapped as Elastic's Zeek and Suricata
 * modules map their records: a connection is an event (`event.kind: "event"`, category network,
 * `event.type` from conn_state as the Zeek module sets it), its originator the `source`, its
 * responder the `destination`, `event.duration` in nanoseconds; an anomaly is an alert
 * (`event.kind: "alert"`, `rule.name`, a numeric `event.severity`); stats and the summary are
 * metrics. Only ECS field names are used at the top level, each with its ECS type (a test checks
 * every one against the published definitions, npm @elastic/ecs); shakedown's own fields sit
 * under `shakedown`, named and typed as in its own JSON records. */
#include <stdio.h>
#include <string.h>

#include "community_id.h"
#include "flowtext.h"
#include "format.h"
#include "format_json.h"
#include "jsonw.h"
#include "timefmt.h"

#define ECS_VERSION "9.4.0" /* the ECS release the field names were checked against */

/* ECS dates: ISO 8601 in UTC with microseconds. */
static void put_date(struct jsonw *w, const char *key, int64_t ns) {
    char buf[TIMEFMT_ISO_LEN];
    timefmt_iso8601_ns(buf, sizeof buf, ns);
    jsonw_string(w, key, buf);
}

static void record_begin(struct jsonw *w, struct format_ctx *f, int64_t ts_ns) {
    jsonw_start(w, f->out);
    jsonw_object_begin(w, NULL);
    put_date(w, "@timestamp", ts_ns);
    jsonw_object_begin(w, "ecs");
    jsonw_string(w, "version", ECS_VERSION);
    jsonw_object_end(w);
    jsonw_object_begin(w, "observer");
    jsonw_string(w, "product", "shakedown");
    jsonw_string(w, "type", "sensor");
    jsonw_object_end(w);
}

static void record_end(struct jsonw *w) {
    jsonw_object_end(w);
    outbuf_putc(w->out, '\n');
}

static void put_strings(struct jsonw *w, const char *key, const char *const *list) {
    jsonw_array_begin(w, key);
    for (; *list; list++)
        jsonw_string(w, NULL, *list);
    jsonw_array_end(w);
}

/* event.type by conn_state, as Elastic's Zeek integration sets it for conn.log (elastic/
 * integrations, packages/zeek, data stream connection, its ingest pipeline's table of states):
 * S0 and S1 a connection that started, SF one that started and ended, REJ one that was denied;
 * every other state (S2, S3, RSTO, RSTR, RSTOS0, RSTRH, SH, SHR, OTH) only "info". */
static const char *const *event_types(enum zeek_conn_state s) {
    static const char *const info[] = {"connection", "info", NULL};
    static const char *const start[] = {"connection", "start", NULL};
    static const char *const start_end[] = {"connection", "start", "end", NULL};
    static const char *const denied[] = {"connection", "start", "denied", NULL};
    switch (s) {
    case ZEEK_S0:
    case ZEEK_S1:
        return start;
    case ZEEK_SF:
        return start_end;
    case ZEEK_REJ:
        return denied;
    default:
        return info;
    }
}

/* source / destination: an endpoint's address, port and (for connections) what it sent. */
static void put_endpoint(struct jsonw *w, const char *key, const uint8_t *addr, uint8_t ip_version,
                         uint16_t port, const uint64_t *bytes, const uint64_t *pkts) {
    char text[FLOWTEXT_ADDR_LEN];
    flowtext_addr(text, sizeof text, addr, ip_version);
    jsonw_object_begin(w, key);
    jsonw_string(w, "ip", text);
    jsonw_u64(w, "port", port);
    if (bytes) {
        jsonw_u64(w, "bytes", *bytes);
        jsonw_u64(w, "packets", *pkts);
    }
    jsonw_object_end(w);
}

/* network: transport, IP version, IANA number, Community ID, VLANs, and totals if known. */
static void put_network(struct jsonw *w, const struct flow_key *k, uint8_t orig_side,
                        const uint16_t port[2], const struct conn *c,
                        const struct record_options *o) {
    const char *transport = flowtext_proto(k->proto, k->ip_version);
    char iana[4], cid[COMMUNITY_ID_LEN];
    snprintf(iana, sizeof iana, "%u", (unsigned)k->proto);
    jsonw_object_begin(w, "network");
    jsonw_string(w, "transport", strcmp(transport, "icmpv6") == 0 ? "ipv6-icmp" : transport);
    jsonw_string(w, "type", k->ip_version == 6 ? "ipv6" : "ipv4");
    jsonw_string(w, "iana_number", iana);
    struct community_id_tuple t = {
        k->ip_version, k->addr[orig_side], k->addr[!orig_side], k->proto, port[0], port[1]};
    if (community_id_v1(o->hasher, &t, o->community_id_seed, cid))
        jsonw_string(w, "community_id", cid);
    if (c) {
        jsonw_u64(w, "bytes", c->ip_bytes[0] + c->ip_bytes[1]);
        jsonw_u64(w, "packets", c->pkts[0] + c->pkts[1]);
    }
    if (k->vlan[0] || k->vlan[1]) { /* outer tag network.vlan, inner network.inner.vlan */
        char id[8];
        snprintf(id, sizeof id, "%u", (unsigned)k->vlan[0]);
        jsonw_object_begin(w, "vlan");
        jsonw_string(w, "id", id);
        jsonw_object_end(w);
        if (k->vlan[1]) {
            snprintf(id, sizeof id, "%u", (unsigned)k->vlan[1]);
            jsonw_object_begin(w, "inner");
            jsonw_object_begin(w, "vlan");
            jsonw_string(w, "id", id);
            jsonw_object_end(w);
            jsonw_object_end(w);
        }
    }
    jsonw_object_end(w);
}

static void put_event(struct jsonw *w, const char *kind, const char *const *category,
                      const char *const *type, const char *dataset) {
    jsonw_object_begin(w, "event");
    jsonw_string(w, "kind", kind);
    put_strings(w, "category", category);
    put_strings(w, "type", type);
    jsonw_string(w, "module", "shakedown");
    jsonw_string(w, "dataset", dataset);
}

/* ---- connection ---------------------------------------------------------------------------- */

static void ecs_connection(struct format_ctx *f, const struct conn *c, bool final) {
    static const char *const network[] = {"network", NULL};
    struct jsonw w;
    char uid[CONN_UID_LEN], hist[TCP_HISTORY_MAX];
    conn_uid(c, uid);
    conn_history(c, hist);
    enum zeek_conn_state state = conn_zeek_state(c);
    record_begin(&w, f, c->first_ns);
    put_event(&w, "event", network, event_types(state), "shakedown.connection");
    jsonw_string(&w, "id", uid);
    put_date(&w, "start", c->first_ns);
    put_date(&w, "end", c->last_ns);
    jsonw_u64(&w, "duration", (uint64_t)(c->last_ns - c->first_ns));
    jsonw_object_end(&w);
    uint16_t port[2] = {conn_port(c, 0), conn_port(c, 1)};
    put_endpoint(&w, "source", conn_addr(c, 0), c->e.key.ip_version, port[0], &c->ip_bytes[0],
                 &c->pkts[0]);
    put_endpoint(&w, "destination", conn_addr(c, 1), c->e.key.ip_version, port[1], &c->ip_bytes[1],
                 &c->pkts[1]);
    put_network(&w, &c->e.key, c->orig_side, port, c, f->opt);
    jsonw_object_begin(&w, "shakedown");
    jsonw_string(&w, "uid", uid);
    jsonw_string(&w, "conn_state", zeek_conn_state_name(state));
    jsonw_string(&w, "history", hist);
    jsonw_bool(&w, "final", final);
    if (final)
        jsonw_string(&w, "close", conn_end_name((enum conn_end)c->end));
    jsonw_u64(&w, "orig_payload_bytes", conn_payload_bytes(c, 0));
    jsonw_u64(&w, "resp_payload_bytes", conn_payload_bytes(c, 1));
    if (c->e.key.proto == 6) {
        jsonw_string(&w, "orig_state", tcp_state_name(tcp_conn_state(&c->tcp, 0)));
        jsonw_string(&w, "resp_state", tcp_state_name(tcp_conn_state(&c->tcp, 1)));
        jsonw_u64(&w, "missed_bytes", c->tcp.ep[0].missed_bytes + c->tcp.ep[1].missed_bytes);
        format_json_metrics(&w, "orig_metrics", c, 0);
        format_json_metrics(&w, "resp_metrics", c, 1);
    }
    format_json_anomalies(&w, c, f->opt);
    jsonw_object_end(&w);
    record_end(&w);
}

/* ---- anomaly ------------------------------------------------------------------------------- */

/* event.severity: higher is worse (info 1, low 2, medium 3, high 4). */
static uint64_t severity_number(enum anomaly id) {
    return (uint64_t)anomaly_severity_of(id) + 1u;
}

static void ecs_anomaly(struct format_ctx *f, const struct anomaly_event *ev) {
    static const char *const category[] = {"network", "intrusion_detection", NULL};
    static const char *const type[] = {"info", NULL};
    struct jsonw w;
    record_begin(&w, f, ev->ts_ns);
    put_event(&w, "alert", category, type, "shakedown.anomaly");
    jsonw_u64(&w, "severity", severity_number(ev->id));
    jsonw_object_end(&w);
    jsonw_object_begin(&w, "rule");
    jsonw_string(&w, "name", anomaly_name(ev->id));
    jsonw_string(&w, "category", ev->key ? "connection" : "host");
    jsonw_object_end(&w);
    jsonw_string(&w, "message", ev->detail);
    char uid[CONN_UID_LEN] = "";
    if (ev->key) {
        const struct flow_key *k = ev->key;
        uint16_t port[2] = {k->port[ev->orig_side], k->port[!ev->orig_side]};
        put_endpoint(&w, "source", k->addr[ev->orig_side], k->ip_version, port[0], NULL, NULL);
        put_endpoint(&w, "destination", k->addr[!ev->orig_side], k->ip_version, port[1], NULL,
                     NULL);
        put_network(&w, k, ev->orig_side, port, NULL, f->opt);
        conn_uid_make(ev->serial, ev->first_ns, k, uid);
    } else { /* host-level: the scan's source or the flood's destination */
        char text[FLOWTEXT_ADDR_LEN];
        flowtext_addr(text, sizeof text, ev->host, ev->host_version);
        jsonw_object_begin(&w, ev->id == ANOMALY_PORT_SCAN ? "source" : "destination");
        jsonw_string(&w, "ip", text);
        jsonw_object_end(&w);
    }
    format_json_anomaly_own(&w, ev, uid, false, f->opt); /* the detail is the ECS message */
    record_end(&w);
}

/* ---- stats and summary --------------------------------------------------------------------- */

static void metric_begin(struct jsonw *w, struct format_ctx *f, int64_t ts_ns,
                         const char *dataset) {
    static const char *const category[] = {"network", NULL};
    static const char *const type[] = {"info", NULL};
    record_begin(w, f, ts_ns);
    put_event(w, "metric", category, type, dataset);
    jsonw_object_end(w);
    jsonw_object_begin(w, "shakedown");
}

static void ecs_stats(struct format_ctx *f, const struct live_stats *ls) {
    struct jsonw w;
    metric_begin(&w, f, ls->wall_ns, "shakedown.stats");
    format_json_stats_members(&w, ls, f->opt);
    jsonw_object_end(&w);
    record_end(&w);
}

static void ecs_summary(struct format_ctx *f, const struct run_stats *s,
                        const struct input_report *inputs, size_t ninputs, double run_seconds) {
    struct jsonw w;
    metric_begin(&w, f, s->have_ts ? s->last_sec * 1000000000 + s->last_nsec : 0,
                 "shakedown.summary");
    format_json_summary_members(&w, s, inputs, ninputs, run_seconds, f->opt);
    jsonw_object_end(&w);
    record_end(&w);
}

extern const struct format_ops output_format_ecs;
const struct format_ops output_format_ecs = {
    .name = "ecs",
    .connection = ecs_connection,
    .anomaly = ecs_anomaly,
    .stats = ecs_stats,
    .summary = ecs_summary,
};
