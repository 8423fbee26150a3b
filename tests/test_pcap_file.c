/* Tests for pcap_file and the reader choice in capture.c: classic pcap files written byte by byte
 * (either byte order, µs or ns, cut at every length, records longer than the snapshot length or
 * than libpcap allows, odd timestamps, records across the end of pcap_file's buffer) are read
 * both through pcap_file and through libpcap (capture_open_file_with(...,
 * CAPTURE_READER_LIBPCAP, ...)), and the two must give the same records, the same statuses and
 * the same words for any damage. Each test also checks what the file it wrote must give, so that
 * two readers agreeing on a wrong answer still fail. Files pcap_file must not read (pcapng,
 * compressed, a FIFO, libpcap's rewritten link types) go to libpcap. Files that grow, shrink or
 * fail to read while open are read on as libpcap reads them. */
#define _DEFAULT_SOURCE 1 /* mkstemp, mkdtemp */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "capture.h"
#include "pcap_file.h"
#include "pktbuild.h"

/* ---- writing files byte by byte -------------------------------------------------------------- */

#define MAGIC_USEC 0xa1b2c3d4u
#define MAGIC_NSEC 0xa1b23c4du
#define LINK_ETHERNET 1u

struct bytes {
    uint8_t buf[8 << 20];
    size_t len;
    bool big_endian; /* the order the file is written in */
};

static void put(struct bytes *b, const void *p, size_t n) {
    cr_assert_leq(b->len + n, sizeof b->buf);
    memcpy(b->buf + b->len, p, n);
    b->len += n;
}

static void put16(struct bytes *b, uint16_t v) {
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    if (b->big_endian) {
        x[0] = (uint8_t)(v >> 8);
        x[1] = (uint8_t)v;
    }
    put(b, x, 2);
}

static void put32(struct bytes *b, uint32_t v) {
    uint8_t x[4];
    for (int i = 0; i < 4; i++)
        x[b->big_endian ? 3 - i : i] = (uint8_t)(v >> (8 * i));
    put(b, x, 4);
}

static void file_header(struct bytes *b, uint32_t magic, uint16_t minor, uint32_t snaplen,
                        uint32_t linktype) {
    put32(b, magic);
    put16(b, 2);
    put16(b, minor);
    put32(b, 0); /* thiszone */
    put32(b, 0); /* sigfigs */
    put32(b, snaplen);
    put32(b, linktype);
}

static void record_data(struct bytes *b, uint32_t stored, uint8_t seed) {
    cr_assert_leq(b->len + stored, sizeof b->buf);
    for (uint32_t i = 0; i < stored; i++)
        b->buf[b->len + i] = (uint8_t)(seed + i);
    b->len += stored;
}

/* A record header claiming caplen bytes, then `stored` bytes of a pattern that tells records
 * and offsets apart (byte i of the record with seed s is s + i). */
static void record(struct bytes *b, uint32_t sec, uint32_t frac, uint32_t caplen, uint32_t wirelen,
                   uint32_t stored, uint8_t seed) {
    put32(b, sec);
    put32(b, frac);
    put32(b, caplen);
    put32(b, wirelen);
    record_data(b, stored, seed);
}

/* A whole frame as a record. */
static void frame_record(struct bytes *b, uint32_t sec, const struct pb_frame *f) {
    uint8_t frame[256];
    size_t n = pb_build(f, frame, sizeof frame);
    cr_assert_gt(n, 0);
    put32(b, sec);
    put32(b, 0);
    put32(b, (uint32_t)n);
    put32(b, (uint32_t)n);
    put(b, frame, n);
}

