/* capture: reads capture files with libpcap, or plain classic pcap files in large blocks
 * (pcap_file.c) with libpcap still judging the file header, naming the link type and compiling
 * the filter. The BPF filter is applied here with pcap_offline_filter() rather than
 * pcap_setfilter(), so packets the filter rejects are still seen and counted: every record read
 * is accounted for. */
/* libpcap's headers use the BSD u_int/u_char types, which glibc hides under strict POSIX. */
#define _DEFAULT_SOURCE 1
#include "capture.h"

#include "compressed.h"
#include "pcap_file.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef __linux__
#include <linux/if_packet.h>
#include <sys/socket.h>
#endif

struct capture {
    pcap_t *pcap;
    struct pcap_file *file; /* plain classic pcap files; NULL: libpcap reads them */
    struct bpf_program filter;
    bool has_filter; /* files: applied here, so rejected packets are counted */
    bool live;
    bool usec; /* live: the kernel gave microsecond timestamps */
    int fd;    /* live: the descriptor to wait on */
    int timeout_ms;
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

/* The largest captured length libpcap 1.10 accepts in a record of link type dlt
 * (max_snaplen_for_dlt() in pcap-common.c, not exported): longer is a damaged file. */
static uint32_t libpcap_max_caplen(int dlt) {
    switch (dlt) {
    case DLT_DBUS:
        return 128 * 1024 * 1024;
    case DLT_EBHSCR:
        return 8 * 1024 * 1024;
    case DLT_USBPCAP:
        return 1024 * 1024;
    default:
        return 262144;
    }
}

/* Whether libpcap rewrites packets of this file as it reads them (pcap_post_process()): the
 * pseudo-headers of some link types are put into this host's byte order when the file was
 * written in the other, and the lengths of Linux USB records are mended. pcap_file.c hands
 * records out as stored, so such files stay with libpcap. */
static bool libpcap_rewrites(pcap_t *p) {
    switch (pcap_datalink(p)) {
    case DLT_USB_LINUX_MMAPPED:
        return true;
    case DLT_PFLOG:
    case DLT_LINUX_SLL:
    case DLT_LINUX_SLL2:
    case DLT_USB_LINUX:
    case DLT_NFLOG:
        return pcap_is_swapped(p);
    default:
        return false;
    }
}

/* Reads the file libpcap has opened with pcap_file.c instead, if it is one pcap_file reads (a
 * plain classic pcap file on disk) and libpcap would hand its packets out as they are stored;
 * otherwise libpcap goes on reading it. pcap_file reads with pread at offsets from the file's
 * start, which leaves the stream's position alone; libpcap, which has read the file header, is
 * not read from again while pcap_file is in use. */
static void file_attach(struct capture *cap, FILE *in) {
    int fd = fileno(in); /* -1 for a decompressing stream */
    uint32_t max_caplen = libpcap_max_caplen(pcap_datalink(cap->pcap));
    /* pcap_file's buffer holds one largest record: 128 MiB for D-Bus, whose file header alone
     * would make it so. Link types with records above 256 KiB (none shakedown decodes) stay
     * with libpcap, which grows its buffer only as far as the records need. */
    if (fd < 0 || in == stdin || libpcap_rewrites(cap->pcap) || max_caplen > 262144)
        return;
    struct pcap_file_limits limits = {.snapshot = (uint32_t)pcap_snapshot(cap->pcap),
                                      .max_caplen = max_caplen};
    cap->file = pcap_file_open(fd, limits);
}

struct capture *capture_open_file(const char *path, const char *filter, char *err, size_t errlen) {
    return capture_open_file_with(path, filter, CAPTURE_READER_AUTO, err, errlen);
}

struct capture *capture_open_file_with(const char *path, const char *filter,
                                       enum capture_reader reader, char *err, size_t errlen) {
    struct capture *cap = calloc(1, sizeof *cap);
    if (!cap) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    enum compression how;
    FILE *in = compressed_open(path, &how, err, errlen);
    if (!in) {
        free(cap);
        return NULL;
    }
    /* Nanosecond precision whatever the file holds: libpcap scales µs files up. libpcap owns
     * the stream from here (pcap_close closes it; stdin stays open). */
    cap->pcap =
        pcap_fopen_offline_with_tstamp_precision(in, PCAP_TSTAMP_PRECISION_NANO, cap->errbuf);
    if (!cap->pcap) {
        snprintf(err, errlen, "%s", cap->errbuf);
        if (in != stdin)
            fclose(in);
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
    if (reader == CAPTURE_READER_AUTO && how == COMPRESSION_NONE)
        file_attach(cap, in);
    return cap;
}

bool capture_fast_reader(const struct capture *cap) {
    return cap->file != NULL;
}

/* A pcap_file record as capture_next() hands out a libpcap one: the nanoseconds cut to 32 bits
 * the same way. */
static void packet_from_record(struct capture_packet *pkt, const struct pcap_file_record *rec) {
    pkt->data = rec->data;
    pkt->caplen = rec->caplen;
    pkt->wirelen = rec->wirelen;
    pkt->ts_sec = rec->ts_sec;
    pkt->ts_nsec = (uint32_t)rec->ts_nsec;
}

static enum capture_status file_next(struct capture *cap, struct capture_packet *pkt) {
    struct pcap_file_record rec;
    enum pcap_file_status st = pcap_file_next(cap->file, &rec);
    if (st == PCAP_FILE_END)
        return CAPTURE_END;
    if (st == PCAP_FILE_DAMAGED) {
        snprintf(cap->errbuf, sizeof cap->errbuf, "%s", pcap_file_error(cap->file));
        return CAPTURE_DAMAGED;
    }
    packet_from_record(pkt, &rec);
    if (cap->has_filter) {
        struct pcap_pkthdr h = {.caplen = rec.caplen, .len = rec.wirelen};
        if (!pcap_offline_filter(&cap->filter, &h, rec.data))
            return CAPTURE_FILTERED;
    }
    return CAPTURE_PACKET;
}

int capture_link(const struct capture *cap) {
    return pcap_datalink(cap->pcap);
}

const char *capture_link_name(const struct capture *cap) {
    const char *name = pcap_datalink_val_to_name(pcap_datalink(cap->pcap));
    return name ? name : "unknown";
}

const char *capture_link_description(const struct capture *cap) {
    const char *text = pcap_datalink_val_to_description(pcap_datalink(cap->pcap));
    return text ? text : "unknown";
}

int capture_snaplen(const struct capture *cap) {
    return pcap_snapshot(cap->pcap);
}

/* The reason an activation failed, in words a user can act on. */
static const char *activate_error(pcap_t *p, int rc) {
    switch (rc) {
    case PCAP_ERROR_NO_SUCH_DEVICE:
        return "no such interface";
    case PCAP_ERROR_PERM_DENIED:
        return "permission denied (capturing needs root, or CAP_NET_RAW and CAP_NET_ADMIN)";
    case PCAP_ERROR_IFACE_NOT_UP:
        return "interface is down";
    default:
        return pcap_geterr(p);
    }
}

/* Sets every option of o on a created (not yet activated) handle; 0 or a pcap error code. */
static int live_configure(pcap_t *p, const struct capture_live_options *o) {
    int rc = pcap_set_snaplen(p, o->snaplen);
    if (rc == 0)
        rc = pcap_set_promisc(p, o->promisc);
    if (rc == 0)
        rc = pcap_set_timeout(p, o->timeout_ms);
    if (rc == 0)
        rc = pcap_set_immediate_mode(p, 1);
    if (rc == 0 && o->buffer_bytes > 0)
        rc = pcap_set_buffer_size(p, o->buffer_bytes);
    if (rc == 0)
        pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO); /* µs where not supported */
    return rc;
}

struct capture *capture_open_live(const struct capture_live_options *o, const char *filter,
                                  char *err, size_t errlen) {
    struct capture *cap = calloc(1, sizeof *cap);
    if (!cap) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    cap->live = true;
    cap->pcap = pcap_create(o->iface, cap->errbuf);
    int rc = cap->pcap ? live_configure(cap->pcap, o) : PCAP_ERROR;
    if (cap->pcap && rc == 0)
        rc = pcap_activate(cap->pcap);
    if (rc < 0) { /* warnings (> 0) are not fatal */
        snprintf(err, errlen, "%s", cap->pcap ? activate_error(cap->pcap, rc) : cap->errbuf);
        goto fail;
    }
    /* Non-blocking reads and our own poll(): libpcap may keep waiting through its own timeout
     * (immediate mode on Linux), and a stop request must be noticed within timeout_ms. */
    cap->fd = pcap_get_selectable_fd(cap->pcap);
    cap->timeout_ms = o->timeout_ms;
    cap->usec = pcap_get_tstamp_precision(cap->pcap) != PCAP_TSTAMP_PRECISION_NANO;
    if (cap->fd < 0 || pcap_setnonblock(cap->pcap, 1, cap->errbuf) != 0) {
        snprintf(err, errlen, "cannot wait for packets: %s", cap->errbuf);
        goto fail;
    }
    if (filter && *filter) {
        struct bpf_program prog;
        if (pcap_compile(cap->pcap, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0 ||
            pcap_setfilter(cap->pcap, &prog) != 0) {
            snprintf(err, errlen, "filter: %s", pcap_geterr(cap->pcap));
            goto fail;
        }
        pcap_freecode(&prog);
    }
    return cap;
fail:
    if (cap->pcap)
        pcap_close(cap->pcap);
    free(cap);
    return NULL;
}

bool capture_get_stats(struct capture *cap, struct capture_stats *st) {
    struct pcap_stat ps;
    if (!cap->live || pcap_stats(cap->pcap, &ps) != 0)
        return false;
    st->received = ps.ps_recv;
    st->dropped = ps.ps_drop;
    st->if_dropped = ps.ps_ifdrop;
    return true;
}

bool capture_list_interfaces(FILE *out, char *err, size_t errlen) {
    pcap_if_t *all;
    char errbuf[PCAP_ERRBUF_SIZE];
    if (pcap_findalldevs(&all, errbuf) != 0) {
        snprintf(err, errlen, "%s", errbuf);
        return false;
    }
    int n = 0;
    for (pcap_if_t *d = all; d; d = d->next) {
        fprintf(out, "%d.%s", ++n, d->name);
        if (d->description)
            fprintf(out, " (%s)", d->description);
        fprintf(out, " [%s%s%s]\n", d->flags & PCAP_IF_UP ? "Up" : "Down",
                d->flags & PCAP_IF_RUNNING ? ", Running" : "",
                d->flags & PCAP_IF_LOOPBACK ? ", Loopback" : "");
    }
    pcap_freealldevs(all);
    return true;
}

/* Live: one non-blocking read; if nothing is there, wait up to the timeout for the descriptor
 * and try once more. A signal ends the wait early (EINTR): the caller then sees CAPTURE_IDLE. */
static int live_next(struct capture *cap, struct pcap_pkthdr **h, const u_char **data) {
    int rc = pcap_next_ex(cap->pcap, h, data);
    if (rc != 0)
        return rc;
    struct pollfd pfd = {.fd = cap->fd, .events = POLLIN};
    if (poll(&pfd, 1, cap->timeout_ms) <= 0)
        return 0;
    return pcap_next_ex(cap->pcap, h, data);
}

enum capture_status capture_next(struct capture *cap, struct capture_packet *pkt) {
    if (cap->file)
        return file_next(cap, pkt);
    struct pcap_pkthdr *h;
    const u_char *data;
    int rc = cap->live ? live_next(cap, &h, &data) : pcap_next_ex(cap->pcap, &h, &data);
    if (rc == 0 && cap->live)
        return CAPTURE_IDLE;
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
    /* Nanoseconds (capture_open_file() asks for them), unless the kernel gave microseconds. */
    pkt->ts_nsec = (uint32_t)h->ts.tv_usec * (cap->usec ? 1000u : 1u);
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
    pcap_file_close(cap->file); /* its buffer only: the descriptor is libpcap's stream's */
    pcap_close(cap->pcap);
    free(cap);
}

/* ---- fanout (capture_group.c) -------------------------------------------------------------- */

#if defined(__linux__) && defined(PACKET_FANOUT_FLAG_UNIQUEID)
/* PACKET_FANOUT_HASH: the kernel picks a member by __skb_get_hash_symmetric() (Linux,
 * net/packet/af_packet.c, fanout_demux_hash()), the flow hash computed over addresses and ports
 * in a canonical order, so both directions of a connection reach the same socket.
 * PACKET_FANOUT_FLAG_DEFRAG: IPv4 fragments are reassembled before the hash (fragments after the
 * first carry no ports, and would land elsewhere). PACKET_FANOUT_FLAG_UNIQUEID (Linux 4.7), on
 * the first socket only: the kernel picks an id no group of this network namespace has
 * (fanout_add()), so this group cannot be merged into another program's by chance. */
bool capture_fanout_join(struct capture *cap, int *group, char *err, size_t errlen) {
    int fd = pcap_fileno(cap->pcap);
    uint32_t mode = PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG;
    uint32_t arg = *group < 0 ? (mode | PACKET_FANOUT_FLAG_UNIQUEID) << 16
                              : ((uint32_t)*group & 0xffffu) | mode << 16;
    if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof arg) != 0) {
        snprintf(err, errlen, "cannot join a PACKET_FANOUT group: %s", strerror(errno));
        return false;
    }
    if (*group >= 0)
        return true;
    uint32_t got = 0;
    socklen_t len = sizeof got;
    if (getsockopt(fd, SOL_PACKET, PACKET_FANOUT, &got, &len) != 0) {
        snprintf(err, errlen, "cannot read the PACKET_FANOUT group id: %s", strerror(errno));
        return false;
    }
    *group = (int)(got & 0xffffu); /* the id; type and flags above it */
    return true;
}
#else
bool capture_fanout_join(struct capture *cap, int *group, char *err, size_t errlen) {
    (void)cap;
    (void)group;
    snprintf(err, errlen,
             "--workers on a live interface needs Linux's PACKET_FANOUT (4.7 or "
             "later)");
    return false;
}
#endif

uint64_t capture_drain(struct capture *cap) {
    struct pcap_pkthdr *h;
    const u_char *data;
    uint64_t n = 0;
    while (pcap_next_ex(cap->pcap, &h, &data) == 1) /* non-blocking: 0 once empty */
        n++;
    return n;
}

void capture_stats_add(struct capture_stats *sum, const struct capture_stats *part) {
    sum->received += part->received;
    sum->dropped += part->dropped;
    if (part->if_dropped > sum->if_dropped)
        sum->if_dropped = part->if_dropped;
}

static int64_t clock_ns(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t capture_wall_ns(void) {
    return clock_ns(CLOCK_REALTIME);
}

int64_t capture_mono_ns(void) {
    return clock_ns(CLOCK_MONOTONIC);
}
