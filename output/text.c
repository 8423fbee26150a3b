/* text: the terminal report. Plain aligned columns; only non-zero rows are listed. */
#include "text.h"

#include <inttypes.h>

#include "packet.h"
#include "timefmt.h"

static void text_counter(FILE *out, const char *name, const struct counter *c) {
    if (c->packets)
        fprintf(out, "  %-22s %12" PRIu64 " packets %14" PRIu64 " bytes\n", name, c->packets,
                c->bytes);
}

static void text_inputs(FILE *out, const struct input_report *in, size_t n) {
    fprintf(out, "Inputs\n");
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "  %s: %s", in[i].path, input_status_name(in[i].status));
        if (in[i].link >= 0)
            fprintf(out, ", %s%s, %" PRIu64 " packets", in[i].link_name,
                    in[i].link_supported ? "" : " (unsupported)", in[i].packets);
        if (in[i].status != INPUT_OK)
            fprintf(out, " — %s", in[i].message);
        fputc('\n', out);
    }
}

static void text_protocols(FILE *out, const struct run_stats *s) {
    fprintf(out, "Link layer\n");
    for (unsigned i = 0; i < s->nlinks; i++) {
        const char *name = link_type_name(s->link[i].link);
        text_counter(out, name ? name : "unsupported", &s->link[i].count);
    }
    text_counter(out, "unsupported", &s->link_other);
    fprintf(out, "Network layer\n");
    for (unsigned i = NET_NONE + 1; i < NET_COUNT; i++)
        text_counter(out, net_proto_name((enum net_proto)i), &s->net[i]);
    fprintf(out, "Transport layer\n");
    for (unsigned i = TRANSPORT_NONE + 1; i < TRANSPORT_COUNT; i++)
        text_counter(out, transport_proto_name((enum transport_proto)i), &s->transport[i]);
}

static void text_problems(FILE *out, const struct run_stats *s) {
    fprintf(out, "Decode errors\n");
    if (stats_decode_error_total(s) == 0)
        fprintf(out, "  none\n");
    for (unsigned i = DECODE_OK + 1; i < DECODE_STATUS_COUNT; i++)
        if (s->decode_errors[i])
            fprintf(out, "  %-22s %12" PRIu64 "\n", decode_status_name((enum decode_status)i),
                    s->decode_errors[i]);
    fprintf(out, "Checksums\n");
    for (unsigned i = 0; i < CHECKSUM_LAYER_COUNT; i++)
        if (s->checksum_good[i] || s->checksum_bad[i])
            fprintf(out, "  %-22s %12" PRIu64 " good %12" PRIu64 " bad\n",
                    checksum_layer_name((enum checksum_layer)i), s->checksum_good[i],
                    s->checksum_bad[i]);
}

void text_write_summary(FILE *out, const struct run_stats *s, const struct input_report *inputs,
                        size_t ninputs) {
    text_inputs(out, inputs, ninputs);
    fprintf(out, "Packets\n");
    fprintf(out, "  %-22s %12" PRIu64 " (%" PRIu64 " bytes)\n", "read", s->read.packets,
            s->read.bytes);
    fprintf(out, "  %-22s %12" PRIu64 "\n", "filtered out", s->filtered);
    fprintf(out, "  %-22s %12" PRIu64 "\n", "analysed", s->analysed);
    fprintf(out, "  %-22s %12" PRIu64 "\n", "bad checksum, dropped", s->checksum_dropped);
    fprintf(out, "  %-22s %12" PRIu64 "\n", "not decoded", stats_decode_error_total(s));
    if (s->truncated)
        fprintf(out, "  %-22s %12" PRIu64 "\n", "truncated (snaplen)", s->truncated);
    if (s->have_ts) {
        char a[TIMEFMT_ISO_LEN], b[TIMEFMT_ISO_LEN];
        timefmt_iso8601(a, sizeof a, s->first_sec, s->first_nsec);
        timefmt_iso8601(b, sizeof b, s->last_sec, s->last_nsec);
        fprintf(out, "  %-22s %s .. %s\n", "time", a, b);
    }
    text_protocols(out, s);
    text_problems(out, s);
}
