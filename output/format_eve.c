/* format_eve: Suricata's EVE JSON, so that tools built for Suricata (Filebeat's and Elastic's
 * Suricata integrations, Splunk's add-on, EVE routers) take the records as they are. A
 * connection is an `event_type: "flow"` record with Suricata's fields (src/dest as originator/
 * responder, `flow{…}`, `tcp{…}`); an anomaly an `event_type: "anomaly"` record with
 * `anomaly{type: "stream", event: NAME}`; periodic stats and the run summary `event_type: "stats"`
 * records. Everything shakedown knows beyond Suricata's fields sits under one key of its own,
 * "shakedown", with the names and types of shakedown's own JSON records (docs/schema.md). */
#include <stdio.h>
#include <string.h>

#include "community_id.h"
#include "flowtext.h"
#include "format.h"
#include "format_json.h"
#include "jsonw.h"
#include "packet.h"
#include "timefmt.h"

/* Suricata's timestamp: "2024-01-01T00:00:00.040000+0000" (UTC). */
static void put_time(struct jsonw *w, const char *key, int64_t ns) {
    char buf[TIMEFMT_ISO_LEN + 8];
    timefmt_iso8601_ns(buf, sizeof buf, ns);
    size_t n = strlen(buf);
    if (n > 0 && buf[n - 1] == 'Z')
        snprintf(buf + n - 1, sizeof buf - (n - 1), "+0000");
    jsonw_string(w, key, buf);
}

/* Suricata's proto names. */
static const char *eve_proto(uint8_t proto) {
    switch (proto) {
    case 6:
        return "TCP";
    case 17:
        return "UDP";
    case 1:
        return "ICMP";
    case 58:
        return "IPv6-ICMP";
    default:
        return "OTHER";
    }
}

/* flow_id: an integer naming the flow in every record about it, as Suricata's does. Suricata
 * hashes its flow; this is a hash of the connection's uid (itself a function of the flow key,
 * first packet time and serial), kept below 2^53 so every JSON reader holds it exactly. */
static uint64_t flow_id(const char uid[CONN_UID_LEN]) {
    uint64_t h = 0xcbf29ce484222325u; /* FNV-1a */
    for (const char *p = uid; *p; p++)
        h = (h ^ (uint8_t)*p) * 0x100000001b3u;
    return h & ((UINT64_C(1) << 53) - 1);
}

/* The header every EVE record about a flow starts with (after timestamp and flow_id): ports by
 * role (for ICMP the originator's type and code, as the connection record has them). */
static void put_tuple(struct jsonw *w, const struct flow_key *k, uint8_t orig_side,
                      const uint16_t port[2], const struct record_options *o) {
    const uint8_t *src = k->addr[orig_side], *dst = k->addr[!orig_side];
    uint16_t sport = port[0], dport = port[1];
    char text[FLOWTEXT_ADDR_LEN];
    if (k->vlan[0] || k->vlan[1]) {
        jsonw_array_begin(w, "vlan");
        jsonw_u64(w, NULL, k->vlan[0]);
        if (k->vlan[1])
            jsonw_u64(w, NULL, k->vlan[1]);
        jsonw_array_end(w);
    }
    flowtext_addr(text, sizeof text, src, k->ip_version);
    jsonw_string(w, "src_ip", text);
    bool icmp = k->proto == 1 || k->proto == 58; /* EVE gives ICMP type/code, not ports */
    jsonw_u64(w, icmp ? "icmp_type" : "src_port", sport);
    flowtext_addr(text, sizeof text, dst, k->ip_version);
    jsonw_string(w, "dest_ip", text);
    jsonw_u64(w, icmp ? "icmp_code" : "dest_port", dport);
    jsonw_u64(w, "ip_v", k->ip_version);
    jsonw_string(w, "proto", eve_proto(k->proto));
    char cid[COMMUNITY_ID_LEN];
    struct community_id_tuple t = {k->ip_version, src, dst, k->proto, sport, dport};
    if (community_id_v1(o->hasher, &t, o->community_id_seed, cid))
        jsonw_string(w, "community_id", cid);
}

static void record_begin(struct jsonw *w, struct format_ctx *f, int64_t ts_ns) {
    jsonw_start(w, f->out);
    jsonw_object_begin(w, NULL);
    put_time(w, "timestamp", ts_ns);
}

static void record_end(struct jsonw *w) {
    jsonw_object_end(w);
    outbuf_putc(w->out, '\n');
}

/* ---- flow ---------------------------------------------------------------------------------- */

/* flow.state: new (no handshake or data both ways), established, closed (FIN or RST). */
static const char *eve_flow_state(const struct conn *c) {
    if (c->end == CONN_END_FIN || c->end == CONN_END_SIMULTANEOUS_FIN || c->end == CONN_END_RST)
        return "closed";
    bool both = c->pkts[0] && c->pkts[1];
    if (c->e.key.proto == 6)
        return c->tcp.handshake_done || (c->tcp.midstream && both) ? "established" : "new";
    return both ? "established" : "new";
}

