/* Tests for timefmt: decimal integers, epoch seconds with microseconds (formatted by hand, so
 * checked against what printf would write) and ISO 8601, including times before 1970. */
#define _POSIX_C_SOURCE 200809L /* gmtime_r */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "timefmt.h"

Test(timefmt, u64_matches_printf) {
    static const uint64_t values[] = {0,         1, 9, 10, 99, 100, 4294967295u, 1000000000000u,
                                      UINT64_MAX};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char got[TIMEFMT_U64_LEN], want[32];
        size_t n = timefmt_u64(got, values[i]);
        snprintf(want, sizeof want, "%" PRIu64, values[i]);
        cr_expect_str_eq(got, want);
        cr_expect_eq(n, strlen(want));
    }
}

/* The digits are counted first and written two at a time from the last: every length from 1 to
 * 20 digits, at both ends (10^k - 1 and 10^k), against printf. */
Test(timefmt, u64_every_digit_count) {
    uint64_t p = 1;
    for (int k = 1; k <= 19; k++) {
        p *= 10;
        const uint64_t around[] = {p - 1, p, p + 1, p * 5 / 10 + 7};
        for (size_t i = 0; i < sizeof around / sizeof around[0]; i++) {
            char got[TIMEFMT_U64_LEN], want[32];
            size_t n = timefmt_u64(got, around[i]);
            snprintf(want, sizeof want, "%" PRIu64, around[i]);
            cr_expect_str_eq(got, want);
            cr_expect_eq(n, strlen(want), "%s", want);
        }
    }
}

static void expect_epoch(int64_t ns, const char *want) {
    int64_t sec;
    uint32_t nsec;
    char got[40];
    timefmt_split(ns, &sec, &nsec);
    timefmt_epoch(got, sizeof got, sec, nsec);
    cr_expect_str_eq(got, want, "%" PRId64 " ns", ns);
}

Test(timefmt, epoch_microseconds) {
    expect_epoch(0, "0.000000");
    expect_epoch(1704067200010000000, "1704067200.010000");
    expect_epoch(1704067200999999999, "1704067200.999999"); /* truncated, not rounded */
    expect_epoch(1000, "0.000001");
}

/* Before 1970 the text is the signed value: −0.5 s is "-0.500000" (sec −1 plus 500000 µs),
 * −1 s exactly is "-1.000000", −1.25 s is "-1.250000". */
Test(timefmt, epoch_before_1970) {
    expect_epoch(-500000000, "-0.500000");
    expect_epoch(-1000000000, "-1.000000");
    expect_epoch(-1250000000, "-1.250000");
    /* −1 ns splits (floor) into −1 s + 999999999 ns; the fraction is cut to 999999 µs, so the
     * value printed is −1 s + 999999 µs = −0.000001 s. */
    expect_epoch(-1, "-0.000001");
}

Test(timefmt, epoch_truncates_to_buffer) {
    char buf[5];
    timefmt_epoch(buf, sizeof buf, 1704067200, 0);
    cr_expect_str_eq(buf, "1704");
}

Test(timefmt, iso8601) {
    char buf[TIMEFMT_ISO_LEN];
    timefmt_iso8601(buf, sizeof buf, 1704067200, 10000000);
    cr_expect_str_eq(buf, "2024-01-01T00:00:00.010000Z");
    timefmt_iso8601(buf, sizeof buf, -1, 500000000);
    cr_expect_str_eq(buf, "1969-12-31T23:59:59.500000Z");
}

/* The hand-written dates agree with gmtime_r for every day from 1970 to 2100 (the range packet
 * times are clamped to) and a few far ones, each at a time of day that moves through the hours,
 * minutes and seconds; leap days (2000-02-29, 2024-02-29) and the non-leap 2100 included. */
Test(timefmt, iso8601_agrees_with_gmtime) {
    char buf[TIMEFMT_ISO_LEN], want[64];
    for (int64_t day = 0; day <= 47847 + 3000000; day += day < 47847 ? 1 : 99991) {
        int64_t sec = day * 86400 + (day * 7919) % 86400;
        time_t t = (time_t)sec;
        struct tm tm;
        cr_assert_not_null(gmtime_r(&t, &tm));
        snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.123456Z", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        timefmt_iso8601(buf, sizeof buf, sec, 123456789);
        cr_assert_str_eq(buf, want, "day %lld", (long long)day);
    }
    timefmt_iso8601(buf, sizeof buf, 951782400, 0); /* 2000-02-29 */
    cr_expect_str_eq(buf, "2000-02-29T00:00:00.000000Z");
    timefmt_iso8601(buf, sizeof buf, 4107456000 + 86400, 999999999); /* 2100 is no leap year */
    cr_expect_str_eq(buf, "2100-03-01T00:00:00.999999Z");
}

/* timefmt_epoch_ns is split-then-format too: a duration of 1.5 ms, and a time after 1970. */
Test(timefmt, epoch_from_nanoseconds) {
    char buf[TIMEFMT_ISO_LEN];
    timefmt_epoch_ns(buf, sizeof buf, 1500000);
    cr_expect_str_eq(buf, "0.001500");
    timefmt_epoch_ns(buf, sizeof buf, 1704067200040000123ll);
    cr_expect_str_eq(buf, "1704067200.040000");
}

/* timefmt_iso8601_ns is split-then-format: a time after 1970 and one before it (floor division:
 * -1 ns is 1969-12-31T23:59:59.999999, the microseconds truncated). */
Test(timefmt, iso8601_from_nanoseconds) {
    char buf[TIMEFMT_ISO_LEN];
    timefmt_iso8601_ns(buf, sizeof buf, 1704067200040000123ll);
    cr_expect_str_eq(buf, "2024-01-01T00:00:00.040000Z");
    timefmt_iso8601_ns(buf, sizeof buf, -1);
    cr_expect_str_eq(buf, "1969-12-31T23:59:59.999999Z");
}
