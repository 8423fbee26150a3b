/* config: the configuration file (`name = value` lines naming long options) turned into the
 * arguments the command line would give, checked by the command line's own parser so that a
 * setting is accepted in the file exactly when it would be on the command line, with every
 * mistake named by file and line; and the `--config` / `--check-config` front of main. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capture.h"
#include "cli.h"

enum { CONFIG_LINE_MAX = 4096 };

/* Options that are not settings of a sensor: inputs, and the ones that print and exit. */
static const char *const not_settings[] = {"read", "help", "version", "list-interfaces"};

static bool is_setting(const char *name) {
    for (size_t i = 0; i < sizeof not_settings / sizeof not_settings[0]; i++)
        if (strcmp(name, not_settings[i]) == 0)
            return false;
    return true;
}

static char *trim(char *s) {
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* Adds "--name" or "--name=value" from line. */
static bool add_arg(struct config *c, const char *name, const char *value, unsigned line) {
    size_t len = strlen(name) + (value ? strlen(value) + 1 : 0) + 3;
    char *arg = malloc(len);
    char **args = realloc(c->args, (c->nargs + 1) * sizeof *args);
    if (args)
        c->args = args;
    unsigned *lines = realloc(c->lines, (c->nargs + 1) * sizeof *lines);
    if (lines)
        c->lines = lines;
    if (!arg || !args || !lines) {
        free(arg);
        return false;
    }
    snprintf(arg, len, value ? "--%s=%s" : "--%s", name, value ? value : "");
    c->args[c->nargs] = arg;
    c->lines[c->nargs++] = line;
    return true;
}

/* One line of the file (its end of line already cut off); what is wrong with it in why. */
static bool parse_line(struct config *c, char *text, unsigned line, char *why, size_t whylen) {
    char *s = trim(text);
    if (*s == '\0' || *s == '#')
        return true;
    size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-");
    char *rest = s + n + strspn(s + n, " \t");
    if (n == 0 || s[0] == '-' || (*rest != '\0' && *rest != '=')) {
        snprintf(why, whylen, "expected 'option = value' (a long option without its dashes)");
        return false;
    }
    char *value = *rest == '=' ? trim(rest + 1) : NULL;
    s[n] = '\0';
    if (value && *value == '\0') {
        snprintf(why, whylen, "'%s' has no value after '='", s);
        return false;
    }
    if (!is_setting(s)) {
        snprintf(why, whylen, "'%s' cannot be set in a configuration file", s);
        return false;
    }
    if (strcmp(s, "filter") != 0) {
        if (!add_arg(c, s, value, line))
            snprintf(why, whylen, "out of memory");
        return *why == '\0';
    }
    if (!value) {
        snprintf(why, whylen, "'filter' needs an expression after '='");
        return false;
    }
    free(c->filter);
    c->filter = strdup(value);
    c->filter_line = line;
    if (!c->filter)
        snprintf(why, whylen, "out of memory");
    return c->filter != NULL;
}

/* Reads f line by line; a line longer than CONFIG_LINE_MAX or holding a NUL byte is a mistake,
 * not something to cut or guess at. */
static bool parse_file(struct config *c, FILE *f, char *err, size_t errlen) {
    char *buf = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned line = 0;
    char why[256] = "";
    while (!*why && (len = getline(&buf, &cap, f)) >= 0) {
        line++;
        if ((size_t)len > CONFIG_LINE_MAX)
            snprintf(why, sizeof why, "line longer than %d bytes", CONFIG_LINE_MAX);
        else if (strlen(buf) != (size_t)len)
            snprintf(why, sizeof why, "NUL byte in the line");
        else
            parse_line(c, buf, line, why, sizeof why);
    }
    if (!*why && ferror(f)) {
        snprintf(err, errlen, "%s: %s", c->path, strerror(errno));
        free(buf);
        return false;
    }
    free(buf);
    if (*why)
        snprintf(err, errlen, "%s:%u: %s", c->path, line, why);
    return *why == '\0';
}

bool config_load(struct config *c, const char *path, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    c->path = path;
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return false;
    }
    bool ok = parse_file(c, f, err, errlen);
    fclose(f);
    if (!ok)
        config_free(c);
    return ok;
}

