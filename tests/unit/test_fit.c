/* Whether a system fits the host: open files and memory (supervisor/fit.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "link/link.h"
#include "supervisor/fit.h"

static struct config c;
static char err[CFG_ERR_MAX];

static void mesh(unsigned n, unsigned q)
{
	char text[4096] = "";
	unsigned i;

	snprintf(text, sizeof(text), "[system]\nlink_queue_size = %u\n", q);
	for (i = 0; i < n; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "[vm v%u]\nmemory = 128M\n", i);
	strcat(text, "[links]\nmesh = yes\n");
	assert_int_equal(config_load_string(&c, text, "m.ini", err, sizeof(err)), 0);
}

static const char *meminfo(unsigned long long kib)
{
	static char path[32];
	int fd;

	strcpy(path, "/tmp/mvfit.XXXXXX");
	fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	fprintf(f, "MemTotal:       99999999 kB\nMemAvailable:   %llu kB\n", kib);
	fclose(f);
	return path;
}

static void test_64_mesh(void **state)
{
	const char *p;

	mesh(64, 256);
	assert_int_equal(fit_fds_needed(&c), 3 * 2016 + 8 * 64 + 64);
	assert_int_equal(fit_memory_needed(&c, false), 2016ULL * link_shm_size(256));
	assert_int_equal(fit_memory_needed(&c, true), 2016ULL * link_shm_size(256) + 64ULL * (128 << 20));
	p = meminfo(64ULL << 20);	/* 64 GiB: fits, and the fd limit is raised */
	assert_int_equal(fit_check(&c, true, p, err, sizeof(err)), 0);
	unlink(p);
	p = meminfo(1 << 20);		/* 1 GiB */
	assert_int_equal(fit_check(&c, false, p, err, sizeof(err)), -1);
	assert_string_equal(err, "m.ini: the system needs 8103 MiB (guest memory, and 2016 links: 8103 MiB, 4116 KiB "
				 "each at link_queue_size = 256, more if delayed) but only 1024 MiB are available");
	unlink(p);
	mesh(64, 64);			/* smaller queues fit: 2016 links of 1.01 MiB (v2) */
	p = meminfo(3 << 20);		/* 3 GiB */
	assert_int_equal(fit_check(&c, false, p, err, sizeof(err)), 0);
	unlink(p);
}

/* A delayed link counts with the room its delay gets (link/room.h). */
static void test_delayed(void **state)
{
	assert_int_equal(config_load_string(&c, "[vm a]\n[vm b]\n[vm d]\n[links]\nmesh = yes\n"
						"[link a-b]\ndelay = 5ms\n[link b->d]\ndelay = 1ms\n",
					    "d.ini", err, sizeof(err)), 0);
	assert_int_equal(fit_memory_needed(&c, false),
			 link_shm_size(1024) + link_shm_size(512) + link_shm_size(256));
}

/* apply: only what is added counts against what is available now. */
static void test_more(void **state)
{
	static struct config old;
	const char *p;

	mesh(3, 256);
	old = c;
	mesh(4, 256);			/* one VM of 128 MiB and three links more */
	p = meminfo(200 << 10);		/* 200 MiB */
	assert_int_equal(fit_check_more(&old, &c, true, p, err, sizeof(err)), 0);
	unlink(p);
	p = meminfo(100 << 10);
	assert_int_equal(fit_check_more(&old, &c, true, p, err, sizeof(err)), -1);
	assert_string_equal(err, "m.ini: what it adds needs 140 MiB (guest memory and links) but only 100 MiB are "
				 "available");
	assert_int_equal(fit_check_more(&old, &c, false, p, err, sizeof(err)), 0);	/* 12 MiB of links */
	assert_int_equal(fit_check_more(&c, &old, true, p, err, sizeof(err)), 0);	/* less: fits */
	unlink(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_64_mesh), cmocka_unit_test(test_delayed),
					    cmocka_unit_test(test_more) };

	return cmocka_run_group_tests_name("fit", tests, NULL, NULL);
}
