/* multivm qemu-argv: see qemuargv.h. */
#include "cli/qemuargv.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "supervisor/preflight.h"
#include "supervisor/qemu.h"

struct overrides {
	const char *engine, *netdev, *nic_opts, *serial;
};

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The chardev pair (-chardev ID-SPEC) that an override makes unused. */
static bool dropped(const struct overrides *o, const char *opt, const char *val)
{
	return strcmp(opt, "-chardev") == 0 &&
	       ((o->netdev && starts(val, "socket,id=vu,")) || (o->serial && starts(val, "socket,id=con,")));
}

/* Prints VAL, the value of OPT, as the overrides change it. */
static void put_value(const struct overrides *o, const char *opt, const char *val)
{
	const char *vectors = ",vectors=0";

	if (o->netdev && strcmp(opt, "-netdev") == 0 && starts(val, "vhost-user,id=net0,")) {
		printf("%s,id=net0\n", o->netdev);
	} else if (o->serial && strcmp(opt, "-serial") == 0 && strcmp(val, "chardev:con") == 0) {
		printf("file:%s\n", o->serial);
	} else if (strcmp(opt, "-device") == 0 && starts(val, "virtio-net-pci,netdev=net0,")) {
		size_t n = strlen(val), v = strlen(vectors);

		/* vectors=0 works around QEMU 7.2's vhost-user start-up under
		 * TCG (qemu.c); another netdev keeps MSI-X. */
		if (o->netdev && n > v && strcmp(val + n - v, vectors) == 0)
			n -= v;
		printf("%.*s%s%s\n", (int)n, val, o->nic_opts ? "," : "", o->nic_opts ? o->nic_opts : "");
	} else {
		printf("%s\n", val);
	}
}

static bool engine_kvm(const struct overrides *o, const struct config *c, const char *kernel)
{
	if (o->engine)
		return strcmp(o->engine, "kvm") == 0;
	if (c->engine == ENGINE_AUTO)
		return kvm_boots(kernel, KVM_PROBE_MS);
	return c->engine == ENGINE_KVM;
}

static int print_argv(const char *dir, const struct overrides *o, const struct config *c, const char *name)
{
	static char buf[16384], kernel[GUEST_PATH_MAX], initrd[GUEST_PATH_MAX];
	char err[CFG_ERR_MAX], *argv[QEMU_MAX_ARGS];
	int vm = config_vm_index(c, name), n, i;
	struct qemu_opts q = { .cfg = c, .state_dir = dir, .kernel = kernel, .initrd = initrd };

	if (vm < 0 || c->vm[vm].external) {
		fprintf(stderr, "multivm: qemu-argv: %s: no VM %s with a QEMU guest\n", c->path, name);
		return 2;
	}
	if (guest_files(c, kernel, initrd, sizeof(kernel), err, sizeof(err)) < 0) {
		fprintf(stderr, "multivm: qemu-argv: %s\n", err);
		return 1;
	}
	q.vm = &c->vm[vm];
	q.kvm = engine_kvm(o, c, kernel);
	n = qemu_argv(&q, buf, sizeof(buf), argv, QEMU_MAX_ARGS);
	if (n < 0) {
		fprintf(stderr, "multivm: qemu-argv: %s: the QEMU command line does not fit\n", name);
		return 1;
	}
	printf("%s\n", argv[0]);
	for (i = 1; i < n; i++) {
		bool has_value = argv[i][0] == '-' && i + 1 < n && argv[i + 1][0] != '-';

		if (has_value && dropped(o, argv[i], argv[i + 1])) {
			i++;
			continue;
		}
		printf("%s\n", argv[i]);
		if (has_value) {
			put_value(o, argv[i], argv[i + 1]);
			i++;
		}
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

int cmd_qemu_argv(const char *dir, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "engine", required_argument, NULL, 'e' },
		{ "netdev", required_argument, NULL, 'n' },
		{ "nic-opts", required_argument, NULL, 'o' },
		{ "serial", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	static struct config c;
	struct overrides o = { 0 };
	char err[CFG_ERR_MAX];
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (ch == 'e' && (strcmp(optarg, "kvm") == 0 || strcmp(optarg, "tcg") == 0))
			o.engine = optarg;
		else if (ch == 'n' && *optarg)
			o.netdev = optarg;
		else if (ch == 'o' && *optarg)
			o.nic_opts = optarg;
		else if (ch == 's' && *optarg)
			o.serial = optarg;
		else
			goto usage;
	}
	if (argc - optind == 2)
		rc = config_load_file(&c, argv[optind], err, sizeof(err));
	else if (argc - optind == 1)
		rc = config_load_default(&c, err, sizeof(err));
	else
		goto usage;
	if (rc < 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	return print_argv(dir, &o, &c, argv[argc - 1]);
usage:
	fprintf(stderr, "usage: multivm qemu-argv [--engine kvm|tcg] [--netdev SPEC] [--nic-opts OPTS] "
		"[--serial FILE] [CONFIG] VM\n");
	return 2;
}
