/* timefmt: ISO 8601 timestamps (UTC, microsecond precision). */
#define _POSIX_C_SOURCE 200809L
#include "timefmt.h"

#include <stdio.h>
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

void timefmt_epoch(char *buf, size_t len, int64_t sec, uint32_t nsec) {
    uint32_t usec = nsec / 1000u % 1000000u;
    if (sec < 0 && usec > 0) /* −0.5 s is sec −1 + 500000 µs: print it as -0.500000 */
        snprintf(buf, len, "-%lld.%06u", (long long)(-(sec + 1)), (unsigned)(1000000u - usec));
    else
        snprintf(buf, len, "%lld.%06u", (long long)sec, (unsigned)usec);
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
