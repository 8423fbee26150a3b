/* End-to-end tests of -F ecs (Elastic Common Schema): every document's fields outside
 * `shakedown.*` are checked against Elastic's published ECS definitions (npm @elastic/ecs,
 * tests/ecs/check_ecs.js: the field exists, has ECS's type, arrays only where ECS allows them,
 * allowed values for event.kind/category/type); the mapping is checked on captures whose facts
 * are reasoned below. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capwrite.h"
#include "format_helpers.h"
#include "pktbuild.h"
#include "run.h"
#include "samples.h"
#include "script.h"
#include "session.h"

static struct run_result run_ecs(const char *path) {
    struct run_result r = run_shakedown(NULL, (const char *[]){"-F", "ecs", "-r", path, NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    return r;
}

/* Pipes out through the ECS checker; fails the test with its list of problems. */
static void expect_ecs_fields(const char *out) {
    const char *docs = tmp_path("ecs.ndjson");
    FILE *f = fopen(docs, "w");
    cr_assert_not_null(f);
    fputs(out, f);
    fclose(f);
    char cmd[1024], result[4096] = "";
    snprintf(cmd, sizeof cmd, "node %s/tests/ecs/check_ecs.js < %s 2>&1", SHAKEDOWN_SOURCE_DIR,
             docs);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t n = fread(result, 1, sizeof result - 1, p);
    result[n] = '\0';
    int status = pclose(p);
    cr_expect_eq(status, 0, "ECS check failed (scripts/setup.sh installs the definitions):\n%s",
                 result);
    cr_expect(strncmp(result, "checked ", 8) == 0, "%s", result);
}

/* The line of out whose member path equals want (NULL if none); the caller puts it. */
static struct json_object *find_doc(const char *out, const char *path, const char *want) {
    char *copy = strdup(out), *save = NULL;
    struct json_object *found = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line && !found;
         line = strtok_r(NULL, "\n", &save)) {
        struct json_object *o = json_parse_record(line);
        cr_assert_not_null(o, "%s", line);
        const char *v = json_str_at(o, path);
        if (v && strcmp(v, want) == 0)
            found = o;
        else
            json_object_put(o);
    }
    free(copy);
    return found;
}

/* Every sample (IPv4, IPv6, VLANs, UDP, ICMP, the summary) gives ECS-valid documents. */
Test(ecs, samples_use_only_ecs_fields_with_ecs_types) {
    static const struct {
        const char *name;
        bool (*gen)(const char *);
    } samples[] = {{"multi.pcap", gen_multi},
                   {"vlan.pcap", gen_vlan},
                   {"clean6.pcap", gen_clean_ipv6},
                   {"raw.pcap", gen_raw}};
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        const char *path = tmp_path(samples[i].name);
        cr_assert(samples[i].gen(path));
        struct run_result r = run_ecs(path);
        expect_ecs_fields(r.out);
        run_result_free(&r);
    }
}

/* gen_clean_ipv4: the standard exchange, 11 frames 10 ms apart from T0 (so 100 ms: 100000000
 * ns in event.duration); the originator 192.0.2.10:49152 sent 6 packets / 440 IP bytes, the
 * responder 5 / 1268 (test_conn_record.c reasons the counts). SF: Elastic's Zeek module maps it
 * to event.type [connection, start, end]. */
Test(ecs, standard_exchange_mapping) {
    const char *path = tmp_path("clean4.pcap");
    cr_assert(gen_clean_ipv4(path));
    struct run_result r = run_ecs(path);
    struct json_object *d = find_doc(r.out, "event.dataset", "shakedown.connection");
    cr_assert_not_null(d, "%s", r.out);
    expect_str(d, "@timestamp", "2024-01-01T00:00:00.000000Z");
    expect_str(d, "event.kind", "event");
    struct json_object *type = json_at(d, "event.type");
    cr_assert(json_object_is_type(type, json_type_array));
    cr_assert_eq(json_object_array_length(type), 3);
    cr_expect_str_eq(json_object_get_string(json_object_array_get_idx(type, 0)), "connection");
    cr_expect_str_eq(json_object_get_string(json_object_array_get_idx(type, 1)), "start");
    cr_expect_str_eq(json_object_get_string(json_object_array_get_idx(type, 2)), "end");
    expect_int(d, "event.duration", 100000000);
    expect_str(d, "source.ip", "192.0.2.10");
    expect_int(d, "source.port", 49152);
    expect_int(d, "source.packets", 6);
    expect_int(d, "source.bytes", 440);
    expect_str(d, "destination.ip", "198.51.100.20");
    expect_int(d, "destination.port", 80);
    expect_int(d, "destination.packets", 5);
    expect_int(d, "destination.bytes", 1268);
    expect_int(d, "network.bytes", 1708);
    expect_str(d, "network.transport", "tcp");
    expect_str(d, "network.iana_number", "6");
    expect_str(d, "network.community_id", "1:1m1W/WLkzBYWJoj/5SpV8lAVCaE=");
    expect_str(d, "shakedown.conn_state", "SF");
    json_object_put(d);
    run_result_free(&r);
}

