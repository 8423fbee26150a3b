/* pcap_file: a classic pcap file read in large blocks with pread. Owns the buffer, the window of
 * the file it holds and the position in it; every record header and every packet is checked
 * against the bytes read before it is read, and judged with libpcap 1.10's rules and words
 * (sf-pcap.c, pcap_check_header() and pcap_next_packet()), so that reading a file this way or
 * through libpcap gives the same packets, the same end and the same damage. */
/* pread and posix_fadvise are POSIX.1-2008. */
#define _POSIX_C_SOURCE 200809L
#include "pcap_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

enum {
    FILE_HEADER_LEN = 24,
    RECORD_HEADER_LEN = 16,
    ERROR_LEN = 256, /* libpcap's PCAP_ERRBUF_SIZE */
};

#define MAGIC_USEC 0xa1b2c3d4u
#define MAGIC_NSEC 0xa1b23c4du

struct pcap_file {
    int fd;
    struct pcap_file_limits limits;
    bool swapped; /* written in the other byte order than this host's */
    bool nsec;    /* nanosecond timestamps (else microseconds) */
    /* The window: buf holds the file's bytes [win_off, win_off + win_len), and never more than
     * cap of them; cap leaves room for a whole record of the largest length after the unread
     * part of the last one has been moved to the start. */
    uint8_t *buf;
    size_t cap, win_len;
    uint64_t win_off;
    uint64_t off;   /* of the next record, inside the window or at its end */
    int read_errno; /* why the last fill stopped short of a full buffer if not at the end, or 0 */
    char error[ERROR_LEN];
};

