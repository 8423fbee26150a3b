/* pcap_file: reads a classic pcap file (magic a1b2c3d4 for µs or a1b23c4d for ns timestamps, in
 * either byte order, version 2.4) through a read-only memory map and hands out each packet as a
 * pointer into the mapping, so no byte is copied between the page cache and the dissectors. Every
 * record is checked against the file's end and judged as libpcap 1.10's sf-pcap.c judges it: the
 * same end, the same damage, the same words for it. Anything else (pcapng, old versions, pipes,
 * files mmap refuses) is not opened: capture.c reads those with libpcap. No libpcap here. */
#ifndef SHAKEDOWN_PCAP_FILE_H
#define SHAKEDOWN_PCAP_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pcap_file;

/* What libpcap derives from the file header and the link type (capture.c asks libpcap): the
 * snapshot length in effect (pcap_snapshot(): the header's, or the link type's maximum if the
 * header's is 0 or above INT_MAX) and the largest captured length libpcap accepts for the link
 * type (max_snaplen_for_dlt(): 262144 for most). */
struct pcap_file_limits {
    uint32_t snapshot, max_caplen;
};

/* One record as libpcap's pcap_next_ex() would give it with nanosecond precision asked for. */
struct pcap_file_record {
    /* Points into the mapping: valid until pcap_file_close(), not only until the next record
     * (libpcap's buffer is reused at every read). */
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
    PCAP_FILE_DAMAGED, /* the record here is cut short or too long: pcap_file_error() says how */
};

/* Maps fd (not taken over: the caller closes it, the mapping outlives it) if it is a regular
 * file holding a classic pcap header of version 2.4, and returns the reader positioned at the
 * first record. NULL, with nothing to report, for anything it does not read: the caller reads
 * that another way. */
struct pcap_file *pcap_file_open(int fd, struct pcap_file_limits limits);

/* The next record; on PCAP_FILE_END or PCAP_FILE_DAMAGED the position stays where it was. */
enum pcap_file_status pcap_file_next(struct pcap_file *m, struct pcap_file_record *rec);

/* The record `ahead` records after the next one (0: the next one), without moving: false if
 * the file ends or is damaged before it. Looking ahead by the same distance at every record
 * costs one record header's checks per call. */
bool pcap_file_peek(struct pcap_file *m, unsigned ahead, struct pcap_file_record *rec);

/* After PCAP_FILE_DAMAGED: what is wrong, in libpcap's words. */
const char *pcap_file_error(const struct pcap_file *m);

/* The file offset of the next record and the size of the file as it was mapped: when the file
 * has grown since (a capture still being written), the caller reads on from there. */
uint64_t pcap_file_offset(const struct pcap_file *m);
uint64_t pcap_file_size(const struct pcap_file *m);

void pcap_file_close(struct pcap_file *m);

#endif
