/* Tests for format: the longest record each format can write, the figures docs/schema.md
 * ("Output volume") builds the output's worst case per input packet on. Records are bounded by
 * construction — fixed members, numbers of at most 20 digits, addresses of at most 39
 * characters, a history of at most TCP_HISTORY_MAX - 1 letters, at most CONN_MAX_ANOMALIES
 * anomaly entries, a detail under 192 characters of the program's own text — so a search for the
 * longest one can find it: every member of a connection or an anomaly event is drawn from one
 * tape of random numbers, and each number on it in turn is set to every small value (each enum
 * value, each length) and to the widest ones, keeping whatever made the record longer, until
 * nothing does (a record's length is nearly the sum of its members' widths). Four starts, in
 * both time notations, final and interim; 32 starts found records at most 1% longer than these
 * four, and the documented bounds leave some 10% above what was found. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "community_id.h"
#include "format.h"

/* docs/schema.md, "Output volume": the longest connection record and anomaly record of each
 * format, in bytes, newline included (text: the connection's row and the lines of its
 * anomalies; zeek: a conn.log row, a weird.log row). */
static const struct bound {
    const char *format;
    size_t connection, anomaly;
} bounds[] = {
    {"json", 3500, 1200},     {"text", 1100, 400}, {"zeek", 650, 400},
    {"zeek-json", 1000, 550}, {"eve", 3300, 1250}, {"ecs", 3300, 1500},
};

enum { STARTS = 4 };

/* Every member of a record's connection or event is drawn from next(): what it returned in one
 * generation is the tape, and a generation can be replayed with some of it changed (the search for
 * the longest record, below). */
enum { TAPE_MAX = 1024 };
static uint64_t tape[TAPE_MAX];
static size_t tape_pos;
static bool replaying;
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t next(void) {
    if (replaying && tape_pos < TAPE_MAX)
        return tape[tape_pos++];
    rng_state ^= rng_state >> 12; /* xorshift64* */
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    uint64_t v = rng_state * 0x2545f4914f6cdd1dull;
    if (tape_pos < TAPE_MAX)
        tape[tape_pos++] = v;
    return v;
}

static unsigned below(unsigned n) {
    return (unsigned)(next() % n);
}

/* A counter (its raw draw: the search tries the widest); a time or a relative position, up to
 * 2^62 (no sum of two overflows). */
static uint64_t wide64(void) {
    return next();
}
static uint32_t wide32(void) {
    return (uint32_t)next();
}
static int64_t time62(void) {
    return (int64_t)(next() >> 2);
}

static void random_key(struct flow_key *k) {
    memset(k, 0, sizeof *k);
    k->ip_version = next() & 1 ? 6 : 4;
    static const uint8_t v4[] = {6, 17, 1}, v6[] = {6, 17, 58};
    k->proto = k->ip_version == 4 ? v4[below(3)] : v6[below(3)];
    for (int side = 0; side < 2; side++) {
        for (int i = 0; i < 16; i++) /* no zero group: nothing for "::" to compress */
            k->addr[side][i] = next() & 1 ? 0xff : (uint8_t)(0x10 | next());
        k->port[side] = next() & 1 ? 65535 : (uint16_t)next();
        k->vlan[side] = next() & 1 ? 4095 : (uint16_t)below(4096);
    }
}

static struct conn_anomalies anomaly_list;

static void random_anomalies(void) {
    memset(&anomaly_list, 0, sizeof anomaly_list);
    anomaly_list.n = (uint8_t)(next() & 1 ? CONN_MAX_ANOMALIES : below(CONN_MAX_ANOMALIES + 1));
    for (unsigned i = 0; i < anomaly_list.n; i++) {
        struct conn_anomaly *a = &anomaly_list.list[i];
        a->id = (uint8_t)below(ANOMALY_SYN_FLOOD); /* a connection's own kinds */
        a->dir = (uint8_t)(next() & 1);
        a->count = wide32();
        a->first_ns = time62();
    }
    anomaly_list.overflow = wide32();
    anomaly_list.unlisted = next();
}

