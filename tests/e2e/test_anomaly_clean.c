/* End-to-end tests of the anomaly catalog (issue 4), clean traffic: a corpus of healthy
 * connections and every sample capture must raise no anomaly at all. Conventions and helpers:
 * anomaly_helpers.h. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anomaly_helpers.h"
#include "capwrite.h"
#include "pktbuild.h"
#include "run.h"
#include "samples.h"
#include "session.h"

/* ==== clean traffic =========================================================================== */

/* One step of a scripted healthy connection: a segment from `from` with the tracked numbers;
 * `crossing`: its ack leaves out the peer's FIN just sent (the FINs cross). */
struct act {
    enum session_side from;
    uint8_t flags;
    uint16_t len;
    bool crossing;
};

#define CL SESSION_CLIENT
#define SV SESSION_SERVER
#define OPEN                                                                                       \
    {CL, PB_SYN, 0, false}, {SV, PB_SYN | PB_ACK, 0, false}, {                                     \
        CL, PB_ACK, 0, false                                                                       \
    }
#define DATA(side, n)                                                                              \
    { side, PB_PSH | PB_ACK, n, false }
#define ACK(side)                                                                                  \
    { side, PB_ACK, 0, false }
#define FIN(side)                                                                                  \
    { side, PB_FIN | PB_ACK, 0, false }

/* Request / response, the client closes (4-way). */
static const struct act script_client_close[] = {
    OPEN,    DATA(CL, 300), ACK(SV), DATA(SV, 1200), ACK(CL),
    FIN(CL), ACK(SV),       FIN(SV), ACK(CL),        {0, 0, 0, false},
};
/* The server closes first. */
static const struct act script_server_close[] = {
    OPEN,    DATA(CL, 200), ACK(SV), DATA(SV, 900), ACK(CL),
    FIN(SV), ACK(CL),       FIN(CL), ACK(SV),       {0, 0, 0, false},
};
/* The peer's FIN|ACK acknowledges the closer's FIN at once (3-way close). */
static const struct act script_fin_ack_shortcut[] = {
    OPEN,    DATA(CL, 100), ACK(SV), DATA(SV, 400),    ACK(CL),
    FIN(CL), FIN(SV),       ACK(CL), {0, 0, 0, false},
};
/* Both FINs cross (neither acknowledges the other's), then both ACK. */
static const struct act script_simultaneous_close[] = {
    OPEN,
    DATA(CL, 100),
    ACK(SV),
    DATA(SV, 100),
    ACK(CL),
    FIN(CL),
    {SV, PB_FIN | PB_ACK, 0, true},
    ACK(CL),
    ACK(SV),
    {0, 0, 0, false},
};
/* Bulk both ways with delayed ACKs (one per two full segments) and piggybacked ones; the server
 * closes with the FIN|ACK shortcut. */
static const struct act script_delayed_acks[] = {
    OPEN,           DATA(CL, 1448), DATA(CL, 1448), ACK(SV),          DATA(CL, 500), DATA(SV, 1448),
    DATA(SV, 1448), ACK(CL),        DATA(SV, 1448), DATA(CL, 100),    DATA(SV, 200), ACK(CL),
    FIN(SV),        FIN(CL),        ACK(SV),        {0, 0, 0, false},
};

#undef OPEN
#undef DATA
#undef ACK
#undef FIN

struct scripted {
    struct session s;
    const struct act *acts;
    size_t next;
};

static bool scripted_step(struct cap *c, struct scripted *x) {
    const struct act *a = &x->acts[x->next];
    if (!a->flags)
        return false;
    x->next++;
    struct session *s = &x->s;
    if (!a->crossing) {
        put(c, session_segment(s, a->from, a->flags, a->len));
        return true;
    }
    enum session_side peer = session_peer(a->from);
    put(c, session_write_segment(s, a->from, a->flags, s->snd_nxt[a->from], s->snd_nxt[peer] - 1u,
                                 a->len));
    s->snd_nxt[a->from] += a->len + 1u;
    return true;
}

/* Ten healthy connections interleaved frame by frame on one clock (10.0.0.1:5200k -> :80 unless
 * said): 1 client close, 2 server close, 3 FIN|ACK shortcut, 4 simultaneous close, 5 sequence
 * numbers wrapping past 2^32 both ways (ISNs 0xFFFFFF00 / 0xFFFFFFF0), 6 IPv6, 7 802.1Q VLAN 10,
 * 8 delayed ACKs with data both ways, 9 no TCP options at all, 10 IPv6 on VLAN 20 with delayed
 * ACKs and wrapping numbers. Every byte is sent once, in order, acknowledged; every FIN
 * acknowledged; every handshake complete: no anomaly at all, every connection closed by FIN
 * (SF). */
