/* capture: the libpcap front-end. Opens capture files (pcap and pcapng, µs or ns timestamps, "-"
 * for standard input) and live interfaces, applies the BPF filter, and hands out packets with
 * nanosecond timestamps. Everything libpcap-specific stays behind this header. */
#ifndef SHAKEDOWN_CAPTURE_H
#define SHAKEDOWN_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct capture;

struct capture_packet {
    const uint8_t *data; /* valid until the next capture_next() */
    uint32_t caplen, wirelen;
    int64_t ts_sec;
    uint32_t ts_nsec;
};

enum capture_status {
    CAPTURE_PACKET,   /* *pkt holds a packet that passed the filter */
    CAPTURE_FILTERED, /* *pkt holds a packet the filter rejected */
    CAPTURE_END,      /* end of the input */
    CAPTURE_DAMAGED,  /* the input is damaged from here on (truncated record, read error) */
    CAPTURE_IDLE,     /* live capture: no packet arrived within the read timeout */
};

/* How to open a live interface. */
struct capture_live_options {
    const char *iface;
    bool promisc;     /* promiscuous mode (default on, -p turns it off) */
    int snaplen;      /* bytes kept per packet: headers are all shakedown needs */
    int buffer_bytes; /* kernel buffer size; 0 = libpcap's default */
    int timeout_ms;   /* longest wait before capture_next() returns CAPTURE_IDLE */
};

/* Opens a live interface in immediate mode (packets are delivered as they arrive, so records
 * are not held back) and installs filter in the kernel. On failure returns NULL with a one-line
 * reason (no such device, permission denied, ...) in err. */
struct capture *capture_open_live(const struct capture_live_options *o, const char *filter,
                                  char *err, size_t errlen);

/* Kernel and interface counters of a live capture. */
struct capture_stats {
    uint64_t received, dropped, if_dropped;
};

/* False for a file, or if libpcap cannot say. */
bool capture_get_stats(struct capture *cap, struct capture_stats *st);

/* Writes the interfaces libpcap can capture on, one per line, as tcpdump -D does. */
bool capture_list_interfaces(FILE *out, char *err, size_t errlen);

/* Checks that a filter expression compiles (for Ethernet) before any input is opened, so a typo
 * is reported at once. On failure writes libpcap's reason to err and returns false. */
bool capture_filter_valid(const char *filter, char *err, size_t errlen);

/* Opens a capture file ("-" = standard input) and compiles filter (NULL or "" = none) for its
 * link type. On failure returns NULL with a one-line reason in err. */
struct capture *capture_open_file(const char *path, const char *filter, char *err, size_t errlen);

/* How a capture file is read. AUTO: a plain (uncompressed) classic pcap file on disk is read in
 * large blocks by pcap_file.c, with the same packets, end and damage as libpcap reading it;
 * everything else (pcapng, compressed files, standard input, pipes) through libpcap. LIBPCAP:
 * always through libpcap, to compare the two. */
enum capture_reader { CAPTURE_READER_AUTO, CAPTURE_READER_LIBPCAP };

/* capture_open_file() with the reader chosen. */
struct capture *capture_open_file_with(const char *path, const char *filter,
                                       enum capture_reader reader, char *err, size_t errlen);

/* True if the file is read by pcap_file.c rather than libpcap. Either way a packet's data is
 * valid until the next capture_next(). */
bool capture_fast_reader(const struct capture *cap);

/* The input's link type (DLT value), its libpcap name ("EN10MB") and description ("Ethernet"),
 * and the snapshot length in effect (the bytes kept of each packet). */
int capture_link(const struct capture *cap);
const char *capture_link_name(const struct capture *cap);
const char *capture_link_description(const struct capture *cap);
int capture_snaplen(const struct capture *cap);

enum capture_status capture_next(struct capture *cap, struct capture_packet *pkt);

/* After CAPTURE_DAMAGED: libpcap's description of the damage. */
const char *capture_error(const struct capture *cap);

void capture_close(struct capture *cap);

/* The wall clock (CLOCK_REALTIME) in ns since the epoch: when a live packet was taken, what
 * capture time follows on an idle link, when an output file was opened. Packets carry capture
 * time instead. */
int64_t capture_wall_ns(void);

/* The monotonic clock (CLOCK_MONOTONIC) in ns: when periodic work and the watchdog's pings are
 * due. A step of the wall clock (NTP, an operator's `date -s`) does not move it. */
int64_t capture_mono_ns(void);

/* ---- one interface on several sockets: a PACKET_FANOUT group (--workers, live) ---------------
 * Linux hands each packet of the interface to one socket of the group, chosen by the symmetric
 * flow hash, so each socket gets whole connections, both directions. capture_group.c opens the
 * sockets with capture_open_live() and joins them with the two functions below. */

/* Linux: joins cap's socket to the fanout group *group in hash mode with the defrag flag. With
 * *group < 0 a new group is created under an id the kernel picks, unused in this network
 * namespace, and *group receives it. False with a one-line reason in err (not Linux, a kernel
 * without fanout, the group's settings differ). */
bool capture_fanout_join(struct capture *cap, int *group, char *err, size_t errlen);

/* Reads out and discards every packet cap's socket holds now, without waiting; returns how
 * many. */
uint64_t capture_drain(struct capture *cap);

/* Adds one socket's counters to *sum: packets received and dropped by the kernel add up (each
 * packet goes to one socket); interface drops are the interface's own counter, which every socket
 * on it reports alike, so the largest is kept, not the sum. */
void capture_stats_add(struct capture_stats *sum, const struct capture_stats *part);

struct capture_group;

/* Opens n (≥ 1) sockets on o->iface as capture_open_live() does, each with filter, and joins them
 * in one new fanout group. A socket receives every packet of the interface until it joins, so a
 * packet may sit on more than one of them until the group is complete: once it is, what each
 * socket holds is read out and discarded, and the counters start from there. NULL with a one-line
 * reason in err on any failure. */
struct capture_group *capture_open_group(const struct capture_live_options *o, unsigned n,
                                         const char *filter, char *err, size_t errlen);
unsigned capture_group_size(const struct capture_group *g);
/* The i-th socket, to read with capture_next() (by one thread at a time). */
struct capture *capture_group_member(struct capture_group *g, unsigned i);
/* The i-th socket's counters since the group was complete (call it where that socket is read, or
 * once no thread reads it); false if libpcap cannot say. */
bool capture_group_member_stats(struct capture_group *g, unsigned i, struct capture_stats *st);
/* Every socket's counters added up (capture_stats_add), once no thread reads them. */
bool capture_group_stats(struct capture_group *g, struct capture_stats *st);
void capture_group_close(struct capture_group *g);

#endif
