/* tcp_conn: per-connection TCP tracking. A segment from endpoint X updates facts about X as a
 * sender (SYN, FIN, RST, bytes) and, through its ACK field, what X received from its peer P. Each
 * endpoint's RFC 793 state is then a pure function of those facts (tcp_conn_state), so every
 * transition lives in that one function. Zeek's conn_state and history follow Zeek's own rules
 * (conn_state() in base/protocols/conn/main.zeek, its TCP analyzer's endpoint states and history
 * letters; docs/schema.md, "conn_state" and "history") so Zeek tooling reads our records. */
#include "tcp_conn.h"

#include <string.h>

#include "seq.h"
#include "tcp_metrics.h"

enum {
    HIST_ONCE_A = 1,
    HIST_ONCE_D = 2,
    HIST_ONCE_I = 4,
    HIST_ONCE_Q = 8,
    HIST_SEEN_RST = 16, /* any RST from this endpoint, accepted or not (R/r repetition) */
};

/* ---- history letters (upper case: originator, lower case: responder) ---------------------- */

static void history_add(struct tcp_conn *t, int dir, char letter) {
    size_t n = strlen(t->history);
    if (n + 1 >= TCP_HISTORY_MAX)
        return;
    t->history[n] = dir == 0 ? letter : (char)(letter - 'A' + 'a');
    t->history[n + 1] = '\0';
}

/* Zeek's logarithmic letters (C, T, W, G): recorded when the count reaches 1, 10, 100, … */
static void history_scaled(struct tcp_conn *t, int dir, char letter, uint32_t *count) {
    uint32_t n = ++*count;
    while (n % 10 == 0)
        n /= 10;
    if (n == 1)
        history_add(t, dir, letter);
}

static void history_once(struct tcp_conn *t, int dir, char letter, uint8_t bit) {
    struct tcp_endpoint *x = &t->ep[dir];
    if (x->history_once & bit)
        return;
    x->history_once |= bit;
    history_add(t, dir, letter);
}

/* The letters one segment adds, by its SYN/FIN/RST combination (Zeek's update_history). S, H,
 * F and R repeat only for a new sequence position; A, D, I and Q once per direction. */
static void history_on_flags(struct tcp_conn *t, int dir, uint8_t flags, uint32_t len,
                             int64_t pos) {
    struct tcp_endpoint *x = &t->ep[dir];
    bool syn = flags & TCP_SYN, fin = flags & TCP_FIN, rst = flags & TCP_RST;
    int n = syn + fin + rst;
    if (n == 0) {
        if (len > 0)
            history_once(t, dir, 'D', HIST_ONCE_D);
        else if (flags & TCP_ACK)
            history_once(t, dir, 'A', HIST_ONCE_A);
    } else if (n > 1) {
        history_once(t, dir, fin && rst ? 'I' : 'Q', fin && rst ? HIST_ONCE_I : HIST_ONCE_Q);
    } else if (syn) {
        if (x->last_syn_pos != (uint32_t)pos || !x->syn_sent || x->syn_implied)
            history_add(t, dir, flags & TCP_ACK ? 'H' : 'S');
        x->last_syn_pos = (uint32_t)pos;
    } else if (fin) {
        if (!x->fin_sent || x->last_fin_pos != (uint32_t)(pos + len))
            history_add(t, dir, 'F');
        x->last_fin_pos = (uint32_t)(pos + len);
    } else {
        if (!(x->history_once & HIST_SEEN_RST) || x->last_rst_pos != (uint32_t)pos)
            history_add(t, dir, 'R');
        x->history_once |= HIST_SEEN_RST;
        x->last_rst_pos = (uint32_t)pos;
    }
}

/* ---- sequence space ----------------------------------------------------------------------- */

/* Relative position of seq in X's sequence space (the SYN is position 0). */
static int64_t seq_pos(const struct tcp_endpoint *x, uint32_t seq) {
    return seq_unwrap(seq, x->isn, x->hi);
}

/* Sequence numbers can be ordered only within 2^31 of each other (RFC 1982). A segment whose
 * end — or an ACK that acknowledges a byte — nearly that far past the highest byte seen would put
 * the sender's next bytes half the sequence space behind the highest, where they unwrap as
 * bytes *ahead*: every later segment would look like a gigabyte gap. Such a jump (within 16 MiB
 * of 2^31) is taken as forged or corrupt and left out of the byte accounting (the packet itself
 * is still counted). Smaller jumps are real capture gaps and are accounted as such (a multi-
 * gigabyte transfer captured with losses, as in Zeek's ftp bigtransfer trace). */
#define TCP_MAX_JUMP_BYTES (INT64_C(2147483648) - INT64_C(16777216))

static bool beyond_serial_range(int64_t pos, int64_t hi) {
    return pos - hi > TCP_MAX_JUMP_BYTES;
}

