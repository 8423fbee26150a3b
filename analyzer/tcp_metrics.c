/* tcp_metrics: the measurements of each endpoint of a TCP connection (docs/metrics.md) — its
 * segments captured twice, its duplicate ACKs, its largest segment, the windows it advertised and
 * the time they were zero, the RTT of its data — taken from each segment around tcp_conn's
 * tracking of it. Owns nothing but the struct tcp_metrics of each endpoint. */
#include "tcp_metrics.h"

#include "seq.h"

/* A copy of a segment captured again comes within this of the first: a resend by the endpoint's
 * own timer comes no sooner than its RTO (RFC 6298 §2.4: 1 s; Linux's floor 200 ms) or a tail
 * loss probe (Linux's floor 10 ms). */
#define TCP_COPY_WINDOW_NS INT64_C(5000000)

/* The header fields a resend may change and a copy never does, mixed into 32 bits. */
static uint32_t segment_fingerprint(const struct packet *p) {
    uint32_t h = p->tcp.seq * 0x9e3779b1u;
    h = (h ^ (h >> 15) ^ p->tcp.ack) * 0x85ebca77u;
    h = (h ^ (h >> 13) ^ ((uint32_t)p->tcp.flags << 16 | p->tcp.window)) * 0xc2b2ae3du;
    h = (h ^ (h >> 16) ^ p->payload_len) * 0x27d4eb2fu;
    h = (h ^ (h >> 15) ^ p->tcp.opt.ts_val) * 0x165667b1u;
    return h ^ (h >> 16) ^ p->tcp.opt.ts_ecr;
}

/* Is p, from X, its previous segment captured a second time (a SPAN port or a capture on two
 * interfaces), not a resend? 1. the same TCP numbers, flags, window, length and timestamps;
 * 2. within TCP_COPY_WINDOW_NS; 3. IPv4: the same identification. Over IPv6 (no identification)
 * only segments that occupy sequence space count: a pure ACK repeated that fast is just as likely
 * a real duplicate ACK. */
static bool segment_is_copy(const struct tcp_endpoint *x, const struct packet *p, uint32_t fp,
                            int64_t ts) {
    if (!x->seen || fp != x->m.last_fp || ts - x->m.last_ns > TCP_COPY_WINDOW_NS ||
        ts < x->m.last_ns)
        return false;
    if (p->ip_version == 4)
        return p->ip_id == x->m.last_ip_id;
    return p->payload_len > 0 || (p->tcp.flags & (TCP_SYN | TCP_FIN));
}

/* A duplicate ACK from X (as Wireshark's tcp.analysis.duplicate_ack): a pure ACK (no payload,
 * no SYN, FIN or RST) at X's next sequence number (not a keep-alive) repeating X's last ack and
 * its last window, which is not zero (a window update or a zero-window ACK is not one). */
static bool segment_is_dup_ack(const struct tcp_endpoint *x, const struct packet *p, int64_t pos) {
    uint8_t f = p->tcp.flags;
    return (f & TCP_ACK) && !(f & (TCP_SYN | TCP_FIN | TCP_RST)) && p->payload_len == 0 &&
           x->ack_sent && p->tcp.ack == x->last_ack && p->tcp.window == x->window &&
           p->tcp.window != 0 && pos == x->hi;
}

static void window_account(struct tcp_conn *t, int dir, const struct packet *p, int64_t ts) {
    struct tcp_metrics *m = &t->ep[dir].m;
    /* A RST's window means nothing; a SYN's is never scaled (RFC 7323 §2.2), so it is not
     * comparable with the rest (tcptrace leaves it out too). */
    if (p->tcp.flags & (TCP_RST | TCP_SYN))
        return;
    uint32_t w = tcp_conn_window_bytes(t, dir, p->tcp.window, false);
    if (!m->window_seen || w < m->window_min)
        m->window_min = w;
    if (!m->window_seen || w > m->window_max)
        m->window_max = w;
    m->window_seen = true;
    if (w == 0 && m->zero_since_ns == 0)
        m->zero_since_ns = ts > 0 ? ts : 1;
    else if (w != 0 && m->zero_since_ns != 0) {
        m->zero_window_ns += (uint64_t)(ts > m->zero_since_ns ? ts - m->zero_since_ns : 0);
        m->zero_since_ns = 0;
    }
}

