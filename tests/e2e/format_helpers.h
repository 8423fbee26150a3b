/* format_helpers: what the tests of -F eve and -F ecs share — the formats that carry shakedown's
 * own fields in an object of their own (`shakedown`): a capture of one connection whose endpoint
 * metrics are worked out from its frames, and the expectations on them; and, for those and -F
 * zeek, a capture of UDP and ICMP flows whose payload bytes are known. */
#ifndef SHAKEDOWN_E2E_FORMAT_HELPERS_H
#define SHAKEDOWN_E2E_FORMAT_HELPERS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

/* Writes the capture (format_helpers.c says its frames) and returns its path. */
const char *metrics_capture(void);

/* Expectations on its connection's metrics, the originator's under the dotted path orig
 * ("shakedown.orig_metrics"), the responder's under resp. */
void expect_capture_metrics(struct json_object *doc, const char *orig, const char *resp);

/* The datagram capture (format_helpers.c says its frames and works out its counts): three UDP
 * and ICMP flows with payload both ways, and a lone datagram. */
const char *datagram_capture(void);

/* Expectations on out, the run's records one per line: each flow of the datagram capture has one
 * record — found by its responder's address at resp_ip (a key, or a dotted path) — with its payload
 * bytes at the paths orig and resp; with lone_unset, a lone packet's record has neither (Zeek's
 * orig_bytes and resp_bytes, unset when the duration is 0). Records without resp_ip (stats,
 * summary) are skipped. */
void expect_datagram_payload(const char *out, const char *resp_ip, const char *orig,
                             const char *resp, bool lone_unset);

#endif
