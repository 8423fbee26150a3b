/* session: TCP conversation scripting for tests/gen (sequence tracking, handshake options,
 * timestamps, teardown). See session.h for the numbering and option rules. */
#include "session.h"

#include <stdlib.h>
#include <string.h>

enum {
    TCPOPT_EOL = 0,
    TCPOPT_NOP = 1,
    TCPOPT_MSS = 2,
    TCPOPT_WSCALE = 3,
    TCPOPT_SACK_PERM = 4,
    TCPOPT_TIMESTAMP = 8,
};

#define SESSION_HEADROOM 512 /* link + IP + extensions + TCP headers, generously */

enum session_side session_peer(enum session_side side) {
    return side == SESSION_CLIENT ? SESSION_SERVER : SESSION_CLIENT;
}

uint64_t session_clock_tick(struct session_clock *clock) {
    uint64_t now = clock->now_ns;
    clock->now_ns += clock->step_ns;
    return now;
}

void session_init(struct session *s, struct capwrite *w, struct session_clock *clock,
                  const struct pb_frame *tmpl, uint32_t client_isn, uint32_t server_isn) {
    memset(s, 0, sizeof *s);
    s->w = w;
    s->clock = clock;
    s->start_ns = clock->now_ns;
    s->tmpl = *tmpl;
    s->tmpl.proto = 6;
    s->isn[SESSION_CLIENT] = s->snd_nxt[SESSION_CLIENT] = client_isn;
    s->isn[SESSION_SERVER] = s->snd_nxt[SESSION_SERVER] = server_isn;
    s->win[SESSION_CLIENT] = s->win[SESSION_SERVER] = 502;
    s->syn_win = 64240;
    s->mss = tmpl->ip_version == 6 ? 1440 : 1460;
    s->wscale = 7;
    s->sack_permitted = true;
    s->timestamps = true;
    s->ts_base[SESSION_CLIENT] = 100000;
    s->ts_base[SESSION_SERVER] = 700000;
    s->ip_id[SESSION_CLIENT] = 0x1000;
    s->ip_id[SESSION_SERVER] = 0x8000;
    s->ok = true;
}

/* ---- options ------------------------------------------------------------------------------- */

static void opt_be16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void opt_be32(uint8_t *p, uint32_t v) {
    opt_be16(p, (uint16_t)(v >> 16));
    opt_be16(p + 2, (uint16_t)v);
}

static uint32_t session_tsval(const struct session *s, enum session_side from) {
    uint64_t ms = (s->clock->now_ns - s->start_ns) / 1000000u;
    return s->ts_base[from] + (uint32_t)ms;
}

static size_t opts_put_timestamp(const struct session *s, enum session_side from, uint8_t *p) {
    p[0] = TCPOPT_TIMESTAMP;
    p[1] = 10;
    opt_be32(p + 2, session_tsval(s, from));
    opt_be32(p + 6, s->ts_recent[from]);
    return 10;
}

/* SYN options in Linux order: MSS, SACK_PERM, TS, NOP, WS (NOPs stand in for missing ones). */
static size_t opts_build_syn(const struct session *s, enum session_side from, uint8_t *p) {
    size_t n = 0;
    p[n++] = TCPOPT_MSS;
    p[n++] = 4;
    opt_be16(p + n, s->mss);
    n += 2;
    if (s->sack_permitted) {
        p[n++] = TCPOPT_SACK_PERM;
        p[n++] = 2;
    } else if (s->timestamps) {
        p[n++] = TCPOPT_NOP;
        p[n++] = TCPOPT_NOP;
    }
    if (s->timestamps)
        n += opts_put_timestamp(s, from, p + n);
    if (s->wscale >= 0) {
        p[n++] = TCPOPT_NOP;
        p[n++] = TCPOPT_WSCALE;
        p[n++] = 3;
        p[n++] = (uint8_t)s->wscale;
    }
    return n;
}

