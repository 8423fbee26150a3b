/* transport_file: records to a file (-o FILE), reopened by name on SIGHUP (logrotate's create
 * mode) and rotated by size or age to FILE.YYYYmmddTHHMMSSZ, always between records. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "capture.h"
#include "transport.h"

static bool file_accepts(const struct transport_options *opt) {
    return opt->path != NULL;
}

static FILE *open_path(const char *path, const char *mode) {
    FILE *f = fopen(path, mode);
    if (f)
        setvbuf(f, NULL, _IOFBF, 1 << 16);
    return f;
}

static bool file_open(struct transport *t, char *err, size_t errlen) {
    t->out = open_path(t->opt.path, "w");
    if (!t->out) {
        snprintf(err, errlen, "cannot open output %s: %s", t->opt.path, strerror(errno));
        return false;
    }
    return true;
}

/* The name a rotated file is given: path.YYYYmmddTHHMMSSZ, with .N added if that exists. */
static void rotated_name(char *buf, size_t len, const char *path, int64_t wall_ns) {
    time_t sec = (time_t)(wall_ns / 1000000000);
    struct tm tm;
    char stamp[32] = "unknown";
    if (gmtime_r(&sec, &tm))
        strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(buf, len, "%s.%s", path, stamp);
    struct stat st;
    for (int n = 1; stat(buf, &st) == 0 && n < 1000; n++)
        snprintf(buf, len, "%s.%s.%d", path, stamp, n);
}

static void file_rotate(struct transport *t, int64_t wall_ns) {
    char name[4096];
    if (!t->out)
        return;
    if (fclose(t->out) != 0 && !t->failed) {
        fprintf(stderr, "shakedown: cannot write output %s: %s\n", t->opt.path, strerror(errno));
        t->failed = true;
    }
    rotated_name(name, sizeof name, t->opt.path, wall_ns);
    if (rename(t->opt.path, name) != 0)
        fprintf(stderr, "shakedown: cannot rotate %s: %s\n", t->opt.path, strerror(errno));
    t->out = open_path(t->opt.path, "w");
    if (!t->out) {
        fprintf(stderr, "shakedown: cannot open output %s: %s\n", t->opt.path, strerror(errno));
        t->failed = true;
    }
    t->bytes = 0;
    t->opened_ns = wall_ns;
    t->rotations++;
}

/* One record: one fflush, so one write(2) for the whole of it (the buffer holds 64 KiB). */
static bool file_write(struct transport *t, const char *buf, size_t len) {
    if (!t->out) {
        errno = EBADF;
        return false;
    }
    bool ok = fwrite(buf, 1, len, t->out) == len;
    ok = fflush(t->out) == 0 && ok && !ferror(t->out);
    if (!ok) {
        int saved = errno;
        clearerr(t->out);
        errno = saved;
        return false;
    }
    t->bytes += len;
    if (t->opt.rotate_bytes && t->bytes >= t->opt.rotate_bytes)
        file_rotate(t, capture_wall_ns());
    return true;
}

static void file_reopen(struct transport *t, int64_t wall_ns) {
    if (t->out)
        fclose(t->out);
    t->out = open_path(t->opt.path, "a");
    if (!t->out) {
        fprintf(stderr, "shakedown: cannot reopen output %s: %s\n", t->opt.path, strerror(errno));
        t->failed = true;
        return;
    }
    struct stat st;
    t->bytes = fstat(fileno(t->out), &st) == 0 ? (uint64_t)st.st_size : 0;
    t->opened_ns = wall_ns;
}

/* opened_ns is atomic: the writer thread sets it when it rotates by size. */
static bool file_rotation_due(const struct transport *t, int64_t wall_ns) {
    return t->opt.rotate_ns > 0 && wall_ns - t->opened_ns >= t->opt.rotate_ns;
}

static void file_rotate_by_age(struct transport *t, int64_t wall_ns) {
    if (t->bytes > 0 && file_rotation_due(t, wall_ns))
        file_rotate(t, wall_ns);
}

static bool file_close(struct transport *t) {
    if (!t->out)
        return true;
    bool ok = fclose(t->out) == 0;
    t->out = NULL;
    return ok;
}

extern const struct transport_ops output_transport_file;
const struct transport_ops output_transport_file = {
    .name = "file",
    .accepts = file_accepts,
    .open = file_open,
    .write = file_write,
    .reopen = file_reopen,
    .rotation_due = file_rotation_due,
    .rotate = file_rotate_by_age,
    .close = file_close,
};
