/* The commands of multivm, one row each: main() dispatches from this table,
 * `multivm --help` is printed from it, and tests/unit/test_manpages.c checks
 * that multivm(8) has an entry for every row but the hidden ones (tools for
 * the benchmarks).  The processes multivm starts (`multivm vmm`, `multivm
 * tunnel`) are not commands and not in it. */
#ifndef MULTIVM_CMDTABLE_H
#define MULTIVM_CMDTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct cli_command {
	const char *name;
	/* argv[0] is the command word; returns the exit status. */
	int (*handler)(const char *statedir, int argc, char **argv);
	const char *synopsis;	/* its arguments, as in a usage line */
	const char *help;	/* what it does: one line, or lines joined by \n */
	bool hidden;		/* not in --help nor multivm(8); `help NAME` shows it */
};

extern const struct cli_command cli_commands[];
extern const size_t cli_ncommands;

/* The row called name, or NULL. */
const struct cli_command *cli_command(const char *name);
/* The usage text: every command but the hidden ones, with its synopsis
 * and help. */
void cli_usage(FILE *f);

#endif
