/* format_helpers: the metrics capture of the format tests and its expectations (see
 * format_helpers.h). */
#include "format_helpers.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktbuild.h"
#include "run.h"
#include "script.h"
#include "session.h"

/* 10.0.0.1:52000 → 10.0.0.2:80, frames 10 ms apart from T0: 0 SYN, 1 SYN/ACK, 2 ACK, 3 client
 * 100 bytes, 4 server ACK, 5 server 300 bytes, 6 client ACK, 7..10 the client's close (FIN|ACK,
 * ACK, FIN|ACK, ACK). */
const char *metrics_capture(void) {
    static struct cap c;
    struct session s;
    cap_open(&c, "metrics.pcap");
    struct pb_frame tmpl = pb_tcp4();
    tmpl.sport = 52000;
    tmpl.dport = 80;
    session_init(&s, c.w, &c.clock, &tmpl, CISN, SISN);
    cr_assert(session_handshake(&s));
    cr_assert(session_data(&s, SESSION_CLIENT, 100) && session_ack(&s, SESSION_SERVER));
    cr_assert(session_data(&s, SESSION_SERVER, 300) && session_ack(&s, SESSION_CLIENT));
    cr_assert(session_close(&s, SESSION_CLIENT));
    cap_close(&c);
    return c.path;
}

/* One member under prefix. */
static void expect_member(struct json_object *doc, const char *prefix, const char *member,
                          int64_t want) {
    char path[128];
    snprintf(path, sizeof path, "%s.%s", prefix, member);
    expect_int(doc, path, want);
}

/* Each side timed its one data segment, answered by the next frame: one RTT sample of 10 ms
 * (10000 µs; the handshake is not a sample, nor are FINs). Throughput over the 100 ms from the
 * first frame to the last: 100 bytes → 1000 bytes/s from the client, 300 → 3000 from the
 * server. Nothing repeated: no duplicate ACK (every ACK moves ack on), no copy, no resend.
 * Largest segment: 100 and 300. Every segment after the SYNs advertises window 502 (session.h),
 * scaled by the shift 7 both SYNs offered: 64256 bytes, never zero; scale 7. */
void expect_capture_metrics(struct json_object *doc, const char *orig, const char *resp) {
    const char *prefix[2] = {orig, resp};
    const int64_t payload[2] = {100, 300};
    for (int side = 0; side < 2; side++) {
        expect_member(doc, prefix[side], "rtt.samples", 1);
        expect_member(doc, prefix[side], "rtt.min_us", 10000);
        expect_member(doc, prefix[side], "rtt.avg_us", 10000);
        expect_member(doc, prefix[side], "rtt.max_us", 10000);
        expect_member(doc, prefix[side], "throughput_bytes_per_s", payload[side] * 10);
        expect_member(doc, prefix[side], "duplicate_acks", 0);
        expect_member(doc, prefix[side], "duplicate_segments", 0);
        expect_member(doc, prefix[side], "resent_segments", 0);
        expect_member(doc, prefix[side], "max_segment", payload[side]);
        expect_member(doc, prefix[side], "window.min", 64256);
        expect_member(doc, prefix[side], "window.max", 64256);
        expect_member(doc, prefix[side], "window.zero_us", 0);
        expect_member(doc, prefix[side], "window.scale", 7);
    }
}

/* Writes f as the capture's next frame, its time the clock's (then 10 ms on), and returns it with
 * source and destination swapped, for the answer. */
static struct pb_frame datagram_frame(struct cap *c, struct pb_frame f) {
    uint8_t buf[2048];
    size_t n = pb_build(&f, buf, sizeof buf);
    cr_assert(n && capwrite_packet(c->w, 0, session_clock_tick(&c->clock), buf, n));
    struct pb_frame back = f;
    memcpy(back.src, f.dst, sizeof back.src);
    memcpy(back.dst, f.src, sizeof back.dst);
    back.sport = f.dport;
    back.dport = f.sport;
    return back;
}

static struct pb_frame with_payload(struct pb_frame f, size_t len) {
    f.payload = NULL; /* a repeating pattern */
    f.payload_len = len;
    return f;
}

/* An echo request of len data bytes (type `request` over protocol proto, tmpl's addresses) and
 * its reply (ICMP: type 0; ICMPv6: the type after the request's, 129 for 128). Returns the
 * request, for more. */
static struct pb_frame echo_exchange(struct cap *c, struct pb_frame tmpl, uint8_t proto,
                                     uint8_t request, size_t len) {
    tmpl.proto = proto;
    tmpl.icmp_type = request;
    tmpl.icmp_id = 7;
    tmpl.icmp_seq = 1;
    struct pb_frame reply = datagram_frame(c, with_payload(tmpl, len));
    reply.icmp_type = proto == 1 ? 0 : (uint8_t)(request + 1);
    datagram_frame(c, with_payload(reply, len));
    return tmpl;
}

