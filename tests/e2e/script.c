/* script: the capture file of a scripted end-to-end test (see script.h). */
#include "script.h"

#include <criterion/criterion.h>
#include <stdio.h>

#include "pktbuild.h"
#include "run.h"

void cap_open(struct cap *c, const char *name) {
    snprintf(c->path, sizeof c->path, "%s", tmp_path(name));
    c->w = capwrite_open(c->path, CAPWRITE_PCAP_USEC, pb_linktype(PB_LINK_ETHERNET), 65535);
    cr_assert(c->w, "cannot write %s", c->path);
    c->clock.now_ns = (uint64_t)T0;
    c->clock.step_ns = (uint64_t)STEP;
    c->frames = 0;
}

void cap_close(struct cap *c) {
    cr_assert(capwrite_close(c->w), "writing %s failed", c->path);
}

void cap_at(struct cap *c, int64_t ns) {
    c->clock.now_ns = (uint64_t)ns;
}
