/* main: wiring of capture → decode → track → output, signals, privileges, and exit codes
 * (0 ok, 1 damaged input, 2 usage or setup error — see docs/shakedown.1). The only global
 * mutable state of the program lives here: the flags the signal handlers set. */
#define _DEFAULT_SOURCE 1 /* setgroups() */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analyze.h"
#include "capture.h"
#include "cli.h"
#include "config.h"
#include "ladder.h"
#include "notify.h"
#include "report.h"
#include "safe_open.h"
#include "sink.h"

static volatile sig_atomic_t stop_requested;   /* SIGINT/SIGTERM seen */
static volatile sig_atomic_t reopen_requested; /* SIGHUP seen */
static volatile sig_atomic_t status_on_stderr; /* a status line may be on the terminal */

/* The first SIGINT/SIGTERM asks for an orderly stop (every open connection is reported); a
 * second one exits at once — erasing the live status line first, if one may be on the terminal
 * (write(2) is safe in a signal handler; the line is empty if no status was shown). */
static void on_stop_signal(int sig) {
    if (stop_requested) {
        if (status_on_stderr) {
            static const char erase[] = "\r\033[K";
            ssize_t n = write(STDERR_FILENO, erase, sizeof erase - 1);
            (void)n;
        }
        _exit(128 + sig);
    }
    stop_requested = 1;
}

static void on_hangup(int sig) {
    (void)sig;
    reopen_requested = 1;
}

/* SA_RESTART: a write blocked on a slow reader is resumed, not failed, when a signal arrives. The
 * capture's wait is poll(), which Linux never restarts, so a stop is still noticed at once. A
 * vanished reader shows up as EPIPE on write instead of killing the process. */
static void install_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = on_stop_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_hangup;
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

/* -Z: become USER for good (groups, then group, then user, as tcpdump does), and check that
 * root cannot be regained. */
static bool drop_privileges(const char *user, char *err, size_t errlen) {
    errno = 0;
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        snprintf(err, errlen, "-Z %s: no such user", user);
        return false;
    }
    if (setgroups(1, &pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
        snprintf(err, errlen, "-Z %s: cannot drop privileges: %s", user, strerror(errno));
        return false;
    }
    if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid || (pw->pw_uid != 0 && setuid(0) == 0)) {
        snprintf(err, errlen, "-Z %s: privileges were not dropped", user);
        return false;
    }
    return true;
}

/* A hint, only when checksums cost a large share of the analysis (a quarter of the transport
 * checksums verified): with drop, offloaded ones were left out that auto would have analysed; with
 * auto, bad ones that were not the recognisable offload were left out — a short capture on a host
 * whose NIC leaves something else there, where no source reached the 1000-packet window. */
static void checksum_hint(const struct run_stats *s, enum checksum_mode mode) {
    uint64_t bad = 0, offloaded = 0, all = 0;
    for (unsigned i = CHECKSUM_LAYER_IPV4 + 1; i < CHECKSUM_LAYER_COUNT; i++) {
        const struct checksum_counts *c = &s->checksums[i];
        bad += c->bad;
        offloaded += c->offloaded;
        all += c->good + c->bad + c->offloaded;
    }
    if (mode == CHECKSUM_MODE_DROP && offloaded > 0 && (bad + offloaded) * 4 >= all)
        fprintf(stderr,
                "shakedown: %llu of %llu transport checksums were left to the NIC (checksum "
                "offload: a capture on the sending host) and those packets were left out; the "
                "default --checksums auto analyses them\n",
                (unsigned long long)offloaded, (unsigned long long)all);
    else if (mode == CHECKSUM_MODE_AUTO && s->checksum_dropped > 0 &&
             s->checksum_dropped * 4 >= all)
        fprintf(stderr,
                "shakedown: %llu packets were left out for a wrong checksum (of %llu with a "
                "transport checksum); if the capture was taken on a sending host whose NIC "
                "computes checksums, use --checksums keep\n",
                (unsigned long long)s->checksum_dropped, (unsigned long long)all);
}

static double seconds_since(const struct timespec *t0) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Everything a run needs allocated or opened before it starts; any failure is one line and
 * exit 2. */
struct setup {
    struct analyze_config cfg;   /* what analyze_run is given */
    struct analysis *analysis;   /* its tables, allocated before any output is opened */
    struct input_report *input;  /* one per input (one for a live capture) */
    char first_input_error[512]; /* why the first -r could not be opened (cfg.first_input_error) */
    struct sink sink;
    bool sink_open;
};

/* Is path the file st (same device and inode)? */
static bool same_file(const char *path, const struct stat *st) {
    struct stat out_st;
    return path && stat(path, &out_st) == 0 && st->st_dev == out_st.st_dev &&
           st->st_ino == out_st.st_ino;
}

