/* compressed: a stdio stream (fopencookie) over the input that first hands back the bytes read to
 * recognise it, then the rest — decompressed by zlib (gzip, concatenated members too), libzstd
 * (frames one after another) or liblzma (xz, concatenated streams) when the magic says so. A plain
 * file that can seek is handed to libpcap as it is. A damaged compressed stream reads as an
 * error (EIO), which libpcap reports as a damaged capture. */
#define _GNU_SOURCE 1 /* fopencookie */
#include "compressed.h"

#include <errno.h>
#include <fcntl.h>
#include <lzma.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define MAGIC_LEN 6
#define INBUF_LEN (1 << 16)

enum compression compression_of(const unsigned char *head, size_t len) {
    if (len >= 2 && head[0] == 0x1f && head[1] == 0x8b)
        return COMPRESSION_GZIP;
    if (len >= 4 && memcmp(head, "\x28\xb5\x2f\xfd", 4) == 0)
        return COMPRESSION_ZSTD;
    if (len >= 6 && memcmp(head,
                           "\xfd"
                           "7zXZ\0",
                           6) == 0)
        return COMPRESSION_XZ;
    return COMPRESSION_NONE;
}

struct source {
    int fd;        /* read with read(2): a pipe gives what it has, without waiting to fill */
    bool close_fd; /* not for stdin */
    enum compression how;
    unsigned char in_buf[INBUF_LEN];
    size_t in_pos, in_len; /* unread compressed (or replayed) bytes in in_buf */
    bool in_eof;
    bool failed;
    union {
        z_stream z;
        lzma_stream x;
    } u;
    ZSTD_DCtx *zstd;
};

/* Makes sure some input is buffered, waiting for it if need be; false at its end (or on a read
 * error: failed). */
static bool fill(struct source *s) {
    if (s->in_pos < s->in_len)
        return true;
    if (s->in_eof)
        return false;
    s->in_pos = 0;
    ssize_t n;
    do
        n = read(s->fd, s->in_buf, sizeof s->in_buf);
    while (n < 0 && errno == EINTR);
    s->in_len = n > 0 ? (size_t)n : 0;
    if (n <= 0) {
        s->in_eof = true;
        s->failed = n < 0;
    }
    return n > 0;
}

/* Whether to go on decompressing into a buffer that already holds produced bytes: only while
 * input is at hand, so that a record that arrived is handed on without waiting for more. */
static bool more_at_hand(const struct source *s, size_t produced) {
    return produced == 0 || s->in_pos < s->in_len;
}

/* Each decoder: as many decompressed bytes into out as it can, 0 at the end, -1 if damaged. */

static ssize_t read_plain(struct source *s, unsigned char *out, size_t n) {
    if (!fill(s))
        return s->failed ? -1 : 0;
    size_t k = s->in_len - s->in_pos < n ? s->in_len - s->in_pos : n;
    memcpy(out, s->in_buf + s->in_pos, k);
    s->in_pos += k;
    return (ssize_t)k;
}

static ssize_t read_gzip(struct source *s, unsigned char *out, size_t n) {
    z_stream *z = &s->u.z;
    z->next_out = out;
    z->avail_out = (uInt)(n > UINT32_MAX ? UINT32_MAX : n);
    while (z->avail_out > 0 && more_at_hand(s, n - z->avail_out) && fill(s)) {
        z->next_in = s->in_buf + s->in_pos;
        z->avail_in = (uInt)(s->in_len - s->in_pos);
        int rc = inflate(z, Z_NO_FLUSH);
        s->in_pos = s->in_len - z->avail_in;
        if (rc == Z_STREAM_END)
            rc = inflateReset(z); /* another gzip member may follow */
        if (rc != Z_OK && rc != Z_BUF_ERROR)
            return -1;
        if (rc == Z_BUF_ERROR && z->avail_in > 0)
            return -1;
    }
    size_t got = n - z->avail_out;
    return got == 0 && s->failed ? -1 : (ssize_t)got;
}

static ssize_t read_zstd(struct source *s, unsigned char *out, size_t n) {
    ZSTD_outBuffer ob = {out, n, 0};
    while (ob.pos < ob.size && more_at_hand(s, ob.pos) && fill(s)) {
        ZSTD_inBuffer ib = {s->in_buf + s->in_pos, s->in_len - s->in_pos, 0};
        size_t rc = ZSTD_decompressStream(s->zstd, &ob, &ib);
        s->in_pos += ib.pos;
        if (ZSTD_isError(rc))
            return -1;
    }
    return ob.pos == 0 && s->failed ? -1 : (ssize_t)ob.pos;
}

