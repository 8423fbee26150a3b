/* record: the JSON schema of shakedown's records, built with json-c. Field names are part of
 * the interface (docs/shakedown.1 lists them); counters are JSON integers. */
#include "record.h"

#include "packet.h"
#include "timefmt.h"

#ifndef SHAKEDOWN_VERSION
#define SHAKEDOWN_VERSION "unknown"
#endif

static void add_u64(struct json_object *o, const char *key, uint64_t v) {
    json_object_object_add(o, key, json_object_new_uint64(v));
}

static void add_str(struct json_object *o, const char *key, const char *v) {
    json_object_object_add(o, key, json_object_new_string(v));
}

static void add_counter(struct json_object *o, const char *key, const struct counter *c) {
    if (c->packets == 0)
        return;
    struct json_object *v = json_object_new_object();
    add_u64(v, "packets", c->packets);
    add_u64(v, "bytes", c->bytes);
    json_object_object_add(o, key, v);
}

static struct json_object *inputs_array(const struct input_report *in, size_t n) {
    struct json_object *a = json_object_new_array_ext((int)n);
    for (size_t i = 0; i < n; i++) {
        struct json_object *o = json_object_new_object();
        add_str(o, "file", in[i].path);
        if (in[i].link >= 0)
            add_str(o, "link_type", in[i].link_name);
        add_u64(o, "packets", in[i].packets);
        add_str(o, "status", input_status_name(in[i].status));
        if (in[i].status != INPUT_OK)
            add_str(o, "error", in[i].message);
        json_object_array_add(a, o);
    }
    return a;
}

static struct json_object *protocols_object(const struct run_stats *s) {
    struct json_object *proto = json_object_new_object();
    struct json_object *link = json_object_new_object();
    for (unsigned i = 0; i < s->nlinks; i++) {
        const char *name = link_type_name(s->link[i].link);
        add_counter(link, name ? name : "unsupported", &s->link[i].count);
    }
    add_counter(link, "unsupported", &s->link_other);
    struct json_object *net = json_object_new_object();
    for (unsigned i = NET_NONE + 1; i < NET_COUNT; i++)
        add_counter(net, net_proto_name((enum net_proto)i), &s->net[i]);
    struct json_object *tr = json_object_new_object();
    for (unsigned i = TRANSPORT_NONE + 1; i < TRANSPORT_COUNT; i++)
        add_counter(tr, transport_proto_name((enum transport_proto)i), &s->transport[i]);
    json_object_object_add(proto, "link", link);
    json_object_object_add(proto, "network", net);
    json_object_object_add(proto, "transport", tr);
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
        json_object_object_add(o, checksum_layer_name((enum checksum_layer)i), v);
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

struct json_object *record_summary(const struct run_stats *s, const struct input_report *inputs,
                                   size_t ninputs) {
    struct json_object *o = json_object_new_object();
    add_str(o, "type", "summary");
    add_str(o, "version", SHAKEDOWN_VERSION);
    if (s->have_ts) {
        char ts[TIMEFMT_ISO_LEN];
        timefmt_iso8601(ts, sizeof ts, s->first_sec, s->first_nsec);
        add_str(o, "first_ts", ts);
        timefmt_iso8601(ts, sizeof ts, s->last_sec, s->last_nsec);
        add_str(o, "last_ts", ts);
    }
    json_object_object_add(o, "inputs", inputs_array(inputs, ninputs));
    add_u64(o, "packets", s->read.packets);
    add_u64(o, "bytes", s->read.bytes);
    add_u64(o, "filtered", s->filtered);
    add_u64(o, "analysed", s->analysed);
    add_u64(o, "checksum_dropped", s->checksum_dropped);
    add_u64(o, "decode_failed", stats_decode_error_total(s));
    add_u64(o, "truncated", s->truncated);
    add_u64(o, "tcp_options_malformed", s->tcp_options_malformed);
    json_object_object_add(o, "decode_errors", decode_errors_object(s));
    json_object_object_add(o, "protocols", protocols_object(s));
    json_object_object_add(o, "checksums", checksums_object(s));
    return o;
}
