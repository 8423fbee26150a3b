/* record: the JSON schema of shakedown's records, built with json-c. Field names are part of
 * the interface (docs/shakedown.1 lists them); counters are JSON integers. */
#include "record.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "community_id.h"
#include "packet.h"
#include "timefmt.h"

#ifndef SHAKEDOWN_VERSION
#define SHAKEDOWN_VERSION "unknown"
#endif

/* Records are cheap to build when the tree of the previous record of the same kind is updated
 * in place (issue 6: a new json-c tree per record costs about twice as much). So every add_*
 * below sets the member if the object has it with that type, and adds it otherwise; members a
 * record does not have this time are dropped. Fresh objects (the summary) work the same way. */

/* Member lookups of a reused record tree skip json-c's hash table: each object of the tree
 * carries (as its json-c userdata) a small direct-mapped cache from key — every key is a string
 * constant, so its address names it — to the member. Only this file adds or removes members of
 * such a tree, and every removal goes through forget(), so a cached member is always current. */
#define MEMBER_CACHE_SLOTS 64

struct member_cache {
    const char *key[MEMBER_CACHE_SLOTS];
    struct json_object *val[MEMBER_CACHE_SLOTS];
};

static size_t cache_slot(const char *key) {
    return (size_t)(((uintptr_t)key * UINT64_C(0x9e3779b97f4a7c15)) >> 58) % MEMBER_CACHE_SLOTS;
}

static void cache_free(struct json_object *o, void *userdata) {
    (void)o;
    free(userdata);
}

/* Gives a reused tree's object its cache (objects of one-off records do without). */
static void cache_attach(struct json_object *o) {
    if (!json_object_get_userdata(o)) {
        struct member_cache *c = calloc(1, sizeof *c);
        if (c)
            json_object_set_userdata(o, c, cache_free);
    }
}

static void forget(struct json_object *o, const char *key) {
    struct member_cache *c = json_object_get_userdata(o);
    if (c && c->key[cache_slot(key)] == key)
        c->key[cache_slot(key)] = NULL;
    json_object_object_del(o, key);
}

static void remember(struct json_object *o, const char *key, struct json_object *v) {
    struct member_cache *c = json_object_get_userdata(o);
    if (c) {
        c->key[cache_slot(key)] = key;
        c->val[cache_slot(key)] = v;
    }
}

/* Adds key → v to o (a key o does not have). Every key shakedown writes is a string constant:
 * json-c need not copy it. */
static void obj_add(struct json_object *o, const char *key, struct json_object *v) {
    json_object_object_add_ex(o, key, v,
                              JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_ADD_CONSTANT_KEY);
    remember(o, key, v);
}

/* o's member key if it has the type t; a member of another type is dropped. */
static struct json_object *member(struct json_object *o, const char *key, json_type t) {
    struct member_cache *c = json_object_get_userdata(o);
    struct json_object *v;
    if (c && c->key[cache_slot(key)] == key) {
        v = c->val[cache_slot(key)];
    } else {
        if (!json_object_object_get_ex(o, key, &v))
            return NULL;
        remember(o, key, v);
    }
    if (json_object_is_type(v, t))
        return v;
    forget(o, key);
    return NULL;
}

static void drop(struct json_object *o, const char *key) {
    forget(o, key);
}

/* json-c prints integers with snprintf; a record has about twenty of them. This serialiser
 * (json_object_set_serializer) writes the same digits by hand. Setting a new value keeps it. */
static int u64_to_json(struct json_object *jso, struct printbuf *pb, int level, int flags) {
    (void)level;
    (void)flags;
    char digits[TIMEFMT_U64_LEN];
    size_t n = timefmt_u64(digits, json_object_get_uint64(jso));
    return printbuf_memappend(pb, digits, (int)n);
}

