/* capture: the libpcap front-end. Opens capture files (pcap and pcapng, µs or ns timestamps, "-"
 * for standard input), applies the BPF filter, and hands out packets with nanosecond timestamps.
 * Everything libpcap-specific stays behind this header. */
#ifndef SHAKEDOWN_CAPTURE_H
#define SHAKEDOWN_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
};

/* Checks that a filter expression compiles (for Ethernet) before any input is opened, so a typo
 * is reported at once. On failure writes libpcap's reason to err and returns false. */
bool capture_filter_valid(const char *filter, char *err, size_t errlen);

/* Opens a capture file ("-" = standard input) and compiles filter (NULL or "" = none) for its
 * link type. On failure returns NULL with a one-line reason in err. */
struct capture *capture_open_file(const char *path, const char *filter, char *err, size_t errlen);

/* The input's link type (DLT value) and its libpcap name. */
int capture_link(const struct capture *cap);
const char *capture_link_name(const struct capture *cap);

enum capture_status capture_next(struct capture *cap, struct capture_packet *pkt);

/* After CAPTURE_DAMAGED: libpcap's description of the damage. */
const char *capture_error(const struct capture *cap);

void capture_close(struct capture *cap);

#endif
