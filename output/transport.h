/* transport: where record bytes go — the table of output transports. A transport receives each
 * record whole, already formatted, in one call, and writes it out at once (a reader tailing the
 * output sees complete lines as soon as they exist). Reopening (SIGHUP) and rotation happen
 * between records. Transports run on whichever thread writes records (the writer thread when it
 * runs); rotation_due alone may also be called from the analysis thread.
 *
 * Adding a transport: one new file defining a `const struct transport_ops`, and one row in
 * the table in transport.c (rows are tried in order; the first that accepts the target wins). */
#ifndef SHAKEDOWN_TRANSPORT_H
#define SHAKEDOWN_TRANSPORT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "anomaly.h"

struct transport_options {
    const char *path;            /* the target as given to -o; NULL: standard output */
    uint64_t rotate_bytes;       /* rotate once the file holds this much (0: never) */
    int64_t rotate_ns;           /* rotate when the file is this old (0: never) */
    unsigned file_mode;          /* permissions of files it creates, before the umask (0: 0640) */
    const char *syslog_facility; /* --syslog-facility NAME (NULL: local5) */
    bool live; /* a live capture: a receiver that is down must not hold it up (drop, count) */
};

/* What the record handed to write is, set by the sink before each write: a transport that
 * labels its messages (syslog: MSGID and severity) reads it, the others ignore it. */
enum transport_record_kind {
    TRANSPORT_RECORD_CONNECTION,
    TRANSPORT_RECORD_ANOMALY,
    TRANSPORT_RECORD_STATS,
    TRANSPORT_RECORD_SUMMARY,
};

struct transport_record {
    enum transport_record_kind kind;
    enum anomaly_severity severity; /* an anomaly's; SEVERITY_INFO for the other kinds */
};

/* An open transport: what every transport keeps (a stream, what it has written, when it was
 * opened); a transport with more state of its own hangs it on `own`. */
struct transport {
    const struct transport_ops *ops;
    struct transport_options opt;
    FILE *out;                 /* NULL once lost (a reopen that failed) */
    bool failed;               /* a failure was reported on stderr; later ones are not */
    uint64_t bytes;            /* bytes written to the current file (0: it is empty) */
    _Atomic int64_t opened_ns; /* wall clock when the current file was opened */
    uint32_t rotations;
    _Atomic uint64_t rotations_failed; /* rotations that did not happen (the file was kept); read
                                        * by other outputs' writer threads for stats records */
    struct transport_record record;    /* the record being written (the sink sets it) */
    uint64_t lost;       /* records taken by write and later not delivered; the sink counts them */
    bool rotate_pending; /* the file reached --rotate-size: the sink rotates it (and its
                          * siblings, the other logs of its output) after this record */
    void *own;
};

struct transport_ops {
    const char *name;
    /* True if this transport serves the target (opt->path; NULL for standard output). */
    bool (*accepts)(const struct transport_options *opt);
    /* Opens it; false with a one-line reason in err. A file is not emptied yet: */
    bool (*open)(struct transport *t, char *err, size_t errlen);
    /* Every output is open: start afresh (a file is truncated only now, so an output that could
     * not be opened left the others as they were). NULL: nothing to do. */
    bool (*begin)(struct transport *t, char *err, size_t errlen);
    /* Writes one record; false (errno set) if it was not written. */
    bool (*write)(struct transport *t, const char *buf, size_t len);
    /* SIGHUP: start again on the target by its name (NULL: nothing to do). */
    void (*reopen)(struct transport *t, int64_t wall_ns);
    /* Rotation by age: due now? (cheap, any thread; NULL: never). rotate: move what was written
     * since the last rotation aside now, whatever its age (the writer's thread). */
    bool (*rotation_due)(const struct transport *t, int64_t wall_ns);
    void (*rotate)(struct transport *t, int64_t wall_ns);
    /* Delivers what the transport holds back (a batch): called when the writer thread has
     * nothing more to write for now (NULL: nothing is held back). */
    void (*flush)(struct transport *t);
    /* Flushes and closes; false if that failed. */
    bool (*close)(struct transport *t);
};

/* Opens the transport that accepts opt's target into t; false with a one-line reason in err. */
bool transport_open(struct transport *t, const struct transport_options *opt, char *err,
                    size_t errlen);

/* True if the transport that would serve opt's target rotates what it writes (it has a rotate
 * operation): the targets --rotate-size, --rotate-seconds and --file-mode apply to. */
bool transport_rotates(const struct transport_options *opt);

/* The syslog facility called name ("local5", "daemon" ...) as its number, or -1. */
int transport_syslog_facility(const char *name);

/* The names of every syslog facility, separated by sep (for help and errors). */
void transport_syslog_facility_names(char *buf, size_t len, const char *sep);

#endif