static void add_u64(struct json_object *o, const char *key, uint64_t v) {
    struct json_object *m = member(o, key, json_type_int);
    if (m) {
        json_object_set_uint64(m, v);
        return;
    }
    m = json_object_new_uint64(v);
    json_object_set_serializer(m, u64_to_json, NULL, NULL);
    obj_add(o, key, m);
}

/* A string member is only ever overwritten by one no longer than it: json-c 0.16's
 * json_object_set_string moves a longer string to a buffer of its own and loses track of that
 * buffer (a leak) when a shorter one comes next. A longer string gets a new object instead, put
 * in the old one's place (so the members keep their order). */
static void add_str(struct json_object *o, const char *key, const char *v) {
    struct json_object *m = member(o, key, json_type_string);
    if (m && strlen(v) <= (size_t)json_object_get_string_len(m)) {
        json_object_set_string(m, v);
        return;
    }
    struct json_object *n = json_object_new_string(v);
    if (!m) {
        obj_add(o, key, n);
        return;
    }
    json_object_object_add_ex(o, key, n, JSON_C_OBJECT_ADD_CONSTANT_KEY); /* replaces m */
    remember(o, key, n);
}

/* o's member object key, created empty if missing. */
static struct json_object *add_obj(struct json_object *o, const char *key) {
    struct json_object *m = member(o, key, json_type_object);
    if (!m) {
        m = json_object_new_object();
        obj_add(o, key, m);
        if (json_object_get_userdata(o))
            cache_attach(m);
    }
    return m;
}

#define NUMBER_TEXT_LEN 48

/* A JSON number written exactly as the text in its userdata (set by add_number): json-c prints
 * doubles with %.17g, and timestamps want fixed microseconds. */
static void add_number(struct json_object *o, const char *key, double v, const char *text) {
    struct json_object *m = member(o, key, json_type_double);
    char *u = m ? json_object_get_userdata(m) : NULL;
    if (!u) {
        if (m)
            drop(o, key);
        m = json_object_new_double(v);
        u = calloc(1, NUMBER_TEXT_LEN);
        if (!u) {
            json_object_put(m);
            return;
        }
        json_object_set_serializer(m, json_object_userdata_to_json_string, u,
                                   json_object_free_userdata);
        obj_add(o, key, m);
    }
    size_t n = strnlen(text, NUMBER_TEXT_LEN - 1);
    memcpy(u, text, n);
    u[n] = '\0';
}

/* Length of the valid UTF-8 sequence starting at s (1-4), or 0 if it is not one (overlong,
 * surrogate and out-of-range forms included). */
static size_t utf8_sequence(const unsigned char *s) {
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
    if (n == 0 || c > 0xf4)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0) || (c == 0xf0 && s[1] < 0x90) ||
        (c == 0xf4 && s[1] >= 0x90))
        return 0;
    return n;
}

/* Adds a string that came from outside (a file name, a libpcap message): bytes that are not
 * valid UTF-8 become U+FFFD, so every line stays valid JSON whatever the input. */
static void add_text(struct json_object *o, const char *key, const char *untrusted) {
    char buf[1024];
    size_t k = 0;
    const unsigned char *s = (const unsigned char *)untrusted;
    while (*s && k + 4 < sizeof buf) {
        size_t n = utf8_sequence(s);
        if (n == 0) {
            memcpy(buf + k, "\xef\xbf\xbd", 3);
            k += 3;
            s++;
        } else {
            memcpy(buf + k, s, n);
            k += n;
            s += n;
        }
    }
    buf[k] = '\0';
    add_str(o, key, buf);
}

static void add_bool(struct json_object *o, const char *key, bool v) {
    struct json_object *m = member(o, key, json_type_boolean);
    if (m)
        json_object_set_boolean(m, v);
    else
        obj_add(o, key, json_object_new_boolean(v));
}

/* A timestamp as epoch seconds with µs (a JSON number written exactly as formatted) or, with
 * --iso-time, an ISO 8601 string. */