/* The output path (an -o, or the --report page) that is the file st, or NULL. */
static const char *output_same_file(const struct options *o, const struct stat *st) {
    for (size_t i = 0; i < o->noutputs; i++)
        if (same_file(o->outputs[i].path, st))
            return o->outputs[i].path;
    return same_file(o->report_path, st) ? o->report_path : NULL;
}

/* Every -r input can be opened for reading (a FIFO too: O_NONBLOCK does not wait for its
 * writer), and none is an output file itself (same device and inode): writing it would destroy
 * it. Standard input ("-") is only compared, not read: reading it here would consume it. */
static bool inputs_usable(const struct options *o, char *err, size_t errlen) {
    for (size_t i = 0; i < o->ninputs; i++) {
        const char *path = o->inputs[i];
        bool is_stdin = strcmp(path, "-") == 0;
        int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        struct stat st;
        bool ok = fd >= 0 && fstat(fd, &st) == 0;
        if (!ok && !is_stdin) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            if (fd >= 0)
                close(fd);
            return false;
        }
        if (!is_stdin)
            close(fd);
        const char *out = ok ? output_same_file(o, &st) : NULL;
        if (out) {
            snprintf(err, errlen, "output %s is the input %s: refusing to overwrite it", out, path);
            return false;
        }
    }
    return true;
}

/* --ladder-svg DIR: a directory the SVG files can be created in, reached through no symlink
 * another user may have planted (safe_open.h). */
static bool svg_dir_usable(const char *dir, char *err, size_t errlen) {
    struct stat st;
    char planted[512];
    const char *why = NULL;
    if (!safe_open_path_allowed(dir, planted, sizeof planted))
        why = planted;
    else if (stat(dir, &st) != 0)
        why = strerror(errno);
    else if (!S_ISDIR(st.st_mode))
        why = "not a directory";
    else if (access(dir, W_OK | X_OK) != 0)
        why = strerror(errno);
    if (why)
        snprintf(err, errlen, "--ladder-svg %s: %s", dir, why);
    return why == NULL;
}

/* Does --ladder ask for text ladders on standard output? */
static bool ladder_text(const struct options *o) {
    return o->ladder_all || o->nladder > 0;
}

/* Whether any -o names a file, directory or network target (not standard output). */
static bool outputs_to_files(const struct options *o) {
    for (size_t i = 0; i < o->noutputs; i++)
        if (o->outputs[i].path)
            return true;
    return false;
}

/* --ladder: the connections to draw on standard output, in colour on a terminal (unless
 * NO_COLOR is set); --ladder-svg: as files, those of --ladder or else every TCP connection. NULL
 * when neither was asked for (or, with *failed, out of memory). */
static struct ladder *ladder_open(const struct options *o, bool *failed) {
    *failed = false;
    if (!ladder_text(o) && !o->ladder_svg_dir)
        return NULL;
    struct ladder_options lo = {.uids = o->ladder_uids,
                                .nuids = o->nladder,
                                .all = o->ladder_all || o->nladder == 0,
                                .colour = isatty(STDOUT_FILENO) && !getenv("NO_COLOR"),
                                .out = ladder_text(o) ? stdout : NULL,
                                .svg_dir = o->ladder_svg_dir,
                                .file_mode = o->output.file_mode,
                                .err = stderr};
    struct ladder *l = ladder_new(&lo);
    *failed = l == NULL;
    return l;
}

/* What can be checked without opening anything: the filter, the user of -Z, the inputs, the
 * directory of --ladder-svg. */
static bool setup_check(const struct options *o, char *err, size_t errlen) {
    char why[512];
    if (!capture_filter_valid(o->filter, why, sizeof why)) {
        snprintf(err, errlen, "bad filter expression '%s': %s", o->filter, why);
        return false;
    }
    if (o->user && !getpwnam(o->user)) {
        snprintf(err, errlen, "-Z %s: no such user", o->user);
        return false;
    }
    return inputs_usable(o, err, errlen) &&
           (!o->ladder_svg_dir || svg_dir_usable(o->ladder_svg_dir, err, errlen));
}

/* Every allocation the run needs at its start: the analysis (the trackers of every worker: the
 * one large allocation, a --max-flows too large for the machine fails here with what it needs),
 * the ladders, the input reports. */
