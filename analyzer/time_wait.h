/* time_wait: the memory of closed TCP connections. A connection that closed (and was reported)
 * leaves a compact record for TIME_WAIT (2×MSL) and then as long again, so that its late packets
 * are recognised as its own — during TIME_WAIT or after it — and a new SYN on its ports is known
 * to reuse them. A bounded table: when full, the oldest record is forgotten. Capture time. */
#ifndef SHAKEDOWN_TIME_WAIT_H
#define SHAKEDOWN_TIME_WAIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "anomaly.h"
#include "conn.h"
#include "packet.h"

struct time_wait;
struct flow_table;

/* Remembers up to capacity closed connections; time_wait_ns is TIME_WAIT (2×MSL). NULL if
 * allocation fails. */
struct time_wait *time_wait_new(uint32_t capacity, int64_t time_wait_ns);
void time_wait_free(struct time_wait *tw);

/* Bytes allocated (fixed at time_wait_new); what time_wait_new(capacity) would allocate; and the
 * bytes of it in use (see flow_table_memory_used). */
size_t time_wait_memory(const struct time_wait *tw);
size_t time_wait_memory_for(uint32_t capacity);
size_t time_wait_memory_used(const struct time_wait *tw);

/* Keys are hashed as table hashes them (flow_table_hash_as): the caller's hash of a key for its
 * own table serves this one too. Right after time_wait_new. */
void time_wait_hash_as(struct time_wait *tw, const struct flow_table *table);

/* A key's hash, as every call below takes it. */
uint64_t time_wait_hash(const struct time_wait *tw, const struct flow_key *k);

/* Remembers c, a TCP connection that closed at close_ns and was reported (c->end set), in place
 * of any earlier record on its key (whose hash is hash). Copies what it needs: c may be freed
 * afterwards. */
void time_wait_remember(struct time_wait *tw, const struct conn *c, uint64_t hash,
                        int64_t close_ns);

/* Starts loading what a time_wait_offer or time_wait_remember of a key with that hash will look
 * at, ahead of time (a hint: nothing changes): stage 0 the hash bucket, stage 1 (some time
 * later, once the bucket has come) the record it leads to. */
void time_wait_prefetch(const struct time_wait *tw, uint64_t hash, int stage);

/* Capture time moved on to now_ns: records leave TIME_WAIT time_wait_ns after their close and are
 * forgotten after twice that. */
void time_wait_expire(struct time_wait *tw, int64_t now_ns);

/* Forgets every record. */
void time_wait_clear(struct time_wait *tw);

/* What a packet turned out to be for the closed connection on its key. All false when there was
 * none. */
struct time_wait_match {
    bool claimed;      /* a late packet of the closed connection: counted, tracked no further */
    bool raised;       /* the packet showed `anomaly` ... */
    bool first;        /* ... for the first time in its direction: the moment for an event */
    bool port_reuse;   /* a SYN on the ports of the closed connection: a new one starts */
    bool in_time_wait; /* the closed connection was still in TIME_WAIT */
    enum anomaly anomaly;
    int dir; /* the packet's direction in the closed connection: 0 from its originator */
    /* The closed connection: how it ended (enum conn_end), and what names it, as it was named
     * while it was live. */
    uint8_t end;
    uint8_t orig_side;
    uint64_t serial; /* its first frame (the uid source, conn.h) */
    int64_t first_ns, close_ns;
};

/* Offers packet p, sent by key side `side`, to the closed connection on key k (hash: its hash),
 * if any.
 * A TCP packet inside its old sequence space, not a SYN, is a late packet of it. During TIME_WAIT
 * it is claimed, and flagged — data_after_rst if it carries data after a RST close, else
 * packet_during_time_wait unless it only repeats the last steps of a FIN close. After TIME_WAIT
 * it is flagged packet_after_time_wait (not after a RST close) and starts a new connection, as it
 * would on the host, which has forgotten the old one. Any other packet starts a new connection; a
 * SYN among them reuses the ports (port_reuse). Unless the packet was claimed, the record is
 * forgotten: the new connection takes its key. */
void time_wait_offer(struct time_wait *tw, const struct flow_key *k, uint64_t hash,
                     const struct packet *p, int side, struct time_wait_match *m);

#endif