/* The child's side of check_setting: cli_parse either returns (the setting is good) or writes
 * one line on stderr and exits 2. A placeholder interface and output make it a complete command
 * line, so that only the setting itself can be wrong; the setting comes last, so that its own
 * value overrides theirs, and an option that needs a value but was given none has nothing after
 * it to take as one. */
static void check_setting_child(const char *arg, int errfd) {
    dup2(errfd, STDERR_FILENO);
    FILE *devnull = freopen("/dev/null", "w", stdout);
    (void)devnull;
    char *argv[] = {"shakedown", "-i", "lo", "-o", "/dev/null", (char *)arg, NULL};
    struct options o;
    cli_parse(&o, 6, argv);
    cli_options_free(&o);
    _exit(0);
}

/* What cli_parse said, without its "shakedown: " and " (see shakedown --help)". */
static void strip_usage_line(char *msg) {
    static const char head[] = "shakedown: ", tail[] = " (see shakedown --help)";
    char *nl = strchr(msg, '\n');
    if (nl)
        *nl = '\0';
    if (strncmp(msg, head, sizeof head - 1) == 0)
        memmove(msg, msg + sizeof head - 1, strlen(msg) - (sizeof head - 2));
    size_t n = strlen(msg), t = sizeof tail - 1;
    if (n >= t && strcmp(msg + n - t, tail) == 0)
        msg[n - t] = '\0';
}

/* Parses the one setting arg as the command line would, in a child process (cli_parse ends the
 * process it runs in at a mistake); what was wrong goes to why. */
static bool check_setting(const char *arg, char *why, size_t whylen) {
    int fds[2];
    fflush(stdout);
    fflush(stderr);
    if (pipe(fds) != 0) {
        snprintf(why, whylen, "cannot check: %s", strerror(errno));
        return false;
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        check_setting_child(arg, fds[1]);
    }
    close(fds[1]);
    size_t got = 0;
    ssize_t n;
    while (whylen > 1 && (n = read(fds[0], why + got, whylen - 1 - got)) > 0)
        got += (size_t)n;
    why[got] = '\0';
    close(fds[0]);
    int ws = 0;
    if (pid < 0 || waitpid(pid, &ws, 0) != pid) {
        snprintf(why, whylen, "cannot check: %s", strerror(errno));
        return false;
    }
    if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0)
        return true;
    strip_usage_line(why);
    if (*why == '\0')
        snprintf(why, whylen, "'%s' is not a valid setting", arg);
    return false;
}

bool config_validate(const struct config *c, char *err, size_t errlen) {
    char why[1024];
    for (size_t i = 0; i < c->nargs; i++) {
        if (!check_setting(c->args[i], why, sizeof why)) {
            snprintf(err, errlen, "%s:%u: %s", c->path, c->lines[i], why);
            return false;
        }
    }
    if (c->filter && !capture_filter_valid(c->filter, why, sizeof why)) {
        snprintf(err, errlen, "%s:%u: bad filter expression '%s': %s", c->path, c->filter_line,
                 c->filter, why);
        return false;
    }
    return true;
}

/* Whether the file's setting arg ("--name" or "--name=value") is an option among names. */
static bool setting_named(const char *arg, const char *const *names, size_t nnames) {
    size_t len = strcspn(arg + 2, "=");
    for (size_t i = 0; i < nnames; i++)
        if (strlen(names[i]) == len && strncmp(arg + 2, names[i], len) == 0)
            return true;
    return false;
}

