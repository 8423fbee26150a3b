/* replay: a main() for the fuzz targets without libFuzzer. Runs LLVMFuzzerTestOneInput on every
 * file named, and on every file directly inside every directory named (not recursing, skipping
 * dot-files and *.md notes), so the seed corpus and the regression inputs run as ordinary ctest
 * tests with gcc and under ASan/UBSan. Owns one input buffer at a time, exactly the file's size,
 * so a read past an input's end is a read past the allocation. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Runs the target on one file; false if it could not be read. */
static bool replay_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return false;
    }
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || sb.st_size < 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        fclose(f);
        return false;
    }
    size_t size = (size_t)sb.st_size;
    uint8_t *buf = malloc(size ? size : 1);
    bool ok = buf && fread(buf, 1, size, f) == size;
    fclose(f);
    if (!ok) {
        fprintf(stderr, "replay: %s: cannot read\n", path);
        free(buf);
        return false;
    }
    /* An empty input gets a buffer of 0 usable bytes: pass exactly what was read. */
    LLVMFuzzerTestOneInput(buf, size);
    free(buf);
    return true;
}

static bool skipped(const char *name) {
    size_t n = strlen(name);
    return name[0] == '.' || (n >= 3 && strcmp(name + n - 3, ".md") == 0);
}

/* Runs every regular file directly in dir, in name order; counts them in *count. */
static bool replay_dir(const char *dir, unsigned long *count) {
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    if (n < 0) {
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return false;
    }
    bool ok = true;
    for (int i = 0; i < n; i++) {
        char path[4096];
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
        if (!skipped(names[i]->d_name) && stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
            ok = replay_file(path) && ok;
            ++*count;
        }
        free(names[i]);
    }
    free(names);
    return ok;
}

int main(int argc, char **argv) {
    unsigned long count = 0;
    bool ok = true;
    for (int i = 1; i < argc; i++) {
        struct stat sb;
        if (stat(argv[i], &sb) != 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            ok = false;
        } else if (S_ISDIR(sb.st_mode)) {
            ok = replay_dir(argv[i], &count) && ok;
        } else {
            ok = replay_file(argv[i]) && ok;
            count++;
        }
    }
    printf("replay: %lu inputs run%s\n", count, ok ? "" : ", some could not be read");
    return ok ? 0 : 1;
}
