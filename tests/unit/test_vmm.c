/* The VMM process as the supervisor starts it, in a child: a link whose
 * shared header a peer scribbled on is a down link, never a VMM that
 * cannot start, and its other links still come up. Sandboxed, it is
 * handed a wire NIC with its listening socket (common/handoff.h), serves
 * a frontend there, and drops it: the frontend's connection closed, its
 * other links untouched, the same process. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/capring.h"
#include "common/handoff.h"
#include "common/stats.h"
#include "common/vusock.h"
#include "link/link.h"
#include "vmm/vhost_user.h"
#include "vmm/vmm.h"

struct fx {
	char dir[64], sock[96];
	int stats_fd, cap_fd;
	struct link_res good, bad;
	pid_t vmm;
	int ho[2];			/* the handoff channel: ours, the VMM's */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char p[96];

	snprintf(f->dir, sizeof(f->dir), "/tmp/mvu.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->sock, sizeof(f->sock), "%s/vm0.vhost", f->dir);
	snprintf(p, sizeof(p), "%s/vm0.stats", f->dir);
	f->stats_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	assert_true(f->stats_fd >= 0);
	assert_int_equal(ftruncate(f->stats_fd, sizeof(struct vm_stats)), 0);
	snprintf(p, sizeof(p), "%s/vm0.capture", f->dir);
	f->cap_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	assert_true(f->cap_fd >= 0);
	assert_int_equal(ftruncate(f->cap_fd, CAP_FILE_SIZE), 0);
	assert_int_equal(link_create(&f->good, 64, "vm0", "vm1"), 0);
	assert_int_equal(link_create(&f->bad, 64, "vm0", "vm2"), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, f->ho), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char p[96];

	if (f->vmm > 0) {
		kill(f->vmm, SIGKILL);
		waitpid(f->vmm, NULL, 0);
	}
	link_res_close(&f->good);
	link_res_close(&f->bad);
	close(f->ho[0]);
	close(f->ho[1]);
	close(f->stats_fd);
	close(f->cap_fd);
	unlink(f->sock);
	snprintf(p, sizeof(p), "%s/vm0.stats", f->dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/vm0.capture", f->dir);
	unlink(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Starts the VMM in a child, as spawn.c would: fds inherited by number. */
static pid_t start_vmm(struct fx *f, bool group_connect)
{
	char fd[16], cfd[16], hfd[16], l1[128], l2[128], user[] = "65534:65534";
	char *argv[] = { "vmm", "--name", "vm0", "--mac", "52:54:00:4d:56:01",
			 "--socket", f->sock, "--stats-fd", fd, "--capture-fd", cfd, "--queue-size", "64",
			 "--handoff-fd", hfd, "--link", l1, "--link", l2, "--user", user, NULL, NULL };
	int argc = 21;
	pid_t pid;

	if (geteuid() != 0)	/* only root can drop to another user */
		argv[argc -= 2] = NULL;
	if (group_connect)
		argv[argc++] = "--group-connect";
	snprintf(fd, sizeof(fd), "%d", f->stats_fd);
	snprintf(cfd, sizeof(cfd), "%d", f->cap_fd);
	snprintf(hfd, sizeof(hfd), "%d", f->ho[1]);
	snprintf(l1, sizeof(l1), "vm1,52:54:00:4d:56:02,0,%d,%d,%d", f->good.memfd, f->good.kick[1],
		 f->good.kick[0]);
	snprintf(l2, sizeof(l2), "vm2,52:54:00:4d:56:03,0,%d,%d,%d", f->bad.memfd, f->bad.kick[1],
		 f->bad.kick[0]);
	pid = fork();
	if (pid == 0)
		_exit(vmm_main(argc, argv));
	return pid;
}

/* The socket is there and the VMM done setting up: it is under its
 * filter, so its capture ring is mapped and its user dropped (the socket
 * appears before either). */
static bool sandboxed(pid_t pid)
{
	char p[64], line[128];
	bool yes = false;
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%d/status", (int)pid);
	f = fopen(p, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		yes |= strncmp(line, "Seccomp:\t2", 10) == 0;
	fclose(f);
	return yes;
}

static bool wait_socket(const char *path, pid_t pid)
{
	struct stat st;
	int i;

	for (i = 0; i < 500; i++) {	/* 10 s */
		if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode) && sandboxed(pid))
			return true;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return false;
		poll(NULL, 0, 20);
	}
	return false;
}

static void test_scribbled_header_is_one_down_link(void **state)
{
	struct fx *f = *state;
	struct link_hdr *h = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, f->bad.memfd, 0);
	struct vm_stats *st;
	struct stat sst;
	int status;

	assert_true(h != MAP_FAILED);
	memset(h, 0xa5, 4096);	/* a hostile vm2 wrote over the whole page */
	munmap(h, 4096);
	f->vmm = start_vmm(f, false);
	assert_true(f->vmm > 0);
	assert_true(wait_socket(f->sock, f->vmm));
	assert_int_equal(stat(f->sock, &sst), 0);
	assert_int_equal(sst.st_mode & 077, 0);	/* no one else may connect */
	st = mmap(NULL, sizeof(*st), PROT_READ, MAP_SHARED, f->stats_fd, 0);
	assert_true(st != MAP_FAILED);
	assert_int_equal(st->nlinks, 2);
	assert_string_equal(st->link[0].peer, "vm1");
	assert_int_equal(st->link[0].up, 1);
	assert_string_equal(st->link[1].peer, "vm2");
	assert_int_equal(st->link[1].up, 0);
	assert_int_equal(st->link[1].errors, 1);
	{	/* the capture ring is set up, its streams named after the links */
		struct cap_hdr *ch = mmap(NULL, CAP_HDR_SIZE, PROT_READ, MAP_SHARED, f->cap_fd, 0);

		assert_true(ch != MAP_FAILED);
		assert_true(ch->magic == CAP_MAGIC);
		assert_int_equal(ch->nstreams, 3);
		assert_string_equal(ch->stream_name[0], "vm0");
		assert_string_equal(ch->stream_name[1], "vm1");
		assert_string_equal(ch->stream_name[2], "vm2");
		assert_int_equal(ch->wanted, 0);
		munmap(ch, CAP_HDR_SIZE);
	}
	if (geteuid() == 0) {	/* it became nobody, with no capabilities */
		char p[64], line[128];
		bool uid = false, caps = false;
		FILE *pf;

		snprintf(p, sizeof(p), "/proc/%d/status", (int)f->vmm);
		pf = fopen(p, "r");
		assert_non_null(pf);
		while (fgets(line, sizeof(line), pf)) {
			uid |= strcmp(line, "Uid:\t65534\t65534\t65534\t65534\n") == 0;
			caps |= strcmp(line, "CapEff:\t0000000000000000\n") == 0;
		}
		fclose(pf);
		assert_true(uid && caps);
	}
	/* Still serving: it stops cleanly when asked. */
	assert_int_equal(kill(f->vmm, SIGTERM), 0);
	assert_int_equal(waitpid(f->vmm, &status, 0), f->vmm);
	f->vmm = 0;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	munmap(st, sizeof(*st));
}

static int handoff_to(struct fx *f, struct handoff_msg *m)
{
	static uint32_t seq;
	int status;

	m->seq = ++seq;
	assert_int_equal(handoff_send(f->ho[0], m), 0);
	assert_int_equal(handoff_wait_reply(f->ho[0], m->seq, 5000, &status), 0);
	return status;
}

static bool wait_u32(const volatile uint32_t *p, uint32_t want)
{
	int i;

	for (i = 0; i < 500 && *p != want; i++)	/* 10 s */
		poll(NULL, 0, 20);
	return *p == want;
}

/* A wire NIC handed to the sandboxed VMM: served (a frontend gets its
 * features), then dropped (the frontend's connection closed); the VMM
 * and its links stay. */
static void test_wire_nic_handed_over_and_dropped(void **state)
{
	struct fx *f = *state;
	struct link_res w;
	struct handoff_msg m;
	struct vm_stats *st;
	char nsock[128];
	uint8_t msg[VU_HDR_SIZE + 8];
	uint32_t hdr[3] = { 1, 1, 0 };	/* GET_FEATURES, version 1, no payload */
	int c, status;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	f->vmm = start_vmm(f, false);
	assert_true(f->vmm > 0);
	assert_true(wait_socket(f->sock, f->vmm));
	st = mmap(NULL, sizeof(*st), PROT_READ, MAP_SHARED, f->stats_fd, 0);
	assert_true(st != MAP_FAILED);
	assert_int_equal(link_create(&w, 64, "vm0", "vm3"), 0);
	snprintf(nsock, sizeof(nsock), "%s/vm0.eth1.vhost", f->dir);

	memset(&m, 0, sizeof(m));
	m.op = HANDOFF_ADD_NIC;
	m.index = 2;
	strcpy(m.link.peer, "vm3");
	m.link.peer_mac[0] = 0x52;
	m.link.memfd = w.memfd;
	m.link.rx_kick = w.kick[1];
	m.link.tx_kick = w.kick[0];
	strcpy(m.link.peer_nic, "eth1");
	strcpy(m.nic.name, "eth1");
	memcpy(m.nic.mac, "\x52\x54\x00\x4e\x01\x01", 6);
	m.nic.mtu = 1500;
	m.listen_fd = vusock_listen(nsock, false, 0, 0, false);
	assert_true(m.listen_fd >= 0);
	assert_int_equal(handoff_to(f, &m), 0);
	assert_int_equal(handoff_to(f, &m), -EEXIST);	/* a NIC of that name: refused, counted */
	close(m.listen_fd);
	assert_int_equal(st->nlinks, 3);
	assert_string_equal(st->link[2].peer, "vm3");
	assert_string_equal(st->link[2].nic, "eth1");
	assert_string_equal(st->link[2].peer_nic, "eth1");
	assert_int_equal(st->link[2].up, 1);
	assert_int_equal(st->nnics, 1);
	assert_string_equal(st->nic[0].name, "eth1");
	assert_int_equal(st->handoff_refused, 1);

	/* A frontend on the new socket: the VMM answers it. */
	c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(c >= 0);
	strcpy(sa.sun_path, nsock);
	assert_int_equal(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(send(c, hdr, sizeof(hdr), 0), (ssize_t)sizeof(hdr));
	{
		struct pollfd p = { .fd = c, .events = POLLIN };

		assert_int_equal(poll(&p, 1, 10000), 1);
	}
	assert_int_equal(recv(c, msg, sizeof(msg), MSG_WAITALL), (ssize_t)sizeof(msg));
	assert_int_equal(msg[0], 1);			/* GET_FEATURES */
	assert_true(msg[4] & 0x4);			/* a reply */
	assert_true(wait_u32(&st->nic[0].vu_connected, 1));
	assert_int_equal(st->nic[0].vu_connects, 1);

	/* Dropped: the frontend's connection ends; eth0's links stay. */
	memset(&m, 0, sizeof(m));
	m.op = HANDOFF_DROP_NIC;
	m.index = 2;
	strcpy(m.link.peer, "vm3");
	strcpy(m.nic.name, "eth1");
	m.link.memfd = m.link.rx_kick = m.link.tx_kick = m.listen_fd = -1;
	assert_int_equal(handoff_to(f, &m), 0);
	{
		struct pollfd p = { .fd = c, .events = POLLIN };

		assert_int_equal(poll(&p, 1, 10000), 1);
		assert_int_equal(recv(c, msg, sizeof(msg), 0), 0);
	}
	close(c);
	assert_int_equal(st->nlinks, 2);
	assert_string_equal(st->link[2].peer, "");
	assert_int_equal(st->nnics, 0);
	assert_string_equal(st->nic[0].name, "");
	assert_string_equal(st->link[0].peer, "vm1");
	assert_int_equal(st->link[0].up, 1);
	assert_int_equal(st->vmm_starts, 1);

	/* Handed again (a wire back): a free slot, served. */
	memset(&m, 0, sizeof(m));
	m.op = HANDOFF_ADD_NIC;
	m.index = 2;
	strcpy(m.link.peer, "vm3");
	m.link.memfd = w.memfd;
	m.link.rx_kick = w.kick[1];
	m.link.tx_kick = w.kick[0];
	strcpy(m.nic.name, "eth1");
	memcpy(m.nic.mac, "\x52\x54\x00\x4e\x01\x01", 6);
	m.nic.mtu = 1500;
	m.listen_fd = vusock_listen(nsock, false, 0, 0, false);
	assert_true(m.listen_fd >= 0);
	assert_int_equal(handoff_to(f, &m), 0);
	close(m.listen_fd);
	assert_int_equal(st->nnics, 1);
	assert_int_equal(st->nlinks, 3);

	assert_int_equal(kill(f->vmm, SIGTERM), 0);
	assert_int_equal(waitpid(f->vmm, &status, 0), f->vmm);
	f->vmm = 0;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	munmap(st, sizeof(*st));
	unlink(nsock);
	link_res_close(&w);
}

/* guest = external: the socket is for a frontend in the VMM user's group. */
static void test_group_connect_opens_the_socket_to_the_group(void **state)
{
	struct fx *f = *state;
	struct stat st;
	int status;

	f->vmm = start_vmm(f, true);
	assert_true(f->vmm > 0);
	assert_true(wait_socket(f->sock, f->vmm));
	assert_int_equal(stat(f->sock, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0660);
	if (geteuid() == 0) {
		assert_int_equal(st.st_uid, 65534);
		assert_int_equal(st.st_gid, 65534);
	}
	assert_int_equal(kill(f->vmm, SIGTERM), 0);
	assert_int_equal(waitpid(f->vmm, &status, 0), f->vmm);
	f->vmm = 0;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_scribbled_header_is_one_down_link, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_connect_opens_the_socket_to_the_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wire_nic_handed_over_and_dropped, setup, teardown),
	};

	return cmocka_run_group_tests_name("vmm", tests, NULL, NULL);
}
