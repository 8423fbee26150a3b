/* samples: the deterministic sample captures committed under samples/ (see samples/README.md),
 * exported so end-to-end tests can write the very same files into temporary directories.
 *
 * The "standard exchange" used by most samples is one TCP connection, 11 frames:
 *   client SYN, server SYN/ACK, client ACK,
 *   client PSH|ACK 120 bytes, server ACK,
 *   server PSH|ACK 1000 bytes, client ACK,
 *   client FIN|ACK, server ACK, server FIN|ACK, client ACK.
 * IPv4: 192.0.2.10:49152 -> 198.51.100.20:80; IPv6: [2001:db8::10]:49152 -> [2001:db8::20]:80.
 * ISNs: client SAMPLES_CLIENT_ISN, server SAMPLES_SERVER_ISN. Timestamps start at
 * SAMPLES_START_NS (2024-01-01T00:00:00Z) and advance SAMPLES_STEP_NS per frame, across the
 * whole file. */
#ifndef SHAKEDOWN_SAMPLES_H
#define SHAKEDOWN_SAMPLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SAMPLES_START_NS 1704067200000000000ull /* 2024-01-01T00:00:00Z */
#define SAMPLES_STEP_NS 10000000ull             /* 10 ms between consecutive frames */
#define SAMPLES_CLIENT_ISN 1000000u
#define SAMPLES_SERVER_ISN 2000000u
#define SAMPLES_SNAPLEN 262144u
#define SAMPLES_CLIENT_BYTES 120u  /* standard exchange: client -> server payload */
#define SAMPLES_SERVER_BYTES 1000u /* standard exchange: server -> client payload */

/* Each writes one capture to path (truncating it); false on any error. */
bool gen_clean_ipv4(const char *path);   /* clean-ipv4.pcap: Ethernet, µs, 11 frames */
bool gen_clean_ipv6(const char *path);   /* clean-ipv6.pcap: Ethernet, ns, 11 frames */
bool gen_vlan(const char *path);         /* vlan.pcap: 802.1ad 100 + 802.1Q 200, 11 frames */
bool gen_sll(const char *path);          /* sll.pcap: LINUX_SLL, 11 frames */
bool gen_sll2(const char *path);         /* sll2.pcap: LINUX_SLL2, 11 frames */
bool gen_mpls(const char *path);         /* mpls.pcap: Ethernet + MPLS 16, 17, 11 frames */
bool gen_raw(const char *path);          /* raw.pcap: RAW, IPv4 then IPv6 exchange, 22 frames */
bool gen_null(const char *path);         /* null.pcap: NULL (BSD loopback), 11 frames */
bool gen_clean_pcapng(const char *path); /* clean.pcapng: Ethernet, pcapng, 11 frames */
bool gen_multi(const char *path);        /* multi.pcap: mixed traffic, 48 frames (see .c) */

/* One row per sample: file name under samples/, writer, number of frames. */
struct gen_sample {
    const char *file;
    bool (*write)(const char *path);
    size_t packets;
};

extern const struct gen_sample gen_sample_table[];
extern const size_t gen_sample_count;

/* Writes every sample into directory outdir (which must exist); false if any failed. */
bool gen_write_samples(const char *outdir);

#endif
