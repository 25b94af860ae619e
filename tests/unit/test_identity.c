/* Identities (supervisor/runas.c): the range is checked against the
 * system's size, the accounts and the running processes, and each node
 * and QEMU gets its own ids; and the VMM's second lock (vmm/peercred.c)
 * tells a VM's frontend from any other peer by the kernel's record. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/config.h"
#include "supervisor/runas.h"
#include "vmm/peercred.h"

static struct config c;
static struct runas ra;
static char err[512];

static void load(const char *text)
{
	int rc = config_load_string(&c, text, "id.ini", err, sizeof(err));

	if (rc)
		fail_msg("%s", err);
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A fake /proc: pid 9 is root, pid 123 has saved uid 5003 (slot 1 of 5000). */
static char proc[] = "/tmp/mvid.XXXXXX", locks[] = "/tmp/mvlk.XXXXXX";

static void make_proc(void)
{
	char p[64];

	assert_non_null(mkdtemp(proc));
	assert_non_null(mkdtemp(locks));
	snprintf(p, sizeof(p), "%s/9", proc);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/9/status", proc);
	put(p, "Name:\tinit\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n");
	snprintf(p, sizeof(p), "%s/123", proc);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/123/status", proc);
	put(p, "Name:\tx\nUid:\t1000\t1000\t5003\t1000\n");
	snprintf(p, sizeof(p), "%s/self", proc);	/* not a pid: skipped */
	mkdir(p, 0700);
}

static void test_slots_busy(void **st)
{
	uint64_t busy[RUNAS_SLOTS_MAX / 64] = { 0 };

	make_proc();
	runas_slots_busy(proc, 5000, 128, busy);
	assert_int_equal(busy[0], 2);	/* slot 1: 5002-5003 */
	assert_int_equal(busy[1], 0);
	memset(busy, 0, sizeof(busy));
	runas_slots_busy(proc, 4000, 500, busy);	/* 5003 - 4000 = 1003: slot 501, beyond */
	for (unsigned k = 0; k < RUNAS_SLOTS_MAX / 64; k++)
		assert_int_equal(busy[k], 0);
	runas_slots_busy(proc, 4004, 500, busy);	/* slot 499 */
	assert_int_equal(busy[499 / 64] >> (499 % 64) & 1, 1);
}

/* Two systems at once on one range (their locks), and a process that has
 * one of the ids: each node takes the next free slot. */
static void test_slots_taken(void **st)
{
	static struct runas other;

	if (geteuid() != 0 || !getpwnam("multivm"))
		skip();
	load("[system]\nuid_range = 5000-5007\n[vm a]\n[vm b]\n");
	assert_int_equal(runas_resolve_in(&c, &other, proc, locks, err, sizeof(err)), 0);
	assert_int_equal(other.node[0].uid, 5000);	/* slot 0 */
	assert_int_equal(other.qemu[0].uid, 5001);
	assert_int_equal(other.node[1].uid, 5004);	/* slot 1 has a process */
	assert_int_equal(other.qemu[1].gid, 5005);
	load("[system]\nuid_range = 5000-5007\n[vm a]\n");
	assert_int_equal(runas_resolve_in(&c, &ra, proc, locks, err, sizeof(err)), 0);
	assert_int_equal(ra.node[0].uid, 5006);	/* the other system holds 0 and 2 */
	runas_release(&ra);
	load("[system]\nuid_range = 5000-5007\n[vm a]\n[vm b]\n");
	assert_int_equal(runas_resolve_in(&c, &ra, proc, locks, err, sizeof(err)), -1);
	assert_string_equal(err, "id.ini:2: [system] uid_range: 5000-5007: no free ids for 1 of this system's 2 VMs "
				 "and tunnels (running processes, or other systems started by root, have the rest): give "
				 "it a uid_range of its own, or a larger one");
	runas_release(&other);	/* the other system stopped: its slots are free again */
	assert_int_equal(runas_resolve_in(&c, &ra, proc, locks, err, sizeof(err)), 0);
	assert_int_equal(ra.node[0].uid, 5000);
	assert_int_equal(ra.node[1].uid, 5004);
	runas_release(&ra);
	snprintf(err, sizeof(err), "rm -rf %s %s", proc, locks);
	assert_int_equal(system(err), 0);
}

static void test_range_account(void **st)
{
	char who[128] = "";
	struct passwd *nobody = getpwnam("nobody");

	if (!nobody)
		skip();
	assert_int_equal(runas_range_account(nobody->pw_uid, nobody->pw_uid, who, sizeof(who)), nobody->pw_uid);
	assert_non_null(strstr(who, "65534 of user "));	/* nobody, or a user in nogroup */
	assert_int_equal(runas_range_account(1900000000u, 1900000127u, who, sizeof(who)), 0);
}

