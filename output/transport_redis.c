/* transport_redis: records into Redis through hiredis, one record a list element, message or
 * stream entry (its newline stripped):
 *   -o redis://[[USER]:PASSWORD@]HOST:PORT/KEY[?mode=list|lpush|publish|xadd[&maxlen=N]
 *      [&password=PASSWORD][&user=USER]]
 * With a password, every connection starts with AUTH [USER] PASSWORD (Redis 6 ACL users, or
 * requirepass); the password never appears in a message (the target is shown with *** for it).
 * list (rpush): RPUSH KEY record (the default; consumers that pop from the left, Logstash's and
 * Filebeat's BLPOP, take the oldest first); lpush: LPUSH KEY record (Suricata's list mode, for
 * consumers that pop from the right: FEVER's and Suricata's own RPOP readers); publish (channel):
 * PUBLISH KEY record; xadd (stream): XADD KEY MAXLEN ~ N * record RECORD, N 100000 unless
 * maxlen= says otherwise (maxlen=0: no limit), so that a stream nobody trims cannot fill the
 * server's memory. The names in parentheses are Suricata's (eve-log redis mode), accepted too;
 * Suricata's "list" is LPUSH, shakedown's RPUSH (as Logstash's redis output).
 *
 * Records are pipelined in batches: commands are queued and their replies read together, when
 * BATCH records are waiting, when the writer thread has nothing more for now (flush), for stats
 * and summary records, and at close; live also when the batch's first record has waited
 * LIVE_WAIT_MS (a busy writer that is never idle holds no record longer). A batch is kept until
 * every reply is read, so a connection lost on the way is opened again (with backoff) and the
 * unanswered rest is sent again: reading files, shakedown waits for the server and nothing is
 * lost; live, what cannot be sent at once is dropped and counted (transport.lost). A record the
 * server refuses (an error reply: out of memory) is counted lost too; a server still loading
 * its data after a restart (LOADING) is waited for like one that is away. -F zeek's '#' lines (a
 * file's header and #close) are not sent (netout_message).
 *
 * Nothing twice: the unanswered records of a lost connection are in doubt — the server may have
 * executed the first of them (it runs a connection's commands in order) and died, or lost the
 * connection, before answering. On the next connection the key's last entries tell (list:
 * LRANGE at the end it pushes to, stream: XREVRANGE): those of the records in doubt that are there,
 * right after the last record the server acknowledged, are counted delivered and not sent again.
 * The rest is sent again (reading files; live only on a connection opened in the same delivery,
 * else it is dropped and counted: not sent at once). A record can still arrive twice where the key
 * cannot tell: in publish mode, and when a consumer has already taken those entries (LPOP) or
 * another writer has added entries after them — at most the records in doubt, one batch, per lost
 * connection. (A record in doubt that repeats byte for byte the two records before it would be
 * taken as delivered even if it was not; shakedown's records carry a uid or a time stamp.) */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "capture.h" /* capture_mono_ns */
#include "netout.h"
#include "outbuf.h"
#include "transport.h"

enum { BATCH = 256 };

/* Live, the longest a record waits in its batch for the records after it. */
#define LIVE_WAIT_MS 10

/* XADD's MAXLEN ~ N unless the URL's maxlen= says otherwise. */
#define XADD_MAXLEN_DEFAULT "100000"

enum redis_mode { REDIS_LIST, REDIS_LPUSH, REDIS_PUBLISH, REDIS_XADD };

/* The mode= values, shakedown's and Suricata's names (eve-log redis "mode"). */
static const struct {
    const char *name;
    enum redis_mode mode;
} redis_modes[] = {
    {"list", REDIS_LIST},       {"rpush", REDIS_LIST},      {"lpush", REDIS_LPUSH},
    {"publish", REDIS_PUBLISH}, {"channel", REDIS_PUBLISH}, {"xadd", REDIS_XADD},
    {"stream", REDIS_XADD},
};

/* Whether the key is a list (pushed at either end). */
static bool mode_is_list(enum redis_mode m) {
    return m == REDIS_LIST || m == REDIS_LPUSH;
}

