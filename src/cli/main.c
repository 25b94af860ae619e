/* multivm: command-line entry. See multivm.8. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/capture.h"
#include "cli/top.h"
#include "common/log.h"
#include "cli/commands.h"
#include "supervisor/state.h"
#include "supervisor/run.h"
#include "tunnel/tunnel.h"
#include "vmm/vmm.h"

#define VERSION "0.1"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: multivm [-S statedir] command [args]\n"
		"  run [--detach] [--timeout SECS] [--no-guests] [CONFIG]\n"
		"                      start the system (built-in three-VM system without CONFIG)\n"
		"  status [--json]     one line per VM: NAME state=.. vmm=PID qemu=PID engine=..\n"
		"  stats [--json | --prometheus]\n"
		"                      frames, bytes and drops per VM and per link\n"
		"  top [-b] [-n N] [-d SECS]\n"
		"                      frames/s, bytes/s and drops/s per VM and link, every SECS\n"
		"                      (q quits; -b: plain text, -n: N reports then exit)\n"
		"  capture VM|A-B|A->B [-w FILE|-] [-c COUNT] [-s|--snaplen N]\n"
		"                      frames of a VM's eth0 or of a link: pcap with -w, else a line each\n"
		"  exec [--timeout SECS] VM -- CMD...\n"
		"                      run a shell command in VM; exits with its status\n"
		"  console VM          attach this terminal to VM's console (Return @ N switches,\n"
		"                      Return @ # N Return for N > 15, Return @ ? lists VMs,\n"
		"                      Return ~ . detaches)\n"
		"  stop [--timeout SECS]\n"
		"                      stop the system\n"
		"  check CONFIG        validate a config file (and its PCI passthrough devices)\n"
		"  pci-info BDF        what a PCI device looks like to passthrough (from sysfs)\n"
		"  version             print the version\n"
		"See multivm(8) and multivm.ini(5).\n");
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

static int run(const char *dir, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "detach", no_argument, NULL, 'd' },
		{ "timeout", required_argument, NULL, 't' },
		{ "no-guests", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct run_opts o = { .state_dir = dir, .timeout_s = 300 };
	int c;

	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 'd')
			o.detach = true;
		else if (c == 'n')
			o.no_guests = true;
		else if (c != 't' || parse_secs(optarg, &o.timeout_s) < 0)
			return 2;
	}
	if (argc - optind > 1) {
		usage(stderr);
		return 2;
	}
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

/* exec [--timeout S] VM -- CMD...: words joined with spaces, like ssh. */
static int exec_cmd(const char *dir, int argc, char **argv)
{
	char cmd[65536] = "";
	size_t used = 0;
	int secs = 120, i = timeout_opt(argc, argv, 1, &secs);
	const char *vm;

	if (i < 0 || i >= argc)
		goto bad;
	vm = argv[i++];
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	if (i >= argc)
		goto bad;
	for (; i < argc; i++) {
		int n = snprintf(cmd + used, sizeof(cmd) - used, "%s%s", used ? " " : "", argv[i]);

		if (n < 0 || (size_t)n >= sizeof(cmd) - used) {
			fprintf(stderr, "multivm: exec: command too long\n");
			return 255;
		}
		used += n;
	}
	return cmd_exec(dir, vm, cmd, secs);
bad:
	fprintf(stderr, "usage: multivm exec [--timeout SECS] VM -- CMD...\n");
	return 255;
}

/* [--json | --prometheus] after status or stats. */
static int format(int argc, char **argv, bool prometheus, enum out_format *fmt)
{
	*fmt = OUT_TEXT;
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

/* capture TARGET [-w FILE|-] [-c COUNT] [-s|--snaplen N], options anywhere. */
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
	if (optind != argc - 1)
		goto bad;
	o.target = argv[optind];
	return capture_run(&o);
bad:
	fprintf(stderr, "usage: multivm capture VM|A-B|A->B [-w FILE|-] [-c COUNT (1 or more)] "
		"[-s|--snaplen N (1 to %d)]\n", CAPTURE_SNAPLEN_MAX);
	return 2;
}

int main(int argc, char **argv)
{
	char dir[256];
	const char *opt_dir = NULL;
	int i = 1, secs = 30;
	enum out_format fmt;

	/* Debug lines (every refused or odd event, in full) go to the logs
	 * only when asked; the VMMs inherit the environment. */
	if (getenv("MULTIVM_DEBUG"))
		log_set_level(LOG_DEBUG);
	if (argc > 1 && strcmp(argv[1], "vmm") == 0)
		return vmm_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "tunnel") == 0)
		return tunnel_main(argc - 1, argv + 1);
	if (i + 1 < argc && strcmp(argv[i], "-S") == 0) {
		opt_dir = argv[i + 1];
		i += 2;
	}
	state_dir(dir, sizeof(dir), opt_dir);
	if (i >= argc || !strcmp(argv[i], "help") || !strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
		usage(i >= argc ? stderr : stdout);
		return i >= argc ? 2 : 0;
	}
	argc -= i;
	argv += i;
	if (!strcmp(argv[0], "run"))
		return run(dir, argc, argv);
	if (!strcmp(argv[0], "status") && argc <= 2 && format(argc, argv, false, &fmt) == 0)
		return cmd_status(dir, fmt);
	if (!strcmp(argv[0], "stats") && argc <= 2 && format(argc, argv, true, &fmt) == 0)
		return cmd_stats(dir, fmt);
	if (!strcmp(argv[0], "top"))
		return top_cmd(dir, argc, argv);
	if (!strcmp(argv[0], "exec"))
		return exec_cmd(dir, argc, argv);
	if (!strcmp(argv[0], "capture"))
		return capture_cmd(dir, argc, argv);
	if (!strcmp(argv[0], "stop") && timeout_opt(argc, argv, 1, &secs) == argc)
		return cmd_stop(dir, secs);
	if (!strcmp(argv[0], "console") && argc == 2)
		return cmd_console(dir, argv[1]);
	if (!strcmp(argv[0], "pci-info") && argc == 2)
		return cmd_pci_info(argv[1]);
	if (!strcmp(argv[0], "check") && argc == 2)
		return cmd_check(argv[1]);
	if (!strcmp(argv[0], "version") || !strcmp(argv[0], "--version")) {
		printf("multivm %s\n", VERSION);
		return 0;
	}
	usage(stderr);
	return 2;
}
