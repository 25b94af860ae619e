/* The commands of multivm and their argument parsing. See cmdtable.h. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/agent.h"
#include "cli/apply.h"
#include "cli/capture.h"
#include "cli/cmdtable.h"
#include "cli/commands.h"
#include "cli/graph.h"
#include "cli/link.h"
#include "cli/qemuargv.h"
#include "cli/top.h"
#include "supervisor/run.h"

#define VERSION "0.1"
#define HELP_COLUMN 22	/* where the help text starts in the usage */

/* A command's own usage line, for bad arguments; returns 2. */
static int bad_usage(const char *name)
{
	const struct cli_command *c = cli_command(name);

	fprintf(stderr, "usage: multivm %s%s%s\n", name, *c->synopsis ? " " : "", c->synopsis);
	return 2;
}

static int parse_secs(const char *s, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == 0 || *end || v <= 0 || v > 86400) {
		fprintf(stderr, "multivm: '%s' is not a number of seconds\n", s);
		return -1;
	}
	*out = v;
	return 0;
}

/* Optional --timeout SECS; returns the index after the options or -1. */
static int timeout_opt(int argc, char **argv, int i, int *secs)
{
	if (i < argc && strcmp(argv[i], "--timeout") == 0) {
		if (i + 1 >= argc || parse_secs(argv[i + 1], secs) < 0)
			return -1;
		i += 2;
	}
	return i;
}

/* [--json | --prometheus] after status or stats. */
static int format(int argc, char **argv, bool prometheus, enum out_format *fmt)
{
	*fmt = OUT_TEXT;
	if (argc > 2)
		return -1;
	if (argc < 2)
		return 0;
	if (!strcmp(argv[1], "--json"))
		*fmt = OUT_JSON;
	else if (prometheus && !strcmp(argv[1], "--prometheus"))
		*fmt = OUT_PROMETHEUS;
	else
		return -1;
	return 0;
}

static int run_cmd(const char *dir, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "detach", no_argument, NULL, 'd' },
		{ "timeout", required_argument, NULL, 't' },
		{ "no-guests", no_argument, NULL, 'n' },
		{ "host", required_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run_opts o = { .state_dir = dir, .timeout_s = 300 };
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 'd')
			o.detach = true;
		else if (c == 'n')
			o.no_guests = true;
		else if (c == 'h')
			o.host = optarg;
		else if (c != 't' || parse_secs(optarg, &o.timeout_s) < 0)
			return 2;
	}
	if (argc - optind > 1 || (o.host && argc - optind != 1))
		return bad_usage(argv[0]);
	o.config = optind < argc ? argv[optind] : NULL;
	switch (supervisor_run(&o)) {
	case RUN_OK:
		return 0;
	case RUN_BAD_CONFIG:
		return 2;
	case RUN_FAILED:
		break;
	}
	return 1;
}

static int status_cmd(const char *dir, int argc, char **argv)
{
	enum out_format fmt;

	if (format(argc, argv, false, &fmt) < 0)
		return bad_usage(argv[0]);
	return cmd_status(dir, fmt);
}

static int stats_cmd(const char *dir, int argc, char **argv)
{
	enum out_format fmt;

	if (format(argc, argv, true, &fmt) < 0)
		return bad_usage(argv[0]);
	return cmd_stats(dir, fmt);
}

/* top [-b] [-n N] [-d SECS] */
static int top_cmd(const char *dir, int argc, char **argv)
{
	struct top_opts o = { .state_dir = dir, .delay_s = 1.0 };
	char *end;
	int c;

	optind = 1;
	while ((c = getopt(argc, argv, "+bn:d:")) != -1) {
		if (c == 'b') {
			o.batch = true;
		} else if (c == 'n') {
			long v = strtol(optarg, &end, 10);

			if (*optarg == 0 || *end || v <= 0 || v > 1000000000)
				goto bad;
			o.iterations = v;
		} else if (c == 'd') {
			o.delay_s = strtod(optarg, &end);
			if (*optarg == 0 || *end || !(o.delay_s >= 0.1 && o.delay_s <= 3600))
				goto bad;
		} else {
			goto bad;
		}
	}
	if (optind == argc)
		return top_run(&o);
bad:
	fprintf(stderr, "usage: multivm top [-b] [-n ITERATIONS] [-d SECS (0.1 to 3600)]\n");
	return 2;
}

/* capture TARGET [-w FILE|-] [-c COUNT] [-s|--snaplen N] [FILTER...],
 * options anywhere (a filter word starting with '-' after --). */