static void add_ts(struct json_object *o, const char *key, int64_t ns,
                   const struct record_options *opt) {
    int64_t sec;
    uint32_t nsec;
    char buf[TIMEFMT_ISO_LEN];
    timefmt_split(ns, &sec, &nsec);
    if (opt->iso_time) {
        timefmt_iso8601(buf, sizeof buf, sec, nsec);
        add_str(o, key, buf);
    } else {
        timefmt_epoch(buf, sizeof buf, sec, nsec);
        add_number(o, key, (double)ns / 1e9, buf);
    }
}

/* A duration in seconds with µs precision. */
static void add_seconds(struct json_object *o, const char *key, int64_t ns) {
    char buf[32];
    int64_t sec;
    uint32_t nsec;
    timefmt_split(ns, &sec, &nsec);
    timefmt_epoch(buf, sizeof buf, sec, nsec);
    add_number(o, key, (double)ns / 1e9, buf);
}

/* Dotted quad by hand (glibc's inet_ntop formats IPv4 with sprintf). */
static void format_ipv4(char *buf, size_t len, const uint8_t *a) {
    char tmp[16], digits[TIMEFMT_U64_LEN];
    size_t k = 0;
    for (int i = 0; i < 4; i++) {
        size_t n = timefmt_u64(digits, a[i]);
        memcpy(tmp + k, digits, n);
        k += n;
        tmp[k++] = i < 3 ? '.' : '\0';
    }
    if (len >= k)
        memcpy(buf, tmp, k);
    else if (len >= 2)
        memcpy(buf, "?", 2); /* as for an address inet_ntop cannot write */
    else if (len)
        buf[0] = '\0';
}

void record_format_addr(char *buf, size_t len, const uint8_t *addr, uint8_t ip_version) {
    if (ip_version == 4) {
        format_ipv4(buf, len, addr);
        return;
    }
    if (!inet_ntop(ip_version == 4 ? AF_INET : AF_INET6, addr, buf, (socklen_t)len))
        snprintf(buf, len, "?");
}

static void add_counter(struct json_object *o, const char *key, const struct counter *c) {
    if (c->packets == 0)
        return;
    struct json_object *v = json_object_new_object();
    add_u64(v, "packets", c->packets);
    add_u64(v, "bytes", c->bytes);
    obj_add(o, key, v);
}

static struct json_object *inputs_array(const struct input_report *in, size_t n) {
    struct json_object *a = json_object_new_array_ext((int)n);
    for (size_t i = 0; i < n; i++) {
        struct json_object *o = json_object_new_object();
        add_text(o, "file", in[i].path);
        if (in[i].link >= 0)
            add_str(o, "link_type", in[i].link_name);
        add_u64(o, "packets", in[i].packets);
        add_str(o, "status", input_status_name(in[i].status));
        if (in[i].status != INPUT_OK)
            add_text(o, "error", in[i].message);
        json_object_array_add(a, o);
    }
    return a;
}

static struct json_object *protocols_object(const struct run_stats *s) {
    struct json_object *proto = json_object_new_object();
    struct json_object *link = json_object_new_object();
    for (unsigned i = 0; i < LINK_KIND_COUNT; i++)
        add_counter(link, link_kind_name((enum link_kind)i), &s->link[i]);
    struct json_object *net = json_object_new_object();
    for (unsigned i = NET_NONE + 1; i < NET_COUNT; i++)
        add_counter(net, net_proto_name((enum net_proto)i), &s->net[i]);
    struct json_object *tr = json_object_new_object();
    for (unsigned i = TRANSPORT_NONE + 1; i < TRANSPORT_COUNT; i++)
        add_counter(tr, transport_proto_name((enum transport_proto)i), &s->transport[i]);
    obj_add(proto, "link", link);
    obj_add(proto, "network", net);
    obj_add(proto, "transport", tr);
    return proto;
}

