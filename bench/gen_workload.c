/* gen_workload: writes the benchmark captures (issue 6's W1 and W2, and variants): many correct
 * TCP exchanges — handshake, request/ACK/response/ACK per exchange, 4-way close — with the
 * packets of the connections open at once interleaved round-robin. Ethernet, pcap µs.
 *
 *   gen_workload OUT.pcap --conns N --open M --exchanges E --payload B [--ipv6] [--retransmit P]
 *                [--gap P]
 *
 * --retransmit P: P per thousand data segments are sent twice; --gap P: P per thousand are sent
 * (the receiver acknowledges them) but missing from the capture, as when the capturing host drops
 * packets.
 *
 * W1: --conns 20000 --open 1000 --exchanges 10 --payload 100   (940k packets)
 * W2: --conns 200000 --open 50000 --exchanges 1 --payload 32   (2.2M packets) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capwrite.h"
#include "pktbuild.h"
#include "session.h"

struct workload {
    unsigned long conns, open, exchanges, payload;
    bool ipv6;
    unsigned retransmit_permille; /* data segments sent twice, per thousand */
    unsigned gap_permille;        /* data segments sent but not captured, per thousand */
};

struct slot {
    struct session s;
    unsigned long step; /* next packet of the script */
    bool busy;
};

static unsigned long script_len(const struct workload *w) {
    return 3 + 4 * w->exchanges + 4;
}

/* A deterministic pseudo-random sequence (xorshift), so a workload is the same every time. */
static uint32_t next_random(uint32_t *state) {
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

static struct pb_frame conn_template(const struct workload *w, unsigned long i) {
    struct pb_frame f = w->ipv6 ? pb_tcp6() : pb_tcp4();
    f.sport = (uint16_t)(1024 + i % 60000);
    f.dport = 80;
    unsigned long host = i / 60000 + 1;
    if (w->ipv6) {
        f.src[14] = (uint8_t)(host >> 8);
        f.src[15] = (uint8_t)host;
    } else {
        f.src[0] = 10;
        f.src[1] = (uint8_t)(host >> 16);
        f.src[2] = (uint8_t)(host >> 8);
        f.src[3] = (uint8_t)host;
        f.dst[0] = 192;
        f.dst[1] = 168;
        f.dst[2] = 0;
        f.dst[3] = 1;
    }
    return f;
}

/* Writes packet `step` of the conversation of slot sl. */
static bool script_step(const struct workload *w, struct slot *sl, uint32_t *rnd) {
    struct session *s = &sl->s;
    unsigned long k = sl->step++, n = script_len(w);
    if (k == 0)
        return session_syn(s);
    if (k == 1)
        return session_syn_ack(s);
    if (k == 2)
        return session_ack(s, SESSION_CLIENT);
    if (k >= n - 4) { /* close: client FIN, server ACK, server FIN, client ACK */
        static const enum session_side who[4] = {SESSION_CLIENT, SESSION_SERVER, SESSION_SERVER,
                                                 SESSION_CLIENT};
        static const uint8_t flags[4] = {PB_FIN | PB_ACK, PB_ACK, PB_FIN | PB_ACK, PB_ACK};
        unsigned long j = k - (n - 4);
        return session_segment(s, who[j], flags[j], 0);
    }
    unsigned long j = (k - 3) % 4;
    enum session_side from = j < 2 ? SESSION_CLIENT : SESSION_SERVER;
    if (j == 0 || j == 2) {
        uint32_t seq = s->snd_nxt[from];
        if (w->gap_permille && next_random(rnd) % 1000 < w->gap_permille) {
            s->snd_nxt[from] += (uint32_t)w->payload; /* sent, never captured */
            return true;
        }
        bool ok = session_data(s, from, w->payload);
        if (w->retransmit_permille && next_random(rnd) % 1000 < w->retransmit_permille)
            ok = session_write_segment(s, from, PB_PSH | PB_ACK, seq, s->snd_nxt[!from],
                                       w->payload) &&
                 ok;
        return ok;
    }
    return session_ack(s, j == 1 ? SESSION_SERVER : SESSION_CLIENT);
}

static bool generate(const struct workload *w, const char *path) {
    struct capwrite *cw = capwrite_open(path, CAPWRITE_PCAP_USEC, 1, 262144);
    struct slot *slots = calloc(w->open, sizeof *slots);
    if (!cw || !slots)
        return false;
    struct session_clock clock = {1704067200000000000ull, 10000}; /* 10 µs a packet */
    unsigned long started = 0, running = 0;
    uint32_t rnd = 2463534242u;
    bool ok = true;
    do {
        running = 0;
        for (unsigned long i = 0; i < w->open && ok; i++) {
            struct slot *sl = &slots[i];
            if (!sl->busy && started < w->conns) {
                struct pb_frame f = conn_template(w, started);
                session_init(&sl->s, cw, &clock, &f, 1000000u + (uint32_t)started * 7919u,
                             3000000u + (uint32_t)started * 104729u);
                sl->s.timestamps = false; /* plain headers, as the peers' comparison used */
                sl->step = 0;
                sl->busy = true;
                started++;
            }
            if (!sl->busy)
                continue;
            running++;
            ok = script_step(w, sl, &rnd);
            if (sl->step == script_len(w))
                sl->busy = false;
        }
    } while (running > 0 && ok);
    free(slots);
    return capwrite_close(cw) && ok;
}

static unsigned long arg_number(const char *name, const char *v) {
    char *end;
    unsigned long n = strtoul(v, &end, 10);
    if (*end || n == 0) {
        fprintf(stderr, "gen_workload: %s needs a positive number\n", name);
        exit(2);
    }
    return n;
}

int main(int argc, char **argv) {
    struct workload w = {20000, 1000, 10, 100, false, 0, 0};
    if (argc < 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: gen_workload OUT.pcap [--conns N] [--open M] [--exchanges E] "
                        "[--payload B] [--ipv6] [--retransmit PERMILLE] [--gap PERMILLE]\n");
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
        if (strcmp(a, "--ipv6") == 0) {
            w.ipv6 = true;
            continue;
        }
        i++;
        if (strcmp(a, "--conns") == 0)
            w.conns = arg_number(a, v);
        else if (strcmp(a, "--open") == 0)
            w.open = arg_number(a, v);
        else if (strcmp(a, "--exchanges") == 0)
            w.exchanges = arg_number(a, v);
        else if (strcmp(a, "--payload") == 0)
            w.payload = arg_number(a, v);
        else if (strcmp(a, "--retransmit") == 0)
            w.retransmit_permille = (unsigned)arg_number(a, v);
        else if (strcmp(a, "--gap") == 0)
            w.gap_permille = (unsigned)arg_number(a, v);
        else {
            fprintf(stderr, "gen_workload: unknown option %s\n", a);
            return 2;
        }
    }
    if (!generate(&w, argv[1])) {
        fprintf(stderr, "gen_workload: cannot write %s\n", argv[1]);
        return 1;
    }
    return 0;
}
