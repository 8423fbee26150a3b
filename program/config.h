/* config: the configuration file of a sensor (/etc/shakedown/shakedown.conf) — `name = value`
 * lines naming long options, read before the command line, whose options replace them — and
 * `--check-config [FILE]`, which validates one and exits. */
#ifndef SHAKEDOWN_CONFIG_H
#define SHAKEDOWN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define CONFIG_DEFAULT_PATH "/etc/shakedown/shakedown.conf"

/* A file's settings: each option as the command line would give it ("--max-flows=65536", or
 * "--wide" for a flag) with the line it came from, and the BPF filter, which on the command line
 * is the trailing operands rather than an option. */
struct config {
    const char *path;
    char **args;
    unsigned *lines; /* lines[i]: the line of args[i] */
    size_t nargs;
    char *filter; /* `filter = EXPR`, or NULL */
    unsigned filter_line;
    char **merged; /* the vector config_handle_argv gave main, or NULL */
};

/* Reads path into *c. The file holds blank lines, comments (a line whose first non-blank is '#')
 * and settings: `name = value` or, for a flag, `name` alone, name being a long option without
 * its dashes. read, help, version, list-interfaces are not settings. A mistake is written to err
 * as "FILE:LINE: what" and returns false (*c then holds nothing to free). */
bool config_load(struct config *c, const char *path, char *err, size_t errlen);

/* Checks every setting's value exactly as the command line would (each one in a child process
 * that parses it: cli_parse ends a process at the first mistake), then the filter and the
 * settings together. A mistake is written to err as "FILE:LINE: what" (or "FILE: what" for a
 * combination) and returns false. */
bool config_validate(const struct config *c, char *err, size_t errlen);

/* The argument vector for cli_parse: argv0, the file's settings, then the command line's
 * arguments argv[0..argc-1], in a new array (free it with free(); the strings stay owned by c
 * and argv). An option the command line gives replaces every value the file gave it: the file's
 * settings of that option are left out — so a command-line -o replaces the file's outputs (-o
 * repeats to add outputs), a -F its formats, and for the rest the command line's value wins as
 * the last given would. NULL when out of memory. */
char **config_merge_argv(const struct config *c, const char *argv0, int argc, char **argv,
                         int *merged_argc);

void config_free(struct config *c);

/* main's hook, called before cli_parse. `shakedown --check-config [FILE]` (default
 * CONFIG_DEFAULT_PATH): validates FILE, says so, and returns true with *exit_status 0, or 2 after
 * one line on stderr. `shakedown --config FILE ...` (or --config=FILE, as the first argument):
 * loads and validates FILE into *c and points *argc and *argv at the merged vector, owned by c
 * (returns false: carry on; true with *exit_status 2 after one line on stderr on a mistake).
 * Anything else: returns false, c empty. */
bool config_handle_argv(struct config *c, int *argc, char ***argv, int *exit_status);

#endif