static size_t opts_build(const struct session *s, enum session_side from, uint8_t flags,
                         uint8_t *p) {
    if (flags & PB_SYN)
        return opts_build_syn(s, from, p);
    if ((flags & PB_RST) || !s->timestamps)
        return 0;
    p[0] = TCPOPT_NOP;
    p[1] = TCPOPT_NOP;
    return 2 + opts_put_timestamp(s, from, p + 2);
}

/* ---- frames -------------------------------------------------------------------------------- */

static void frame_orient(struct pb_frame *f, enum session_side from) {
    if (from == SESSION_CLIENT)
        return;
    uint8_t addr[16];
    memcpy(addr, f->src, sizeof addr);
    memcpy(f->src, f->dst, sizeof addr);
    memcpy(f->dst, addr, sizeof addr);
    uint16_t port = f->sport;
    f->sport = f->dport;
    f->dport = port;
}

static bool frame_emit(struct session *s, const struct pb_frame *f) {
    size_t cap = SESSION_HEADROOM + f->payload_len + f->eth_padding;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return false;
    size_t len = pb_build(f, buf, cap);
    bool ok = len > 0 && capwrite_packet(s->w, s->iface, session_clock_tick(s->clock), buf, len);
    free(buf);
    return ok;
}

bool session_write_segment(struct session *s, enum session_side from, uint8_t flags, uint32_t seq,
                           uint32_t ack, size_t len) {
    uint8_t opts[40];
    struct pb_frame f = s->tmpl;
    frame_orient(&f, from);
    f.proto = 6;
    f.dont_fragment = f.ip_version == 4;
    f.ip_id = s->ip_id[from]++;
    f.seq = seq;
    f.ack = ack;
    f.flags = flags;
    f.win = (flags & PB_SYN) ? s->syn_win : s->win[from];
    f.tcp_optlen = opts_build(s, from, flags, opts);
    f.tcp_options = opts;
    f.payload = NULL;
    f.payload_len = len;
    f.offloaded_l4_checksum = f.offloaded_l4_checksum || s->offloaded[from];
    f.bad_l4_checksum = f.bad_l4_checksum || s->bad_checksum[from];
    if (s->timestamps && !(flags & PB_RST))
        s->ts_recent[session_peer(from)] = session_tsval(s, from);
    bool ok = frame_emit(s, &f);
    s->packets++;
    if (!ok)
        s->ok = false;
    return ok;
}

/* ---- conversation steps -------------------------------------------------------------------- */

bool session_segment(struct session *s, enum session_side from, uint8_t flags, size_t len) {
    uint32_t ack = (flags & PB_ACK) ? s->snd_nxt[session_peer(from)] : 0;
    bool ok = session_write_segment(s, from, flags, s->snd_nxt[from], ack, len);
    uint32_t used = (uint32_t)len + ((flags & PB_SYN) ? 1u : 0u) + ((flags & PB_FIN) ? 1u : 0u);
    s->snd_nxt[from] += used;
    return ok;
}

bool session_syn(struct session *s) {
    return session_segment(s, SESSION_CLIENT, PB_SYN, 0);
}

bool session_syn_ack(struct session *s) {
    return session_segment(s, SESSION_SERVER, PB_SYN | PB_ACK, 0);
}

bool session_handshake(struct session *s) {
    bool ok = session_syn(s);
    ok = session_syn_ack(s) && ok;
    return session_ack(s, SESSION_CLIENT) && ok;
}

bool session_data(struct session *s, enum session_side from, size_t len) {
    return session_segment(s, from, PB_PSH | PB_ACK, len);
}

bool session_ack(struct session *s, enum session_side from) {
    return session_segment(s, from, PB_ACK, 0);
}

bool session_close(struct session *s, enum session_side first_closer) {
    enum session_side peer = session_peer(first_closer);
    bool ok = session_segment(s, first_closer, PB_FIN | PB_ACK, 0);
    ok = session_ack(s, peer) && ok;
    ok = session_segment(s, peer, PB_FIN | PB_ACK, 0) && ok;
    return session_ack(s, first_closer) && ok;
}

bool session_rst(struct session *s, enum session_side from) {
    return session_segment(s, from, PB_RST | PB_ACK, 0);
}