static void random_endpoint(struct tcp_endpoint *ep) {
    uint64_t bits = next();
    ep->seen = bits & 1, ep->syn_sent = bits >> 1 & 1, ep->syn_implied = bits >> 2 & 1;
    ep->syn_acked = bits >> 3 & 1, ep->peer_syn_rcvd = bits >> 4 & 1, ep->fin_sent = bits >> 5 & 1;
    ep->fin_acked = bits >> 6 & 1, ep->peer_fin_rcvd = bits >> 7 & 1;
    ep->active_closer = bits >> 8 & 1, ep->rst_sent = bits >> 9 & 1, ep->ack_sent = bits >> 10 & 1;
    ep->synack_sent = bits >> 11 & 1, ep->window_from_syn = bits >> 12 & 1;
    ep->probe_pending = bits >> 13 & 1, ep->base_known = bits >> 14 & 1;
    ep->fin_resent = bits >> 15 & 1, ep->opt_seen = bits >> 16 & 1;
    ep->sack_permitted = bits >> 17 & 1, ep->timestamps = bits >> 18 & 1;
    ep->has_wscale = bits >> 19 & 1;
    ep->wscale = (uint8_t)below(15);
    ep->mss = (uint16_t)wide32();
    ep->zeek = (uint8_t)below(ZEEK_RESET + 1);
    ep->zeek_prev = (uint8_t)below(ZEEK_RESET + 1);
    ep->history_once = (uint8_t)next();
    ep->flags_seen = (uint8_t)next();
    ep->window = (uint16_t)wide32();
    ep->isn = wide32(), ep->last_ack = wide32();
    ep->last_syn_pos = wide32(), ep->last_fin_pos = wide32(), ep->last_rst_pos = wide32();
    ep->retrans_pkts = wide32(), ep->n_bad_checksum = wide32(), ep->n_zero_window = wide32();
    ep->n_gaps = wide32(), ep->n_retrans_data = wide32(), ep->resent_end = wide32();
    ep->hi = time62(), ep->fin_pos = time62(), ep->data_hi = time62();
    ep->last_data_ns = time62(), ep->fin_ns = time62();
    ep->payload_bytes = wide64(), ep->retrans_bytes = wide64(), ep->missed_bytes = wide64();
    struct tcp_metrics *m = &ep->m;
    m->timing = bits >> 20 & 1, m->window_seen = bits >> 21 & 1;
    m->last_ns = time62(), m->timed_ns = time62(), m->zero_since_ns = time62();
    m->zero_window_ns = (uint64_t)time62(), m->rtt_sum_us = wide64();
    m->rtt_count = wide32(), m->rtt_min_us = wide32(), m->rtt_max_us = wide32();
    m->dup_acks = wide32(), m->dup_segments = wide32(), m->dup_retransmits = wide32();
    m->window_min = wide32(), m->window_max = wide32(), m->max_segment = wide32();
}

static void random_tcp(struct tcp_conn *t) {
    static const char letters[] = "ShADadFfRrTtWwIiQqCcGg^";
    random_endpoint(&t->ep[0]);
    random_endpoint(&t->ep[1]);
    t->raised = (anomaly_set)next();
    uint64_t bits = next();
    t->midstream = bits & 1, t->flipped = bits >> 1 & 1, t->simultaneous_open = bits >> 2 & 1;
    t->handshake_done = bits >> 3 & 1, t->handshake_ack_checked = bits >> 4 & 1;
    t->reordered = bits >> 5 & 1, t->sync_inferred = bits >> 6 & 1;
    t->close_how = (uint8_t)below(TCP_CLOSE_RST + 1);
    t->close_initiator = (int8_t)((int)below(3) - 1);
    unsigned n = next() & 1 ? TCP_HISTORY_MAX - 1 : below(TCP_HISTORY_MAX);
    for (unsigned i = 0; i < n; i++)
        t->history[i] = letters[below(sizeof letters - 1)];
    t->history[n] = '\0';
    t->syn_ns = next() & 3 ? time62() : 0;
    t->synack_ns = next() & 3 ? time62() : 0;
    t->ack_ns = next() & 3 ? time62() : 0;
    t->holes = NULL;
}

static void random_conn(struct conn *c) {
    memset(c, 0, sizeof *c);
    random_key(&c->e.key);
    c->orig_side = (uint8_t)(next() & 1);
    c->end = (uint8_t)below(CONN_END_COUNT);
    c->first_frame = wide64();
    c->last_frame = wide64();
    c->first_ns = time62();
    c->last_ns = c->first_ns + time62();
    c->last_interim_ns = time62();
    for (int d = 0; d < 2; d++) {
        c->pkts[d] = wide64();
        c->ip_bytes[d] = wide64();
    }
    random_anomalies();
    c->anomalies = next() & 3 ? &anomaly_list : NULL;
    if (c->e.key.proto == 6) {
        random_tcp(&c->tcp);
    } else {
        for (int d = 0; d < 2; d++) {
            c->icmp_type[d] = (uint8_t)next();
            c->icmp_code[d] = (uint8_t)next();
        }
    }
}

/* The longest detail the program writes is under 192 characters of its own text (letters,
 * digits, spaces and "/+^()',:.-", anomaly_detail.c): 191 of them. */
