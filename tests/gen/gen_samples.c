/* gen_samples: command-line tool writing the deterministic sample captures of samples.h into a
 * directory, e.g. `gen_samples samples/` (see samples/README.md). */
#include "samples.h"

#include <stdio.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTDIR\n", argc > 0 ? argv[0] : "gen_samples");
        return 2;
    }
    if (!gen_write_samples(argv[1])) {
        fprintf(stderr, "gen_samples: failed to write samples into %s\n", argv[1]);
        return 1;
    }
    for (size_t i = 0; i < gen_sample_count; i++)
        printf("%s/%s: %zu packets\n", argv[1], gen_sample_table[i].file,
               gen_sample_table[i].packets);
    return 0;
}
