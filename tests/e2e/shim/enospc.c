/* enospc: an LD_PRELOAD shim that makes one file's disk fill up and then have room again, for
 * test_hardening_disk.c — no root, no small filesystem needed. write(2) to the file named by
 * ENOSPC_SHIM_PATH (its descriptor's /proc/self/fd link, an absolute path) passes until
 * ENOSPC_SHIM_AFTER bytes went through (the write that crosses it writes only what fits: a record
 * cut short, as on a full disk); the next ENOSPC_SHIM_FAILS calls fail with ENOSPC; then writes
 * pass again (space was freed). Every other descriptor is the real write's. */
#define _GNU_SOURCE 1 /* RTLD_NEXT */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef ssize_t (*write_fn)(int, const void *, size_t);

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static size_t passed;   /* bytes of the file written so far */
static long fails_done; /* ENOSPC failures given so far */

/* Is fd the file of ENOSPC_SHIM_PATH? */
static int is_target(int fd) {
    const char *want = getenv("ENOSPC_SHIM_PATH");
    char link[64], got[4096];
    if (!want)
        return 0;
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, got, sizeof got - 1);
    if (n <= 0)
        return 0;
    got[n] = '\0';
    return strcmp(got, want) == 0;
}

static unsigned long env_number(const char *name) {
    const char *v = getenv(name);
    return v ? strtoul(v, NULL, 10) : 0;
}

ssize_t write(int fd, const void *buf, size_t len) {
    write_fn real = (write_fn)(uintptr_t)dlsym(RTLD_NEXT, "write");
    if (!real) {
        errno = ENOSYS;
        return -1;
    }
    if (!is_target(fd))
        return real(fd, buf, len);
    size_t after = env_number("ENOSPC_SHIM_AFTER");
    long fails = (long)env_number("ENOSPC_SHIM_FAILS");
    pthread_mutex_lock(&lock);
    ssize_t n;
    int err = 0;
    if (passed < after) { /* room left: at most that much goes in */
        size_t room = after - passed;
        n = real(fd, buf, len < room ? len : room);
        err = errno;
        if (n > 0)
            passed += (size_t)n;
    } else if (fails_done < fails) {
        fails_done++;
        err = ENOSPC;
        n = -1;
    } else {
        n = real(fd, buf, len);
        err = errno;
    }
    pthread_mutex_unlock(&lock);
    errno = err;
    return n;
}
