/* pcap_file: reads a classic pcap file (magic a1b2c3d4 for µs or a1b23c4d for ns timestamps, in
 * either byte order, version 2.4) in large blocks (pread) into one buffer of its own and hands
 * out each packet as a pointer into that buffer: one system call per mebibyte instead of
 * libpcap's two stdio reads per record. Every record is checked against what was read and
 * judged as libpcap 1.10's sf-pcap.c judges it: the same end, the same damage, the same words for
 * it. Anything else (pcapng, old versions, pipes and other descriptors pread refuses) is not
 * opened: capture.c reads those with libpcap. No libpcap here. */
#ifndef SHAKEDOWN_PCAP_FILE_H
#define SHAKEDOWN_PCAP_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pcap_file;

/* The bytes read ahead at once beyond the largest record: the buffer holds this much plus one
 * record of the link type's largest captured length (16 + max_caplen). */
#define PCAP_FILE_CHUNK ((size_t)1 << 20)

/* What libpcap derives from the file header and the link type (capture.c asks libpcap): the
 * snapshot length in effect (pcap_snapshot(): the header's, or the link type's maximum if the
 * header's is 0 or above INT_MAX) and the largest captured length libpcap accepts for the link
 * type (max_snaplen_for_dlt(): 262144 for most). */
struct pcap_file_limits {
    uint32_t snapshot, max_caplen;
};

/* One record as libpcap's pcap_next_ex() would give it with nanosecond precision asked for. */
struct pcap_file_record {
    /* Points into the reader's buffer: valid until the next pcap_file_next() (which may move or
     * overwrite the buffer's contents, as libpcap reuses its buffer at every read) or
     * pcap_file_close(). */
    const uint8_t *data;
    uint32_t caplen;  /* at most the snapshot length: longer records are cut to it, as libpcap */
    uint32_t wirelen; /* as the record says, even below caplen */
    /* The record's 32-bit seconds and fraction (the fraction times 1000 in a µs file), signed
     * as libpcap reads them: signed in a file of this host's byte order, unsigned in a
     * byte-swapped one. Not normalised: a fraction of a second or more, or a negative one,
     * reaches the caller as libpcap passes it. */
    int64_t ts_sec;
    int64_t ts_nsec;
};

enum pcap_file_status {
    PCAP_FILE_RECORD,  /* *rec holds the next record */
    PCAP_FILE_END,     /* the file ends exactly after the last record */
    PCAP_FILE_DAMAGED, /* the record here is cut short or too long, or reading failed:
                        * pcap_file_error() says how */
};

/* Reads fd (not taken over: the caller closes it, after pcap_file_close()) from offset 0 with
 * pread, which neither uses nor moves the descriptor's file position, if it holds a classic
 * pcap header of version 2.4; returns the reader positioned at the first record, with the
 * first block read. NULL, with nothing to report, for anything it does not read (a descriptor
 * pread refuses, such as a pipe, a file too short or of another format, no memory): the caller
 * reads that another way. */
struct pcap_file *pcap_file_open(int fd, struct pcap_file_limits limits);

/* The next record. When the buffer does not hold all of it, the unread part is moved to the
 * buffer's start and the buffer filled from the file: a file that has grown since is read on,
 * one that has shrunk ends where it now ends (a cut record is damage, as for libpcap). On
 * PCAP_FILE_END or PCAP_FILE_DAMAGED the position stays where it was. */
enum pcap_file_status pcap_file_next(struct pcap_file *f, struct pcap_file_record *rec);

/* After PCAP_FILE_DAMAGED: what is wrong, in libpcap's words. */
const char *pcap_file_error(const struct pcap_file *f);

void pcap_file_close(struct pcap_file *f);

#endif
