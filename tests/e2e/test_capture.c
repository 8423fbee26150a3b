/* End-to-end tests of the capture front-end and the decode summary: the real binary on captures
 * the generator writes (tests/gen), checking the JSON summary, stderr and the exit status. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capwrite.h"
#include "pktbuild.h"
#include "run.h"
#include "samples.h"

/* Writes a sample with its generator into the temp directory and returns its path (static
 * storage: each test uses at most a few). */
static const char *sample(bool (*gen)(const char *), const char *name) {
    static char paths[4][256];
    static unsigned next;
    char *p = paths[next++ % 4];
    snprintf(p, sizeof paths[0], "%s", tmp_path(name));
    cr_assert(gen(p), "generator failed for %s", name);
    return p;
}

/* Runs shakedown -F json on args and returns the parsed summary; asserts the exit status. */
static struct json_object *summary_of(const char *const *args, int want_status) {
    struct run_result r = run_shakedown(NULL, args);
    cr_assert_eq(r.status, want_status, "exit %d, want %d; stderr: %s", r.status, want_status,
                 r.err);
    struct json_object *o = json_last_line(r.out);
    cr_assert(o, "no JSON summary in: %s", r.out);
    cr_assert_str_eq(json_str_at(o, "type"), "summary");
    run_result_free(&r);
    return o;
}

/* Every packet read is filtered, analysed, dropped for its checksum, or a decode failure. */
static void assert_accounted(struct json_object *o) {
    int64_t parts = json_int_at(o, "filtered") + json_int_at(o, "analysed") +
                    json_int_at(o, "checksum_dropped") + json_int_at(o, "decode_failed");
    cr_assert_eq(json_int_at(o, "packets"), parts, "packets not accounted for");
}

/* The standard exchange (samples.h) is 11 TCP segments of one connection, all decodable with
 * correct checksums: 11 packets read, analysed, TCP, with 11 good TCP checksums. */
static void assert_standard_exchange(const char *file, const char *link, const char *net) {
    const char *args[] = {"-F", "json", "-r", file, NULL};
    struct json_object *o = summary_of(args, 0);
    char key[64];
    cr_expect_eq(json_int_at(o, "packets"), 11);
    cr_expect_eq(json_int_at(o, "analysed"), 11);
    cr_expect_eq(json_int_at(o, "decode_failed"), 0);
    snprintf(key, sizeof key, "protocols.link.%s.packets", link);
    cr_expect_eq(json_int_at(o, key), 11, "%s", key);
    snprintf(key, sizeof key, "protocols.network.%s.packets", net);
    cr_expect_eq(json_int_at(o, key), 11, "%s", key);
    cr_expect_eq(json_int_at(o, "protocols.transport.tcp.packets"), 11);
    cr_expect_eq(json_int_at(o, "checksums.tcp.good"), 11);
    cr_expect_eq(json_int_at(o, "checksums.tcp.bad"), 0);
    assert_accounted(o);
    json_object_put(o);
}

Test(capture, ethernet_ipv4_pcap_usec) {
    assert_standard_exchange(sample(gen_clean_ipv4, "c4.pcap"), "ethernet", "ipv4");
}

Test(capture, ethernet_ipv6_pcap_nsec) {
    assert_standard_exchange(sample(gen_clean_ipv6, "c6.pcap"), "ethernet", "ipv6");
}

Test(capture, stacked_vlan_tags) {
    assert_standard_exchange(sample(gen_vlan, "vlan.pcap"), "ethernet", "ipv4");
}

Test(capture, linux_sll_and_sll2) {
    assert_standard_exchange(sample(gen_sll, "sll.pcap"), "linux_sll", "ipv4");
    assert_standard_exchange(sample(gen_sll2, "sll2.pcap"), "linux_sll2", "ipv4");
}

Test(capture, mpls_label_stack) {
    assert_standard_exchange(sample(gen_mpls, "mpls.pcap"), "ethernet", "ipv4");
}

Test(capture, bsd_null_loopback) {
    assert_standard_exchange(sample(gen_null, "null.pcap"), "null", "ipv4");
}

Test(capture, pcapng) {
    assert_standard_exchange(sample(gen_clean_pcapng, "c.pcapng"), "ethernet", "ipv4");
}

