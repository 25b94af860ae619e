#include "supervisor/spawn.h"

#include <arpa/inet.h>

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <linux/close_range.h>
#include <linux/sched.h>	/* struct clone_args */
#include <sched.h>
#include <dirent.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "supervisor/lifeline.h"
#include "supervisor/state.h"

/* A fork into the namespaces how asks for (clone3, stack 0: a fork). A
 * kernel before 5.3 has no clone3 (ENOSYS): the legacy clone with the
 * same flags, stack 0 (a fork too, on x86_64 and arm64 alike: every
 * argument after the flags is 0, so their order does not matter). */
static pid_t fork_how(const struct spawn_how *how)
{
	static bool no_clone3;
	struct clone_args ca = { .exit_signal = SIGCHLD };
	long pid;

	if (!how || !how->ns)
		return fork();
	if (how->ns & (SPAWN_NEWPID | SPAWN_NEWPROC))
		ca.flags |= CLONE_NEWPID;
	if (how->ns & SPAWN_NEWPROC)
		ca.flags |= CLONE_NEWNS;
	if (!no_clone3) {
		pid = syscall(SYS_clone3, &ca, sizeof(ca));
		if (pid >= 0 || errno != ENOSYS)
			return pid < 0 ? -1 : (pid_t)pid;
		no_clone3 = true;
		log_debug("no clone3 on this kernel: children start with the legacy clone");
	}
	pid = syscall(SYS_clone, (unsigned long)ca.flags | SIGCHLD, 0L, 0L, 0L, 0L);
	return pid < 0 ? -1 : (pid_t)pid;
}

/* The child's own /proc: its mounts stop flowing back to the host's
 * (slave: the host's still reach it), then a proc of its PID namespace
 * over the host's. */
static int own_proc(void)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return -errno;
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return -errno;
	return 0;
}

/* Joins the cgroup whose directory is dir: "0" in cgroup.procs is the writer. */
static int join_cgroup(int dir)
{
	int fd = openat(dir, "cgroup.procs", O_WRONLY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, "0", 1) != 1)
		rc = -errno;
	close(fd);
	return rc;
}

/* In the child, before exec: default signals, stdio, die with parent,
 * the CPUs it may run on, its cgroup and its /proc (how); the threads
 * it starts inherit them. Preflight checked what it could: a failure
 * here is logged and the child exits, so the VM does not run elsewhere
 * or less contained. */
static void child_setup(int log_fd, const struct spawn_how *how)
{
	sigset_t none;
	int fd, sig, rc;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	/* Set first, then looked: a supervisor that died before is seen here,
	 * one that dies after sends the signal (lifeline.h). */
	if (lifeline_child_gone())
		_exit(127);
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0 && fd != 0) {
		dup2(fd, 0);
		close(fd);
	}
	/* Above 2 first: dup2 onto itself would keep its close-on-exec. */
	fd = fcntl(log_fd, F_DUPFD_CLOEXEC, 3);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	/* Whatever else is open (ours, or inherited by `multivm run`) is not
	 * the child's: only what the caller keeps (keep_fd) crosses exec. */
	close_range(3, ~0u, CLOSE_RANGE_CLOEXEC);
	if (!how)
		return;
	if (how->cpuset) {
		cpu_set_t set;
		unsigned i;

		_Static_assert(CFG_CPUS_MAX <= CPU_SETSIZE, "cpuset fits a cpu_set_t");
		CPU_ZERO(&set);
		for (i = 0; i < CFG_CPUS_MAX; i++)
			if (how->cpuset[i / 64] >> (i % 64) & 1)
				CPU_SET(i, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0) {
			fprintf(stderr, "multivm: cannot keep to the CPUs of cpuset: %s\n", strerror(errno));
			_exit(127);
		}
	}
	if (how->cgroup_fd >= 0 && (rc = join_cgroup(how->cgroup_fd)) < 0) {
		fprintf(stderr, "multivm: cannot join the VM's cgroup (cgroup.procs): %s\n", strerror(-rc));
		_exit(127);
	}
	if ((how->ns & SPAWN_NEWPROC) && (rc = own_proc()) < 0) {
		fprintf(stderr, "multivm: cannot mount a /proc of its own: %s\n", strerror(-rc));
		_exit(127);
	}
}

static void keep_fd(int fd)
{
	fcntl(fd, F_SETFD, 0);
}

/* The VMM's NIC for NIC j of VM vm: eth0 (0) when it is named so, else
 * 1 + its place among the others. */
static unsigned vmm_nic(const struct cfg_vm *vm, int j)
{
	unsigned k, n = 1;

	if (j < 0)
		return 0;
	if (!strcmp(vm->nic[j].name, "eth0"))
		return 0;
	for (k = 0; k < (unsigned)j; k++)
		n += strcmp(vm->nic[k].name, "eth0") != 0;
	return n;
}

