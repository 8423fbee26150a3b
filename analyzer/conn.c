/* conn: names and derived identifiers of a connection (uid, addresses by role). */
#include "conn.h"

#include <stdio.h>
#include <string.h>

const char *conn_end_name(enum conn_end e) {
    static const char *const names[CONN_END_COUNT] = {
        [CONN_END_OPEN] = "open",
        [CONN_END_FIN] = "fin",
        [CONN_END_SIMULTANEOUS_FIN] = "simultaneous_fin",
        [CONN_END_RST] = "rst",
        [CONN_END_HALF_CLOSED] = "half_closed",
        [CONN_END_TIMEOUT] = "timeout",
        [CONN_END_CAPTURE_END] = "capture_end",
        [CONN_END_EVICTED] = "evicted",
        [CONN_END_SHUTDOWN] = "shutdown",
    };
    return (unsigned)e < CONN_END_COUNT ? names[e] : "unknown";
}

static uint64_t splitmix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Zeek-style uid ("C" + base62), derived from the connection's position in the run, its start
 * time and its ports rather than drawn at random: the same input always gives the same uids. */
void conn_uid_make(uint64_t serial, int64_t first_ns, const struct flow_key *k,
                   char out[CONN_UID_LEN]) {
    static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    uint64_t h[2];
    h[0] = splitmix64(serial ^ splitmix64((uint64_t)first_ns));
    h[1] = splitmix64(h[0] ^ ((uint64_t)k->port[0] << 16 | k->port[1]));
    out[0] = 'C';
    for (int i = 0; i < CONN_UID_LEN - 2; i++) {
        uint64_t *w = &h[i & 1];
        out[1 + i] = digits[*w % 62];
        *w /= 62;
    }
    out[CONN_UID_LEN - 1] = '\0';
}

void conn_uid(const struct conn *c, char out[CONN_UID_LEN]) {
    conn_uid_make(c->first_frame, c->first_ns, &c->e.key, out);
}

const uint8_t *conn_addr(const struct conn *c, int role) {
    return c->e.key.addr[role == 0 ? c->orig_side : !c->orig_side];
}

/* ICMP flows are keyed without ports; like Zeek, report the originator's first type and code
 * in their place. */
uint16_t conn_port(const struct conn *c, int role) {
    if (c->e.key.proto == 1 || c->e.key.proto == 58)
        return role == 0 ? c->icmp_type[0] : c->icmp_code[0];
    return c->e.key.port[role == 0 ? c->orig_side : !c->orig_side];
}

uint64_t conn_payload_bytes(const struct conn *c, int role) {
    if (c->e.key.proto == 6)
        return c->tcp.ep[role].payload_bytes;
    return c->datagram_payload[role];
}

/* Zeek's conn_state: TCP from the endpoint tracking; UDP and ICMP from which sides sent (Zeek
 * logs a one-way UDP flow as S0, a reply-only one as SHR, both ways as SF; ICMP as OTH). */
enum zeek_conn_state conn_zeek_state(const struct conn *c) {
    if (c->e.key.proto == 6)
        return tcp_conn_zeek_state(&c->tcp);
    if (c->e.key.proto != 17)
        return ZEEK_OTH;
    if (c->pkts[0] && c->pkts[1])
        return ZEEK_SF;
    return c->pkts[0] ? ZEEK_S0 : ZEEK_SHR;
}

bool conn_one_sided(const struct conn *c) {
    return c->e.key.proto == 6 && (c->pkts[0] == 0 || c->pkts[1] == 0);
}

void conn_history(const struct conn *c, char out[TCP_HISTORY_MAX]) {
    if (c->e.key.proto == 6) {
        size_t n = strnlen(c->tcp.history, TCP_HISTORY_MAX - 1);
        memcpy(out, c->tcp.history, n);
        out[n] = '\0';
        return;
    }
    /* UDP and ICMP: D/d for each side that sent (Zeek's letters for datagrams). */
    size_t n = 0;
    if (c->pkts[0])
        out[n++] = 'D';
    if (c->pkts[1])
        out[n++] = 'd';
    out[n] = '\0';
}