bool tcp_metrics_before(struct tcp_conn *t, int dir, const struct packet *p, int64_t pos,
                        int64_t ts) {
    struct tcp_endpoint *x = &t->ep[dir];
    uint32_t fp = segment_fingerprint(p);
    bool copy = segment_is_copy(x, p, fp, ts);
    if (copy)
        x->m.dup_segments++;
    else if (segment_is_dup_ack(x, p, pos))
        x->m.dup_acks++;
    x->m.last_fp = fp;
    x->m.last_ns = ts;
    x->m.last_ip_id = p->ip_id;
    if (p->payload_len > x->m.max_segment)
        x->m.max_segment = p->payload_len;
    window_account(t, dir, p, ts);
    return copy;
}

static void rtt_sample(struct tcp_metrics *m, int64_t rtt_ns) {
    uint64_t us = (uint64_t)rtt_ns / 1000u;
    uint32_t v = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
    if (m->rtt_count == 0 || v < m->rtt_min_us)
        m->rtt_min_us = v;
    if (v > m->rtt_max_us)
        m->rtt_max_us = v;
    m->rtt_sum_us += v;
    m->rtt_count++;
}

/* One data segment per direction is timed at a time, from its first transmission to the first
 * ACK at or past its end; a resend while it is timed cancels it (Karn's rule: which copy the ACK
 * answers cannot be known), a copy captured twice does not. */
void tcp_metrics_after(struct tcp_conn *t, int dir, const struct packet *p, int64_t ts, bool copy,
                       bool resent, bool grew) {
    struct tcp_endpoint *x = &t->ep[dir], *peer = &t->ep[!dir];
    if (resent && copy)
        x->m.dup_retransmits++;
    else if (resent)
        x->m.timing = false;
    else if (grew && !x->m.timing) {
        x->m.timing = true;
        x->m.timed_end = (uint32_t)x->data_hi;
        x->m.timed_ns = ts;
    }
    uint8_t f = p->tcp.flags;
    if (!(f & TCP_ACK) || (f & TCP_RST) || !peer->m.timing || !peer->base_known)
        return;
    /* An ACK of bytes the capture never saw: what it answers, and when that was sent, is
     * unknown. */
    if (t->raised & anomaly_bit(ANOMALY_ACK_UNSEEN_SEGMENT)) {
        peer->m.timing = false;
        return;
    }
    if (seq_geq(p->tcp.ack - peer->isn, peer->m.timed_end) && ts >= peer->m.timed_ns) {
        rtt_sample(&peer->m, ts - peer->m.timed_ns);
        peer->m.timing = false;
    }
}

uint64_t tcp_metrics_throughput(const struct tcp_conn *t, int dir, int64_t duration_ns) {
    double rate = (double)tcp_conn_sequence_bytes(t, dir) * 1e9 / (double)duration_ns;
    uint64_t whole = (uint64_t)rate;
    double part = rate - (double)whole;
    /* Half to even, as printf's %.0f (and so tcptrace) rounds. */
    return whole + (part > 0.5 || (part == 0.5 && (whole & 1)));
}

uint64_t tcp_metrics_zero_window_ns(const struct tcp_conn *t, int dir, int64_t now_ns) {
    const struct tcp_metrics *m = &t->ep[dir].m;
    uint64_t open =
        m->zero_since_ns && now_ns > m->zero_since_ns ? (uint64_t)(now_ns - m->zero_since_ns) : 0;
    return m->zero_window_ns + open;
}