/* raw.pcap: the IPv4 exchange then the IPv6 one, LINKTYPE_RAW: 11 + 11 packets. */
Test(capture, raw_ip_both_versions) {
    const char *args[] = {"-F", "json", "-r", sample(gen_raw, "raw.pcap"), NULL};
    struct json_object *o = summary_of(args, 0);
    cr_expect_eq(json_int_at(o, "protocols.link.raw.packets"), 22);
    cr_expect_eq(json_int_at(o, "protocols.network.ipv4.packets"), 11);
    cr_expect_eq(json_int_at(o, "protocols.network.ipv6.packets"), 11);
    cr_expect_eq(json_int_at(o, "analysed"), 22);
    json_object_put(o);
}

/* multi.pcap (samples.c): 2 UDP + 2 ICMP + 33 TCP/IPv4 + 11 TCP/IPv6 = 48 frames. */
Test(capture, multi_protocol_counts) {
    const char *args[] = {"-F", "json", "-r", sample(gen_multi, "multi.pcap"), NULL};
    struct json_object *o = summary_of(args, 0);
    cr_expect_eq(json_int_at(o, "packets"), 48);
    cr_expect_eq(json_int_at(o, "protocols.transport.tcp.packets"), 44);
    cr_expect_eq(json_int_at(o, "protocols.transport.udp.packets"), 2);
    cr_expect_eq(json_int_at(o, "protocols.transport.icmp.packets"), 2);
    cr_expect_eq(json_int_at(o, "protocols.network.ipv4.packets"), 37);
    cr_expect_eq(json_int_at(o, "protocols.network.ipv6.packets"), 11);
    cr_expect_eq(json_int_at(o, "checksums.udp.good"), 2);
    cr_expect_eq(json_int_at(o, "checksums.icmp.good"), 2);
    json_object_put(o);
}

/* The JSON text of a member (numbers exactly as written). */
static const char *json_text_at(struct json_object *o, const char *key) {
    struct json_object *v = NULL;
    return json_object_object_get_ex(o, key, &v) ? json_object_to_json_string(v) : "";
}

/* Timestamps: frame k (0-based) is at 2024-01-01T00:00:00Z (epoch 1704067200) + k × 10 ms, so
 * the 11 frames of the standard exchange span .000000 to .100000 — in the µs and the ns file
 * alike, as epoch seconds by default and as ISO 8601 with --iso-time. */
Test(capture, timestamps_usec_and_nsec) {
    const char *files[] = {sample(gen_clean_ipv4, "t4.pcap"), sample(gen_clean_ipv6, "t6.pcap")};
    for (int i = 0; i < 2; i++) {
        const char *args[] = {"-F", "json", "-r", files[i], NULL};
        struct json_object *o = summary_of(args, 0);
        cr_expect_str_eq(json_text_at(o, "first_ts"), "1704067200.000000");
        cr_expect_str_eq(json_text_at(o, "last_ts"), "1704067200.100000");
        json_object_put(o);
        const char *iso[] = {"-F", "json", "--iso-time", "-r", files[i], NULL};
        o = summary_of(iso, 0);
        cr_expect_str_eq(json_str_at(o, "first_ts"), "2024-01-01T00:00:00.000000Z");
        cr_expect_str_eq(json_str_at(o, "last_ts"), "2024-01-01T00:00:00.100000Z");
        json_object_put(o);
    }
}

/* Two -r options are one stream: 11 + 48 packets, inputs listed in order. */
Test(capture, several_files_in_order) {
    const char *a = sample(gen_clean_ipv4, "s1.pcap"), *b = sample(gen_multi, "s2.pcap");
    const char *args[] = {"-F", "json", "-r", a, "-r", b, NULL};
    struct json_object *o = summary_of(args, 0);
    cr_expect_eq(json_int_at(o, "packets"), 59);
    struct json_object *inputs = NULL;
    cr_assert(json_object_object_get_ex(o, "inputs", &inputs));
    cr_assert_eq(json_object_array_length(inputs), 2);
    cr_expect_str_eq(json_str_at(json_object_array_get_idx(inputs, 0), "file"), a);
    cr_expect_eq(json_int_at(json_object_array_get_idx(inputs, 0), "packets"), 11);
    cr_expect_str_eq(json_str_at(json_object_array_get_idx(inputs, 1), "file"), b);
    cr_expect_eq(json_int_at(json_object_array_get_idx(inputs, 1), "packets"), 48);
    json_object_put(o);
}