/* One connection of each of Zeek's 13 conn_states in one capture, 10.0.0.1:PORT → 10.0.0.2:80
 * one after the other, each scripted as test_conn_state.c and test_conn_close.c script (and
 * reason) that state. event.type is what the ingest pipeline of Elastic's Zeek integration
 * (elastic/integrations, packages/zeek, data stream connection) sets for conn_state: S0 and S1
 * [connection, start], SF [connection, start, end], REJ [connection, start, denied], and every
 * other state [connection, info]. */
static const struct {
    const char *state;
    uint16_t port;
    const char *types; /* event.type, joined by commas */
} conn_states[] = {
    {"S0", 50100, "connection,start"},     {"S1", 50101, "connection,start"},
    {"SF", 50102, "connection,start,end"}, {"REJ", 50103, "connection,start,denied"},
    {"S2", 50104, "connection,info"},      {"S3", 50105, "connection,info"},
    {"RSTO", 50106, "connection,info"},    {"RSTR", 50107, "connection,info"},
    {"RSTOS0", 50108, "connection,info"},  {"RSTRH", 50109, "connection,info"},
    {"SH", 50110, "connection,info"},      {"SHR", 50111, "connection,info"},
    {"OTH", 50112, "connection,info"},
};

/* The frames that make conn_states[i]'s connection. */
static bool script_state(struct session *s, size_t i) {
    const char *st = conn_states[i].state;
    enum session_side C = SESSION_CLIENT, S = SESSION_SERVER;
    if (!strcmp(st, "S0")) /* a SYN, no reply */
        return session_syn(s);
    if (!strcmp(st, "S1")) /* SYN, SYN/ACK */
        return session_syn(s) && session_syn_ack(s);
    if (!strcmp(st, "REJ")) /* SYN, the server's RST|ACK */
        return session_syn(s) && session_write_segment(s, S, PB_RST | PB_ACK, 0, CISN + 1, 0);
    if (!strcmp(st, "RSTOS0")) /* SYN, then the client's RST before any answer */
        return session_syn(s) && session_write_segment(s, C, PB_RST, CISN + 1, 0, 0);
    if (!strcmp(st, "RSTRH")) /* a lone RST|ACK from the server's port */
        return session_rst(s, S);
    if (!strcmp(st, "SH")) /* SYN, then the client's FIN, no reply */
        return session_syn(s) && session_write_segment(s, C, PB_FIN, CISN + 1, 0, 0);
    if (!strcmp(st, "SHR")) /* the server's SYN/ACK and FIN|ACK, nothing from the client */
        return session_write_segment(s, S, PB_SYN | PB_ACK, SISN, CISN + 1, 0) &&
               session_write_segment(s, S, PB_FIN | PB_ACK, SISN + 1, CISN + 1, 0);
    if (!strcmp(st, "OTH")) /* a lone data segment, mid-stream */
        return session_data(s, C, 10);
    bool ok = session_handshake(s) && session_data(s, C, 100); /* established, data */
    if (!strcmp(st, "RSTR"))
        return ok && session_rst(s, S);
    ok = ok && session_ack(s, S);
    if (!strcmp(st, "RSTO"))
        return ok && session_rst(s, C);
    if (!strcmp(st, "SF"))
        return ok && session_close(s, C);
    ok = ok && session_data(s, S, 200) && session_ack(s, C);
    if (!strcmp(st, "S2")) /* the client's FIN, unanswered */
        return ok && session_segment(s, C, PB_FIN | PB_ACK, 0);
    /* S3: the server's FIN, acknowledged, no FIN from the client */
    return ok && session_segment(s, S, PB_FIN | PB_ACK, 0) && session_ack(s, C);
}

/* event.type as one string, its members joined by commas. */
static void joined(struct json_object *array, char *out, size_t len) {
    out[0] = '\0';
    for (size_t k = 0; array && k < json_object_array_length(array); k++) {
        size_t used = strlen(out);
        snprintf(out + used, len - used, "%s%s", k ? "," : "",
                 json_object_get_string(json_object_array_get_idx(array, k)));
    }
}

Test(ecs, event_type_of_every_conn_state_as_elastic_maps_it) {
    struct cap c;
    size_t n = sizeof conn_states / sizeof conn_states[0];
    cap_open(&c, "states.pcap");
    for (size_t i = 0; i < n; i++) {
        struct session s;
        struct pb_frame tmpl = pb_tcp4();
        tmpl.sport = conn_states[i].port;
        tmpl.dport = strcmp(conn_states[i].state, "OTH") ? 80 : 443;
        session_init(&s, c.w, &c.clock, &tmpl, CISN, SISN);
        cr_assert(script_state(&s, i), "%s", conn_states[i].state);
    }
    cap_close(&c);
    struct run_result r = run_ecs(c.path);
    for (size_t i = 0; i < n; i++) {
        struct json_object *d = find_doc(r.out, "shakedown.conn_state", conn_states[i].state);
        cr_assert_not_null(d, "no %s connection:\n%s", conn_states[i].state, r.out);
        char types[128];
        joined(json_at(d, "event.type"), types, sizeof types);
        cr_expect_str_eq(types, conn_states[i].types, "%s: event.type [%s], want [%s]",
                         conn_states[i].state, types, conn_states[i].types);
        expect_int(d, "source.port", conn_states[i].port);
        json_object_put(d);
    }
    expect_ecs_fields(r.out);
    run_result_free(&r);
}

