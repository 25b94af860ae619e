/* The VMM's seccomp filter: what it needs still works, and opening
 * files, exec and new sockets are refused. Each case runs in a child,
 * since a filter cannot be removed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fdio.h"
#include "node/sandbox.h"
#include "tunnel/tunnel.h"
#include "vmm/vmm.h"

/* Runs fn sandboxed as kind k in a child; returns its exit status. */
static int in_sandbox_as(const struct node_kind_ops *k, int (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		if (sandbox_enter(k->rules, k->nrules) < 0)
			_exit(100);
		_exit(fn());
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 200 + WTERMSIG(status);
}

static int in_sandbox(int (*fn)(void))
{
	return in_sandbox_as(&vmm_kind, fn);
}

static int open_file(void)
{
	return open("/etc/passwd", O_RDONLY) < 0 && errno == EPERM ? 0 : 1;
}

static int new_socket(void)
{
	return socket(AF_INET, SOCK_STREAM, 0) < 0 && errno == EPERM ? 0 : 1;
}

static int run_program(void)
{
	char *argv[] = { "/bin/true", NULL };

	execv("/bin/true", argv);
	return errno == EPERM ? 0 : 1;
}

/* No executable memory: injected code could not be mapped and run. */
static int map_executable(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *q = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p != MAP_FAILED || errno != EPERM || q == MAP_FAILED)
		return 1;
	return mprotect(q, 4096, PROT_READ | PROT_EXEC) < 0 && errno == EPERM ? 0 : 2;
}

/* No path lookups at all: not even stat (glibc's fstat is one too). */
static int stat_path(void)
{
	struct stat st;

	if (stat("/etc/passwd", &st) == 0 || errno != EPERM)
		return 1;
	if (fstatat(AT_FDCWD, "/etc/passwd", &st, AT_EMPTY_PATH) == 0 || errno != EPERM)
		return 2;
	return fcntl(0, F_SETFL, O_NONBLOCK) < 0 && errno == EPERM ? 0 : 3;
}

static int create_eventfd(void)
{
	return eventfd(0, 0) < 0 && errno == EPERM ? 0 : 1;
}

/* The steady state: eventfds, memory it is sent, epoll, messages. */
static int steady_state(int memfd, int sock, int efd)
{
	uint64_t one = 1;
	struct epoll_event e;
	char b;
	int ep;
	void *p;

	if (write(efd, &one, 8) != 8 || read(efd, &one, 8) != 8)
		return 2;
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (p == MAP_FAILED)
		return 3;
	munmap(p, 4096);
	/* Guest memory: its size through the fstat system call, and a seal
	 * against shrinking where the memfd allows one. */
	{
		uint64_t size;

		memfd_seal_shrink(memfd);
		if (fd_size(memfd, &size) < 0 || size != 4096 || !(fcntl(memfd, F_GET_SEALS) & F_SEAL_SHRINK))
			return 6;
	}
	if (send(sock, "x", 1, 0) != 1 || recv(sock, &b, 1, 0) != 1)
		return 4;
	(void)e;
	(void)ep;
	return 0;
}

static int g_memfd, g_sock, g_efd;

/* What only a VMM needs (a frontend's socket, its memory) is not a
 * tunnel's: the tunnel's profile does not inherit it. */
static int vmm_only_calls(void)
{
	uint64_t size;
	char b;

	if (accept4(g_sock, NULL, NULL, 0) >= 0 || errno != EPERM)
		return 1;
	if (recv(g_sock, &b, 1, MSG_DONTWAIT) >= 0 || errno != EPERM)
		return 2;
	if (fd_size(g_memfd, &size) >= 0)
		return 3;
	return fcntl(g_memfd, F_GET_SEALS) < 0 && errno == EPERM ? 0 : 4;
}

/* ... and the tunnel's datagram batches are not a VMM's. */
static int datagram_calls(void)
{
	struct mmsghdr m;

	memset(&m, 0, sizeof(m));
	return recvmmsg(g_sock, &m, 1, MSG_DONTWAIT, NULL) < 0 && errno == EPERM ? 0 : 1;
}

static int allowed_calls(void)
{
	return steady_state(g_memfd, g_sock, g_efd);
}

static void test_refused(void **state)
{
	assert_int_equal(in_sandbox(open_file), 0);
	assert_int_equal(in_sandbox(new_socket), 0);
	assert_int_equal(in_sandbox(run_program), 0);
	assert_int_equal(in_sandbox(create_eventfd), 0);
	assert_int_equal(in_sandbox(map_executable), 0);
	assert_int_equal(in_sandbox(stat_path), 0);
}

static void test_allowed(void **state)
{
	int sv[2];

	g_memfd = memfd_create("t", MFD_ALLOW_SEALING);
	assert_int_equal(ftruncate(g_memfd, 4096), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	g_sock = sv[0];
	g_efd = eventfd(0, 0);
	/* Echo one byte back from this side for the child's recv. */
	assert_int_equal(write(sv[1], "y", 1), 1);
	assert_int_equal(in_sandbox(allowed_calls), 0);
}

static void test_kinds_apart(void **state)
{
	int sv[2];

	g_memfd = memfd_create("t", MFD_ALLOW_SEALING);
	assert_int_equal(ftruncate(g_memfd, 4096), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	g_sock = sv[0];
	assert_int_equal(in_sandbox_as(&tunnel_kind, vmm_only_calls), 0);
	assert_int_equal(in_sandbox_as(&vmm_kind, datagram_calls), 0);
	assert_int_equal(in_sandbox_as(&tunnel_kind, open_file), 0);
	assert_int_equal(in_sandbox_as(&tunnel_kind, new_socket), 0);
	assert_int_equal(in_sandbox_as(&tunnel_kind, run_program), 0);
	close(sv[0]);
	close(sv[1]);
	close(g_memfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_kinds_apart),
	};

	return cmocka_run_group_tests_name("sandbox", tests, NULL, NULL);
}
