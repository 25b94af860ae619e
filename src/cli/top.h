/* `multivm top`: frames/s, bytes/s and drops/s by reason per VM and per
 * link, from the stats files only (read-only, like `stats`). */
#ifndef MULTIVM_TOP_H
#define MULTIVM_TOP_H

#include <stdbool.h>

struct top_opts {
	const char *state_dir;
	double delay_s;		/* between reports */
	long iterations;	/* 0: until q or a signal */
	bool batch;		/* plain text, no terminal control */
};

/* Reports every delay_s until done; the terminal is restored however it
 * ends. 0 when done or quit, 1 when the system is not (or no longer)
 * running, 128+N after signal N. */
int top_run(const struct top_opts *o);

#endif
