/* End-to-end tests of -F eve (Suricata's EVE JSON): every line strict JSON; a connection is a
 * "flow" event with Suricata's fields, reasoned from the capture or taken from the -F json record
 * of the same connection (the reference, checked against captures elsewhere); anomalies are
 * "anomaly" events carrying the flow_id of their flow; the run ends with a "stats" event holding
 * shakedown's summary. */
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

/* Parses every line of out (strictly; each must be an object) into recs; returns how many. */
static int parse_lines(char *out, struct json_object **recs, int max) {
    int n = 0;
    char *save = NULL;
    for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        struct json_tokener *tok = json_tokener_new();
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        struct json_object *o = json_tokener_parse_ex(tok, line, (int)strlen(line));
        cr_assert(o && json_object_is_type(o, json_type_object), "not a JSON object: %s", line);
        json_tokener_free(tok);
        cr_assert_lt(n, max);
        recs[n++] = o;
    }
    return n;
}

static struct run_result run_eve(const char *path) {
    struct run_result r = run_shakedown(NULL, (const char *[]){"-F", "eve", "-r", path, NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    return r;
}

/* gen_clean_ipv4: 192.0.2.10:49152 → 198.51.100.20:80, 11 frames 10 ms apart from
 * 2024-01-01T00:00:00Z, the standard exchange (counts as test_conn_record.c reasons them: 6 / 440
 * to the server, 5 / 1268 back). Both sides send SYN (0x02), ACK (0x10), data with PSH (0x08) and
 * a FIN (0x01): 0x1b each way, no RST, so no "rst" member. The client closes first and ends in
 * TIME_WAIT (Suricata's "time_wait"); the flow closed by FIN is "closed", and Suricata would
 * log it when it times out ("timeout"). */
Test(eve, standard_exchange_flow_event) {
    const char *path = tmp_path("clean4.pcap");
    cr_assert(gen_clean_ipv4(path));
    struct run_result r = run_eve(path);
    struct json_object *recs[8];
    int n = parse_lines(r.out, recs, 8);
    cr_assert_eq(n, 2, "one flow event and the closing stats event");
    struct json_object *f = recs[0];
    expect_str(f, "event_type", "flow");
    expect_str(f, "timestamp", "2024-01-01T00:00:00.000000+0000");
    expect_str(f, "src_ip", "192.0.2.10");
    expect_int(f, "src_port", 49152);
    expect_str(f, "dest_ip", "198.51.100.20");
    expect_int(f, "dest_port", 80);
    expect_str(f, "proto", "TCP");
    expect_int(f, "ip_v", 4);
    expect_str(f, "community_id", "1:1m1W/WLkzBYWJoj/5SpV8lAVCaE=");
    expect_int(f, "flow.pkts_toserver", 6);
    expect_int(f, "flow.bytes_toserver", 440);
    expect_int(f, "flow.pkts_toclient", 5);
    expect_int(f, "flow.bytes_toclient", 1268);
    expect_str(f, "flow.start", "2024-01-01T00:00:00.000000+0000");
    expect_str(f, "flow.end", "2024-01-01T00:00:00.100000+0000");
    expect_int(f, "flow.age", 0);
    expect_str(f, "flow.state", "closed");
    expect_str(f, "flow.reason", "timeout");
    expect_str(f, "tcp.tcp_flags", "1b");
    expect_str(f, "tcp.tcp_flags_ts", "1b");
    expect_str(f, "tcp.tcp_flags_tc", "1b");
    cr_expect(json_object_get_boolean(json_at(f, "tcp.syn")));
    cr_expect(json_object_get_boolean(json_at(f, "tcp.fin")));
    cr_expect_null(json_at(f, "tcp.rst"), "no RST was sent");
    expect_str(f, "tcp.state", "time_wait");
    expect_str(f, "shakedown.conn_state", "SF");
    expect_str(f, "shakedown.history", "ShADadFf");
    cr_expect(json_object_is_type(json_at(f, "flow_id"), json_type_int));
    struct json_object *s = recs[1];
    expect_str(s, "event_type", "stats");
    expect_str(s, "shakedown.type", "summary");
    expect_int(s, "stats.decoder.pkts", 11);
    expect_int(s, "shakedown.packets", 11);
    expect_int(s, "stats.flow.tcp", 1);
    for (int i = 0; i < n; i++)
        json_object_put(recs[i]);
    run_result_free(&r);
}

/* Every connection of a mixed sample: the flow event and the -F json record of the same
 * connection (same order) agree on the tuple, counts and Community ID; ICMP has type/code
 * instead of ports, as EVE writes it. */
Test(eve, flow_events_match_json_records) {
    const char *path = tmp_path("multi.pcap");
    cr_assert(gen_multi(path));
    struct run_result e = run_eve(path), j = run_json(path, NULL);
    struct json_object *ev[64], *js[64];
    int ne = parse_lines(e.out, ev, 64), nj = parse_lines(j.out, js, 64), k = 0;
    for (int i = 0; i < nj; i++) {
        if (strcmp(json_str_or(js[i], "type"), "connection") != 0)
            continue;
        while (k < ne && strcmp(json_str_or(ev[k], "event_type"), "flow") != 0)
            k++;
        cr_assert_lt(k, ne, "fewer flow events than connection records");
        struct json_object *f = ev[k++], *c = js[i];
        bool icmp = strncmp(json_str_or(c, "proto"), "icmp", 4) == 0;
        expect_str(f, "shakedown.uid", json_str_or(c, "uid"));
        expect_str(f, "src_ip", json_str_or(c, "src_ip"));
        expect_int(f, icmp ? "icmp_type" : "src_port", json_int_at(c, "src_port"));
        expect_str(f, "dest_ip", json_str_or(c, "dest_ip"));
        expect_int(f, icmp ? "icmp_code" : "dest_port", json_int_at(c, "dest_port"));
        expect_str(f, "community_id", json_str_or(c, "community_id"));
        expect_int(f, "flow.pkts_toserver", json_int_at(c, "orig.pkts"));
        expect_int(f, "flow.pkts_toclient", json_int_at(c, "resp.pkts"));
        expect_int(f, "flow.bytes_toserver", json_int_at(c, "orig.bytes"));
        expect_int(f, "flow.bytes_toclient", json_int_at(c, "resp.bytes"));
        expect_str(f, "shakedown.conn_state", json_str_or(c, "conn_state"));
    }
    cr_expect_gt(k, 0);
    for (int i = 0; i < ne; i++)
        json_object_put(ev[i]);
    for (int i = 0; i < nj; i++)
        json_object_put(js[i]);
    run_result_free(&e);
    run_result_free(&j);
}

/* 1..3 handshake, 4 a segment from the client with no flag at all (a NULL-scan probe: the
 * catalog's invalid_flags, from the originator), 5..8 client-initiated close. The anomaly event
 * carries the flow_id of the connection's flow event, type "stream" and shakedown's name. */
Test(eve, anomaly_event_names_its_flow) {
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
    struct run_result r = run_eve(c.path);
    struct json_object *recs[8], *flow = NULL, *anomaly = NULL;
    int n = parse_lines(r.out, recs, 8);
    for (int i = 0; i < n; i++) {
        const char *t = json_str_or(recs[i], "event_type");
        if (strcmp(t, "flow") == 0)
            flow = recs[i];
        else if (strcmp(t, "anomaly") == 0)
            anomaly = recs[i];
    }
    cr_assert_not_null(flow);
    cr_assert_not_null(anomaly);
    expect_str(anomaly, "anomaly.type", "stream");
    expect_str(anomaly, "anomaly.event", "invalid_flags");
    expect_str(anomaly, "shakedown.direction", "orig");
    expect_int(anomaly, "flow_id", json_int_at(flow, "flow_id"));
    expect_str(anomaly, "shakedown.uid", json_str_or(flow, "shakedown.uid"));
    expect_str(anomaly, "src_ip", json_str_or(flow, "src_ip"));
    expect_int(anomaly, "src_port", 51070);
    /* frame 4, 10 ms apart from T0 */
    expect_str(anomaly, "timestamp", "2024-01-01T00:00:00.030000+0000");
    for (int i = 0; i < n; i++)
        json_object_put(recs[i]);
    run_result_free(&r);
}

/* format_helpers.c's capture: the endpoints' metrics under shakedown.orig_metrics and
 * shakedown.resp_metrics of the flow event, as -F json has them under orig.metrics and
 * resp.metrics. */
Test(eve, flow_carries_endpoint_metrics) {
    struct run_result r = run_eve(metrics_capture());
    struct json_object *recs[8];
    int n = parse_lines(r.out, recs, 8);
    cr_assert_eq(n, 2, "one flow event and the closing stats event");
    expect_str(recs[0], "event_type", "flow");
    expect_capture_metrics(recs[0], "shakedown.orig_metrics", "shakedown.resp_metrics");
    for (int i = 0; i < n; i++)
        json_object_put(recs[i]);
    run_result_free(&r);
}

/* format_helpers.c's datagram capture: each UDP and ICMP flow event carries its payload bytes
 * under shakedown.orig_payload_bytes and shakedown.resp_payload_bytes, as -F json's
 * orig.payload_bytes and resp.payload_bytes (the lone datagram too: 50 and 0); flow.bytes_* stay
 * IP bytes, as Suricata counts them (not checked here). */
Test(eve, udp_and_icmp_flows_carry_payload_bytes) {
    struct run_result r = run_eve(datagram_capture());
    expect_datagram_payload(r.out, "dest_ip", "shakedown.orig_payload_bytes",
                            "shakedown.resp_payload_bytes", false);
    run_result_free(&r);
}
