/* json: NDJSON writer. Each record is serialised plain (no pretty-printing, no escaped slashes)
 * and flushed together with its newline, so a reader tailing the output sees whole lines. */
#include "json.h"

#include <string.h>

bool json_write_record(FILE *out, struct json_object *rec) {
    size_t len;
    const char *s = json_object_to_json_string_length(
        rec, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    if (!s)
        return false;
    bool ok = fwrite(s, 1, len, out) == len && fputc('\n', out) != EOF;
    return fflush(out) == 0 && ok;
}