/* flow.reason: Suricata logs a flow when it times out (closed ones too, after their close
 * timeout), is evicted (forced), or at shutdown. */
static const char *eve_flow_reason(const struct conn *c) {
    switch ((enum conn_end)c->end) {
    case CONN_END_EVICTED:
        return "forced";
    case CONN_END_SHUTDOWN:
    case CONN_END_CAPTURE_END:
        return "shutdown";
    case CONN_END_OPEN:
        return "unknown";
    default:
        return "timeout";
    }
}

/* Suricata's lower-case TCP state names for an RFC 793 state. */
static const char *eve_tcp_state(enum tcp_state s) {
    static const struct {
        const char *rfc, *eve;
    } names[] = {{"SYN_SENT", "syn_sent"},       {"SYN_RECEIVED", "syn_recv"},
                 {"ESTABLISHED", "established"}, {"FIN_WAIT_1", "fin_wait1"},
                 {"FIN_WAIT_2", "fin_wait2"},    {"TIME_WAIT", "time_wait"},
                 {"LAST_ACK", "last_ack"},       {"CLOSE_WAIT", "close_wait"},
                 {"CLOSING", "closing"},         {"CLOSED", "closed"}};
    const char *rfc = tcp_state_name(s);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(names[i].rfc, rfc) == 0)
            return names[i].eve;
    return "none";
}

static void put_hex_flags(struct jsonw *w, const char *key, uint8_t flags) {
    char hex[3];
    snprintf(hex, sizeof hex, "%02x", flags);
    jsonw_string(w, key, hex);
}

/* tcp{}: the flags seen (each direction and together, hex as Suricata writes them), one boolean
 * per flag seen (only those seen, as Suricata), and the session state (the originator's: the
 * one of Suricata's single state it is nearest to). */
static void put_tcp(struct jsonw *w, const struct conn *c) {
    uint8_t ts = c->tcp.ep[0].flags_seen, tc = c->tcp.ep[1].flags_seen, all = ts | tc;
    static const struct {
        uint8_t bit;
        const char *name;
    } flag[] = {{TCP_SYN, "syn"}, {TCP_FIN, "fin"}, {TCP_RST, "rst"}, {TCP_PSH, "psh"},
                {TCP_ACK, "ack"}, {TCP_URG, "urg"}, {TCP_ECE, "ecn"}, {TCP_CWR, "cwr"}};
    jsonw_object_begin(w, "tcp");
    put_hex_flags(w, "tcp_flags", all);
    put_hex_flags(w, "tcp_flags_ts", ts);
    put_hex_flags(w, "tcp_flags_tc", tc);
    for (size_t i = 0; i < sizeof flag / sizeof flag[0]; i++)
        if (all & flag[i].bit)
            jsonw_bool(w, flag[i].name, true);
    jsonw_string(w, "state", eve_tcp_state(tcp_conn_state(&c->tcp, 0)));
    jsonw_object_end(w);
}

static void put_flow(struct jsonw *w, const struct conn *c) {
    jsonw_object_begin(w, "flow");
    jsonw_u64(w, "pkts_toserver", c->pkts[0]);
    jsonw_u64(w, "pkts_toclient", c->pkts[1]);
    jsonw_u64(w, "bytes_toserver", c->ip_bytes[0]);
    jsonw_u64(w, "bytes_toclient", c->ip_bytes[1]);
    put_time(w, "start", c->first_ns);
    put_time(w, "end", c->last_ns);
    jsonw_u64(w, "age", (uint64_t)((c->last_ns - c->first_ns) / 1000000000));
    jsonw_string(w, "state", eve_flow_state(c));
    jsonw_string(w, "reason", eve_flow_reason(c));
    jsonw_bool(w, "alerted", false);
    jsonw_object_end(w);
}

/* shakedown{}: what Suricata's flow record has no field for, TCP endpoints' metrics included. */
static void put_own(struct jsonw *w, const struct conn *c, const char *uid, bool final,
                    const struct record_options *o) {
    char hist[TCP_HISTORY_MAX];
    conn_history(c, hist);
    jsonw_object_begin(w, "shakedown");
    jsonw_string(w, "uid", uid);
    jsonw_string(w, "conn_state", zeek_conn_state_name(conn_zeek_state(c)));
    jsonw_string(w, "history", hist);
    jsonw_bool(w, "final", final);
    if (final)
        jsonw_string(w, "close", conn_end_name((enum conn_end)c->end));
    jsonw_u64(w, "orig_payload_bytes", conn_payload_bytes(c, 0));
    jsonw_u64(w, "resp_payload_bytes", conn_payload_bytes(c, 1));
    if (c->e.key.proto == 6) {
        jsonw_string(w, "orig_state", tcp_state_name(tcp_conn_state(&c->tcp, 0)));
        jsonw_string(w, "resp_state", tcp_state_name(tcp_conn_state(&c->tcp, 1)));
        jsonw_u64(w, "orig_missed_bytes", c->tcp.ep[0].missed_bytes);
        jsonw_u64(w, "resp_missed_bytes", c->tcp.ep[1].missed_bytes);
        jsonw_bool(w, "handshake_completed", c->tcp.handshake_done);
        format_json_metrics(w, "orig_metrics", c, 0);
        format_json_metrics(w, "resp_metrics", c, 1);
    }
    format_json_anomalies(w, c, o);
    jsonw_object_end(w);
}