struct redis_out {
    struct netout_endpoint ep;
    char user[256], password[256]; /* AUTH (password "": none) */
    char shown[1024];              /* the target as messages show it: the password as *** */
    char key[512];
    enum redis_mode mode;
    char maxlen[24];   /* xadd: MAXLEN ~ this ("": no limit) */
    bool maxlen_given; /* maxlen= was in the URL */
    redisContext *ctx;
    struct outbuf data;    /* the batch's records, back to back */
    size_t off[BATCH + 1]; /* record i is data[off[i], off[i + 1]) */
    size_t n;              /* records in the batch */
    size_t doubt;          /* the batch's first `doubt` records are in doubt (see the top) */
    bool doubt_carried;    /* live: they were left from an earlier delivery (not "at once") */
    struct outbuf last_ok; /* the last record the server acknowledged (len 0: none known) */
    int64_t first_ns;      /* CLOCK_MONOTONIC: when the batch's first record came */
    struct netout_link link;
    bool error_reported; /* an error reply was reported (later ones are only counted) */
};

static bool redis_accepts(const struct transport_options *opt) {
    return opt->path && strncmp(opt->path, "redis://", 8) == 0;
}

/* Percent-decodes len bytes of s into out (URL userinfo and query values: %40 is '@'); false
 * if it does not fit or a %XX is malformed. */
static bool url_decode(char *out, size_t cap, const char *s, size_t len) {
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned v = (unsigned char)s[i];
        if (s[i] == '%') {
            if (i + 2 >= len)
                return false;
            char hex[3] = {s[i + 1], s[i + 2], 0};
            char *end;
            v = (unsigned)strtoul(hex, &end, 16);
            if (*end || !hex[0] || !hex[1])
                return false;
            i += 2;
        }
        if (k + 1 >= cap)
            return false;
        out[k++] = (char)v;
    }
    out[k] = '\0';
    return true;
}

/* The span of the target that holds a password, to be shown as *** (len 0: none). */
struct secret_span {
    size_t off, len;
};

/* One query parameter ("mode=xadd", "maxlen=1000", "password=..."). */
static bool parse_param(struct redis_out *ro, const char *p, size_t len, char *err, size_t errlen) {
    if (len > 5 && memcmp(p, "mode=", 5) == 0) {
        for (size_t i = 0; i < sizeof redis_modes / sizeof redis_modes[0]; i++)
            if (strlen(redis_modes[i].name) == len - 5 &&
                memcmp(p + 5, redis_modes[i].name, len - 5) == 0) {
                ro->mode = redis_modes[i].mode;
                return true;
            }
        snprintf(err, errlen,
                 "'%.*s': the modes are list (or rpush), lpush, publish (or channel) and xadd "
                 "(or stream)",
                 (int)len, p);
        return false;
    }
    if (len > 7 && len - 7 < sizeof ro->maxlen && memcmp(p, "maxlen=", 7) == 0 &&
        strspn(p + 7, "0123456789") >= len - 7) {
        memcpy(ro->maxlen, p + 7, len - 7);
        ro->maxlen[len - 7] = '\0';
        if (strspn(ro->maxlen, "0") == len - 7) /* maxlen=0: no limit */
            ro->maxlen[0] = '\0';
        ro->maxlen_given = true;
    } else if (len > 9 && memcmp(p, "password=", 9) == 0 &&
               url_decode(ro->password, sizeof ro->password, p + 9, len - 9))
        return true;
    else if (len > 5 && memcmp(p, "user=", 5) == 0 &&
             url_decode(ro->user, sizeof ro->user, p + 5, len - 5))
        return true;
    else {
        snprintf(err, errlen,
                 "'%.*s': use mode=list|lpush|publish|xadd, maxlen=N, user=U or password=P",
                 len > 9 && memcmp(p, "password=", 9) == 0 ? 9 : (int)len, p);
        return false;
    }
    return true;
}

