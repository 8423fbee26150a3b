/* transport_redis: records into Redis through hiredis, one record a list element, message or
 * stream entry (its newline stripped):
 *   -o redis://HOST:PORT/KEY[?mode=list|publish|xadd[&maxlen=N]]
 * list: RPUSH KEY record (the default; consumers pop the oldest first); publish: PUBLISH KEY
 * record; xadd: XADD KEY [MAXLEN ~ N] * record RECORD.
 *
 * Records are pipelined in batches: commands are queued and their replies read together, when
 * BATCH records are waiting, when the writer thread has nothing more for now (flush), for stats
 * and summary records, and at close; live, each record is sent at once. A batch is kept until
 * every reply is read, so a connection lost on the way is opened again (with backoff) and the
 * unanswered rest is sent again: reading files, shakedown waits for the server and nothing is
 * lost; live, what cannot be sent at once is dropped and counted (transport.lost). A record the
 * server refuses (an error reply: out of memory) is counted lost too. */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "netout.h"
#include "outbuf.h"
#include "transport.h"

enum { BATCH = 256 };

enum redis_mode { REDIS_LIST, REDIS_PUBLISH, REDIS_XADD };

struct redis_out {
    struct netout_endpoint ep;
    char key[512];
    enum redis_mode mode;
    char maxlen[24]; /* xadd: MAXLEN ~ this ("": no limit) */
    redisContext *ctx;
    struct outbuf data;    /* the batch's records, back to back */
    size_t off[BATCH + 1]; /* record i is data[off[i], off[i + 1]) */
    size_t n;              /* records in the batch */
    struct netout_link link;
    bool error_reported; /* an error reply was reported (later ones are only counted) */
};

static bool redis_accepts(const struct transport_options *opt) {
    return opt->path && strncmp(opt->path, "redis://", 8) == 0;
}

/* One query parameter ("mode=xadd", "maxlen=1000"). */
static bool parse_param(struct redis_out *ro, const char *p, size_t len, char *err, size_t errlen) {
    if (len == 9 && memcmp(p, "mode=list", 9) == 0)
        ro->mode = REDIS_LIST;
    else if (len == 12 && memcmp(p, "mode=publish", 12) == 0)
        ro->mode = REDIS_PUBLISH;
    else if (len == 9 && memcmp(p, "mode=xadd", 9) == 0)
        ro->mode = REDIS_XADD;
    else if (len > 7 && len - 7 < sizeof ro->maxlen && memcmp(p, "maxlen=", 7) == 0 &&
             strspn(p + 7, "0123456789") >= len - 7)
        memcpy(ro->maxlen, p + 7, len - 7);
    else {
        snprintf(err, errlen, "'%.*s': use mode=list, mode=publish, mode=xadd or maxlen=N",
                 (int)len, p);
        return false;
    }
    return true;
}

/* redis://HOST:PORT/KEY[?PARAM[&PARAM]] */
static bool parse_target(struct redis_out *ro, const char *url, char *err, size_t errlen) {
    const char *hp = url + 8, *slash = strchr(hp, '/');
    if (!slash || !slash[1] || slash[1] == '?') {
        snprintf(err, errlen, "no key: use redis://HOST:PORT/KEY");
        return false;
    }
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
        if (!parse_param(ro, p, len, err, errlen))
            return false;
        p = amp ? amp + 1 : NULL;
    }
    if (ro->maxlen[0] && ro->mode != REDIS_XADD) {
        snprintf(err, errlen, "maxlen=N goes with mode=xadd");
        return false;
    }
    return true;
}

/* A connection into ro->ctx; false with the reason in err. Live, a server that stops answering
 * must not hold the capture up: replies are waited for at most a second. */
static bool redis_connect(struct transport *t, struct redis_out *ro, char *err, size_t errlen) {
    struct timeval tv = {t->opt.live ? 0 : 5, t->opt.live ? 200000 : 0};
    ro->ctx = redisConnectWithTimeout(ro->ep.host, ro->ep.port_number, tv);
    if (ro->ctx && !ro->ctx->err) {
        struct timeval reply_tv = {1, 0}, forever = {0, 0};
        if (redisSetTimeout(ro->ctx, t->opt.live ? reply_tv : forever) == REDIS_OK)
            return true;
    }
    snprintf(err, errlen, "%s", ro->ctx ? ro->ctx->errstr : "out of memory");
    if (ro->ctx)
        redisFree(ro->ctx);
    ro->ctx = NULL;
    return false;
}

