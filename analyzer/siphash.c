/* siphash: the per-run random key (the hash itself is inline in siphash.h). */
#define _DEFAULT_SOURCE 1 /* getrandom() */
#include "siphash.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* Reads n random bytes from /dev/urandom; false if it cannot. */
static bool urandom_read(void *buf, size_t n) {
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t got = read(fd, buf, n);
    close(fd);
    return got == (ssize_t)n;
}

void sip_key_random(struct sip_key *key) {
    if (getrandom(key, sizeof *key, 0) == (ssize_t)sizeof *key || urandom_read(key, sizeof *key))
        return;
    /* Neither source (a seccomp filter, no /dev): still different per run and per table, though
     * guessable by someone who knows when the run started. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    key->k0 = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    key->k1 = ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)key;
}