Test(capture, standard_input) {
    const char *args[] = {"-F", "json", "-r", "-", NULL};
    struct run_result r = run_shakedown(sample(gen_multi, "stdin.pcap"), args);
    cr_assert_eq(r.status, 0, "%s", r.err);
    struct json_object *o = json_last_line(r.out);
    cr_assert(o);
    cr_expect_eq(json_int_at(o, "packets"), 48);
    json_object_put(o);
    run_result_free(&r);
}

/* A regular file is read with the engine's lookahead (each packet waits in a short delay line
 * while its flow-table entry loads); standard input, a pipe, is not (its next packet may be long
 * in coming). The delay changes when the tracker takes a packet, never what it does with it: the
 * records — connections and anomalies, in the same order — must be the same bytes both ways.
 * multi.pcap interleaves three connections frame by frame, so every record of theirs is written
 * while later packets are still waiting in the line; only the summary (run time, file name)
 * differs. */
Test(capture, lookahead_changes_no_record) {
    const char *path = sample(gen_multi, "ahead.pcap");
    const char *from_file[] = {"-F", "json", "-r", path, NULL};
    const char *from_pipe[] = {"-F", "json", "-r", "-", NULL};
    struct run_result a = run_shakedown(NULL, from_file);
    struct run_result b = run_shakedown(path, from_pipe);
    cr_assert_eq(a.status, 0, "%s", a.err);
    cr_assert_eq(b.status, 0, "%s", b.err);
    const char *a_end = strstr(a.out, "{\"type\":\"summary\"");
    const char *b_end = strstr(b.out, "{\"type\":\"summary\"");
    cr_assert(a_end && b_end);
    cr_expect_eq(count_lines(a.out), 4 + 2 + 1, "4 TCP, 2 UDP/ICMP flows, summary: %s", a.out);
    cr_expect_eq(a_end - a.out, b_end - b.out);
    cr_expect(strncmp(a.out, b.out, (size_t)(a_end - a.out)) == 0, "file:\n%s\npipe:\n%s", a.out,
              b.out);
    run_result_free(&a);
    run_result_free(&b);
}

/* 'tcp port 443' keeps the 33 + 11 segments to port 443 and filters the 4 UDP/ICMP packets. */
Test(capture, bpf_filter_counts_filtered_packets) {
    const char *args[] = {"-F",  "json", "-r",  sample(gen_multi, "f.pcap"),
                          "tcp", "port", "443", NULL};
    struct json_object *o = summary_of(args, 0);
    cr_expect_eq(json_int_at(o, "packets"), 48);
    cr_expect_eq(json_int_at(o, "filtered"), 4);
    cr_expect_eq(json_int_at(o, "analysed"), 44);
    cr_expect_eq(json_int_at(o, "protocols.transport.udp.packets"), -1, "UDP was filtered");
    assert_accounted(o);
    json_object_put(o);
}

Test(capture, bad_filter_is_a_usage_error) {
    const char *args[] = {"-r", sample(gen_clean_ipv4, "bf.pcap"), "tcp", "prot", "80", NULL};
    struct run_result r = run_shakedown(NULL, args);
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "tcp prot 80"), "the message names the expression: %s", r.err);
    cr_expect_eq(count_lines(r.err), 1, "one line: %s", r.err);
    cr_expect_str_empty(r.out);
    run_result_free(&r);
}

Test(capture, missing_file) {
    const char *args[] = {"-r", "/nonexistent/x.pcap", NULL};
    struct run_result r = run_shakedown(NULL, args);
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "/nonexistent/x.pcap") && strstr(r.err, "No such file"), "%s", r.err);
    run_result_free(&r);
}

Test(capture, not_a_capture) {
    const char *path = tmp_path("notes.txt");
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fputs("this is not a capture file, just some text that is long enough\n", f);
    fclose(f);
    const char *args[] = {"-r", path, NULL};
    struct run_result r = run_shakedown(NULL, args);
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, path) && strstr(r.err, "unknown file format"), "%s", r.err);
    run_result_free(&r);
}

/* The last record of the 11-packet capture is cut short: the 10 complete packets are analysed,
 * the file is reported damaged by name, and the exit status is 1. */
