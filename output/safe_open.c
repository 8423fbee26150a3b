/* safe_open: opening the files shakedown writes, under the rule of fs.protected_symlinks
 * (safe_open.h). */
#define _DEFAULT_SOURCE 1 /* S_ISVTX */
#include "safe_open.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The directory the component path[0, n) is in: what comes before its last '/' ("/" at the
 * root, "." for a bare name). */
static void parent_of(const char *path, size_t n, char *buf, size_t len) {
    size_t start = n; /* where the component's name starts */
    while (start > 0 && path[start - 1] != '/')
        start--;
    size_t end = start; /* the parent's name ends before the slashes in front of it */
    while (end > 0 && path[end - 1] == '/')
        end--;
    if (start == 0)
        snprintf(buf, len, ".");
    else if (end == 0)
        snprintf(buf, len, "/");
    else
        snprintf(buf, len, "%.*s", (int)end, path);
}

/* May the symlink path[0, n) (link: its lstat) be followed? False with why set if the rule
 * forbids it. */
static bool link_followable(const char *path, size_t n, const struct stat *link, char *why,
                            size_t len) {
    char parent[PATH_MAX];
    struct stat dir;
    parent_of(path, n, parent, sizeof parent);
    if (stat(parent, &dir) != 0)
        return true; /* the open fails on its own */
    bool sticky_shared = (dir.st_mode & S_ISVTX) && (dir.st_mode & S_IWOTH);
    if (!sticky_shared || link->st_uid == geteuid() || link->st_uid == dir.st_uid)
        return true;
    snprintf(why, len,
             "%.*s is a symlink owned by user %u in the sticky world-writable directory %s: "
             "not followed (the rule of fs.protected_symlinks)",
             (int)n, path, (unsigned)link->st_uid, parent);
    return false;
}

/* Applies the rule to each component of path, from the first; *last is the lstat of the whole
 * path and *exists says whether there was one (false too if a component before is missing). */
static bool components_allowed(const char *path, struct stat *last, bool *exists, char *why,
                               size_t len) {
    size_t n = strlen(path);
    char prefix[PATH_MAX];
    *exists = false;
    if (n >= sizeof prefix) {
        errno = ENAMETOOLONG;
        snprintf(why, len, "%s", strerror(errno));
        return false;
    }
    for (size_t i = 1; i <= n; i++) {
        if ((i < n && path[i] != '/') || path[i - 1] == '/')
            continue; /* not the end of a component (or "/", "//", a trailing '/') */
        memcpy(prefix, path, i);
        prefix[i] = '\0';
        struct stat st;
        if (lstat(prefix, &st) != 0)
            return true; /* missing from here on: nothing more to follow */
        if (S_ISLNK(st.st_mode) && !link_followable(path, i, &st, why, len)) {
            errno = EPERM;
            return false;
        }
        if (i == n) {
            *last = st;
            *exists = true;
        }
    }
    return true;
}

bool safe_open_path_allowed(const char *path, char *why, size_t len) {
    struct stat last;
    bool exists;
    return components_allowed(path, &last, &exists, why, len);
}

int safe_open_file(const char *path, int flags, unsigned mode, char *why, size_t len) {
    struct stat last;
    bool exists;
    if (!components_allowed(path, &last, &exists, why, len))
        return -1;
    bool follow = exists && S_ISLNK(last.st_mode); /* allowed: the walk checked it */
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags | (follow ? 0 : O_NOFOLLOW),
                  (mode_t)(mode ? mode : SAFE_OPEN_DEFAULT_MODE));
    if (fd < 0) {
        int err = errno;
        snprintf(why, len, "%s", strerror(err));
        errno = err;
    }
    return fd;
}

FILE *safe_open_stream(const char *path, int flags, unsigned mode, char *why, size_t len) {
    int fd = safe_open_file(path, flags, mode, why, len);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, flags & O_APPEND ? "a" : "w");
    if (!f) {
        int err = errno;
        snprintf(why, len, "%s", strerror(err));
        close(fd);
        errno = err;
    }
    return f;
}

bool safe_open_empty(int fd) {
    struct stat st;
    return fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || ftruncate(fd, 0) == 0;
}
