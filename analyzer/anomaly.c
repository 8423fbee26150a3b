/* anomaly: the catalog table (name and severity per anomaly), a connection's bounded list of the
 * anomalies it showed, and the TCP flag whitelist. The detail texts are anomaly_detail.c's. */
#include "anomaly.h"

#include <stdio.h>
#include <string.h>

#include "packet.h"

struct anomaly_info {
    const char *name;
    enum anomaly_severity severity;
};

/* Names and severities are part of the interface (issue 4's catalog); keep them. */
static const struct anomaly_info catalog[ANOMALY_COUNT] = {
    [ANOMALY_SYN_UNANSWERED] = {"syn_unanswered", SEVERITY_MEDIUM},
    [ANOMALY_SYNACK_UNANSWERED] = {"synack_unanswered", SEVERITY_MEDIUM},
    [ANOMALY_SYNACK_BAD_ACK] = {"synack_bad_ack", SEVERITY_HIGH},
    [ANOMALY_HANDSHAKE_BAD_ACK] = {"handshake_bad_ack", SEVERITY_MEDIUM},
    [ANOMALY_SYN_ISN_CHANGED] = {"syn_isn_changed", SEVERITY_MEDIUM},
    [ANOMALY_SYN_ON_ESTABLISHED] = {"syn_on_established", SEVERITY_MEDIUM},
    [ANOMALY_SIMULTANEOUS_OPEN] = {"simultaneous_open", SEVERITY_INFO},
    [ANOMALY_INVALID_FLAGS] = {"invalid_flags", SEVERITY_HIGH},
    [ANOMALY_DATA_UNACKED] = {"data_unacked", SEVERITY_MEDIUM},
    [ANOMALY_FIN_UNACKED] = {"fin_unacked", SEVERITY_MEDIUM},
    [ANOMALY_DATA_AFTER_FIN] = {"data_after_fin", SEVERITY_HIGH},
    [ANOMALY_LATE_SEGMENT_AFTER_FIN] = {"late_segment_after_fin", SEVERITY_LOW},
    [ANOMALY_PACKET_DURING_TIME_WAIT] = {"packet_during_time_wait", SEVERITY_LOW},
    [ANOMALY_PACKET_AFTER_TIME_WAIT] = {"packet_after_time_wait", SEVERITY_HIGH},
    [ANOMALY_DATA_AFTER_RST] = {"data_after_rst", SEVERITY_HIGH},
    [ANOMALY_RST_OUT_OF_WINDOW] = {"rst_out_of_window", SEVERITY_HIGH},
    [ANOMALY_SEGMENT_OUT_OF_WINDOW] = {"segment_out_of_window", SEVERITY_HIGH},
    [ANOMALY_PORT_REUSE] = {"port_reuse", SEVERITY_INFO},
    [ANOMALY_RETRANSMISSION] = {"retransmission", SEVERITY_INFO},
    [ANOMALY_OUT_OF_ORDER] = {"out_of_order", SEVERITY_INFO},
    [ANOMALY_SEGMENT_NOT_CAPTURED] = {"segment_not_captured", SEVERITY_LOW},
    [ANOMALY_ACK_UNSEEN_SEGMENT] = {"ack_unseen_segment", SEVERITY_LOW},
    [ANOMALY_ZERO_WINDOW] = {"zero_window", SEVERITY_LOW},
    [ANOMALY_SYN_FLOOD] = {"syn_flood", SEVERITY_HIGH},
    [ANOMALY_PORT_SCAN] = {"port_scan", SEVERITY_HIGH},
};

const char *anomaly_name(enum anomaly a) {
    return (unsigned)a < ANOMALY_COUNT ? catalog[a].name : "unknown";
}

enum anomaly_severity anomaly_severity_of(enum anomaly a) {
    return (unsigned)a < ANOMALY_COUNT ? catalog[a].severity : SEVERITY_INFO;
}

const char *anomaly_severity_name(enum anomaly_severity s) {
    static const char *const names[] = {"info", "low", "medium", "high"};
    return (unsigned)s < 4 ? names[s] : "info";
}

/* ---- a connection's anomaly list ------------------------------------------------------------- */

bool conn_anomalies_add(struct conn_anomalies *l, enum anomaly a, int dir, int64_t ts_ns) {
    for (unsigned i = 0; i < l->n; i++) {
        if (l->list[i].id == a && l->list[i].dir == dir) {
            l->list[i].count++;
            return false;
        }
    }
    if (l->n == CONN_MAX_ANOMALIES) {
        uint64_t bit = 1ull << (2 * (unsigned)a + (unsigned)dir);
        l->overflow++;
        bool first = !(l->unlisted & bit);
        l->unlisted |= bit; /* not listed: the first event is all that carries it */
        return first;
    }
    l->list[l->n++] = (struct conn_anomaly){(uint8_t)a, (uint8_t)dir, 1, ts_ns};
    return true;
}

bool tcp_flags_valid(uint8_t flags) {
    switch (flags & ~(TCP_PSH | TCP_ECE | TCP_CWR)) {
    case TCP_SYN:
    case TCP_SYN | TCP_URG:
    case TCP_SYN | TCP_ACK:
    case TCP_RST:
    case TCP_RST | TCP_ACK:
    case TCP_FIN | TCP_ACK:
    case TCP_FIN | TCP_ACK | TCP_URG:
    case TCP_ACK:
    case TCP_ACK | TCP_URG:
        return true;
    default:
        return false;
    }
}

void tcp_flags_format(uint8_t flags, char *buf, size_t len) {
    static const char *const names[8] = {"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"};
    size_t k = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < 8; i++) {
        if (!(flags & (1u << i)))
            continue;
        int n = snprintf(buf + k, len - k, "%s%s", k ? "+" : "", names[i]);
        if (n < 0 || (size_t)n >= len - k)
            return;
        k += (size_t)n;
    }
    if (k == 0)
        snprintf(buf, len, "NULL");
}
