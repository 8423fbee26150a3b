/* anomaly_detail: the detail text of each anomaly event record (anomaly_detail.h). */
#include "anomaly_detail.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "conn.h"
#include "packet.h"

static const char *role_name(int dir) {
    return dir == 0 ? "originator" : "responder";
}

void anomaly_describe_segment(char *buf, size_t len, enum anomaly a, const struct conn *c, int dir,
                              const struct packet *p) {
    const struct tcp_endpoint *peer = &c->tcp.ep[!dir];
    char flags[48];
    tcp_flags_format(p->tcp.flags, flags, sizeof flags);
    const char *who = role_name(dir);
    unsigned seq = p->tcp.seq, ack = p->tcp.ack, n = p->payload_len;
    switch (a) {
    case ANOMALY_INVALID_FLAGS:
        snprintf(buf, len, "%s sent a segment with flags %s", who, flags);
        break;
    case ANOMALY_SYNACK_BAD_ACK:
        snprintf(buf, len, "SYN/ACK acknowledges %u; the SYN's seq + 1 is %u", ack, peer->isn + 1u);
        break;
    case ANOMALY_HANDSHAKE_BAD_ACK:
        snprintf(buf, len, "handshake ACK acknowledges %u; the SYN/ACK's ISN + 1 is %u", ack,
                 peer->isn + 1u);
        break;
    case ANOMALY_SYN_ISN_CHANGED:
        snprintf(buf, len, "%s repeated its SYN with a new ISN %u", who, seq);
        break;
    case ANOMALY_SYN_ON_ESTABLISHED:
        snprintf(buf, len, "%s sent %s (seq %u) inside an established connection", who, flags, seq);
        break;
    case ANOMALY_SIMULTANEOUS_OPEN:
        snprintf(buf, len, "both sides sent a SYN before any SYN/ACK");
        break;
    case ANOMALY_DATA_AFTER_FIN:
        snprintf(buf, len, "%s sent %u bytes at seq %u reaching past its own FIN", who, n, seq);
        break;
    case ANOMALY_LATE_SEGMENT_AFTER_FIN:
        snprintf(buf, len, "%s's segment seq %u (%u bytes) from before its FIN arrived after it",
                 who, seq, n);
        break;
    case ANOMALY_RST_OUT_OF_WINDOW:
        if (peer->syn_sent && !peer->syn_acked && !peer->ack_sent) /* RFC 9293 3.10.7.3 */
            snprintf(buf, len,
                     "RST from the %s with ack %u does not acknowledge the SYN of a receiver "
                     "in SYN_SENT",
                     who, ack);
        else
            snprintf(buf, len, "RST from the %s with seq %u is outside the receiver's window", who,
                     seq);
        break;
    case ANOMALY_SEGMENT_OUT_OF_WINDOW:
        snprintf(buf, len,
                 "%s sent seq %u (%u bytes), ack %u: nearly 2^31 past anything seen, left out of "
                 "the byte accounting",
                 who, seq, n, ack);
        break;
    case ANOMALY_RETRANSMISSION:
        snprintf(buf, len, "%s resent seq %u (%s, %u bytes)", who, seq, flags, n);
        break;
    case ANOMALY_OUT_OF_ORDER:
        snprintf(buf, len, "%s's seq %u (%u bytes) arrived after later data", who, seq, n);
        break;
    case ANOMALY_SEGMENT_NOT_CAPTURED:
        snprintf(buf, len, "%s's seq %u starts past the next expected byte: data not captured", who,
                 seq);
        break;
    case ANOMALY_ACK_UNSEEN_SEGMENT:
        snprintf(buf, len, "%s acknowledges %u, past data the capture saw", who, ack);
        break;
    case ANOMALY_ZERO_WINDOW:
        snprintf(buf, len, "%s advertised a zero receive window", who);
        break;
    default:
        snprintf(buf, len, "%s (%s seq %u)", anomaly_name(a), flags, seq);
    }
}

void anomaly_describe_end(char *buf, size_t len, enum anomaly a, const struct conn *c, int dir) {
    switch (a) {
    case ANOMALY_SYN_UNANSWERED:
        snprintf(buf, len, "SYN got neither SYN/ACK nor RST (%s)",
                 conn_end_name((enum conn_end)c->end));
        break;
    case ANOMALY_SYNACK_UNANSWERED:
        snprintf(buf, len, "SYN/ACK never acknowledged: responder left in SYN_RECEIVED");
        break;
    case ANOMALY_DATA_UNACKED:
        snprintf(buf, len, "%s's last %llu payload bytes were never acknowledged", role_name(dir),
                 (unsigned long long)tcp_conn_unacked_bytes(&c->tcp, dir));
        break;
    case ANOMALY_FIN_UNACKED:
        snprintf(buf, len, "%s's FIN was never acknowledged", role_name(dir));
        break;
    default:
        snprintf(buf, len, "%s", anomaly_name(a));
    }
}

void anomaly_describe_late(char *buf, size_t len, enum anomaly a, int dir, uint32_t payload_len,
                           long long since_ms) {
    if (a == ANOMALY_DATA_AFTER_RST)
        snprintf(buf, len, "%s sent %u bytes %lld ms after the RST", role_name(dir), payload_len,
                 since_ms);
    else
        snprintf(buf, len, "%s sent a segment %lld ms after the close%s", role_name(dir), since_ms,
                 a == ANOMALY_PACKET_AFTER_TIME_WAIT ? ", after TIME_WAIT expired" : "");
}

void anomaly_describe_port_reuse(char *buf, size_t len, const char *uid, bool closed_by_rst,
                                 bool in_time_wait) {
    snprintf(buf, len, "new SYN on the ports of %s (closed by %s) %s", uid,
             closed_by_rst ? "RST" : "FIN",
             in_time_wait ? "during its TIME_WAIT" : "after its TIME_WAIT");
}

void anomaly_describe_host(char *buf, size_t len, enum anomaly a, uint32_t count, int64_t window_ns,
                           uint32_t threshold) {
    long long seconds = (long long)(window_ns / 1000000000);
    if (a == ANOMALY_SYN_FLOOD)
        snprintf(buf, len, "%u half-open connections to this host within %lld s (threshold %u)",
                 count, seconds, threshold);
    else
        snprintf(buf, len,
                 "%u distinct ports or hosts unanswered or refused within %lld s (threshold %u)",
                 count, seconds, threshold);
}

void anomaly_describe_fold(char *buf, size_t len, enum anomaly a, const struct anomaly_fold *f,
                           int64_t window_ns) {
    char kinds[96] = "";
    size_t used = 0;
    for (anomaly_set set = f->kinds; set && used < sizeof kinds; set &= set - 1) {
        int n = snprintf(kinds + used, sizeof kinds - used, "%s%s", used ? ", " : "",
                         anomaly_name((enum anomaly)__builtin_ctz(set)));
        used += n > 0 ? (size_t)n : 0;
    }
    snprintf(buf, len,
             "%" PRIu64 " events (%s) of %u connections %s this host in its %lld s %s "
             "window, folded into this one",
             f->events, kinds, f->conns, a == ANOMALY_SYN_FLOOD ? "to" : "from",
             (long long)(window_ns / 1000000000), anomaly_name(a));
}
