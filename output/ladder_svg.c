/* ladder_svg: a ladder as SVG. Three vertical lines: the originator's lifeline on the left, the
 * responder's on the right, and the capture point between them — the only place times are
 * known. Each row sits at the height of its capture time's row (rows in capture order, the time
 * scale at the left gives each one's time); an arrow crosses the capture point there, its part
 * on the near side drawn solid and its part on the far side dashed, ending in a hollow dot: when
 * the far endpoint sent or received it is inferred, not seen (tcptrace says as much of its own
 * ladder). Which side is near comes from the handshake as captured: a capture point next to the
 * client sees the client's ACK follow the SYN/ACK at once, so the SYN/ACK-to-ACK time is the
 * shorter one. */
#include "ladder_svg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "safe_open.h"
#include "tcp_conn.h"

#define SVG_WIDTH 960
#define LEFT_X 250.0  /* originator's lifeline */
#define RIGHT_X 800.0 /* responder's lifeline */
#define TOP_Y 130.0   /* first row */
#define ROW_H 48.0
#define SLOPE 14.0 /* how far an arrow drops across the whole width: time flows down */
#define NEAR_SHARE 0.22

/* Writes s with XML's special characters escaped. */
static void xml_text(FILE *f, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '&':
            fputs("&amp;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

/* Where the capture point sits, and which endpoint is near it: -1 unknown (the middle). */
static int near_side(const struct ladder_view *v) {
    if (!v->syn_to_synack_ns || !v->synack_to_ack_ns || v->syn_to_synack_ns == v->synack_to_ack_ns)
        return -1;
    return v->synack_to_ack_ns < v->syn_to_synack_ns ? 0 : 1;
}

static double capture_x(int near) {
    if (near < 0)
        return (LEFT_X + RIGHT_X) / 2;
    double span = RIGHT_X - LEFT_X;
    return near == 0 ? LEFT_X + NEAR_SHARE * span : RIGHT_X - NEAR_SHARE * span;
}

static void header(FILE *f, const struct ladder_view *v, double height, double cx) {
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%.0f\" "
            "viewBox=\"0 0 %d %.0f\" font-family=\"monospace\" font-size=\"12\">\n",
            SVG_WIDTH, height, SVG_WIDTH, height);
    fputs("<title>", f);
    xml_text(f, v->uid);
    fputs("</title>\n<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n", f);
    fprintf(f, "<text x=\"20\" y=\"24\" font-size=\"15\" font-weight=\"bold\">%s  tcp  ", v->uid);
    xml_text(f, v->ends[0]);
    fputs(" -&gt; ", f);
    xml_text(f, v->ends[1]);
    fputs("</text>\n", f);
    fputs("<text x=\"20\" y=\"44\" fill=\"#555\">Rows in capture order at the time the capture "
          "point saw them (scale at the left, seconds since the first packet).</text>\n"
          "<text x=\"20\" y=\"60\" fill=\"#555\">Solid: between the capture point and the near "
          "endpoint. Dashed, hollow end: the far endpoint's times are inferred, not seen.</text>\n",
          f);
    double bottom = height - 50;
    fprintf(f, "<text x=\"%.0f\" y=\"92\" text-anchor=\"middle\" font-weight=\"bold\">", LEFT_X);
    xml_text(f, v->ends[0]);
    fprintf(f, "</text>\n<text x=\"%.0f\" y=\"92\" text-anchor=\"middle\" font-weight=\"bold\">",
            RIGHT_X);
    xml_text(f, v->ends[1]);
    fprintf(f,
            "</text>\n<text x=\"%.0f\" y=\"76\" text-anchor=\"middle\" fill=\"#0a6\">capture "
            "point</text>\n",
            cx);
    fprintf(f,
            "<line x1=\"%.0f\" y1=\"100\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#222\" "
            "stroke-width=\"2\"/>\n<line x1=\"%.0f\" y1=\"100\" x2=\"%.0f\" y2=\"%.0f\" "
            "stroke=\"#222\" stroke-width=\"2\"/>\n<line x1=\"%.1f\" y1=\"100\" x2=\"%.1f\" "
            "y2=\"%.0f\" stroke=\"#0a6\" stroke-dasharray=\"2 4\"/>\n",
            LEFT_X, LEFT_X, bottom, RIGHT_X, RIGHT_X, bottom, cx, cx, bottom);
    fprintf(f, "<line x1=\"100\" y1=\"100\" x2=\"100\" y2=\"%.0f\" stroke=\"#999\"/>\n", bottom);
}

/* The state of endpoint r beside its lifeline, where it changed. */
static void state_text(FILE *f, const struct ladder_row *row, int r, double y) {
    if (!(row->changed & (1u << r)))
        return;
    double x = r == 0 ? LEFT_X - 8 : RIGHT_X + 8;
    fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"%s\" fill=\"#070\">%s</text>\n", x, y + 4,
            r == 0 ? "end" : "start", tcp_state_name((enum tcp_state)row->state[r]));
}

/* The time scale's tick and label of a row. */
static void time_tick(FILE *f, const struct ladder_view *v, const struct ladder_row *row,
                      double y) {
    fprintf(f,
            "<line x1=\"96\" y1=\"%.1f\" x2=\"104\" y2=\"%.1f\" stroke=\"#999\"/>\n<text "
            "x=\"92\" y=\"%.1f\" text-anchor=\"end\" fill=\"#555\">%.6f</text>\n",
            y, y, y + 4, (double)(row->ts_ns - v->first_ns) / 1e9);
}

