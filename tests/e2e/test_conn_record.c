/* End-to-end tests of connection tracking (issue 3), the connection record: Community ID and
 * counts of a sample, and the IP sizes behind the byte counts, read back from the frames
 * written. Conventions and helpers: conn_helpers.h. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capwrite.h"
#include "conn_helpers.h"
#include "pktbuild.h"
#include "run.h"
#include "samples.h"
#include "session.h"

/* ==== the record ============================================================================= */

/* gen_clean_ipv4: 192.0.2.10:49152 → 198.51.100.20:80, the standard exchange with 120 / 1000
 * bytes. The Community ID (v1, seed 0) computed independently with Python's hashlib: SHA-1 over
 *   seed 00 00 | src c0 00 02 0a | dst c6 33 64 14 | proto 06 | pad 00 | sport c0 00 | dport 00 50
 * (the source is the smaller address, so no swap), base64 of the digest, prefixed with "1:". */
Test(record, standard_sample_community_id_and_counts) {
    const char *path = tmp_path("clean4.pcap");
    cr_assert(gen_clean_ipv4(path));
    struct run r;
    struct json_object *rec = only_record(&r, path, NULL);
    expect_str(rec, "community_id", "1:1m1W/WLkzBYWJoj/5SpV8lAVCaE=");
    expect_str(rec, "src_ip", "192.0.2.10");
    expect_int(rec, "src_port", 49152);
    expect_str(rec, "dest_ip", "198.51.100.20");
    expect_int(rec, "dest_port", 80);
    expect_conn(rec, "SF", "ShADadFf", "fin");
    expect_states(rec, "TIME_WAIT", "CLOSED");
    /* orig: SYN 60, ACK 52, data 172, ACK 52, FIN 52, ACK 52 = 6, 440; resp: SYN/ACK 60,
     * ACK 52, data 1052, FIN 52, ACK 52 = 5, 1268. */
    expect_counts(rec, 6, 440, 5, 1268);
    expect_payload(rec, 120, 1000);
    /* Frames every 10 ms from 2024-01-01T00:00:00Z (SAMPLES_STEP_NS). */
    expect_int(rec, "handshake.syn_to_synack_us", 10000);
    expect_time(rec, "ts", (int64_t)SAMPLES_START_NS);
    expect_time(rec, "end_ts", (int64_t)SAMPLES_START_NS + 10 * (int64_t)SAMPLES_STEP_NS);
    /* --community-id-seed changes the hash (the seed is part of the hashed bytes). */
    run_free(&r);
    const char *opts[] = {"--community-id-seed", "1", NULL};
    rec = only_record(&r, path, opts);
    cr_expect_str_neq(json_str_or(rec, "community_id"), "1:1m1W/WLkzBYWJoj/5SpV8lAVCaE=");
    run_free(&r);
}

/* Reads the frame lengths of a pcap written by capwrite (little-endian, 24-byte file header,
 * 16-byte record headers with incl_len at offset 8). */
static size_t pcap_frame_lengths(const char *path, uint32_t *lens, size_t max) {
    FILE *f = fopen(path, "rb");
    cr_assert(f);
    uint8_t h[24];
    cr_assert_eq(fread(h, 1, sizeof h, f), sizeof h);
    size_t n = 0;
    uint8_t rh[16];
    while (n < max && fread(rh, 1, sizeof rh, f) == sizeof rh) {
        uint32_t incl = (uint32_t)rh[8] | (uint32_t)rh[9] << 8 | (uint32_t)rh[10] << 16 |
                        (uint32_t)rh[11] << 24;
        lens[n++] = incl;
        cr_assert_eq(fseek(f, (long)incl, SEEK_CUR), 0);
    }
    fclose(f);
    return n;
}

/* The IP sizes the expectations above are built on, read back from written frames: Ethernet
 * frame length − 14. */
Test(record, frame_lengths_behind_ip_byte_counts) {
    struct cap c;
    struct session s;
    cap_open(&c, "sizes.pcap");
    conn_init(&s, &c, 50700, 80, CISN, SISN);
    session_syn(&s);
    session_syn_ack(&s);
    session_ack(&s, SESSION_CLIENT);
    session_data(&s, SESSION_CLIENT, 100);
    session_rst(&s, SESSION_SERVER);
    conn_done(&s);
    cap_close(&c);
    uint32_t lens[8];
    cr_assert_eq(pcap_frame_lengths(c.path, lens, 8), 5);
    cr_expect_eq(lens[0] - 14, IP_SYN);
    cr_expect_eq(lens[1] - 14, IP_SYN);
    cr_expect_eq(lens[2] - 14, IP_SEG);
    cr_expect_eq(lens[3] - 14, IP_SEG + 100);
    cr_expect_eq(lens[4] - 14, IP_RST);
    /* And the analyzer adds exactly these up: orig SYN + ACK + data, resp SYN/ACK + RST. */
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    expect_counts(rec, 3, lens[0] + lens[2] + lens[3] - 3 * 14, 2, lens[1] + lens[4] - 2 * 14);
    run_free(&r);
}

/* A SYN and the server's RST|ACK (seq 0, ack = CISN + 1), every frame with 6 bytes of Ethernet
 * padding after the IP packet (a 54-byte RST frame padded to the 60-byte minimum). */
Test(record, ethernet_padding_is_not_ip_bytes) {
    struct cap c;
    struct session s;
    cap_open(&c, "padded.pcap");
    struct pb_frame f = pb_tcp4();
    f.sport = 50701;
    f.eth_padding = 6;
    session_init(&s, c.w, &c.clock, &f, CISN, SISN);
    session_syn(&s);
    session_write_segment(&s, SESSION_SERVER, PB_RST | PB_ACK, 0, CISN + 1, 0);
    conn_done(&s);
    cap_close(&c);
    uint32_t lens[4];
    cr_assert_eq(pcap_frame_lengths(c.path, lens, 4), 2);
    cr_assert_eq(lens[1], 14 + IP_RST + 6);
    struct run r;
    struct json_object *rec = only_record(&r, c.path, NULL);
    /* IP total lengths: 60 and 40; the padding is not part of the IP packet. */
    expect_counts(rec, 1, IP_SYN, 1, IP_RST);
    expect_conn(rec, "REJ", "Sr", "rst");
    run_free(&r);
}