/* Endpoint dir's holes, or NULL if it has none. */
static struct tcp_hole_list *holes_of(struct tcp_conn *t, int dir) {
    return t->holes ? &t->holes->ep[dir] : NULL;
}

static void hole_remove(struct tcp_hole_list *h, unsigned i) {
    h->r[i] = h->r[--h->n];
}

/* Records [start, end) of endpoint dir as not captured, in the connection's holes block (taken
 * from the pool on first need). With no slot left — or no block to be had — the oldest hole is
 * given up and its bytes counted as missed at once (a bounded approximation for very lossy
 * captures). */
static void hole_add(struct tcp_conn *t, int dir, struct block_pool *pool, int64_t start,
                     int64_t end) {
    struct tcp_endpoint *x = &t->ep[dir];
    if (!t->holes && pool)
        t->holes = block_pool_get(pool);
    if (!t->holes) {
        x->missed_bytes += (uint64_t)(end - start);
        return;
    }
    struct tcp_hole_list *h = &t->holes->ep[dir];
    if (h->n == TCP_MAX_HOLES) {
        x->missed_bytes += (uint64_t)(h->r[0].end - h->r[0].start);
        hole_remove(h, 0);
    }
    h->r[h->n++] = (struct seq_range){start, end};
}

/* Bytes of [s, e) sent by endpoint dir that fill holes (never seen before); the holes shrink or
 * split. */
static uint64_t holes_fill(struct tcp_conn *t, int dir, struct block_pool *pool, int64_t s,
                           int64_t e) {
    struct tcp_hole_list *h = holes_of(t, dir);
    uint64_t filled = 0;
    for (unsigned i = 0; h && i < h->n;) {
        struct seq_range r = h->r[i];
        int64_t a = s > r.start ? s : r.start, b = e < r.end ? e : r.end;
        if (a >= b) {
            i++;
            continue;
        }
        filled += (uint64_t)(b - a);
        hole_remove(h, i);
        if (r.start < a)
            hole_add(t, dir, pool, r.start, a);
        if (b < r.end)
            hole_add(t, dir, pool, b, r.end);
    }
    return filled;
}

/* Gives the holes block back once neither endpoint has a hole. */
static void holes_trim(struct tcp_conn *t, struct block_pool *pool) {
    if (t->holes && pool && t->holes->ep[0].n == 0 && t->holes->ep[1].n == 0) {
        block_pool_put(pool, t->holes);
        t->holes = NULL;
    }
}

void tcp_conn_release(struct tcp_conn *t, struct block_pool *holes) {
    if (holes)
        block_pool_put(holes, t->holes);
    t->holes = NULL;
}

static void raise_anomaly(struct tcp_conn *t, enum anomaly a) {
    t->raised |= anomaly_bit(a);
}

/* Accounts payload bytes [s, e) sent by X at ts_ns: new bytes count once, bytes already sent
 * are retransmitted. Raises out_of_order for bytes that fill a hole (sent before, captured only
 * now) and segment_not_captured for a segment starting past the highest byte seen. Returns the
 * retransmitted byte count. */
static uint64_t account_payload(struct tcp_conn *t, int dir, struct block_pool *pool, int64_t s,
                                int64_t e, int64_t ts_ns, uint64_t *new_bytes) {
    struct tcp_endpoint *x = &t->ep[dir];
    *new_bytes = 0;
    if (e <= s)
        return 0;
    uint64_t fresh = holes_fill(t, dir, pool, s, e < x->hi ? e : x->hi);
    if (fresh)
        raise_anomaly(t, ANOMALY_OUT_OF_ORDER);
    if (s > x->hi) {
        hole_add(t, dir, pool, x->hi, s);
        raise_anomaly(t, ANOMALY_SEGMENT_NOT_CAPTURED);
    }
    if (e > x->hi) {
        fresh += (uint64_t)(e - (s > x->hi ? s : x->hi));
        x->hi = e;
    }
    if (e > x->data_hi) {
        x->data_hi = e;
        x->last_data_ns = ts_ns;
    }
    uint64_t old = (uint64_t)(e - s) - fresh;
    x->payload_bytes += fresh;
    x->retrans_bytes += old;
    *new_bytes = fresh;
    return old;
}

/* ---- facts from one segment --------------------------------------------------------------- */

/* Sets X's sequence base from its first segment when no SYN was seen (mid-stream pickup): the
 * segment is taken to follow a SYN at seq − 1, as Zeek does for partial connections. */
static void base_init(struct tcp_endpoint *x, uint32_t isn) {
    x->isn = isn;
    x->hi = 1;
    x->base_known = true;
}

