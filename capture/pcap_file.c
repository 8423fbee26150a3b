/* pcap_file: a classic pcap file read in place through a read-only memory map. Owns the mapping
 * and the position in it; every record header and every packet is checked against the mapped
 * size before it is read, and judged with libpcap 1.10's rules and words (sf-pcap.c,
 * pcap_check_header() and pcap_next_packet()), so that reading a file this way or through
 * libpcap gives the same packets, the same end and the same damage. */
/* madvise(MADV_DONTNEED): glibc's posix_madvise() ignores POSIX_MADV_DONTNEED. */
#define _DEFAULT_SOURCE 1
#include "pcap_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

enum {
    FILE_HEADER_LEN = 24,
    RECORD_HEADER_LEN = 16,
    ERROR_LEN = 256, /* libpcap's PCAP_ERRBUF_SIZE */
};

/* Pages read are let go a chunk at a time, one chunk behind the position, so that a large file
 * does not stay in the process's resident set: the page cache keeps them, and a packet of a
 * released chunk that is read again is faulted back in from the file, unchanged. */
#define RELEASE_CHUNK ((size_t)2 << 20)

#define MAGIC_USEC 0xa1b2c3d4u
#define MAGIC_NSEC 0xa1b23c4du

struct pcap_file {
    const uint8_t *base;
    size_t size;
    struct pcap_file_limits limits;
    bool swapped; /* written in the other byte order than this host's */
    bool nsec;    /* nanosecond timestamps (else microseconds) */
    size_t off;   /* of the next record */
    size_t kept;  /* pages before this offset have been let go */
    /* Where record number ahead_index starts (the one after the last looked at), so that
     * looking ahead by the same distance at every record walks only one record on. */
    size_t ahead_off;
    uint64_t index, ahead_index; /* records read so far; the boundary's record number */
    char error[ERROR_LEN];
};