/* [USER]:PASSWORD@ before the host; *span: where the password is. */
static bool parse_userinfo(struct redis_out *ro, const char *url, const char *info, size_t len,
                           struct secret_span *span, char *err, size_t errlen) {
    const char *colon = memchr(info, ':', len);
    *span = (struct secret_span){(size_t)(info - url), len}; /* until the password is found */
    if (!colon) {
        snprintf(err, errlen, "use USER:PASSWORD@ or :PASSWORD@ before the host");
        return false;
    }
    size_t ulen = (size_t)(colon - info), plen = len - ulen - 1;
    *span = (struct secret_span){(size_t)(colon + 1 - url), plen};
    if (!url_decode(ro->user, sizeof ro->user, info, ulen) ||
        !url_decode(ro->password, sizeof ro->password, colon + 1, plen) || !plen) {
        snprintf(err, errlen, "a user or password that is empty, too long or badly %%-encoded");
        return false;
    }
    return true;
}

/* ro->shown: the target with each password span replaced by ***. */
static void show_target(struct redis_out *ro, const char *url, const struct secret_span *spans,
                        size_t n) {
    size_t k = 0, from = 0, cap = sizeof ro->shown;
    for (size_t i = 0; i <= n; i++) {
        size_t to = i < n ? spans[i].off : strlen(url);
        int w = snprintf(ro->shown + k, cap - k, "%.*s%s", (int)(to - from), url + from,
                         i < n ? "***" : "");
        if (w < 0 || (size_t)w >= cap - k)
            return;
        k += (size_t)w;
        from = i < n ? spans[i].off + spans[i].len : to;
    }
}

/* redis://[[USER]:PASSWORD@]HOST:PORT/KEY[?PARAM[&PARAM]]; spans: where passwords are (the
 * ones found, also when it fails). */
static bool parse_url(struct redis_out *ro, const char *url, struct secret_span spans[2],
                      size_t *nspans_out, char *err, size_t errlen) {
    const char *hp = url + 8, *slash = strchr(hp, '/');
    size_t nspans = 0;
    *nspans_out = 0;
    if (!slash || !slash[1] || slash[1] == '?') {
        snprintf(err, errlen, "no key: use redis://HOST:PORT/KEY");
        return false;
    }
    const char *at = memchr(hp, '@', (size_t)(slash - hp));
    if (at && !parse_userinfo(ro, url, hp, (size_t)(at - hp), &spans[0], err, errlen)) {
        *nspans_out = 1;
        return false;
    }
    nspans = at ? 1 : 0;
    *nspans_out = nspans;
    if (at)
        hp = at + 1;
    if (!netout_endpoint_parse(&ro->ep, hp, (size_t)(slash - hp), err, errlen))
        return false;
    const char *key = slash + 1, *q = strchr(key, '?');
    size_t keylen = q ? (size_t)(q - key) : strlen(key);
    if (keylen >= sizeof ro->key) {
        snprintf(err, errlen, "the key is too long");
        return false;
    }
    memcpy(ro->key, key, keylen);
    for (const char *p = q ? q + 1 : NULL; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len > 9 && memcmp(p, "password=", 9) == 0 && nspans < 2)
            spans[nspans++] = (struct secret_span){(size_t)(p + 9 - url), len - 9};
        *nspans_out = nspans;
        if (!parse_param(ro, p, len, err, errlen))
            return false;
        p = amp ? amp + 1 : NULL;
    }
    if (ro->maxlen_given && ro->mode != REDIS_XADD) {
        snprintf(err, errlen, "maxlen=N goes with mode=xadd");
        return false;
    }
    if (!ro->maxlen_given && ro->mode == REDIS_XADD)
        strcpy(ro->maxlen, XADD_MAXLEN_DEFAULT);
    if (ro->user[0] && !ro->password[0]) {
        snprintf(err, errlen, "user=U goes with a password");
        return false;
    }
    return true;
}

static bool parse_target(struct redis_out *ro, const char *url, char *err, size_t errlen) {
    struct secret_span spans[2] = {{0, 0}, {0, 0}};
    size_t n;
    bool ok = parse_url(ro, url, spans, &n, err, errlen);
    show_target(ro, url, spans, n);
    return ok;
}