/* The MAC a link's peer end has: its NIC's for a wire, else the VM's. */
static const uint8_t *peer_mac(const struct config *cfg, const struct cfg_link *l, int side)
{
	unsigned p = side ? l->a : l->b;
	int nic = side ? l->nic_a : l->nic_b;

	return l->wire && nic >= 0 ? cfg->vm[p].nic[nic].mac : cfg->vm[p].mac;
}

int spawn_vmm_args(struct node_args *a, const struct config *cfg, unsigned i,
		   const struct link_res *links, const struct runas *ra, const char *state_dir)
{
	const struct cfg_vm *vm = &cfg->vm[i];
	unsigned k, j, nic, nnics;

	node_args_init(a, vm->tunnel ? NODE_TUNNEL : NODE_VMM);
	if (snprintf(a->name, sizeof(a->name), "%s", vm->name) >= (int)sizeof(a->name))
		return -ENAMETOOLONG;
	a->queue_size = cfg->link_queue_size;
	a->drop = ra->drop;
	if (ra->drop) {	/* its own identity: no other node's or QEMU's */
		a->uid = ra->node[i].uid;
		a->gid = ra->node[i].gid;
	}
	if (vm->tunnel) {	/* `multivm tunnel` (src/tunnel/main.c): no guest, no socket */
		struct node_tunnel_args *t = &a->tunnel;

		t->local.s_addr = htonl(vm->tun_local);
		t->remote.s_addr = htonl(vm->tun_remote);
		t->port = vm->tun_port;
		t->vni = vm->tun_vni;
		for (k = 0; k < cfg->nvms; k++)	/* every VM here: none may be a remote source */
			if (!cfg->vm[k].tunnel) {
				memcpy(t->local_mac[t->nlocal++], cfg->vm[k].mac, ETH_ALEN);
				if (cfg->vm[k].has_addr)	/* nor claim its address (ARP, IPv4) */
					t->local_ip[t->nlocal_ip++].s_addr = htonl(cfg->vm[k].addr);
			}
		for (k = 0; k < cfg->nlinks; k++)	/* a wire end: a cable to the remote */
			if ((cfg->link[k].a == i || cfg->link[k].b == i) && cfg->link[k].wire)
				t->wire = true;
	} else {
		struct node_vmm_args *v = &a->vmm;

		if (state_file(v->socket, state_dir, vm->name, SF_VHOST) < 0)
			return -ENAMETOOLONG;
		memcpy(v->mac, vm->mac, ETH_ALEN);
		/* Its sockets are its frontend's: this VM's QEMU, or for an
		 * external guest the user or group the config names. */
		v->group_connect = vm->external && (!ra->drop || ra->front[i].group);
		v->frontend = true;
		v->front_uid = ra->front[i].id.uid;
		v->front_gid = ra->front[i].id.gid;
		v->mtu = vm->mtu;
		v->offloads = vm->offloads;
		for (j = 0; j < vm->nnics; j++) {
			const struct cfg_nic *c = &vm->nic[j];
			struct node_wire_arg *w;

			if (vmm_nic(vm, j) == 0) {	/* eth0, a wire's */
				v->eth0_wire = true;
				memcpy(v->mac, c->mac, ETH_ALEN);
				v->mtu = c->mtu;
				v->offloads = c->offloads;
				continue;
			}
			w = &v->wire[v->nwires++];
			snprintf(w->name, sizeof(w->name), "%s", c->name);
			memcpy(w->mac, c->mac, ETH_ALEN);
			w->mtu = c->mtu;
			w->offloads = c->offloads;
			if (state_nic_socket(w->socket, state_dir, vm->name, c->name) < 0)
				return -ENAMETOOLONG;
		}
	}
	/* Links grouped by the VMM's NIC: the segment's (or eth0's wire)
	 * first, then each wire NIC's in NIC order. */
	nnics = vm->tunnel ? 1 : 1 + a->vmm.nwires;
	for (nic = 0; nic < nnics; nic++) {
		for (k = 0; k < cfg->nlinks; k++) {
			const struct cfg_link *l = &cfg->link[k];
			struct node_link_arg *la = &a->link[a->nlinks];
			int side;

			if (l->a != i && l->b != i)
				continue;
			side = l->a == i ? 0 : 1;
			if (!vm->tunnel && vmm_nic(vm, l->wire ? (side ? l->nic_b : l->nic_a) : -1) != nic)
				continue;
			if (a->nlinks == MV_NODE_LINKS_MAX)
				return -E2BIG;
			if (snprintf(la->peer, sizeof(la->peer), "%s", cfg->vm[side ? l->a : l->b].name) >=
			    (int)sizeof(la->peer))
				return -ENAMETOOLONG;
			/* Behind a tunnel are remote VMs of any MAC: it has none;
			 * one with mac = has that VM alone, and is linked as it. */
			la->tunnel = cfg->vm[side ? l->a : l->b].tunnel && !cfg->vm[side ? l->a : l->b].tun_mac_line;
			if (!la->tunnel)
				memcpy(la->peer_mac, peer_mac(cfg, l, side), ETH_ALEN);
			la->side = side;
			la->nic = vm->tunnel ? 0 : nic;
			la->wire = l->wire;
			if (l->wire && (side ? l->nic_a : l->nic_b) >= 0)
				snprintf(la->peer_nic, sizeof(la->peer_nic), "%s",
					 cfg->vm[side ? l->a : l->b].nic[side ? l->nic_a : l->nic_b].name);
			la->memfd = links[k].memfd;
			if (links[k].qsize != cfg->link_queue_size)
				la->qsize = links[k].qsize;
			la->rx_kick = links[k].kick[1 - side];
			la->tx_kick = links[k].kick[side];
			a->nlinks++;
		}
	}
	return 0;
}

