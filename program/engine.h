/* engine: the analysis stage as the run driver sees it. With one worker (the default) it is one
 * tracker, on the reading thread. With --workers N it is N trackers, each on a thread of its own:
 * every packet goes to all of them through one bounded ring; each analyses the connections of
 * its share (tracker_worker_of) and only moves its clock with the others' packets (tracker_pass),
 * so each connection expires at the packet it would in one tracker and every connection and
 * anomaly record is the one a single tracker writes (in another order). The trackers share one
 * table of host counters (syn_flood, port_scan) under a lock, and their records leave through the
 * callbacks one at a time. With one tracker reading files, packets pass through a short delay
 * line so their flow-table entries are loaded before they are analysed (engine.c). */
#ifndef SHAKEDOWN_ENGINE_H
#define SHAKEDOWN_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "packet.h"
#include "tracker.h"

#define ENGINE_MAX_WORKERS 64

struct engine_config {
    struct tracker_config tracker; /* each worker's */
    unsigned workers;              /* 1 (or 0): one tracker on the caller's thread */
    /* Where records go; with workers, called from their threads, one call at a time. */
    tracker_report_fn report;
    tracker_anomaly_fn anomaly;
    tracker_report_fn interim;
    tracker_segment_fn segment; /* NULL: none (tracker_set_segment_hook) */
    void *ctx;
};

struct engine;

/* NULL if memory for the tables (or a thread) cannot be had. */
struct engine *engine_new(const struct engine_config *cfg);
/* Stops the workers (after engine_flush, or without: what they had not reported is lost). */
void engine_free(struct engine *e);

/* Whether the packets come from a regular file from now on, where the next ones are always at
 * hand (default: no). Then packets may wait a little before they are analysed: in the delay line
 * of one tracker, in a batch for the workers. Else (live, a pipe) each goes on at once, so its
 * records are not held back for packets that may be long in coming. */
void engine_set_input_at_hand(struct engine *e, bool at_hand);

/* A packet for the analysis (bad_checksum: as tracker_on_packet). With the input at hand, it is
 * analysed a few packets later (its records come then), or at the next call of any other engine
 * function; its payload bytes are never read. */
void engine_packet(struct engine *e, const struct packet *p, bool bad_checksum);
/* A packet of another --shard: its time only (tracker_pass). */
void engine_pass(struct engine *e, const struct packet *p);
/* One tracker: tracker_prefetch. Workers: nothing (they are on other cores). */
void engine_prefetch(struct engine *e, const struct packet *p);

/* tracker_advance, tracker_now and tracker_interim (records through cfg->interim). */
void engine_advance(struct engine *e, int64_t now_ns);
int64_t engine_now(struct engine *e);
void engine_interim(struct engine *e, int64_t interval_ns);

/* Returns once every packet handed over has been analysed (and its records handed on). */
void engine_sync(struct engine *e);

/* tracker_flush on every tracker, then the shared host aggregates end; returns when every record
 * has been handed to the callbacks. */
void engine_flush(struct engine *e, enum conn_end why);

/* Keeps the workers from handing records on (hold true) until released, so that the caller may
 * use the output itself (stats records, reopen, rotation); nothing with one tracker. Take the
 * engine's counts and memory before, not while holding it. */
void engine_hold_output(struct engine *e, bool hold);

/* The trackers' counts added up (as of the packets each has taken so far; exact after
 * engine_flush). peak_open is the sum of each tracker's peak: at least the real peak. */
void engine_counts(struct engine *e, struct tracker_counts *out);

/* tracker_memory and tracker_memory_used over all trackers and the shared host table. */
size_t engine_memory(struct engine *e);
size_t engine_memory_used(struct engine *e);

/* ---- trackers driven by threads of the caller's (fanout.c: a live capture with --workers, one
 * capture socket per thread) ------------------------------------------------------------------
 * An engine made with workers ≥ 2 into which no packet or order is ever put: its N trackers share
 * the host table, and their records leave through the callbacks one at a time, as above; its
 * worker threads sleep on the empty ring. Thread i of the caller's feeds tracker i (and only that
 * thread touches it) until engine_flush, which the engine's own workers then do as for a file:
 * the caller's threads must have stopped by then. engine_counts, engine_memory_used,
 * engine_hold_output work as above. */
struct tracker *engine_worker_tracker(struct engine *e, unsigned i);

/* From thread i: tracker_interim on tracker i, its records through the engine's interim callback
 * (one at a time, as every record). */
void engine_worker_interim(struct engine *e, unsigned i, int64_t interval_ns);

/* From thread i, now and then: tracker i's counts, memory and time copied for engine_counts and
 * engine_memory_used, and the host aggregates that ended before the time every started tracker
 * has reached closed (a tracker that has had no packet yet holds none back). */
void engine_worker_note(struct engine *e, unsigned i);

#endif
