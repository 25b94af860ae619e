/* The lifecycle (supervisor/lifecycle.c) with a fake process layer: no
 * process is started, signalled or waited for, and the clock is ours.
 * Everything else is real: the built-in system of three VMs in a ring,
 * its links, a temporary state directory, the readiness pipes in an
 * epoll, the consoles. Each case plays what the event loop (run.c) would
 * report, and checks what a user sees: STATE/status, what `run --detach`
 * is told, and which children are started and signalled. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/handoff.h"
#include "common/linkctl.h"
#include "common/log.h"
#include "common/stats.h"
#include "common/statusline.h"
#include "supervisor/lifecycle.h"
#include "supervisor/spawn.h"
#include "supervisor/statefiles.h"
#include "supervisor/vmproc.h"

#define NVMS	3	/* the built-in system */
#define KILLS_MAX 64

/* What the fake process layer was asked to do. */
static struct fake {
	long long now;
	pid_t next_pid;
	unsigned vmm_spawns[NVMS], qemu_spawns[NVMS];
	pid_t vmm[NVMS], qemu[NVMS];	/* the last ones started */
	int ready[NVMS];		/* our end of each VMM's readiness pipe, -1: none */
	struct { pid_t pid; int sig; } kill[KILLS_MAX];
	unsigned nkills, nwaits;
	int log[NVMS][2];		/* each child's end of its log pipe (VMM, QEMU), -1: none */
	bool frozen[NVMS];		/* its VMM's loop does not pass (SIGSTOP) */
	uint64_t beat[NVMS];		/* the heartbeat its VMM last published */
	int handoff[NVMS];		/* the VMM's end of its link handoff channel, -1: none */
	int answer[NVMS];		/* what the fake VMM answers a handoff */
	char heard[NVMS][256];		/* what it was handed: "+PEER@I -PEER@I ..." */
	char qemu_m[NVMS][32];		/* its last QEMU's -m */
	struct { pid_t pid; uint64_t cpus; } moved[KILLS_MAX];	/* fake_affinity */
	unsigned nmoves;
} f;

static struct run_plan plan;
static struct consoles cons;
static struct detach det;
static struct sup *s;
static int ep, det_rd;

static int vm_named(const char *name, size_t len)
{
	unsigned i;

	for (i = 0; i < NVMS; i++)
		if (strlen(plan.cfg.vm[i].name) == len && strncmp(plan.cfg.vm[i].name, name, len) == 0)
			return i;
	fail_msg("no VM called %.*s", (int)len, name);
	return -1;
}

/* The child's end of its log pipe, as a child would hold it. */
static void keep_log(int *slot, int log_fd)
{
	if (*slot >= 0)
		close(*slot);
	*slot = dup(log_fd);
	assert_true(*slot >= 0);
}

static pid_t fake_spawn_vmm(const struct node_args *a, int log_fd, const struct spawn_how *how)
{
	int i = vm_named(a->name, strlen(a->name));

	keep_log(&f.log[i][CHILD_VMM], log_fd);
	/* Keep the write end the VMM would have: the test says when it serves. */
	if (f.ready[i] >= 0)
		close(f.ready[i]);
	f.ready[i] = dup(a->ready_fd);
	assert_true(f.ready[i] >= 0);
	if (f.handoff[i] >= 0)
		close(f.handoff[i]);
	f.handoff[i] = a->handoff_fd >= 0 ? dup(a->handoff_fd) : -1;
	f.vmm_spawns[i]++;
	return f.vmm[i] = f.next_pid++;
}

/* QEMU's VM is the one it is named for (-name NAME). */
static pid_t fake_spawn_argv(char *const argv[], int log_fd, const struct spawn_how *how)
{
	int i;

	assert_string_equal(argv[0], "qemu-system-x86_64");
	assert_string_equal(argv[1], "-name");
	i = vm_named(argv[2], strlen(argv[2]));
	keep_log(&f.log[i][CHILD_QEMU], log_fd);
	for (unsigned k = 3; argv[k] && argv[k + 1]; k++)
		if (!strcmp(argv[k], "-m"))
			snprintf(f.qemu_m[i], sizeof(f.qemu_m[i]), "%s", argv[k + 1]);
	f.qemu_spawns[i]++;
	return f.qemu[i] = f.next_pid++;
}

static int fake_kill(pid_t pid, int sig)
{
	assert_true(f.nkills < KILLS_MAX);
	f.kill[f.nkills].pid = pid;
	f.kill[f.nkills++].sig = sig;
	return 0;
}

static pid_t fake_waitpid(pid_t pid, int *status, int options)
{
	f.nwaits++;
	return pid;
}

static long long fake_now(void)
{
	return f.now;
}

/* Whom apply moved to which CPUs (the first word of the cpuset, ~0: none). */
static int fake_affinity(pid_t pid, const uint64_t *cpuset)
{
	assert_true(f.nmoves < KILLS_MAX);
	f.moved[f.nmoves].pid = pid;
	f.moved[f.nmoves++].cpus = cpuset ? cpuset[0] : ~0ull;
	return 0;
}

static const struct proc_ops fake = {
	.spawn_vmm = fake_spawn_vmm, .spawn_argv = fake_spawn_argv, .kill = fake_kill,
	.waitpid = fake_waitpid, .now_ms = fake_now, .affinity = fake_affinity,
};

/* ---- what a user sees ---- */

