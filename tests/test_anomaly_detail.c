/* test_anomaly_detail: the detail text each kind of anomaly event carries (exact strings:
 * records carry them, and users grep them). */
#include <criterion/criterion.h>
#include <string.h>

#include "anomaly_detail.h"
#include "conn.h"

/* A segment from role dir: flags, seq, ack, payload length. */
static struct packet seg(uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len) {
    struct packet p;
    memset(&p, 0, sizeof p);
    p.transport = TRANSPORT_TCP;
    p.tcp.flags = flags;
    p.tcp.seq = seq;
    p.tcp.ack = ack;
    p.payload_len = len;
    return p;
}

Test(anomaly, segment_details) {
    struct conn c;
    memset(&c, 0, sizeof c);
    c.tcp.ep[0].isn = 100;
    c.tcp.ep[1].isn = 900;
    char buf[192];
    struct packet p = seg(TCP_SYN | TCP_FIN, 5, 0, 0);
    anomaly_describe_segment(buf, sizeof buf, ANOMALY_INVALID_FLAGS, &c, 0, &p);
    cr_expect_str_eq(buf, "originator sent a segment with flags FIN+SYN");
    p = seg(TCP_SYN | TCP_ACK, 900, 7, 0);
    anomaly_describe_segment(buf, sizeof buf, ANOMALY_SYNACK_BAD_ACK, &c, 1, &p);
    cr_expect_str_eq(buf, "SYN/ACK acknowledges 7; the SYN's seq + 1 is 101");
    p = seg(TCP_ACK | TCP_PSH, 4000, 101, 10);
    anomaly_describe_segment(buf, sizeof buf, ANOMALY_RETRANSMISSION, &c, 1, &p);
    cr_expect_str_eq(buf, "responder resent seq 4000 (PSH+ACK, 10 bytes)");
    /* A RST to an endpoint in SYN_SENT fails on its ACK (RFC 9293 3.10.7.3), else the window. */
    c.tcp.ep[0].syn_sent = true;
    p = seg(TCP_RST | TCP_ACK, 0, 55, 0);
    anomaly_describe_segment(buf, sizeof buf, ANOMALY_RST_OUT_OF_WINDOW, &c, 1, &p);
    cr_expect_str_eq(buf, "RST from the responder with ack 55 does not acknowledge the SYN of a "
                          "receiver in SYN_SENT");
    c.tcp.ep[0].ack_sent = true;
    anomaly_describe_segment(buf, sizeof buf, ANOMALY_RST_OUT_OF_WINDOW, &c, 1, &p);
    cr_expect_str_eq(buf, "RST from the responder with seq 0 is outside the receiver's window");
    /* An anomaly no segment raises falls back to its name. */
    anomaly_describe_segment(buf, sizeof buf, ANOMALY_PORT_SCAN, &c, 1, &p);
    cr_expect_str_eq(buf, "port_scan (RST+ACK seq 0)");
}

Test(anomaly, end_details) {
    struct conn c;
    memset(&c, 0, sizeof c);
    c.end = CONN_END_TIMEOUT;
    char buf[192];
    anomaly_describe_end(buf, sizeof buf, ANOMALY_SYN_UNANSWERED, &c, 0);
    cr_expect_str_eq(buf, "SYN got neither SYN/ACK nor RST (timeout)");
    anomaly_describe_end(buf, sizeof buf, ANOMALY_FIN_UNACKED, &c, 1);
    cr_expect_str_eq(buf, "responder's FIN was never acknowledged");
}

Test(anomaly, late_details) {
    char buf[192];
    anomaly_describe_late(buf, sizeof buf, ANOMALY_DATA_AFTER_RST, 1, 20, 1500);
    cr_expect_str_eq(buf, "responder sent 20 bytes 1500 ms after the RST");
    anomaly_describe_late(buf, sizeof buf, ANOMALY_PACKET_DURING_TIME_WAIT, 0, 0, 3);
    cr_expect_str_eq(buf, "originator sent a segment 3 ms after the close");
    anomaly_describe_late(buf, sizeof buf, ANOMALY_PACKET_AFTER_TIME_WAIT, 0, 0, 15000);
    cr_expect_str_eq(buf, "originator sent a segment 15000 ms after the close, after TIME_WAIT "
                          "expired");
}

Test(anomaly, port_reuse_and_host_details) {
    char buf[192];
    anomaly_describe_port_reuse(buf, sizeof buf, "CxPGaQj3PtmBybqQj", false, true);
    cr_expect_str_eq(buf, "new SYN on the ports of CxPGaQj3PtmBybqQj (closed by FIN) during its "
                          "TIME_WAIT");
    anomaly_describe_port_reuse(buf, sizeof buf, "CxPGaQj3PtmBybqQj", true, false);
    cr_expect_str_eq(buf, "new SYN on the ports of CxPGaQj3PtmBybqQj (closed by RST) after its "
                          "TIME_WAIT");
    anomaly_describe_host(buf, sizeof buf, ANOMALY_SYN_FLOOD, 201, 10000000000ll, 200);
    cr_expect_str_eq(buf, "201 half-open connections to this host within 10 s (threshold 200)");
    anomaly_describe_host(buf, sizeof buf, ANOMALY_PORT_SCAN, 21, 60000000000ll, 20);
    cr_expect_str_eq(buf, "21 distinct ports or hosts unanswered or refused within 60 s "
                          "(threshold 20)");
}

Test(anomaly, detail_truncated_to_buffer) {
    char buf[16];
    memset(buf, 'x', sizeof buf);
    anomaly_describe_host(buf, sizeof buf, ANOMALY_SYN_FLOOD, 201, 10000000000ll, 200);
    cr_expect_str_eq(buf, "201 half-open c");
}

/* A host aggregate names how many events of how many connections, which anomalies (in catalog
 * order), the direction of the host and the window. */
Test(anomaly, fold_details) {
    char buf[192];
    struct anomaly_fold f = {.events = 99800,
                             .conns = 99700,
                             .kinds = anomaly_bit(ANOMALY_SYNACK_UNANSWERED) |
                                      anomaly_bit(ANOMALY_SYN_UNANSWERED)};
    anomaly_describe_fold(buf, sizeof buf, ANOMALY_SYN_FLOOD, &f, 10000000000);
    cr_expect_str_eq(buf,
                     "99800 events (syn_unanswered, synack_unanswered) of 99700 connections to "
                     "this host in its 10 s syn_flood window, folded into this one");
    f.kinds = anomaly_bit(ANOMALY_SYN_UNANSWERED);
    anomaly_describe_fold(buf, sizeof buf, ANOMALY_PORT_SCAN, &f, 60000000000);
    cr_expect_str_eq(buf, "99800 events (syn_unanswered) of 99700 connections from this host in "
                          "its 60 s port_scan window, folded into this one");
}
