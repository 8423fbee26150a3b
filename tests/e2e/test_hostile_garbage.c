/* End-to-end tests of hostile input (issue 7), garbage: random bytes after valid file headers,
 * random frames on every link type and mutated real conversations. Each run's output is checked
 * and validated against the schema (hostile_helpers.h). */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capwrite.h"
#include "hostile_helpers.h"
#include "run.h"
#include "samples.h"

/* ==== garbage ================================================================================= */

static uint64_t rng_state;

static uint32_t rng(void) { /* xorshift64*, fixed seeds: every run sees the same garbage */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}

static void random_bytes(uint8_t *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)rng();
}

static const int link_types[] = {1, 101, 113, 276, 0, 108, 228, 229, 147};

/* A file of pure random bytes is not a capture: unreadable, exit 2, and still a valid summary
 * (shakedown(1): the summary is printed). A valid pcap or pcapng header followed by random bytes:
 * whatever libpcap makes of them, each record is a packet or the end of the readable part, so the
 * exit status is 0 (read to the end) or 1 (damaged); never a crash, and the output is valid. */
Test(garbage, random_bytes_after_valid_headers) {
    struct outputs outs = {.n = 0};
    uint8_t junk[8192];
    for (uint64_t seed = 1; seed <= 48; seed++) {
        rng_state = seed * 0x9E3779B97F4A7C15ull;
        size_t n = 64 + rng() % (sizeof junk - 64);
        random_bytes(junk, n);
        struct bytes x = {0};
        int kind = (int)(seed % 3);
        if (kind == 0) {
            pcap_header(&x, (uint32_t)link_types[seed % 9], 65535);
        } else if (kind == 1) {
            const char *p = tmp_path("hdr.pcapng");
            struct capwrite *w = capwrite_open(p, CAPWRITE_PCAPNG, link_types[seed % 9], 65535);
            cr_assert(w && capwrite_close(w));
            size_t hn;
            uint8_t *h = read_whole(p, &hn);
            put(&x, h, hn);
            free(h);
        }
        put(&x, junk, n);
        const char *path = write_bytes("junk.cap", x.b, x.n);
        struct result r;
        run_on(&r, &outs, path, NULL);
        if (kind == 2)
            cr_expect_eq(r.status, 2, "seed %" PRIu64 ": %s", seed, r.err);
        else
            cr_expect(r.status == 0 || r.status == 1, "seed %" PRIu64 ": exit %d: %s", seed,
                      r.status, r.err);
        result_free(&r);
        free(x.b);
    }
    outputs_validate(&outs);
}

/* Well-formed records of random frames (0 to 300 random bytes) on every link type: the file is
 * read to its end (exit 0), and every packet is accounted for (check_output). The IP version
 * nibble is forced on raw-IP link types half the time so the dissectors get past the first
 * byte. */
Test(garbage, random_frames_on_every_link_type) {
    struct outputs outs = {.n = 0};
    for (size_t l = 0; l < sizeof link_types / sizeof link_types[0]; l++) {
        rng_state = 0x1234567ull + l;
        struct bytes x = {0};
        pcap_header(&x, (uint32_t)link_types[l], 65535);
        uint8_t junk[300];
        for (uint32_t i = 0; i < 2000; i++) {
            size_t n = rng() % sizeof junk;
            random_bytes(junk, n);
            if (n > 0 && (i & 1))
                junk[0] = (uint8_t)((rng() & 1 ? 0x40 : 0x60) | (junk[0] & 0x0f));
            pcap_record(&x, 1704067200u + i / 1000, i % 1000 * 1000, (uint32_t)n, (uint32_t)n, junk,
                        n);
        }
        struct result r;
        run_on(&r, &outs, write_bytes("frames.pcap", x.b, x.n), NULL);
        cr_expect_eq(r.status, 0, "link %d: %s", link_types[l], r.err);
        cr_expect_eq(json_int_at(r.summary, "packets"), 2000);
        result_free(&r);
        free(x.b);
    }
    outputs_validate(&outs);
}

/* The frames of several real conversations (the standard exchange over IPv4 and IPv6, with VLAN
 * tags), each with 1 to 4 random bytes overwritten anywhere, 4000 frames; read with --checksums
 * off so that damaged headers reach connection tracking instead of being dropped for their
 * checksum, and once with the default. Exit 0 both times; every packet accounted for, every
 * connection reported once with its own uid, the output valid. */
Test(garbage, mutated_conversations) {
    const char *srcs[3] = {tmp_path("m4.pcap"), tmp_path("m6.pcap"), tmp_path("mv.pcap")};
    char copies[3][256];
    for (int i = 0; i < 3; i++)
        snprintf(copies[i], sizeof copies[i], "%s", srcs[i]);
    cr_assert(gen_clean_ipv4(copies[0]) && gen_clean_ipv6(copies[1]) && gen_vlan(copies[2]));
    struct outputs outs = {.n = 0};
    for (uint64_t seed = 1; seed <= 4; seed++) {
        rng_state = seed * 0xD1B54A32D192ED03ull;
        struct bytes x = {0};
        pcap_header(&x, 1, 65535);
        for (int round = 0; round < 4000 / 33 + 1; round++) {
            for (int c = 0; c < 3; c++) {
                size_t n;
                uint8_t *b = read_whole(copies[c], &n);
                size_t off = 24;
                uint16_t port = (uint16_t)(rng() % 64);
                while (off + 16 <= n) {
                    uint32_t caplen = le32_at(b + off + 8);
                    uint8_t *fr = b + off + 16;
                    /* A few conversations share ports, so damaged segments meet live ones. */
                    fr[caplen > 60 ? 37 : 0] ^= (uint8_t)port;
                    int flips = 1 + (int)(rng() % 4);
                    for (int k = 0; k < flips; k++)
                        fr[rng() % caplen] = (uint8_t)rng();
                    uint32_t usec = (uint32_t)(x.n % 1000000);
                    pcap_record(&x, 1704067200u + (uint32_t)round, usec, caplen, caplen, fr,
                                caplen);
                    off += 16 + caplen;
                }
                free(b);
            }
        }
        const char *path = write_bytes("mutated.pcap", x.b, x.n);
        const char *off_opts[] = {"--checksums", "off", NULL};
        struct result r;
        run_on(&r, &outs, path, off_opts);
        cr_expect_eq(r.status, 0, "seed %" PRIu64 ": %s", seed, r.err);
        result_free(&r);
        run_on(&r, &outs, path, NULL);
        cr_expect_eq(r.status, 0, "seed %" PRIu64 ": %s", seed, r.err);
        result_free(&r);
        free(x.b);
    }
    outputs_validate(&outs);
}
