/* transport_stdout: records to standard output (a terminal, a pipe, a redirected file). */
#include <stdio.h>

#include "transport.h"

static bool stdout_accepts(const struct transport_options *opt) {
    return opt->path == NULL;
}

static bool stdout_open(struct transport *t, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    t->out = stdout;
    return true;
}

/* stdio buffers the record and the flush hands the whole of it to the kernel at once. */
static bool stdout_write(struct transport *t, const char *buf, size_t len) {
    bool ok = fwrite(buf, 1, len, t->out) == len;
    ok = fflush(t->out) == 0 && ok && !ferror(t->out);
    if (ok)
        t->bytes += len;
    else
        clearerr(t->out);
    return ok;
}

static bool stdout_close(struct transport *t) {
    return fflush(t->out) == 0;
}

extern const struct transport_ops output_transport_stdout;
const struct transport_ops output_transport_stdout = {
    .name = "stdout",
    .accepts = stdout_accepts,
    .open = stdout_open,
    .write = stdout_write,
    .close = stdout_close,
};
