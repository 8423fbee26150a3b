/* fuzz_pcap_file: a whole capture file read twice, through pcap_file.c (chosen by
 * capture_open_file() for a classic pcap file) and through libpcap, which must agree: both open
 * it or both refuse it with the same reason; the same link type and snapshot length; then record
 * by record the same status, lengths, times and bytes, and at damage the same words. At every
 * record, looking ahead 0 to 3 records must give what the reads then return (compared by digest:
 * a look's bytes are only valid until the next read). Size bit 0 picks the filter "tcp" (so the
 * filtered status is compared too). pcap_file may only be declined for files it must decline
 * (not classic 2.4 pcap, or a link type libpcap rewrites): a classic pcap of version 2.4 on
 * Ethernet must be read by it. Size bit 1, for such a file: its records come after 1.25 MiB of
 * filler records, across the end of pcap_file's buffer (with_filler()). Owns, per input: one
 * memory file (memfd) and the two readers, released before returning. */
#define _GNU_SOURCE 1 /* memfd_create */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "fuzz.h"
#include "memory_file.h"
#include "pcap_file.h"

static uint32_t u32_at(const uint8_t *p, bool big_endian) {
    return big_endian ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
                      : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* A file pcap_file must read: a classic pcap header of version 2.4 in either byte order, on
 * Ethernet (whose packets libpcap never rewrites). Its byte order (1: big-endian), or -1. */
static int fast_file_order(const uint8_t *data, size_t size) {
    if (size < 24)
        return -1;
    for (int big = 0; big < 2; big++) {
        uint32_t magic = u32_at(data, big);
        uint32_t version = u32_at(data + 4, big);
        bool classic = magic == 0xa1b2c3d4u || magic == 0xa1b23c4du;
        uint32_t want_version = big ? 0x00020004u : 0x00040002u; /* major 2, minor 4 */
        if (classic && version == want_version && (u32_at(data + 20, big) & 0x03ffffffu) == 1)
            return big;
    }
    return -1;
}

static void put_u32(uint8_t *p, uint32_t v, int big) {
    for (int i = 0; i < 4; i++)
        p[big ? 3 - i : i] = (uint8_t)(v >> (8 * i));
}

/* The input with zero-filled records of up to 60000 bytes (cut to the snapshot length like any)
 * put between its file header and its first record, ending `shift` bytes before the end of
 * pcap_file's first fill of an Ethernet file (PCAP_FILE_CHUNK + 16 + 262144 bytes): the input's
 * records then lie across the buffer's end and are read after a fill, which inputs of a few KiB
 * never reach otherwise. *len is the new size; NULL if out of memory. */
static uint8_t *with_filler(const uint8_t *data, size_t size, int big, size_t shift, size_t *len) {
    size_t end = PCAP_FILE_CHUNK + 16 + 262144 - shift;
    *len = end + size - 24;
    uint8_t *file = calloc(1, *len);
    if (!file)
        return NULL;
    memcpy(file, data, 24);
    for (size_t at = 24, record; at < end; at += record) {
        /* 60000 bytes, but the last record takes all that is left (never less than a header,
         * as 60000 bytes are taken only while 16 more are left after them). */
        record = end - at < 16 + 60000 + 16 ? end - at : 16 + 60000;
        put_u32(file + at + 8, (uint32_t)(record - 16), big);  /* caplen */
        put_u32(file + at + 12, (uint32_t)(record - 16), big); /* wire length */
    }
    memcpy(file + end, data + 24, size - 24);
    return file;
}

static bool same_packet(const struct capture_packet *a, const struct capture_packet *b) {
    return a->caplen == b->caplen && a->wirelen == b->wirelen && a->ts_sec == b->ts_sec &&
           a->ts_nsec == b->ts_nsec && (a->caplen == 0 || memcmp(a->data, b->data, a->caplen) == 0);
}

/* The two readers side by side until the end or damage. */
static void compare(struct capture *fast, struct capture *lib) {
    if (capture_link(fast) != capture_link(lib) || capture_snaplen(fast) != capture_snaplen(lib))
        abort();
    for (;;) {
        struct capture_packet a, b;
        enum capture_status sa = capture_next(fast, &a), sb = capture_next(lib, &b);
        if (sa != sb)
            abort();
        if (sa != CAPTURE_PACKET && sa != CAPTURE_FILTERED) {
            if (sa == CAPTURE_DAMAGED && strcmp(capture_error(fast), capture_error(lib)) != 0)
                abort();
            return;
        }
        if (!same_packet(&a, &b))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int big = fast_file_order(data, size);
    uint8_t *filled = NULL;
    size_t len = size;
    if (big >= 0 && size & 2) {
        filled = with_filler(data, size, big, (size >> 2) % 64, &len);
        if (!filled)
            abort();
    }
    int fd = memory_file("fuzz_pcap_file", filled ? filled : data, len);
    free(filled);
    if (fd < 0)
        abort();
    char path[64], err_fast[512], err_lib[512];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    const char *filter = size & 1 ? "tcp" : NULL;
    struct capture *fast =
        capture_open_file_with(path, filter, CAPTURE_READER_AUTO, err_fast, sizeof err_fast);
    struct capture *lib =
        capture_open_file_with(path, filter, CAPTURE_READER_LIBPCAP, err_lib, sizeof err_lib);
    if (!fast != !lib || (!fast && strcmp(err_fast, err_lib) != 0))
        abort();
    if (fast) {
        if (big >= 0 && !capture_fast_reader(fast))
            abort();
        compare(fast, lib);
    }
    capture_close(fast);
    capture_close(lib);
    close(fd);
    return 0;
}