/* key of VM vm's line in STATE/status ("" when there is none). */
static const char *status(unsigned vm, const char *key)
{
	static struct status_vm e;
	char path[STATE_PATH_MAX], line[STATUS_LINE_MAX];
	const char *v = NULL;
	unsigned n = 0;
	FILE *fp;

	assert_int_equal(state_file(path, plan.dir, NULL, SF_STATUS), 0);
	fp = fopen(path, "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp))
		if (n++ == vm && status_parse_line(line, &e) == 0) {
			assert_string_equal(status_name(&e), plan.cfg.vm[vm].name);
			v = status_get(&e, key);
		}
	fclose(fp);
	return v ? v : "";
}

static const char *state(unsigned vm)
{
	return status(vm, "state");
}

/* What `run --detach`'s waiting parent has been told ("" if nothing yet). */
static const char *detach_heard(void)
{
	static char buf[512];
	ssize_t n = read(det_rd, buf, sizeof(buf) - 1);

	buf[n > 0 ? n : 0] = 0;
	return buf;
}

/* How many times pid got sig. */
static unsigned killed(pid_t pid, int sig)
{
	unsigned i, n = 0;

	for (i = 0; i < f.nkills; i++)
		n += f.kill[i].pid == pid && f.kill[i].sig == sig;
	return n;
}

/* ---- what the event loop would report ---- */

static void serves(unsigned vm)
{
	assert_int_equal(write(f.ready[vm], "r", 1), 1);
	sup_vmm_word(s, vm);
}

static void exits(pid_t pid, int code)
{
	sup_reaped(s, pid, code << 8);
}

/* Every VMM that is not frozen passes its loop: its heartbeat moves. */
static void beat_all(void)
{
	char path[STATE_PATH_MAX];
	unsigned i;
	int fd;

	for (i = 0; i < NVMS; i++) {
		if (f.frozen[i])
			continue;
		assert_int_equal(state_file(path, plan.dir, plan.cfg.vm[i].name, SF_STATS), 0);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		assert_true(fd >= 0);
		f.beat[i]++;
		assert_int_equal(pwrite(fd, &f.beat[i], sizeof(f.beat[i]), offsetof(struct vm_stats, heartbeat)),
				 sizeof(f.beat[i]));
		close(fd);
	}
}

static void after(long long ms)
{
	f.now += ms;
	beat_all();
	sup_tick(s);
}

static void all_up(void)
{
	unsigned i;

	assert_int_equal(sup_start(s), 0);
	for (i = 0; i < NVMS; i++)
		serves(i);
	for (i = 0; i < NVMS; i++)
		sup_guest_ready(s, i);
	for (i = 0; i < NVMS; i++)
		assert_string_equal(state(i), "up");
	assert_string_equal(detach_heard(), "ok\n");
}

/* ---- set-up ---- */

static int setup(void **st)
{
	char err[CFG_ERR_MAX], tmpl[] = "/tmp/mv-lifecycle-XXXXXX";
	int p[2];
	unsigned i;

	log_set_level(LOG_ERR);
	memset(&f, 0, sizeof(f));
	f.now = 1000000;	/* vmproc keeps 0 for "not due" */
	f.next_pid = 4000000;	/* never a real one: nothing reaches kill(2) anyway */
	for (i = 0; i < NVMS; i++)
		f.ready[i] = f.log[i][0] = f.log[i][1] = f.handoff[i] = -1;
	memset(&plan, 0, sizeof(plan));
	assert_int_equal(config_load_default(&plan.cfg, err, sizeof(err)), 0);
	assert_int_equal(plan.cfg.nvms, NVMS);
	assert_non_null(mkdtemp(tmpl));
	strcpy(plan.dir, tmpl);
	strcpy(plan.kernel, "/g/vmlinuz");
	strcpy(plan.initrd, "/g/initrd");
	ep = epoll_create1(EPOLL_CLOEXEC);
	assert_true(ep >= 0);
	assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	det_rd = p[0];
	det.fd = p[1];
	*st = NULL;
	return 0;
}

/* After a case changed the plan: the system as run.c would open it. */
static void open_system(void)
{
	consoles_init(&cons, &plan.cfg, ep, (struct console_tags){ .vm = 0, .listen = 1000, .viewer = 2000 }, -1);
	s = sup_init(&plan, ep, 1100, 1200, &cons, &det, &fake);
	assert_int_equal(sup_open(s), 0);
}

static int teardown(void **st)
{
	char cmd[sizeof(plan.dir) + 16];
	unsigned i;

	for (i = 0; i < NVMS; i++) {
		if (f.ready[i] >= 0)
			close(f.ready[i]);
		if (f.handoff[i] >= 0)
			close(f.handoff[i]);
		if (f.log[i][0] >= 0)
			close(f.log[i][0]);
		if (f.log[i][1] >= 0)
			close(f.log[i][1]);
	}
	close(ep);
	close(det_rd);
	if (det.fd >= 0)
		close(det.fd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", plan.dir);
	return system(cmd);
}

/* ---- cases ---- */

/* Every VMM first; each VM's QEMU once its VMM serves; up when the guest
 * says so; --detach hears "ok" once all are. */
static void test_first_start(void **st)
{
	unsigned i;

	open_system();
	for (i = 0; i < NVMS; i++) {
		assert_string_equal(state(i), "starting");
		assert_string_equal(status(i, "vmm"), "0");
	}
	assert_int_equal(sup_start(s), 0);
	for (i = 0; i < NVMS; i++) {
		assert_int_equal(f.vmm_spawns[i], 1);
		assert_int_equal(f.qemu_spawns[i], 0);
		assert_string_equal(status(i, "vmm"), "0");	/* not serving yet */
	}
	serves(1);
	assert_int_equal(f.qemu_spawns[1], 1);
	assert_int_equal(f.qemu_spawns[0] + f.qemu_spawns[2], 0);
	assert_string_equal(state(1), "booting");
	assert_int_equal(atoi(status(1, "vmm")), f.vmm[1]);
	assert_int_equal(atoi(status(1, "qemu")), f.qemu[1]);
	assert_string_equal(state(0), "starting");
	serves(0);
	serves(2);
	sup_guest_ready(s, 0);
	sup_guest_ready(s, 1);
	assert_string_equal(state(0), "up");
	assert_string_equal(state(2), "booting");
	assert_string_equal(detach_heard(), "");	/* not all up yet */
	sup_guest_ready(s, 2);
	assert_string_equal(state(2), "up");
	assert_string_equal(cons.state[2], "up");	/* what Return @ ? shows */
	assert_string_equal(detach_heard(), "ok\n");
	assert_false(sup_failed(s));
	assert_int_equal(f.nkills, 0);
	for (i = 0; i < NVMS; i++)
		assert_int_equal(f.qemu_spawns[i], 1);
}

/* The running VMMs' side of apply's link handoff (common/handoff.h), in
 * a thread: the supervisor waits for each answer. */
static volatile bool answering;

static bool listening(int fd)
{
	int on = 0;
	socklen_t l = sizeof(on);

	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &l) == 0 && on;
}

static void *answer_handoffs(void *arg)
{
	struct pollfd p[NVMS];
	struct handoff_msg m;
	char err[120];
	uint32_t seq;
	unsigned i;

	while (answering) {
		for (i = 0; i < NVMS; i++)
			p[i] = (struct pollfd){ .fd = f.handoff[i], .events = POLLIN };
		if (poll(p, NVMS, 10) <= 0)
			continue;
		for (i = 0; i < NVMS; i++) {
			if (!(p[i].revents & POLLIN) || handoff_recv(f.handoff[i], &m, &seq, err, sizeof(err)) < 0)
				continue;
			snprintf(f.heard[i] + strlen(f.heard[i]), sizeof(f.heard[i]) - strlen(f.heard[i]), "%c%s@%u%s%s%s ",
				 m.op == HANDOFF_ADD || m.op == HANDOFF_ADD_NIC ? '+' : '-', m.link.peer,
				 (unsigned)m.index, m.nic.name[0] ? ":" : "", m.nic.name,
				 m.listen_fd >= 0 ? (listening(m.listen_fd) ? " listening" : " not listening") : "");
			if (m.op == HANDOFF_ADD || m.op == HANDOFF_ADD_NIC) {
				close(m.link.memfd);
				close(m.link.rx_kick);
				close(m.link.tx_kick);
			}
			if (m.listen_fd >= 0)
				close(m.listen_fd);
			handoff_reply(f.handoff[i], m.seq, f.answer[i]);
		}
	}
	return NULL;
}

static void apply_links(const char *links, uint64_t *restarted)
{
	static struct config next;
	static char text[4096];
	char err[CFG_ERR_MAX];
	pthread_t t;

	snprintf(text, sizeof(text), "%.*s%s", (int)(strstr(config_default_text, "mesh = yes") - config_default_text),
		 config_default_text, links);
	assert_int_equal(config_load_string(&next, text, "next.ini", err, sizeof(err)), 0);
	memset(f.heard, 0, sizeof(f.heard));
	answering = true;
	assert_int_equal(pthread_create(&t, NULL, answer_handoffs, NULL), 0);
	assert_int_equal(sup_apply(s, &next, restarted, err, sizeof(err)), 0);
	answering = false;
	pthread_join(t, NULL);
}

/* apply hands a link change to the running VMMs, each link at its place
 * among the VM's: nothing restarts. A VMM that refuses, or one not
 * running, is restarted (it takes its links at start); the others still
 * take theirs running. A refusal is told (sup_apply_failed): apply undoes. */
static void test_apply_handoff(void **st)
{
	uint64_t restarted;
	pid_t vmm[NVMS];
	unsigned i;

	open_system();
	all_up();
	memcpy(vmm, f.vmm, sizeof(vmm));
	for (i = 0; i < NVMS; i++)
		assert_true(f.handoff[i] >= 0);

	apply_links("vm0 = vm1\nvm1 = vm2\n", &restarted);	/* vm0-vm2 goes */
	assert_int_equal(restarted, 0);
	assert_int_equal(sup_apply_failed(s), 0);
	assert_string_equal(f.heard[0], "-vm2@1 ");
	assert_string_equal(f.heard[1], "");
	assert_string_equal(f.heard[2], "-vm0@0 ");
	assert_int_equal(f.nkills, 0);
	for (i = 0; i < NVMS; i++)
		assert_int_equal(f.vmm_spawns[i], 1);

	/* Back: vm0 takes vm2 at its end, vm2 takes vm0 before its vm1. */
	apply_links("mesh = yes\n", &restarted);
	assert_int_equal(restarted, 0);
	assert_string_equal(f.heard[0], "+vm2@1 ");
	assert_string_equal(f.heard[2], "+vm0@0 ");
	assert_int_equal(f.nkills, 0);

	/* vm0's VMM refuses: it restarts; vm2 (its VMM exited, not yet back) too. */
	exits(vmm[2], 0);
	f.answer[0] = -EEXIST;
	apply_links("vm0 = vm1\nvm1 = vm2\n", &restarted);
	assert_int_equal(restarted, (1u << 0) | (1u << 2));
	/* vm0's refusal is a failed step (apply undoes); vm2's VMM, not
	 * running, could not be handed anything: a restart by design. */
	assert_int_equal(sup_apply_failed(s), 1u << 0);
	assert_string_equal(f.heard[0], "-vm2@1 ");
	assert_string_equal(f.heard[2], "");
	assert_int_equal(killed(vmm[0], SIGTERM), 1);
	assert_int_equal(killed(vmm[1], SIGTERM) + killed(vmm[2], SIGTERM), 0);
}

/* A new MAC for vm2: its guest reboots and its VMM (its source check)
 * restarts; vm0's and vm1's running VMMs are handed their link to vm2
 * again, with the new MAC (dropped, added at its place): no restart. */
static void test_apply_mac(void **st)
{
	static struct config next;
	static char text[4096];
	char err[CFG_ERR_MAX], *m;
	uint64_t restarted;
	pid_t vmm[NVMS], qemu[NVMS];
	pthread_t t;

	open_system();
	all_up();
	memcpy(vmm, f.vmm, sizeof(vmm));
	memcpy(qemu, f.qemu, sizeof(qemu));
	m = strstr(config_default_text, "[vm vm2]\n") + strlen("[vm vm2]\n");
	snprintf(text, sizeof(text), "%.*smac = 52:54:00:00:00:09\n%s", (int)(m - config_default_text),
		 config_default_text, m);
	assert_int_equal(config_load_string(&next, text, "next.ini", err, sizeof(err)), 0);
	memset(f.heard, 0, sizeof(f.heard));
	answering = true;
	assert_int_equal(pthread_create(&t, NULL, answer_handoffs, NULL), 0);
	assert_int_equal(sup_apply(s, &next, &restarted, err, sizeof(err)), 0);
	answering = false;
	pthread_join(t, NULL);
	assert_int_equal(restarted, 1u << 2);
	assert_int_equal(sup_apply_failed(s), 0);
	assert_string_equal(f.heard[0], "-vm2@1 +vm2@1 ");
	assert_string_equal(f.heard[1], "-vm2@1 +vm2@1 ");
	assert_string_equal(f.heard[2], "");
	assert_int_equal(killed(vmm[2], SIGTERM), 1);
	assert_int_equal(killed(qemu[2], SIGTERM), 1);
	assert_int_equal(f.nkills, 2);
	assert_int_equal(f.qemu_spawns[2], 2);
	assert_int_equal(f.qemu_spawns[0] + f.qemu_spawns[1], 2);
	assert_int_equal(f.vmm_spawns[0] + f.vmm_spawns[1], 2);
}

/* apply of a wire between running VMs: each end's running VMM is handed
 * the NIC with its link (after its segment's) and a listening socket at
 * the NIC's path; removed, told to drop it (its socket removed). Nothing
 * restarts. */
static void test_apply_wire_handoff(void **st)
{
	char path[STATE_PATH_MAX];
	uint64_t restarted;
	struct stat sb;
	unsigned i;

	open_system();
	all_up();
	apply_links("vm0 = vm1 vm2\nvm1 = vm2\nvm0:eth2 = vm2:eth1\n", &restarted);
	assert_int_equal(restarted, 0);
	assert_int_equal(sup_apply_failed(s), 0);
	assert_string_equal(f.heard[0], "+vm2@2:eth2 listening ");
	assert_string_equal(f.heard[1], "");
	assert_string_equal(f.heard[2], "+vm0@2:eth1 listening ");
	assert_int_equal(state_nic_socket(path, plan.dir, "vm0", "eth2"), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_true(S_ISSOCK(sb.st_mode));
	assert_int_equal(sb.st_mode & 077, 0);

	apply_links("mesh = yes\n", &restarted);
	assert_int_equal(restarted, 0);
	assert_string_equal(f.heard[0], "-vm2@2:eth2 ");
	assert_string_equal(f.heard[2], "-vm0@2:eth1 ");
	assert_int_equal(stat(path, &sb), -1);	/* its socket gone with it */
	assert_int_equal(f.nkills, 0);
	for (i = 0; i < NVMS; i++)
		assert_int_equal(f.vmm_spawns[i], 1);

	/* A VMM that refuses the NIC restarts (it serves it from its start). */
	f.answer[2] = -ENOSPC;
	apply_links("vm0 = vm1 vm2\nvm1 = vm2\nvm0:eth2 = vm2:eth1\n", &restarted);
	assert_int_equal(restarted, 1u << 2);
	assert_int_equal(sup_apply_failed(s), 1u << 2);
	assert_string_equal(f.heard[0], "+vm2@2:eth2 listening ");
}

/* apply of a VM's memory and cpus: its QEMU told to quit, reaped, and
 * started again at once with them; its VMM and the other VMs untouched. */
static void test_apply_reboot(void **st)
{
	static struct config next;
	static char text[4096];
	char err[CFG_ERR_MAX], *m;
	uint64_t restarted;
	pid_t qemu[NVMS], vmm[NVMS];

	open_system();
	all_up();
	memcpy(qemu, f.qemu, sizeof(qemu));
	memcpy(vmm, f.vmm, sizeof(vmm));
	assert_string_equal(f.qemu_m[1], "256M");
	snprintf(text, sizeof(text), "%s", config_default_text);
	m = strstr(strstr(text, "[vm vm1]"), "memory = 256M");
	memcpy(m, "memory = 512M", 13);
	assert_int_equal(config_load_string(&next, text, "next.ini", err, sizeof(err)), 0);
	assert_int_equal(sup_apply(s, &next, &restarted, err, sizeof(err)), 0);
	assert_int_equal(restarted, 0);
	assert_int_equal(sup_apply_failed(s), 0);
	assert_int_equal(killed(qemu[1], SIGTERM), 1);
	assert_int_equal(f.nkills, 1);
	assert_int_equal(f.qemu_spawns[1], 2);
	assert_string_equal(f.qemu_m[1], "512M");
	assert_string_equal(state(1), "booting");
	assert_int_equal(atoi(status(1, "qemu")), f.qemu[1]);
	assert_int_not_equal(f.qemu[1], qemu[1]);
	assert_int_equal(f.qemu_spawns[0] + f.qemu_spawns[2], 2);
	assert_int_equal(f.vmm_spawns[0] + f.vmm_spawns[1] + f.vmm_spawns[2], 3);
	assert_string_equal(state(0), "up");
	assert_string_equal(state(2), "up");
	sup_guest_ready(s, 1);
	assert_string_equal(state(1), "up");
	assert_memory_equal(f.vmm, vmm, sizeof(vmm));	/* no VMM restarted */
}

/* cpuset of a running VM: its QEMU and VMM moved, running; nothing killed
 * or started. */
static void test_apply_cpuset(void **st)
{
	static struct config next;
	static char text[4096];
	char err[CFG_ERR_MAX], *m;
	uint64_t restarted;
	pid_t qemu[NVMS], vmm[NVMS];

	open_system();
	all_up();
	memcpy(qemu, f.qemu, sizeof(qemu));
	memcpy(vmm, f.vmm, sizeof(vmm));
	snprintf(text, sizeof(text), "%s", config_default_text);
	m = strstr(strstr(text, "[vm vm1]"), "memory = 256M");
	memcpy(m, "cpuset = 0   ", 13);
	assert_int_equal(config_load_string(&next, text, "next.ini", err, sizeof(err)), 0);
	assert_int_equal(sup_apply(s, &next, &restarted, err, sizeof(err)), 0);
	assert_int_equal(restarted, 0);
	assert_int_equal(f.nkills, 0);
	assert_int_equal(f.nmoves, 2);
	assert_int_equal(f.moved[0].pid, qemu[1]);
	assert_int_equal(f.moved[1].pid, vmm[1]);
	assert_int_equal(f.moved[0].cpus, 1);
	assert_int_equal(f.moved[1].cpus, 1);
	assert_memory_equal(f.qemu, qemu, sizeof(qemu));
	assert_memory_equal(f.vmm, vmm, sizeof(vmm));
	assert_string_equal(state(1), "up");
	/* and back to none: wherever the supervisor may run */
	assert_int_equal(config_load_string(&next, config_default_text, "next.ini", err, sizeof(err)), 0);
	assert_int_equal(sup_apply(s, &next, &restarted, err, sizeof(err)), 0);
	assert_int_equal(f.nmoves, 4);
	assert_true(f.moved[2].cpus == ~0ull && f.moved[3].cpus == ~0ull);
	assert_int_equal(f.nkills, 0);
}

/* --no-guests: a VM is up once its VMM serves, and no QEMU starts. */
static void test_no_guests(void **st)
{
	unsigned i;

	plan.no_guests = true;
	open_system();
	assert_int_equal(sup_start(s), 0);
	for (i = 0; i < NVMS; i++)
		serves(i);
	for (i = 0; i < NVMS; i++) {
		assert_string_equal(state(i), "up");
		assert_int_equal(f.qemu_spawns[i], 0);
	}
	assert_string_equal(detach_heard(), "ok\n");
}

/* A QEMU that exits is started again after the back-off, which doubles
 * when it exits again soon. */
static void test_qemu_restart(void **st)
{
	open_system();
	all_up();
	exits(f.qemu[1], 1);
	assert_string_equal(state(1), "restarting");
	assert_string_equal(status(1, "qemu"), "0");
	assert_string_equal(state(0), "up");
	assert_true(sup_tick(s) <= BACKOFF_MIN_MS);
	after(BACKOFF_MIN_MS - 1);
	assert_int_equal(f.qemu_spawns[1], 1);
	after(1);
	assert_int_equal(f.qemu_spawns[1], 2);
	assert_string_equal(state(1), "booting");
	assert_int_equal(atoi(status(1, "qemu")), f.qemu[1]);
	exits(f.qemu[1], 1);
	after(BACKOFF_MIN_MS);
	assert_int_equal(f.qemu_spawns[1], 2);	/* 2 x BACKOFF_MIN_MS now */
	after(BACKOFF_MIN_MS);
	assert_int_equal(f.qemu_spawns[1], 3);
	sup_guest_ready(s, 1);
	assert_string_equal(state(1), "up");
	assert_int_equal(f.vmm_spawns[1], 1);	/* its VMM was left alone */
	assert_string_equal(detach_heard(), "");	/* said "ok" once, before */
	assert_int_equal(f.nkills, 0);
}

/* A VMM that dies leaves its VM degraded (no network) until a new one
 * serves; QEMU stays and reconnects by itself. */
static void test_vmm_restart_degraded(void **st)
{
	pid_t old;

	open_system();
	all_up();
	old = f.vmm[2];
	sup_reaped(s, old, SIGSEGV);
	assert_string_equal(state(2), "degraded");
	assert_string_equal(status(2, "reason"), "vmm_not_running");
	assert_string_equal(status(2, "vmm"), "0");
	assert_string_equal(state(1), "up");
	after(BACKOFF_MIN_MS);
	assert_int_equal(f.vmm_spawns[2], 2);
	assert_true(f.vmm[2] != old);
	assert_string_equal(state(2), "degraded");	/* started, not serving yet */
	serves(2);
	assert_string_equal(state(2), "up");
	assert_int_equal(atoi(status(2, "vmm")), f.vmm[2]);
	assert_int_equal(f.qemu_spawns[2], 1);
	assert_int_equal(f.nkills, 0);
}

/* A VMM whose loop stops passing (SIGSTOP): degraded, reason
 * vmm_unresponsive, after VMM_UNRESPONSIVE_MS (looked at once a second);
 * up again when it passes again, nothing killed; stopped for VMM_HUNG_MS
 * it is killed, once, and restarted as a VMM that died. */
static void test_vmm_unresponsive(void **st)
{
	pid_t old;
	long long t;

	open_system();
	all_up();
	after(LIVENESS_CHECK_MS);
	f.frozen[1] = true;
	for (t = 0; t + LIVENESS_CHECK_MS < VMM_UNRESPONSIVE_MS; t += LIVENESS_CHECK_MS) {
		after(LIVENESS_CHECK_MS);
		assert_string_equal(state(1), "up");
	}
	after(LIVENESS_CHECK_MS);
	assert_string_equal(state(1), "degraded");
	assert_string_equal(status(1, "reason"), "vmm_unresponsive");
	assert_int_equal(atoi(status(1, "vmm")), f.vmm[1]);	/* it runs */
	assert_string_equal(state(0), "up");
	assert_string_equal(status(0, "reason"), "");
	assert_string_equal(cons.state[1], "up");	/* the guest's state is unchanged */
	f.frozen[1] = false;	/* SIGCONT */
	after(LIVENESS_CHECK_MS);
	assert_string_equal(state(1), "up");
	assert_string_equal(status(1, "reason"), "");
	assert_int_equal(f.nkills, 0);

	f.frozen[1] = true;
	for (t = 0; t + LIVENESS_CHECK_MS < VMM_HUNG_MS; t += LIVENESS_CHECK_MS) {
		after(LIVENESS_CHECK_MS);
		assert_int_equal(f.nkills, 0);
	}
	after(LIVENESS_CHECK_MS);
	old = f.vmm[1];
	assert_int_equal(killed(old, SIGKILL), 1);
	assert_string_equal(status(1, "reason"), "vmm_unresponsive");
	after(LIVENESS_CHECK_MS);
	after(LIVENESS_CHECK_MS);
	assert_int_equal(killed(old, SIGKILL), 1);	/* once */
	sup_reaped(s, old, SIGKILL);
	assert_string_equal(state(1), "degraded");
	assert_string_equal(status(1, "reason"), "vmm_not_running");
	f.frozen[1] = false;
	after(BACKOFF_MIN_MS);
	assert_int_equal(f.vmm_spawns[1], 2);
	serves(1);
	assert_string_equal(state(1), "up");
	assert_int_equal(atoi(status(1, "vmm")), f.vmm[1]);
	assert_int_equal(f.qemu_spawns[1], 1);	/* QEMU reconnects by itself */
	assert_int_equal(f.nkills, 1);
}

static uint64_t file_size(unsigned vm, enum state_file sf, const char *suffix)
{
	char p[STATE_PATH_MAX + 4];
	struct stat sb;

	assert_int_equal(state_file(p, plan.dir, plan.cfg.vm[vm].name, sf), 0);
	strcat(p, suffix);
	return stat(p, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

/* What a VMM and a QEMU write (stdout, stderr) reaches their logs through
 * pipes, capped at log_max plus one .1 of at most log_max; the rest is
 * counted in log_bytes_dropped. A child's last words, still in its pipe
 * when it is reaped, are logged. */
static void test_child_logs(void **st)
{
	static char buf[10000];
	uint64_t kept;

	plan.cfg.log_max = 4096;
	open_system();
	all_up();
	memset(buf, 'q', sizeof(buf));
	assert_int_equal(write(f.log[1][CHILD_QEMU], buf, sizeof(buf)), sizeof(buf));
	sup_child_log(s, 1, 1);
	kept = file_size(1, SF_QEMU_LOG, "") + file_size(1, SF_QEMU_LOG, ".1");
	assert_true(file_size(1, SF_QEMU_LOG, "") <= 4096 && file_size(1, SF_QEMU_LOG, ".1") <= 4096);
	assert_true(kept > 0);
	after(1000);	/* status is told once a second */
	assert_int_equal(strtoull(status(1, "log_bytes_dropped"), NULL, 10), sizeof(buf) - kept);
	assert_string_equal(status(0, "log_bytes_dropped"), "0");

	assert_int_equal(write(f.log[2][CHILD_VMM], "vmm: bye\n", 9), 9);
	close(f.log[2][CHILD_VMM]);	/* it exits */
	f.log[2][CHILD_VMM] = -1;
	sup_reaped(s, f.vmm[2], SIGSEGV);
	assert_int_equal(file_size(2, SF_VMM_LOG, ""), 9);
	after(BACKOFF_MIN_MS);
	assert_int_equal(f.vmm_spawns[2], 2);	/* a new pipe for the new VMM ... */
	assert_int_equal(write(f.log[2][CHILD_VMM], "vmm: hello\n", 11), 11);
	sup_child_log(s, 2, 0);
	assert_int_equal(file_size(2, SF_VMM_LOG, ""), 9 + 11);	/* ... into the same log */
}

/* restart = never: a QEMU that exits leaves its VM stopped, and --detach
 * stops waiting for it. */
static void test_restart_never(void **st)
{
	plan.cfg.vm[1].restart = RESTART_NEVER;
	open_system();
	assert_int_equal(sup_start(s), 0);
	serves(0);
	serves(1);
	serves(2);
	sup_guest_ready(s, 0);
	exits(f.qemu[1], 3);
	assert_string_equal(state(1), "stopped");
	assert_string_equal(detach_heard(),
			    "fail: vm1: QEMU exited with status 3 before all VMs were up (restart = never)\n");
	after(BACKOFF_MAX_MS);
	after(BACKOFF_MAX_MS);
	assert_int_equal(f.qemu_spawns[1], 1);
	assert_string_equal(state(1), "stopped");
	sup_guest_ready(s, 2);
	assert_string_equal(state(2), "up");
	assert_false(sup_failed(s));	/* the others run on */
	assert_int_equal(f.nkills, 0);
}

/* A QEMU that keeps exiting before its guest is up: --detach is told
 * after BOOT_FAILURES_MAX in a row, and the restarts go on. */
static void test_boot_failures(void **st)
{
	unsigned k;

	open_system();
	assert_int_equal(sup_start(s), 0);
	serves(0);
	serves(1);
	serves(2);
	for (k = 1; k <= BOOT_FAILURES_MAX; k++) {
		assert_string_equal(detach_heard(), "");
		exits(f.qemu[0], 1);
		assert_string_equal(state(0), "restarting");
		after(BACKOFF_MAX_MS);
		assert_int_equal(f.qemu_spawns[0], k + 1);
	}
	assert_non_null(strstr(detach_heard(), "fail: vm0: QEMU exited with status 1, 3 times in a row"));
	assert_string_equal(state(0), "booting");
}

/* A VMM that closes its readiness pipe on the first start: the system
 * does not come up, and what was started is stopped. */
static void test_vmm_gives_up(void **st)
{
	unsigned i;

	open_system();
	assert_int_equal(sup_start(s), 0);
	serves(1);
	close(f.ready[0]);
	f.ready[0] = -1;
	sup_vmm_word(s, 0);
	assert_true(sup_failed(s));
	assert_int_equal(killed(f.vmm[0], SIGKILL), 1);
	assert_int_equal(killed(f.qemu[1], SIGTERM), 1);	/* stopping: QEMUs first */
	assert_non_null(strstr(detach_heard(), "fail: could not start the system"));
	assert_false(sup_stopped(s));
	exits(f.qemu[1], 0);
	assert_false(sup_stopped(s));	/* now the VMMs */
	for (i = 0; i < NVMS; i++)
		assert_int_equal(killed(f.vmm[i], SIGTERM), 1);
	for (i = 0; i < NVMS; i++)
		sup_reaped(s, f.vmm[i], i ? SIGTERM : SIGKILL);
	assert_true(sup_stopped(s));
	after(BACKOFF_MAX_MS);	/* nothing is restarted while stopping */
	for (i = 0; i < NVMS; i++)
		assert_int_equal(f.vmm_spawns[i], 1);
}

/* A VMM that says nothing for VMM_READY_MS is given up. */
static void test_vmm_late(void **st)
{
	open_system();
	assert_int_equal(sup_start(s), 0);
	serves(1);
	serves(2);
	after(VMM_READY_MS - 1);
	assert_false(sup_failed(s));
	assert_int_equal(f.nkills, 0);
	after(1);
	assert_true(sup_failed(s));
	assert_int_equal(killed(f.vmm[0], SIGKILL), 1);
	assert_int_equal(killed(f.vmm[1], SIGKILL), 0);
}

/* Stop: the QEMUs get SIGTERM, and once all are gone the VMMs; nothing
 * that exits meanwhile is restarted. */
static void test_stop(void **st)
{
	unsigned i;

	open_system();
	all_up();
	sup_stop(s);
	assert_int_equal(f.nkills, NVMS);
	for (i = 0; i < NVMS; i++)
		assert_int_equal(killed(f.qemu[i], SIGTERM), 1);
	assert_false(sup_stopped(s));
	exits(f.qemu[0], 0);
	exits(f.qemu[1], 0);
	assert_false(sup_stopped(s));
	assert_int_equal(f.nkills, NVMS);	/* vm2's QEMU still runs: VMMs wait */
	exits(f.qemu[2], 0);
	assert_false(sup_stopped(s));
	for (i = 0; i < NVMS; i++)
		assert_int_equal(killed(f.vmm[i], SIGTERM), 1);
	sup_reaped(s, f.vmm[0], SIGTERM);
	sup_reaped(s, f.vmm[1], SIGTERM);
	assert_false(sup_stopped(s));
	sup_reaped(s, f.vmm[2], SIGTERM);
	assert_true(sup_stopped(s));
	after(BACKOFF_MAX_MS);
	for (i = 0; i < NVMS; i++) {
		assert_int_equal(f.vmm_spawns[i], 1);
		assert_int_equal(f.qemu_spawns[i], 1);
	}
	assert_int_equal(f.nwaits, 0);
	assert_false(sup_failed(s));
}

/* What was due to restart when the stop came is not started. */
static void test_stop_cancels_restarts(void **st)
{
	open_system();
	all_up();
	exits(f.qemu[0], 1);
	sup_reaped(s, f.vmm[1], SIGKILL);
	sup_stop(s);
	after(BACKOFF_MAX_MS);
	assert_int_equal(f.qemu_spawns[0], 1);
	assert_int_equal(f.vmm_spawns[1], 1);
	assert_int_equal(killed(f.qemu[0], SIGTERM), 0);	/* gone already */
	assert_int_equal(killed(f.qemu[1], SIGTERM), 1);
}

/* Children that ignore SIGTERM get SIGKILL after STOP_GRACE_MS (and are
 * waited for), the QEMUs first. */
static void test_stop_grace(void **st)
{
	unsigned i;

	open_system();
	all_up();
	sup_stop(s);
	f.now += STOP_GRACE_MS;
	assert_false(sup_stopped(s));
	assert_int_equal(f.nkills, NVMS);	/* not late yet */
	f.now += 1;
	assert_false(sup_stopped(s));
	for (i = 0; i < NVMS; i++) {
		assert_int_equal(killed(f.qemu[i], SIGKILL), 1);
		assert_int_equal(killed(f.vmm[i], SIGTERM), 1);
		assert_int_equal(killed(f.vmm[i], SIGKILL), 0);
	}
	assert_int_equal(f.nwaits, NVMS);
	f.now += STOP_GRACE_MS + 1;
	assert_true(sup_stopped(s));
	for (i = 0; i < NVMS; i++)
		assert_int_equal(killed(f.vmm[i], SIGKILL), 1);
	assert_int_equal(f.nwaits, 2 * NVMS);
}

/* ---- a fake QEMU monitor ---- */

/* A QEMU's QMP socket (STATE/NAME.qmp) served by a thread as QEMU would:
 * the greeting, then {"return": {}} to every command, each command kept
 * (but qmp_capabilities) for the test to look at. */
struct fake_qmp {
	int lfd;
	pthread_t th;
	pthread_mutex_t mu;
	char got[4096];		/* the commands, one a line, since last taken */
	unsigned conns;
	bool stop;		/* under mu */
};

static bool qmp_stopping(struct fake_qmp *q)
{
	bool stop;

	pthread_mutex_lock(&q->mu);
	stop = q->stop;
	pthread_mutex_unlock(&q->mu);
	return stop;
}

/* One connection: each line answered with its id, until the client closes
 * or 2 s of silence. */
static void qmp_conn(struct fake_qmp *q, int c)
{
	static const char greet[] = "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}}, "
				    "\"capabilities\": []}}\r\n";
	char buf[2048], reply[64], *nl, *id;
	size_t have = 0;
	ssize_t n;

	if (write(c, greet, strlen(greet)) != (ssize_t)strlen(greet))
		return;
	for (;;) {
		struct pollfd p = { .fd = c, .events = POLLIN };

		if (poll(&p, 1, 2000) <= 0 || (n = read(c, buf + have, sizeof(buf) - 1 - have)) <= 0)
			return;
		have += n;
		buf[have] = 0;
		while ((nl = strchr(buf, '\n'))) {
			*nl = 0;
			id = strstr(buf, "\"id\":");
			snprintf(reply, sizeof(reply), "{\"return\": {}, \"id\": %d}\r\n", id ? atoi(id + 5) : 0);
			if (!strstr(buf, "qmp_capabilities")) {
				pthread_mutex_lock(&q->mu);
				snprintf(q->got + strlen(q->got), sizeof(q->got) - strlen(q->got), "%s\n", buf);
				pthread_mutex_unlock(&q->mu);
			}
			if (write(c, reply, strlen(reply)) != (ssize_t)strlen(reply))
				return;
			have -= nl + 1 - buf;
			memmove(buf, nl + 1, have + 1);
		}
		if (have == sizeof(buf) - 1)
			return;
	}
}

static void *qmp_serve(void *arg)
{
	struct fake_qmp *q = arg;

	while (!qmp_stopping(q)) {
		struct pollfd p = { .fd = q->lfd, .events = POLLIN };
		int c;

		if (poll(&p, 1, 20) <= 0)
			continue;
		c = accept4(q->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		pthread_mutex_lock(&q->mu);
		q->conns++;
		pthread_mutex_unlock(&q->mu);
		qmp_conn(q, c);
		close(c);
	}
	return NULL;
}

static void qmp_fake_start(struct fake_qmp *q, unsigned vm)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	memset(q, 0, sizeof(*q));
	assert_int_equal(state_file(a.sun_path, plan.dir, plan.cfg.vm[vm].name, SF_QMP), 0);
	q->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(q->lfd >= 0);
	unlink(a.sun_path);
	assert_int_equal(bind(q->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(q->lfd, 8), 0);
	pthread_mutex_init(&q->mu, NULL);
	assert_int_equal(pthread_create(&q->th, NULL, qmp_serve, q), 0);
}

static void qmp_fake_stop(struct fake_qmp *q)
{
	pthread_mutex_lock(&q->mu);
	q->stop = true;
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->th, NULL);
	close(q->lfd);
	pthread_mutex_destroy(&q->mu);
}

/* The commands q got since last asked ("" none), and how many connections. */
static const char *qmp_took(struct fake_qmp *q, unsigned *conns)
{
	static char out[sizeof(q->got)];

	pthread_mutex_lock(&q->mu);
	memcpy(out, q->got, sizeof(out));
	q->got[0] = 0;
	if (conns)
		*conns = q->conns;
	pthread_mutex_unlock(&q->mu);
	return out;
}

#define SET_LINK(up) "{\"execute\":\"set_link\",\"id\":2,\"arguments\":{\"name\":\"nic-eth1\",\"up\":" up "}}\n"

/* Sets direction FROM->TO of the wire down or up in TO's control file, as
 * `multivm link` does (the receiver's file holds a direction). */
static void wire_set_down(unsigned from, unsigned to, bool down)
{
	char p[STATE_PATH_MAX];
	struct linkctl *c;
	int fd, e;

	assert_int_equal(state_file(p, plan.dir, plan.cfg.vm[to].name, SF_CTL), 0);
	fd = open(p, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(c != MAP_FAILED);
	e = statefiles_ctl_find(c, plan.cfg.vm[from].name, "eth1", "eth1");
	assert_true(e >= 0);
	linkctl_write_begin(c);
	c->link[e].imp.down = down;
	linkctl_write_end(c);
	munmap(c, sizeof(*c));
	close(fd);
}

/* The carrier watcher: a wire vm0:eth1 = vm1:eth1 set down (one direction
 * is enough: a cable) takes both NICs' carrier away through each QEMU's
 * monitor, up gives it back; vm1's VMM gone takes vm0's away, not before
 * WIRE_PEER_GONE_MS, and its successor serving gives it back. Nothing is
 * sent while nothing changes, and nothing to vm2 (no wire). */
static void test_carrier(void **st)
{
	static struct fake_qmp q[NVMS];
	char err[CFG_ERR_MAX];
	unsigned i, conns;
	long long t;

	assert_int_equal(config_load_string(&plan.cfg, "[vm vm0]\n[vm vm1]\n[vm vm2]\n[links]\nmesh = yes\n"
				 "vm0:eth1 = vm1:eth1\n", "w.ini", err, sizeof(err)), 0);
	open_system();
	all_up();
	for (i = 0; i < NVMS; i++)	/* after QEMU started: it makes the socket */
		qmp_fake_start(&q[i], i);
	after(LIVENESS_CHECK_MS);
	after(LIVENESS_CHECK_MS);
	for (i = 0; i < NVMS; i++) {	/* every wire up: QEMU starts them so, nothing said */
		assert_string_equal(qmp_took(&q[i], &conns), "");
		assert_int_equal(conns, 0);
	}

	wire_set_down(0, 1, true);
	after(LIVENESS_CHECK_MS);
	assert_string_equal(qmp_took(&q[0], NULL), SET_LINK("false"));
	assert_string_equal(qmp_took(&q[1], NULL), SET_LINK("false"));
	after(LIVENESS_CHECK_MS);	/* told once */
	assert_string_equal(qmp_took(&q[0], NULL), "");
	assert_string_equal(qmp_took(&q[1], NULL), "");
	wire_set_down(0, 1, false);
	after(LIVENESS_CHECK_MS);
	assert_string_equal(qmp_took(&q[0], NULL), SET_LINK("true"));
	assert_string_equal(qmp_took(&q[1], NULL), SET_LINK("true"));

	/* vm1's VMM dies: gone for WIRE_PEER_GONE_MS before vm0 hears it. */
	exits(f.vmm[1], 1);
	for (t = LIVENESS_CHECK_MS; t < WIRE_PEER_GONE_MS; t += LIVENESS_CHECK_MS) {
		after(LIVENESS_CHECK_MS);
		assert_string_equal(qmp_took(&q[0], NULL), "");
	}
	after(LIVENESS_CHECK_MS);
	after(LIVENESS_CHECK_MS);
	assert_string_equal(qmp_took(&q[0], NULL), SET_LINK("false"));
	assert_string_equal(qmp_took(&q[1], NULL), "");	/* vm1's own far end, vm0, is there */
	assert_true(f.vmm_spawns[1] >= 2);		/* restarted meanwhile, not serving yet */
	serves(1);
	after(LIVENESS_CHECK_MS);
	assert_string_equal(qmp_took(&q[0], NULL), SET_LINK("true"));
	after(LIVENESS_CHECK_MS);
	for (i = 0; i < NVMS; i++)
		assert_string_equal(qmp_took(&q[i], NULL), "");
	assert_int_equal((qmp_took(&q[2], &conns), conns), 0);
	for (i = 0; i < NVMS; i++)
		qmp_fake_stop(&q[i]);
}

/* A tunnel's link records say whether its remote is heard (up): what a
 * wire to it reads to take the carrier away; a record not there, or a
 * file too short, is not known. */
static void test_link_up(void **state)
{
	static struct vm_stats st;
	struct vm_proc p;
	char path[] = "/tmp/test_lifecycle.XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	memset(&p, 0, sizeof(p));
	p.stats_fd = fd;
	st.nlinks = 2;
	strcpy(st.link[0].peer, "vm0");
	strcpy(st.link[0].peer_nic, "eth1");
	st.link[0].up = 1;
	strcpy(st.link[1].peer, "vm1");
	strcpy(st.link[1].peer_nic, "eth2");
	assert_int_equal(pwrite(fd, &st, sizeof(st), 0), sizeof(st));
	assert_int_equal(vmproc_link_up(&p, "vm0", "eth1"), 1);
	assert_int_equal(vmproc_link_up(&p, "vm1", "eth2"), 0);
	assert_int_equal(vmproc_link_up(&p, "vm1", "eth1"), -1);
	assert_int_equal(vmproc_link_up(&p, "vm2", "eth2"), -1);
	st.nlinks = 1;	/* records past nlinks are not looked at */
	assert_int_equal(pwrite(fd, &st, sizeof(st), 0), sizeof(st));
	assert_int_equal(vmproc_link_up(&p, "vm1", "eth2"), -1);
	st.nlinks = UINT32_MAX;	/* a lie: only the records there are */
	assert_int_equal(pwrite(fd, &st, sizeof(st), 0), sizeof(st));
	assert_int_equal(vmproc_link_up(&p, "vm1", "eth2"), 0);
	assert_int_equal(ftruncate(fd, 100), 0);
	assert_int_equal(vmproc_link_up(&p, "vm0", "eth1"), -1);
	close(fd);
	p.stats_fd = -1;
	assert_int_equal(vmproc_link_up(&p, "vm0", "eth1"), -1);
}

/* A child that fails again soon waits twice as long each time; one the
 * supervisor stopped itself to restart it (apply, vmproc.h asked) did not
 * fail: it restarts at once and the back-off starts over, so that apply
 * after apply (bench/hotplug.sh) is not slowed to BACKOFF_MAX_MS. */
static void test_restart_asked(void **state)
{
	static struct vm_proc p;

	p.started[CHILD_VMM] = 1000;
	assert_int_equal(vmproc_restart_later(&p, CHILD_VMM, 1100), BACKOFF_MIN_MS);
	p.started[CHILD_VMM] = 1300;
	assert_int_equal(vmproc_restart_later(&p, CHILD_VMM, 1400), 2 * BACKOFF_MIN_MS);
	p.started[CHILD_VMM] = 1800;
	p.asked[CHILD_VMM] = true;
	assert_int_equal(vmproc_restart_later(&p, CHILD_VMM, 1900), 0);
	assert_int_equal(p.due[CHILD_VMM], 1900);
	assert_false(p.asked[CHILD_VMM]);
	p.started[CHILD_VMM] = 1900;
	assert_int_equal(vmproc_restart_later(&p, CHILD_VMM, 2000), BACKOFF_MIN_MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restart_asked),
		cmocka_unit_test_setup_teardown(test_first_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_guests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_qemu_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vmm_restart_degraded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vmm_unresponsive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_child_logs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_never, setup, teardown),
		cmocka_unit_test_setup_teardown(test_boot_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vmm_gives_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vmm_late, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_cancels_restarts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_grace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_handoff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_wire_handoff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_reboot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_cpuset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_mac, setup, teardown),
		cmocka_unit_test(test_link_up),
		cmocka_unit_test_setup_teardown(test_carrier, setup, teardown),
	};

	return cmocka_run_group_tests_name("lifecycle", tests, NULL, NULL);
}
