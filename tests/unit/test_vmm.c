/* The VMM process as the supervisor starts it, in a child: a link whose
 * shared header a peer scribbled on is a down link, never a VMM that
 * cannot start, and its other links still come up. */
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/capring.h"
#include "common/stats.h"
#include "link/link.h"
#include "vmm/vmm.h"

struct fx {
	char dir[64], sock[96];
	int stats_fd, cap_fd;
	struct link_res good, bad;
	pid_t vmm;
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
	char fd[16], cfd[16], l1[128], l2[128], user[] = "65534:65534";
	char *argv[] = { "vmm", "--name", "vm0", "--mac", "52:54:00:4d:56:01",
			 "--socket", f->sock, "--stats-fd", fd, "--capture-fd", cfd, "--queue-size", "64",
			 "--link", l1, "--link", l2, "--user", user, NULL, NULL };
	int argc = 19;
	pid_t pid;

	if (geteuid() != 0)	/* only root can drop to another user */
		argv[argc -= 2] = NULL;
	if (group_connect)
		argv[argc++] = "--group-connect";
	snprintf(fd, sizeof(fd), "%d", f->stats_fd);
	snprintf(cfd, sizeof(cfd), "%d", f->cap_fd);
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
	};

	return cmocka_run_group_tests_name("vmm", tests, NULL, NULL);
}
