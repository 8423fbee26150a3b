/* safe_open: how every file shakedown writes is opened — the records of -o FILE (and its
 * rotated files, and -o DIR's logs), the --report page and the --ladder-svg drawings. Written for
 * a program that runs as root beside directories other users can write to: every symlink on the
 * way to the file is followed only where Linux's fs.protected_symlinks would follow it, a name
 * that was no symlink when looked at is opened with O_NOFOLLOW (one planted in between is not
 * followed either), descriptors are O_CLOEXEC, and files are created with --file-mode (0640 by
 * default, before the umask). */
#ifndef SHAKEDOWN_SAFE_OPEN_H
#define SHAKEDOWN_SAFE_OPEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The mode of files created when none is given (mode 0): records are not for everyone. */
#define SAFE_OPEN_DEFAULT_MODE 0640

/* fs.protected_symlinks (Documentation/admin-guide/sysctl/fs.rst): a symlink in a sticky
 * world-writable directory (/tmp) may be followed only by its owner, or if the directory's owner
 * owns it — else a user who planted it there could make us write any file we can write. Applied
 * to every component of path that is a symlink (the directories on the way too: `-o /tmp/d/x`
 * with /tmp/d planted). True if every one may be followed (or there is none); false with why set
 * (one line naming the link, its owner and the directory) if one may not. */
bool safe_open_path_allowed(const char *path, char *why, size_t len);

/* Opens path for writing, created if missing with mode (0: SAFE_OPEN_DEFAULT_MODE), after
 * safe_open_path_allowed; flags adds O_TRUNC, O_APPEND or O_EXCL to O_WRONLY|O_CREAT|O_CLOEXEC.
 * The last component is looked at once: a symlink there (allowed) is followed, anything else is
 * opened with O_NOFOLLOW. Returns the descriptor, or -1 with why set (and errno). */
int safe_open_file(const char *path, int flags, unsigned mode, char *why, size_t len);

/* safe_open_file as a stream (fdopen: "a" with O_APPEND, else "w", which by itself truncates
 * nothing). NULL with why set (and errno). */
FILE *safe_open_stream(const char *path, int flags, unsigned mode, char *why, size_t len);

/* A file opened without O_TRUNC, emptied once every output could be opened (so one that could
 * not be left the others as they were): truncated if it is a regular file (a FIFO or a device
 * has nothing to empty). False (errno set) if the truncation failed. */
bool safe_open_empty(int fd);

#endif