Test(capture, truncated_last_record) {
    const char *path = sample(gen_clean_ipv4, "trunc.pcap");
    FILE *f = fopen(path, "r+");
    cr_assert(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    cr_assert_eq(truncate(path, size - 10), 0);
    const char *args[] = {"-F", "json", "-r", path, NULL};
    struct run_result r = run_shakedown(NULL, args);
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, path) && strstr(r.err, "truncated"), "%s", r.err);
    struct json_object *o = json_last_line(r.out);
    cr_assert(o);
    cr_expect_eq(json_int_at(o, "packets"), 10);
    cr_expect_eq(json_int_at(o, "analysed"), 10);
    cr_expect_str_eq(
        json_str_at(json_object_array_get_idx(json_object_object_get(o, "inputs"), 0), "status"),
        "damaged");
    json_object_put(o);
    run_result_free(&r);
}

/* A capture of link type 147 (LINKTYPE_USER0): read, every packet counted as link_unsupported,
 * a warning naming the file, and not an error. */
Test(capture, unsupported_link_type_is_counted) {
    const char *path = tmp_path("user0.pcap");
    struct capwrite *w = capwrite_open(path, CAPWRITE_PCAP_USEC, 147, 65535);
    cr_assert(w);
    uint8_t junk[40] = {1, 2, 3};
    for (int i = 0; i < 3; i++)
        cr_assert(capwrite_packet(w, 0, (uint64_t)(i + 1) * 1000000000u, junk, sizeof junk));
    cr_assert(capwrite_close(w));
    const char *args[] = {"-F", "json", "-r", path, NULL};
    struct run_result r = run_shakedown(NULL, args);
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.err, path) && strstr(r.err, "not supported"), "%s", r.err);
    struct json_object *o = json_last_line(r.out);
    cr_assert(o);
    cr_expect_eq(json_int_at(o, "decode_errors.link_unsupported"), 3);
    assert_accounted(o);
    json_object_put(o);
    run_result_free(&r);
}

/* Writes a 3-packet Ethernet capture whose second TCP segment has a wrong checksum. */
static const char *bad_checksum_capture(void) {
    const char *path = tmp_path("badsum.pcap");
    struct capwrite *w = capwrite_open(path, CAPWRITE_PCAP_USEC, 1, 65535);
    cr_assert(w);
    for (int i = 0; i < 3; i++) {
        struct pb_frame f = pb_tcp4();
        f.flags = PB_ACK;
        f.seq = 100u + (uint32_t)i;
        f.bad_l4_checksum = i == 1;
        uint8_t buf[256];
        size_t n = pb_build(&f, buf, sizeof buf);
        cr_assert(n > 0);
        cr_assert(capwrite_packet(w, 0, (uint64_t)(i + 1) * 1000000000u, buf, n));
    }
    cr_assert(capwrite_close(w));
    return path;
}

Test(capture, checksum_modes) {
    const char *path = bad_checksum_capture();
    const char *drop[] = {"-F", "json", "-r", path, NULL};
    struct json_object *o = summary_of(drop, 0);
    cr_expect_eq(json_int_at(o, "checksum_dropped"), 1, "drop is the default");
    cr_expect_eq(json_int_at(o, "analysed"), 2);
    cr_expect_eq(json_int_at(o, "checksums.tcp.bad"), 1);
    json_object_put(o);

    const char *keep[] = {"-F", "json", "--checksums", "keep", "-r", path, NULL};
    o = summary_of(keep, 0);
    cr_expect_eq(json_int_at(o, "checksum_dropped"), 0);
    cr_expect_eq(json_int_at(o, "analysed"), 3);
    cr_expect_eq(json_int_at(o, "checksums.tcp.bad"), 1, "still counted");
    json_object_put(o);

    const char *off[] = {"-F", "json", "--checksums", "off", "-r", path, NULL};
    o = summary_of(off, 0);
    cr_expect_eq(json_int_at(o, "analysed"), 3);
    cr_expect_eq(json_int_at(o, "checksums.tcp.bad"), -1, "not verified at all");
    json_object_put(o);
}

/* A 554-byte frame (Ethernet 14 + IPv4 20 + TCP 20 + 500 payload) captured with snaplen 60: all
 * headers fit, the payload does not — decoded and counted as truncated, wire bytes still 554. */