/* Does ack acknowledge something X actually sent, past position `after`? */
static bool acks_past(const struct tcp_endpoint *x, uint32_t ack, int64_t after) {
    if (!x->base_known)
        return false;
    int64_t a = seq_pos(x, ack);
    return a > after && a <= x->hi;
}

/* Peer P's holes that X's acknowledgement has passed are data that was sent, received, and
 * never captured: missed bytes (Zeek's content gaps, history G/g). */
static void ack_passes_holes(struct tcp_conn *t, int pdir, int64_t ack_pos) {
    struct tcp_endpoint *p = &t->ep[pdir];
    struct tcp_hole_list *h = holes_of(t, pdir);
    for (unsigned i = 0; h && i < h->n;) {
        if (h->r[i].end <= ack_pos) {
            p->missed_bytes += (uint64_t)(h->r[i].end - h->r[i].start);
            hole_remove(h, i);
            history_scaled(t, pdir, 'G', &p->n_gaps);
            raise_anomaly(t, ANOMALY_ACK_UNSEEN_SEGMENT);
        } else {
            i++;
        }
    }
}

/* RFC 9293 §3.10.7.4: a TCP accepts segment text only in a synchronized state, and sends bytes
 * past its SYN only once synchronized — so when X acknowledges bytes P sent after its SYN (and
 * after any data the SYN itself carried, TCP Fast Open), P had received X's SYN and had its own
 * SYN acknowledged: the handshake completed, even if the capture never saw P's side of it (a
 * tap on one direction of an asymmetric route, a capture on one side of a firewall). It is
 * inferred only while none of P's segments was captured (when P is seen, its own ACK shows the
 * handshake, and an ack from X past all P sent is judged as it is: handshake_bad_ack), in two
 * ways, by what is known of P's sequence space:
 *  1. P's SYN is implied by X's SYN/ACK, whose ack set P's position 1 — past the SYN and any
 *     data of it X acknowledged: X's ack lies past position 1;
 *  2. nothing is known of it: X's acks move on past the first one X sent after its SYN, which
 *     acknowledged P's SYN or more — P sent bytes after its SYN.
 * Only ACKs of non-SYN segments count (a SYN/ACK acknowledges a SYN's own data). */
static bool proves_peer_synchronized(const struct tcp_conn *t, int dir, uint32_t ack, bool syn) {
    const struct tcp_endpoint *x = &t->ep[dir], *p = &t->ep[!dir];
    if (syn || tcp_conn_established(t) || !x->syn_sent || x->syn_implied || p->seen)
        return false;
    if (p->base_known && p->syn_sent) {
        int64_t a = seq_pos(p, ack);
        return a > 1 && !beyond_serial_range(a, p->hi);
    }
    return !p->base_known && x->ack_sent && seq_gt(ack, x->last_ack);
}

/* Both SYNs were acknowledged, as proves_peer_synchronized() showed; ack_ns stays 0 (no captured
 * packet completed the handshake, so there is no SYN/ACK-to-ACK time). */
static void infer_handshake_done(struct tcp_conn *t) {
    for (int d = 0; d < 2; d++) {
        t->ep[d].syn_acked = true;
        t->ep[d].peer_syn_rcvd = true;
    }
    t->handshake_done = true;
    t->sync_inferred = true;
}

/* RFC 9293 §3.5.3 via the ACK field of a segment from X (RST segments' ACKs are ignored, as in
 * Zeek): P's SYN or FIN is acknowledged only by an ack past its position, and never by an ack
 * beyond what P sent. */
static void on_ack(struct tcp_conn *t, int dir, uint32_t ack, bool syn, int64_t ts_ns) {
    struct tcp_endpoint *x = &t->ep[dir], *p = &t->ep[!dir];
    if (proves_peer_synchronized(t, dir, ack, syn))
        infer_handshake_done(t);
    if (!x->ack_sent || seq_gt(ack, x->last_ack))
        x->last_ack = ack;
    x->ack_sent = true;
    if (!p->base_known)
        return;
    if (p->syn_sent && !p->syn_acked && acks_past(p, ack, 0)) {
        p->syn_acked = true;
        x->peer_syn_rcvd = true;
        /* Both SYNs acknowledged (by the final ACK, or by the SYN/ACKs of a simultaneous open). */
        if (x->syn_acked && !t->handshake_done) {
            t->handshake_done = true;
            t->ack_ns = ts_ns;
        }
    }
    if (p->fin_sent && !p->fin_acked && acks_past(p, ack, p->fin_pos)) {
        p->fin_acked = true;
        x->peer_fin_rcvd = true;
    }
    int64_t a = seq_pos(p, ack);
    if (p->probe_pending && a == p->hi + 1) { /* the receiver took the zero-window probe's byte */
        p->hi = a;
        p->data_hi = a;
        p->payload_bytes++;
    }
    p->probe_pending = false;
    ack_passes_holes(t, !dir, a);
    /* An acknowledgement nearly 2^31 past anything P sent is forged or corrupt. */
    if (a > p->hi && beyond_serial_range(a, p->hi) && p->base_known) {
        raise_anomaly(t, ANOMALY_SEGMENT_OUT_OF_WINDOW);
        return;
    }
    /* Acknowledged beyond anything captured from P (after the handshake, or in a connection
     * picked up mid-stream, whose handshake is long past): sent, never seen. */
    bool synchronized = t->midstream || (p->syn_acked && x->peer_syn_rcvd);
    if (a > p->hi && synchronized && (!p->fin_sent || a <= p->fin_pos)) {
        p->missed_bytes += (uint64_t)(a - p->hi);
        p->hi = a;
        raise_anomaly(t, ANOMALY_ACK_UNSEEN_SEGMENT);
    }
}

