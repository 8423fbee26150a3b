/* flowtext: addresses and names of a flow. IPv4 addresses are written by hand (glibc's
 * inet_ntop formats them with sprintf, and every record has two). */
#include "flowtext.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "timefmt.h"

static void format_ipv4(char *buf, size_t len, const uint8_t *a) {
    char tmp[16], digits[TIMEFMT_U64_LEN];
    size_t k = 0;
    for (int i = 0; i < 4; i++) {
        size_t n = timefmt_u64(digits, a[i]);
        memcpy(tmp + k, digits, n);
        k += n;
        tmp[k++] = i < 3 ? '.' : '\0';
    }
    if (len >= k)
        memcpy(buf, tmp, k);
    else if (len >= 2)
        memcpy(buf, "?", 2); /* as for an address inet_ntop cannot write */
    else if (len)
        buf[0] = '\0';
}

void flowtext_addr(char *buf, size_t len, const uint8_t *addr, uint8_t ip_version) {
    if (ip_version == 4) {
        format_ipv4(buf, len, addr);
        return;
    }
    if (!inet_ntop(AF_INET6, addr, buf, (socklen_t)len))
        snprintf(buf, len, "?");
}

const char *flowtext_proto(uint8_t proto, uint8_t ip_version) {
    switch (proto) {
    case 6:
        return "tcp";
    case 17:
        return "udp";
    case 1:
        return "icmp";
    case 58:
        return ip_version == 6 ? "icmpv6" : "icmp";
    default:
        return "other";
    }
}

const char *flowtext_direction(int dir) {
    return dir == 0 ? "orig" : "resp";
}