/* The key must hold nothing yet or what the mode writes (a list, a stream). */
static bool check_key(struct redis_out *ro, char *err, size_t errlen) {
    const char *want = ro->mode == REDIS_LIST ? "list" : "stream";
    if (ro->mode == REDIS_PUBLISH)
        return true;
    redisReply *r = redisCommand(ro->ctx, "TYPE %s", ro->key);
    bool ok = r && r->type == REDIS_REPLY_STATUS &&
              (strcmp(r->str, "none") == 0 || strcmp(r->str, want) == 0);
    if (!ok)
        snprintf(err, errlen, "the key holds a %.32s, not a %s",
                 r && r->type == REDIS_REPLY_STATUS ? r->str : "something unreadable", want);
    if (r)
        freeReplyObject(r);
    return ok;
}

static bool redis_open(struct transport *t, char *err, size_t errlen) {
    struct redis_out *ro = calloc(1, sizeof *ro);
    if (!ro) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    ro->link =
        (struct netout_link){.what = "Redis server", .target = t->opt.path, .live = t->opt.live};
    char why[256];
    if (!parse_target(ro, t->opt.path, why, sizeof why))
        snprintf(err, errlen, "-o %s: %s", t->opt.path, why);
    else if (!redis_connect(t, ro, why, sizeof why))
        snprintf(err, errlen, "cannot reach the Redis server %s: %s", t->opt.path, why);
    else if (!check_key(ro, why, sizeof why))
        snprintf(err, errlen, "-o %s: %s", t->opt.path, why);
    else {
        t->own = ro;
        return true;
    }
    if (ro->ctx)
        redisFree(ro->ctx);
    free(ro);
    return false;
}

/* ---- batches -------------------------------------------------------------------------------- */

/* Queues the command for record i in the context's output buffer: RPUSH KEY R, PUBLISH KEY R,
 * XADD KEY * record R or XADD KEY MAXLEN ~ N * record R (8 arguments at the most). */
static void append_command(struct redis_out *ro, size_t i) {
    static const char *const verbs[] = {
        [REDIS_LIST] = "RPUSH", [REDIS_PUBLISH] = "PUBLISH", [REDIS_XADD] = "XADD"};
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
    netout_link_up(&ro->link);
    return true;
}

/* Reads the reply of record i: false if the connection failed (the record is unanswered). */
static bool read_reply(struct transport *t, struct redis_out *ro) {
    void *reply = NULL;
    if (redisGetReply(ro->ctx, &reply) != REDIS_OK) {
        connection_lost(ro, ro->ctx->errstr[0] ? ro->ctx->errstr : "connection lost");
        return false;
    }
    redisReply *r = reply;
    netout_link_worked(&ro->link);
    if (r->type == REDIS_REPLY_ERROR) {
        t->lost++;
        if (!ro->error_reported)
            fprintf(stderr, "shakedown: Redis server %s refused a record: %s\n", t->opt.path,
                    r->str);
        ro->error_reported = true;
    }
    freeReplyObject(r);
    return true;
}

/* Sends the batch and reads every reply; a lost connection is opened again and what was left
 * unanswered is sent again. Live, records that cannot be sent at once are counted lost. */
static void redis_deliver(struct transport *t, struct redis_out *ro) {
    size_t done = 0;
    while (done < ro->n) {
        if (!ro->ctx && !redis_reconnect(t, ro)) {
            if (!t->opt.live)
                continue;
            t->lost += ro->n - done;
            break;
        }
        for (size_t i = done; i < ro->n; i++)
            append_command(ro, i);
        while (done < ro->n && read_reply(t, ro))
            done++;
    }
    ro->n = 0;
    outbuf_reset(&ro->data);
}

static bool redis_write(struct transport *t, const char *buf, size_t len) {
    struct redis_out *ro = t->own;
    if (len > 0 && buf[len - 1] == '\n')
        len--;
    outbuf_append(&ro->data, buf, len);
    if (outbuf_failed(&ro->data)) {
        ro->data.len = ro->off[ro->n];
        ro->data.failed = false;
        errno = ENOMEM;
        return false;
    }
    ro->off[++ro->n] = ro->data.len;
    t->bytes += len;
    enum transport_record_kind kind = t->record.kind;
    if (ro->n == BATCH || t->opt.live || kind == TRANSPORT_RECORD_STATS ||
        kind == TRANSPORT_RECORD_SUMMARY)
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
    if (ro->ctx)
        redisFree(ro->ctx);
    outbuf_free(&ro->data);
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
