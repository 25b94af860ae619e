#include "supervisor/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "supervisor/state.h"

#define VMM_MAX_ARGS (16 + 2 * CFG_MAX_VMS)

/* In the child, before exec: default signals, stdio, die with parent. */
static void child_setup(const char *log_path)
{
	sigset_t none;
	int fd, sig;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0 && fd != 0) {
		dup2(fd, 0);
		close(fd);
	}
	fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	/* Whatever else is open (ours, or inherited by `multivm run`) is not
	 * the child's: only what the caller keeps (keep_fd) crosses exec. */
	close_range(3, ~0u, CLOSE_RANGE_CLOEXEC);
}

static void keep_fd(int fd)
{
	fcntl(fd, F_SETFD, 0);
}

pid_t spawn_vmm(const struct config *cfg, unsigned i, const struct link_res *links,
		const struct runas *ra, const char *state_dir, int stats_fd, int capture_fd,
		const char *log_path)
{
	static char buf[8192];
	char *argv[VMM_MAX_ARGS], *p = buf, *end = buf + sizeof(buf);
	const struct cfg_vm *vm = &cfg->vm[i];
	int argc = 0;
	unsigned k;
	pid_t pid;

#define ARG(...) do { int n_ = snprintf(p, end - p, __VA_ARGS__); \
		if (n_ < 0 || n_ >= end - p || argc >= VMM_MAX_ARGS - 1) return -E2BIG; \
		argv[argc++] = p; p += n_ + 1; } while (0)
#define MAC(m) (m)[0], (m)[1], (m)[2], (m)[3], (m)[4], (m)[5]
	ARG("multivm");
	ARG("vmm");
	ARG("--name");
	ARG("%s", vm->name);
	ARG("--mac");
	ARG("%02x:%02x:%02x:%02x:%02x:%02x", MAC(vm->mac));
	ARG("--socket");
	ARG("%s/%s.vhost", state_dir, vm->name);
	ARG("--stats-fd");
	ARG("%d", stats_fd);
	if (capture_fd >= 0) {
		ARG("--capture-fd");
		ARG("%d", capture_fd);
	}
	ARG("--queue-size");
	ARG("%u", cfg->link_queue_size);
	if (ra->drop) {
		ARG("--user");
		ARG("%u:%u", (unsigned)ra->uid, (unsigned)ra->gid);
	}
	if (vm->external)
		ARG("--group-connect");
	for (k = 0; k < cfg->nlinks; k++) {
		const struct cfg_link *l = &cfg->link[k];
		const struct link_res *r = &links[k];
		int side;
		const struct cfg_vm *peer;

		if (l->a != i && l->b != i)
			continue;
		side = l->a == i ? 0 : 1;
		peer = &cfg->vm[side ? l->a : l->b];
		ARG("--link");
		ARG("%s,%02x:%02x:%02x:%02x:%02x:%02x,%d,%d,%d,%d", peer->name, MAC(peer->mac), side,
		    r->memfd, r->kick[1 - side], r->kick[side]);
	}
	argv[argc] = NULL;
#undef ARG
#undef MAC
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		child_setup(log_path);
		keep_fd(stats_fd);
		if (capture_fd >= 0)
			keep_fd(capture_fd);
		for (k = 0; k < cfg->nlinks; k++) {
			if (cfg->link[k].a != i && cfg->link[k].b != i)
				continue;
			keep_fd(links[k].memfd);
			keep_fd(links[k].kick[0]);
			keep_fd(links[k].kick[1]);
		}
		execv("/proc/self/exe", argv);
		fprintf(stderr, "multivm: cannot run the VMM: %s\n", strerror(errno));
		_exit(127);
	}
	return pid;
}

pid_t spawn_argv(char *const argv[], const char *log_path)
{
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		child_setup(log_path);
		execvp(argv[0], argv);
		fprintf(stderr, "multivm: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return pid;
}
