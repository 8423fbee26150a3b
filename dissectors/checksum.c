/* checksum: RFC 1071 Internet checksum, shared by the IPv4, TCP, UDP, ICMP and ICMPv6 dissectors,
 * and the recognition of a transport checksum a sending host left for its NIC to fill in. */
#include "checksum.h"

uint64_t checksum_add(uint64_t sum, const uint8_t *data, size_t len) {
    size_t i = 0;
    for (; i + 1 < len; i += 2)
        sum += (uint64_t)((data[i] << 8) | data[i + 1]);
    if (i < len)
        sum += (uint64_t)(data[i] << 8);
    return sum;
}

uint16_t checksum_fold(uint64_t sum) {
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

uint16_t checksum_finish(uint64_t sum) {
    return (uint16_t)~checksum_fold(sum);
}

enum checksum_state checksum_transport(uint64_t pseudo, const uint8_t *data, size_t len,
                                       uint16_t field) {
    if (checksum_finish(checksum_add(pseudo, data, len)) == 0)
        return CHECKSUM_GOOD;
    /* Only when the full sum failed: two compares, no second pass over the bytes. */
    uint16_t partial = checksum_fold(pseudo), complemented = (uint16_t)~partial;
    if (field == partial || field == complemented)
        return CHECKSUM_OFFLOADED;
    return CHECKSUM_BAD;
}

uint64_t checksum_pseudo_sum(const uint8_t *src, const uint8_t *dst, size_t addr_len,
                             uint8_t proto) {
    return checksum_add(checksum_add(0, src, addr_len), dst, addr_len) + proto;
}
