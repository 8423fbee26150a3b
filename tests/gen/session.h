/* session: scripts a realistic TCP conversation (handshake, data, ACKs, teardown, reset) into a
 * capwrite, keeping both sides' sequence / acknowledgement numbers and TCP timestamps consistent.
 *
 * Numbering rules: each side has snd_nxt, the next sequence number it will send (starting at its
 * ISN). A segment from side S carries seq = snd_nxt[S] and, when ACK is set, ack = snd_nxt[peer]
 * (everything the peer has sent so far is taken as received). After the segment, snd_nxt[S]
 * advances by the payload length, plus one for SYN and one for FIN.
 *
 * Options: SYN and SYN/ACK carry MSS, SACK-permitted, timestamps and window scale (in the Linux
 * order MSS, SACK_PERM, TS, NOP, WS: 20 bytes) with window 64240. Every later segment except RST
 * carries NOP, NOP, TS (12 bytes) when timestamps are on, and the window win[S] (default 502,
 * i.e. 64256 bytes with the default window-scale shift 7). TSval is ts_base[S] plus the
 * milliseconds elapsed since session_init; TSecr echoes the last TSval S received (0 in a SYN).
 *
 * Timing: all frames take their timestamp from a session_clock, which advances by step_ns after
 * each frame. Several sessions (and other frames) can share one clock to interleave connections.
 * IPv4 frames have DF set and an IP ID counting up per side from ip_id[S]. */
#ifndef SHAKEDOWN_SESSION_H
#define SHAKEDOWN_SESSION_H

#include "capwrite.h"
#include "pktbuild.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum session_side {
    SESSION_CLIENT = 0, /* the side that sends the SYN: tmpl.src:tmpl.sport */
    SESSION_SERVER = 1, /* tmpl.dst:tmpl.dport */
};

struct session_clock {
    uint64_t now_ns;  /* timestamp of the next frame, ns since the epoch */
    uint64_t step_ns; /* added after every frame */
};

struct session {
    struct capwrite *w;
    int iface; /* capwrite interface (pcapng); 0 by default */
    struct session_clock *clock;
    uint64_t start_ns;     /* clock->now_ns at session_init, the origin of TSval */
    struct pb_frame tmpl;  /* client -> server frame; the server's frames swap src/dst, ports */
    uint32_t isn[2];       /* initial sequence numbers */
    uint32_t snd_nxt[2];   /* next sequence number each side will send */
    uint16_t win[2];       /* window field of non-SYN segments */
    uint16_t syn_win;      /* window field of SYN and SYN/ACK (never scaled), default 64240 */
    uint16_t mss;          /* MSS option: default 1460 (IPv4) or 1440 (IPv6) */
    int wscale;            /* window-scale shift offered in SYN and SYN/ACK; < 0: no option */
    bool sack_permitted;   /* SACK-permitted option in SYN and SYN/ACK */
    bool timestamps;       /* TS option in SYN, SYN/ACK and every later non-RST segment */
    uint32_t ts_base[2];   /* TSval at session_init for each side */
    uint32_t ts_recent[2]; /* last TSval each side received (its TSecr) */
    uint16_t ip_id[2];     /* next IPv4 identification per side */
    size_t packets;        /* frames written by this session */
    bool ok;               /* false once any build or write failed */
    /* Per side, the checksum its segments carry: the pseudo-header partial sum (a capture on
     * that side's host with checksum offload), or a wrong one (corruption). Default: correct. */
    bool offloaded[2];
    bool bad_checksum[2];
};

/* Prepares a session on w with client->server frame template tmpl (link layer, addresses, ports;
 * proto is forced to TCP) and the two ISNs, defaults as described above. Options fields may be
 * changed before the handshake. */
void session_init(struct session *s, struct capwrite *w, struct session_clock *clock,
                  const struct pb_frame *tmpl, uint32_t client_isn, uint32_t server_isn);

/* The other side. */
enum session_side session_peer(enum session_side side);

/* Returns the clock's current timestamp and advances it by one step. */
uint64_t session_clock_tick(struct session_clock *clock);

/* Writes one TCP segment from `from` with exactly these numbers, without touching snd_nxt: for
 * retransmissions, out-of-order or otherwise scripted anomalies. Options follow the rules above. */
bool session_write_segment(struct session *s, enum session_side from, uint8_t flags, uint32_t seq,
                           uint32_t ack, size_t len);

/* Writes a segment with the tracked numbers and advances snd_nxt[from] (len, +1 SYN, +1 FIN). */
bool session_segment(struct session *s, enum session_side from, uint8_t flags, size_t len);

/* SYN from the client (1 frame). */
bool session_syn(struct session *s);
/* SYN/ACK from the server (1 frame). */
bool session_syn_ack(struct session *s);
/* SYN, SYN/ACK, ACK (3 frames). */
bool session_handshake(struct session *s);
/* PSH|ACK from `from` carrying len pattern bytes (1 frame). */
bool session_data(struct session *s, enum session_side from, size_t len);
/* Pure ACK from `from` acknowledging everything the peer sent (1 frame). */
bool session_ack(struct session *s, enum session_side from);
/* FIN|ACK from first_closer, ACK, FIN|ACK from the peer, ACK (4 frames). */
bool session_close(struct session *s, enum session_side first_closer);
/* RST|ACK from `from` (1 frame, no options). */
bool session_rst(struct session *s, enum session_side from);

#endif
