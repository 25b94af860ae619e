/* `multivm run` (run.c): the supervisor of one system. */
#ifndef MULTIVM_RUN_H
#define MULTIVM_RUN_H

#include <stdbool.h>

struct run_opts {
	const char *state_dir;
	const char *config;	/* NULL: the built-in system */
	const char *host;	/* run this [host]'s part of config (config/hostplan.h) */
	bool detach;
	bool no_guests;		/* VMMs and links only: bring your own frontend */
	int timeout_s;		/* --detach: how long to wait for every VM */
};

/* How a run ended; the command line turns it into an exit status. */
enum run_result {
	RUN_OK,			/* stopped on request, or --detach: every VM is up */
	RUN_FAILED,		/* refused before starting, or could not start */
	RUN_BAD_CONFIG,		/* the config (or its user) cannot be used */
};

/* Runs the system until it is stopped (or, with --detach, until every VM
 * is up, leaving it running). A refusal before anything starts is printed
 * here, to stderr, once. */
enum run_result supervisor_run(const struct run_opts *o);

#endif
