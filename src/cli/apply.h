/* multivm config, multivm apply: the running configuration (STATE/run,
 * the text the supervisor was started with, or last applied) and a
 * change of it at run time (multivm(8)).
 *
 *   multivm config                 prints STATE/run
 *   multivm apply [--dry-run] CONFIG
 *
 * apply checks CONFIG as run does (same messages), compares it with the
 * running configuration (config/diff.h) and prints the plan, a line per
 * change. It carries out what changes at run time: a link's settings
 * (`~ link`: impairments and state, through the nodes' control files as
 * `multivm link`), then VMs and segment links added or removed, which the supervisor
 * does (supervisor/grow.h; asked through STATE/apply.req and SIGUSR1,
 * answered in STATE/apply.res), waiting until they are up. A plan with
 * anything else is refused whole, nothing done. Each step done is pushed
 * on an undo list (cli/undo.h); when a later one fails (a link's control
 * file, the supervisor, a running VMM that does not take its links, a new
 * VM that exits or is not up in time) they are undone, the last first:
 * the supervisor's part by handing it the old config back, which is its
 * inverse. The error names the failed step; exit status 1. */
#ifndef MULTIVM_CLI_APPLY_H
#define MULTIVM_CLI_APPLY_H

/* Exit statuses, as run's. */
#define APPLY_OK	0
#define APPLY_FAILED	1	/* no system, a step failed (undone), or a change not done at run time */
#define APPLY_USAGE	2	/* bad arguments, or CONFIG refused */

int cmd_config(const char *dir, int argc, char **argv);
int cmd_apply(const char *dir, int argc, char **argv);

#endif
