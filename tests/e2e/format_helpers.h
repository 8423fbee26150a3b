/* format_helpers: what the tests of -F eve and -F ecs share — the formats that carry shakedown's
 * own fields in an object of their own (`shakedown`): a capture of one connection whose endpoint
 * metrics are worked out from its frames, and the expectations on them. */
#ifndef SHAKEDOWN_E2E_FORMAT_HELPERS_H
#define SHAKEDOWN_E2E_FORMAT_HELPERS_H

#include <json-c/json.h>

/* Writes the capture (format_helpers.c says its frames) and returns its path. */
const char *metrics_capture(void);

/* Expectations on its connection's metrics, the originator's under the dotted path orig
 * ("shakedown.orig_metrics"), the responder's under resp. */
void expect_capture_metrics(struct json_object *doc, const char *orig, const char *resp);

#endif
