/* community_id: Community ID v1 flow hashes (corelight community-id-spec), computed with libcrypto.
 * One call per connection: endpoint ordering, ICMP port equivalents and the seed are handled here,
 * so the caller passes the flow as its originator saw it. */
#ifndef SHAKEDOWN_COMMUNITY_ID_H
#define SHAKEDOWN_COMMUNITY_ID_H

#include <stdbool.h>
#include <stdint.h>

#define COMMUNITY_ID_LEN 31 /* "1:" + 28 base64 chars + NUL */

struct community_id_tuple {
    uint8_t ip_version;       /* 4 or 6 */
    const uint8_t *src, *dst; /* 4 or 16 bytes, network order, as the flow's originator sees it */
    uint8_t proto;            /* IP protocol number */
    uint16_t sport, dport;    /* host order; for ICMP/ICMPv6: sport = type, dport = code (the module
                                 maps to the spec's port equivalents itself) */
};

/* libcrypto's SHA-1, fetched once: OpenSSL 3 otherwise looks the algorithm up (under a lock)
 * on every hash. One hasher can be used by several threads at once. */
struct community_id_hasher;
struct community_id_hasher *community_id_hasher_new(void); /* NULL if SHA-1 is unavailable */
void community_id_hasher_free(struct community_id_hasher *h);

/* Writes "1:<base64>" into out (COMMUNITY_ID_LEN bytes). Returns false only if hashing fails
 * (or ip_version is neither 4 nor 6, a caller bug); out is then the empty string, which the spec
 * allows as "no ID". h may be NULL (SHA-1 is then looked up for this call). Ports are ignored for
 * protocols other than TCP, UDP, SCTP, ICMP, ICMPv6. */
bool community_id_v1(const struct community_id_hasher *h, const struct community_id_tuple *t,
                     uint16_t seed, char out[COMMUNITY_ID_LEN]);

#endif
