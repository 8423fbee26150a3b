/* host_detect: which ended connections count toward syn_flood and port_scan, and which host's
 * aggregate a covered connection's events fold into. Connections are judged when they end, not
 * at their SYN, so a burst of connections that all complete never looks like a flood or a scan. */
#include "host_detect.h"

/* The end anomalies of a connection left half-open. */
static const anomaly_set half_open_set =
    ((anomaly_set)1u << ANOMALY_SYN_UNANSWERED) | ((anomaly_set)1u << ANOMALY_SYNACK_UNANSWERED);

/* A connection that ended half-open — its SYN never answered, or its SYN/ACK never
 * acknowledged — counts against its destination for syn_flood, at the time it was attempted.
 * The alert, if it fired, is added to v. */
static void count_half_open(struct hosts *h, const struct host_config *cfg, const struct conn *c,
                            struct host_verdict *v) {
    const uint8_t *dst = conn_addr(c, 1);
    struct host_alert *a = &v->alert[v->alerts];
    *a = (struct host_alert){ANOMALY_SYN_FLOOD,        dst,
                             c->e.key.ip_version,      0,
                             cfg->syn_flood_window_ns, cfg->syn_flood_threshold};
    if (hosts_syn_attempt(h, dst, c->e.key.ip_version, c->first_ns, &a->count))
        v->alerts++;
}

/* An attempt this connection made (a SYN) that failed — nothing came back, or it was refused —
 * counts against its source for port_scan, like count_half_open. */
static void count_failed_attempt(struct hosts *h, const struct host_config *cfg,
                                 const struct conn *c, struct host_verdict *v) {
    const uint8_t *src = conn_addr(c, 0);
    struct host_alert *a = &v->alert[v->alerts];
    *a = (struct host_alert){ANOMALY_PORT_SCAN,        src,
                             c->e.key.ip_version,      0,
                             cfg->port_scan_window_ns, cfg->port_scan_threshold};
    if (hosts_failed_attempt(h, src, conn_addr(c, 1), conn_port(c, 1), c->e.key.ip_version,
                             c->first_ns, &a->count))
        v->alerts++;
}

struct host_counting host_detect_judge(const struct conn *c, enum conn_end why,
                                       anomaly_set end_set) {
    /* The answer grace protects one connection's record from blame, not the host-level count:
     * a connection cut off half-open — evicted, or still half-open when the input ended or at
     * shutdown — counts toward syn_flood whenever its SYN or SYN/ACK went out. A healthy server
     * leaves only the handshakes of the last round trip half-open; a flood that ends with the
     * capture (a short triggered capture, a live capture stopped mid-flood) leaves thousands,
     * and an evicted one means a table so full of unanswered SYNs that they are pushed out
     * before an answer could come — waiting would let any flood larger than the table pass
     * unseen. Only eviction also counts such a connection as a failed attempt for port_scan. */
    bool cut = why == CONN_END_EVICTED || why == CONN_END_CAPTURE_END || why == CONN_END_SHUTDOWN;
    anomaly_set flood_set = end_set;
    if (cut && c->e.key.proto == 6) {
        anomaly_set ungraced = 0;
        for (int dir = 0; dir < 2; dir++)
            ungraced |= tcp_conn_end_anomalies(&c->tcp, dir, INT64_MAX) & half_open_set;
        flood_set |= ungraced;
        if (why == CONN_END_EVICTED)
            end_set |= ungraced & anomaly_bit(ANOMALY_SYN_UNANSWERED);
    }
    bool attempt = c->e.key.proto == 6 && !c->tcp.midstream;
    bool unanswered = end_set & anomaly_bit(ANOMALY_SYN_UNANSWERED);
    return (struct host_counting){
        .half_open = (flood_set & half_open_set) != 0,
        .failed_attempt = attempt && (unanswered || conn_zeek_state(c) == ZEEK_REJ),
    };
}

void host_detect_count(struct hosts *h, const struct host_config *cfg, const struct conn *c,
                       struct host_counting counts, const struct host_fold_in *fold,
                       struct host_verdict *v) {
    v->alerts = 0;
    v->folded = false;
    uint8_t ver = c->e.key.ip_version;
    /* A connection counted against both a flooded destination and a scanning source folds into
     * the flood's aggregate only: each event is folded once. */
    if (counts.half_open) {
        count_half_open(h, cfg, c, v);
        if (fold)
            v->folded = hosts_fold(h, HOST_SYN_FLOOD, conn_addr(c, 1), ver, c->first_ns, fold);
    }
    if (counts.failed_attempt) {
        count_failed_attempt(h, cfg, c, v);
        if (fold && !v->folded)
            v->folded = hosts_fold(h, HOST_PORT_SCAN, conn_addr(c, 0), ver, c->first_ns, fold);
    }
}
