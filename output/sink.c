/* sink: writes each record as soon as it exists, in the chosen format; a failed write is
 * reported once and counted, and writing goes on. */
#include "sink.h"

#include <errno.h>
#include <string.h>

#include "json.h"
#include "text.h"

void sink_init(struct sink *s, FILE *out, enum sink_format format,
               const struct record_options *record) {
    memset(s, 0, sizeof *s);
    s->out = out;
    s->format = format;
    s->record = *record;
}

static void sink_check(struct sink *s, bool ok) {
    if (ok)
        return;
    s->lost_records++;
    if (!s->failed)
        fprintf(stderr, "shakedown: cannot write output: %s\n", strerror(errno));
    s->failed = true;
}

static void sink_json(struct sink *s, struct json_object *rec) {
    sink_check(s, json_write_record(s->out, rec));
    json_object_put(rec);
}

void sink_connection(struct sink *s, const struct conn *c) {
    if (s->format == SINK_JSON) {
        sink_json(s, record_connection(c, &s->record));
        return;
    }
    if (!s->header_written) {
        text_write_connection_header(s->out);
        s->header_written = true;
    }
    text_write_connection(s->out, c);
    sink_check(s, !ferror(s->out));
}

void sink_anomaly(struct sink *s, const struct anomaly_event *ev) {
    if (s->format == SINK_JSON) {
        sink_json(s, record_anomaly(ev, &s->record));
        return;
    }
    if (ev->key)
        return;
    text_write_host_anomaly(s->out, ev);
    sink_check(s, !ferror(s->out));
}

void sink_summary(struct sink *s, const struct run_stats *st, const struct input_report *inputs,
                  size_t ninputs, double run_seconds) {
    if (s->format == SINK_JSON) {
        sink_json(s, record_summary(st, inputs, ninputs, run_seconds, &s->record));
        return;
    }
    text_write_summary(s->out, st, inputs, ninputs);
    sink_check(s, fflush(s->out) == 0 && !ferror(s->out));
}
