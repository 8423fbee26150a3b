/* fuzz_dissect: packet_decode() on one frame of any link type shakedown supports. Input: a link
 * selector byte (fuzz_link), a wire-length byte (fuzz_wirelen), then the captured frame. Each
 * frame is decoded with checksum verification on and off, and the two views are checked against
 * each other and against the frame's bounds. Owns nothing beyond the call. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "packet.h"
#include "stats.h"

/* Decodes frame with verification on or off into *p (zeroed first, so whole structs compare). */
static enum decode_status decode(struct packet *p, const uint8_t *frame, uint32_t caplen,
                                 uint8_t link_sel, uint8_t wire, bool verify) {
    memset(p, 0, sizeof *p);
    p->frame = 1;
    p->ts_sec = 1704067200;
    p->caplen = caplen;
    p->wirelen = fuzz_wirelen(caplen, wire);
    p->link = fuzz_link(link_sel);
    struct decode_options opt = {.verify_checksums = verify};
    return packet_decode(p, frame, &opt);
}

/* What a decoded view promises whatever the bytes: it stays inside the captured frame, and
 * names every enum it holds. Aborts (a crash for libFuzzer) when a promise is broken. */
static void check_view(const struct packet *p, const uint8_t *frame, enum decode_status st) {
    if (!decode_status_name(st) || !net_proto_name(p->net) || !transport_proto_name(p->transport) ||
        !link_kind_name(link_kind_of(p->link)))
        abort();
    if (st != DECODE_OK)
        return;
    if (p->payload_captured > p->caplen || p->payload_captured > p->payload_len)
        abort();
    if (p->payload_captured > 0 &&
        (p->payload < frame || p->payload + p->payload_captured > frame + p->caplen))
        abort();
    if (p->transport == TRANSPORT_FRAGMENT && !p->fragment)
        abort();
    if (p->ip_version != 0 && p->ip_version != 4 && p->ip_version != 6)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2 || size - 2 > UINT32_MAX)
        return 0;
    /* The frame is the tail of the input, so a read past its end is a read past the input
     * buffer, which AddressSanitizer reports. */
    const uint8_t *frame = data + 2;
    uint32_t caplen = (uint32_t)(size - 2);

    struct packet checked, unchecked;
    enum decode_status st = decode(&checked, frame, caplen, data[0], data[1], true);
    enum decode_status st2 = decode(&unchecked, frame, caplen, data[0], data[1], false);
    check_view(&checked, frame, st);
    check_view(&unchecked, frame, st2);

    /* Verification only adds checksum verdicts: the status and every other field agree. */
    if (st != st2 || unchecked.ip_checksum != CHECKSUM_UNVERIFIED ||
        unchecked.l4_checksum != CHECKSUM_UNVERIFIED)
        abort();
    unchecked.ip_checksum = checked.ip_checksum;
    unchecked.l4_checksum = checked.l4_checksum;
    if (memcmp(&checked, &unchecked, sizeof checked) != 0)
        abort();

    /* The summary's accounting: a decode failure is counted by its reason, a decoded packet is
     * left to the caller (analysed or checksum_dropped). */
    struct run_stats stats;
    memset(&stats, 0, sizeof stats);
    stats_count_read(&stats, &checked);
    stats_count_decoded(&stats, &checked, st);
    if (stats_accounted(&stats) != (st != DECODE_OK ? 1u : 0u))
        abort();
    return 0;
}