/* AUTH [USER] PASSWORD on a new connection; false with the server's answer in err. */
static bool redis_auth(struct redis_out *ro, char *err, size_t errlen) {
    const char *argv[3] = {"AUTH", ro->user, ro->password};
    int argc = 3;
    if (!ro->user[0]) {
        argv[1] = ro->password;
        argc = 2;
    }
    redisReply *r = redisCommandArgv(ro->ctx, argc, argv, NULL);
    bool ok = r && r->type == REDIS_REPLY_STATUS;
    if (!ok)
        snprintf(err, errlen, "AUTH refused: %s",
                 !r                             ? ro->ctx->errstr
                 : r->type == REDIS_REPLY_ERROR ? r->str
                                                : "no answer");
    if (r)
        freeReplyObject(r);
    return ok;
}

/* A connection into ro->ctx; false with the reason in err. Live, a server that stops answering
 * must not hold the capture up: replies are waited for at most a second. */
static bool redis_connect(struct transport *t, struct redis_out *ro, char *err, size_t errlen) {
    struct timeval tv = {t->opt.live ? 0 : 5, t->opt.live ? 200000 : 0};
    ro->ctx = redisConnectWithTimeout(ro->ep.host, ro->ep.port_number, tv);
    if (ro->ctx && !ro->ctx->err) {
        struct timeval reply_tv = {1, 0}, forever = {0, 0};
        if (redisSetTimeout(ro->ctx, t->opt.live ? reply_tv : forever) == REDIS_OK &&
            (!ro->password[0] || redis_auth(ro, err, errlen)))
            return true;
        if (ro->ctx->err)
            snprintf(err, errlen, "%s", ro->ctx->errstr);
    } else {
        snprintf(err, errlen, "%s", ro->ctx ? ro->ctx->errstr : "out of memory");
    }
    if (ro->ctx)
        redisFree(ro->ctx);
    ro->ctx = NULL;
    return false;
}

/* The key must hold nothing yet or what the mode writes (a list, a stream). A server still
 * loading its data (LOADING) cannot say yet: it is taken as it is, and waited for like one that
 * is away when the first records go (a key of another type then refuses them: counted lost). */
static bool check_key(struct redis_out *ro, char *err, size_t errlen) {
    const char *want = mode_is_list(ro->mode) ? "list" : "stream";
    if (ro->mode == REDIS_PUBLISH)
        return true;
    redisReply *r = redisCommand(ro->ctx, "TYPE %s", ro->key);
    bool ok = r && ((r->type == REDIS_REPLY_STATUS &&
                     (strcmp(r->str, "none") == 0 || strcmp(r->str, want) == 0)) ||
                    (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "LOADING", 7) == 0));
    if (!ok && r && r->type == REDIS_REPLY_ERROR)
        snprintf(err, errlen, "%.200s", r->str); /* NOAUTH: a password is needed */
    else if (!ok)
        snprintf(err, errlen, "the key holds a %.32s, not a %s",
                 r && r->type == REDIS_REPLY_STATUS ? r->str : "something unreadable", want);
    if (r)
        freeReplyObject(r);
    return ok;
}

/* The first command was refused: without a password (NOAUTH), or the key is of another type. */
static void key_refused(const struct redis_out *ro, const char *why, char *err, size_t errlen) {
    if (strncmp(why, "NOAUTH", 6) == 0)
        snprintf(err, errlen,
                 "cannot log in to the Redis server %s: %s (a password goes in the URL: "
                 "redis://[USER]:PASSWORD@HOST:PORT/KEY)",
                 ro->shown, why);
    else
        snprintf(err, errlen, "-o %s: %s", ro->shown, why);
}

static bool redis_open(struct transport *t, char *err, size_t errlen) {
    struct redis_out *ro = calloc(1, sizeof *ro);
    if (!ro) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    char why[512];
    bool parsed = parse_target(ro, t->opt.path, why, sizeof why);
    ro->link =
        (struct netout_link){.what = "Redis server", .target = ro->shown, .live = t->opt.live};
    if (!parsed)
        snprintf(err, errlen, "-o %s: %s", ro->shown, why);
    else if (!redis_connect(t, ro, why, sizeof why))
        snprintf(err, errlen, "%s the Redis server %s: %s",
                 strncmp(why, "AUTH", 4) == 0 ? "cannot log in to" : "cannot reach", ro->shown,
                 why);
    else if (!check_key(ro, why, sizeof why))
        key_refused(ro, why, err, errlen);
    else {
        t->own = ro;
        t->opt.path = ro->shown; /* messages name the target without its password */
        return true;
    }
    if (ro->ctx)
        redisFree(ro->ctx);
    free(ro);
    return false;
}

