/* capture: reads capture files with libpcap. The BPF filter is applied here with
 * pcap_offline_filter() rather than pcap_setfilter(), so packets the filter rejects are still
 * seen and counted: every record read is accounted for. */
/* libpcap's headers use the BSD u_int/u_char types, which glibc hides under strict POSIX. */
#define _DEFAULT_SOURCE 1
#include "capture.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct capture {
    pcap_t *pcap;
    struct bpf_program filter;
    bool has_filter;
    char errbuf[PCAP_ERRBUF_SIZE];
};

bool capture_filter_valid(const char *filter, char *err, size_t errlen) {
    if (!filter || !*filter)
        return true;
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 262144);
    if (!dead) {
        snprintf(err, errlen, "cannot initialise libpcap");
        return false;
    }
    struct bpf_program prog;
    bool ok = pcap_compile(dead, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) == 0;
    if (ok)
        pcap_freecode(&prog);
    else
        snprintf(err, errlen, "%s", pcap_geterr(dead));
    pcap_close(dead);
    return ok;
}

struct capture *capture_open_file(const char *path, const char *filter, char *err, size_t errlen) {
    struct capture *cap = calloc(1, sizeof *cap);
    if (!cap) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    /* Nanosecond precision whatever the file holds: libpcap scales µs files up. */
    cap->pcap =
        pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, cap->errbuf);
    if (!cap->pcap) {
        snprintf(err, errlen, "%s", cap->errbuf);
        free(cap);
        return NULL;
    }
    if (filter && *filter) {
        if (pcap_compile(cap->pcap, &cap->filter, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
            snprintf(err, errlen, "filter: %s", pcap_geterr(cap->pcap));
            pcap_close(cap->pcap);
            free(cap);
            return NULL;
        }
        cap->has_filter = true;
    }
    return cap;
}

int capture_link(const struct capture *cap) {
    return pcap_datalink(cap->pcap);
}

const char *capture_link_name(const struct capture *cap) {
    const char *name = pcap_datalink_val_to_name(pcap_datalink(cap->pcap));
    return name ? name : "unknown";
}

enum capture_status capture_next(struct capture *cap, struct capture_packet *pkt) {
    struct pcap_pkthdr *h;
    const u_char *data;
    int rc = pcap_next_ex(cap->pcap, &h, &data);
    if (rc == PCAP_ERROR_BREAK)
        return CAPTURE_END;
    if (rc != 1) {
        snprintf(cap->errbuf, sizeof cap->errbuf, "%s", pcap_geterr(cap->pcap));
        return CAPTURE_DAMAGED;
    }
    pkt->data = data;
    pkt->caplen = h->caplen;
    pkt->wirelen = h->len;
    pkt->ts_sec = (int64_t)h->ts.tv_sec;
    pkt->ts_nsec = (uint32_t)h->ts.tv_usec; /* nanoseconds: see capture_open_file() */
    if (cap->has_filter && !pcap_offline_filter(&cap->filter, h, data))
        return CAPTURE_FILTERED;
    return CAPTURE_PACKET;
}

const char *capture_error(const struct capture *cap) {
    return cap->errbuf;
}

void capture_close(struct capture *cap) {
    if (!cap)
        return;
    if (cap->has_filter)
        pcap_freecode(&cap->filter);
    pcap_close(cap->pcap);
    free(cap);
}