static void random_event(struct anomaly_event *ev, struct flow_key *key, uint8_t host[16]) {
    static const char chars[] = "abcdefghijklmnopqrstuvwxyzSYNACK0123456789 /+^()',:.-";
    memset(ev, 0, sizeof *ev);
    ev->id = (enum anomaly)below(ANOMALY_COUNT);
    ev->ts_ns = time62();
    ev->frame = wide64();
    ev->first_ns = time62();
    ev->serial = wide64();
    for (int i = 0; i < 191; i++)
        ev->detail[i] = chars[below(sizeof chars - 1)];
    if (ev->id == ANOMALY_SYN_FLOOD || ev->id == ANOMALY_PORT_SCAN) { /* host-level */
        ev->dir = -1;
        for (int i = 0; i < 16; i++)
            host[i] = next() & 1 ? 0xff : (uint8_t)(0x10 | next());
        ev->host = host;
        ev->host_version = next() & 1 ? 6 : 4;
        ev->count = wide32();
        ev->window_ns = time62();
        if (next() & 1) {
            ev->folded = (struct anomaly_fold){wide64(), wide32(), (anomaly_set)next(),
                                               time62(), time62(), time62()};
            ev->folded.kinds &= (anomaly_set)((1u << ANOMALY_COUNT) - 1);
        }
        return;
    }
    random_key(key);
    ev->key = key;
    ev->dir = (int)(next() & 1);
    ev->orig_side = (uint8_t)(next() & 1);
}

/* The length of the record fo writes (a connection, or else an anomaly) for the generation on
 * the tape (replaying), or for a fresh one. */
static size_t record_length(const struct format_ops *fo, bool connection, struct format_ctx *f,
                            bool final) {
    struct conn c;
    struct anomaly_event ev;
    struct flow_key key;
    uint8_t host[16];
    tape_pos = 0;
    outbuf_reset(f->out);
    if (connection) {
        random_conn(&c);
        fo->connection(f, &c, final);
    } else {
        random_event(&ev, &key, host);
        fo->anomaly(f, &ev);
    }
    cr_assert_not(outbuf_failed(f->out));
    return f->out->len;
}

/* Coordinate ascent from a fresh generation: each draw on the tape in turn is given each of the
 * extreme values and small numbers (every enum value, every length), keeping what made the record
 * longest, until a pass changes nothing. Record lengths are nearly sums of their members'
 * widths, so this climbs to the widest of each. */
static size_t ascend(const struct format_ops *fo, bool connection, struct format_ctx *f,
                     bool final) {
    static const uint64_t extremes[] = {UINT64_MAX,         UINT64_MAX >> 1, UINT64_MAX >> 2,
                                        UINT64_MAX >> 3,    UINT32_MAX,      UINT32_MAX >> 1,
                                        0xaaaaaaaaaaaaaaaa, 0xffff,          0x1111111111111111};
    replaying = false;
    size_t best = record_length(fo, connection, f, final), used = tape_pos;
    replaying = true;
    for (bool better = true; better;) {
        better = false;
        for (size_t i = 0; i < used && i < TAPE_MAX; i++) {
            uint64_t keep = tape[i];
            for (unsigned k = 0; k < 32 + sizeof extremes / sizeof extremes[0]; k++) {
                tape[i] = k < 32 ? k : extremes[k - 32];
                size_t len = record_length(fo, connection, f, final);
                if (tape_pos > used)
                    used = tape_pos;
                if (len > best) {
                    best = len;
                    keep = tape[i];
                    better = true;
                }
            }
            tape[i] = keep;
        }
    }
    replaying = false;
    return best;
}

/* The longest connection and anomaly record of the format (or its logs, -o DIR). */
static void longest(const struct format_ops *fmt, size_t *conn_max, size_t *anomaly_max) {
    struct outbuf buf = {0};
    struct community_id_hasher *hasher = community_id_hasher_new();
    struct record_options opt = {.hasher = hasher, .text_columns = 1000, .text_wide = true};
    struct format_ctx f = {&buf, &opt, false};
    const struct format_ops *logs[4] = {fmt, NULL};
    if (fmt->logs) { /* zeek: conn.log and weird.log, each its own format */
        size_t n = 0;
        for (const struct format_log *l = fmt->logs; l->file && n < 3; l++)
            logs[n++] = l->format;
        logs[n] = NULL;
    }
    *conn_max = *anomaly_max = 0;
    for (unsigned start = 0; start < STARTS; start++) {
        opt.iso_time = start & 1;
        for (const struct format_ops *const *fo = logs; *fo; fo++) {
            size_t c = ascend(*fo, true, &f, start & 2), a = ascend(*fo, false, &f, false);
            *conn_max = c > *conn_max ? c : *conn_max;
            *anomaly_max = a > *anomaly_max ? a : *anomaly_max;
        }
    }
    outbuf_free(&buf);
    community_id_hasher_free(hasher);
}

