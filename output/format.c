/* format: the table of output formats, each defined in a file of its own. */
#include "format.h"

#include <stdio.h>
#include <string.h>

extern const struct format_ops output_format_json, output_format_text, output_format_zeek,
    output_format_zeek_json, output_format_eve, output_format_ecs;

/* One row per format (-F name): the record writers, in the file named. */
static const struct format_ops *const formats[] = {
    &output_format_json,      /* format_json.c: shakedown's own records */
    &output_format_text,      /* format_text.c: the terminal table */
    &output_format_zeek,      /* format_zeek.c: Zeek conn.log, TSV */
    &output_format_zeek_json, /* format_zeek.c: Zeek conn.log, JSON */
    &output_format_eve,       /* format_eve.c: Suricata EVE */
    &output_format_ecs,       /* format_ecs.c: Elastic Common Schema */
};

const struct format_ops *output_format_find(const char *name) {
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (strcmp(formats[i]->name, name) == 0)
            return formats[i];
    return NULL;
}

void output_format_names(char *buf, size_t len, const char *sep) {
    size_t k = 0;
    if (len)
        buf[0] = '\0';
    for (size_t i = 0; i < sizeof formats / sizeof formats[0] && k < len; i++) {
        int n = snprintf(buf + k, len - k, "%s%s", i ? sep : "", formats[i]->name);
        if (n < 0)
            return;
        k += (size_t)n;
    }
}
