/* What this machine charges for the three things the VMMs do between
 * batches, measured on CPU 0 (or the CPU given): a system call
 * (getppid), a switch to another process on the same core and back
 * (two processes taking turns with sched_yield, as two VMMs on one core
 * do under load), and a doorbell round trip (an eventfd write that wakes
 * a process blocked in read, which rings back). The VMMs' cost per frame
 * is their batch's work plus these costs divided by the frames a batch
 * carries (docs/performance.md). Usage: switchcost [CPU] */
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define N 100000

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Runs fn in a child on the same CPU; returns the child's pid or -1. */
static pid_t sibling(void (*fn)(int, int), int a, int b)
{
	pid_t p = fork();

	if (p == 0) {
		fn(a, b);
		_exit(0);
	}
	return p;
}

static void yielder(int a, int b)
{
	(void)a, (void)b;
	for (int i = 0; i < N; i++)
		sched_yield();
}

static void echo(int in, int out)
{
	uint64_t v;

	for (int i = 0; i < N; i++)
		if (read(in, &v, sizeof(v)) != sizeof(v) || write(out, &v, sizeof(v)) != sizeof(v))
			_exit(1);
}

int main(int argc, char **argv)
{
	int cpu = argc > 1 ? atoi(argv[1]) : 0, ping, pong, i;
	double t0, sys_us, switch_us, bell_us;
	uint64_t v = 1;
	cpu_set_t set;
	pid_t p;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0) {
		perror("switchcost: sched_setaffinity");
		return 1;
	}
	t0 = now();
	for (i = 0; i < N; i++)
		syscall(SYS_getppid);
	sys_us = (now() - t0) / N * 1e6;

	/* Each of our yields hands the core to the sibling and back. */
	p = sibling(yielder, 0, 0);
	t0 = now();
	for (i = 0; i < N; i++)
		sched_yield();
	switch_us = (now() - t0) / N * 1e6 / 2;
	waitpid(p, NULL, 0);

	ping = eventfd(0, EFD_CLOEXEC);
	pong = eventfd(0, EFD_CLOEXEC);
	if (ping < 0 || pong < 0) {
		perror("switchcost: eventfd");
		return 1;
	}
	p = sibling(echo, ping, pong);
	t0 = now();
	for (i = 0; i < N; i++)
		if (write(ping, &v, sizeof(v)) != sizeof(v) || read(pong, &v, sizeof(v)) != sizeof(v))
			return 1;
	bell_us = (now() - t0) / N * 1e6;
	waitpid(p, NULL, 0);
	printf("switchcost: CPU %d: system call %.2f us, switch to another process on the core %.2f us, "
	       "doorbell round trip (eventfd, both on the core) %.2f us\n", cpu, sys_us, switch_us, bell_us);
	return 0;
}
