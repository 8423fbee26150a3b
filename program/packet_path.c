/* packet_path: the per-packet steps before the tracker (packet_path.h), moved here unchanged
 * from the reading loop of analyze.c so that fanout.c's capture threads take the same ones. */
#include "packet_path.h"

#include "tracker.h"

/* Packet times a capture file can hold that are not times: before 1970 (libpcap reads a pcap
 * seconds field of 0xffffffff as -1), after 2100 (a 64-bit pcapng timestamp can reach 2554,
 * where nanoseconds since 1970 overflow 64 bits), or a fraction of a second of a second or more.
 * They are brought into [1970, 2100] — carried, then clamped — and counted, so every later time
 * computation stays in range and every record's timestamps are valid. */
#define PACKET_TIME_MAX_SEC INT64_C(4102444800) /* 2100-01-01T00:00:00Z */

static bool packet_time_sane(int64_t sec, uint32_t nsec, int64_t *out_sec, uint32_t *out_nsec) {
    bool sane = nsec < 1000000000u && sec >= 0 && sec < PACKET_TIME_MAX_SEC;
    if (nsec >= 1000000000u && sec >= 0 && sec < PACKET_TIME_MAX_SEC) {
        sec += nsec / 1000000000u;
        nsec %= 1000000000u;
    }
    if (sec < 0) {
        sec = 0;
        nsec = 0;
    } else if (sec >= PACKET_TIME_MAX_SEC) {
        sec = PACKET_TIME_MAX_SEC;
        nsec = 0;
    }
    *out_sec = sec;
    *out_nsec = nsec;
    return sane;
}

bool packet_path_decode(struct packet_path *pp, const struct capture_packet *cp, int link,
                        bool filtered, struct packet *p, enum decode_status *st) {
    p->frame = pp->next_frame;
    pp->next_frame += pp->frame_step;
    if (!packet_time_sane(cp->ts_sec, cp->ts_nsec, &p->ts_sec, &p->ts_nsec))
        stats_count_bad_timestamp(pp->stats);
    p->caplen = cp->caplen;
    p->wirelen = cp->wirelen;
    p->link = link;
    stats_count_read(pp->stats, p);
    if (filtered) {
        stats_count_filtered(pp->stats);
        return false;
    }
    *st = packet_decode(p, cp->data, &pp->decode);
    return true;
}

enum packet_fate packet_path_judge(struct packet_path *pp, const struct packet *p,
                                   enum decode_status st) {
    enum checksum_state cs = stats_count_decoded(pp->stats, p, st);
    if (st != DECODE_OK)
        return PACKET_FATE_NONE;
    struct checksum_source_counts counts;
    enum checksum_verdict v = checksum_policy_judge(pp->checksums, p, cs, &counts);
    /* --shard: another share's packet is decoded and judged as every share does (so the per-source
     * checksum inference sees what a single run sees), then only moves capture time on as it
     * would in a single run, so that this share's connections expire exactly then. */
    bool mine = pp->shard_count <= 1 || tracker_shard_of(p, pp->shard_count) == pp->shard_index;
    if (v == CHECKSUM_VERDICT_DROP) {
        stats_count_checksum_dropped(pp->stats);
        return mine ? PACKET_FATE_BAD_CHECKSUM : PACKET_FATE_PASS;
    }
    if (v == CHECKSUM_VERDICT_SWITCHED) {
        pp->say_offload(pp->ctx, p, &counts);
        stats_note_offload_source(pp->stats, p);
    }
    if (!mine) {
        stats_count_other_shard(pp->stats);
        return PACKET_FATE_PASS;
    }
    stats_count_analysed(pp->stats);
    return PACKET_FATE_ANALYSE;
}
