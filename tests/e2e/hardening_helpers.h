/* hardening_helpers: what the end-to-end tests of issue 18 (test_hardening_*.c: setup failures,
 * output files under hostile conditions) share — running shakedown under a shell (for ulimit),
 * files to compare before and after a run, a capture of many healthy connections, and checking
 * that every line of an output file is a whole JSON record. */
#ifndef SHAKEDOWN_E2E_HARDENING_HELPERS_H
#define SHAKEDOWN_E2E_HARDENING_HELPERS_H

#include <stdbool.h>
#include <stddef.h>

#include "run.h"

/* The bundled sample every hardening test reads (one clean IPv4 connection), and what an earlier
 * run left in an output file (which a refused run must leave as it is). */
#define SAMPLE SHAKEDOWN_SOURCE_DIR "/samples/clean-ipv4.pcap"
#define EARLIER "{\"type\":\"earlier run\"}\n"

/* A run refused at setup as the hardening rules want it: exit status 2 (not a signal), one line
 * on stderr holding needle, nothing on standard output. */
void expect_refused_run(const struct run_result *r, const char *needle);

/* Runs `sh -c script SHAKEDOWN_BIN args...`: the script ends with exec "$0" "$@" after setting
 * limits (ulimit -v, ulimit -f) on the shell that becomes shakedown. stdin is /dev/null. */
struct run_result run_sh(const char *script, const char *const *args);

/* Writes text to path (replacing it); the whole content of path (NULL if it cannot be read;
 * free it). */
void file_put(const char *path, const char *text);
char *file_get(const char *path);

/* Copies the file at from to to; true if the files at a and b hold the same bytes. */
void file_copy(const char *from, const char *to);
bool file_same(const char *a, const char *b);

/* A pcap of n healthy connections (handshake, 100 bytes, ACK, close; ports 42000 + i), each
 * giving one connection record with no anomaly. Its path stays valid until the next call. */
const char *healthy_capture(const char *name, int n);

/* Lines of the file at path: *lines counts them, *whole those that parse as a JSON object;
 * false if it does not end with a newline (a record cut short) or cannot be read. */
bool file_lines_parse(const char *path, int *lines, int *whole);

/* Tests that must run as root (to act as another user): as root, returns; otherwise the test
 * fails, saying why, unless SHAKEDOWN_SKIP_LIVE=1 asks explicitly to skip what needs root (as
 * the live tests take it), so that no skipped test counts as passed unasked. */
void require_root(const char *why);

/* A directory made like /tmp (mode 1777, owned by root as /tmp is), fresh, in the test's own
 * directory, which is made reachable by every user: where another user may plant symlinks. */
const char *sticky_dir(const char *name);

/* A symlink at link to target, owned by uid as if that user had planted it (lchown: needs
 * root). */
void plant_symlink(const char *target, const char *link, unsigned uid);

/* The uid of user nobody, the other user the tests plant symlinks as and run shakedown as. */
#define NOBODY_UID 65534u

/* True if the file at path holds exactly text (false if it cannot be read). */
bool file_is(const char *path, const char *text);

#endif
