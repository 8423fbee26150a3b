/* script: the capture file an end-to-end test scripts connections into with the generator's
 * sessions (tests/gen/session.h): a pcap (Ethernet, µs timestamps) and the clock its sessions
 * share, starting at T0 with STEP between frames; the ISNs the scripted client and server use. */
#ifndef SHAKEDOWN_E2E_SCRIPT_H
#define SHAKEDOWN_E2E_SCRIPT_H

#include <stdint.h>

#include "capwrite.h"
#include "session.h"

#define T0 INT64_C(1704067200000000000) /* 2024-01-01T00:00:00Z */
#define STEP INT64_C(10000000)          /* 10 ms between frames */
#define SEC INT64_C(1000000000)

#define CISN 0x10000000u
#define SISN 0x20000000u

struct cap {
    char path[256];
    struct capwrite *w;
    struct session_clock clock;
    int64_t frames; /* frames written so far, for tests that count them (0 after cap_open) */
};

/* Opens tmp_path(name) for writing, the clock at T0. */
void cap_open(struct cap *c, const char *name);
void cap_close(struct cap *c);

/* Sets the time of the next frame. */
void cap_at(struct cap *c, int64_t ns);

#endif