static struct json_object *checksums_object(const struct run_stats *s) {
    struct json_object *o = json_object_new_object();
    for (unsigned i = 0; i < CHECKSUM_LAYER_COUNT; i++) {
        if (s->checksum_good[i] == 0 && s->checksum_bad[i] == 0)
            continue;
        struct json_object *v = json_object_new_object();
        add_u64(v, "good", s->checksum_good[i]);
        add_u64(v, "bad", s->checksum_bad[i]);
        obj_add(o, checksum_layer_name((enum checksum_layer)i), v);
    }
    return o;
}

static struct json_object *decode_errors_object(const struct run_stats *s) {
    struct json_object *o = json_object_new_object();
    for (unsigned i = DECODE_OK + 1; i < DECODE_STATUS_COUNT; i++)
        if (s->decode_errors[i])
            add_u64(o, decode_status_name((enum decode_status)i), s->decode_errors[i]);
    return o;
}

static const char *proto_name(uint8_t proto, uint8_t ip_version) {
    switch (proto) {
    case 6:
        return "tcp";
    case 17:
        return "udp";
    case 1:
        return "icmp";
    case 58:
        return ip_version == 6 ? "icmpv6" : "icmp";
    default:
        return "other";
    }
}

static void fill_options(struct json_object *o, const struct tcp_endpoint *x) {
    if (x->mss)
        add_u64(o, "mss", x->mss);
    else
        drop(o, "mss");
    if (x->has_wscale)
        add_u64(o, "window_scale", x->wscale);
    else
        drop(o, "window_scale");
    add_bool(o, "sack_permitted", x->sack_permitted);
    add_bool(o, "timestamps", x->timestamps);
}

/* orig / resp: packets and IP bytes for every protocol; TCP adds the endpoint's final RFC 793
 * state, sequence-space byte counts and the options of its SYN. */
static void fill_endpoint(struct json_object *o, const struct conn *c, int role) {
    bool tcp = c->e.key.proto == 6;
    if (tcp)
        add_str(o, "state", tcp_state_name(tcp_conn_state(&c->tcp, role)));
    add_u64(o, "pkts", c->pkts[role]);
    add_u64(o, "bytes", c->ip_bytes[role]);
    if (!tcp)
        return;
    const struct tcp_endpoint *x = &c->tcp.ep[role];
    add_u64(o, "payload_bytes", x->payload_bytes);
    add_u64(o, "retransmits", x->retrans_pkts);
    add_u64(o, "retransmitted_bytes", x->retrans_bytes);
    add_u64(o, "missed_bytes", x->missed_bytes);
    if (x->opt_seen)
        fill_options(add_obj(o, "options"), x);
    else
        drop(o, "options");
}

static void fill_handshake(struct json_object *o, const struct tcp_conn *t) {
    add_bool(o, "observed", t->syn_ns != 0 || t->synack_ns != 0);
    add_bool(o, "completed", t->handshake_done);
    add_bool(o, "simultaneous_open", t->simultaneous_open);
    if (t->syn_ns && t->synack_ns && t->synack_ns >= t->syn_ns)
        add_u64(o, "syn_to_synack_us", (uint64_t)(t->synack_ns - t->syn_ns) / 1000u);
    else
        drop(o, "syn_to_synack_us");
    if (t->synack_ns && t->ack_ns && t->ack_ns >= t->synack_ns)
        add_u64(o, "synack_to_ack_us", (uint64_t)(t->ack_ns - t->synack_ns) / 1000u);
    else
        drop(o, "synack_to_ack_us");
}

static void fill_close(struct json_object *o, const struct conn *c) {
    add_str(o, "how", conn_end_name((enum conn_end)c->end));
    int who = c->e.key.proto == 6 ? c->tcp.close_initiator : -1;
    if (who >= 0)
        add_str(o, "initiator", who == 0 ? "orig" : "resp");
    else
        drop(o, "initiator");
}

