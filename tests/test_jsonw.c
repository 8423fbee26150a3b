/* Tests for jsonw, the streaming JSON writer: everything it writes is read back with json-c
 * (strict mode, UTF-8 validated) and compared with what was written — strings with every ASCII
 * byte and control character, invalid UTF-8 (each bad byte becomes U+FFFD), nesting and
 * separators, integers up to 2^64-1, numbers given as text. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"

/* Parses buf (len bytes) strictly; fails the test if it is not exactly one JSON value. */
static struct json_object *parse_strict(const char *buf, size_t len) {
    struct json_tokener *tok = json_tokener_new();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    struct json_object *o = json_tokener_parse_ex(tok, buf, (int)len);
    cr_assert_not_null(o, "not JSON: %.*s", (int)len, buf);
    cr_assert_eq(json_tokener_get_error(tok), json_tokener_success);
    cr_assert_eq(json_tokener_get_parse_end(tok), len, "trailing bytes in %.*s", (int)len, buf);
    json_tokener_free(tok);
    return o;
}

/* Writes s as a JSON string and returns what json-c reads back (caller frees). */
static char *round_trip(const char *s) {
    struct outbuf b = {0};
    jsonw_escape(&b, s);
    cr_assert(!outbuf_failed(&b));
    for (size_t i = 0; i < b.len; i++)
        cr_assert((unsigned char)b.data[i] >= 0x20, "raw control byte 0x%02x written",
                  (unsigned char)b.data[i]);
    struct json_object *o = parse_strict(b.data, b.len);
    cr_assert(json_object_is_type(o, json_type_string));
    char *back = strdup(json_object_get_string(o));
    json_object_put(o);
    outbuf_free(&b);
    return back;
}

static void expect_round_trip(const char *in, const char *want) {
    char *back = round_trip(in);
    cr_expect_str_eq(back, want);
    free(back);
}

Test(jsonw, every_ascii_byte_reads_back_unchanged) {
    char s[128];
    for (int c = 1; c < 128; c++)
        s[c - 1] = (char)c;
    s[127] = '\0';
    expect_round_trip(s, s);
}

Test(jsonw, control_characters_use_short_escapes_where_json_has_them) {
    struct outbuf b = {0};
    jsonw_escape(&b, "a\"b\\c\n\r\t\b\f\x01\x1f");
    /* JSON's two-character escapes for " \ \n \r \t \b \f, \u00XX for the rest. */
    const char want[] = "\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f\"";
    cr_expect_eq(b.len, strlen(want));
    cr_expect(memcmp(b.data, want, b.len) == 0, "%.*s", (int)b.len, b.data);
    outbuf_free(&b);
}

Test(jsonw, valid_utf8_is_kept) {
    const char *s =
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf"; /* é € 😀 U+10FFFF */
    expect_round_trip(s, s);
}

/* Each of these is not valid UTF-8 (RFC 3629): every byte that does not start a valid sequence
 * becomes one U+FFFD, and the following bytes are looked at afresh. */
Test(jsonw, invalid_utf8_becomes_replacement_characters) {
#define FFFD "\xef\xbf\xbd"
    expect_round_trip("a\x80z", "a" FFFD "z");                     /* lone continuation */
    expect_round_trip("\xc0\x80", FFFD FFFD);                      /* overlong NUL */
    expect_round_trip("\xe0\x80\xaf", FFFD FFFD FFFD);             /* overlong '/' */
    expect_round_trip("\xed\xa0\x80", FFFD FFFD FFFD);             /* surrogate U+D800 */
    expect_round_trip("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD);    /* beyond U+10FFFF */
    expect_round_trip("\xf5\xff", FFFD FFFD);                      /* never valid bytes */
    expect_round_trip("\xe2\x82", FFFD FFFD);                      /* cut short at the end */
    expect_round_trip("\xe2\x82z\xc3\xa9", FFFD FFFD "z\xc3\xa9"); /* cut short, then valid */
#undef FFFD
}

/* Random byte strings (fixed seed): whatever the bytes, the output is valid strict JSON whose
 * ASCII characters are those of the input, in order. */
Test(jsonw, random_bytes_always_make_valid_json) {
    srand(12345);
    for (int round = 0; round < 2000; round++) {
        char s[64];
        size_t n = (size_t)(rand() % 63);
        for (size_t i = 0; i < n; i++)
            s[i] = (char)(1 + rand() % 255);
        s[n] = '\0';
        char *back = round_trip(s);
        char want_ascii[64], got_ascii[256];
        size_t a = 0, g = 0;
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)s[i] < 0x80)
                want_ascii[a++] = s[i];
        for (size_t i = 0; back[i]; i++)
            if ((unsigned char)back[i] < 0x80)
                got_ascii[g++] = back[i];
        cr_assert_eq(a, g);
        cr_assert(memcmp(want_ascii, got_ascii, a) == 0);
        free(back);
    }
}