/* Frames 10 ms apart from T0 (frame k at T0 + k × 10 ms):
 *   UDP 10.0.0.1:40000 → 10.0.0.2:53: 0 query of 100 bytes, 1 answer of 300, 2 an empty
 *     datagram, 3 25 bytes, 4 answer of 7. Payload (UDP length less 8): 100 + 0 + 25 = 125 from
 *     the originator, 300 + 7 = 307 back; IP bytes 3 × 28 + 125 = 209 and 2 × 28 + 307 = 363;
 *     duration 0.040000.
 *   ICMP 10.0.0.1 → 10.0.0.3: 5 echo request of 56 data bytes, 6 its reply, 7 a second request:
 *     payload (ICMP message less its 8-byte header) 2 × 56 = 112 and 56; IP bytes 2 × 84 and
 *     84; duration 0.020000; type 8 and code 0 in the port columns.
 *   ICMPv6 2001:db8::1 → 2001:db8::2: 8 echo request of 32 data bytes, 9 its reply: 32 each way;
 *     IP bytes 40 + 8 + 32 = 80 each way; duration 0.010000; type 128, code 0.
 *   UDP 10.0.0.1:40001 → 10.0.0.4:514: 10 one datagram of 50 bytes: payload 50 and 0, IP bytes
 *     78; duration 0. */
/* A flow of the datagram capture: its responder's address, each direction's payload bytes, and
 * whether it is a lone packet (duration 0). */
struct datagram_flow {
    const char *resp_ip;
    int64_t payload[2]; /* originator → responder, back */
    bool lone;
};
#define DATAGRAM_FLOWS 4
static const struct datagram_flow datagram_flows[DATAGRAM_FLOWS] = {
    {"10.0.0.2", {125, 307}, false},
    {"10.0.0.3", {112, 56}, false},
    {"2001:db8::2", {32, 32}, false},
    {"10.0.0.4", {50, 0}, true},
};

const char *datagram_capture(void) {
    static struct cap c;
    cap_open(&c, "datagrams.pcap");
    struct pb_frame udp = pb_tcp4();
    udp.proto = 17;
    udp.sport = 40000;
    udp.dport = 53;
    struct pb_frame answer = datagram_frame(&c, with_payload(udp, 100));
    datagram_frame(&c, with_payload(answer, 300));
    datagram_frame(&c, with_payload(udp, 0));
    datagram_frame(&c, with_payload(udp, 25));
    datagram_frame(&c, with_payload(answer, 7));

    struct pb_frame echo = pb_tcp4();
    echo.dst[3] = 3;
    echo = echo_exchange(&c, echo, 1, 8, 56);
    echo.icmp_seq = 2;
    datagram_frame(&c, with_payload(echo, 56));
    echo_exchange(&c, pb_tcp6(), 58, 128, 32);

    udp.sport = 40001;
    udp.dport = 514;
    udp.dst[3] = 4;
    datagram_frame(&c, with_payload(udp, 50));
    cap_close(&c);
    return c.path;
}

void expect_datagram_payload(const char *out, const char *resp_ip, const char *orig,
                             const char *resp, bool lone_unset) {
    int seen[DATAGRAM_FLOWS] = {0};
    for (const char *line = out; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char *text = malloc(len + 1);
        cr_assert_not_null(text);
        memcpy(text, line, len);
        text[len] = '\0';
        struct json_object *o = json_parse_record(text);
        cr_assert_not_null(o, "%s", text);
        free(text);
        struct json_object *flat; /* Zeek's JSON writer names it "id.resp_h", dot and all */
        const char *ip = json_object_object_get_ex(o, resp_ip, &flat) ? json_object_get_string(flat)
                                                                      : json_str_at(o, resp_ip);
        for (int i = 0; ip && i < DATAGRAM_FLOWS; i++) {
            if (strcmp(ip, datagram_flows[i].resp_ip) != 0)
                continue;
            seen[i]++;
            if (lone_unset && datagram_flows[i].lone) {
                cr_expect_null(json_at(o, orig), "%s: %s", ip, json_object_to_json_string(o));
                cr_expect_null(json_at(o, resp), "%s: %s", ip, json_object_to_json_string(o));
                continue;
            }
            expect_int(o, orig, datagram_flows[i].payload[0]);
            expect_int(o, resp, datagram_flows[i].payload[1]);
        }
        json_object_put(o);
        line += len + (end != NULL);
    }
    for (int i = 0; i < DATAGRAM_FLOWS; i++)
        cr_expect_eq(seen[i], 1, "records of the flow to %s: %d", datagram_flows[i].resp_ip,
                     seen[i]);
}