/* ---- batches -------------------------------------------------------------------------------- */

/* Queues the command for record i in the context's output buffer: RPUSH KEY R, LPUSH KEY R,
 * PUBLISH KEY R, XADD KEY * record R or XADD KEY MAXLEN ~ N * record R (8 arguments at the
 * most). */
static void append_command(struct redis_out *ro, size_t i) {
    static const char *const verbs[] = {[REDIS_LIST] = "RPUSH",
                                        [REDIS_LPUSH] = "LPUSH",
                                        [REDIS_PUBLISH] = "PUBLISH",
                                        [REDIS_XADD] = "XADD"};
    const char *argv[8] = {verbs[ro->mode], ro->key, "MAXLEN", "~", ro->maxlen};
    int argc = ro->mode == REDIS_XADD && ro->maxlen[0] ? 5 : 2;
    if (ro->mode == REDIS_XADD) {
        argv[argc++] = "*";
        argv[argc++] = "record";
    }
    argv[argc++] = ro->data.data + ro->off[i];
    size_t argl[8];
    for (int a = 0; a < argc - 1; a++)
        argl[a] = strlen(argv[a]);
    argl[argc - 1] = ro->off[i + 1] - ro->off[i]; /* the record: not NUL-terminated */
    redisAppendCommandArgv(ro->ctx, argc, argv, argl);
}

static void connection_lost(struct redis_out *ro, const char *why) {
    netout_link_lost(&ro->link, why);
    redisFree(ro->ctx);
    ro->ctx = NULL;
}

/* Connects again if the backoff allows (reading files: after waiting for it). */
static bool redis_reconnect(struct transport *t, struct redis_out *ro) {
    char why[256];
    if (!netout_link_may_try(&ro->link))
        return false;
    if (!redis_connect(t, ro, why, sizeof why)) {
        netout_link_try_failed(&ro->link);
        return false;
    }
    return true;
}

/* The next reply on the connection (to free), or NULL if the connection failed or the server
 * is still loading its data after a restart: then the connection is given up (the command is
 * unanswered) and opened again later. */
static redisReply *next_reply(struct redis_out *ro) {
    void *reply = NULL;
    if (redisGetReply(ro->ctx, &reply) != REDIS_OK) {
        connection_lost(ro, ro->ctx->errstr[0] ? ro->ctx->errstr : "connection lost");
        return NULL;
    }
    redisReply *r = reply;
    if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "LOADING", 7) == 0) {
        connection_lost(ro, r->str);
        freeReplyObject(r);
        return NULL;
    }
    netout_link_worked(&ro->link);
    return r;
}

/* Record i of the batch as the last one the server acknowledged. */
static void remember_ok(struct redis_out *ro, size_t i) {
    outbuf_reset(&ro->last_ok);
    outbuf_append(&ro->last_ok, ro->data.data + ro->off[i], ro->off[i + 1] - ro->off[i]);
    if (outbuf_failed(&ro->last_ok))
        outbuf_reset(&ro->last_ok); /* none known: the check below is the weaker */
}

/* Reads the reply of record i: false if the connection failed (the record is unanswered). */
static bool read_reply(struct transport *t, struct redis_out *ro, size_t i) {
    redisReply *r = next_reply(ro);
    if (!r)
        return false;
    if (r->type == REDIS_REPLY_ERROR) {
        t->lost++;
        if (!ro->error_reported)
            fprintf(stderr, "shakedown: Redis server %s refused a record: %s\n", t->opt.path,
                    r->str);
        ro->error_reported = true;
    } else {
        remember_ok(ro, i);
    }
    freeReplyObject(r);
    return true;
}

