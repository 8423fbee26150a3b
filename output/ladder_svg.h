/* ladder_svg: one connection's ladder diagram as a standalone SVG file (--ladder-svg DIR) — the
 * originator's and the responder's lifelines with the capture point between them, each segment an
 * arrow through the capture point at the time it was captured, the far endpoint's times marked as
 * inferred, states beside the lifelines, anomalies in red, a time scale at the side. Also the
 * rows both ladder renderers (text and SVG) draw from. */
#ifndef SHAKEDOWN_LADDER_SVG_H
#define SHAKEDOWN_LADDER_SVG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "anomaly.h"
#include "conn.h"
#include "flowtext.h"

enum ladder_row_kind {
    LADDER_ROW_SEGMENT, /* one captured segment */
    LADDER_ROW_FOLD,    /* a run of plain segments drawn as one row */
};

#define LADDER_LABEL_MAX 72

/* One row of a ladder. */
struct ladder_row {
    int64_t ts_ns; /* capture time (a fold: of its first segment) */
    anomaly_set raised;
    uint32_t payload;
    uint8_t kind;     /* enum ladder_row_kind */
    uint8_t dir;      /* 0: originator → responder */
    uint8_t state[2]; /* enum tcp_state of both endpoints after the segment */
    uint8_t changed;  /* bit r: endpoint r's state changed on this row (first row: both) */
    char label[LADDER_LABEL_MAX]; /* "SYN+ACK seq 0 ack 1 len 0"; a fold: what it stands for */
    uint64_t fold_segments, fold_bytes[2];
    int64_t fold_span_ns; /* from the row above the fold to the row below it */
};

/* A connection as drawn: its rows and what the header and footer say. */
struct ladder_view {
    char uid[CONN_UID_LEN];
    char ends[2][FLOWTEXT_ADDR_LEN + 16]; /* "192.0.2.1:80", "[2001:db8::1]:443" */
    int64_t first_ns;
    const struct ladder_row *rows;
    size_t nrows;
    uint64_t segments, left_out; /* all segments; those not kept (row limit) */
    const char *end;             /* close reason (conn_end_name) */
    anomaly_set end_raised;      /* the connection's anomalies no drawn row shows: those judged at
                                    its end (syn_unanswered, data_unacked, ...) */
    uint8_t final_state[2];
    /* The handshake as captured (0: not seen): where the capture point sits between the two. */
    int64_t syn_to_synack_ns, synack_to_ack_ns;
};

/* Writes v to path, created with mode (0: 0640) or truncated, through safe_open.h (a symlink
 * planted in a sticky directory is not followed); false (and why in err) if the file cannot be
 * written. */
bool ladder_svg_write(const struct ladder_view *v, const char *path, unsigned mode, char *err,
                      size_t errlen);

#endif
