/* samples: builders of the committed sample captures (the .pcap / .pcapng files in samples/).
 * Everything is fixed (addresses, ports, ISNs, sizes, timestamps), so regenerating gives identical
 * bytes. */
#include "samples.h"

#include "capwrite.h"
#include "pktbuild.h"
#include "session.h"

#include <stdio.h>
#include <string.h>

#define SAMPLES_MAX_FRAME 2048

static const uint8_t ip4_client[4] = {192, 0, 2, 10};
static const uint8_t ip4_server[4] = {198, 51, 100, 20};
static const uint8_t ip4_dns[4] = {198, 51, 100, 53};
static const uint8_t ip6_client[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x10};
static const uint8_t ip6_server[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x20};

/* One scripted TCP connection: the standard exchange shape with its own sizes and closer. */
struct sample_conn {
    struct pb_frame tmpl;
    uint32_t client_isn, server_isn;
    size_t request, response; /* client -> server and server -> client payload bytes */
    enum session_side closer;
};

enum { CONN_STEPS = 11 };

/* ---- frame templates ----------------------------------------------------------------------- */

static struct pb_frame tmpl_tcp(enum pb_link link, int version, uint16_t sport, uint16_t dport) {
    struct pb_frame f = version == 4 ? pb_tcp4() : pb_tcp6();
    f.link = link;
    memset(f.src, 0, sizeof f.src);
    memset(f.dst, 0, sizeof f.dst);
    if (version == 4) {
        memcpy(f.src, ip4_client, 4);
        memcpy(f.dst, ip4_server, 4);
    } else {
        memcpy(f.src, ip6_client, 16);
        memcpy(f.dst, ip6_server, 16);
    }
    f.sport = sport;
    f.dport = dport;
    return f;
}

static struct sample_conn conn_standard(const struct pb_frame *tmpl) {
    struct sample_conn c = {
        .tmpl = *tmpl,
        .client_isn = SAMPLES_CLIENT_ISN,
        .server_isn = SAMPLES_SERVER_ISN,
        .request = SAMPLES_CLIENT_BYTES,
        .response = SAMPLES_SERVER_BYTES,
        .closer = SESSION_CLIENT,
    };
    return c;
}

/* ---- connection script --------------------------------------------------------------------- */

/* Step i (0..10) of a connection: one frame each. */
static bool conn_step(struct session *s, const struct sample_conn *c, int step) {
    enum session_side closer = c->closer, peer = session_peer(c->closer);
    switch (step) {
    case 0:
        return session_syn(s);
    case 1:
        return session_syn_ack(s);
    case 2:
        return session_ack(s, SESSION_CLIENT);
    case 3:
        return session_data(s, SESSION_CLIENT, c->request);
    case 4:
        return session_ack(s, SESSION_SERVER);
    case 5:
        return session_data(s, SESSION_SERVER, c->response);
    case 6:
        return session_ack(s, SESSION_CLIENT);
    case 7:
        return session_segment(s, closer, PB_FIN | PB_ACK, 0);
    case 8:
        return session_ack(s, peer);
    case 9:
        return session_segment(s, peer, PB_FIN | PB_ACK, 0);
    case 10:
        return session_ack(s, closer);
    default:
        return false;
    }
}

/* Runs n connections on one clock, interleaved frame by frame (step 0 of each, step 1 of each...);
 * n == 1 is simply one connection from SYN to the last ACK. */
static bool conns_run(struct capwrite *w, struct session_clock *clock, const struct sample_conn *c,
                      size_t n) {
    struct session s[4];
    if (n > sizeof s / sizeof s[0])
        return false;
    for (size_t i = 0; i < n; i++)
        session_init(&s[i], w, clock, &c[i].tmpl, c[i].client_isn, c[i].server_isn);
    bool ok = true;
    for (int step = 0; step < CONN_STEPS; step++)
        for (size_t i = 0; i < n; i++)
            ok = conn_step(&s[i], &c[i], step) && ok;
    return ok;
}

/* ---- files --------------------------------------------------------------------------------- */

static struct session_clock clock_start(void) {
    struct session_clock clock = {.now_ns = SAMPLES_START_NS, .step_ns = SAMPLES_STEP_NS};
    return clock;
}

/* Writes the standard exchange for each template, one connection after the other. */
static bool file_write_standard(const char *path, enum capwrite_format format,
                                const struct pb_frame *tmpls, size_t n) {
    struct capwrite *w = capwrite_open(path, format, pb_linktype(tmpls[0].link), SAMPLES_SNAPLEN);
    if (!w)
        return false;
    struct session_clock clock = clock_start();
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        struct sample_conn c = conn_standard(&tmpls[i]);
        ok = conns_run(w, &clock, &c, 1) && ok;
    }
    return capwrite_close(w) && ok;
}

static bool file_write_v4(const char *path, enum capwrite_format format, enum pb_link link) {
    struct pb_frame f = tmpl_tcp(link, 4, 49152, 80);
    return file_write_standard(path, format, &f, 1);
}

bool gen_clean_ipv4(const char *path) {
    return file_write_v4(path, CAPWRITE_PCAP_USEC, PB_LINK_ETHERNET);
}

