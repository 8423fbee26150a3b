/* End-to-end tests of -F zeek and -F zeek-json (Zeek's conn.log): the TSV log is read back with
 * bro-cut (Debian bro-aux), the reader Zeek users run, and the JSON form must hold exactly what
 * bro-cut reads from the TSV form, column by column; every row
 * must carry the same facts as the connection record shakedown writes with -F json for the same
 * capture, in Zeek's columns, types and unset conventions. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format_helpers.h"
#include "run.h"
#include "samples.h"

/* Zeek's own columns, names and types, as scripts/base/protocols/conn/main.zeek logs them
 * (recent Zeek adds ip_proto; the community-id policy script adds community_id). */
static const char zeek_fields[] =
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\t"
    "orig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\t"
    "orig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\tip_proto\tcommunity_id\t";
static const char zeek_types[] = "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\t"
                                 "interval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\t"
                                 "count\tcount\tcount\tcount\tset[string]\tcount\tstring\t";

/* Writes out to a file and runs bro-cut with the given columns on it; returns its output. */
static char *bro_cut(const char *log, const char *columns) {
    const char *path = tmp_path("conn.log");
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(log, f);
    fclose(f);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "bro-cut %s < %s", columns, path);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    size_t n;
    while ((n = fread(out + len, 1, cap - len - 1, p)) > 0)
        len += n;
    out[len] = '\0';
    cr_assert_eq(pclose(p), 0, "bro-cut failed (is bro-aux installed? scripts/setup.sh does)");
    return out;
}

/* gen_clean_ipv4: 192.0.2.10:49152 → 198.51.100.20:80, the standard exchange: 11 frames 10 ms
 * apart from 2024-01-01T00:00:00Z (so ts 1704067200.000000, duration 0.100000); orig 6 packets,
 * 440 IP bytes, 120 payload bytes; resp 5, 1268, 1000 (test_conn_record.c reasons the same
 * counts frame by frame); closed by the originator's FIN first: SF ShADadFf, TIME_WAIT / CLOSED.
 * Community ID as test_conn_record.c computes it. No service analysis, no Site::local_nets, no
 * tunnel: those columns are unset ("-"); no anomaly: the set is "(empty)". */