static bool setup_allocate(const struct options *o, struct setup *su, char *err, size_t errlen) {
    su->cfg = (struct analyze_config){.inputs = o->inputs,
                                      .ninputs = o->ninputs,
                                      .live_name = o->live.iface,
                                      .filter = o->filter,
                                      .checksums = o->checksums,
                                      .tracker = o->tracker,
                                      .sink = &su->sink,
                                      .stats_interval_ns = o->stats_interval_ns,
                                      .interim_ns = o->interim_ns,
                                      .workers = o->workers,
                                      .shard_index = o->shard_index,
                                      .shard_count = o->shard_count,
                                      .stop = &stop_requested,
                                      .reopen = &reopen_requested,
                                      .records_off = ladder_text(o) && !outputs_to_files(o)};
    bool draws = ladder_text(o) || o->ladder_svg_dir || o->report_path;
    su->analysis = analyze_new(&su->cfg, draws, err, errlen);
    if (!su->analysis)
        return false;
    bool ladder_failed;
    su->cfg.ladder = ladder_open(o, &ladder_failed);
    su->input = calloc(o->ninputs ? o->ninputs : 1, sizeof *su->input);
    if (ladder_failed || !su->input) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    return true;
}

/* -r: the first input, opened before any output so that memory too short for its buffers
 * touches no file. An input that cannot be read for another reason (not a capture) is left to
 * the run, which reports it in its turn and reads the others. */
static bool open_first_input(const struct options *o, struct setup *su, char *err, size_t errlen) {
    char *why = su->first_input_error;
    errno = 0;
    su->cfg.first_input =
        capture_open_file(o->inputs[0], o->filter, why, sizeof su->first_input_error);
    if (su->cfg.first_input)
        return true;
    if (errno != ENOMEM) {
        su->cfg.first_input_error = why;
        return true;
    }
    snprintf(err, errlen, "%s: %s", o->inputs[0], why);
    return false;
}

/* The capture, before any output (a typo in -i must not touch an existing file): -i's
 * interface, or the first -r file. With --workers, one socket per worker, in one PACKET_FANOUT
 * group: the kernel splits the traffic. */
static bool setup_capture(const struct options *o, struct setup *su, char *err, size_t errlen) {
    char why[512];
    if (!o->live.iface)
        return o->ninputs == 0 || open_first_input(o, su, err, errlen);
    if (o->workers > 1)
        su->cfg.live_group = capture_open_group(&o->live, o->workers, o->filter, why, sizeof why);
    else
        su->cfg.live = capture_open_live(&o->live, o->filter, why, sizeof why);
    if (!su->cfg.live && !su->cfg.live_group) {
        snprintf(err, errlen, "%s: %s", o->live.iface, why);
        return false;
    }
    return true;
}

/* The report and every -o, each opened as it is: nothing is emptied until all could be
 * (setup_open: sink_begin, report_start), so `-o a.json -o /nonexistent/b.json` leaves a.json as it
 * was. */
static bool setup_outputs(struct options *o, struct setup *su, char *err, size_t errlen) {
    char why[512];
    if (o->report_path) {
        su->cfg.report = report_begin(o->report_path, o->output.file_mode, why, sizeof why);
        if (!su->cfg.report) {
            snprintf(err, errlen, "--report %s", why);
            return false;
        }
    }
    o->output.live = o->live.iface != NULL; /* a receiver that is down must not stop capture */
    sink_init(&su->sink);
    su->sink_open = true;
    for (size_t i = 0; i < o->noutputs; i++) {
        struct transport_options opt = o->output;
        opt.path = o->outputs[i].path;
        const struct format_ops *format = o->outputs[i].format;
        if (!format)
            format = output_format_find(sink_is_terminal(&opt) ? "text" : "json");
        if (!sink_add(&su->sink, &opt, format, &o->record, err, errlen))
            return false;
    }
    return true;
}

/* Everything is checked, allocated and opened before the outputs are emptied (truncated): the
 * checks, the memory, the interface, every output; then -Z (setgroups can fail too). */
static bool setup_open(struct options *o, struct setup *su, char *err, size_t errlen) {
    if (!setup_check(o, err, errlen) || !setup_allocate(o, su, err, errlen) ||
        !setup_capture(o, su, err, errlen) || !setup_outputs(o, su, err, errlen))
        return false;
    if (o->user && !drop_privileges(o->user, err, errlen))
        return false;
    if (!sink_begin(&su->sink, err, errlen) ||
        (su->cfg.report && !report_start(su->cfg.report, err, errlen)))
        return false;
    /* Records are written by a thread per output, on another core. Live, the capture never
     * waits for one: what an output's full queue cannot take is dropped and counted. */
    sink_start_writer(&su->sink, o->output_queue, o->live.iface != NULL);
    return true;
}

/* --report: the summary and the rest of the page; a report that could not be written is said
 * once and makes the exit status 3, as lost records do. */