/* format_helpers.c's capture: the endpoints' metrics under shakedown.orig_metrics and
 * shakedown.resp_metrics, as -F json has them under orig.metrics and resp.metrics. */
Test(ecs, connection_carries_endpoint_metrics) {
    struct run_result r = run_ecs(metrics_capture());
    struct json_object *d = find_doc(r.out, "event.dataset", "shakedown.connection");
    cr_assert_not_null(d, "%s", r.out);
    expect_capture_metrics(d, "shakedown.orig_metrics", "shakedown.resp_metrics");
    json_object_put(d);
    expect_ecs_fields(r.out);
    run_result_free(&r);
}

/* format_helpers.c's datagram capture: each UDP and ICMP connection document carries its payload
 * bytes under shakedown.orig_payload_bytes and shakedown.resp_payload_bytes, as -F json's
 * orig.payload_bytes and resp.payload_bytes (the lone datagram too: 50 and 0). */
Test(ecs, udp_and_icmp_connections_carry_payload_bytes) {
    struct run_result r = run_ecs(datagram_capture());
    expect_datagram_payload(r.out, "destination.ip", "shakedown.orig_payload_bytes",
                            "shakedown.resp_payload_bytes", false);
    expect_ecs_fields(r.out);
    run_result_free(&r);
}

/* A SYN answered by the server's RST/ACK: Zeek's REJ, which Elastic's Zeek module maps to
 * [connection, start, denied]. */
Test(ecs, rejected_connection_is_denied) {
    struct cap c;
    struct session s;
    cap_open(&c, "rej.pcap");
    struct pb_frame tmpl = pb_tcp4();
    tmpl.sport = 51000;
    tmpl.dport = 81;
    session_init(&s, c.w, &c.clock, &tmpl, CISN, SISN);
    cr_assert(session_syn(&s));
    cr_assert(session_rst(&s, SESSION_SERVER));
    cap_close(&c);
    struct run_result r = run_ecs(c.path);
    struct json_object *d = find_doc(r.out, "shakedown.conn_state", "REJ");
    cr_assert_not_null(d, "%s", r.out);
    struct json_object *type = json_at(d, "event.type");
    cr_assert_eq(json_object_array_length(type), 3);
    cr_expect_str_eq(json_object_get_string(json_object_array_get_idx(type, 2)), "denied");
    json_object_put(d);
    expect_ecs_fields(r.out);
    run_result_free(&r);
}

/* 1..3 handshake, 4 a segment with no flag at all from the client (invalid_flags), 5..8 close:
 * an alert whose rule.name is the anomaly and whose event.severity is the catalog's severity
 * as a number (info 1 … high 4: the -F json anomaly record gives the name). */
Test(ecs, anomaly_is_an_alert) {
    struct cap c;
    struct session s;
    cap_open(&c, "null-flags.pcap");
    struct pb_frame tmpl = pb_tcp4();
    tmpl.sport = 51070;
    tmpl.dport = 80;
    session_init(&s, c.w, &c.clock, &tmpl, CISN, SISN);
    cr_assert(session_handshake(&s));
    cr_assert(session_write_segment(&s, SESSION_CLIENT, 0, s.snd_nxt[SESSION_CLIENT], 0, 0));
    cr_assert(session_close(&s, SESSION_CLIENT));
    cap_close(&c);
    struct run_result r = run_ecs(c.path), j = run_json(c.path, NULL);
    struct json_object *a = find_doc(r.out, "event.kind", "alert");
    struct json_object *ja = find_doc(j.out, "type", "anomaly");
    cr_assert_not_null(a, "%s", r.out);
    cr_assert_not_null(ja, "%s", j.out);
    expect_str(a, "rule.name", "invalid_flags");
    static const char *const severities[] = {"info", "low", "medium", "high"};
    int64_t want = 0;
    for (int i = 0; i < 4; i++)
        if (strcmp(json_str_or(ja, "severity"), severities[i]) == 0)
            want = i + 1;
    cr_assert_gt(want, 0);
    expect_int(a, "event.severity", want);
    expect_str(a, "source.ip", json_str_or(ja, "src_ip"));
    expect_str(a, "message", json_str_or(ja, "detail"));
    expect_str(a, "shakedown.uid", json_str_or(ja, "uid"));
    expect_ecs_fields(r.out);
    json_object_put(a);
    json_object_put(ja);
    run_result_free(&r);
    run_result_free(&j);
}