static ssize_t read_xz(struct source *s, unsigned char *out, size_t n) {
    lzma_stream *x = &s->u.x;
    x->next_out = out;
    x->avail_out = n;
    while (x->avail_out > 0 && more_at_hand(s, n - x->avail_out)) {
        bool more = fill(s);
        x->next_in = s->in_buf + s->in_pos;
        x->avail_in = s->in_len - s->in_pos;
        lzma_ret rc = lzma_code(x, more ? LZMA_RUN : LZMA_FINISH);
        s->in_pos = s->in_len - x->avail_in;
        if (rc == LZMA_STREAM_END || (!more && rc == LZMA_OK && x->avail_out == n))
            break;
        if (rc != LZMA_OK)
            return -1;
        if (!more)
            break;
    }
    size_t got = n - x->avail_out;
    return got == 0 && s->failed ? -1 : (ssize_t)got;
}

static ssize_t source_read(void *cookie, char *buf, size_t n) {
    struct source *s = cookie;
    ssize_t got;
    switch (s->how) {
    case COMPRESSION_GZIP:
        got = read_gzip(s, (unsigned char *)buf, n);
        break;
    case COMPRESSION_ZSTD:
        got = read_zstd(s, (unsigned char *)buf, n);
        break;
    case COMPRESSION_XZ:
        got = read_xz(s, (unsigned char *)buf, n);
        break;
    default:
        got = read_plain(s, (unsigned char *)buf, n);
    }
    if (got < 0)
        errno = EIO;
    return got;
}

static void source_free(struct source *s) {
    if (s->how == COMPRESSION_GZIP)
        inflateEnd(&s->u.z);
    else if (s->how == COMPRESSION_XZ)
        lzma_end(&s->u.x);
    ZSTD_freeDCtx(s->zstd);
    if (s->close_fd)
        close(s->fd);
    free(s);
}

static int source_close(void *cookie) {
    source_free(cookie);
    return 0;
}

static bool decoder_init(struct source *s) {
    switch (s->how) {
    case COMPRESSION_GZIP:
        return inflateInit2(&s->u.z, 15 + 16) == Z_OK; /* gzip wrapper */
    case COMPRESSION_ZSTD:
        return (s->zstd = ZSTD_createDCtx()) != NULL;
    case COMPRESSION_XZ:
        s->u.x = (lzma_stream)LZMA_STREAM_INIT;
        return lzma_stream_decoder(&s->u.x, UINT64_MAX, LZMA_CONCATENATED) == LZMA_OK;
    default:
        return true;
    }
}

/* Reads up to len bytes, waiting for them (a pipe may give them piecemeal); fewer only at the
 * end of the input or on an error. */
static size_t read_full(int fd, unsigned char *buf, size_t len) {
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return got;
}

FILE *compressed_open(const char *path, enum compression *how, char *err, size_t errlen) {
    bool is_stdin = strcmp(path, "-") == 0;
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        return NULL;
    }
    struct source *s = calloc(1, sizeof *s);
    if (!s) {
        if (!is_stdin)
            close(fd);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->fd = fd;
    s->close_fd = !is_stdin;
    s->in_len = read_full(fd, s->in_buf, MAGIC_LEN); /* replayed first by every reader */
    *how = s->how = compression_of(s->in_buf, s->in_len);
    /* A plain file that can seek goes to libpcap as it is (no copy through the cookie). */
    if (s->how == COMPRESSION_NONE && !is_stdin && lseek(fd, 0, SEEK_SET) == 0) {
        free(s);
        FILE *in = fdopen(fd, "rb");
        if (!in) {
            snprintf(err, errlen, "%s", strerror(errno));
            close(fd);
        }
        return in;
    }
    static const cookie_io_functions_t io = {.read = source_read, .close = source_close};
    FILE *f = decoder_init(s) ? fopencookie(s, "rb", io) : NULL;
    if (!f) {
        snprintf(err, errlen, "cannot start decompressing: out of memory");
        source_free(s);
    }
    return f;
}
