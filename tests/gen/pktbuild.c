/* pktbuild: the frame encoder behind tests/gen (link layers, IPv4/IPv6 with extension headers,
 * TCP/UDP/ICMP/ICMPv6, all lengths and checksums). Written independently of dissectors/ so that
 * the tests compare two separate implementations of the wire formats. */
#include "pktbuild.h"

#include <string.h>

enum {
    PB_ETH_IPV4 = 0x0800,
    PB_ETH_IPV6 = 0x86DD,
    PB_ETH_VLAN = 0x8100,
    PB_ETH_MPLS = 0x8847,
};

enum {
    PB_PROTO_ICMP = 1,
    PB_PROTO_TCP = 6,
    PB_PROTO_UDP = 17,
    PB_PROTO_ICMPV6 = 58,
};

static const uint8_t pb_mac_dst[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
static const uint8_t pb_mac_src[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

/* ---- output buffer ---------------------------------------------------------------------- */

struct pb_out {
    uint8_t *buf;
    size_t cap;
    size_t len;
    bool ok;
};

static uint8_t *out_take(struct pb_out *o, size_t n) {
    if (!o->ok || n > o->cap - o->len) {
        o->ok = false;
        return NULL;
    }
    uint8_t *p = o->buf + o->len;
    o->len += n;
    return p;
}

static void put_be16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void out_u8(struct pb_out *o, uint8_t v) {
    uint8_t *p = out_take(o, 1);
    if (p)
        p[0] = v;
}

static void out_be16(struct pb_out *o, uint16_t v) {
    uint8_t *p = out_take(o, 2);
    if (p)
        put_be16(p, v);
}

static void out_be32(struct pb_out *o, uint32_t v) {
    uint8_t *p = out_take(o, 4);
    if (p)
        put_be32(p, v);
}

static void out_le32(struct pb_out *o, uint32_t v) {
    uint8_t *p = out_take(o, 4);
    if (p) {
        p[0] = (uint8_t)v;
        p[1] = (uint8_t)(v >> 8);
        p[2] = (uint8_t)(v >> 16);
        p[3] = (uint8_t)(v >> 24);
    }
}

static void out_bytes(struct pb_out *o, const uint8_t *src, size_t n) {
    uint8_t *p = out_take(o, n);
    if (p && n > 0)
        memcpy(p, src, n);
}

static void out_zeros(struct pb_out *o, size_t n) {
    uint8_t *p = out_take(o, n);
    if (p && n > 0)
        memset(p, 0, n);
}

/* ---- checksums ----------------------------------------------------------------------------- */

/* Adds bytes to a ones'-complement accumulator as big-endian 16-bit words (odd tail zero-padded).
 */
static uint64_t cksum_add(uint64_t acc, const uint8_t *p, size_t n) {
    size_t i = 0;
    for (; i + 1 < n; i += 2)
        acc += (uint64_t)((unsigned)p[i] << 8 | p[i + 1]);
    if (i < n)
        acc += (uint64_t)p[i] << 8;
    return acc;
}

static uint16_t cksum_finish(uint64_t acc) {
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return (uint16_t)~acc;
}

/* A checksum that is certainly wrong: not equal, not ones'-complement equivalent, never zero. */
static uint16_t cksum_damage(uint16_t good) {
    uint16_t bad = (uint16_t)(good ^ 0x5555);
    if (bad == 0 || bad == 0xffff)
        bad = 0x1234;
    return bad;
}

static uint64_t cksum_pseudo(const struct pb_frame *f, size_t l4_len) {
    uint64_t acc = 0;
    size_t alen = f->ip_version == 4 ? 4 : 16;
    acc = cksum_add(acc, f->src, alen);
    acc = cksum_add(acc, f->dst, alen);
    acc += f->proto;
    acc += (uint64_t)(l4_len >> 16) + (uint64_t)(l4_len & 0xffff);
    return acc;
}

/* ---- layout -------------------------------------------------------------------------------- */

struct pb_layout {
    size_t ip_hdr;  /* IPv4 header with options, or the IPv6 fixed header */
    size_t ext;     /* IPv6 extension headers */
    size_t l4_hdr;  /* transport header with padded options (0: opaque or later fragment) */
    size_t tcp_opt; /* TCP option bytes after EOL padding */
    size_t ip_len;  /* everything from the IP header to the end of the payload */
};

static size_t ext_size(uint8_t type) {
    return type == PB_EXT_AH ? 16 : 8;
}

static bool has_frag_ext(const struct pb_frame *f) {
    for (size_t i = 0; i < f->n_ext; i++)
        if (f->ext[i] == PB_EXT_FRAGMENT)
            return true;
    return false;
}

static bool is_later_fragment(const struct pb_frame *f) {
    if (f->frag_offset == 0)
        return false;
    return f->ip_version == 4 || has_frag_ext(f);
}

static size_t l4_header_size(const struct pb_frame *f, size_t tcp_opt) {
    if (is_later_fragment(f))
        return 0;
    switch (f->proto) {
    case PB_PROTO_TCP:
        return 20 + tcp_opt;
    case PB_PROTO_UDP:
    case PB_PROTO_ICMP:
    case PB_PROTO_ICMPV6:
        return 8;
    default:
        return 0;
    }
}

static bool link_is_valid(const struct pb_frame *f) {
    switch (f->link) {
    case PB_LINK_ETHERNET:
        return f->nvlan <= PB_MAX_TAGS && f->nmpls <= PB_MAX_TAGS;
    case PB_LINK_IPV4:
        return f->ip_version == 4;
    case PB_LINK_IPV6:
        return f->ip_version == 6;
    case PB_LINK_SLL:
    case PB_LINK_SLL2:
    case PB_LINK_RAW:
    case PB_LINK_NULL:
    case PB_LINK_LOOP:
        return true;
    }
    return false;
}

static bool ip_is_valid(const struct pb_frame *f) {
    if (f->frag_offset > 0x1fff)
        return false;
    if (f->ip_version == 4)
        return f->ip_optlen % 4 == 0 && f->ip_optlen <= 40 && f->n_ext == 0;
    if (f->ip_version == 6)
        return f->ip_optlen == 0 && f->n_ext <= PB_MAX_EXT;
    return false;
}

static bool layout_compute(const struct pb_frame *f, struct pb_layout *l) {
    if (!link_is_valid(f) || !ip_is_valid(f) || f->tcp_optlen > 40)
        return false;
    memset(l, 0, sizeof *l);
    l->tcp_opt = (f->tcp_optlen + 3) & ~(size_t)3;
    l->ip_hdr = f->ip_version == 4 ? 20 + f->ip_optlen : 40;
    for (size_t i = 0; i < f->n_ext; i++)
        l->ext += ext_size(f->ext[i]);
    l->l4_hdr = l4_header_size(f, l->tcp_opt);
    if (f->payload_len > 0x10000)
        return false;
    l->ip_len = l->ip_hdr + l->ext + l->l4_hdr + f->payload_len;
    size_t limit = f->ip_version == 4 ? 0xffff : 0xffff + l->ip_hdr;
    return l->ip_len <= limit;
}

/* ---- link layer ---------------------------------------------------------------------------- */

static uint16_t ip_ethertype(const struct pb_frame *f) {
    return f->ip_version == 4 ? PB_ETH_IPV4 : PB_ETH_IPV6;
}

static void link_write_ethernet(struct pb_out *o, const struct pb_frame *f) {
    out_bytes(o, pb_mac_dst, 6);
    out_bytes(o, pb_mac_src, 6);
    for (size_t i = 0; i < f->nvlan; i++) {
        out_be16(o, f->vlan_tpid[i] ? f->vlan_tpid[i] : PB_ETH_VLAN);
        out_be16(o, (uint16_t)(f->vlan_id[i] & 0x0fff));
    }
    out_be16(o, f->nmpls > 0 ? PB_ETH_MPLS : ip_ethertype(f));
    for (size_t i = 0; i < f->nmpls; i++) {
        uint32_t bos = i + 1 == f->nmpls ? 0x100u : 0u;
        out_be32(o, (f->mpls_label[i] & 0xfffffu) << 12 | bos | 64u);
    }
}

static void link_write_sll(struct pb_out *o, const struct pb_frame *f) {
    out_be16(o, 0); /* packet type: to us */
    out_be16(o, 1); /* ARPHRD_ETHER */
    out_be16(o, 6); /* link-layer address length */
    out_bytes(o, pb_mac_src, 6);
    out_zeros(o, 2);
    out_be16(o, ip_ethertype(f));
}

static void link_write_sll2(struct pb_out *o, const struct pb_frame *f) {
    out_be16(o, ip_ethertype(f));
    out_be16(o, 0); /* reserved */
    out_be32(o, 1); /* interface index */
    out_be16(o, 1); /* ARPHRD_ETHER */
    out_u8(o, 0);   /* packet type: to us */
    out_u8(o, 6);   /* link-layer address length */
    out_bytes(o, pb_mac_src, 6);
    out_zeros(o, 2);
}

static void link_write(struct pb_out *o, const struct pb_frame *f) {
    bool v4 = f->ip_version == 4;
    switch (f->link) {
    case PB_LINK_ETHERNET:
        link_write_ethernet(o, f);
        break;
    case PB_LINK_SLL:
        link_write_sll(o, f);
        break;
    case PB_LINK_SLL2:
        link_write_sll2(o, f);
        break;
    case PB_LINK_NULL:
        out_le32(o, v4 ? 2u : 30u);
        break;
    case PB_LINK_LOOP:
        out_be32(o, v4 ? 2u : 24u);
        break;
    case PB_LINK_RAW:
    case PB_LINK_IPV4:
    case PB_LINK_IPV6:
        break;
    }
}

/* ---- network layer ------------------------------------------------------------------------- */

static uint8_t ip_ttl(const struct pb_frame *f) {
    return f->ttl ? f->ttl : 64;
}

static void ip_write_options(struct pb_out *o, const uint8_t *opts, size_t n) {
    uint8_t *p = out_take(o, n);
    if (p && n > 0) {
        if (opts)
            memcpy(p, opts, n);
        else
            memset(p, 1, n); /* NOP */
    }
}

static void ipv4_write(struct pb_out *o, const struct pb_frame *f, const struct pb_layout *l) {
    size_t start = o->len;
    uint16_t frag = (uint16_t)(f->frag_offset & 0x1fff);
    if (f->more_fragments)
        frag |= 0x2000;
    if (f->dont_fragment)
        frag |= 0x4000;
    out_u8(o, (uint8_t)(0x40 | (l->ip_hdr / 4)));
    out_u8(o, 0); /* DSCP/ECN */
    out_be16(o, (uint16_t)l->ip_len);
    out_be16(o, f->ip_id);
    out_be16(o, frag);
    out_u8(o, ip_ttl(f));
    out_u8(o, f->proto);
    out_be16(o, 0); /* checksum, below */
    out_bytes(o, f->src, 4);
    out_bytes(o, f->dst, 4);
    ip_write_options(o, f->ip_options, f->ip_optlen);
    if (!o->ok)
        return;
    uint16_t sum = cksum_finish(cksum_add(0, o->buf + start, l->ip_hdr));
    put_be16(o->buf + start + 10, f->bad_ip_checksum ? cksum_damage(sum) : sum);
}

static void ipv6_write_ext(struct pb_out *o, const struct pb_frame *f, uint8_t type, uint8_t next) {
    out_u8(o, next);
    if (type == PB_EXT_FRAGMENT) {
        out_u8(o, 0);
        out_be16(o, (uint16_t)((f->frag_offset & 0x1fff) << 3 | (f->more_fragments ? 1 : 0)));
        out_be32(o, f->ip_id);
    } else if (type == PB_EXT_AH) {
        out_u8(o, 2); /* (2 + 2) * 4 = 16 bytes */
        out_be16(o, 0);
        out_be32(o, 0x100); /* SPI */
        out_be32(o, 1);     /* sequence number */
        out_zeros(o, 4);    /* ICV */
    } else if (type == PB_EXT_ROUTING) {
        out_u8(o, 0);    /* 8 bytes in all */
        out_u8(o, 0);    /* routing type 0 ... */
        out_u8(o, 0);    /* ... with segments left 0: to be ignored by every node (RFC 8200) */
        out_zeros(o, 4); /* reserved */
    } else {
        out_u8(o, 0); /* 8 bytes in all */
        out_u8(o, 1); /* PadN */
        out_u8(o, 4);
        out_zeros(o, 4);
    }
}

static void ipv6_write(struct pb_out *o, const struct pb_frame *f, const struct pb_layout *l) {
    out_be32(o, 0x60000000u);
    out_be16(o, (uint16_t)(l->ip_len - l->ip_hdr));
    out_u8(o, f->n_ext > 0 ? f->ext[0] : f->proto);
    out_u8(o, ip_ttl(f));
    out_bytes(o, f->src, 16);
    out_bytes(o, f->dst, 16);
    for (size_t i = 0; i < f->n_ext; i++) {
        uint8_t next = i + 1 < f->n_ext ? f->ext[i + 1] : f->proto;
        ipv6_write_ext(o, f, f->ext[i], next);
    }
}

/* ---- transport layer ----------------------------------------------------------------------- */

static void tcp_write(struct pb_out *o, const struct pb_frame *f, const struct pb_layout *l) {
    out_be16(o, f->sport);
    out_be16(o, f->dport);
    out_be32(o, f->seq);
    out_be32(o, f->ack);
    out_u8(o, (uint8_t)((l->l4_hdr / 4) << 4));
    out_u8(o, f->flags);
    out_be16(o, f->win);
    out_be16(o, 0); /* checksum, later */
    out_be16(o, f->urg_ptr);
    ip_write_options(o, f->tcp_options, f->tcp_optlen);
    out_zeros(o, l->tcp_opt - f->tcp_optlen); /* EOL padding */
}

static void udp_write(struct pb_out *o, const struct pb_frame *f, const struct pb_layout *l) {
    out_be16(o, f->sport);
    out_be16(o, f->dport);
    out_be16(o, (uint16_t)(l->l4_hdr + f->payload_len));
    out_be16(o, 0); /* checksum, later */
}

static void icmp_write(struct pb_out *o, const struct pb_frame *f) {
    out_u8(o, f->icmp_type);
    out_u8(o, f->icmp_code);
    out_be16(o, 0); /* checksum, later */
    out_be16(o, f->icmp_id);
    out_be16(o, f->icmp_seq);
}

static void l4_write(struct pb_out *o, const struct pb_frame *f, const struct pb_layout *l) {
    if (l->l4_hdr == 0)
        return;
    if (f->proto == PB_PROTO_TCP)
        tcp_write(o, f, l);
    else if (f->proto == PB_PROTO_UDP)
        udp_write(o, f, l);
    else
        icmp_write(o, f);
}

static void payload_write(struct pb_out *o, const struct pb_frame *f) {
    uint8_t *p = out_take(o, f->payload_len);
    if (!p || f->payload_len == 0)
        return;
    if (f->payload) {
        memcpy(p, f->payload, f->payload_len);
        return;
    }
    for (size_t i = 0; i < f->payload_len; i++)
        p[i] = (uint8_t)(i & 0xff);
}

/* Offset of the checksum field inside the transport header. */
static size_t l4_cksum_offset(uint8_t proto) {
    switch (proto) {
    case PB_PROTO_TCP:
        return 16;
    case PB_PROTO_UDP:
        return 6;
    default:
        return 2;
    }
}

static void l4_fill_checksum(struct pb_out *o, const struct pb_frame *f, size_t l4_start) {
    size_t l4_len = o->len - l4_start;
    uint64_t acc = f->proto == PB_PROTO_ICMP ? 0 : cksum_pseudo(f, l4_len);
    uint16_t sum = cksum_finish(cksum_add(acc, o->buf + l4_start, l4_len));
    if (f->proto == PB_PROTO_UDP && sum == 0)
        sum = 0xffff;
    if (f->bad_l4_checksum)
        sum = cksum_damage(sum);
    else if (f->offloaded_l4_checksum && f->proto != PB_PROTO_ICMP)
        sum = (uint16_t)~cksum_finish(acc); /* the pseudo-header alone, folded */
    put_be16(o->buf + l4_start + l4_cksum_offset(f->proto), sum);
}

/* ---- public -------------------------------------------------------------------------------- */

int pb_linktype(enum pb_link link) {
    switch (link) {
    case PB_LINK_ETHERNET:
        return 1;
    case PB_LINK_SLL:
        return 113;
    case PB_LINK_SLL2:
        return 276;
    case PB_LINK_RAW:
        return 101;
    case PB_LINK_IPV4:
        return 228;
    case PB_LINK_IPV6:
        return 229;
    case PB_LINK_NULL:
        return 0;
    case PB_LINK_LOOP:
        return 108;
    }
    return -1;
}

size_t pb_build(const struct pb_frame *f, uint8_t *buf, size_t cap) {
    struct pb_layout l;
    if (!f || !buf || !layout_compute(f, &l))
        return 0;
    struct pb_out o = {.buf = buf, .cap = cap, .len = 0, .ok = true};
    link_write(&o, f);
    if (f->ip_version == 4)
        ipv4_write(&o, f, &l);
    else
        ipv6_write(&o, f, &l);
    size_t l4_start = o.len;
    l4_write(&o, f, &l);
    payload_write(&o, f);
    if (o.ok && l.l4_hdr > 0)
        l4_fill_checksum(&o, f, l4_start);
    if (f->link == PB_LINK_ETHERNET)
        out_zeros(&o, f->eth_padding);
    return o.ok ? o.len : 0;
}

struct pb_frame pb_tcp4(void) {
    struct pb_frame f;
    memset(&f, 0, sizeof f);
    f.link = PB_LINK_ETHERNET;
    f.ip_version = 4;
    memcpy(f.src, (const uint8_t[]){10, 0, 0, 1}, 4);
    memcpy(f.dst, (const uint8_t[]){10, 0, 0, 2}, 4);
    f.ttl = 64;
    f.proto = PB_PROTO_TCP;
    f.sport = 40000;
    f.dport = 80;
    f.win = 65535;
    return f;
}

struct pb_frame pb_tcp6(void) {
    struct pb_frame f = pb_tcp4();
    static const uint8_t src[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
    static const uint8_t dst[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
    f.ip_version = 6;
    memcpy(f.src, src, 16);
    memcpy(f.dst, dst, 16);
    return f;
}