/* The first ACK of the originator after the SYN/ACK must acknowledge the responder's SYN (and
 * any data the SYN/ACK carried): an ack outside (ISN, highest byte sent] is handshake_bad_ack. */
static void check_handshake_ack(struct tcp_conn *t, const struct packet *p) {
    const struct tcp_endpoint *r = &t->ep[1];
    if (t->handshake_ack_checked || !r->syn_sent || t->handshake_done)
        return;
    t->handshake_ack_checked = true;
    if (!acks_past(r, p->tcp.ack, 0))
        raise_anomaly(t, ANOMALY_HANDSHAKE_BAD_ACK);
}

static void options_from_syn(struct tcp_endpoint *x, const struct tcp_options *o) {
    x->opt_seen = true;
    x->sack_permitted = o->sack_permitted;
    x->timestamps = o->has_timestamps;
    x->has_wscale = o->has_wscale;
    x->wscale = o->wscale;
    x->mss = o->has_mss ? o->mss : 0;
}

/* A SYN from X: the first one sets its ISN; the same ISN again is a retransmission; a new ISN
 * before the handshake completes re-initialises X's sequence space (the old SYN was abandoned). */
static void on_syn(struct tcp_conn *t, int dir, const struct packet *p, int64_t ts_ns) {
    struct tcp_endpoint *x = &t->ep[dir], *peer = &t->ep[!dir];
    bool ack = p->tcp.flags & TCP_ACK;
    /* A SYN/ACK must acknowledge the SYN it answers: ack = ISN + 1, or past the SYN's data when
     * the SYN carried some (TCP Fast Open, RFC 7413) — never anything the SYN did not send. */
    if (ack && peer->syn_sent && !peer->syn_implied && !acks_past(peer, p->tcp.ack, 0))
        raise_anomaly(t, ANOMALY_SYNACK_BAD_ACK);
    if (x->syn_implied && p->tcp.seq == x->isn) {
        /* The SYN a SYN/ACK already answered, seen late (reordered capture): the handshake's
         * first packet, not a retransmission. */
        x->syn_implied = false;
        options_from_syn(x, &p->tcp.opt);
        if (!ack && dir == 0 && !t->syn_ns)
            t->syn_ns = ts_ns;
    } else if (!x->syn_sent) {
        if (dir == 1 && !ack && peer->syn_sent && !peer->syn_acked) {
            t->simultaneous_open = true; /* crossing SYNs: RFC 9293 §3.5 figure 8 */
            raise_anomaly(t, ANOMALY_SIMULTANEOUS_OPEN);
        }
        if (t->midstream && x->base_known) {
            /* A SYN in a connection picked up established: flagged, and the sequence space
             * already followed is kept. */
            raise_anomaly(t, ANOMALY_SYN_ON_ESTABLISHED);
            return;
        }
        x->syn_sent = true;
        base_init(x, p->tcp.seq);
        options_from_syn(x, &p->tcp.opt);
        if (ack && !t->synack_ns)
            t->synack_ns = ts_ns;
        if (!ack && dir == 0 && !t->syn_ns)
            t->syn_ns = ts_ns;
    } else if (tcp_conn_established(t) &&
               !(ack && p->tcp.seq == x->isn && (dir == 1 || t->simultaneous_open))) {
        /* Anything but a SYN/ACK with the sender's ISN from an endpoint that sends one in the
         * handshake — the responder, or either side of a simultaneous open — is a SYN that does
         * not belong in an established connection. Such a SYN/ACK is the handshake's step when
         * the other side's SYN/ACK was captured first (both cross on the wire), or a resend
         * because its ACK was lost. */
        raise_anomaly(t, ANOMALY_SYN_ON_ESTABLISHED);
    } else if (p->tcp.seq == x->isn && ack && t->simultaneous_open && !x->synack_sent) {
        /* Simultaneous open: after its SYN each side sends a SYN/ACK with the same ISN — the
         * next step of the handshake (RFC 9293 figure 8), not a retransmission. */
        if (!t->synack_ns)
            t->synack_ns = ts_ns;
    } else if (p->tcp.seq == x->isn) {
        if (p->payload_len == 0) { /* with data, the payload accounting counts it */
            x->retrans_pkts += x->retrans_pkts < UINT32_MAX;
            raise_anomaly(t, ANOMALY_RETRANSMISSION);
        }
    } else if (!tcp_conn_established(t)) {
        raise_anomaly(t, ANOMALY_SYN_ISN_CHANGED);
        base_init(x, p->tcp.seq);
        if (t->holes)
            t->holes->ep[dir].n = 0;
        x->data_hi = 0;
        options_from_syn(x, &p->tcp.opt);
    }
    if (ack)
        x->synack_sent = true;
}

