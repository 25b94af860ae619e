/* The state directory of one running system: where it is, the paths in
 * it, the supervisor's pid and the status file. */
#ifndef MULTIVM_STATE_H
#define MULTIVM_STATE_H

#include <stddef.h>
#include <sys/types.h>

#define STATE_PATH_MAX 108	/* unix socket paths must fit sun_path */

/* The directory: opt (-S), else $MULTIVM_STATE, else /run/multivm for
 * root, else $XDG_RUNTIME_DIR/multivm, else /tmp/multivm-UID. */
void state_dir(char *out, size_t len, const char *opt);

/* DIR/NAMESUFFIX, or -ENAMETOOLONG if it would not fit a socket path. */
int state_path(char *out, const char *dir, const char *name, const char *suffix);

/* The supervisor's pid if one is alive for dir, else 0. */
pid_t state_supervisor(const char *dir);

/* Writes DIR/status atomically. */
int state_write_status(const char *dir, const char *text);

#endif