static void eve_connection(struct format_ctx *f, const struct conn *c, bool final) {
    struct jsonw w;
    char uid[CONN_UID_LEN];
    conn_uid(c, uid);
    record_begin(&w, f, c->first_ns);
    jsonw_u64(&w, "flow_id", flow_id(uid));
    jsonw_string(&w, "event_type", "flow");
    uint16_t port[2] = {conn_port(c, 0), conn_port(c, 1)};
    put_tuple(&w, &c->e.key, c->orig_side, port, f->opt);
    put_flow(&w, c);
    if (c->e.key.proto == 6)
        put_tcp(&w, c);
    put_own(&w, c, uid, final, f->opt);
    record_end(&w);
}

/* ---- anomaly and stats --------------------------------------------------------------------- */

static void eve_anomaly(struct format_ctx *f, const struct anomaly_event *ev) {
    struct jsonw w;
    char uid[CONN_UID_LEN], addr[FLOWTEXT_ADDR_LEN];
    record_begin(&w, f, ev->ts_ns);
    if (ev->key) {
        conn_uid_make(ev->serial, ev->first_ns, ev->key, uid);
        jsonw_u64(&w, "flow_id", flow_id(uid));
    }
    jsonw_string(&w, "event_type", "anomaly");
    if (ev->key) {
        uint16_t port[2] = {ev->key->port[ev->orig_side], ev->key->port[!ev->orig_side]};
        put_tuple(&w, ev->key, ev->orig_side, port, f->opt);
    } else { /* host-level: the scanning source or the flooded destination */
        flowtext_addr(addr, sizeof addr, ev->host, ev->host_version);
        jsonw_string(&w, ev->id == ANOMALY_PORT_SCAN ? "src_ip" : "dest_ip", addr);
    }
    jsonw_object_begin(&w, "anomaly");
    jsonw_string(&w, "type", "stream");
    jsonw_string(&w, "event", anomaly_name(ev->id));
    jsonw_object_end(&w);
    format_json_anomaly_own(&w, ev, ev->key ? uid : "", true, f->opt);
    record_end(&w);
}

/* stats{}: the Suricata counters shakedown has (capture and decoder), then its own record. */
static void eve_stats(struct format_ctx *f, const struct live_stats *ls) {
    struct jsonw w;
    record_begin(&w, f, ls->wall_ns);
    jsonw_string(&w, "event_type", "stats");
    jsonw_object_begin(&w, "stats");
    jsonw_u64(&w, "uptime", (uint64_t)ls->uptime_seconds);
    if (ls->have_capture) {
        jsonw_object_begin(&w, "capture");
        jsonw_u64(&w, "kernel_packets", ls->received);
        jsonw_u64(&w, "kernel_drops", ls->dropped);
        jsonw_object_end(&w);
    }
    jsonw_object_begin(&w, "decoder");
    jsonw_u64(&w, "pkts", ls->packets);
    jsonw_u64(&w, "bytes", ls->bytes);
    jsonw_object_end(&w);
    jsonw_object_end(&w);
    jsonw_object_begin(&w, "shakedown");
    format_json_stats_members(&w, ls, f->opt);
    jsonw_object_end(&w);
    record_end(&w);
}

/* The run summary: a last stats event, with shakedown's summary record under "shakedown". */
static void eve_summary(struct format_ctx *f, const struct run_stats *s,
                        const struct input_report *inputs, size_t ninputs, double run_seconds) {
    struct jsonw w;
    int64_t last = s->have_ts ? s->last_sec * 1000000000 + s->last_nsec : 0;
    record_begin(&w, f, last);
    jsonw_string(&w, "event_type", "stats");
    jsonw_object_begin(&w, "stats");
    jsonw_object_begin(&w, "decoder");
    jsonw_u64(&w, "pkts", s->read.packets);
    jsonw_u64(&w, "bytes", s->read.bytes);
    jsonw_object_end(&w);
    jsonw_object_begin(&w, "flow");
    jsonw_u64(&w, "tcp", s->conns.tcp);
    jsonw_u64(&w, "udp", s->conns.udp);
    jsonw_u64(&w, "icmp", s->conns.icmp);
    jsonw_object_end(&w);
    jsonw_object_end(&w);
    jsonw_object_begin(&w, "shakedown");
    jsonw_string(&w, "type", "summary");
    format_json_summary_members(&w, s, inputs, ninputs, run_seconds, f->opt);
    jsonw_object_end(&w);
    record_end(&w);
}

extern const struct format_ops output_format_eve;
const struct format_ops output_format_eve = {
    .name = "eve",
    .connection = eve_connection,
    .anomaly = eve_anomaly,
    .stats = eve_stats,
    .summary = eve_summary,
};
