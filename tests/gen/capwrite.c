/* capwrite: classic pcap (µs / ns) and pcapng writer for tests/gen. Every field is serialised
 * explicitly in little-endian order, never through a host struct, so files are identical on any
 * machine. */
#include "capwrite.h"

#include <stdlib.h>
#include <string.h>

#define CAPWRITE_MAX_IFACES 64

#define PCAP_MAGIC_USEC 0xa1b2c3d4u
#define PCAP_MAGIC_NSEC 0xa1b23c4du
#define PCAPNG_SHB 0x0A0D0D0Au
#define PCAPNG_IDB 0x00000001u
#define PCAPNG_EPB 0x00000006u
#define PCAPNG_BYTE_ORDER_MAGIC 0x1A2B3C4Du
#define PCAPNG_OPT_ENDOFOPT 0
#define PCAPNG_OPT_IF_TSRESOL 9

struct capwrite {
    FILE *fp;
    enum capwrite_format format;
    bool ok;
    size_t nifaces;
    uint32_t snaplen[CAPWRITE_MAX_IFACES];
};

/* ---- little-endian serialisation ----------------------------------------------------------- */

static void le16_put(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void le32_put(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void le64_put(uint8_t *p, uint64_t v) {
    le32_put(p, (uint32_t)v);
    le32_put(p + 4, (uint32_t)(v >> 32));
}

static bool capwrite_bytes(struct capwrite *w, const void *bytes, size_t len) {
    if (!w->ok)
        return false;
    if (len > 0 && fwrite(bytes, 1, len, w->fp) != len)
        w->ok = false;
    return w->ok;
}

static uint32_t caplen_for(uint32_t snaplen, size_t len) {
    if (snaplen != 0 && len > snaplen)
        return snaplen;
    return (uint32_t)len;
}

/* ---- classic pcap -------------------------------------------------------------------------- */

static bool pcap_write_header(struct capwrite *w, int linktype, uint32_t snaplen) {
    uint8_t h[24];
    uint32_t magic = w->format == CAPWRITE_PCAP_NSEC ? PCAP_MAGIC_NSEC : PCAP_MAGIC_USEC;
    le32_put(h, magic);
    le16_put(h + 4, 2); /* version 2.4 */
    le16_put(h + 6, 4);
    le32_put(h + 8, 0);  /* thiszone */
    le32_put(h + 12, 0); /* sigfigs */
    le32_put(h + 16, snaplen);
    le32_put(h + 20, (uint32_t)linktype);
    return capwrite_bytes(w, h, sizeof h);
}

static bool pcap_write_packet(struct capwrite *w, uint64_t ts_ns, const uint8_t *frame,
                              size_t len) {
    uint64_t sec = ts_ns / 1000000000u;
    uint64_t frac = ts_ns % 1000000000u;
    if (w->format == CAPWRITE_PCAP_USEC)
        frac /= 1000u;
    if (sec > UINT32_MAX)
        return false;
    uint32_t caplen = caplen_for(w->snaplen[0], len);
    uint8_t h[16];
    le32_put(h, (uint32_t)sec);
    le32_put(h + 4, (uint32_t)frac);
    le32_put(h + 8, caplen);
    le32_put(h + 12, (uint32_t)len);
    return capwrite_bytes(w, h, sizeof h) && capwrite_bytes(w, frame, caplen);
}

/* ---- pcapng -------------------------------------------------------------------------------- */

static bool pcapng_write_shb(struct capwrite *w) {
    uint8_t b[28];
    le32_put(b, PCAPNG_SHB);
    le32_put(b + 4, sizeof b);
    le32_put(b + 8, PCAPNG_BYTE_ORDER_MAGIC);
    le16_put(b + 12, 1); /* version 1.0 */
    le16_put(b + 14, 0);
    le64_put(b + 16, UINT64_MAX); /* section length: unspecified (-1) */
    le32_put(b + 24, sizeof b);
    return capwrite_bytes(w, b, sizeof b);
}

static bool pcapng_write_idb(struct capwrite *w, int linktype, uint32_t snaplen) {
    uint8_t b[32];
    memset(b, 0, sizeof b);
    le32_put(b, PCAPNG_IDB);
    le32_put(b + 4, sizeof b);
    le16_put(b + 8, (uint16_t)linktype);
    le16_put(b + 10, 0); /* reserved */
    le32_put(b + 12, snaplen);
    le16_put(b + 16, PCAPNG_OPT_IF_TSRESOL);
    le16_put(b + 18, 1);
    b[20] = 9; /* 10^-9 s; bytes 21..23 pad the option to 32 bits */
    le16_put(b + 24, PCAPNG_OPT_ENDOFOPT);
    le16_put(b + 26, 0);
    le32_put(b + 28, sizeof b);
    return capwrite_bytes(w, b, sizeof b);
}

static bool pcapng_write_epb(struct capwrite *w, int iface, uint64_t ts_ns, const uint8_t *frame,
                             size_t len) {
    if (iface < 0 || (size_t)iface >= w->nifaces)
        return false;
    uint32_t caplen = caplen_for(w->snaplen[iface], len);
    uint32_t padded = (caplen + 3u) & ~3u;
    uint32_t total = 32u + padded;
    uint8_t h[28];
    le32_put(h, PCAPNG_EPB);
    le32_put(h + 4, total);
    le32_put(h + 8, (uint32_t)iface);
    le32_put(h + 12, (uint32_t)(ts_ns >> 32));
    le32_put(h + 16, (uint32_t)ts_ns);
    le32_put(h + 20, caplen);
    le32_put(h + 24, (uint32_t)len);
    static const uint8_t zeros[4] = {0};
    uint8_t trailer[4];
    le32_put(trailer, total);
    return capwrite_bytes(w, h, sizeof h) && capwrite_bytes(w, frame, caplen) &&
           capwrite_bytes(w, zeros, padded - caplen) && capwrite_bytes(w, trailer, sizeof trailer);
}

/* ---- public -------------------------------------------------------------------------------- */

/* Writes the file header (pcap) or the SHB and first IDB (pcapng) on an opened stream. */
static struct capwrite *capwrite_start(FILE *fp, enum capwrite_format format, int linktype,
                                       uint32_t snaplen) {
    struct capwrite *w = calloc(1, sizeof *w);
    if (!w) {
        fclose(fp);
        return NULL;
    }
    w->fp = fp;
    w->format = format;
    w->ok = true;
    bool ok;
    if (format == CAPWRITE_PCAPNG) {
        ok = pcapng_write_shb(w) && capwrite_add_interface(w, linktype, snaplen) == 0;
    } else {
        w->nifaces = 1;
        w->snaplen[0] = snaplen;
        ok = pcap_write_header(w, linktype, snaplen);
    }
    if (!ok) {
        capwrite_close(w);
        return NULL;
    }
    return w;
}

static bool capwrite_args_valid(enum capwrite_format format, int linktype) {
    if (linktype < 0 || (format == CAPWRITE_PCAPNG && linktype > 0xffff))
        return false;
    return format == CAPWRITE_PCAP_USEC || format == CAPWRITE_PCAP_NSEC ||
           format == CAPWRITE_PCAPNG;
}

struct capwrite *capwrite_open(const char *path, enum capwrite_format format, int linktype,
                               uint32_t snaplen) {
    if (!path || !capwrite_args_valid(format, linktype))
        return NULL;
    FILE *fp = fopen(path, "wb");
    return fp ? capwrite_start(fp, format, linktype, snaplen) : NULL;
}

struct capwrite *capwrite_fdopen(int fd, enum capwrite_format format, int linktype,
                                 uint32_t snaplen) {
    if (fd < 0 || !capwrite_args_valid(format, linktype))
        return NULL;
    FILE *fp = fdopen(fd, "wb");
    if (!fp)
        return NULL;
    setvbuf(fp, NULL, _IOFBF, 1 << 16);
    return capwrite_start(fp, format, linktype, snaplen);
}

int capwrite_add_interface(struct capwrite *w, int linktype, uint32_t snaplen) {
    if (!w || w->format != CAPWRITE_PCAPNG || w->nifaces >= CAPWRITE_MAX_IFACES)
        return -1;
    if (linktype < 0 || linktype > 0xffff || !pcapng_write_idb(w, linktype, snaplen))
        return -1;
    w->snaplen[w->nifaces] = snaplen;
    return (int)w->nifaces++;
}

bool capwrite_packet(struct capwrite *w, int iface, uint64_t ts_ns, const uint8_t *frame,
                     size_t len) {
    if (!w || (!frame && len > 0) || len > UINT32_MAX)
        return false;
    if (w->format == CAPWRITE_PCAPNG)
        return pcapng_write_epb(w, iface, ts_ns, frame, len);
    return pcap_write_packet(w, ts_ns, frame, len);
}

bool capwrite_raw(struct capwrite *w, const void *bytes, size_t len) {
    if (!w || (!bytes && len > 0))
        return false;
    return capwrite_bytes(w, bytes, len);
}

bool capwrite_close(struct capwrite *w) {
    if (!w)
        return false;
    bool ok = w->ok;
    if (fclose(w->fp) != 0)
        ok = false;
    free(w);
    return ok;
}
