/* capwrite: writes pcap (µs or ns timestamps) and pcapng capture files byte by byte, without
 * libpcap, so the generator can also produce damaged files (truncated records, bad lengths). */
#ifndef SHAKEDOWN_CAPWRITE_H
#define SHAKEDOWN_CAPWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct capwrite;

enum capwrite_format {
    CAPWRITE_PCAP_USEC, /* classic pcap, magic 0xa1b2c3d4, microsecond timestamps */
    CAPWRITE_PCAP_NSEC, /* classic pcap, magic 0xa1b23c4d, nanosecond timestamps */
    CAPWRITE_PCAPNG,    /* pcapng: SHB, one IDB per capwrite_add_interface, EPBs */
};

/* Opens path for writing (truncating it). For pcap formats, linktype and snaplen go in the file
 * header; for pcapng the first interface is added with them (if_tsresol = 9, nanoseconds).
 * Returns NULL on I/O error. */
struct capwrite *capwrite_open(const char *path, enum capwrite_format format, int linktype,
                               uint32_t snaplen);

/* The same on an open file descriptor (a pipe, standard output), which the capwrite then owns:
 * capwrite_close closes it. For captures too large to write to disk, streamed to a reader. */
struct capwrite *capwrite_fdopen(int fd, enum capwrite_format format, int linktype,
                                 uint32_t snaplen);

/* pcapng only: adds another interface description block; returns its index or -1. */
int capwrite_add_interface(struct capwrite *w, int linktype, uint32_t snaplen);

/* Writes one packet record. ts_ns is nanoseconds since the epoch. At most `snaplen` bytes of the
 * frame are stored (caplen = min(len, snaplen)), orig_len is len. iface is ignored for pcap. */
bool capwrite_packet(struct capwrite *w, int iface, uint64_t ts_ns, const uint8_t *frame,
                     size_t len);

/* Writes raw bytes at the current position (for deliberately damaged files). */
bool capwrite_raw(struct capwrite *w, const void *bytes, size_t len);

/* Closes the file; returns false if any write failed. */
bool capwrite_close(struct capwrite *w);

#endif