char **config_merge_argv(const struct config *c, const char *argv0, int argc, char **argv,
                         int *merged_argc) {
    /* The command line's options by name, read as cli_parse will (argv0 in front). */
    char **line = calloc((size_t)argc + 2, sizeof *line);
    const char **given = calloc((size_t)argc + 1, sizeof *given);
    char **merged = calloc(1 + c->nargs + (size_t)argc + 1, sizeof *merged);
    size_t ngiven = 0;
    if (line) {
        line[0] = (char *)argv0;
        memcpy(line + 1, argv, (size_t)argc * sizeof *line);
    }
    bool ok = line && given && merged && cli_option_names(argc + 1, line, given, &ngiven);
    size_t n = 0;
    if (ok) {
        merged[n++] = (char *)argv0;
        for (size_t i = 0; i < c->nargs; i++)
            if (!setting_named(c->args[i], given, ngiven))
                merged[n++] = c->args[i];
        memcpy(merged + n, argv, (size_t)argc * sizeof *merged);
        n += (size_t)argc;
        *merged_argc = (int)n;
    }
    free(line);
    free(given);
    if (!ok) {
        free(merged);
        return NULL;
    }
    return merged;
}

void config_free(struct config *c) {
    for (size_t i = 0; i < c->nargs; i++)
        free(c->args[i]);
    free(c->args);
    free(c->lines);
    free(c->filter);
    free(c->merged);
    memset(c, 0, sizeof *c);
}

/* `shakedown --check-config [FILE]`: the exit status. */
static int check_config_command(int argc, char **argv) {
    if (argc > 3) {
        fprintf(stderr, "shakedown: --check-config takes one FILE at most (see shakedown "
                        "--help)\n");
        return EXIT_STATUS_USAGE;
    }
    const char *path = argc == 3 ? argv[2] : CONFIG_DEFAULT_PATH;
    struct config c;
    char err[1536];
    bool ok = config_load(&c, path, err, sizeof err) && config_validate(&c, err, sizeof err);
    if (ok)
        printf("%s: ok (%zu settings%s)\n", path, c.nargs, c.filter ? " and a filter" : "");
    else
        fprintf(stderr, "shakedown: %s\n", err);
    config_free(&c);
    return ok ? EXIT_STATUS_OK : EXIT_STATUS_USAGE;
}

/* "--config FILE" or "--config=FILE" as the first argument: FILE, and how many arguments it
 * took (0: none given). */
static const char *config_path_arg(int argc, char **argv, int *used) {
    static const char opt[] = "--config";
    *used = 0;
    if (argc < 2 || strncmp(argv[1], opt, sizeof opt - 1) != 0)
        return NULL;
    const char *rest = argv[1] + sizeof opt - 1;
    if (*rest == '=') {
        *used = 1;
        return rest + 1;
    }
    if (*rest != '\0')
        return NULL; /* another option: cli_parse says what it makes of it */
    *used = argc >= 3 ? 2 : 1;
    return argc >= 3 ? argv[2] : "";
}

bool config_handle_argv(struct config *c, int *argc, char ***argv, int *exit_status) {
    memset(c, 0, sizeof *c);
    char **v = *argv;
    if (*argc >= 2 && strcmp(v[1], "--check-config") == 0) {
        *exit_status = check_config_command(*argc, v);
        return true;
    }
    int used;
    const char *path = config_path_arg(*argc, v, &used);
    if (!path)
        return false;
    char err[1536];
    *exit_status = EXIT_STATUS_USAGE;
    if (!*path) {
        fprintf(stderr, "shakedown: --config needs a FILE (see shakedown --help)\n");
        return true;
    }
    if (!config_load(c, path, err, sizeof err) || !config_validate(c, err, sizeof err)) {
        fprintf(stderr, "shakedown: %s\n", err);
        config_free(c);
        return true;
    }
    int n;
    c->merged = config_merge_argv(c, v[0], *argc - 1 - used, v + 1 + used, &n);
    if (!c->merged) {
        fprintf(stderr, "shakedown: out of memory\n");
        config_free(c);
        return true;
    }
    *argc = n;
    *argv = c->merged;
    return false;
}
