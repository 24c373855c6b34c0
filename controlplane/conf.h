/*
 * conf.h — pop53d's configuration: the command line and the YAML
 * configuration file (docs/config.md), read into one struct
 * ctl_daemon_opts.
 *
 * The file is read first, then every flag is applied over it: a flag
 * replaces the file's value, and a repeatable flag (--listen, --zone,
 * --trusted-key, --exception-addr) replaces the file's whole list;
 * --zone or --snapshot replaces both the file's zones and snapshot.
 * A flag and a file key with the same meaning share one parser, so a
 * value means the same in both places. Relative paths in the file are
 * relative to the file's directory; on the command line, to the current
 * directory.
 *
 * Loading is all-or-nothing: every error (each with its position,
 * "pop53d.yaml:12:5: error: ..." or "pop53d: error: --flag ...") is
 * reported in the caller's diag and no configuration is returned.
 */
#ifndef POP53_CONF_H
#define POP53_CONF_H

#include <stdint.h>
#include <stdio.h>

#include "daemon.h"
#include "diag.h"

/* A loaded configuration: the options and every string they point to. */
struct ctl_conf;

/* ctl_conf_from_args: --help was asked for (nothing loaded). */
#define CTL_CONF_HELP 1

/* Defaults of the push API when neither the file nor a flag sets them. */
#define CTL_CONF_PUSH_MAX_BYTES  (1ull << 30)
#define CTL_CONF_PUSH_TIMEOUT_MS 30000u

/* Read pop53d's command line (argv[0] is the program) and the --config
 * file it names, if any, into a new *out (free with ctl_conf_free).
 * Returns 0, CTL_CONF_HELP (--help: print ctl_conf_usage, exit 0), or a
 * negative p53_err after reporting every problem in d (not NULL; d->out
 * may be NULL): P53_EIO (the configuration file cannot be read),
 * P53_ELIMIT (it is too large), P53_ENOMEM, or P53_ESYNTAX for anything
 * wrong in the flags or the file's content (a bad option, key or value,
 * a missing setting, a named file that cannot be read). pop53d exits
 * with status 2 on any of them. argv is copied: the caller
 * keeps it. */
int ctl_conf_from_args(int argc, char *const *argv, struct diag *d, struct ctl_conf **out);

/* Only a configuration file, as "pop53d --config path" would. */
int ctl_conf_load(const char *path, struct diag *d, struct ctl_conf **out);

/* Read the running configuration's file again and apply the same command
 * line over it (pop53ctl reload-config). Same results as
 * ctl_conf_from_args; running is not changed. */
int ctl_conf_reload(const struct ctl_conf *running, struct diag *d, struct ctl_conf **out);

/* The options, valid until ctl_conf_free; ctl_daemon_run may be given
 * them. */
struct ctl_daemon_opts *ctl_conf_opts(struct ctl_conf *c);

/* The live conf whose options o are (o from ctl_conf_opts), or NULL when
 * o was filled some other way (a test) or its conf was freed. Lets code
 * that is handed only the options (ctl_daemon_run's reload-config) call
 * ctl_conf_reload. Not thread-safe: confs are made and freed on the main
 * thread. */
const struct ctl_conf *ctl_conf_of(const struct ctl_daemon_opts *o);

/* Free c and every string its options point to. NULL is fine. */
void ctl_conf_free(struct ctl_conf *c);

/* pop53d's usage text (every flag), to f. */
void ctl_conf_usage(FILE *f);

/* A byte count: decimal digits with an optional K, M or G suffix
 * (1024-based, either case), e.g. "1G", "512M", "65536". 0 and *out, or
 * P53_ESYNTAX (not that form) / P53_ERANGE (over 2^64 - 1). */
int ctl_conf_parse_size(const char *text, uint64_t *out);

#endif
