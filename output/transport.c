/* transport: the table of output transports, each defined in a file of its own. */
#include "transport.h"

#include <string.h>

#include "capture.h"

extern const struct transport_ops output_transport_stdout; /* transport_stdout.c */
extern const struct transport_ops output_transport_syslog; /* transport_syslog.c */
extern const struct transport_ops output_transport_redis;  /* transport_redis.c */
extern const struct transport_ops output_transport_file;   /* transport_file.c */

/* The file row takes any path, so it comes after the rows that take URLs. */
static const struct transport_ops *const transports[] = {
    &output_transport_stdout,
    &output_transport_syslog,
    &output_transport_redis,
    &output_transport_file,
};

static const struct transport_ops *transport_find(const struct transport_options *opt) {
    for (size_t i = 0; i < sizeof transports / sizeof transports[0]; i++)
        if (transports[i]->accepts(opt))
            return transports[i];
    return NULL;
}

bool transport_rotates(const struct transport_options *opt) {
    const struct transport_ops *ops = transport_find(opt);
    return ops && ops->rotate;
}

bool transport_open(struct transport *t, const struct transport_options *opt, char *err,
                    size_t errlen) {
    memset(t, 0, sizeof *t);
    t->opt = *opt;
    t->opened_ns = capture_wall_ns();
    t->ops = transport_find(opt);
    if (t->ops)
        return t->ops->open(t, err, errlen);
    snprintf(err, errlen, "no output transport for %s", opt->path ? opt->path : "stdout");
    return false;
}
