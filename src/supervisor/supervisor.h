/* `multivm run`: the supervisor of one system. */
#ifndef MULTIVM_SUPERVISOR_H
#define MULTIVM_SUPERVISOR_H

#include <stdbool.h>

struct run_opts {
	const char *state_dir;
	const char *config;	/* NULL: the built-in system */
	bool detach;
	bool no_guests;		/* VMMs and links only: bring your own frontend */
	int timeout_s;		/* --detach: how long to wait for every VM */
};

/* Returns the process exit status: 0, 1 (failure) or 2 (bad config). */
int supervisor_run(const struct run_opts *o);

#endif