static uint32_t swap32(uint32_t v) {
    return (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
}

static uint16_t swap16(uint16_t v) {
    return (uint16_t)((v >> 8) | (v << 8));
}

/* A 32-bit header field as the file's writer meant it (memcpy: records need not be aligned). */
static uint32_t field32(const struct pcap_file *f, const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return f->swapped ? swap32(v) : v;
}

static uint16_t field16(const struct pcap_file *f, const uint8_t *p) {
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return f->swapped ? swap16(v) : v;
}

/* Moves the unread part of the window (from the next record on: part of one record, as the
 * reader fills only when the next record is not all there, or else damaged) to the buffer's
 * start, then reads the file from just past it until the buffer is full or the file ends. A
 * read error stops the filling and is kept for the verdict: libpcap reports one only when its
 * read came up short. */
static void window_fill(struct pcap_file *f) {
    size_t from = (size_t)(f->off - f->win_off);
    size_t unread = f->win_len - from;
    memmove(f->buf, f->buf + from, unread);
    f->win_off = f->off;
    f->win_len = unread;
    f->read_errno = 0;
    while (f->win_len < f->cap) {
        ssize_t n = pread(f->fd, f->buf + f->win_len, f->cap - f->win_len,
                          (off_t)(f->win_off + f->win_len));
        if (n > 0) {
            f->win_len += (size_t)n;
        } else if (n == 0) {
            break; /* the end of the file, as it is now */
        } else if (errno != EINTR) {
            f->read_errno = errno;
            break;
        }
    }
}

/* The file header: one of the two classic magics in either byte order (libpcap's
 * KUZNETZOV_TCPDUMP_MAGIC has longer record headers and is left to libpcap), and version 2.4
 * exactly: before 2.3 caplen and len were in the other order, and libpcap guesses for 2.3. */
static bool header_read(struct pcap_file *f) {
    if (f->win_len < FILE_HEADER_LEN)
        return false;
    uint32_t magic;
    memcpy(&magic, f->buf, sizeof magic);
    if (magic != MAGIC_USEC && magic != MAGIC_NSEC) {
        magic = swap32(magic);
        if (magic != MAGIC_USEC && magic != MAGIC_NSEC)
            return false;
        f->swapped = true;
    }
    f->nsec = magic == MAGIC_NSEC;
    return field16(f, f->buf + 4) == 2 && field16(f, f->buf + 6) == 4;
}

struct pcap_file *pcap_file_open(int fd, struct pcap_file_limits limits) {
    struct pcap_file *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->fd = fd;
    f->limits = limits;
    f->cap = PCAP_FILE_CHUNK + RECORD_HEADER_LEN + (size_t)limits.max_caplen;
    f->buf = malloc(f->cap);
    if (!f->buf) {
        free(f);
        return NULL;
    }
    /* Read front to back once: the kernel may read ahead further. Only advice: whether it is
     * taken changes nothing read. */
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    /* The first block, header included. A pipe, a socket or a terminal refuses pread (ESPIPE):
     * nothing is read from it, and libpcap reads on from where it is. */
    window_fill(f);
    if (f->read_errno != 0 || !header_read(f)) {
        pcap_file_close(f);
        return NULL;
    }
    f->off = FILE_HEADER_LEN;
    return f;
}

/* The record at off (in the window), judged on the bytes of the window as pcap_next_packet()
 * judges it on the bytes its reads return; *next is where the one after starts. The order of
 * the checks is libpcap's, so that the first fault found is its; a read that failed is named
 * instead of the shortage it left, as libpcap names it when ferror() is set. */
static enum pcap_file_status record_at(struct pcap_file *f, uint64_t off,
                                       struct pcap_file_record *rec, uint64_t *next) {
    size_t left = f->win_len - (size_t)(off - f->win_off);
    if (left < RECORD_HEADER_LEN) {
        if (f->read_errno != 0) {
            snprintf(f->error, sizeof f->error, "error reading dump file: %s",
                     strerror(f->read_errno));
            return PCAP_FILE_DAMAGED;
        }
        if (left == 0)
            return PCAP_FILE_END;
        snprintf(f->error, sizeof f->error,
                 "truncated dump file; tried to read %d header bytes, only got %zu",
                 RECORD_HEADER_LEN, left);
        return PCAP_FILE_DAMAGED;
    }
    const uint8_t *h = f->buf + (size_t)(off - f->win_off);
    uint32_t caplen = field32(f, h + 8), snapshot = f->limits.snapshot;
    /* libpcap refuses a length above the link type's maximum, naming the snapshot length if
     * that too is exceeded. */
    if (caplen > f->limits.max_caplen) {
        if (caplen > snapshot)
            snprintf(f->error, sizeof f->error,
                     "invalid packet capture length %u, bigger than snaplen of %u", caplen,
                     snapshot);
        else
            snprintf(f->error, sizeof f->error,
                     "invalid packet capture length %u, bigger than maximum of %u", caplen,
                     f->limits.max_caplen);
        return PCAP_FILE_DAMAGED;
    }
    left -= RECORD_HEADER_LEN;
    if (left < caplen) {
        if (f->read_errno != 0) {
            snprintf(f->error, sizeof f->error, "error reading dump file: %s",
                     strerror(f->read_errno));
            return PCAP_FILE_DAMAGED;
        }
        /* A record longer than the snapshot length is read up to it and the rest skipped: cut
         * before the snapshot length, libpcap names that; after, the record's own length. */
        bool short_of_snapshot = caplen > snapshot && left < snapshot;
        snprintf(f->error, sizeof f->error,
                 "truncated dump file; tried to read %u captured bytes, only got %zu",
                 short_of_snapshot ? snapshot : caplen, left);
        return PCAP_FILE_DAMAGED;
    }
    rec->data = h + RECORD_HEADER_LEN;
    rec->caplen = caplen > snapshot ? snapshot : caplen;
    rec->wirelen = field32(f, h + 12);
    /* Both time fields are signed 32-bit in the file, and libpcap reads them so, but its byte
     * swap (SWAPLONG, pcap-util.h) yields them unsigned: in a byte-swapped file all-ones
     * seconds are 2106, not 1969. µs are scaled up, never normalised. */
    uint32_t sec = field32(f, h), frac32 = field32(f, h + 4);
    rec->ts_sec = f->swapped ? (int64_t)sec : (int64_t)(int32_t)sec;
    int64_t frac = f->swapped ? (int64_t)frac32 : (int64_t)(int32_t)frac32;
    rec->ts_nsec = f->nsec ? frac : frac * 1000;
    *next = off + RECORD_HEADER_LEN + caplen;
    return PCAP_FILE_RECORD;
}

enum pcap_file_status pcap_file_next(struct pcap_file *f, struct pcap_file_record *rec) {
    uint64_t next;
    enum pcap_file_status st = record_at(f, f->off, rec, &next);
    /* Not all there (or damaged, which more bytes cannot mend, but damage ends the reading and
     * one more read then costs nothing): read on and judge again on all that could be read. */
    if (st != PCAP_FILE_RECORD) {
        window_fill(f);
        st = record_at(f, f->off, rec, &next);
    }
    if (st == PCAP_FILE_RECORD)
        f->off = next;
    return st;
}

const char *pcap_file_error(const struct pcap_file *f) {
    return f->error;
}

void pcap_file_close(struct pcap_file *f) {
    if (!f)
        return;
    free(f->buf);
    free(f);
}