static enum exit_status report_close(struct setup *su, const struct run_stats *stats,
                                     const struct input_report *reports, const struct options *o,
                                     double seconds, enum exit_status rc) {
    char err[600];
    struct report *r = su->cfg.report;
    su->cfg.report = NULL; /* the run is over: finished here, not discarded */
    if (!r || report_finish(r, stats, reports, o->live.iface ? 1 : o->ninputs, seconds, &o->record,
                            err, sizeof err))
        return rc;
    fprintf(stderr, "shakedown: cannot write the report: %s\n", err);
    return rc == EXIT_STATUS_OK || rc == EXIT_STATUS_DAMAGED ? EXIT_STATUS_OUTPUT : rc;
}

static enum exit_status run(struct options *o, struct setup *su, const struct timespec *t0) {
    struct run_stats stats = {0};
    struct notify watchdog;
    notify_init(&watchdog);
    su->cfg.watchdog = &watchdog;
    struct input_report *reports = su->input;
    struct ladder *ladder = su->cfg.ladder;
    bool reader_gone = false;
    notify_ready(); /* the capture and the output are open, privileges dropped */
    enum exit_status rc = analyze_run(su->analysis, &stats, reports, stderr, &reader_gone);
    notify_stopping();
    /* A uid asked for that the input does not hold is a usage error, said once per uid. */
    if (ladder && ladder_report_missing(ladder, stderr) && rc == EXIT_STATUS_OK)
        rc = EXIT_STATUS_USAGE;
    if (ladder) /* connections --ladder all left undrawn, its memory bound reached: said */
        ladder_report_limits(ladder, stderr);
    if (reader_gone) /* `shakedown ... | head`: the reader had enough; not an error */
        return report_close(su, &stats, reports, o, seconds_since(t0), EXIT_STATUS_OK);
    sink_drain(&su->sink);
    stats_set_records_lost(&stats, su->sink.lost_records);
    stats_set_rotations_failed(&stats, sink_rotations_failed(&su->sink));
    struct output_account accounts[SINK_OUTPUTS_MAX]; /* as the summary record says them */
    stats_set_outputs(&stats, accounts, sink_accounts(&su->sink, accounts));
    if (!su->cfg.records_off)
        sink_summary(&su->sink, &stats, reports, o->live.iface ? 1 : o->ninputs, seconds_since(t0));
    rc = report_close(su, &stats, reports, o, seconds_since(t0), rc);
    checksum_hint(&stats, o->checksums);
    if (su->sink.lost_records && !su->sink.broken_pipe) {
        fprintf(stderr, "shakedown: %llu records could not be written\n",
                (unsigned long long)su->sink.lost_records);
        if (rc == EXIT_STATUS_OK || rc == EXIT_STATUS_DAMAGED)
            rc = EXIT_STATUS_OUTPUT;
    }
    return rc;
}

int main(int argc, char **argv) {
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct config conf; /* --config FILE: its settings come before the command line's */
    int conf_status;
    if (config_handle_argv(&conf, &argc, &argv, &conf_status))
        return conf_status;
    struct options o;
    cli_parse(&o, argc, argv);
    if (!o.filter && conf.filter) /* a filter on the command line overrides the file's */
        o.filter = strdup(conf.filter);
    char err[2048];
    if (o.list_interfaces) {
        bool ok = capture_list_interfaces(stdout, err, sizeof err);
        if (!ok)
            fprintf(stderr, "shakedown: cannot list interfaces: %s\n", err);
        cli_options_free(&o);
        config_free(&conf);
        return ok ? EXIT_STATUS_OK : EXIT_STATUS_USAGE;
    }
    status_on_stderr = o.live.iface && o.stats_interval_ns > 0 && isatty(STDERR_FILENO);
    install_signals();
    struct setup su = {0};
    enum exit_status rc = EXIT_STATUS_USAGE;
    if (setup_open(&o, &su, err, sizeof err)) {
        rc = run(&o, &su, &t0);
    } else {
        fprintf(stderr, "shakedown: %s\n", err);
        capture_close(su.cfg.first_input); /* opened, never read */
    }
    report_discard(su.cfg.report); /* a run that did not get to finish it */
    analyze_free(su.analysis);
    ladder_free(su.cfg.ladder);
    free(su.input);
    if (su.cfg.live)
        capture_close(su.cfg.live);
    capture_group_close(su.cfg.live_group);
    if (su.sink_open && !sink_close(&su.sink) && !su.sink.broken_pipe) {
        fprintf(stderr, "shakedown: cannot write output: %s\n", strerror(errno));
        if (rc == EXIT_STATUS_OK || rc == EXIT_STATUS_DAMAGED)
            rc = EXIT_STATUS_OUTPUT;
    }
    cli_options_free(&o);
    config_free(&conf);
    return (int)rc;
}