/* The 5-tuple (src = originator), VLANs and Community ID of a flow given by its key, roles and
 * ports by role (for ICMP, the originator's type and code: the spec's port equivalents). */
static void add_flow(struct json_object *o, const struct flow_key *k, uint8_t orig_side,
                     const uint16_t port[2], const struct record_options *opt) {
    char addr[64];
    const uint8_t *src = k->addr[orig_side], *dst = k->addr[!orig_side];
    record_format_addr(addr, sizeof addr, src, k->ip_version);
    add_str(o, "src_ip", addr);
    add_u64(o, "src_port", port[0]);
    record_format_addr(addr, sizeof addr, dst, k->ip_version);
    add_str(o, "dest_ip", addr);
    add_u64(o, "dest_port", port[1]);
    add_u64(o, "ip_version", k->ip_version);
    drop(o, "vlan");
    if (k->vlan[0] || k->vlan[1]) { /* outer first; VLAN 0 is a priority tag */
        struct json_object *v = json_object_new_array();
        json_object_array_add(v, json_object_new_int(k->vlan[0]));
        if (k->vlan[1])
            json_object_array_add(v, json_object_new_int(k->vlan[1]));
        obj_add(o, "vlan", v);
    }
    char cid[COMMUNITY_ID_LEN];
    struct community_id_tuple t = {k->ip_version, src, dst, k->proto, port[0], port[1]};
    if (community_id_v1(opt->hasher, &t, opt->community_id_seed, cid))
        add_str(o, "community_id", cid);
}

static void add_tuple(struct json_object *o, const struct conn *c,
                      const struct record_options *opt) {
    uint16_t port[2] = {conn_port(c, 0), conn_port(c, 1)};
    add_flow(o, &c->e.key, c->orig_side, port, opt);
}

static const char *direction_name(int dir) {
    return dir == 0 ? "orig" : "resp";
}

/* The connection's anomalies: the previous record's array is kept when both are empty (the
 * common case), else rebuilt. */
static void add_anomalies(struct json_object *rec, const struct conn *c,
                          const struct record_options *opt) {
    static const struct conn_anomalies none;
    const struct conn_anomalies *l = c->anomalies ? c->anomalies : &none;
    struct json_object *old = member(rec, "anomalies", json_type_array);
    if (old && l->n == 0 && json_object_array_length(old) == 0)
        return;
    drop(rec, "anomalies");
    struct json_object *a = json_object_new_array_ext(l->n);
    obj_add(rec, "anomalies", a);
    for (unsigned i = 0; i < l->n; i++) {
        struct json_object *o = json_object_new_object();
        enum anomaly id = (enum anomaly)l->list[i].id;
        add_str(o, "name", anomaly_name(id));
        add_str(o, "severity", anomaly_severity_name(anomaly_severity_of(id)));
        add_u64(o, "count", l->list[i].count);
        add_ts(o, "first_ts", l->list[i].first_ns, opt);
        add_str(o, "direction", direction_name(l->list[i].dir));
        json_object_array_add(a, o);
    }
}

/* Flags of a TCP record (facts about the connection, not anomalies). */
static void add_tcp_flags(struct json_object *o, const struct conn *c) {
    const struct tcp_conn *t = &c->tcp;
    enum tcp_state so = tcp_conn_state(t, 0), sr = tcp_conn_state(t, 1);
    bool half_open =
        (so == TCP_STATE_SYN_SENT && !t->ep[1].syn_sent) || sr == TCP_STATE_SYN_RECEIVED;
    add_bool(o, "half_open", half_open);
    add_bool(o, "midstream", t->midstream);
    add_bool(o, "one_sided", c->pkts[0] == 0 || c->pkts[1] == 0);
    add_bool(o, "handshake_reordered", t->reordered);
}

