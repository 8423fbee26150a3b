/* format: how records are written — the table of output formats. A format turns each kind of
 * record (a connection, an anomaly, a periodic stats snapshot, the run summary) into bytes
 * appended to a buffer; the sink hands those bytes to a transport in one write. A format keeps
 * no state of its own beyond what format_ctx carries, so the same format can serve any number
 * of outputs.
 *
 * Adding a format: one new file defining a `const struct format_ops`, and one row in the
 * table in format.c. */
#ifndef SHAKEDOWN_FORMAT_H
#define SHAKEDOWN_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn.h"
#include "outbuf.h"
#include "stats.h"
#include "tracker.h"

struct community_id_hasher;

/* Choices that shape records, whatever the format. */
struct record_options {
    bool iso_time;              /* timestamps as ISO 8601 strings instead of epoch seconds */
    uint16_t community_id_seed; /* Community ID v1 seed (default 0) */
    const struct community_id_hasher *hasher; /* SHA-1 for it (the sink's; NULL: per call) */
    unsigned text_columns; /* text: the width rows must fit (0: the sink finds it out) */
    bool text_wide;        /* text: every column (--wide), whatever the width */
};

/* What a format writer is given for one record. */
struct format_ctx {
    struct outbuf *out;               /* append the record here, complete with its newline */
    const struct record_options *opt; /* record options */
    bool output_empty;                /* nothing has been written to this output (file) yet */
};

/* One file of a format that writes several logs, as Zeek does (-o DIR: DIR/conn.log and
 * DIR/weird.log): its name in the directory and the format that writes it. */
struct format_log {
    const char *file;
    const struct format_ops *format;
};

struct format_ops {
    const char *name; /* as given to -F */
    /* -o DIR: the log files, ended by a row without a file (NULL: the format writes one stream,
     * and -o DIR is refused). */
    const struct format_log *logs;
    /* A connection that has ended (final) or is still open (interim). */
    void (*connection)(struct format_ctx *f, const struct conn *c, bool final);
    /* An anomaly as it is detected. A format may write nothing for it (text lists connection
     * anomalies under their connection instead). */
    void (*anomaly)(struct format_ctx *f, const struct anomaly_event *ev);
    /* A periodic statistics snapshot (live capture). */
    void (*stats)(struct format_ctx *f, const struct live_stats *ls);
    /* The run summary, the last record; run_seconds is the wall-clock run time. */
    void (*summary)(struct format_ctx *f, const struct run_stats *s,
                    const struct input_report *inputs, size_t ninputs, double run_seconds);
    /* What ends a log file before it is rotated away (Zeek's #close); NULL: nothing. */
    void (*trailer)(struct format_ctx *f);
};

/* The format called name, or NULL. */
const struct format_ops *output_format_find(const char *name);

/* The names of every format, separated by sep, e.g. "json, text" (for help and errors). */
void output_format_names(char *buf, size_t len, const char *sep);

#endif
