/* transport_file: records to a file (-o FILE), reopened by name on SIGHUP (logrotate's create
 * mode) and rotated by size or age to FILE.YYYYmmddTHHMMSSZ, always between records. Written for
 * directories other users can write to: every file is opened through safe_open.h (a symlink is
 * followed only where Linux's fs.protected_symlinks would follow it), an existing file is emptied
 * only once every output could be opened (file_begin), rotated names are claimed with
 * O_EXCL|O_NOFOLLOW and never replace a file, a rotation or reopen that fails keeps writing to the
 * file already open, and a record that could not be written whole is cut off again, so every line
 * of the file is a record. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "safe_open.h"
#include "transport.h"

/* What the file transport keeps besides struct transport (its `own`). */
struct file_state {
    bool cut_failed;      /* a partial record could not be cut off: a newline ends it first */
    bool rotate_reported; /* a failed rotation was reported on stderr (once a run) */
    uint64_t rotate_base; /* t->bytes when the file was last rotated or a rotation failed */
};

/* Names tried for one rotated file (FILE.STAMP, .1, .2, ...) before the rotation fails. */
enum { CLAIM_LIMIT = 10000 };

static bool file_accepts(const struct transport_options *opt) {
    return opt->path != NULL;
}

/* Opens path for records (safe_open.h: the symlink rule, O_NOFOLLOW, --file-mode): appended to
 * (SIGHUP), or as it is, to be emptied by file_begin once every output is open. NULL with why
 * set on failure. */
static FILE *open_output(const struct transport *t, bool append, char *why, size_t len) {
    FILE *f = safe_open_stream(t->opt.path, append ? O_APPEND : 0, t->opt.file_mode, why, len);
    if (f)
        setvbuf(f, NULL, _IONBF, 0); /* records go out with write(2) on its descriptor */
    return f;
}

static bool file_open(struct transport *t, char *err, size_t errlen) {
    char why[512];
    struct file_state *fs = calloc(1, sizeof *fs);
    if (!fs) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    t->own = fs;
    t->out = open_output(t, false, why, sizeof why);
    if (!t->out) {
        snprintf(err, errlen, "cannot open output %s: %s", t->opt.path, why);
        free(fs);
        t->own = NULL;
        return false;
    }
    return true;
}

/* Every output could be opened: the file is emptied now. */
static bool file_begin(struct transport *t, char *err, size_t errlen) {
    if (safe_open_empty(fileno(t->out)))
        return true;
    snprintf(err, errlen, "cannot empty output %s: %s", t->opt.path, strerror(errno));
    return false;
}

/* Claims the name of a rotated file: path.YYYYmmddTHHMMSSZ, or with .1, .2 ... added, created
 * empty with O_EXCL|O_NOFOLLOW (an existing file or symlink is never taken). False with errno
 * set if no name could be claimed. */
static bool claim_rotated_name(const struct transport *t, char *buf, size_t len, int64_t wall_ns) {
    time_t sec = (time_t)(wall_ns / 1000000000);
    struct tm tm;
    char stamp[32] = "unknown";
    if (gmtime_r(&sec, &tm))
        strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    for (unsigned n = 0; n < CLAIM_LIMIT; n++) {
        int w = n ? snprintf(buf, len, "%s.%s.%u", t->opt.path, stamp, n)
                  : snprintf(buf, len, "%s.%s", t->opt.path, stamp);
        if (w < 0 || (size_t)w >= len) {
            errno = ENAMETOOLONG;
            return false;
        }
        char why[512];
        int fd = safe_open_file(buf, O_EXCL, 0600, why, sizeof why);
        if (fd >= 0) {
            close(fd);
            return true;
        }
        if (errno != EEXIST)
            return false;
    }
    errno = EEXIST;
    return false;
}

/* A rotation that did not happen: the file open is kept (nothing is lost), the failure said once
 * and counted, and the next attempt waits for another rotation's worth of bytes or time. */
static void rotation_failed(struct transport *t, int64_t wall_ns, const char *what, int err) {
    struct file_state *fs = t->own;
    if (!fs->rotate_reported)
        fprintf(stderr, "shakedown: cannot rotate %s: %s: %s; writing on to it\n", t->opt.path,
                what, strerror(err));
    fs->rotate_reported = true;
    fs->rotate_base = t->bytes;
    t->opened_ns = wall_ns;
    t->rotations_failed++;
}

/* Moves the file aside to a claimed name, then starts a new one by the same name (O_EXCL: a file
 * or link that appeared there in between is not used). If the new file cannot be created, the
 * records go on into the moved one. */