void record_connection_fill(struct json_object *o, const struct conn *c, bool final,
                            const struct record_options *opt) {
    cache_attach(o);
    char uid[CONN_UID_LEN], hist[TCP_HISTORY_MAX];
    conn_uid(c, uid);
    conn_history(c, hist);
    add_str(o, "type", "connection");
    add_str(o, "uid", uid);
    add_ts(o, "ts", c->first_ns, opt);
    add_ts(o, "end_ts", c->last_ns, opt);
    add_seconds(o, "duration", c->last_ns - c->first_ns);
    add_str(o, "proto", proto_name(c->e.key.proto, c->e.key.ip_version));
    add_tuple(o, c, opt);
    add_str(o, "conn_state", zeek_conn_state_name(conn_zeek_state(c)));
    add_str(o, "history", hist);
    if (c->e.key.proto == 6) {
        fill_handshake(add_obj(o, "handshake"), &c->tcp);
        add_tcp_flags(o, c);
    }
    add_bool(o, "final", final);
    if (final)
        fill_close(add_obj(o, "close"), c);
    else
        drop(o, "close");
    fill_endpoint(add_obj(o, "orig"), c, 0);
    fill_endpoint(add_obj(o, "resp"), c, 1);
    add_u64(o, "first_frame", c->first_frame);
    add_anomalies(o, c, opt);
    if (c->anomalies && c->anomalies->overflow)
        add_u64(o, "anomalies_unlisted", c->anomalies->overflow);
    else
        drop(o, "anomalies_unlisted");
}

struct json_object *record_connection(const struct conn *c, bool final,
                                      const struct record_options *opt) {
    struct json_object *o = json_object_new_object();
    record_connection_fill(o, c, final, opt);
    return o;
}

struct json_object *record_stats(const struct live_stats *ls, const struct record_options *opt) {
    struct json_object *o = json_object_new_object();
    add_str(o, "type", "stats");
    add_ts(o, "ts", ls->wall_ns, opt);
    add_seconds(o, "uptime", (int64_t)(ls->uptime_seconds * 1e9));
    add_u64(o, "packets", ls->packets);
    add_u64(o, "bytes", ls->bytes);
    if (ls->have_capture) {
        struct json_object *cap = json_object_new_object();
        add_u64(cap, "received", ls->received);
        add_u64(cap, "dropped", ls->dropped);
        add_u64(cap, "if_dropped", ls->if_dropped);
        obj_add(o, "capture", cap);
    }
    add_u64(o, "connections_open", ls->connections_open);
    add_u64(o, "connections_reported", ls->connections_reported);
    add_u64(o, "memory_bytes", ls->memory_bytes);
    add_u64(o, "anomalies", ls->anomalies);
    add_u64(o, "records_lost", ls->records_lost);
    return o;
}

struct json_object *record_anomaly(const struct anomaly_event *ev,
                                   const struct record_options *opt) {
    struct json_object *o = json_object_new_object();
    add_str(o, "type", "anomaly");
    add_ts(o, "ts", ev->ts_ns, opt);
    add_u64(o, "frame", ev->frame);
    add_str(o, "name", anomaly_name(ev->id));
    add_str(o, "severity", anomaly_severity_name(anomaly_severity_of(ev->id)));
    add_str(o, "detail", ev->detail);
    if (!ev->key) { /* host-level: the host, how many, over how long */
        char addr[64];
        record_format_addr(addr, sizeof addr, ev->host, ev->host_version);
        add_str(o, ev->id == ANOMALY_PORT_SCAN ? "src_ip" : "dest_ip", addr);
        add_u64(o, "count", ev->count);
        add_seconds(o, "window", ev->window_ns);
        return o;
    }
    char uid[CONN_UID_LEN];
    conn_uid_make(ev->serial, ev->first_ns, ev->key, uid);
    add_str(o, "uid", uid);
    add_str(o, "proto", proto_name(ev->key->proto, ev->key->ip_version));
    uint16_t port[2] = {ev->key->port[ev->orig_side], ev->key->port[!ev->orig_side]};
    add_flow(o, ev->key, ev->orig_side, port, opt);
    add_str(o, "direction", direction_name(ev->dir));
    return o;
}