static void on_fin(struct tcp_conn *t, int dir, struct block_pool *pool, int64_t fin_pos,
                   int64_t ts_ns) {
    struct tcp_endpoint *x = &t->ep[dir];
    if (!x->fin_sent) {
        x->fin_sent = true;
        x->fin_pos = fin_pos;
        x->fin_ns = ts_ns;
        /* RFC 9293 §3.6: the active closer sends its FIN before it has received the peer's. */
        x->active_closer = !x->peer_fin_rcvd;
        if (t->close_initiator < 0)
            t->close_initiator = (int8_t)dir;
    }
    if (fin_pos > x->hi) { /* the FIN comes after bytes never captured: a gap like any other */
        hole_add(t, dir, pool, x->hi, fin_pos);
        raise_anomaly(t, ANOMALY_SEGMENT_NOT_CAPTURED);
    }
    if (fin_pos + 1 > x->hi)
        x->hi = fin_pos + 1;
}

/* RFC 9293 §3.10.7.3: a receiver still in SYN_SENT accepts a RST only if its ACK acknowledges
 * what the receiver sent (ISN + 1, or past the SYN's data with TCP Fast Open) — anything else is
 * dropped, which is what defeats a blind RST racing the SYN/ACK. Otherwise (§3.5.3, RFC 5961 §3) a
 * RST is acceptable when its sequence number falls in the receiver's window, or is exactly the
 * sender's next sequence number; before the receiver has acknowledged anything there is nothing to
 * check it against. */
uint32_t tcp_conn_window_bytes(const struct tcp_conn *t, int dir, uint16_t window, bool syn) {
    const struct tcp_endpoint *x = &t->ep[dir];
    bool scaled = x->has_wscale && t->ep[!dir].has_wscale && !syn;
    return (uint32_t)window << (scaled ? (x->wscale > 14 ? 14u : x->wscale) : 0u);
}

static bool rst_acceptable(const struct tcp_conn *t, int dir, const struct packet *p) {
    const struct tcp_endpoint *x = &t->ep[dir], *r = &t->ep[!dir];
    if (r->syn_sent && !r->syn_acked && !r->ack_sent)
        return (p->tcp.flags & TCP_ACK) && acks_past(r, p->tcp.ack, 0);
    if (!r->ack_sent || !x->base_known)
        return true;
    if (seq_pos(x, p->tcp.seq) == x->hi)
        return true;
    uint32_t win = tcp_conn_window_bytes(t, !dir, r->window, r->window_from_syn);
    if (win == 0)
        win = 1;
    return seq_geq(p->tcp.seq, r->last_ack) && seq_lt(p->tcp.seq, r->last_ack + win);
}

/* Zeek's endpoint states (TCPSessionAdapter), used only for conn_state. */
static void zeek_update(struct tcp_conn *t, int dir, uint8_t flags, uint32_t len) {
    uint8_t *x = &t->ep[dir].zeek, *p = &t->ep[!dir].zeek;
    if (flags & TCP_RST) {
        if (!(*x == ZEEK_CLOSED && *p == ZEEK_CLOSED)) { /* after a full FIN exchange: no-op */
            t->ep[dir].zeek_prev = *x;
            *x = ZEEK_RESET;
        }
        return;
    }
    if (flags & TCP_FIN) {
        *x = ZEEK_CLOSED;
        /* The peer closed with FIN and then reset: with this FIN it counts as a normal close. */
        if (*p == ZEEK_RESET && t->ep[!dir].zeek_prev == ZEEK_CLOSED)
            *p = ZEEK_CLOSED;
        return;
    }
    if (flags & TCP_SYN) {
        bool ack = flags & TCP_ACK;
        if (*x == ZEEK_INACTIVE && !ack)
            *x = ZEEK_SYN_SENT;
        else if ((*x == ZEEK_INACTIVE || *x == ZEEK_SYN_SENT) && ack && dir == 0)
            *x = ZEEK_SYN_ACK_SENT;
        else if ((*x == ZEEK_INACTIVE || *x == ZEEK_SYN_SENT) && ack) {
            *x = ZEEK_ESTABLISHED; /* the SYN/ACK also establishes the waiting originator */
            if (*p == ZEEK_SYN_SENT || *p == ZEEK_SYN_ACK_SENT)
                *p = ZEEK_ESTABLISHED;
        }
        return;
    }
    if (*x != ZEEK_INACTIVE)
        return;
    if (*p == ZEEK_ESTABLISHED)
        *x = ZEEK_ESTABLISHED;
    else if (!(dir == 1 && *p == ZEEK_SYN_SENT && len == 0))
        *x = ZEEK_PARTIAL; /* (a responder's bare ACK to a SYN leaves it inactive) */
}