static void file_rotate(struct transport *t, int64_t wall_ns) {
    struct file_state *fs = t->own;
    char name[4096];
    if (!t->out)
        return;
    if (!claim_rotated_name(t, name, sizeof name, wall_ns)) {
        rotation_failed(t, wall_ns, "no name for the rotated file", errno);
        return;
    }
    if (rename(t->opt.path, name) != 0) {
        int err = errno;
        unlink(name);
        rotation_failed(t, wall_ns, "cannot rename it", err);
        return;
    }
    char why[512];
    FILE *f = safe_open_stream(t->opt.path, O_EXCL, t->opt.file_mode, why, sizeof why);
    if (!f) {
        rotation_failed(t, wall_ns, "cannot create a new file", errno);
        return;
    }
    setvbuf(f, NULL, _IONBF, 0);
    if (fclose(t->out) != 0 && !t->failed) {
        fprintf(stderr, "shakedown: cannot write output %s: %s\n", name, strerror(errno));
        t->failed = true;
    }
    t->out = f;
    t->bytes = 0;
    fs->rotate_base = 0;
    fs->cut_failed = false;
    t->opened_ns = wall_ns;
    t->rotations++;
}

/* write(2) until all of buf is out; *done: the bytes that were. */
static bool write_all(int fd, const char *buf, size_t len, size_t *done) {
    *done = 0;
    while (*done < len) {
        ssize_t n = write(fd, buf + *done, len - *done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return false;
        }
        *done += (size_t)n;
    }
    return true;
}

/* The first `done` bytes of a record reached the file, the rest did not (a full disk): they are
 * cut off again, so the next record starts a line of its own. Where that is impossible (a pipe,
 * a device) the next record is preceded by a newline, which leaves the part a line of its own. */
static void cut_partial(struct transport *t, int fd, size_t done) {
    struct file_state *fs = t->own;
    off_t end = lseek(fd, 0, SEEK_CUR);
    if (end >= (off_t)done && ftruncate(fd, end - (off_t)done) == 0 &&
        lseek(fd, end - (off_t)done, SEEK_SET) >= 0)
        return;
    fs->cut_failed = true;
}

/* One record in one write(2) (the format built it whole). */
static bool file_write(struct transport *t, const char *buf, size_t len) {
    struct file_state *fs = t->own;
    size_t done;
    if (!t->out) {
        errno = EBADF;
        return false;
    }
    int fd = fileno(t->out);
    if (fs->cut_failed) {
        if (!write_all(fd, "\n", 1, &done))
            return false;
        fs->cut_failed = false;
        t->bytes++;
    }
    if (!write_all(fd, buf, len, &done)) {
        int saved = errno;
        if (done > 0)
            cut_partial(t, fd, done);
        errno = saved;
        return false;
    }
    t->bytes += len;
    if (t->opt.rotate_bytes && t->bytes - fs->rotate_base >= t->opt.rotate_bytes)
        t->rotate_pending = true;
    return true;
}

/* SIGHUP: the file by its name again, appended to. If it cannot be opened (or is a symlink that
 * must not be followed), records go on into the file open so far. */
static void file_reopen(struct transport *t, int64_t wall_ns) {
    struct file_state *fs = t->own;
    char why[512];
    FILE *f = open_output(t, true, why, sizeof why);
    if (!f) {
        fprintf(stderr, "shakedown: cannot reopen output %s: %s%s\n", t->opt.path, why,
                t->out ? "; writing on to the file open before" : "");
        if (!t->out)
            t->failed = true;
        return;
    }
    if (t->out)
        fclose(t->out);
    t->out = f;
    struct stat st;
    t->bytes = fstat(fileno(t->out), &st) == 0 ? (uint64_t)st.st_size : 0;
    fs->rotate_base = 0;
    fs->cut_failed = false;
    t->opened_ns = wall_ns;
}

/* opened_ns is atomic: the writer thread sets it when it rotates by size. */
static bool file_rotation_due(const struct transport *t, int64_t wall_ns) {
    return t->opt.rotate_ns > 0 && wall_ns - t->opened_ns >= t->opt.rotate_ns;
}

/* Only what was written since the last rotation (or failed attempt) is moved aside: no empty
 * rotated files. */
static void file_rotate_written(struct transport *t, int64_t wall_ns) {
    const struct file_state *fs = t->own;
    t->rotate_pending = false;
    if (t->bytes > fs->rotate_base)
        file_rotate(t, wall_ns);
}

static bool file_close(struct transport *t) {
    free(t->own);
    t->own = NULL;
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
    .begin = file_begin,
    .write = file_write,
    .reopen = file_reopen,
    .rotation_due = file_rotation_due,
    .rotate = file_rotate_written,
    .close = file_close,
};