static struct json_object *connections_object(const struct conn_totals *t) {
    struct json_object *o = json_object_new_object();
    add_u64(o, "total", t->reported);
    add_u64(o, "tcp", t->tcp);
    add_u64(o, "udp", t->udp);
    add_u64(o, "icmp", t->icmp);
    struct json_object *st = json_object_new_object();
    for (unsigned i = 0; i < ZEEK_CONN_STATE_COUNT; i++)
        if (t->by_state[i])
            add_u64(st, zeek_conn_state_name((enum zeek_conn_state)i), t->by_state[i]);
    obj_add(o, "by_conn_state", st);
    struct json_object *end = json_object_new_object();
    for (unsigned i = CONN_END_OPEN + 1; i < CONN_END_COUNT; i++)
        if (t->by_end[i])
            add_u64(end, conn_end_name((enum conn_end)i), t->by_end[i]);
    obj_add(o, "by_close", end);
    add_u64(o, "peak_open", t->peak_open);
    add_u64(o, "late_packets", t->late_packets);
    add_u64(o, "untracked_packets", t->untracked_packets);
    return o;
}

/* Every anomaly occurrence of the run, by name (including those beyond the first per connection,
 * which have no event record of their own). */
static struct json_object *anomaly_totals(const struct conn_totals *t) {
    struct json_object *an = json_object_new_object();
    for (unsigned i = 0; i < ANOMALY_COUNT; i++)
        if (t->anomalies[i])
            add_u64(an, anomaly_name((enum anomaly)i), t->anomalies[i]);
    return an;
}

struct json_object *record_summary(const struct run_stats *s, const struct input_report *inputs,
                                   size_t ninputs, double run_seconds,
                                   const struct record_options *opt) {
    struct json_object *o = json_object_new_object();
    add_str(o, "type", "summary");
    add_str(o, "version", SHAKEDOWN_VERSION);
    if (s->have_ts) {
        add_ts(o, "first_ts", s->first_sec * 1000000000 + s->first_nsec, opt);
        add_ts(o, "last_ts", s->last_sec * 1000000000 + s->last_nsec, opt);
    }
    char rt[32];
    snprintf(rt, sizeof rt, "%.6f", run_seconds);
    obj_add(o, "run_seconds", json_object_new_double_s(run_seconds, rt));
    obj_add(o, "inputs", inputs_array(inputs, ninputs));
    add_u64(o, "packets", s->read.packets);
    add_u64(o, "bytes", s->read.bytes);
    add_u64(o, "filtered", s->filtered);
    add_u64(o, "analysed", s->analysed);
    add_u64(o, "checksum_dropped", s->checksum_dropped);
    add_u64(o, "decode_failed", stats_decode_error_total(s));
    add_u64(o, "truncated", s->truncated);
    add_u64(o, "tcp_options_malformed", s->tcp_options_malformed);
    add_u64(o, "timestamps_out_of_range", s->timestamps_out_of_range);
    obj_add(o, "decode_errors", decode_errors_object(s));
    obj_add(o, "protocols", protocols_object(s));
    obj_add(o, "checksums", checksums_object(s));
    obj_add(o, "connections", connections_object(&s->conns));
    obj_add(o, "anomalies", anomaly_totals(&s->conns));
    if (s->records_lost)
        add_u64(o, "records_lost", s->records_lost);
    if (s->have_capture_stats) {
        struct json_object *cap = json_object_new_object();
        add_u64(cap, "received", s->capture_received);
        add_u64(cap, "dropped", s->capture_dropped);
        add_u64(cap, "if_dropped", s->capture_if_dropped);
        obj_add(o, "capture", cap);
    }
    return o;
}
