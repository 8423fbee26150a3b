/* timefmt: timestamps and counters as text — ISO 8601 UTC with microseconds, epoch seconds,
 * decimal integers — without printf on the per-record path. */
#ifndef SHAKEDOWN_TIMEFMT_H
#define SHAKEDOWN_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#define TIMEFMT_ISO_LEN 40

/* Writes e.g. "2024-01-01T00:00:00.000000Z" into buf (at least TIMEFMT_ISO_LEN bytes). */
void timefmt_iso8601(char *buf, size_t len, int64_t sec, uint32_t nsec);

/* Writes epoch seconds with microseconds, e.g. "1704067200.010000". */
void timefmt_epoch(char *buf, size_t len, int64_t sec, uint32_t nsec);

#define TIMEFMT_U64_LEN 21 /* 20 digits and a NUL */

/* Writes v in decimal; returns the number of digits. */
size_t timefmt_u64(char out[TIMEFMT_U64_LEN], uint64_t v);

/* Splits nanoseconds since the epoch into seconds and nanoseconds (floor, also before 1970). */
void timefmt_split(int64_t ns, int64_t *sec, uint32_t *nsec);

/* timefmt_iso8601 and timefmt_epoch of a time (or a duration) in nanoseconds since the epoch:
 * timefmt_split, then format. */
void timefmt_iso8601_ns(char *buf, size_t len, int64_t ns);
void timefmt_epoch_ns(char *buf, size_t len, int64_t ns);

#endif
