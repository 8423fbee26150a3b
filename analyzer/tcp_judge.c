/* tcp_judge: the part of tcp_conn (tcp_conn.h) that judges a connection when it ends — the
 * handshakes left half done and the data or FIN never acknowledged — from the facts tcp_conn.c
 * gathered per segment. Apart from the per-segment machinery because it runs once per
 * connection, and its rules (docs/anomalies.md, "end of connection") read best on one screen. */
#include "tcp_conn.h"

#include "seq.h"

/* Is what X sent at time sent_ns still to be judged? Only what was sent by the judging limit —
 * unless X already sent it again: its own retransmission timer has said the answer is overdue,
 * so no grace protects it any more. */
static bool judged(int64_t sent_ns, int64_t judge_until_ns, bool resent) {
    return resent || sent_ns <= judge_until_ns;
}

/* 1. syn_unanswered: the originator's SYN got neither SYN/ACK nor RST back. An originator that
 *    went on to acknowledge something was answered: the capture missed the other direction.
 * 2. synack_unanswered: the responder's SYN/ACK was never acknowledged; it sits in
 *    SYN_RECEIVED. A handshake completed by inference (sync_inferred: the responder acknowledged
 *    bytes the originator can only send once synchronized) has its SYN/ACK acknowledged.
 * 3. data_unacked, fin_unacked: the peer P is known to acknowledge (it sent an ACK), so its
 *    silence about X's data or FIN means something; on a one-sided capture nothing can be
 *    judged. Only P settles it — by an ACK, or by a RST of its own (P then dropped whatever it
 *    had): X's own RST says nothing about whether its earlier data or FIN arrived. */
anomaly_set tcp_conn_end_anomalies(const struct tcp_conn *t, int dir, int64_t judge_until_ns) {
    const struct tcp_endpoint *x = &t->ep[dir], *p = &t->ep[!dir];
    anomaly_set a = 0;
    bool peer_reset = p->flags_seen & TCP_RST; /* acceptable or not */
    bool reset = x->rst_sent || peer_reset;
    if (dir == 0 && x->syn_sent && !x->syn_implied && !p->syn_sent && !reset && !t->midstream &&
        !x->ack_sent && t->syn_ns <= judge_until_ns)
        a |= anomaly_bit(ANOMALY_SYN_UNANSWERED);
    if (dir == 1 && x->syn_sent && x->peer_syn_rcvd && !x->syn_acked && !reset &&
        t->synack_ns <= judge_until_ns)
        a |= anomaly_bit(ANOMALY_SYNACK_UNANSWERED);
    if (peer_reset || !p->ack_sent)
        return a;
    int64_t acked = seq_unwrap(p->last_ack, x->isn, x->hi);
    bool resent_unacked = x->retrans_bytes > 0 && seq_gt(x->resent_end, p->last_ack);
    if (x->data_hi > 1 && acked < x->data_hi &&
        judged(x->last_data_ns, judge_until_ns, resent_unacked))
        a |= anomaly_bit(ANOMALY_DATA_UNACKED);
    if (x->fin_sent && !x->fin_acked && judged(x->fin_ns, judge_until_ns, x->fin_resent))
        a |= anomaly_bit(ANOMALY_FIN_UNACKED);
    return a;
}

uint64_t tcp_conn_unacked_bytes(const struct tcp_conn *t, int dir) {
    const struct tcp_endpoint *x = &t->ep[dir], *p = &t->ep[!dir];
    if (!p->ack_sent || !x->base_known)
        return 0;
    int64_t acked = seq_unwrap(p->last_ack, x->isn, x->hi);
    return acked < x->data_hi ? (uint64_t)(x->data_hi - (acked > 1 ? acked : 1)) : 0;
}