bool gen_clean_ipv6(const char *path) {
    struct pb_frame f = tmpl_tcp(PB_LINK_ETHERNET, 6, 49152, 80);
    return file_write_standard(path, CAPWRITE_PCAP_NSEC, &f, 1);
}

bool gen_vlan(const char *path) {
    struct pb_frame f = tmpl_tcp(PB_LINK_ETHERNET, 4, 49152, 80);
    f.nvlan = 2;
    f.vlan_tpid[0] = 0x88a8; /* 802.1ad service tag */
    f.vlan_id[0] = 100;
    f.vlan_tpid[1] = 0x8100; /* 802.1Q customer tag */
    f.vlan_id[1] = 200;
    return file_write_standard(path, CAPWRITE_PCAP_USEC, &f, 1);
}

bool gen_sll(const char *path) {
    return file_write_v4(path, CAPWRITE_PCAP_USEC, PB_LINK_SLL);
}

bool gen_sll2(const char *path) {
    return file_write_v4(path, CAPWRITE_PCAP_USEC, PB_LINK_SLL2);
}

bool gen_mpls(const char *path) {
    struct pb_frame f = tmpl_tcp(PB_LINK_ETHERNET, 4, 49152, 80);
    f.nmpls = 2;
    f.mpls_label[0] = 16;
    f.mpls_label[1] = 17;
    return file_write_standard(path, CAPWRITE_PCAP_USEC, &f, 1);
}

bool gen_raw(const char *path) {
    struct pb_frame f[2] = {tmpl_tcp(PB_LINK_RAW, 4, 49152, 80),
                            tmpl_tcp(PB_LINK_RAW, 6, 49152, 80)};
    return file_write_standard(path, CAPWRITE_PCAP_USEC, f, 2);
}

bool gen_null(const char *path) {
    return file_write_v4(path, CAPWRITE_PCAP_USEC, PB_LINK_NULL);
}

bool gen_clean_pcapng(const char *path) {
    return file_write_v4(path, CAPWRITE_PCAPNG, PB_LINK_ETHERNET);
}

/* ---- multi.pcap ---------------------------------------------------------------------------- */

/* A DNS query for mail.shakedown.example A (40 bytes) and its answer (80 bytes): a CNAME to
 * mailhost1.shakedown.example and that name's A record 198.51.100.25. */
static const uint8_t dns_query[] = {
    0x1d, 0x2e, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* header, RD */
    4,    'm',  'a',  'i',  'l',  9,    's',  'h',  'a',  'k',  'e',  'd',  'o',  'w',
    'n',  7,    'e',  'x',  'a',  'm',  'p',  'l',  'e',  0,    0x00, 0x01, 0x00, 0x01, /* A IN */
};

static const uint8_t dns_response[] = {
    0x1d, 0x2e, 0x81, 0x80, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, /* QR RD RA, 2 ans */
    4, 'm', 'a', 'i', 'l', 9, 's', 'h', 'a', 'k', 'e', 'd', 'o', 'w', 'n', 7, 'e', 'x', 'a', 'm',
    'p', 'l', 'e', 0, 0x00, 0x01, 0x00, 0x01,
    /* @40: mail.shakedown.example CNAME mailhost1.shakedown.example, TTL 300 */
    0xc0, 0x0c, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x0c, 9, 'm', 'a', 'i', 'l',
    'h', 'o', 's', 't', '1', 0xc0, 0x11,
    /* @64: mailhost1.shakedown.example A 198.51.100.25, TTL 300 */
    0xc0, 0x34, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x04, 198, 51, 100, 25};

_Static_assert(sizeof dns_query == 40, "DNS query is 40 bytes");
_Static_assert(sizeof dns_response == 80, "DNS response is 80 bytes");

static bool frame_write(struct capwrite *w, struct session_clock *clock, const struct pb_frame *f) {
    uint8_t buf[SAMPLES_MAX_FRAME];
    size_t len = pb_build(f, buf, sizeof buf);
    return len > 0 && capwrite_packet(w, 0, session_clock_tick(clock), buf, len);
}

/* Swaps direction: addresses, ports. */
static struct pb_frame frame_reverse(const struct pb_frame *f) {
    struct pb_frame r = *f;
    memcpy(r.src, f->dst, sizeof r.src);
    memcpy(r.dst, f->src, sizeof r.dst);
    r.sport = f->dport;
    r.dport = f->sport;
    return r;
}

/* 192.0.2.10:53000 -> 198.51.100.53:53 query, then the response: 2 UDP frames. */
static bool multi_write_dns(struct capwrite *w, struct session_clock *clock) {
    struct pb_frame q = tmpl_tcp(PB_LINK_ETHERNET, 4, 53000, 53);
    memcpy(q.dst, ip4_dns, 4);
    q.proto = 17;
    q.ip_id = 0x2001;
    q.payload = dns_query;
    q.payload_len = sizeof dns_query;
    struct pb_frame r = frame_reverse(&q);
    r.ip_id = 0x2002;
    r.payload = dns_response;
    r.payload_len = sizeof dns_response;
    bool ok = frame_write(w, clock, &q);
    return frame_write(w, clock, &r) && ok;
}

