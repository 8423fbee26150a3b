/* timefmt: ISO 8601 timestamps (UTC, microsecond precision). */
#define _POSIX_C_SOURCE 200809L
#include "timefmt.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* The date of day z (days since 1970-01-01), proleptic Gregorian: H. Hinnant's civil_from_days
 * (http://howardhinnant.github.io/date_algorithms.html), for days from 1970 on. */
static void civil_from_days(uint64_t z, unsigned *y, unsigned *m, unsigned *d) {
    z += 719468; /* days from 0000-03-01 */
    uint64_t era = z / 146097;
    unsigned doe = (unsigned)(z - era * 146097);                          /* [0, 146096] */
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    unsigned mp = (5 * doy + 2) / 153;                                    /* March is 0 */
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (unsigned)(era * 400 + yoe) + (*m <= 2);
}

static char *put_digits(char *p, unsigned v, int n) {
    for (int i = n - 1; i >= 0; i--, v /= 10u)
        p[i] = (char)('0' + v % 10u);
    return p + n;
}

/* Each record carries up to three of them: written by hand (gmtime_r and snprintf cost more than
 * the rest of an ECS or EVE record), for 1970 to 9999; other times through gmtime_r. */
void timefmt_iso8601(char *buf, size_t len, int64_t sec, uint32_t nsec) {
    unsigned usec = (unsigned)(nsec / 1000u % 1000000u);
    if (sec >= 0 && sec < INT64_C(253402300800) && len >= 28) { /* before year 10000 */
        unsigned y, mo, d, s = (unsigned)((uint64_t)sec % 86400u);
        civil_from_days((uint64_t)sec / 86400u, &y, &mo, &d);
        char *p = put_digits(buf, y, 4);
        *p++ = '-';
        p = put_digits(p, mo, 2);
        *p++ = '-';
        p = put_digits(p, d, 2);
        *p++ = 'T';
        p = put_digits(p, s / 3600u, 2);
        *p++ = ':';
        p = put_digits(p, s / 60u % 60u, 2);
        *p++ = ':';
        p = put_digits(p, s % 60u, 2);
        *p++ = '.';
        p = put_digits(p, usec, 6);
        *p++ = 'Z';
        *p = '\0';
        return;
    }
    time_t t = (time_t)sec;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(buf, len, "invalid");
        return;
    }
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, usec);
}

/* Two digits at a time from a table of "00" to "99", written from the last: half the divisions
 * of one digit at a time, and no reversal (records are mostly numbers). */
static const char digit_pairs[] = "00010203040506070809101112131415161718192021222324252627282930"
                                  "31323334353637383940414243444546474849505152535455565758596061"
                                  "6263646566676869707172737475767778798081828384858687888990919293"
                                  "949596979899";

static size_t decimal_digits(uint64_t v) {
    size_t n = 1;
    for (uint64_t limit = 10; v >= limit && n < 20; limit *= 10)
        n++;
    return n;
}

size_t timefmt_u64(char out[TIMEFMT_U64_LEN], uint64_t v) {
    size_t n = decimal_digits(v);
    char *p = out + n;
    *p = '\0';
    while (v >= 100) {
        size_t pair = (size_t)(v % 100u) * 2;
        v /= 100u;
        p -= 2;
        p[0] = digit_pairs[pair];
        p[1] = digit_pairs[pair + 1];
    }
    if (v >= 10) {
        p[-2] = digit_pairs[v * 2];
        p[-1] = digit_pairs[v * 2 + 1];
    } else {
        p[-1] = (char)('0' + v);
    }
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

void timefmt_iso8601_ns(char *buf, size_t len, int64_t ns) {
    int64_t sec;
    uint32_t nsec;
    timefmt_split(ns, &sec, &nsec);
    timefmt_iso8601(buf, len, sec, nsec);
}

void timefmt_epoch_ns(char *buf, size_t len, int64_t ns) {
    int64_t sec;
    uint32_t nsec;
    timefmt_split(ns, &sec, &nsec);
    timefmt_epoch(buf, len, sec, nsec);
}
