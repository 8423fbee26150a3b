/* checksum: RFC 1071 Internet checksum, shared by the IPv4, TCP, UDP, ICMP and ICMPv6 dissectors.
 */
#include "checksum.h"

uint64_t checksum_add(uint64_t sum, const uint8_t *data, size_t len) {
    size_t i = 0;
    for (; i + 1 < len; i += 2)
        sum += (uint64_t)((data[i] << 8) | data[i + 1]);
    if (i < len)
        sum += (uint64_t)(data[i] << 8);
    return sum;
}

uint16_t checksum_finish(uint64_t sum) {
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}
