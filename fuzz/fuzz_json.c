/* fuzz_json: the read-back checks the fuzz targets share (see fuzz_json.h). */
#include "fuzz_json.h"

#include <stdlib.h>
#include <string.h>

struct json_object *fuzz_json_line(const char *s, size_t len) {
    if (len < 2 || s[len - 1] != '\n' || memchr(s, '\n', len - 1) || memchr(s, '\0', len) ||
        len > INT32_MAX)
        abort();
    struct json_tokener *tok = json_tokener_new();
    if (!tok)
        abort();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    struct json_object *back = json_tokener_parse_ex(tok, s, (int)(len - 1));
    if (!back || json_tokener_get_error(tok) != json_tokener_success ||
        json_tokener_get_parse_end(tok) != len - 1 || !json_object_is_type(back, json_type_object))
        abort();
    json_tokener_free(tok);
    return back;
}

struct json_object *fuzz_json_get(struct json_object *o, const char *path, json_type t) {
    char key[64];
    while (o) {
        size_t n = strcspn(path, ".");
        if (n >= sizeof key)
            abort();
        memcpy(key, path, n);
        key[n] = '\0';
        if (json_object_is_type(o, json_type_array)) /* an element by its index */
            o = json_object_array_get_idx(o, (size_t)strtoul(key, NULL, 10));
        else if (!json_object_object_get_ex(o, key, &o))
            abort();
        if (!path[n])
            break;
        path += n + 1;
    }
    if (!o || !json_object_is_type(o, t))
        abort();
    return o;
}

void fuzz_expect_str(struct json_object *o, const char *path, const char *want) {
    if (strcmp(json_object_get_string(fuzz_json_get(o, path, json_type_string)), want) != 0)
        abort();
}

void fuzz_expect_u64(struct json_object *o, const char *path, uint64_t want) {
    if (json_object_get_uint64(fuzz_json_get(o, path, json_type_int)) != want)
        abort();
}

void fuzz_expect_bool(struct json_object *o, const char *path, bool want) {
    if (json_object_get_boolean(fuzz_json_get(o, path, json_type_boolean)) != want)
        abort();
}

uint64_t fuzz_json_u64_in(struct json_object *o, const char *path, uint64_t min, uint64_t max) {
    struct json_object *v = fuzz_json_get(o, path, json_type_int);
    if (json_object_get_int64(v) < 0) /* json-c holds a negative number as int64 */
        abort();
    uint64_t u = json_object_get_uint64(v);
    if (u < min || u > max)
        abort();
    return u;
}