/* Is the part of an arrow between the capture point and endpoint r inferred? Yes on the far
 * side, and on both when it is unknown which side is near. */
static bool inferred(int r, int near) {
    return near < 0 || r != near;
}

static void arrow_part(FILE *f, double x1, double y1, double x2, double y2, const char *colour,
                       bool dashed) {
    fprintf(f,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
            "stroke-width=\"1.5\"%s/>\n",
            x1, y1, x2, y2, colour, dashed ? " stroke-dasharray=\"5 4\"" : "");
    if (dashed) /* the inferred end */
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"#fff\" stroke=\"%s\"/>\n",
                x1 == LEFT_X || x1 == RIGHT_X ? x1 : x2, x1 == LEFT_X || x1 == RIGHT_X ? y1 : y2,
                colour);
}

/* A segment: sender → capture point → receiver, the inferred parts dashed. */
static void segment(FILE *f, const struct ladder_row *row, double y, double cx, int near) {
    double from = row->dir == 0 ? LEFT_X : RIGHT_X, to = row->dir == 0 ? RIGHT_X : LEFT_X;
    double span = RIGHT_X - LEFT_X;
    double y_from = y - SLOPE * (cx > from ? cx - from : from - cx) / span;
    double y_to = y + SLOPE * (cx > to ? cx - to : to - cx) / span;
    const char *colour = row->raised ? "#c00" : "#123";
    arrow_part(f, from, y_from, cx, y, colour, inferred(row->dir, near));
    arrow_part(f, cx, y, to, y_to, colour, inferred(!row->dir, near));
    double head = row->dir == 0 ? -8 : 8;
    fprintf(f, "<path d=\"M%.1f %.1f l%.1f -4 l0 8 z\" fill=\"%s\"/>\n", to, y_to, head, colour);
    fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", cx, y, colour);
    /* the label above both parts of the arrow, wherever the capture point is */
    fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"%s\">",
            (LEFT_X + RIGHT_X) / 2, y - SLOPE - 3, colour);
    xml_text(f, row->label);
    fputs("</text>\n", f);
    if (!row->raised)
        return;
    fprintf(f,
            "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#c00\" "
            "font-size=\"11\">! ",
            (LEFT_X + RIGHT_X) / 2, y + SLOPE + 4);
    for (anomaly_set s = row->raised; s; s &= s - 1)
        fprintf(f, "%s%s", anomaly_name((enum anomaly)__builtin_ctz(s)), s & (s - 1) ? ", " : "");
    fputs("</text>\n", f);
}

static void fold(FILE *f, const struct ladder_row *row, double y) {
    fprintf(f,
            "<rect x=\"%.0f\" y=\"%.1f\" width=\"%.0f\" height=\"18\" fill=\"#eee\" "
            "stroke=\"#bbb\" stroke-dasharray=\"3 3\"/>\n<text x=\"%.0f\" y=\"%.1f\" "
            "text-anchor=\"middle\" fill=\"#555\">",
            LEFT_X, y - 9, RIGHT_X - LEFT_X, (LEFT_X + RIGHT_X) / 2, y + 4);
    xml_text(f, row->label);
    fputs("</text>\n", f);
}

static void footer(FILE *f, const struct ladder_view *v, double y) {
    fprintf(f, "<text x=\"20\" y=\"%.0f\">end: %s, %llu segments%s; orig %s, resp %s</text>\n", y,
            v->end, (unsigned long long)v->segments,
            v->left_out ? " (the last ones not drawn: row limit)" : "",
            tcp_state_name((enum tcp_state)v->final_state[0]),
            tcp_state_name((enum tcp_state)v->final_state[1]));
    if (v->end_raised) { /* judged when the connection ended */
        fprintf(f, "<text x=\"20\" y=\"%.0f\" fill=\"#c00\">! at the end:", y + 16);
        for (anomaly_set s = v->end_raised; s; s &= s - 1)
            fprintf(f, "%s %s", s == v->end_raised ? "" : ",",
                    anomaly_name((enum anomaly)__builtin_ctz(s)));
        fputs("</text>\n", f);
    }
    fputs("</svg>\n", f);
}

bool ladder_svg_write(const struct ladder_view *v, const char *path, unsigned mode, char *err,
                      size_t errlen) {
    FILE *f = safe_open_stream(path, O_TRUNC, mode, err, errlen);
    if (!f)
        return false;
    int near = near_side(v);
    double cx = capture_x(near);
    double height = TOP_Y + ROW_H * (double)v->nrows + 60 + (v->end_raised ? 16 : 0);
    header(f, v, height, cx);
    for (size_t i = 0; i < v->nrows; i++) {
        const struct ladder_row *row = &v->rows[i];
        double y = TOP_Y + ROW_H * (double)i;
        time_tick(f, v, row, y);
        if (row->kind == LADDER_ROW_FOLD) {
            fold(f, row, y);
            continue;
        }
        state_text(f, row, 0, y);
        state_text(f, row, 1, y);
        segment(f, row, y, cx, near);
    }
    footer(f, v, height - 20 - (v->end_raised ? 16 : 0));
    bool ok = !ferror(f);
    if (fclose(f) != 0)
        ok = false;
    if (!ok)
        snprintf(err, errlen, "%s", strerror(errno ? errno : EIO));
    return ok;
}
