/* End-to-end tests of hostile input (issue 7), output that cannot be written: a full disk
 * (-o /dev/full) and a reader that closes the pipe (shakedown(1), EXIT STATUS and SIGPIPE). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capwrite.h"
#include "hostile_helpers.h"
#include "run.h"
#include "session.h"

/* ==== writes that fail ======================================================================== */

/* 200 complete, healthy exchanges (ports 42000..42199): 200 connection records and the summary,
 * 201 records, no anomaly. */
static const char *two_hundred_connections(void) {
    const char *path = tmp_path("200.pcap");
    struct capwrite *w = capwrite_open(path, CAPWRITE_PCAP_USEC, 1, 65535);
    cr_assert(w);
    struct session_clock clock = {T0, 1000000};
    for (int i = 0; i < 200; i++) {
        struct session s;
        session_on(&s, w, &clock, (uint16_t)(42000 + i));
        session_handshake(&s);
        session_data(&s, SESSION_CLIENT, 100);
        session_ack(&s, SESSION_SERVER);
        session_close(&s, SESSION_CLIENT);
        cr_assert(s.ok);
    }
    cr_assert(capwrite_close(w));
    return path;
}

/* -o /dev/full: every write fails with ENOSPC. shakedown(1): such a failure "is reported once on
 * standard error; capture and analysis go on and the records that could not be written are
 * counted", and EXIT STATUS 3: "Records were lost: the output could not be written ... standard
 * error says how many records are missing". Expected: the error once, naming /dev/full and the
 * reason; besides it only the count of records not written, which for JSON is all 201 (the
 * capture is still analysed to its end); exit status 3. */
Test(write_failure, output_to_dev_full) {
    const char *path = two_hundred_connections();
    for (int text = 0; text <= 1; text++) {
        const char *args[] = {"-r", path, "-o", "/dev/full", "-F", text ? "text" : "json", NULL};
        struct run_result r = run_shakedown(NULL, args);
        cr_expect_lt(r.status, 128, "killed by signal %d", r.status - 128);
        cr_expect_eq(r.status, 3,
                     "%s: exit status %d although no record could be written, "
                     "want 3; stderr: %s",
                     text ? "text" : "json", r.status, r.err);
        int errors = 0, counts = 0, others = 0;
        char *save = NULL;
        for (char *l = strtok_r(r.err, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
            unsigned long long lost;
            if (strstr(l, "/dev/full") && strstr(l, strerror(ENOSPC)))
                errors++;
            else if (sscanf(l, "shakedown: %llu records could not be written", &lost) == 1) {
                counts++;
                if (!text)
                    cr_expect_eq(lost, 201, "%llu records counted as lost, want 201", lost);
            } else
                others++;
        }
        cr_expect_eq(errors, 1, "the write error is reported %d times, want once", errors);
        cr_expect_eq(counts, 1, "the count of records not written is printed %d times", counts);
        cr_expect_eq(others, 0, "other lines on stderr");
        cr_expect_str_empty(r.out);
        run_result_free(&r);
    }
}

/* The reader of standard output goes away: shakedown(1), SIGPIPE: "shakedown stops quietly with
 * status 0". 200 connections make ~200 kB of JSON, more than a pipe holds, so shakedown does hit
 * the closed pipe: (a) the read end closed before shakedown starts; (b) a reader that takes one
 * line and closes — that line is a whole, valid record. Both: status 0, nothing on stderr. */
Test(write_failure, closed_pipe) {
    const char *path = two_hundred_connections();
    for (int reader = 0; reader <= 1; reader++) {
        int fds[2];
        cr_assert(pipe(fds) == 0);
        const char *errp = tmp_path("pipe.err");
        if (!reader)
            close(fds[0]);
        pid_t pid = fork();
        cr_assert(pid >= 0);
        if (pid == 0) {
            signal(SIGPIPE, SIG_DFL);
            int err = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
            int in = open("/dev/null", O_RDONLY);
            if (err < 0 || in < 0 || dup2(in, 0) < 0 || dup2(fds[1], 1) < 0 || dup2(err, 2) < 0)
                _exit(126);
            if (reader)
                close(fds[0]);
            close(fds[1]);
            execl(SHAKEDOWN_BIN, SHAKEDOWN_BIN, "-F", "json", "-r", path, (char *)NULL);
            _exit(127);
        }
        close(fds[1]);
        char line[8192];
        size_t got = 0;
        if (reader) {
            while (got < sizeof line - 1) {
                ssize_t k = read(fds[0], line + got, 1);
                if (k <= 0 || line[got] == '\n')
                    break;
                got++;
            }
            line[got] = '\0';
            close(fds[0]);
        }
        int ws = 0;
        cr_assert_eq(waitpid(pid, &ws, 0), pid);
        cr_expect(WIFEXITED(ws) && WEXITSTATUS(ws) == 0,
                  "reader %d: shakedown ended with wait status %#x", reader, ws);
        size_t n;
        uint8_t *err = read_whole(errp, &n);
        cr_expect_eq(n, 0, "reader %d: stderr: %.*s", reader, (int)n, (const char *)err);
        free(err);
        if (reader) {
            struct json_object *o = json_parse_record(line);
            cr_expect(o && strcmp(json_str_or(o, "type"), "connection") == 0, "first line: %s",
                      line);
            json_object_put(o);
        }
    }
}