pid_t spawn_vmm(const struct node_args *a, int log_fd, const struct spawn_how *how)
{
	static char buf[NODE_ARGBUF_MAX];
	char *argv[NODE_ARGV_MAX];
	unsigned k;
	pid_t pid;
	int rc = node_args_encode(a, buf, sizeof(buf), argv, NODE_ARGV_MAX);

	if (rc < 0)
		return rc;
	pid = fork_how(how);
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		sigset_t stop;

		child_setup(log_fd, how);
		/* Its loop takes these from a signalfd (node/loop.h): held
		 * till then, not lost (an init with no handler would drop them). */
		sigemptyset(&stop);
		sigaddset(&stop, SIGTERM);
		sigaddset(&stop, SIGINT);
		sigaddset(&stop, SIGHUP);
		sigprocmask(SIG_BLOCK, &stop, NULL);
		keep_fd(a->stats_fd);
		if (a->ctl_fd >= 0)
			keep_fd(a->ctl_fd);
		if (a->kind == NODE_VMM && a->vmm.capture_fd >= 0)
			keep_fd(a->vmm.capture_fd);
		if (a->kind == NODE_TUNNEL && a->tunnel.udp_fd >= 0)
			keep_fd(a->tunnel.udp_fd);
		if (a->ready_fd >= 0)
			keep_fd(a->ready_fd);
		if (a->handoff_fd >= 0)
			keep_fd(a->handoff_fd);
		if (a->lifeline_fd >= 0)
			keep_fd(a->lifeline_fd);
		for (k = 0; k < a->nlinks; k++) {
			keep_fd(a->link[k].memfd);
			keep_fd(a->link[k].rx_kick);
			keep_fd(a->link[k].tx_kick);
		}
		execv("/proc/self/exe", argv);
		fprintf(stderr, "multivm: cannot run the VMM: %s\n", strerror(errno));
		_exit(127);
	}
	return pid;
}

pid_t spawn_argv(char *const argv[], int log_fd, const struct spawn_how *how)
{
	int go[2] = { -1, -1 }, rc;
	pid_t pid;
	char c;

	if (how && how->guard && pipe2(go, O_CLOEXEC) < 0)
		return -errno;
	pid = fork_how(how);
	if (pid < 0) {
		rc = -errno;
		if (go[0] >= 0) {
			close(go[0]);
			close(go[1]);
		}
		return rc;
	}
	if (pid == 0) {
		if (go[1] >= 0)
			close(go[1]);
		child_setup(log_fd, how);
		/* Guarded: not before the guard holds us (lifeline.h); the
		 * pipe's end without a word says the supervisor is gone. */
		if (go[0] >= 0) {
			ssize_t r;

			while ((r = read(go[0], &c, 1)) < 0 && errno == EINTR)
				;
			if (r != 1)
				_exit(127);
		}
		execvp(argv[0], argv);
		fprintf(stderr, "multivm: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (go[0] < 0)
		return pid;
	close(go[0]);
	rc = lifeline_guard(pid);
	if (rc == 0 && write(go[1], "g", 1) != 1)
		rc = -errno;
	close(go[1]);
	if (rc < 0) {	/* it ends without its word; never leave it unguarded */
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return rc;
	}
	return pid;
}

int spawn_affinity(pid_t pid, const uint64_t *cpuset)
{
	char path[64];
	cpu_set_t set;
	struct dirent *e;
	DIR *d;
	int rc = 0;
	unsigned i, n = 0;

	CPU_ZERO(&set);
	if (!cpuset && sched_getaffinity(0, sizeof(set), &set) < 0)
		return -errno;
	for (i = 0; cpuset && i < CFG_CPUS_MAX; i++)
		if (cpuset[i / 64] >> (i % 64) & 1)
			CPU_SET(i, &set);
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return -errno;
	/* Bounded: a process has at most a few dozen threads here. */
	while ((e = readdir(d)) && n < 4096) {
		long tid = strtol(e->d_name, NULL, 10);

		if (tid <= 0)
			continue;
		n++;
		if (sched_setaffinity((pid_t)tid, sizeof(set), &set) < 0 && errno != ESRCH && !rc)
			rc = -errno;
	}
	closedir(d);
	return rc;
}
