/* multivm: command-line entry. See multivm.8; the commands are in cmdtable.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmdtable.h"
#include "common/log.h"
#include "supervisor/state.h"
#include "tunnel/tunnel.h"
#include "vmm/vmm.h"

int main(int argc, char **argv)
{
	char dir[256];
	const char *opt_dir = NULL, *name;
	const struct cli_command *c;
	int i = 1;

	/* Debug lines (every refused or odd event, in full) go to the logs
	 * only when asked; the VMMs inherit the environment. */
	if (getenv("MULTIVM_DEBUG"))
		log_set_level(LOG_DEBUG);
	/* The processes multivm starts, not commands: see cmdtable.h. */
	if (argc > 1 && strcmp(argv[1], "vmm") == 0)
		return vmm_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "tunnel") == 0)
		return tunnel_main(argc - 1, argv + 1);
	if (i + 1 < argc && strcmp(argv[i], "-S") == 0) {
		opt_dir = argv[i + 1];
		i += 2;
	}
	state_dir(dir, sizeof(dir), opt_dir);
	if (i >= argc) {
		cli_usage(stderr);
		return 2;
	}
	name = argv[i];
	if (!strcmp(name, "--help") || !strcmp(name, "-h"))
		name = "help";
	else if (!strcmp(name, "--version"))
		name = "version";
	c = cli_command(name);
	if (!c) {
		fprintf(stderr, "multivm: no command '%s'\n", name);
		cli_usage(stderr);
		return 2;
	}
	argv[i] = (char *)c->name;
	return c->handler(dir, argc - i, argv + i);
}