Test(jsonw, nesting_and_separators) {
    struct outbuf b = {0};
    struct jsonw w;
    jsonw_start(&w, &b);
    jsonw_object_begin(&w, NULL);
    jsonw_string(&w, "type", "connection");
    jsonw_u64(&w, "max", UINT64_MAX);
    jsonw_bool(&w, "yes", true);
    jsonw_bool(&w, "no", false);
    jsonw_number_text(&w, "ts", "1704067200.010000");
    jsonw_array_begin(&w, "empty");
    jsonw_array_end(&w);
    jsonw_array_begin(&w, "list");
    jsonw_u64(&w, NULL, 1);
    jsonw_object_begin(&w, NULL);
    jsonw_object_begin(&w, "inner");
    jsonw_object_end(&w);
    jsonw_string(&w, "k", "v");
    jsonw_object_end(&w);
    jsonw_u64(&w, NULL, 3);
    jsonw_array_end(&w);
    jsonw_object_begin(&w, "last");
    jsonw_object_end(&w);
    jsonw_object_end(&w);
    cr_assert(!outbuf_failed(&b));
    struct json_object *o = parse_strict(b.data, b.len), *v;
    cr_assert(json_object_object_get_ex(o, "max", &v));
    cr_expect_eq(json_object_get_uint64(v), UINT64_MAX);
    cr_assert(json_object_object_get_ex(o, "ts", &v));
    /* json-c keeps a parsed number's text: it is exactly what was given */
    cr_expect_str_eq(json_object_to_json_string(v), "1704067200.010000");
    cr_assert(json_object_object_get_ex(o, "yes", &v));
    cr_expect(json_object_get_boolean(v));
    cr_assert(json_object_object_get_ex(o, "empty", &v));
    cr_expect_eq(json_object_array_length(v), 0);
    cr_assert(json_object_object_get_ex(o, "list", &v));
    cr_assert_eq(json_object_array_length(v), 3);
    cr_expect_eq(json_object_get_int(json_object_array_get_idx(v, 2)), 3);
    struct json_object *k;
    cr_assert(json_object_object_get_ex(json_object_array_get_idx(v, 1), "k", &k));
    cr_expect_str_eq(json_object_get_string(k), "v");
    cr_expect_eq(json_object_object_length(o), 8);
    /* compact, as json-c's plain mode writes it: no spaces */
    cr_expect(memchr(b.data, ' ', b.len) == NULL);
    json_object_put(o);
    outbuf_free(&b);
}

Test(jsonw, buffer_grows_and_is_reused) {
    struct outbuf b = {0};
    char big[20000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    jsonw_escape(&b, big);
    cr_expect_eq(b.len, sizeof big + 1); /* the string and two quotes */
    size_t cap = b.cap;
    outbuf_reset(&b);
    jsonw_escape(&b, "short");
    cr_expect_eq(b.cap, cap, "a reset keeps the memory");
    cr_expect_eq(b.len, 7);
    outbuf_free(&b);
}

Test(jsonw, outbuf_printf_grows) {
    struct outbuf b = {0};
    for (int i = 0; i < 1000; i++)
        outbuf_printf(&b, "%04d,", i);
    cr_assert_eq(b.len, 5000);
    cr_expect(memcmp(b.data + 4995, "0999,", 5) == 0);
    outbuf_free(&b);
}
