/* fanout: a live capture with --workers N read through one PACKET_FANOUT group (capture_group):
 * N threads, each with a capture socket of its own and a tracker of the engine's (engine.h,
 * engine_worker_tracker), each running the whole per-packet path itself — read, packet_path's
 * steps, tracker — so that the kernel, not a reading thread, splits the traffic by connection.
 * The run driver's thread keeps the periodic work (stats records, the status line, reopen,
 * rotation, the watchdog) and reads what the threads publish. */
#ifndef SHAKEDOWN_FANOUT_H
#define SHAKEDOWN_FANOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture.h"

#include "checksum_policy.h"
#include "engine.h"
#include "stats.h"

struct fanout_config {
    struct capture_group *group;  /* one thread per socket */
    struct engine *engine;        /* made with as many workers as the group has sockets */
    enum checksum_mode checksums; /* judged by each thread, offloading inferred for the run */
    struct checksum_policy *run_checksums; /* the run's policy (made before any output was
                                            * opened): each thread's judges through it */
    uint32_t shard_index, shard_count;     /* --shard K/N, as packet_path applies it */
    int64_t interim_ns;                    /* --interim; 0: none */
    /* A source --checksums auto took as offloading (counted already), to be said; called from a
     * capture thread, without the output lock held. */
    void (*offload)(void *ctx, const struct packet *p, const struct checksum_source_counts *n);
    void *ctx;
};

/* What the threads had published at their last note (at most FANOUT_NOTE_NS ago), added up. */
struct fanout_view {
    uint64_t packets, bytes; /* read */
    struct checksum_counts checksums[CHECKSUM_LAYER_COUNT];
    bool have_capture; /* every socket's counters were known */
    struct capture_stats capture;
};

#define FANOUT_NOTE_NS 100000000 /* each thread publishes its counts ten times a second */

struct fanout;

/* Starts one thread per socket; NULL (said on err) if memory or a thread cannot be had. */
struct fanout *fanout_start(const struct fanout_config *cfg, char *err, size_t errlen);

/* False once a thread stopped on its own: its capture ended or was damaged (the interface went
 * away); the run then ends. */
bool fanout_running(struct fanout *f);

void fanout_view(struct fanout *f, struct fanout_view *v);

/* When the thread that has gone longest without a note last made one (monotonic clock,
 * capture_mono_ns): each notes ten times a second while packets flow, and at each idle poll of
 * its socket, so a much older time means a thread is stuck (the watchdog stops pinging). */
int64_t fanout_progress_ns(struct fanout *f);

/* Stops every thread's reading and waits for them (their trackers are still open: engine_flush
 * next). Returns false if a capture was damaged, with libpcap's reason in *why. */
bool fanout_stop(struct fanout *f, const char **why);

/* After fanout_stop: every thread's counts merged into stats (stats_merge), packets read into
 * *packets. */
void fanout_account(struct fanout *f, struct run_stats *stats, uint64_t *packets);

void fanout_free(struct fanout *f);

#endif