static bool close_complete(struct tcp_conn *t) {
    const struct tcp_endpoint *o = &t->ep[0], *r = &t->ep[1];
    if (o->rst_sent || r->rst_sent)
        return true;
    return o->fin_acked && r->fin_acked;
}

/* ---- public ------------------------------------------------------------------------------- */

void tcp_conn_init(struct tcp_conn *t, bool flipped, bool midstream) {
    memset(t, 0, sizeof *t);
    t->close_initiator = -1;
    t->flipped = flipped;
    t->midstream = midstream;
    if (flipped)
        t->history[0] = '^';
}

/* A SYN/ACK whose originator's SYN was never seen (reordered or lost): the SYN is implied by
 * the SYN/ACK's acknowledgement, so the handshake can still complete. */
static void imply_peer_syn(struct tcp_conn *t, int dir, const struct packet *p) {
    struct tcp_endpoint *o = &t->ep[!dir];
    if (dir != 1 || o->seen || o->syn_sent || !(p->tcp.flags & TCP_ACK))
        return;
    o->syn_sent = true;
    o->syn_implied = true;
    t->reordered = true;
    base_init(o, p->tcp.ack - 1);
}

/* Payload of a segment seen after the sender's own FIN: beyond the FIN it is new data that cannot
 * exist (data_after_fin); before it, bytes never seen until now were delayed or reordered on the
 * path (late_segment_after_fin). A plain retransmission of bytes already seen is neither. */
static void check_after_fin(struct tcp_conn *t, const struct tcp_endpoint *x, int64_t end,
                            uint64_t fresh) {
    if (end > x->fin_pos)
        raise_anomaly(t, ANOMALY_DATA_AFTER_FIN);
    else if (fresh > 0)
        raise_anomaly(t, ANOMALY_LATE_SEGMENT_AFTER_FIN);
}

/* Sequence accounting of the payload (and a repeated FIN) of one segment. Keep-alives (0 or 1
 * byte just below the next sequence number) and zero-window probes (1 byte while the peer
 * advertises no window) are neither data nor retransmissions. */
static void account_segment(struct tcp_conn *t, int dir, const struct packet *p, int64_t pos,
                            int64_t ts_ns, struct block_pool *pool) {
    struct tcp_endpoint *x = &t->ep[dir];
    uint8_t flags = p->tcp.flags;
    uint32_t len = p->payload_len;
    int64_t start = pos + ((flags & TCP_SYN) ? 1 : 0);
    if (beyond_serial_range(start + len + ((flags & TCP_FIN) ? 1 : 0), x->hi)) {
        raise_anomaly(t, ANOMALY_SEGMENT_OUT_OF_WINDOW);
        return;
    }
    bool control = flags & (TCP_SYN | TCP_FIN | TCP_RST);
    bool keepalive = !control && len <= 1 && pos == x->hi - 1;
    /* A zero-window probe: 1 byte at the next sequence number while the peer's window is 0.
     * Not data until the peer acknowledges it (on_ack), never a retransmission. */
    bool probe = !control && len == 1 && t->ep[!dir].window == 0 && start >= x->hi - 1;
    /* Zeek's T/t: a payload segment ending at or below the highest byte already seen (a 1-byte
     * keep-alive included); one that also brings new bytes gets no letter, though its old bytes
     * still count as retransmitted below. */
    if (len > 0 && !(flags & TCP_RST) && start + len <= x->hi)
        history_scaled(t, dir, 'T', &x->n_retrans_data);
    uint64_t fresh = 0, old = 0;
    if (probe)
        x->probe_pending = start == x->hi;
    else if (len > 0 && !(flags & TCP_RST) && !keepalive)
        old = account_payload(t, dir, pool, start, start + len, ts_ns, &fresh);
    if (len > 0 && !(flags & TCP_RST) && x->fin_sent && !probe)
        check_after_fin(t, x, start + len, fresh);
    /* What X sends again, its own timer says is overdue: the end judgement gives it no grace. */
    uint32_t end_seq = x->isn + (uint32_t)(start + len);
    if (old > 0 && (x->retrans_bytes == old || seq_gt(end_seq, x->resent_end)))
        x->resent_end = end_seq; /* its first resend (retrans_bytes was 0), or a higher one */
    bool fin_again = (flags & TCP_FIN) && x->fin_sent && start + len == x->fin_pos;
    x->fin_resent |= fin_again;
    if (old > 0) {
        x->retrans_pkts += x->retrans_pkts < UINT32_MAX;
        raise_anomaly(t, ANOMALY_RETRANSMISSION);
    } else if (fin_again) {
        x->retrans_pkts += x->retrans_pkts < UINT32_MAX; /* the same FIN again */
        raise_anomaly(t, ANOMALY_RETRANSMISSION);
    } else if ((flags & TCP_FIN) && x->fin_sent && start + len > x->fin_pos) {
        raise_anomaly(t, ANOMALY_DATA_AFTER_FIN); /* the FIN moved forward: new sequence space */
    }
    if (flags & TCP_FIN)
        on_fin(t, dir, pool, start + len, ts_ns);
}