/* 192.0.2.10 -> 198.51.100.20 echo request (type 8), then the reply (type 0), id 0x1234, seq 1,
 * 56 pattern bytes each: 2 ICMP frames. */
static bool multi_write_ping(struct capwrite *w, struct session_clock *clock) {
    struct pb_frame q = tmpl_tcp(PB_LINK_ETHERNET, 4, 0, 0);
    q.proto = 1;
    q.ip_id = 0x3001;
    q.icmp_type = 8;
    q.icmp_id = 0x1234;
    q.icmp_seq = 1;
    q.payload_len = 56;
    struct pb_frame r = frame_reverse(&q);
    r.ip_id = 0x3002;
    r.icmp_type = 0;
    bool ok = frame_write(w, clock, &q);
    return frame_write(w, clock, &r) && ok;
}

static struct sample_conn multi_conn_v4(int i) {
    struct pb_frame f = tmpl_tcp(PB_LINK_ETHERNET, 4, (uint16_t)(50001 + i), 443);
    struct sample_conn c = conn_standard(&f);
    c.client_isn = SAMPLES_CLIENT_ISN + (uint32_t)i * 100000u;
    c.server_isn = SAMPLES_SERVER_ISN + (uint32_t)i * 100000u;
    c.request = 100 + (size_t)i * 50;
    c.response = 400 * (size_t)(i + 1);
    c.closer = i == 1 ? SESSION_SERVER : SESSION_CLIENT;
    return c;
}

/* multi.pcap, Ethernet, µs timestamps, 48 frames in this order:
 *   frames  1-2   UDP  (2): DNS query 192.0.2.10:53000 -> 198.51.100.53:53 (40 payload bytes),
 *                           response back (80 payload bytes).
 *   frames  3-4   ICMP (2): echo request 192.0.2.10 -> 198.51.100.20 (type 8), reply (type 0).
 *   frames  5-37  TCP/IPv4 (33): three connections 192.0.2.10:50001/50002/50003 ->
 *                           198.51.100.20:443, interleaved frame by frame (A B C A B C ...), 11
 *                           frames each: handshake, client data, server ACK, server data, client
 *                           ACK, 4-way close. Client/server bytes: 100/400, 150/800, 200/1200.
 *                           50002 is closed by the server first, the others by the client.
 *                           ISNs: client 1000000 + k*100000, server 2000000 + k*100000 (k=0,1,2).
 *   frames 38-48  TCP/IPv6 (11): [2001:db8::10]:50004 -> [2001:db8::20]:443, the standard
 *                           exchange (120 / 1000 bytes, client closes), ISNs 1300000 / 2300000.
 * Totals: 48 frames = 44 TCP (4 connections: 33 IPv4 + 11 IPv6) + 2 UDP + 2 ICMP;
 * by IP version 37 IPv4 + 11 IPv6. All connections complete (handshake and 4-way close). */
bool gen_multi(const char *path) {
    struct capwrite *w =
        capwrite_open(path, CAPWRITE_PCAP_USEC, pb_linktype(PB_LINK_ETHERNET), SAMPLES_SNAPLEN);
    if (!w)
        return false;
    struct session_clock clock = clock_start();
    struct sample_conn v4[3] = {multi_conn_v4(0), multi_conn_v4(1), multi_conn_v4(2)};
    struct pb_frame f6 = tmpl_tcp(PB_LINK_ETHERNET, 6, 50004, 443);
    struct sample_conn v6 = conn_standard(&f6);
    v6.client_isn = SAMPLES_CLIENT_ISN + 300000u;
    v6.server_isn = SAMPLES_SERVER_ISN + 300000u;
    bool ok = multi_write_dns(w, &clock);
    ok = multi_write_ping(w, &clock) && ok;
    ok = conns_run(w, &clock, v4, 3) && ok;
    ok = conns_run(w, &clock, &v6, 1) && ok;
    return capwrite_close(w) && ok;
}

/* ---- table --------------------------------------------------------------------------------- */

const struct gen_sample gen_sample_table[] = {
    {"clean-ipv4.pcap", gen_clean_ipv4, 11},
    {"clean-ipv6.pcap", gen_clean_ipv6, 11},
    {"vlan.pcap", gen_vlan, 11},
    {"sll.pcap", gen_sll, 11},
    {"sll2.pcap", gen_sll2, 11},
    {"mpls.pcap", gen_mpls, 11},
    {"raw.pcap", gen_raw, 22},
    {"null.pcap", gen_null, 11},
    {"clean.pcapng", gen_clean_pcapng, 11},
    {"multi.pcap", gen_multi, 48},
};

const size_t gen_sample_count = sizeof gen_sample_table / sizeof gen_sample_table[0];

bool gen_write_samples(const char *outdir) {
    bool ok = true;
    for (size_t i = 0; i < gen_sample_count; i++) {
        char path[4096];
        int n = snprintf(path, sizeof path, "%s/%s", outdir, gen_sample_table[i].file);
        if (n < 0 || (size_t)n >= sizeof path || !gen_sample_table[i].write(path))
            ok = false;
    }
    return ok;
}
