#include "cli/commands.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/report.h"
#include "config/config.h"
#include "config/hostplan.h"
#include "console/client.h"
#include "passthrough/pci.h"
#include "cli/agent.h"
#include "cli/snapshot.h"
#include "supervisor/image.h"
#include "supervisor/runas.h"
#include "supervisor/state.h"

#define STOP_POLL_MS	50	/* how often `stop` looks whether the supervisor is gone */
#define EXEC_FAILED	255	/* exec's own failure, apart from any status of the command */
#define EXIT_BAD_CONFIG	2

static int not_running(const char *dir)
{
	fprintf(stderr, "multivm: no system running in %s\n", dir);
	return 1;
}

/* The one snapshot a command reads, printed as asked. */
static struct snapshot snap;

static int printed(int rc)
{
	if (rc == 0 && fflush(stdout) == EOF)
		rc = -EIO;
	if (rc < 0)
		fprintf(stderr, "multivm: cannot write the report: %s\n", strerror(-rc));
	return rc < 0;
}

int cmd_status(const char *dir, enum out_format fmt)
{
	if (!state_supervisor(dir) || snapshot_status(dir, &snap) < 0)
		return not_running(dir);
	snapshot_ctl(dir, &snap);
	return printed(fmt == OUT_JSON ? report_status_json(stdout, &snap) : report_status_text(stdout, &snap));
}

int cmd_stop(const char *dir, int timeout_s)
{
	pid_t pid = state_supervisor(dir);
	int waited = 0;

	if (!pid)
		return not_running(dir);
	if (kill(pid, SIGTERM) < 0) {
		fprintf(stderr, "multivm: cannot signal supervisor %d: %s\n", (int)pid, strerror(errno));
		return 1;
	}
	while (kill(pid, 0) == 0) {
		if (waited >= timeout_s * 1000) {
			fprintf(stderr, "multivm: supervisor %d still running after %d s\n", (int)pid, timeout_s);
			return 1;
		}
		poll(NULL, 0, STOP_POLL_MS);
		waited += STOP_POLL_MS;
	}
	return 0;
}

int cmd_stats(const char *dir, enum out_format fmt)
{
	unsigned i;

	if (!state_supervisor(dir) || snapshot_read(dir, &snap) < 0)
		return not_running(dir);
	snapshot_ctl(dir, &snap);
	for (i = 0; i < snap.nvms; i++)
		if (snap.vm[i].version)	/* a system started by another multivm */
			fprintf(stderr, "multivm: counters of %s are stats version %u, this multivm reads version %u: "
				"stop the system and run it again with this multivm\n", snap.vm[i].name,
				(unsigned)snap.vm[i].version, STATS_VERSION);
		else if (!snap.vm[i].valid)	/* VMM not started yet, or a damaged file */
			fprintf(stderr, "multivm: no valid counters for %s yet\n", snap.vm[i].name);
	if (fmt == OUT_JSON)
		return printed(report_stats_json(stdout, &snap));
	if (fmt == OUT_PROMETHEUS)
		return printed(report_stats_prom(stdout, &snap));
	return printed(report_stats_text(stdout, &snap));
}

/* 0 if the running system has a VM called vm, else says why (-1). */
static int known_vm(const char *dir, const char *what, const char *vm)
{
	if (snapshot_status(dir, &snap) < 0 || !state_supervisor(dir))
		return not_running(dir), -1;
	if (snapshot_vm(&snap, vm) >= 0)
		return 0;
	fprintf(stderr, "multivm: %s: no VM called %s\n", what, vm);
	return -1;
}

/* The snapshot status's guest= word for vm ("external", "tunnel"), or NULL. */
static const char *guest_word(const char *vm)
{
	int i = snapshot_vm(&snap, vm);

	return i >= 0 ? status_get(&snap.status[i], "guest") : NULL;
}

int cmd_console(const char *dir, const char *vm)
{
	char sock[STATE_PATH_MAX];

	if (known_vm(dir, "console", vm) < 0 || state_file(sock, dir, NULL, SF_CONSOLE_SOCK) < 0)
		return 1;
	return console_attach(sock, vm);
}

int cmd_exec(const char *dir, const char *vm, const char *cmd, int timeout_s)
{
	char sock[STATE_PATH_MAX];
	int rc;

	if (known_vm(dir, "exec", vm) < 0)
		return EXEC_FAILED;
	if (guest_word(vm) && strcmp(guest_word(vm), "tunnel") == 0) {
		fprintf(stderr, "multivm: exec: %s is a tunnel ([tunnel %s]), not a VM\n", vm, vm);
		return EXEC_FAILED;
	}
	if (guest_word(vm) && strcmp(guest_word(vm), "external") == 0) {
		fprintf(stderr, "multivm: exec: %s is an external guest (guest = external): "
			"it has no multivm agent\n", vm);
		return EXEC_FAILED;
	}
	if (state_file(sock, dir, vm, SF_AGENT) < 0) {
		fprintf(stderr, "multivm: exec: state directory path too long\n");
		return EXEC_FAILED;
	}
	rc = agent_exec(sock, cmd, timeout_s * 1000, 1, 2);
	if (rc < 0) {
		agent_report("exec", vm, rc, timeout_s);
		return EXEC_FAILED;
	}
	return rc;
}

int cmd_check(const char *path)
{
	static struct config c;
	struct runas ra;
	char err[CFG_ERR_MAX];
	unsigned i;

	if (config_load_file(&c, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return EXIT_BAD_CONFIG;
	}
	/* The images as the user QEMU would run as, started from here. */
	if (image_any(&c) && (runas_resolve_check(&c, &ra, err, sizeof(err)) < 0 ||
			      image_check_all(&c, &ra, err, sizeof(err)) < 0)) {
		fprintf(stderr, "%s\n", err);
		return EXIT_BAD_CONFIG;
	}
	for (i = 0; i < c.nvms; i++)
		if (strncmp(c.vm[i].passthrough, "pci:", 4) == 0 &&
		    pci_check_vm(pci_sysfs(), &c, &c.vm[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "%s\n", err);
			return EXIT_BAD_CONFIG;
		}
	printf("%s: ok (%u VM%s, %u link%s)\n", path, c.nvms, c.nvms == 1 ? "" : "s", c.nlinks,
	       c.nlinks == 1 ? "" : "s");
	return 0;
}

int cmd_plan(const char *host, const char *path)
{
	static struct config c;
	char err[CFG_ERR_MAX];
	int h;

	if (config_load_file(&c, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return EXIT_BAD_CONFIG;
	}
	h = config_host_index(&c, host);
	if (h < 0) {
		fprintf(stderr, "%s: no [host %s]\n", path, host);
		return EXIT_BAD_CONFIG;
	}
	if (hostplan_write(&c, h, stdout) < 0 || fflush(stdout) != 0) {
		fprintf(stderr, "multivm: plan: cannot write: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}

int cmd_pci_info(const char *bdf)
{
	struct pci_info p;
	char err[256];

	if (pci_read(pci_sysfs(), bdf, &p, err, sizeof(err)) < 0) {
		fprintf(stderr, "multivm: %s\n", err);
		return 1;
	}
	pci_print(&p);
	return 0;
}