/* Takes the batch's first k records out of it (answered, found delivered, or dropped). */
static void batch_consume(struct redis_out *ro, size_t k) {
    if (k == ro->n) {
        ro->n = ro->doubt = 0;
        outbuf_reset(&ro->data);
        return;
    }
    size_t cut = ro->off[k];
    memmove(ro->data.data, ro->data.data + cut, ro->data.len - cut);
    ro->data.len -= cut;
    for (size_t i = 0; i + k <= ro->n; i++)
        ro->off[i] = ro->off[i + k] - cut;
    ro->n -= k;
    ro->doubt = ro->doubt > k ? ro->doubt - k : 0;
}

/* The key's last `count` entries (the records: a stream entry's "record" value), oldest first,
 * into `out` (which holds count; NULL for an entry of another shape); *reply is to be freed.
 * The last entries are at the list's right end (RPUSH), at its left end newest first (LPUSH),
 * and newest first from XREVRANGE. Returns how many, or -1 if the connection failed. */
static long tail_entries(struct redis_out *ro, size_t count, redisReply **reply,
                         const redisReply **out) {
    char n[24], last[24]; /* hiredis formats only %s and %b */
    snprintf(n, sizeof n, "%zu", count);
    snprintf(last, sizeof last, "%zu", count - 1);
    if (ro->mode == REDIS_LIST)
        redisAppendCommand(ro->ctx, "LRANGE %s -%s -1", ro->key, n);
    else if (ro->mode == REDIS_LPUSH)
        redisAppendCommand(ro->ctx, "LRANGE %s 0 %s", ro->key, last);
    else
        redisAppendCommand(ro->ctx, "XREVRANGE %s + - COUNT %s", ro->key, n);
    *reply = next_reply(ro);
    if (!*reply)
        return -1;
    const redisReply *r = *reply;
    if (r->type != REDIS_REPLY_ARRAY)
        return 0;
    long e = 0;
    for (size_t i = 0; i < r->elements && i < count; i++) {
        /* a stream entry is [id, [field, value]], newest first: the value of "record" */
        const redisReply *x = r->element[ro->mode == REDIS_LIST ? i : r->elements - 1 - i];
        if (ro->mode == REDIS_XADD)
            x = x->type == REDIS_REPLY_ARRAY && x->elements == 2 &&
                        x->element[1]->type == REDIS_REPLY_ARRAY && x->element[1]->elements == 2
                    ? x->element[1]->element[1]
                    : NULL;
        out[e++] = x && x->type == REDIS_REPLY_STRING ? x : NULL;
    }
    return e;
}

static bool entry_is(const redisReply *x, const char *p, size_t len) {
    return x && x->len == len && memcmp(x->str, p, len) == 0;
}

/* Whether the tail's last k entries are the batch's first k records, after the last record the
 * server acknowledged (when one is known and the tail goes back that far). */
static bool tail_holds(const struct redis_out *ro, const redisReply *const *tail, long e,
                       size_t k) {
    for (size_t i = 0; i < k; i++)
        if (!entry_is(tail[(size_t)e - k + i], ro->data.data + ro->off[i],
                      ro->off[i + 1] - ro->off[i]))
            return false;
    return (size_t)e == k || !ro->last_ok.len ||
           entry_is(tail[(size_t)e - k - 1], ro->last_ok.data, ro->last_ok.len);
}

/* On a new connection: how many of the records in doubt the server has (see the top); -1 if
 * the connection failed again. */
static long delivered_in_doubt(struct redis_out *ro) {
    if (ro->mode == REDIS_PUBLISH)
        return 0; /* nothing stays to tell */
    const redisReply *tail[BATCH + 1];
    redisReply *reply;
    long e = tail_entries(ro, ro->doubt + 1, &reply, tail);
    if (e < 0)
        return -1;
    size_t k = ro->doubt < (size_t)e ? ro->doubt : (size_t)e;
    while (k > 0 && !tail_holds(ro, tail, e, k))
        k--;
    freeReplyObject(reply);
    return (long)k;
}