bool tcp_conn_on_segment(struct tcp_conn *t, int dir, const struct packet *p, int64_t ts_ns,
                         struct block_pool *holes) {
    struct tcp_endpoint *x = &t->ep[dir];
    uint8_t flags = p->tcp.flags;
    bool was_closed = t->close_how != TCP_CLOSE_NONE;

    t->raised = 0;
    if (!tcp_flags_valid(flags))
        raise_anomaly(t, ANOMALY_INVALID_FLAGS);
    if ((flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK))
        imply_peer_syn(t, dir, p);
    if (!x->base_known && !(flags & TCP_SYN))
        base_init(x, p->tcp.seq - 1);
    int64_t pos = x->base_known ? seq_pos(x, p->tcp.seq) : 0;
    bool copy = tcp_metrics_before(t, dir, p, pos, ts_ns);
    uint32_t resent_before = x->retrans_pkts;
    int64_t data_hi_before = x->data_hi;
    history_on_flags(t, dir, flags, p->payload_len, pos);
    x->seen = true;
    x->flags_seen |= flags;
    x->window = p->tcp.window;
    x->window_from_syn = (flags & TCP_SYN) != 0;
    if (p->tcp.window == 0 && !(flags & TCP_RST)) {
        history_scaled(t, dir, 'W', &x->n_zero_window);
        raise_anomaly(t, ANOMALY_ZERO_WINDOW);
    }

    if (dir == 0 && (flags & TCP_ACK) && !(flags & (TCP_SYN | TCP_RST)))
        check_handshake_ack(t, p);
    if ((flags & TCP_ACK) && !(flags & TCP_RST))
        on_ack(t, dir, p->tcp.ack, (flags & TCP_SYN) != 0, ts_ns);
    if (flags & TCP_SYN) {
        on_syn(t, dir, p, ts_ns);
        pos = 0; /* SYN data starts at position 1 */
    }
    account_segment(t, dir, p, pos, ts_ns, holes);
    holes_trim(t, holes);
    tcp_metrics_after(t, dir, p, ts_ns, copy, x->retrans_pkts != resent_before,
                      x->data_hi > data_hi_before);
    if (flags & TCP_RST) {
        if (!rst_acceptable(t, dir, p)) {
            raise_anomaly(t, ANOMALY_RST_OUT_OF_WINDOW);
        } else {
            x->rst_sent = true;
            if (!was_closed)
                t->close_initiator = (int8_t)dir;
        }
    }
    zeek_update(t, dir, flags, p->payload_len);

    if (was_closed || !close_complete(t))
        return false;
    if (x->rst_sent || t->ep[!dir].rst_sent)
        t->close_how = TCP_CLOSE_RST;
    else
        t->close_how = t->ep[0].active_closer && t->ep[1].active_closer ? TCP_CLOSE_SIMULTANEOUS_FIN
                                                                        : TCP_CLOSE_FIN;
    return true;
}

void tcp_conn_on_bad_checksum(struct tcp_conn *t, int dir) {
    history_scaled(t, dir, 'C', &t->ep[dir].n_bad_checksum);
}

bool tcp_conn_established(const struct tcp_conn *t) {
    return t->handshake_done || t->midstream;
}

bool tcp_conn_any_fin(const struct tcp_conn *t) {
    return t->ep[0].fin_sent || t->ep[1].fin_sent;
}

/* The rules of docs/schema.md ("TCP endpoint states"), evaluated top-down: the first that holds
 * decides. Mid-stream connections count as established on both sides (the handshake happened
 * before the capture), like conntrack's and pf's loose pickup. */