Test(clean, corpus_of_healthy_connections) {
    struct cap c;
    struct scripted x[10];
    cap_open(&c, "clean-corpus.pcap");
    const struct act *scripts[10] = {
        script_client_close,       script_server_close, script_fin_ack_shortcut,
        script_simultaneous_close, script_client_close, script_client_close,
        script_server_close,       script_delayed_acks, script_fin_ack_shortcut,
        script_delayed_acks,
    };
    for (int i = 0; i < 10; i++) {
        struct pb_frame f = i == 5 || i == 9 ? pb_tcp6() : pb_tcp4();
        f.sport = (uint16_t)(52001 + i);
        f.dport = 80;
        if (i == 6 || i == 9) {
            f.nvlan = 1;
            f.vlan_id[0] = i == 6 ? 10 : 20;
        }
        bool wrap = i == 4 || i == 9;
        uint32_t cisn = wrap ? 0xFFFFFF00u : 0x31000000u + (uint32_t)i * 0x10000u;
        uint32_t sisn = wrap ? 0xFFFFFFF0u : 0x41000000u + (uint32_t)i * 0x10000u;
        session_init(&x[i].s, c.w, &c.clock, &f, cisn, sisn);
        if (i == 8) {
            x[i].s.timestamps = false;
            x[i].s.sack_permitted = false;
            x[i].s.wscale = -1;
        }
        x[i].acts = scripts[i];
        x[i].next = 0;
    }
    for (bool more = true; more;) {
        more = false;
        for (int i = 0; i < 10; i++)
            more = scripted_step(&c, &x[i]) || more;
    }
    cr_assert_lt(x[4].s.snd_nxt[SESSION_CLIENT], 0x1000u, "the client's numbers wrapped");
    cr_assert_lt(x[4].s.snd_nxt[SESSION_SERVER], 0x1000u, "the server's numbers wrapped");
    cap_close(&c);
    struct run r;
    run_cap(&r, &c, NULL);
    cr_assert_eq(r.nconn, 10);
    expect_no_anomalies(&r);
    for (int i = 0; i < r.nconn; i++) {
        const char *how = json_str_or(r.conn[i], "close.how");
        cr_expect(strcmp(how, "fin") == 0 || strcmp(how, "simultaneous_fin") == 0,
                  "connection from port %" PRId64 " ended %s", json_int_at(r.conn[i], "src_port"),
                  how);
        expect_str(r.conn[i], "conn_state", "SF");
        expect_int(r.conn[i], "orig.retransmits", 0);
        expect_int(r.conn[i], "resp.retransmits", 0);
    }
    expect_int(r.summary, "connections.by_close.simultaneous_fin", 1);
    run_free(&r);
}

/* Every committed sample capture (samples.h: the standard exchange over every link type, IPv6,
 * VLAN, MPLS, pcapng, and multi.pcap's interleaved connections, UDP and ICMP) is clean traffic:
 * no anomaly at all. */
Test(clean, sample_captures) {
    for (size_t i = 0; i < gen_sample_count; i++) {
        const struct gen_sample *g = &gen_sample_table[i];
        char path[256];
        snprintf(path, sizeof path, "%s", tmp_path(g->file));
        cr_assert(g->write(path), "generator failed for %s", g->file);
        struct run r;
        run_path(&r, path, (int64_t)g->packets, NULL);
        cr_expect_eq(r.nanom, 0, "%s: anomalies %s", g->file, r.seen);
        struct json_object *tot = json_at(r.summary, "anomalies");
        cr_expect(tot && json_object_object_length(tot) == 0, "%s: summary anomalies %s", g->file,
                  tot ? json_object_to_json_string(tot) : "(absent)");
        for (int k = 0; k < r.nconn; k++) {
            struct json_object *arr = json_at(r.conn[k], "anomalies");
            cr_expect(arr && json_object_array_length(arr) == 0, "%s: record %d lists %s", g->file,
                      k, arr ? json_object_to_json_string(arr) : "(absent)");
        }
        run_free(&r);
    }
}