Test(zeek, standard_exchange_read_back_with_bro_cut) {
    const char *path = tmp_path("clean4.pcap");
    cr_assert(gen_clean_ipv4(path));
    struct run_result r = run_shakedown(NULL, (const char *[]){"-F", "zeek", "-r", path, NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    char *row = bro_cut(r.out, "ts id.orig_h id.orig_p id.resp_h id.resp_p proto service "
                               "duration orig_bytes resp_bytes conn_state local_orig local_resp "
                               "missed_bytes history orig_pkts orig_ip_bytes resp_pkts "
                               "resp_ip_bytes tunnel_parents ip_proto community_id orig_state "
                               "resp_state close close_initiator anomalies");
    cr_expect_str_eq(row, "1704067200.000000\t192.0.2.10\t49152\t198.51.100.20\t80\ttcp\t-\t"
                          "0.100000\t120\t1000\tSF\t-\t-\t0\tShADadFf\t6\t440\t5\t1268\t-\t6\t"
                          "1:1m1W/WLkzBYWJoj/5SpV8lAVCaE=\tTIME_WAIT\tCLOSED\tfin\torig\t"
                          "(empty)\n");
    free(row);
    cr_expect(strstr(r.out, zeek_fields) != NULL, "#fields is not Zeek's:\n%s", r.out);
    cr_expect(strstr(r.out, zeek_types) != NULL, "#types is not Zeek's:\n%s", r.out);
    cr_expect(strncmp(r.out,
                      "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n"
                      "#unset_field\t-\n#path\tconn\n#open\t",
                      80) == 0,
              "%s", r.out);
    /* the log ends with #close once the run is over */
    const char *last = strrchr(r.out, '#');
    cr_expect(last && strncmp(last, "#close\t", 7) == 0, "%s", r.out);
    run_result_free(&r);
}

/* format_helpers.c's datagram capture, whose frames and counts it works out: Zeek's orig_bytes and
 * resp_bytes of UDP and ICMP are the datagrams' payload (Zeek's UDP and ICMP session adapters add
 * up the UDP length, or the ICMP message length, less the 8-byte header), set only when the
 * duration is positive (conn/main.zeek), as for TCP: the lone datagram has them unset. ICMP's
 * history is unset (Zeek's ICMP analyzer records none), UDP's is D/d, ICMPv6 is proto "icmp"
 * with ip_proto 58. UDP's conn_state is SF both ways, S0 one way; ICMP's OTH. The same payload
 * bytes are the -F json record's orig.payload_bytes and resp.payload_bytes, and -F zeek-json's
 * orig_bytes and resp_bytes (left out for the lone datagram). */
Test(zeek, udp_and_icmp_payload_bytes_read_back_with_bro_cut) {
    const char *path = datagram_capture();
    struct run_result r = run_shakedown(NULL, (const char *[]){"-F", "zeek", "-r", path, NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    char *rows = bro_cut(r.out, "id.orig_h id.orig_p id.resp_h id.resp_p proto duration "
                                "orig_bytes resp_bytes conn_state history orig_pkts "
                                "orig_ip_bytes resp_pkts resp_ip_bytes ip_proto");
    static const char *const want[] = {
        "10.0.0.1\t40000\t10.0.0.2\t53\tudp\t0.040000\t125\t307\tSF\tDd\t3\t209\t2\t363\t17\n",
        "10.0.0.1\t8\t10.0.0.3\t0\ticmp\t0.020000\t112\t56\tOTH\t-\t2\t168\t1\t84\t1\n",
        "2001:db8::1\t128\t2001:db8::2\t0\ticmp\t0.010000\t32\t32\tOTH\t-\t1\t80\t1\t80\t58\n",
        "10.0.0.1\t40001\t10.0.0.4\t514\tudp\t-\t-\t-\tS0\tD\t1\t78\t0\t0\t17\n",
    };
    cr_expect_eq(count_lines(rows), 4, "%s", rows);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        cr_expect(strstr(rows, want[i]) != NULL, "no row %s in:\n%s", want[i], rows);
    free(rows);
    run_result_free(&r);

    r = run_json(path, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    expect_datagram_payload(r.out, "dest_ip", "orig.payload_bytes", "resp.payload_bytes", false);
    run_result_free(&r);
    r = run_shakedown(NULL, (const char *[]){"-F", "zeek-json", "-r", path, NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    expect_datagram_payload(r.out, "id.resp_h", "orig_bytes", "resp_bytes", true);
    run_result_free(&r);
}

/* Every connection of every sample: the bro-cut row equals the -F json record of the same
 * connection (the JSON record is the reference: it is checked against the capture elsewhere),
 * but for an ICMP row's history, which Zeek leaves unset. */
static void compare_sample(const char *name, bool (*gen)(const char *)) {
    const char *path = tmp_path(name);
    cr_assert(gen(path));
    struct run_result js = run_json(path, NULL);
    struct run_result zk = run_shakedown(NULL, (const char *[]){"-F", "zeek", "-r", path, NULL});
    cr_assert_eq(zk.status, 0, "%s", zk.err);
    char *rows = bro_cut(zk.out, "uid id.orig_h id.orig_p id.resp_h id.resp_p conn_state "
                                 "history orig_pkts orig_ip_bytes resp_pkts resp_ip_bytes "
                                 "community_id close ts");
    char *save = NULL, *line = strtok_r(rows, "\n", &save);
    char *jsave = NULL, *jline = strtok_r(js.out, "\n", &jsave);
    int n = 0;
    for (; jline; jline = strtok_r(NULL, "\n", &jsave)) {
        struct json_object *o = json_parse_record(jline);
        cr_assert_not_null(o);
        if (strcmp(json_str_or(o, "type"), "connection") != 0) {
            json_object_put(o);
            continue;
        }
        cr_assert_not_null(line, "%s: fewer zeek rows than connection records", name);
        const char *history = json_str_at(o, "history");
        if (!history || !*history || strncmp(json_str_or(o, "proto"), "icmp", 4) == 0)
            history = "-";
        char want[1024];
        snprintf(
            want, sizeof want, "%s\t%s\t%lld\t%s\t%lld\t%s\t%s\t%lld\t%lld\t%lld\t%lld\t%s\t%s\t%s",
            json_str_or(o, "uid"), json_str_or(o, "src_ip"), (long long)json_int_at(o, "src_port"),
            json_str_or(o, "dest_ip"), (long long)json_int_at(o, "dest_port"),
            json_str_or(o, "conn_state"), history, (long long)json_int_at(o, "orig.pkts"),
            (long long)json_int_at(o, "orig.bytes"), (long long)json_int_at(o, "resp.pkts"),
            (long long)json_int_at(o, "resp.bytes"), json_str_or(o, "community_id"),
            json_str_or(o, "close.how"), json_object_to_json_string(json_at(o, "ts")));
        cr_expect_str_eq(line, want, "%s", name);
        json_object_put(o);
        line = strtok_r(NULL, "\n", &save);
        n++;
    }
    cr_expect_null(line, "%s: more zeek rows than connection records", name);
    cr_expect_gt(n, 0);
    free(rows);
    run_result_free(&js);
    run_result_free(&zk);
}

Test(zeek, every_sample_row_equals_its_json_record) {
    compare_sample("multi.pcap", gen_multi);
    compare_sample("raw.pcap", gen_raw);
    compare_sample("vlan.pcap", gen_vlan);
    compare_sample("clean6.pcap", gen_clean_ipv6);
}

/* zeek-json: one object per connection, Zeek's flat keys, unset columns left out (service,
 * local_orig, tunnel_parents), the anomaly set an array; the same facts as the JSON record. */
Test(zeek, zeek_json_keys_and_unset_fields) {
    const char *path = tmp_path("multi.pcap");
    cr_assert(gen_multi(path));
    struct run_result js = run_json(path, NULL);
    struct run_result zk =
        run_shakedown(NULL, (const char *[]){"-F", "zeek-json", "-r", path, NULL});
    cr_assert_eq(zk.status, 0, "%s", zk.err);
    int conns = 0;
    for (char *s = js.out; (s = strstr(s, "\"type\":\"connection\"")); s++)
        conns++;
    cr_expect_eq(count_lines(zk.out), conns, "one line per connection, nothing else");
    char *save = NULL;
    for (char *line = strtok_r(zk.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        struct json_object *o = json_parse_record(line), *v;
        cr_assert_not_null(o, "%s", line);
        cr_expect(json_object_object_get_ex(o, "id.orig_h", &v), "%s", line);
        cr_expect(json_object_object_get_ex(o, "uid", &v), "%s", line);
        cr_expect(!json_object_object_get_ex(o, "service", &v), "unset: %s", line);
        cr_expect(!json_object_object_get_ex(o, "local_orig", &v), "unset: %s", line);
        cr_expect(!json_object_object_get_ex(o, "tunnel_parents", &v), "unset: %s", line);
        cr_assert(json_object_object_get_ex(o, "anomalies", &v), "%s", line);
        cr_expect(json_object_is_type(v, json_type_array), "%s", line);
        cr_assert(json_object_object_get_ex(o, "orig_pkts", &v), "%s", line);
        cr_expect(json_object_is_type(v, json_type_int), "%s", line);
        json_object_put(o);
    }
    run_result_free(&js);
    run_result_free(&zk);
}

/* The tab-separated fields of line (modified in place) into v[0..max); returns how many. */
static int split_tabs(char *line, char **v, int max) {
    int n = 0;
    for (char *f = line; f && n < max; n++) {
        v[n] = f;
        f = strchr(f, '\t');
        if (f)
            *f++ = '\0';
    }
    return n;
}

/* One value of a conn.log row as bro-cut printed it, of Zeek type `type`, against the zeek-json
 * object's member `name`: Zeek's JSON writer leaves an unset value ("-") out, writes a set as an
 * array ("(empty)": none), a count or port as an integer, a time or interval as a number, a bool
 * as true/false and the rest as strings. */
static void expect_same_value(struct json_object *o, const char *name, const char *type,
                              const char *tsv, const char *uid) {
    struct json_object *v = NULL;
    bool present = json_object_object_get_ex(o, name, &v);
    if (strcmp(tsv, "-") == 0) {
        cr_expect(!present, "%s %s: unset in conn.log, %s in zeek-json", uid, name,
                  json_object_to_json_string(v));
        return;
    }
    cr_assert(present, "%s %s: %s in conn.log, absent in zeek-json", uid, name, tsv);
    if (strncmp(type, "set[", 4) == 0 || strncmp(type, "vector[", 7) == 0) {
        cr_assert(json_object_is_type(v, json_type_array), "%s %s", uid, name);
        char joined[1024] = "";
        size_t n = json_object_array_length(v);
        for (size_t i = 0; i < n; i++)
            snprintf(joined + strlen(joined), sizeof joined - strlen(joined), "%s%s", i ? "," : "",
                     json_object_get_string(json_object_array_get_idx(v, i)));
        cr_expect_str_eq(n ? joined : "(empty)", tsv, "%s %s", uid, name);
    } else if (!strcmp(type, "count") || !strcmp(type, "port") || !strcmp(type, "int")) {
        cr_expect(json_object_is_type(v, json_type_int), "%s %s", uid, name);
        cr_expect_eq(json_object_get_int64(v), strtoll(tsv, NULL, 10), "%s %s: %s", uid, name, tsv);
    } else if (!strcmp(type, "time") || !strcmp(type, "interval") || !strcmp(type, "double")) {
        double d = json_object_get_double(v) - strtod(tsv, NULL);
        cr_expect(d > -1e-6 && d < 1e-6, "%s %s: %s vs %s", uid, name, tsv,
                  json_object_to_json_string(v));
    } else if (!strcmp(type, "bool")) {
        cr_expect(json_object_is_type(v, json_type_boolean), "%s %s", uid, name);
        cr_expect_eq(json_object_get_boolean(v), strcmp(tsv, "T") == 0, "%s %s", uid, name);
    } else {
        cr_expect_str_eq(json_object_get_string(v), tsv, "%s %s", uid, name);
    }
}

/* zeek-json against the reader: every column of every conn.log row, as bro-cut reads it, equals
 * the same connection's zeek-json member (Zeek itself, whose JSON writer is the reference, is not
 * packaged in Debian 12; its TSV reader is, so the JSON form is held to what it reads). Names and
 * types come from the log's own #fields and #types lines. */
static void compare_json_to_tsv(const char *name, bool (*gen)(const char *)) {
    const char *path = tmp_path(name);
    cr_assert(gen(path));
    struct run_result zk = run_shakedown(NULL, (const char *[]){"-F", "zeek", "-r", path, NULL});
    struct run_result zj =
        run_shakedown(NULL, (const char *[]){"-F", "zeek-json", "-r", path, NULL});
    cr_assert_eq(zk.status, 0, "%s", zk.err);
    cr_assert_eq(zj.status, 0, "%s", zj.err);
    enum { COLS = 64 };
    char *names[COLS], *types[COLS];
    char *fields = strdup(strstr(zk.out, "#fields\t") + 8),
         *typel = strdup(strstr(zk.out, "#types\t") + 7);
    *strchr(fields, '\n') = '\0';
    *strchr(typel, '\n') = '\0';
    int ncols = split_tabs(fields, names, COLS);
    cr_assert_eq(split_tabs(typel, types, COLS), ncols);
    char *rows = bro_cut(zk.out, ""); /* every column, in the log's order */
    int n = 0;
    char *save = NULL, *jsave = NULL;
    char *jline = strtok_r(zj.out, "\n", &jsave);
    for (char *row = strtok_r(rows, "\n", &save); row; row = strtok_r(NULL, "\n", &save), n++) {
        cr_assert_not_null(jline, "%s: fewer zeek-json lines than conn.log rows", name);
        char *v[COLS];
        cr_assert_eq(split_tabs(row, v, COLS), ncols, "%s: a row of %d columns", name, ncols);
        struct json_object *o = json_parse_record(jline);
        cr_expect_str_eq(json_str_or(o, "uid"), v[1], "%s: rows in the same order", name);
        for (int i = 0; i < ncols; i++)
            expect_same_value(o, names[i], types[i], v[i], v[1]);
        json_object_put(o);
        jline = strtok_r(NULL, "\n", &jsave);
    }
    cr_expect_null(jline, "%s: more zeek-json lines than conn.log rows", name);
    cr_expect_gt(n, 0);
    free(fields);
    free(typel);
    free(rows);
    run_result_free(&zk);
    run_result_free(&zj);
}

Test(zeek, zeek_json_equals_what_bro_cut_reads) {
    compare_json_to_tsv("multi.pcap", gen_multi);
    compare_json_to_tsv("vlan.pcap", gen_vlan);
    compare_json_to_tsv("clean6.pcap", gen_clean_ipv6);
}