enum tcp_state tcp_conn_state(const struct tcp_conn *t, int dir) {
    const struct tcp_endpoint *x = &t->ep[dir], *p = &t->ep[!dir];
    bool syn_acked = x->syn_acked || (t->midstream && !x->syn_sent);
    bool peer_syn = x->peer_syn_rcvd || (t->midstream && !p->syn_sent);
    if (x->rst_sent || p->rst_sent)
        return TCP_STATE_CLOSED; /* RFC 9293 §3.10.7.4: a reset connection is gone */
    if (x->fin_sent && x->active_closer) {
        if (x->fin_acked && x->peer_fin_rcvd)
            return TCP_STATE_TIME_WAIT; /* both FINs done; X waits 2×MSL */
        if (x->peer_fin_rcvd)
            return TCP_STATE_CLOSING; /* simultaneous close: FINs crossed */
        return x->fin_acked ? TCP_STATE_FIN_WAIT_2 : TCP_STATE_FIN_WAIT_1;
    }
    if (x->fin_sent) /* passive closer: its FIN answered the peer's */
        return x->fin_acked ? TCP_STATE_CLOSED : TCP_STATE_LAST_ACK;
    if (x->peer_fin_rcvd)
        return TCP_STATE_CLOSE_WAIT; /* peer closed its half; X has not yet */
    if (syn_acked && peer_syn)
        return TCP_STATE_ESTABLISHED;
    if (x->syn_sent && x->peer_syn_rcvd)
        return TCP_STATE_SYN_RECEIVED; /* X answered a SYN; its own SYN is not yet acknowledged */
    if (x->syn_sent)
        return TCP_STATE_SYN_SENT;
    if (dir == 1 && p->syn_sent && !x->seen)
        return TCP_STATE_LISTEN; /* addressed by a SYN, silent so far */
    return TCP_STATE_CLOSED;
}

/* Zeek's RSTOS0 test: history matches ^\^?S[^HAFGIQ]*R (originator SYN, then RST, nothing of
 * a handshake or close in between). */
static bool history_is_rstos0(const char *h) {
    if (*h == '^')
        h++;
    if (*h++ != 'S')
        return false;
    for (; *h && *h != 'R'; h++)
        if (strchr("HAFGIQ", *h))
            return false;
    return *h == 'R';
}

uint64_t tcp_conn_sequence_bytes(const struct tcp_conn *t, int dir) {
    return t->ep[dir].payload_bytes + t->ep[dir].missed_bytes;
}

/* Zeek's conn_state() (main.zeek), from the two Zeek endpoint states, history and sizes. */
enum zeek_conn_state tcp_conn_zeek_state(const struct tcp_conn *t) {
    uint8_t os = t->ep[0].zeek, rs = t->ep[1].zeek;
    bool o_inactive = os == ZEEK_INACTIVE || os == ZEEK_PARTIAL;
    bool r_inactive = rs == ZEEK_INACTIVE || rs == ZEEK_PARTIAL;
    if (rs == ZEEK_RESET) {
        if (os == ZEEK_SYN_SENT || os == ZEEK_SYN_ACK_SENT ||
            (os == ZEEK_RESET && tcp_conn_sequence_bytes(t, 0) == 0 &&
             tcp_conn_sequence_bytes(t, 1) == 0))
            return ZEEK_REJ;
        return o_inactive ? ZEEK_RSTRH : ZEEK_RSTR;
    }
    if (os == ZEEK_RESET) {
        if (r_inactive)
            return history_is_rstos0(t->history) ? ZEEK_RSTOS0 : ZEEK_OTH;
        return ZEEK_RSTO;
    }
    if (rs == ZEEK_CLOSED && os == ZEEK_CLOSED)
        return ZEEK_SF;
    if (os == ZEEK_CLOSED)
        return r_inactive ? ZEEK_SH : ZEEK_S2;
    if (rs == ZEEK_CLOSED)
        return o_inactive ? ZEEK_SHR : ZEEK_S3;
    if (os == ZEEK_SYN_SENT && rs == ZEEK_INACTIVE)
        return ZEEK_S0;
    if (os == ZEEK_ESTABLISHED && rs == ZEEK_ESTABLISHED)
        return ZEEK_S1;
    return ZEEK_OTH;
}

const char *zeek_conn_state_name(enum zeek_conn_state s) {
    static const char *const names[ZEEK_CONN_STATE_COUNT] = {
        "S0", "S1", "SF", "REJ", "S2", "S3", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH", "SHR", "OTH",
    };
    return (unsigned)s < ZEEK_CONN_STATE_COUNT ? names[s] : "OTH";
}

const char *tcp_state_name(enum tcp_state s) {
    static const char *const names[TCP_STATE_COUNT] = {
        "CLOSED",     "LISTEN",     "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1",
        "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING",  "LAST_ACK",     "TIME_WAIT",
    };
    return (unsigned)s < TCP_STATE_COUNT ? names[s] : "UNKNOWN";
}