Test(capture, snaplen_cut_packets_are_accounted) {
    const char *path = tmp_path("snap.pcap");
    struct capwrite *w = capwrite_open(path, CAPWRITE_PCAP_USEC, 1, 60);
    cr_assert(w);
    struct pb_frame f = pb_tcp4();
    f.flags = PB_ACK | PB_PSH;
    f.payload_len = 500;
    uint8_t buf[1600];
    size_t n = pb_build(&f, buf, sizeof buf);
    cr_assert(n == 14 + 20 + 20 + 500);
    cr_assert(capwrite_packet(w, 0, 1000000000ull, buf, n));
    cr_assert(capwrite_close(w));
    const char *args[] = {"-F", "json", "-r", path, NULL};
    struct json_object *o = summary_of(args, 0);
    /* 14 + 20 + 20 = 54 header bytes fit in 60: decoded, marked truncated. */
    cr_expect_eq(json_int_at(o, "analysed"), 1);
    cr_expect_eq(json_int_at(o, "truncated"), 1);
    cr_expect_eq(json_int_at(o, "bytes"), 554, "bytes count the wire length");
    json_object_put(o);
}

/* The text report of multi.pcap lists the inputs, the packet accounting (48 read, all analysed,
 * 7558 frame bytes) and the packets by protocol (48 Ethernet; 37 IPv4, 11 IPv6; 44 TCP, 2 UDP,
 * 2 ICMP). Nothing failed to decode, nothing was filtered or dropped: those lines and counts are
 * left out (issue 17: a summary says what happened, not every zero). */
Test(capture, text_report) {
    const char *path = sample(gen_multi, "text.pcap");
    const char *args[] = {"-F", "text", "-r", path, NULL};
    struct run_result r = run_shakedown(NULL, args);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, path), "input listed: %s", r.out);
    cr_expect(strstr(r.out, "\nPackets      48 read (7558 frame bytes): 48 analysed\n"), "%s",
              r.out);
    cr_expect(strstr(r.out, "\nProtocols    ethernet 48; ipv4 37, ipv6 11; tcp 44, udp 2, "
                            "icmp 2 (packets)\n"),
              "%s", r.out);
    cr_expect_null(strstr(r.out, "decoded"), "no decode failure to speak of: %s", r.out);
    cr_expect_null(strstr(r.out, "filtered"), "nothing filtered: %s", r.out);
    run_result_free(&r);
}

/* A file name that is not UTF-8 (byte 0xff) must not make the summary invalid JSON: the byte is
 * written as U+FFFD (EF BF BD), never raw. */
Test(capture, file_name_bytes_are_escaped) {
    char path[300];
    snprintf(path, sizeof path, "%s", tmp_path("bad\xffname.pcap"));
    cr_assert(gen_clean_ipv4(path));
    const char *args[] = {"-F", "json", "-r", path, NULL};
    struct run_result r = run_shakedown(NULL, args);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_null(strchr(r.out, '\xff'), "raw 0xff byte in the output");
    cr_expect(strstr(r.out, "bad\xef\xbf\xbdname.pcap"), "%s", r.out);
    run_result_free(&r);
}

/* Two captures of two different unsupported link types (147, 148): their 2 + 3 packets are one
 * "unsupported" row of 5, as decode_errors.link_unsupported counts them. */
Test(capture, unsupported_link_types_add_up) {
    const char *paths[2] = {tmp_path("u147.pcap"), tmp_path("u148.pcap")};
    char copy[2][300];
    for (int f = 0; f < 2; f++) {
        snprintf(copy[f], sizeof copy[f], "%s", paths[f]);
        struct capwrite *w = capwrite_open(copy[f], CAPWRITE_PCAP_USEC, 147 + f, 65535);
        cr_assert(w);
        uint8_t junk[20] = {0};
        for (int i = 0; i < 2 + f; i++)
            cr_assert(capwrite_packet(w, 0, (uint64_t)(i + 1) * 1000000000u, junk, sizeof junk));
        cr_assert(capwrite_close(w));
    }
    const char *args[] = {"-F", "json", "-r", copy[0], "-r", copy[1], NULL};
    struct json_object *o = summary_of(args, 0);
    cr_expect_eq(json_int_at(o, "protocols.link.unsupported.packets"), 5);
    cr_expect_eq(json_int_at(o, "decode_errors.link_unsupported"), 5);
    json_object_put(o);
}
