/* checksum_policy: what --checksums does with a packet whose checksum is not right — and, for the
 * default `auto`, the per-source fallback for senders whose offloaded checksums are not the
 * recognisable partial sum: a bounded table of sources, allocated once, no allocation per packet,
 * one for the run even when several capture threads judge its packets.
 */
#ifndef SHAKEDOWN_CHECKSUM_POLICY_H
#define SHAKEDOWN_CHECKSUM_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "packet.h"

/* --checksums MODE. */
enum checksum_mode {
    /* Verify. Offloaded checksums (the pseudo-header partial sum a sending host leaves for its
     * NIC) are analysed; any other mismatch is left out of the analysis — unless its source turns
     * out to be offloading in another way (below), when its packets are analysed from then on. */
    CHECKSUM_MODE_AUTO,
    CHECKSUM_MODE_DROP, /* verify; leave out every packet not verified good, offloaded too (Zeek) */
    CHECKSUM_MODE_KEEP, /* verify and count, but analyse every packet */
    CHECKSUM_MODE_OFF,  /* do not verify */
};

/* The auto rule, per source address: when more than CHECKSUM_POLICY_BAD_MAX (10 %) of its first
 * CHECKSUM_POLICY_WINDOW checksummed packets (verified good, bad or offloaded) are bad, the
 * source is taken as offloading from the packet that crosses the line: that packet and all later
 * ones from it are analysed; the bad ones before it stay left out (as with Suricata's
 * checksum-validation: auto, but per source, so that a host capture does not switch
 * verification off for the traffic the host received). Bad packets after a source's first
 * CHECKSUM_POLICY_WINDOW are left out without counting toward it. */
#define CHECKSUM_POLICY_WINDOW 1000
#define CHECKSUM_POLICY_BAD_MAX 100

/* Sources tracked at once (the table `auto` allocates) and how far from its hash position a
 * source is looked for. A source finds a free entry there, or reuses one whose window ended
 * without the source offloading (that source starts a new window if seen again). When neither
 * exists (the table is full of sources still in their window, or offloading ones), the new source
 * is not tracked: its bad packets are left out, as in `drop`, and counted as untracked. */
#define CHECKSUM_POLICY_SOURCES 65536
#define CHECKSUM_POLICY_PROBE 16

enum checksum_verdict {
    CHECKSUM_VERDICT_ANALYSE,
    CHECKSUM_VERDICT_DROP,     /* leave the packet out of the analysis */
    CHECKSUM_VERDICT_SWITCHED, /* analyse: this packet made its source an offloading one */
};

/* What a source had counted when it was switched to offloading. */
struct checksum_source_counts {
    uint32_t checked, bad;
};

struct checksum_policy;

/* A policy for mode; `auto` allocates a table of `sources` entries (at least 1). NULL if that
 * allocation fails. Only one thread may judge with it (but see checksum_policy_new_thread). */
struct checksum_policy *checksum_policy_new(enum checksum_mode mode, uint32_t sources);

/* For one of several threads judging the packets of one run (--workers on a live interface): a
 * policy of run's mode that judges each source in run's table, under run's lock, so that the rule
 * holds for the run as a whole — each source counted once, switched to offloading (and said)
 * once, its first 100 bad packets left out, not 100 per thread. A source whose verdict is decided
 * (offloading, or its window over) is remembered in this policy's own table of `sources` entries
 * and judged from there without the lock. run outlives it; untracked packets are run's. */
struct checksum_policy *checksum_policy_new_thread(struct checksum_policy *run, uint32_t sources);
void checksum_policy_free(struct checksum_policy *cp);

/* Whether --checksums makes the dissectors verify checksums at all. */
bool checksum_mode_verifies(enum checksum_mode mode);

/* The verdict for one decoded packet whose checksums came to cs (BAD if any layer was bad, else
 * OFFLOADED if any was offloaded, else GOOD if any verified, else UNVERIFIED). On
 * CHECKSUM_VERDICT_SWITCHED, *counts (if not NULL) receives the source's counts. */
enum checksum_verdict checksum_policy_judge(struct checksum_policy *cp, const struct packet *p,
                                            enum checksum_state cs,
                                            struct checksum_source_counts *counts);

/* Packets of sources the full table could not track; sources tracked now; bytes allocated (of a
 * thread's policy: its own table, whose entries repeat the run's). */
uint64_t checksum_policy_untracked(const struct checksum_policy *cp);
uint32_t checksum_policy_sources(const struct checksum_policy *cp);
size_t checksum_policy_memory(const struct checksum_policy *cp);

#endif