/* Writes the first len bytes of b to a new temporary file; returns its path (to free). */
static char *write_file(const struct bytes *b, size_t len) {
    char *path = strdup("/tmp/test_pcap_file_XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, b->buf, len), (ssize_t)len);
    close(fd);
    return path;
}

/* Removes a file write_file() wrote and frees its path. */
static void remove_file(char *path) {
    unlink(path);
    free(path);
}

/* ---- reading a file both ways ---------------------------------------------------------------- */

struct outcome {
    unsigned records;         /* packets and filtered packets read */
    unsigned passed;          /* of which the filter passed */
    enum capture_status last; /* CAPTURE_END or CAPTURE_DAMAGED */
    char error[256];          /* after CAPTURE_DAMAGED */
    struct capture_packet first;
    uint8_t first_data[64];
};

static struct capture *open_reader(const char *path, const char *filter, enum capture_reader how,
                                   bool expect_fast) {
    char err[512];
    struct capture *cap = capture_open_file_with(path, filter, how, err, sizeof err);
    cr_assert(cap, "%s: %s", path, err);
    cr_assert_eq(capture_fast_reader(cap), expect_fast, "%s read by pcap_file", path);
    return cap;
}

/* Reads fast and lib in step, asserting equal answers at every record, until `limit` more
 * records have been read or the end or damage is reached (then o->last says which); adds what
 * was read to *o. */
static void read_in_step(struct capture *fast, struct capture *lib, const char *path,
                         unsigned limit, struct outcome *o) {
    for (unsigned n = 0; n < limit; n++) {
        struct capture_packet a, b;
        enum capture_status sa = capture_next(fast, &a), sb = capture_next(lib, &b);
        cr_assert_eq(sa, sb, "%s: record %u: status %d vs libpcap %d", path, o->records, sa, sb);
        if (sa != CAPTURE_PACKET && sa != CAPTURE_FILTERED) {
            o->last = sa;
            if (sa == CAPTURE_DAMAGED) {
                cr_assert_str_eq(capture_error(fast), capture_error(lib), "%s", path);
                snprintf(o->error, sizeof o->error, "%s", capture_error(fast));
            }
            return;
        }
        cr_assert_eq(a.caplen, b.caplen, "%s: record %u", path, o->records);
        cr_assert_eq(a.wirelen, b.wirelen, "%s: record %u", path, o->records);
        cr_assert_eq(a.ts_sec, b.ts_sec, "%s: record %u", path, o->records);
        cr_assert_eq(a.ts_nsec, b.ts_nsec, "%s: record %u", path, o->records);
        cr_assert(a.caplen == 0 || memcmp(a.data, b.data, a.caplen) == 0, "%s: record %u", path,
                  o->records);
        if (o->records == 0) {
            o->first = a;
            memcpy(o->first_data, a.data, a.caplen < 64 ? a.caplen : 64);
        }
        o->records++;
        o->passed += sa == CAPTURE_PACKET;
    }
}

/* Reads path through pcap_file (if expect_fast: else both readers are libpcap's) and through
 * libpcap in step to the end or damage (read_in_step); returns what was read. */
static struct outcome compare_readers(const char *path, const char *filter, bool expect_fast) {
    struct capture *fast = open_reader(path, filter, CAPTURE_READER_AUTO, expect_fast);
    struct capture *lib = open_reader(path, filter, CAPTURE_READER_LIBPCAP, false);
    cr_assert_eq(capture_link(fast), capture_link(lib));
    cr_assert_str_eq(capture_link_name(fast), capture_link_name(lib));
    cr_assert_str_eq(capture_link_description(fast), capture_link_description(lib));
    cr_assert_eq(capture_snaplen(fast), capture_snaplen(lib));
    struct outcome o = {0};
    read_in_step(fast, lib, path, UINT_MAX, &o);
    capture_close(fast);
    capture_close(lib);
    return o;
}

/* The next record must be a packet of caplen bytes whose first (if any) is `first`. */
static struct capture_packet expect_record(struct capture *cap, uint32_t caplen, uint8_t first) {
    struct capture_packet p;
    cr_assert_eq(capture_next(cap, &p), CAPTURE_PACKET);
    cr_expect_eq(p.caplen, caplen);
    cr_expect(caplen == 0 || p.data[0] == first);
    return p;
}

/* The next must be the end; then the reader is closed and its file removed. */
static void expect_end_then_remove(struct capture *cap, char *path) {
    struct capture_packet p;
    cr_expect_eq(capture_next(cap, &p), CAPTURE_END);
    capture_close(cap);
    remove_file(path);
}

/* Writes the first len bytes of b to a file and reads it both ways (compare_readers). */
static struct outcome compare_file(const struct bytes *b, size_t len, const char *filter,
                                   bool expect_fast) {
    char *path = write_file(b, len);
    struct outcome o = compare_readers(path, filter, expect_fast);
    remove_file(path);
    return o;
}

static struct bytes *new_bytes(bool big_endian) {
    struct bytes *b = calloc(1, sizeof *b);
    cr_assert(b);
    b->big_endian = big_endian;
    return b;
}

/* A file of that byte order with its header written. */
static struct bytes *new_capture(bool big_endian, uint32_t magic, uint16_t minor, uint32_t snaplen,
                                 uint32_t linktype) {
    struct bytes *b = new_bytes(big_endian);
    file_header(b, magic, minor, snaplen, linktype);
    return b;
}

/* Three records of 60, 100 and 0 bytes: the 0-byte one is legal (libpcap reads nothing). */
static struct bytes *three_records(bool big_endian, uint32_t magic, uint32_t frac) {
    struct bytes *b = new_capture(big_endian, magic, 4, 65535, LINK_ETHERNET);
    record(b, 1704067200, frac, 60, 60, 60, 1);
    record(b, 1704067201, 0, 100, 1514, 100, 2);
    record(b, 1704067202, 0, 0, 60, 0, 3);
    return b;
}

/* ---- well-formed files ----------------------------------------------------------------------- */

/* Both byte orders, both resolutions: three records, then the end. The first record's fraction
 * 123456 is µs in an a1b2c3d4 file (libpcap scales it to 123456000 ns) and ns in an a1b23c4d
 * one; its first byte is the pattern's seed 1. */
Test(pcap_file, both_byte_orders_and_resolutions) {
    for (int big = 0; big < 2; big++) {
        for (int ns = 0; ns < 2; ns++) {
            struct bytes *b = three_records(big, ns ? MAGIC_NSEC : MAGIC_USEC, 123456);
            struct outcome o = compare_file(b, b->len, NULL, true);
            cr_expect_eq(o.records, 3, "big %d ns %d", big, ns);
            cr_expect_eq(o.last, CAPTURE_END);
            cr_expect_eq(o.first.ts_sec, 1704067200);
            cr_expect_eq(o.first.ts_nsec, ns ? 123456u : 123456000u);
            cr_expect_eq(o.first.caplen, 60);
            cr_expect_eq(o.first_data[0], 1);
            cr_expect_eq(o.first_data[59], 60);
            free(b);
        }
    }
}

/* A header and no record: the end at once. The link type field's upper bits carry the FCS
 * length (LT_FCS_LENGTH_PRESENT 0x04000000, 4 bytes in bits 28-31): libpcap strips them, so the
 * link type is Ethernet either way. */
Test(pcap_file, header_only_and_fcs_bits) {
    struct bytes *b =
        new_capture(false, MAGIC_USEC, 4, 65535, LINK_ETHERNET | 0x04000000u | 0x40000000u);
    char *path = write_file(b, b->len);
    struct outcome o = compare_readers(path, NULL, true);
    cr_expect_eq(o.records, 0);
    cr_expect_eq(o.last, CAPTURE_END);
    struct capture *cap = open_reader(path, NULL, CAPTURE_READER_AUTO, true);
    cr_expect_eq(capture_link(cap), 1);
    cr_expect_eq(capture_snaplen(cap), 65535);
    capture_close(cap);
    remove_file(path);
    free(b);
}

/* A snapshot length of 0 (or above INT_MAX) is libpcap's cue to use the link type's maximum,
 * 262144 for Ethernet. */
Test(pcap_file, snaplen_zero_takes_the_maximum) {
    struct bytes *b = new_capture(false, MAGIC_USEC, 4, 0, LINK_ETHERNET);
    record(b, 1, 0, 70000, 70000, 70000, 9);
    char *path = write_file(b, b->len);
    struct outcome o = compare_readers(path, NULL, true);
    cr_expect_eq(o.records, 1);
    cr_expect_eq(o.first.caplen, 70000);
    struct capture *cap = open_reader(path, NULL, CAPTURE_READER_AUTO, true);
    cr_expect_eq(capture_snaplen(cap), 262144);
    capture_close(cap);
    remove_file(path);
    free(b);
}

/* The timestamp fields are signed 32-bit, as libpcap reads a file of this host's byte order:
 * all-ones seconds are -1, a negative fraction wraps when cut to the 32-bit ts_nsec. libpcap's
 * byte swap makes them unsigned in a byte-swapped file: all-ones seconds are 4294967295 and a
 * -1 µs fraction is 4294967295000 ns, cut to 32 bits. A µs fraction of 1000000 or more is
 * scaled (×1000) but not normalised, in either order. */
Test(pcap_file, odd_timestamps_pass_through) {
    for (int big = 0; big < 2; big++) {
        struct bytes *b = new_capture(big, MAGIC_USEC, 4, 65535, LINK_ETHERNET);
        record(b, 0xffffffffu, 1000000, 20, 20, 20, 1);
        record(b, 5, 4000000, 20, 20, 20, 2);     /* 4e9 ns: still fits in 32 bits */
        record(b, 5, 0xffffffffu, 20, 20, 20, 3); /* -1 µs, or 4294967295 µs */
        struct outcome o = compare_file(b, b->len, NULL, true);
        cr_expect_eq(o.records, 3);
        cr_expect_eq(o.first.ts_sec, big ? 4294967295 : -1);
        cr_expect_eq(o.first.ts_nsec, 1000000000u);
        char *path = write_file(b, b->len);
        struct capture *cap = open_reader(path, NULL, CAPTURE_READER_AUTO, true);
        expect_record(cap, 20, 1);
        cr_expect_eq(expect_record(cap, 20, 2).ts_nsec, 4000000000u);
        cr_expect_eq(expect_record(cap, 20, 3).ts_nsec,
                     big ? (uint32_t)(4294967295ull * 1000) : (uint32_t)-1000);
        expect_end_then_remove(cap, path);
        free(b);
    }
}

/* ---- damaged files --------------------------------------------------------------------------- */

/* Every cut of a three-record file, from the header alone to the whole: at a record boundary
 * the records before it and the end; inside a record header, "tried to read 16 header bytes";
 * inside the data, "tried to read <caplen> captured bytes" with what was left. */
Test(pcap_file, cut_at_every_length) {
    for (int big = 0; big < 2; big++) {
        struct bytes *b = three_records(big, MAGIC_USEC, 0);
        size_t ends[] = {24, 24 + 16 + 60, 24 + 16 + 60 + 16 + 100, b->len};
        for (size_t len = 24; len <= b->len; len++) {
            struct outcome o = compare_file(b, len, NULL, true);
            unsigned whole = 0;
            bool boundary = false;
            for (size_t i = 0; i < 4; i++) {
                whole += len >= ends[i] && i > 0;
                boundary |= len == ends[i];
            }
            cr_expect_eq(o.records, whole, "cut at %zu", len);
            cr_expect_eq(o.last, boundary ? CAPTURE_END : CAPTURE_DAMAGED, "cut at %zu", len);
        }
        free(b);
    }
}

/* The exact words, for one cut in a record header and one in the data. */
Test(pcap_file, damage_is_described_as_libpcap_does) {
    struct bytes *b = three_records(false, MAGIC_USEC, 0);
    struct outcome o =
        compare_file(b, 24 + 16 + 60 + 5, NULL, true); /* 5 bytes of the second record header */
    cr_expect_str_eq(o.error, "truncated dump file; tried to read 16 header bytes, only got 5");
    o = compare_file(b, 24 + 16 + 60 + 16 + 40, NULL,
                     true); /* 40 of the second record's 100 bytes */
    cr_expect_eq(o.records, 1);
    cr_expect_str_eq(o.error, "truncated dump file; tried to read 100 captured bytes, only got 40");
    free(b);
}

/* A record longer than the file's snapshot length (64) but within libpcap's maximum is cut to
 * 64 bytes and the rest skipped: the next record is read from the right place (its seed 2).
 * Cut short before byte 64 libpcap names the snapshot length, after it the record's length;
 * every cut is compared. */
Test(pcap_file, caplen_above_snaplen_is_cut_to_it) {
    struct bytes *b = new_capture(false, MAGIC_USEC, 4, 64, LINK_ETHERNET);
    record(b, 1, 0, 100, 100, 100, 1);
    record(b, 2, 0, 10, 10, 10, 2);
    char *path = write_file(b, b->len);
    struct capture *cap = open_reader(path, NULL, CAPTURE_READER_AUTO, true);
    struct capture_packet p = expect_record(cap, 64, 1);
    cr_expect_eq(p.wirelen, 100);
    expect_record(cap, 10, 2);
    expect_end_then_remove(cap, path);
    for (size_t len = 24 + 16; len < 24 + 16 + 100; len++) {
        struct outcome o = compare_file(b, len, NULL, true);
        char want[128];
        snprintf(want, sizeof want,
                 "truncated dump file; tried to read %d captured bytes, only got %zu",
                 len < 24 + 16 + 64 ? 64 : 100, len - 24 - 16);
        cr_expect_str_eq(o.error, want);
    }
    free(b);
}

/* Above libpcap's maximum for Ethernet (262144) a record is damage, named by the snapshot
 * length when it exceeds that too, else by the maximum. */
Test(pcap_file, caplen_above_the_maximum_is_damage) {
    uint32_t snaplens[] = {65535, 1000000};
    const char *want[] = {"invalid packet capture length 300000, bigger than snaplen of 65535",
                          "invalid packet capture length 300000, bigger than maximum of 262144"};
    for (int i = 0; i < 2; i++) {
        struct bytes *b = new_capture(false, MAGIC_USEC, 4, snaplens[i], LINK_ETHERNET);
        record(b, 1, 0, 20, 20, 20, 1);
        record(b, 2, 0, 300000, 300000, 300000, 2);
        struct outcome o = compare_file(b, b->len, NULL, true);
        cr_expect_eq(o.records, 1);
        cr_expect_eq(o.last, CAPTURE_DAMAGED);
        cr_expect_str_eq(o.error, want[i]);
        free(b);
    }
}

/* A 23-byte file is not a capture for either reader: the same reason from both. */
Test(pcap_file, file_shorter_than_its_header_is_refused) {
    struct bytes *b = new_capture(false, MAGIC_USEC, 4, 65535, LINK_ETHERNET);
    char *path = write_file(b, 23);
    char e1[512], e2[512];
    cr_expect_null(capture_open_file_with(path, NULL, CAPTURE_READER_AUTO, e1, sizeof e1));
    cr_expect_null(capture_open_file_with(path, NULL, CAPTURE_READER_LIBPCAP, e2, sizeof e2));
    cr_expect_str_eq(e1, e2);
    cr_expect(strstr(e1, "truncated dump file"), "%s", e1);
    int fd = open(path, O_RDONLY);
    cr_expect_null(pcap_file_open(fd, (struct pcap_file_limits){65535, 262144}));
    close(fd);
    remove_file(path);
    free(b);
}

/* ---- the filter ------------------------------------------------------------------------------ */

/* "tcp" over TCP, UDP, TCP frames: the filter sees pcap_file's bytes as it sees libpcap's, two
 * pass and the UDP one is counted as filtered. */
Test(pcap_file, filter_judges_its_records) {
    struct bytes *b = new_capture(false, MAGIC_USEC, 4, 65535, LINK_ETHERNET);
    struct pb_frame f = pb_tcp4();
    frame_record(b, 1, &f);
    f.proto = 17;
    frame_record(b, 2, &f);
    f.proto = 6;
    frame_record(b, 3, &f);
    struct outcome o = compare_file(b, b->len, "tcp", true);
    cr_expect_eq(o.records, 3);
    cr_expect_eq(o.passed, 2);
    free(b);
}

/* ---- files left to libpcap ------------------------------------------------------------------- */

/* Version 2.3 (caplen and len maybe the other way round) and the 0xa1b2cd34 magic (longer record
 * headers) are libpcap's to guess at; so is a byte-swapped Linux cooked capture, whose
 * pseudo-headers libpcap rewrites. The same file as native SLL is read by pcap_file. */
Test(pcap_file, headers_libpcap_must_judge_stay_with_libpcap) {
    struct {
        uint32_t magic;
        uint16_t minor;
        uint32_t link;
        bool big, fast;
    } cases[] = {
        {MAGIC_USEC, 3, LINK_ETHERNET, false, false},
        {0xa1b2cd34u, 4, LINK_ETHERNET, false, false},
        {MAGIC_USEC, 4, 113, true, false},
        {MAGIC_USEC, 4, 113, false, true},
        {MAGIC_USEC, 4, 276, true, false},
        {MAGIC_USEC, 4, LINK_ETHERNET, true, true},
        /* Link types whose records may pass 256 KiB (D-Bus 231: 128 MiB, EBHSCR 279: 8 MiB,
         * USBPCAP 249: 1 MiB): a buffer for their largest record is not taken on a file
         * header's word. */
        {MAGIC_USEC, 4, 231, false, false},
        {MAGIC_USEC, 4, 279, false, false},
        {MAGIC_USEC, 4, 249, false, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct bytes *b =
            new_capture(cases[i].big, cases[i].magic, cases[i].minor, 65535, cases[i].link);
        if (cases[i].magic == 0xa1b2cd34u) { /* a patched record header: 8 bytes more */
            record(b, 1, 0, 40, 40, 0, 1);
            put32(b, 0); /* interface index */
            put32(b, 0); /* protocol, packet type, padding */
            record_data(b, 40, 1);
        } else {
            record(b, 1, 0, 40, 40, 40, 1);
        }
        struct outcome o = compare_file(b, b->len, NULL, cases[i].fast);
        cr_expect_eq(o.records, 1, "case %zu", i);
        free(b);
    }
}

/* pcapng (a section header and an interface description, no packet) and a gzip-compressed pcap are
 * read by libpcap; the compressed one gives the same three records. */
Test(pcap_file, pcapng_and_compressed_files_stay_with_libpcap) {
    struct bytes *b = new_bytes(false);
    put32(b, 0x0a0d0d0au); /* SHB: type, length 28, byte-order magic, version 1.0, no length */
    put32(b, 28);
    put32(b, 0x1a2b3c4du);
    put16(b, 1);
    put16(b, 0);
    put32(b, 0xffffffffu);
    put32(b, 0xffffffffu);
    put32(b, 28);
    put32(b, 1); /* IDB: type, length 20, Ethernet, reserved, snaplen 65535, length */
    put32(b, 20);
    put16(b, 1);
    put16(b, 0);
    put32(b, 65535);
    put32(b, 20);
    struct outcome o = compare_file(b, b->len, NULL, false);
    cr_expect_eq(o.last, CAPTURE_END);

    free(b);
    b = three_records(false, MAGIC_USEC, 0);
    char gz[] = "/tmp/test_pcap_file_XXXXXX";
    close(mkstemp(gz));
    gzFile z = gzopen(gz, "wb");
    cr_assert(z);
    cr_assert_eq(gzwrite(z, b->buf, (unsigned)b->len), (int)b->len);
    gzclose(z);
    o = compare_readers(gz, NULL, false);
    cr_expect_eq(o.records, 3);
    unlink(gz);
    free(b);
}

/* A FIFO refuses pread (ESPIPE): libpcap reads it (a child writes the capture into it). */
Test(pcap_file, fifo_stays_with_libpcap) {
    struct bytes *b = three_records(false, MAGIC_USEC, 0);
    char dir[] = "/tmp/test_pcap_file_XXXXXX";
    cr_assert(mkdtemp(dir));
    char fifo[64];
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    pid_t child = fork();
    cr_assert_geq(child, 0);
    if (child == 0) {
        int fd = open(fifo, O_WRONLY);
        _exit(fd >= 0 && write(fd, b->buf, b->len) == (ssize_t)b->len ? 0 : 1);
    }
    struct capture *cap = open_reader(fifo, NULL, CAPTURE_READER_AUTO, false);
    struct capture_packet p;
    unsigned n = 0;
    while (capture_next(cap, &p) == CAPTURE_PACKET)
        n++;
    cr_expect_eq(n, 3);
    capture_close(cap);
    int status;
    waitpid(child, &status, 0);
    cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    unlink(fifo);
    rmdir(dir);
    free(b);
}

/* ---- the buffer's end ------------------------------------------------------------------------ */

/* What pcap_file's first fill reads of an Ethernet capture (max_caplen 262144): its buffer is
 * PCAP_FILE_CHUNK plus one largest record (pcap_file.h). Each later fill starts at the record that
 * was not all in the buffer and again reads up to this much. */
#define WINDOW (PCAP_FILE_CHUNK + 16 + 262144)

/* Records of 60000 bytes (seeds 100, 101, ...; seconds 0, 1, ...) from the end of b up to offset
 * `to` exactly, the last one longer to land there; `to` must be at least 60016 bytes on. Returns
 * how many were written. */
static unsigned filler_to(struct bytes *b, size_t to) {
    unsigned n = 0;
    for (; to - b->len >= 2 * (16 + 60000); n++)
        record(b, n, 0, 60000, 60000, 60000, (uint8_t)(100 + n));
    uint32_t last = (uint32_t)(to - b->len - 16);
    record(b, n, 0, last, last, last, (uint8_t)(100 + n));
    return n + 1;
}

/* A largest record (caplen 262144) placed so that the first fill ends `shift` bytes into it:
 * inside its header (1, 15), right after its header (16), one byte into its data (17), one byte
 * before its end, at its end (the next record starts at the first fill's end) and one and 15 bytes
 * into the next record's header. Then records of odd lengths up to 3 MiB, so that the later fills
 * end at other places again. Every record must come as libpcap gives it, and all of them. */
Test(pcap_file, records_across_the_buffer_end) {
    size_t shifts[] = {1, 15, 16, 17, 16 + 262143, 16 + 262144, 16 + 262144 + 1, 16 + 262144 + 15};
    uint32_t odd[] = {1, 17, 1499, 65521, 0, 9001, 31, 262143, 4093, 127, 262144, 3};
    for (size_t s = 0; s < sizeof shifts / sizeof shifts[0]; s++) {
        struct bytes *b = new_capture(false, MAGIC_USEC, 4, 262144, LINK_ETHERNET);
        unsigned n = filler_to(b, WINDOW - shifts[s]);
        record(b, n++, 0, 262144, 262144, 262144, 7);
        for (unsigned i = 0; b->len < (3u << 20); i++) {
            uint32_t caplen = odd[i % (sizeof odd / sizeof odd[0])];
            record(b, n++, 0, caplen, caplen + 14, caplen, (uint8_t)i);
        }
        struct outcome o = compare_file(b, b->len, NULL, true);
        cr_expect_eq(o.records, n, "shift %zu", shifts[s]);
        cr_expect_eq(o.last, CAPTURE_END, "shift %zu", shifts[s]);
        cr_expect_eq(o.first_data[0], 100, "shift %zu", shifts[s]);
        free(b);
    }
}

/* ---- a file that changes while it is read ---------------------------------------------------- */

/* A capture still being written: the third record's header is first written in part (damage,
 * if the file stayed so), then completed and a fourth record appended after two records were
 * read. pcap_file read the first 5 bytes of that header at open and reads the rest when it needs
 * them; libpcap too, whose stdio buffer took the same 5 bytes without meeting the file's end. So
 * both read all four records, then the end, and pcap_file stays the reader. */
Test(pcap_file, a_growing_file_is_read_on) {
    struct bytes *b = three_records(false, MAGIC_USEC, 0);
    record(b, 1704067203, 0, 30, 30, 30, 4);
    size_t part = 24 + 16 + 60 + 16 + 100 + 5;
    char *path = write_file(b, part);
    struct capture *fast = open_reader(path, NULL, CAPTURE_READER_AUTO, true);
    struct capture *lib = open_reader(path, NULL, CAPTURE_READER_LIBPCAP, false);
    struct outcome o = {0};
    read_in_step(fast, lib, path, 2, &o);
    cr_expect_eq(o.records, 2);
    FILE *f = fopen(path, "ab");
    cr_assert(f);
    cr_assert_eq(fwrite(b->buf + part, 1, b->len - part, f), b->len - part);
    fclose(f);
    read_in_step(fast, lib, path, UINT_MAX, &o);
    cr_expect_eq(o.records, 4);
    cr_expect_eq(o.last, CAPTURE_END);
    cr_expect(capture_fast_reader(fast));
    capture_close(fast);
    capture_close(lib);
    remove_file(path);
    free(b);
}

/* A file of 60 records of 50000 bytes (record i: seconds i, seed i): record i starts at
 * 24 + 50016 i. Returns its path (to remove_file()). */
static char *sixty_records_file(void) {
    struct bytes *b = new_capture(false, MAGIC_USEC, 4, 65535, LINK_ETHERNET);
    for (uint32_t i = 0; i < 60; i++)
        record(b, i, 0, 50000, 50000, 50000, (uint8_t)i);
    char *path = write_file(b, b->len);
    free(b);
    return path;
}

/* Opens path (sixty_records_file()) with the reader chosen and reads its first five records. */
static struct capture *open_past_five(const char *path, enum capture_reader how) {
    struct capture *cap = open_reader(path, NULL, how, how == CAPTURE_READER_AUTO);
    for (uint8_t i = 0; i < 5; i++)
        expect_record(cap, 50000, i);
    return cap;
}

/* A file cut short while it is read (logrotate's copytruncate), where pcap_file has not read yet:
 * record 40 starts at 2000664, past the first fill's end (1310736). After five records the file
 * is cut 7 bytes into record 40's header, or 1234 bytes into its data; what was read is
 * unchanged, and the reading goes on to records 5-39, then record 40 is damage in libpcap's words
 * for a file that ends there. libpcap, opening the file as it now is and skipping five records,
 * must agree on every record. (A memory map would have died of SIGBUS here.) */
Test(pcap_file, a_file_cut_while_read_ends_where_it_now_ends) {
    size_t start = 24 + 40 * (16 + 50000);
    size_t cuts[] = {start + 7, start + 16 + 1234};
    const char *want[] = {"truncated dump file; tried to read 16 header bytes, only got 7",
                          "truncated dump file; tried to read 50000 captured bytes, only got 1234"};
    for (int c = 0; c < 2; c++) {
        char *path = sixty_records_file();
        struct capture *fast = open_past_five(path, CAPTURE_READER_AUTO);
        cr_assert_eq(truncate(path, (off_t)cuts[c]), 0);
        struct capture *lib = open_past_five(path, CAPTURE_READER_LIBPCAP);
        struct outcome o = {0};
        read_in_step(fast, lib, path, UINT_MAX, &o);
        cr_expect_eq(o.records, 35, "cut at %zu", cuts[c]);
        cr_expect_eq(o.last, CAPTURE_DAMAGED);
        cr_expect_str_eq(o.error, want[c]);
        cr_expect_eq(o.first.ts_sec, 5);
        capture_close(fast);
        capture_close(lib);
        remove_file(path);
    }
}

/* The same file cut to 100 bytes after five records, inside what the first fill has read: the
 * records the buffer holds whole are the file as it was (records 0-25: record 25 ends at 1300440,
 * record 26 at 1350456, past the fill's end at 1310736), then record 26 is cut where the fill
 * ended: 1310736 - 1300440 - 16 = 10280 of its bytes were read. libpcap, with its 4 KiB stdio
 * buffer, would stop elsewhere; what matters is records intact, then damage, and no crash. */
Test(pcap_file, a_file_cut_behind_the_reader_ends_with_the_buffer) {
    char *path = sixty_records_file();
    struct capture *fast = open_past_five(path, CAPTURE_READER_AUTO);
    cr_assert_eq(truncate(path, 100), 0);
    for (uint8_t i = 5; i < 26; i++) {
        struct capture_packet p = expect_record(fast, 50000, i);
        cr_expect_eq(p.data[49999], (uint8_t)(i + 49999));
    }
    struct capture_packet p;
    cr_expect_eq(capture_next(fast, &p), CAPTURE_DAMAGED);
    cr_expect_str_eq(capture_error(fast),
                     "truncated dump file; tried to read 50000 captured bytes, only got 10280");
    capture_close(fast);
    remove_file(path);
}

/* A read that fails after the first fill: the descriptor is made a directory's (dup2), so the
 * next fill's pread fails with EISDIR. The 26 records the first fill holds whole are read, then
 * the damage is named as libpcap names a failed read, "error reading dump file: " and strerror. */
Test(pcap_file, a_read_error_is_named_as_libpcap_names_it) {
    char *path = sixty_records_file();
    int fd = open(path, O_RDONLY);
    cr_assert_geq(fd, 0);
    struct pcap_file *f = pcap_file_open(fd, (struct pcap_file_limits){65535, 262144});
    cr_assert(f);
    struct pcap_file_record rec;
    for (uint8_t i = 0; i < 26; i++) {
        cr_assert_eq(pcap_file_next(f, &rec), PCAP_FILE_RECORD, "record %u", i);
        cr_expect_eq(rec.caplen, 50000);
        cr_expect_eq(rec.data[0], i);
    }
    int dir = open("/tmp", O_RDONLY | O_DIRECTORY);
    cr_assert_geq(dir, 0);
    cr_assert_eq(dup2(dir, fd), fd);
    cr_expect_eq(pcap_file_next(f, &rec), PCAP_FILE_DAMAGED);
    char want[256];
    snprintf(want, sizeof want, "error reading dump file: %s", strerror(EISDIR));
    cr_expect_str_eq(pcap_file_error(f), want);
    pcap_file_close(f);
    close(fd);
    close(dir);
    remove_file(path);
}

/* ---- several fills ----------------------------------------------------------------------- */

/* Thirty records of 100000 bytes (record i: seconds i, seed i), read across three fills: the first
 * (WINDOW, 1310736 bytes) holds records 0-12 whole (record 12 ends at 1300232, record 13 at
 * 1400248); the fill when record 13 is read starts at it and holds records 13-25; the one at
 * record 26 holds the rest of the file. Every record comes whole, first and last byte. */
Test(pcap_file, records_over_three_fills) {
    struct bytes *b = new_capture(false, MAGIC_USEC, 4, 262144, LINK_ETHERNET);
    for (uint32_t i = 0; i < 30; i++)
        record(b, i, 0, 100000, 100000, 100000, (uint8_t)i);
    char *path = write_file(b, b->len);
    struct capture *cap = open_reader(path, NULL, CAPTURE_READER_AUTO, true);
    for (unsigned i = 0; i < 30; i++) {
        struct capture_packet p = expect_record(cap, 100000, (uint8_t)i);
        cr_expect_eq(p.ts_sec, i);
        cr_expect_eq(p.data[99999], (uint8_t)(i + 99999));
    }
    struct capture_packet p;
    cr_expect_eq(capture_next(cap, &p), CAPTURE_END);
    capture_close(cap);
    remove_file(path);
    free(b);
}
