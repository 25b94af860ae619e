#include "supervisor/commands.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/stats.h"
#include "config/config.h"
#include "console/client.h"
#include "passthrough/pci.h"
#include "supervisor/agent.h"
#include "supervisor/state.h"

static int not_running(const char *dir)
{
	fprintf(stderr, "multivm: no system running in %s\n", dir);
	return 1;
}

/* VM names, in config order, from STATE/status. */
static int vm_names(const char *dir, char names[][STATS_NAME_MAX], int max)
{
	char p[STATE_PATH_MAX + 32], line[256];
	FILE *f;
	int n = 0;

	snprintf(p, sizeof(p), "%s/status", dir);
	f = fopen(p, "r");
	if (!f)
		return -1;
	while (n < max && fgets(line, sizeof(line), f))
		if (sscanf(line, "%31s", names[n]) == 1)
			n++;
	fclose(f);
	return n;
}

int cmd_status(const char *dir)
{
	char p[STATE_PATH_MAX + 32], line[256];
	FILE *f;

	if (!state_supervisor(dir))
		return not_running(dir);
	snprintf(p, sizeof(p), "%s/status", dir);
	f = fopen(p, "r");
	if (!f)
		return not_running(dir);
	while (fgets(line, sizeof(line), f))
		fputs(line, stdout);
	fclose(f);
	return 0;
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
		poll(NULL, 0, 50);
		waited += 50;
	}
	return 0;
}

static int read_stats(const char *dir, const char *name, struct vm_stats *st)
{
	char p[STATE_PATH_MAX];
	int fd;
	ssize_t n;

	if (state_path(p, dir, name, ".stats") < 0)
		return -1;
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = pread(fd, st, sizeof(*st), 0);
	close(fd);
	if (n != (ssize_t)sizeof(*st) || st->magic != STATS_MAGIC || st->version != STATS_VERSION ||
	    st->nlinks > STATS_MAX_LINKS)
		return -1;
	return 0;
}

static const struct link_stats *peer_stats(const struct vm_stats *st, const char *peer)
{
	unsigned i;

	for (i = 0; i < st->nlinks; i++)
		if (strncmp(st->link[i].peer, peer, STATS_NAME_MAX) == 0)
			return &st->link[i];
	return NULL;
}

static void print_drops(const uint64_t *d)
{
	int r;

	for (r = 0; r < DROP__MAX; r++)
		printf(" drop_%s=%llu", drop_reason_name(r), (unsigned long long)d[r]);
}

int cmd_stats(const char *dir)
{
	static char names[CFG_MAX_VMS][STATS_NAME_MAX];
	static struct vm_stats st[CFG_MAX_VMS];
	static const struct vm_stats empty;
	int n, i, j;

	n = vm_names(dir, names, CFG_MAX_VMS);
	if (n < 0 || !state_supervisor(dir))
		return not_running(dir);
	for (i = 0; i < n; i++) {
		if (read_stats(dir, names[i], &st[i]) < 0) {
			st[i] = empty;	/* VMM not started yet, or a damaged file */
			fprintf(stderr, "multivm: no valid counters for %s yet\n", names[i]);
		}
		printf("vm %s tx_frames=%llu tx_bytes=%llu rx_frames=%llu rx_bytes=%llu", names[i],
		       (unsigned long long)st[i].guest_tx_frames, (unsigned long long)st[i].guest_tx_bytes,
		       (unsigned long long)st[i].guest_rx_frames, (unsigned long long)st[i].guest_rx_bytes);
		print_drops(st[i].drop);
		printf(" vq_errors=%llu vu_bad_messages=%llu vu_connected=%u vmm_starts=%llu\n",
		       (unsigned long long)st[i].vq_errors, (unsigned long long)st[i].vu_bad_messages,
		       st[i].vu_connected, (unsigned long long)st[i].vmm_starts);
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < n; j++) {
			const struct link_stats *out = peer_stats(&st[i], names[j]);
			const struct link_stats *in = peer_stats(&st[j], names[i]);

			if (i == j || !out)
				continue;
			printf("link %s->%s frames=%llu bytes=%llu delivered=%llu delivered_bytes=%llu",
			       names[i], names[j], (unsigned long long)out->tx_frames,
			       (unsigned long long)out->tx_bytes, (unsigned long long)(in ? in->rx_frames : 0),
			       (unsigned long long)(in ? in->rx_bytes : 0));
			print_drops(out->drop);
			printf(" kicks=%llu errors=%llu up=%u\n", (unsigned long long)out->kicks_sent,
			       (unsigned long long)(out->errors + (in ? in->errors : 0)),
			       out->up && (!in || in->up));
		}
	}
	return 0;
}

/* 0 if the running system has a VM called vm, else says why (-1). */
static int known_vm(const char *dir, const char *what, const char *vm)
{
	char names[CFG_MAX_VMS][STATS_NAME_MAX];
	int n = vm_names(dir, names, CFG_MAX_VMS), i;

	if (n < 0 || !state_supervisor(dir))
		return not_running(dir), -1;
	for (i = 0; i < n; i++)
		if (strcmp(names[i], vm) == 0)
			return 0;
	fprintf(stderr, "multivm: %s: no VM called %s\n", what, vm);
	return -1;
}

int cmd_console(const char *dir, const char *vm)
{
	char sock[STATE_PATH_MAX];

	if (known_vm(dir, "console", vm) < 0 || state_path(sock, dir, "console", ".sock") < 0)
		return 1;
	return console_attach(sock, vm);
}

int cmd_exec(const char *dir, const char *vm, const char *cmd, int timeout_s)
{
	char sock[STATE_PATH_MAX];
	int rc;

	if (known_vm(dir, "exec", vm) < 0)
		return 255;
	if (state_path(sock, dir, vm, ".agent") < 0) {
		fprintf(stderr, "multivm: exec: state directory path too long\n");
		return 255;
	}
	rc = agent_exec(sock, cmd, timeout_s * 1000, 1);
	if (rc < 0) {
		fprintf(stderr, "multivm: exec: %s: %s\n", vm,
			rc == -ETIMEDOUT ? "timed out waiting for the guest" : strerror(-rc));
		return 255;
	}
	return rc;
}

int cmd_check(const char *path)
{
	static struct config c;
	char err[CFG_ERR_MAX];
	unsigned i;

	if (config_load_file(&c, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	for (i = 0; i < c.nvms; i++)
		if (strncmp(c.vm[i].passthrough, "pci:", 4) == 0 &&
		    pci_check_vm(pci_sysfs(), &c, &c.vm[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "%s\n", err);
			return 2;
		}
	printf("%s: ok (%u VM%s, %u link%s)\n", path, c.nvms, c.nvms == 1 ? "" : "s", c.nlinks,
	       c.nlinks == 1 ? "" : "s");
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
