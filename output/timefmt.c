/* timefmt: ISO 8601 timestamps (UTC, microsecond precision). */
#define _POSIX_C_SOURCE 200809L
#include "timefmt.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void timefmt_iso8601(char *buf, size_t len, int64_t sec, uint32_t nsec) {
    time_t t = (time_t)sec;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(buf, len, "invalid");
        return;
    }
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(nsec / 1000u % 1000000u));
}

size_t timefmt_u64(char out[TIMEFMT_U64_LEN], uint64_t v) {
    char rev[20];
    size_t n = 0;
    do {
        rev[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = rev[n - 1 - i];
    out[n] = '\0';
    return n;
}

/* Every record carries several timestamps: formatted by hand, as printf costs more than the
 * rest of the record's numbers together. */
void timefmt_epoch(char *buf, size_t len, int64_t sec, uint32_t nsec) {
    char tmp[TIMEFMT_U64_LEN + 9];
    uint32_t usec = nsec / 1000u % 1000000u;
    size_t k = 0;
    uint64_t whole = (uint64_t)sec;
    if (sec < 0) { /* −0.5 s is sec −1 + 500000 µs: print it as -0.500000 */
        tmp[k++] = '-';
        whole = (uint64_t)(-(sec + 1));
        if (usec == 0)
            whole++;
        else
            usec = 1000000u - usec;
    }
    k += timefmt_u64(tmp + k, whole);
    tmp[k++] = '.';
    for (int d = 5; d >= 0; d--, usec /= 10u)
        tmp[k + (size_t)d] = (char)('0' + usec % 10u);
    k += 6;
    tmp[k] = '\0';
    if (len == 0)
        return;
    size_t n = k < len ? k : len - 1;
    memcpy(buf, tmp, n);
    buf[n] = '\0';
}

void timefmt_split(int64_t ns, int64_t *sec, uint32_t *nsec) {
    int64_t s = ns / 1000000000;
    int64_t r = ns % 1000000000;
    if (r < 0) {
        r += 1000000000;
        s--;
    }
    *sec = s;
    *nsec = (uint32_t)r;
}