static void test_resolve(void **st)
{
	char mine[] = "/tmp/mvlk.XXXXXX";
	struct passwd *pw;
	uid_t nobody;
	gid_t mv;
	char t[512];

	if (geteuid() != 0 || !getpwnam("nobody") || !getpwnam("multivm"))
		skip();
	pw = getpwnam("nobody");	/* one static buffer: keep the numbers */
	nobody = pw->pw_uid;
	pw = getpwnam("multivm");
	mv = pw->pw_gid;
	assert_non_null(mkdtemp(mine));
	load("[system]\nuid_range = 1900000200-1900000204\n[vm a]\n[vm b]\n[tunnel t]\nlocal = 10.0.0.1\n"
	     "remote = 10.0.0.2\nvni = 7\n[links]\na = b t\n");
	assert_int_equal(runas_resolve_in(&c, &ra, "/nonexistent", mine, err, sizeof(err)), -1);
	assert_string_equal(err, "id.ini:2: [system] uid_range: 1900000200-1900000204: holds 5 ids; this system's "
				 "3 VMs and tunnels need 2 each, 6");
	snprintf(t, sizeof(t), "[system]\nuid_range = %u-%u\n[vm a]\n", (unsigned)nobody - 1, (unsigned)nobody + 1);
	load(t);
	assert_int_equal(runas_resolve_in(&c, &ra, "/nonexistent", mine, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "overlaps an account ("));
	if (!strstr(err, "65534 of user ") && !strstr(err, "65534 of group "))
		fail_msg("%s", err);

	load("[vm a]\n[vm b]\nguest = external\n[vm c]\nguest = external\nfrontend_user = nobody\n[vm d]\n"
	     "guest = external\nfrontend_group = 4242\n");
	assert_int_equal(runas_resolve_in(&c, &ra, "/nonexistent", mine, err, sizeof(err)), 0);	/* no process */
	assert_true(ra.drop);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(ra.node[i].uid, 1900000000u + 2 * i);
		assert_int_equal(ra.node[i].gid, 1900000000u + 2 * i);
		assert_int_equal(ra.qemu[i].uid, 1900000001u + 2 * i);
		assert_int_equal(ra.qemu[i].gid, 1900000001u + 2 * i);
	}
	assert_int_equal(ra.front[0].id.uid, 1900000001u);	/* its own QEMU */
	assert_false(ra.front[0].group);
	assert_int_equal(ra.front[1].id.gid, mv);	/* external: [system] user's group */
	assert_true(ra.front[1].group);
	assert_int_equal(ra.front[2].id.uid, nobody);
	assert_false(ra.front[2].group);
	assert_int_equal(ra.front[3].id.gid, 4242);
	assert_true(ra.front[3].group);

	load("[vm a]\nguest = external\nfrontend_group = no-such-group-here\n");
	assert_int_equal(runas_resolve_in(&c, &ra, "/nonexistent", mine, err, sizeof(err)), -1);
	assert_string_equal(err, "id.ini:3: [vm a] frontend_group: no such group on this host");

	runas_release(&ra);
	snprintf(err, sizeof(err), "rm -rf %s", mine);
	assert_int_equal(system(err), 0);
}

/* A child that becomes uid 5000, gid 5000, groups {6000}, and connects. */
static pid_t connect_as(const char *path)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		gid_t g = 6000;
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
		if (setgroups(1, &g) < 0 || setresgid(5000, 5000, 5000) < 0 || setresuid(5000, 5000, 5000) < 0 ||
		    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			_exit(1);
		pause();
		_exit(0);
	}
	return pid;
}

static void test_peer_allowed(void **st)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct peer_rule r;
	int l, fd, sp[2];
	uid_t u;
	pid_t pid;

	/* root's peer: always let in */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	r = (struct peer_rule){ .uid = 4999, .gid = 4999 };
	assert_int_equal(peer_allowed(sp[0], &r, &u), geteuid() == 0 || geteuid() == 4999);
	close(sp[0]);
	close(sp[1]);
	if (geteuid() != 0)
		skip();
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/tmp/mvpeer.%d", (int)getpid());
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	chmod(sa.sun_path, 0777);
	assert_int_equal(listen(l, 1), 0);
	pid = connect_as(sa.sun_path);
	fd = accept(l, NULL, NULL);
	assert_true(fd >= 0);
	assert_false(peer_allowed(fd, &(struct peer_rule){ .uid = 4999, .gid = 4999 }, &u));
	assert_int_equal(u, 5000);
	assert_true(peer_allowed(fd, &(struct peer_rule){ .uid = 5000, .gid = 1 }, &u));
	assert_false(peer_allowed(fd, &(struct peer_rule){ .uid = 4999, .gid = 6000 }, &u));	/* group not allowed */
	assert_true(peer_allowed(fd, &(struct peer_rule){ .uid = 4999, .gid = 6000, .group = true }, &u));
	assert_true(peer_allowed(fd, &(struct peer_rule){ .uid = 4999, .gid = 5000, .group = true }, &u));
	assert_false(peer_allowed(fd, &(struct peer_rule){ .uid = 4999, .gid = 6001, .group = true }, &u));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(fd);
	close(l);
	unlink(sa.sun_path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slots_busy), cmocka_unit_test(test_slots_taken), cmocka_unit_test(test_range_account),
		cmocka_unit_test(test_resolve), cmocka_unit_test(test_peer_allowed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