static int capture_cmd(const char *dir, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "snaplen", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct capture_opts o = { .state_dir = dir, .snaplen = CAPTURE_SNAPLEN_DEFAULT };
	unsigned long long v;
	char *end;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "w:c:s:", opts, NULL)) != -1) {
		if (c == 'w') {
			o.out = optarg;
			continue;
		}
		if (c != 'c' && c != 's')
			goto bad;
		errno = 0;
		v = strtoull(optarg, &end, 10);
		if (*optarg < '0' || *optarg > '9' || *end || errno || v == 0 ||
		    v > (c == 'c' ? (unsigned long long)INT64_MAX : CAPTURE_SNAPLEN_MAX))
			goto bad;
		if (c == 'c')
			o.count = v;
		else
			o.snaplen = v;
	}
	if (optind >= argc)
		goto bad;
	o.target = argv[optind];
	o.filter = argv + optind + 1;	/* the rest: a filter, as tcpdump takes it */
	o.nfilter = argc - optind - 1;
	return capture_run(&o);
bad:
	fprintf(stderr, "usage: multivm capture VM[:NIC]|A-B|A->B [-w FILE|-] [-c COUNT (1 or more)] "
		"[-s|--snaplen N (1 to %d)] [FILTER]\n", CAPTURE_SNAPLEN_MAX);
	return 2;
}

/* exec [--timeout S] VM -- CMD...: words joined with spaces, like ssh. */
static int exec_cmd(const char *dir, int argc, char **argv)
{
	static char cmd[65536];
	int secs = 120, i = timeout_opt(argc, argv, 1, &secs);
	const char *vm;

	if (i < 0 || i >= argc)
		goto bad;
	vm = argv[i++];
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	if (i >= argc)
		goto bad;
	if (agent_join_words(cmd, sizeof(cmd), argc - i, argv + i) < 0) {
		fprintf(stderr, "multivm: exec: command too long\n");
		return 255;
	}
	return cmd_exec(dir, vm, cmd, secs);
bad:
	bad_usage(argv[0]);
	return 255;
}

static int console_cmd(const char *dir, int argc, char **argv)
{
	return argc == 2 ? cmd_console(dir, argv[1]) : bad_usage(argv[0]);
}

static int stop_cmd(const char *dir, int argc, char **argv)
{
	int secs = 30;

	if (timeout_opt(argc, argv, 1, &secs) != argc)
		return bad_usage(argv[0]);
	return cmd_stop(dir, secs);
}

static int check_cmd(const char *dir, int argc, char **argv)
{
	return argc == 2 ? cmd_check(argv[1]) : bad_usage(argv[0]);
}

/* plan --host HOST CONFIG */
static int plan_cmd(const char *dir, int argc, char **argv)
{
	if (argc != 4 || strcmp(argv[1], "--host") != 0)
		return bad_usage(argv[0]);
	return cmd_plan(argv[2], argv[3]);
}

static int pci_info_cmd(const char *dir, int argc, char **argv)
{
	return argc == 2 ? cmd_pci_info(argv[1]) : bad_usage(argv[0]);
}

static int version_cmd(const char *dir, int argc, char **argv)
{
	if (argc != 1)
		return bad_usage(argv[0]);
	printf("multivm %s\n", VERSION);
	return 0;
}

/* Help text from the current column on, its later lines at indent. */
static void print_help(FILE *f, const char *h, int indent)
{
	for (; *h; h++) {
		fputc(*h, f);
		if (*h == '\n')
			fprintf(f, "%*s", indent, "");
	}
	fputc('\n', f);
}

/* help [COMMAND]: the usage, or that command's lines of it. */
static int help_cmd(const char *dir, int argc, char **argv)
{
	const struct cli_command *c = argc == 2 ? cli_command(argv[1]) : NULL;

	if (argc == 1) {
		cli_usage(stdout);
		return 0;
	}
	if (argc > 2 || !c) {
		if (argc == 2)
			fprintf(stderr, "multivm: no command '%s'\n", argv[1]);
		return bad_usage(argv[0]);
	}
	printf("usage: multivm %s%s%s\n  ", c->name, *c->synopsis ? " " : "", c->synopsis);
	print_help(stdout, c->help, 2);
	return 0;
}

#define ROW(n, fn, syn, text) { .name = n, .handler = fn, .synopsis = syn, .help = text }
#define HIDDEN(n, fn, syn, text) { .name = n, .handler = fn, .synopsis = syn, .help = text, .hidden = true }

