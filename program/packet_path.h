/* packet_path: the steps every packet takes before the tracker — frame number, time sanity,
 * counting, filter verdict, decode, checksum policy, --shard — in one place, so that the reading
 * thread of a file or single-socket run (analyze.c) and each capture thread of a --workers live
 * run (fanout.c) take exactly the same ones, in the same order. Each thread has its own path
 * (counts, checksum policy): nothing here is shared or locked but what the policy of a --workers
 * thread shares with the run's (checksum_policy_new_thread), and nothing is allocated per
 * packet. */
#ifndef SHAKEDOWN_PACKET_PATH_H
#define SHAKEDOWN_PACKET_PATH_H

#include <stdbool.h>
#include <stdint.h>

#include "capture.h"

#include "checksum_policy.h"
#include "packet.h"
#include "stats.h"

struct packet_path {
    struct run_stats *stats;           /* where this thread counts */
    struct decode_options decode;      /* checksums verified or not */
    struct checksum_policy *checksums; /* --checksums, and auto's per-source table */
    uint32_t shard_index, shard_count; /* --shard K/N (count ≤ 1: every packet is ours) */
    uint64_t next_frame;               /* the frame number the next packet gets */
    uint64_t frame_step;               /* and then the one after it: next_frame + frame_step */
    /* Called when --checksums auto takes p's source as offloading (counted already), with what
     * the source had counted, to say so once. */
    void (*say_offload)(void *ctx, const struct packet *p, const struct checksum_source_counts *n);
    void *ctx;
};

/* What became of a packet, and so what the tracker is to do with it. */
enum packet_fate {
    PACKET_FATE_NONE,         /* filtered out or not decoded: the tracker never sees it */
    PACKET_FATE_ANALYSE,      /* tracker_on_packet */
    PACKET_FATE_BAD_CHECKSUM, /* tracker_on_packet with bad_checksum (it only marks history) */
    PACKET_FATE_PASS,         /* another --shard's: tracker_pass (its time only) */
};

/* The first steps: frame number and time (clamped and counted when they cannot be a time),
 * counted as read, then counted as filtered (returns false: nothing more to do) or decoded into
 * *p (returns true, *st the decoder's verdict, for packet_path_judge). Between the two the caller
 * may start loading the packet's flow-table bucket (tracker_prefetch) while the counting and
 * checksum judging run. */
bool packet_path_decode(struct packet_path *pp, const struct capture_packet *cp, int link,
                        bool filtered, struct packet *p, enum decode_status *st);

/* The last steps: the decoded packet counted by protocol (or its decode failure by reason), then
 * the checksum policy's verdict and the share, each counted. A packet that made its source an
 * offloading one is listed in the summary and said (say_offload) before it goes on. */
enum packet_fate packet_path_judge(struct packet_path *pp, const struct packet *p,
                                   enum decode_status st);

#endif