Test(format, records_no_longer_than_documented) {
    for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++) {
        const struct format_ops *fmt = output_format_find(bounds[i].format);
        cr_assert(fmt, "%s", bounds[i].format);
        size_t conn_max, anomaly_max;
        longest(fmt, &conn_max, &anomaly_max);
        cr_expect_leq(conn_max, bounds[i].connection, "%s connection: %zu bytes", bounds[i].format,
                      conn_max);
        cr_expect_leq(anomaly_max, bounds[i].anomaly, "%s anomaly: %zu bytes", bounds[i].format,
                      anomaly_max);
    }
}

/* The text stats line fits the output's width as the table does: at each width, every line is
 * within it, the continuation lines are indented, and joined back they are the one line --wide
 * writes: same phrases, same order. 20-digit counters, kernel and interface drops, checksums and
 * two outputs that lost records make it long, about 270 characters; every phrase fits in the
 * narrowest room, 37 columns (COLUMNS=40, 2 blanks in, a comma after; a longer phrase is not
 * broken). */
Test(format, text_stats_line_fits_the_width) {
    const struct format_ops *fmt = output_format_find("text");
    cr_assert(fmt);
    struct output_account outs[2] = {{"eve.json", "eve", 1, 12345678901, 7},
                                     {"redis://h:6379/k", "json", 2, 3, 9}};
    struct checksum_counts sums[CHECKSUM_LAYER_COUNT] = {{0}};
    sums[0].bad = 1000000000;
    sums[1].offloaded = 12;
    struct live_stats ls = {.wall_ns = 1765000000123456789,
                            .packets = UINT64_MAX,
                            .have_capture = true,
                            .dropped = UINT64_MAX,
                            .if_dropped = 5,
                            .connections_open = UINT32_MAX,
                            .connections_reported = UINT64_MAX,
                            .anomalies = UINT64_MAX,
                            .outputs = outs,
                            .noutputs = 2};
    memcpy(ls.checksums, sums, sizeof sums);
    struct outbuf wide = {0}, buf = {0};
    struct record_options wopt = {.text_columns = 1000, .text_wide = true};
    struct format_ctx wf = {&wide, &wopt, false};
    fmt->stats(&wf, &ls);
    cr_assert(wide.len > 250 && memchr(wide.data, '\n', wide.len) == wide.data + wide.len - 1,
              "--wide: one line of %zu bytes", wide.len);
    static const unsigned widths[] = {40, 60, 64, 80, 100, 120};
    for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++) {
        outbuf_reset(&buf);
        struct record_options opt = {.text_columns = widths[w]};
        struct format_ctx f = {&buf, &opt, false};
        fmt->stats(&f, &ls);
        char joined[1024];
        size_t jl = 0, lines = 0;
        for (size_t at = 0; at < buf.len;) {
            const char *nl = memchr(buf.data + at, '\n', buf.len - at);
            cr_assert(nl, "width %u: the record ends with a newline", widths[w]);
            size_t len = (size_t)(nl - (buf.data + at));
            cr_expect_leq(len, widths[w], "width %u: a line of %zu: %.*s", widths[w], len, (int)len,
                          buf.data + at);
            size_t skip = 0;
            if (lines++ > 0) { /* a continuation: indented, after a line that ended in a comma */
                cr_expect(len > 2 && buf.data[at] == ' ' && buf.data[at + 1] == ' ',
                          "width %u: continuation not indented", widths[w]);
                cr_expect(jl > 0 &&
                              (joined[jl - 1] == ',' ||
                               (lines == 2 && jl > 6 && memcmp(joined + jl - 6, "stats:", 6) == 0)),
                          "width %u: break neither after a comma nor after 'stats:'", widths[w]);
                while (skip < len && buf.data[at + skip] == ' ')
                    skip++;
                joined[jl++] = ' ';
            }
            cr_assert(jl + len - skip < sizeof joined);
            memcpy(joined + jl, buf.data + at + skip, len - skip);
            jl += len - skip;
            at += len + 1;
        }
        joined[jl++] = '\n';
        cr_expect(lines > 1, "width %u: a %zu-byte line not broken", widths[w], wide.len);
        cr_expect(jl == wide.len && memcmp(joined, wide.data, jl) == 0,
                  "width %u: joined back, not --wide's line:\n%.*s%.*s", widths[w], (int)jl, joined,
                  (int)wide.len, wide.data);
    }
    outbuf_free(&wide);
    outbuf_free(&buf);
}