/* On a new connection, the records in doubt: those the server has are delivered; the rest is
 * sent again, or live, if left from an earlier delivery, dropped and counted. False if the
 * connection failed again (they stay in doubt). */
static bool settle_doubt(struct transport *t, struct redis_out *ro) {
    long k = delivered_in_doubt(ro);
    if (k < 0)
        return false;
    if (k > 0)
        remember_ok(ro, (size_t)k - 1);
    batch_consume(ro, (size_t)k);
    if (ro->doubt_carried) {
        t->lost += ro->doubt;
        batch_consume(ro, ro->doubt);
    }
    ro->doubt = 0;
    ro->doubt_carried = false;
    return true;
}

/* Live, the server away: records never sent are dropped and counted; those in doubt stay for the
 * next connection to tell. */
static void keep_doubt(struct transport *t, struct redis_out *ro) {
    t->lost += ro->n - ro->doubt;
    ro->n = ro->doubt;
    ro->data.len = ro->off[ro->n];
    ro->doubt_carried = ro->doubt > 0;
}

/* Sends the batch and reads every reply; a lost connection is opened again, what it left in
 * doubt settled and the rest sent again. Live, records that cannot be sent at once are counted
 * lost. */
static void redis_deliver(struct transport *t, struct redis_out *ro) {
    while (ro->n) {
        if (!ro->ctx && !redis_reconnect(t, ro)) {
            if (!t->opt.live)
                continue;
            keep_doubt(t, ro);
            return;
        }
        if (ro->doubt && !settle_doubt(t, ro))
            continue;
        for (size_t i = 0; i < ro->n; i++)
            append_command(ro, i);
        size_t done = 0;
        while (done < ro->n && read_reply(t, ro, done))
            done++;
        ro->doubt = ro->n; /* what is left unanswered */
        batch_consume(ro, done);
    }
}

/* Whether the batch goes now: full, a stats or summary record (each a moment worth seeing at
 * once), or live, its first record has waited long enough. */
static bool batch_due(const struct transport *t, const struct redis_out *ro) {
    enum transport_record_kind kind = t->record.kind;
    if (ro->n == BATCH || kind == TRANSPORT_RECORD_STATS || kind == TRANSPORT_RECORD_SUMMARY)
        return true;
    return t->opt.live && capture_mono_ns() - ro->first_ns >= (int64_t)LIVE_WAIT_MS * 1000000;
}

/* One record a batch entry; a record that is only a log file's '#' lines (-F zeek's #close)
 * sends nothing. */
static bool redis_write(struct transport *t, const char *buf, size_t len) {
    struct redis_out *ro = t->own;
    len = netout_message(&buf, len);
    if (len == 0)
        return true;
    if (ro->n == BATCH) /* live: a whole batch in doubt, the server away */
        redis_deliver(t, ro);
    if (ro->n == BATCH) {
        t->lost++;
        return true;
    }
    if (ro->n == 0 && t->opt.live)
        ro->first_ns = capture_mono_ns();
    outbuf_append(&ro->data, buf, len);
    if (outbuf_failed(&ro->data)) {
        ro->data.len = ro->off[ro->n];
        ro->data.failed = false;
        errno = ENOMEM;
        return false;
    }
    ro->off[++ro->n] = ro->data.len;
    t->bytes += len;
    if (batch_due(t, ro))
        redis_deliver(t, ro);
    return true;
}

static void redis_flush(struct transport *t) {
    struct redis_out *ro = t->own;
    if (ro->n)
        redis_deliver(t, ro);
}

static bool redis_close(struct transport *t) {
    struct redis_out *ro = t->own;
    redis_flush(t);
    t->lost += ro->n; /* live: still in doubt, the server away to the end */
    if (ro->ctx)
        redisFree(ro->ctx);
    outbuf_free(&ro->data);
    outbuf_free(&ro->last_ok);
    free(ro);
    t->own = NULL;
    return true;
}

extern const struct transport_ops output_transport_redis;
const struct transport_ops output_transport_redis = {
    .name = "redis",
    .accepts = redis_accepts,
    .open = redis_open,
    .write = redis_write,
    .flush = redis_flush,
    .close = redis_close,
};
