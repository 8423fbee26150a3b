/* format_helpers: the metrics capture of the format tests and its expectations (see
 * format_helpers.h). */
#include "format_helpers.h"

#include <criterion/criterion.h>
#include <stdio.h>
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
