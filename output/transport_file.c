/* transport_file: records to a file (-o FILE), reopened by name on SIGHUP (logrotate's create
 * mode) and rotated by size or age to FILE.YYYYmmddTHHMMSSZ, always between records. Written for
 * directories other users can write to: a symlink is followed only where Linux's
 * fs.protected_symlinks would follow it, rotated names are claimed with O_EXCL|O_NOFOLLOW and never
 * replace a file, a rotation or reopen that fails keeps writing to the file already open, and a
 * record that could not be written whole is cut off again, so every line of the file is a record.
 */
#define _DEFAULT_SOURCE 1 /* S_ISVTX */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "transport.h"

/* What the file transport keeps besides struct transport (its `own`). */
struct file_state {
    bool cut_failed;      /* a partial record could not be cut off: a newline ends it first */
    bool rotate_reported; /* a failed rotation was reported on stderr (once a run) */
    uint64_t rotate_base; /* t->bytes when the file was last rotated or a rotation failed */
};

/* Names tried for one rotated file (FILE.STAMP, .1, .2, ...) before the rotation fails; files
 * created with this mode (before the umask) unless --file-mode says otherwise. */
enum { CLAIM_LIMIT = 10000, DEFAULT_MODE = 0640 };

static bool file_accepts(const struct transport_options *opt) {
    return opt->path != NULL;
}

static mode_t file_mode(const struct transport *t) {
    return t->opt.file_mode ? (mode_t)t->opt.file_mode : DEFAULT_MODE;
}

/* fs.protected_symlinks (Linux, Documentation/admin-guide/sysctl/fs.rst): a symlink in a sticky
 * world-writable directory (/tmp) is followed only if the follower owns it or the directory's
 * owner does — else a user who planted it there could make us overwrite any file we can write.
 * Applied to the last component of path, the one such a link replaces; false (why set) if the
 * rule forbids following it. */
static bool symlink_allowed(const char *path, char *why, size_t len) {
    struct stat link, dir;
    if (lstat(path, &link) != 0 || !S_ISLNK(link.st_mode))
        return true;
    char parent[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(parent, sizeof parent, ".");
    else
        snprintf(parent, sizeof parent, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    if (stat(parent, &dir) != 0)
        return true; /* the open fails on its own */
    bool sticky_shared = (dir.st_mode & S_ISVTX) && (dir.st_mode & S_IWOTH);
    if (!sticky_shared || link.st_uid == geteuid() || link.st_uid == dir.st_uid)
        return true;
    snprintf(why, len,
             "it is a symlink owned by user %u in the sticky world-writable directory %.300s: "
             "not followed (the rule of fs.protected_symlinks)",
             (unsigned)link.st_uid, parent);
    return false;
}

/* Opens path for records: truncated, or appended to (SIGHUP). A name that was no symlink when
 * looked at is opened with O_NOFOLLOW, so one planted in between is not followed either. NULL
 * with why set on failure. */
static FILE *open_output(const struct transport *t, bool append, char *why, size_t len) {
    const char *path = t->opt.path;
    if (!symlink_allowed(path, why, len))
        return NULL;
    struct stat st;
    bool is_link = lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
    int fd = open(path, flags | (is_link ? 0 : O_NOFOLLOW), file_mode(t));
    FILE *f = fd >= 0 ? fdopen(fd, append ? "a" : "w") : NULL;
    if (!f) {
        snprintf(why, len, "%s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
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
        int fd = open(buf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
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
    int fd = open(t->opt.path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, file_mode(t));
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        rotation_failed(t, wall_ns, "cannot create a new file", err);
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
    .write = file_write,
    .reopen = file_reopen,
    .rotation_due = file_rotation_due,
    .rotate = file_rotate_written,
    .close = file_close,
};
