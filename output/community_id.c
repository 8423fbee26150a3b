/* community_id: builds the Community ID v1 hash input (seed, ordered addresses, proto, padding,
 * ordered ports; all network order, as the Community ID spec,
 * github.com/corelight/community-id-spec, defines it) and renders "1:" + base64(SHA-1(input)).
 * SHA-1 and base64 come from libcrypto. */
#include "community_id.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define ADDR_MAX 16
#define SHA1_LEN 20
/* seed(2) + two IPv6 addresses(32) + proto(1) + pad(1) + two ports(4) */
#define INPUT_MAX (2 + 2 * ADDR_MAX + 2 + 4)

enum { PROTO_ICMP = 1, PROTO_TCP = 6, PROTO_UDP = 17, PROTO_ICMPV6 = 58, PROTO_SCTP = 132 };

/* The hash input once ordering and ICMP mapping are done: what goes into SHA-1, field by field. */
struct cid_fields {
    const uint8_t *a, *b; /* first and second address after ordering */
    size_t addr_len;
    uint16_t pa, pb; /* first and second port (equivalent) after ordering */
    bool has_ports;
};

/* Request/reply type pairs, taken from Zeek via pycommunityid icmp.py / icmp6.py. */
static const uint8_t icmp4_pairs[][2] = {{8, 0}, {13, 14}, {15, 16}, {10, 9}, {17, 18}};
static const uint8_t icmp6_pairs[][2] = {{128, 129}, {133, 134}, {135, 136},
                                         {130, 131}, {139, 140}, {144, 145}};

static bool community_id_proto_has_ports(uint8_t proto) {
    return proto == PROTO_TCP || proto == PROTO_UDP || proto == PROTO_SCTP || proto == PROTO_ICMP ||
           proto == PROTO_ICMPV6;
}

static bool community_id_pair_lookup(const uint8_t (*pairs)[2], size_t n, uint16_t type,
                                     uint16_t *counterpart) {
    for (size_t i = 0; i < n; i++) {
        if (pairs[i][0] == type) {
            *counterpart = pairs[i][1];
            return true;
        }
        if (pairs[i][1] == type) {
            *counterpart = pairs[i][0];
            return true;
        }
    }
    return false;
}

/* Zeek's ICMP "port" equivalents: a type with a request/reply counterpart gets the counterpart as
 * its destination port, so request and reply order into one flow; any other type is one-way and
 * gets the code. Returns false for one-way types. */
static bool community_id_icmp_counterpart(uint8_t proto, uint16_t type, uint16_t *counterpart) {
    if (proto == PROTO_ICMP)
        return community_id_pair_lookup(icmp4_pairs, sizeof icmp4_pairs / sizeof icmp4_pairs[0],
                                        type, counterpart);
    return community_id_pair_lookup(icmp6_pairs, sizeof icmp6_pairs / sizeof icmp6_pairs[0], type,
                                    counterpart);
}

/* Spec "order_endpoints": keep the direction if src < dst as byte strings, or if the addresses
 * are equal and sport < dport; swap otherwise (equal address and port: no swap needed). */
static bool community_id_in_order(const struct cid_fields *f) {
    int cmp = memcmp(f->a, f->b, f->addr_len);
    return cmp < 0 || (cmp == 0 && f->pa < f->pb);
}

static void community_id_swap(struct cid_fields *f) {
    const uint8_t *a = f->a;
    uint16_t pa = f->pa;
    f->a = f->b;
    f->b = a;
    f->pa = f->pb;
    f->pb = pa;
}

/* Map the tuple to the spec's fields: ICMP port equivalents, then ordering unless one-way. */
static void community_id_fields(const struct community_id_tuple *t, struct cid_fields *f) {
    f->a = t->src;
    f->b = t->dst;
    f->addr_len = t->ip_version == 6 ? 16 : 4;
    f->pa = t->sport;
    f->pb = t->dport;
    f->has_ports = community_id_proto_has_ports(t->proto);
    bool one_way = false;
    if (t->proto == PROTO_ICMP || t->proto == PROTO_ICMPV6)
        one_way = !community_id_icmp_counterpart(t->proto, t->sport, &f->pb);
    /* Portless protocols still go through the ordering: ports only break address ties, and a
     * swap of equal addresses changes no hashed byte. */
    if (!one_way && !community_id_in_order(f))
        community_id_swap(f);
}

static size_t community_id_put_u16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)(v & 0xff);
    return 2;
}

/* Serialise: seed . saddr . daddr . proto . 0 . [sport . dport], all network order. */
static size_t community_id_input(const struct cid_fields *f, uint8_t proto, uint16_t seed,
                                 uint8_t buf[INPUT_MAX]) {
    size_t n = community_id_put_u16(buf, seed);
    memcpy(buf + n, f->a, f->addr_len);
    n += f->addr_len;
    memcpy(buf + n, f->b, f->addr_len);
    n += f->addr_len;
    buf[n++] = proto;
    buf[n++] = 0;
    if (f->has_ports) {
        n += community_id_put_u16(buf + n, f->pa);
        n += community_id_put_u16(buf + n, f->pb);
    }
    return n;
}

/* SHA-1 fetched once, and a digest context reused for every ID (EVP_Digest would allocate and
 * free one per call): one hasher serves one thread at a time. */
struct community_id_hasher {
    EVP_MD *sha1;
    EVP_MD_CTX *ctx;
};

void community_id_hasher_free(struct community_id_hasher *h) {
    if (!h)
        return;
    EVP_MD_CTX_free(h->ctx);
    EVP_MD_free(h->sha1);
    free(h);
}

struct community_id_hasher *community_id_hasher_new(void) {
    struct community_id_hasher *h = calloc(1, sizeof *h);
    if (h && (!(h->sha1 = EVP_MD_fetch(NULL, "SHA1", NULL)) || !(h->ctx = EVP_MD_CTX_new()))) {
        community_id_hasher_free(h);
        h = NULL;
    }
    return h;
}

/* SHA-1 of input into digest; with a hasher, through its reused context. */
static bool sha1(const struct community_id_hasher *h, const uint8_t *input, size_t len,
                 unsigned char *digest, unsigned int *digest_len) {
    if (!h)
        return EVP_Digest(input, len, digest, digest_len, EVP_sha1(), NULL) == 1;
    return EVP_DigestInit_ex2(h->ctx, h->sha1, NULL) == 1 &&
           EVP_DigestUpdate(h->ctx, input, len) == 1 &&
           EVP_DigestFinal_ex(h->ctx, digest, digest_len) == 1;
}

bool community_id_v1(const struct community_id_hasher *h, const struct community_id_tuple *t,
                     uint16_t seed, char out[COMMUNITY_ID_LEN]) {
    out[0] = '\0';
    if (t->ip_version != 4 && t->ip_version != 6)
        return false;

    struct cid_fields f;
    community_id_fields(t, &f);
    uint8_t input[INPUT_MAX];
    size_t len = community_id_input(&f, t->proto, seed, input);

    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    if (!sha1(h, input, len, digest, &digest_len) || digest_len != SHA1_LEN)
        return false;

    /* 20 bytes -> 28 base64 chars + NUL, right after the "1:" prefix: 31 bytes in all. */
    memcpy(out, "1:", 2);
    EVP_EncodeBlock((unsigned char *)out + 2, digest, SHA1_LEN);
    return true;
}