const struct cli_command cli_commands[] = {
	ROW("run", run_cmd, "[--detach] [--timeout SECS] [--no-guests] [--host HOST CONFIG | CONFIG]",
	    "start the system (built-in three-VM system without\n"
	    "CONFIG); --host: HOST's part of a system over several\n"
	    "hosts (the config plan prints)"),
	ROW("status", status_cmd, "[--json]",
	    "one line per VM: NAME state=.. vmm=PID qemu=PID engine=.."),
	ROW("stats", stats_cmd, "[--json | --prometheus]",
	    "frames, bytes and drops per VM and per link"),
	ROW("top", top_cmd, "[-b] [-n N] [-d SECS]",
	    "frames/s, bytes/s and drops/s per VM and link, every SECS\n"
	    "(q quits; -b: plain text, -n: N reports then exit)"),
	ROW("capture", capture_cmd, "VM[:NIC]|A-B|A->B [-w FILE|-] [-c COUNT] [-s|--snaplen N] [FILTER]",
	    "frames of a VM's eth0 or a link: pcap (-w) or a line each;\n"
	    "FILTER: a tcpdump expression (libpcap)"),
	ROW("link", cmd_link, "[A-B|A->B] [show [--json] | set KEY=VALUE... | reset | down | up]",
	    "a link's impairments (delay, jitter, loss, rate, corrupt,\n"
	    "duplicate) and state, shown or changed at run time"),
	ROW("config", cmd_config, "",
	    "print the running configuration (run's or apply's CONFIG)"),
	ROW("apply", cmd_apply, "[--dry-run] [--host HOST] CONFIG",
	    "change the running system to CONFIG: print the plan, a\n"
	    "line per change, and carry it out (VMs, links, settings);\n"
	    "--host: to HOST's part of a system over several hosts"),
	ROW("exec", exec_cmd, "[--timeout SECS] VM -- CMD...",
	    "run a shell command in VM; exits with its status"),
	ROW("console", console_cmd, "VM",
	    "attach this terminal to VM's console (Return @ N switches,\n"
	    "Return @ # N Return for N > 15, Return @ ? lists VMs,\n"
	    "Return ~ . detaches)"),
	ROW("stop", stop_cmd, "[--timeout SECS]",
	    "stop the system"),
	ROW("check", check_cmd, "CONFIG",
	    "validate a config file (and its PCI passthrough devices)"),
	ROW("plan", plan_cmd, "--host HOST CONFIG",
	    "HOST's part of a system over several hosts, as the\n"
	    "config file `run --host HOST CONFIG` runs"),
	ROW("graph", cmd_graph, "[--svg] [CONFIG]",
	    "the topology (built-in system without CONFIG) as\n"
	    "Graphviz dot (--svg: rendered by dot -Tsvg)"),
	ROW("pci-info", pci_info_cmd, "BDF",
	    "what a PCI device looks like to passthrough (from sysfs)"),
	ROW("version", version_cmd, "",
	    "print the version (also --version)"),
	ROW("help", help_cmd, "[COMMAND]",
	    "print this, or one command's lines of it (also -h, --help)"),
	HIDDEN("qemu-argv", cmd_qemu_argv,
	       "[--engine kvm|tcg] [--netdev SPEC] [--nic-opts OPTS] [--serial FILE] [CONFIG] VM",
	       "the QEMU command line multivm gives VM, one argument a line (bench/)"),
	HIDDEN("agent-exec", cmd_agent_exec, "[--timeout SECS] SOCKET -- CMD...",
	       "exec in a guest no system runs, by its agent socket (bench/)"),
	HIDDEN("agent-ping", cmd_agent_ping, "[--timeout SECS] SOCKET",
	       "whether the agent behind SOCKET answers (the supervisor's probe)"),
};
const size_t cli_ncommands = sizeof(cli_commands) / sizeof(cli_commands[0]);

const struct cli_command *cli_command(const char *name)
{
	size_t i;

	for (i = 0; i < cli_ncommands; i++)
		if (strcmp(name, cli_commands[i].name) == 0)
			return &cli_commands[i];
	return NULL;
}

void cli_usage(FILE *f)
{
	const struct cli_command *c;
	int n;

	fprintf(f, "usage: multivm [-S statedir] command [args]\n");
	for (c = cli_commands; c < cli_commands + cli_ncommands; c++) {
		if (c->hidden)
			continue;
		n = fprintf(f, "  %s%s%s", c->name, *c->synopsis ? " " : "", c->synopsis);
		if (n > HELP_COLUMN - 2) {
			fputc('\n', f);
			n = 0;
		}
		fprintf(f, "%*s", HELP_COLUMN - n, "");
		print_help(f, c->help, HELP_COLUMN);
	}
	fprintf(f, "See multivm(8) and multivm.ini(5).\n");
}
