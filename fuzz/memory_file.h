/* memory_file: the input of a whole-file fuzz target as an anonymous memory file (memfd), which
 * the code under test opens by its /proc/self/fd path like any regular file. Header-only, no
 * state; the including file defines _GNU_SOURCE first (memfd_create). */
#ifndef SHAKEDOWN_FUZZ_MEMORY_FILE_H
#define SHAKEDOWN_FUZZ_MEMORY_FILE_H

#ifndef _GNU_SOURCE
#error "memory_file.h needs _GNU_SOURCE defined before any include (memfd_create)"
#endif

#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

/* Writes size bytes of data to a new memory file named name; its descriptor, or -1. */
static inline int memory_file(const char *name, const uint8_t *data, size_t size) {
    int fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);
        if (n <= 0) {
            close(fd);
            return -1;
        }
        done += (size_t)n;
    }
    return fd;
}

#endif