static uint32_t swap32(uint32_t v) {
    return (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
}

static uint16_t swap16(uint16_t v) {
    return (uint16_t)((v >> 8) | (v << 8));
}

/* A 32-bit header field as the file's writer meant it (memcpy: records need not be aligned). */
static uint32_t field32(const struct pcap_file *m, const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return m->swapped ? swap32(v) : v;
}

static uint16_t field16(const struct pcap_file *m, const uint8_t *p) {
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return m->swapped ? swap16(v) : v;
}

/* The file header: one of the two classic magics in either byte order (libpcap's
 * KUZNETZOV_TCPDUMP_MAGIC has longer record headers and is left to libpcap), and version 2.4
 * exactly: before 2.3 caplen and len were in the other order, and libpcap guesses for 2.3. */
static bool header_read(struct pcap_file *m) {
    uint32_t magic;
    memcpy(&magic, m->base, sizeof magic);
    if (magic != MAGIC_USEC && magic != MAGIC_NSEC) {
        magic = swap32(magic);
        if (magic != MAGIC_USEC && magic != MAGIC_NSEC)
            return false;
        m->swapped = true;
    }
    m->nsec = magic == MAGIC_NSEC;
    return field16(m, m->base + 4) == 2 && field16(m, m->base + 6) == 4;
}

struct pcap_file *pcap_file_open(int fd, struct pcap_file_limits limits) {
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < FILE_HEADER_LEN ||
        (uint64_t)st.st_size > SIZE_MAX)
        return NULL;
    struct pcap_file *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->size = (size_t)st.st_size;
    void *base = mmap(NULL, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (base == MAP_FAILED) {
        free(m);
        return NULL;
    }
    m->base = base;
    m->limits = limits;
    if (!header_read(m)) {
        pcap_file_close(m);
        return NULL;
    }
    /* Read front to back once: the kernel may read ahead further and drop pages behind. */
    posix_madvise(base, m->size, POSIX_MADV_SEQUENTIAL);
    m->off = m->ahead_off = FILE_HEADER_LEN;
    return m;
}

/* The record at off, judged as pcap_next_packet() judges it; *next is where the one after
 * starts. The order of the checks is libpcap's, so that the first fault found is its. */
static enum pcap_file_status record_at(struct pcap_file *m, size_t off,
                                       struct pcap_file_record *rec, size_t *next) {
    size_t left = m->size - off;
    if (left < RECORD_HEADER_LEN) {
        if (left == 0)
            return PCAP_FILE_END;
        snprintf(m->error, sizeof m->error,
                 "truncated dump file; tried to read %d header bytes, only got %zu",
                 RECORD_HEADER_LEN, left);
        return PCAP_FILE_DAMAGED;
    }
    const uint8_t *h = m->base + off;
    uint32_t caplen = field32(m, h + 8), snapshot = m->limits.snapshot;
    /* libpcap refuses a length above the link type's maximum, naming the snapshot length if
     * that too is exceeded. */
    if (caplen > m->limits.max_caplen) {
        if (caplen > snapshot)
            snprintf(m->error, sizeof m->error,
                     "invalid packet capture length %u, bigger than snaplen of %u", caplen,
                     snapshot);
        else
            snprintf(m->error, sizeof m->error,
                     "invalid packet capture length %u, bigger than maximum of %u", caplen,
                     m->limits.max_caplen);
        return PCAP_FILE_DAMAGED;
    }
    left -= RECORD_HEADER_LEN;
    if (left < caplen) {
        /* A record longer than the snapshot length is read up to it and the rest skipped: cut
         * before the snapshot length, libpcap names that; after, the record's own length. */
        bool short_of_snapshot = caplen > snapshot && left < snapshot;
        snprintf(m->error, sizeof m->error,
                 "truncated dump file; tried to read %u captured bytes, only got %zu",
                 short_of_snapshot ? snapshot : caplen, left);
        return PCAP_FILE_DAMAGED;
    }
    rec->data = h + RECORD_HEADER_LEN;
    rec->caplen = caplen > snapshot ? snapshot : caplen;
    rec->wirelen = field32(m, h + 12);
    /* Both time fields are signed 32-bit in the file, and libpcap reads them so, but its byte
     * swap (SWAPLONG, pcap-util.h) yields them unsigned: in a byte-swapped file all-ones
     * seconds are 2106, not 1969. µs are scaled up, never normalised. */
    uint32_t sec = field32(m, h), frac32 = field32(m, h + 4);
    rec->ts_sec = m->swapped ? (int64_t)sec : (int64_t)(int32_t)sec;
    int64_t frac = m->swapped ? (int64_t)frac32 : (int64_t)(int32_t)frac32;
    rec->ts_nsec = m->nsec ? frac : frac * 1000;
    *next = off + RECORD_HEADER_LEN + caplen;
    return PCAP_FILE_RECORD;
}

enum pcap_file_status pcap_file_next(struct pcap_file *m, struct pcap_file_record *rec) {
    size_t next;
    enum pcap_file_status st = record_at(m, m->off, rec, &next);
    if (st == PCAP_FILE_RECORD) {
        m->off = next;
        m->index++;
        if (m->off - m->kept >= 2 * RELEASE_CHUNK) {
            madvise((void *)(uintptr_t)(m->base + m->kept), RELEASE_CHUNK, MADV_DONTNEED);
            m->kept += RELEASE_CHUNK;
        }
    }
    return st;
}

bool pcap_file_peek(struct pcap_file *m, unsigned ahead, struct pcap_file_record *rec) {
    uint64_t target = m->index + ahead, at = m->index;
    size_t off = m->off;
    if (m->ahead_index > at && m->ahead_index <= target) { /* go on from the last look */
        off = m->ahead_off;
        at = m->ahead_index;
    }
    for (;;) {
        size_t next;
        if (record_at(m, off, rec, &next) != PCAP_FILE_RECORD)
            return false;
        off = next;
        if (at++ == target)
            break;
    }
    m->ahead_off = off;
    m->ahead_index = at;
    return true;
}

const char *pcap_file_error(const struct pcap_file *m) {
    return m->error;
}

uint64_t pcap_file_offset(const struct pcap_file *m) {
    return m->off;
}

uint64_t pcap_file_size(const struct pcap_file *m) {
    return m->size;
}

void pcap_file_close(struct pcap_file *m) {
    if (!m)
        return;
    munmap((void *)(uintptr_t)m->base, m->size);
    free(m);
}
