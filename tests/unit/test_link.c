/* multivm link's core (cli/link.c) and the control files the supervisor
 * makes (supervisor/statefiles.c): entries in each node's link order with
 * the config's settings for the direction it receives; finding a link's
 * two entries; a set applied to both files under the seqlock; bad words
 * refused with the files left as they were. Files in a temporary
 * directory, no system running. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/link.h"
#include "config/config.h"
#include "node/args.h"
#include "supervisor/spawn.h"
#include "supervisor/state.h"
#include "supervisor/statefiles.h"

/* vm0, vm1 and vm2 on the segment; a wire vm0:eth1 = vm1:eth2, and one
 * from vm2:eth1 to tunnel t0. */
static const char cfg_text[] =
	"[vm vm0]\n[vm vm1]\n[vm vm2]\n"
	"[tunnel t0]\nlocal = 10.9.0.1\nremote = 10.9.0.2\nvni = 7\n"
	"[links]\nmesh = yes\nvm0:eth1 = vm1:eth2\nt0 = vm2:eth1\n"
	"[link vm0->vm1]\ndelay = 20ms\n"
	"[link vm1:eth2->vm0:eth1]\nstate = down\nloss = 1%\n"
	"[link vm2:eth1-t0]\nrate = 10mbit\n";

static struct config c;
static struct node_args a;
static struct linkctl ctl;
static struct link_res res[MV_LINKS_MAX];
static char dir[64];

static void args_of(unsigned node)
{
	struct runas ra = { 0 };

	assert_int_equal(spawn_vmm_args(&a, &c, node, res, &ra, dir), 0);
}

static int setup(void **state)
{
	char err[CFG_ERR_MAX];
	unsigned i;
	int fd;

	snprintf(dir, sizeof(dir), "/tmp/test_link.XXXXXX");
	assert_non_null(mkdtemp(dir));
	if (config_load_string(&c, cfg_text, "t.ini", err, sizeof(err)) < 0)
		fail_msg("%s", err);
	for (i = 0; i < c.nvms; i++) {
		args_of(i);
		fd = statefiles_ctl(dir, &a, &c, i);
		assert_true(fd >= 0);
		close(fd);
	}
	return 0;
}

static int teardown(void **state)
{
	char p[STATE_PATH_MAX];
	unsigned i;

	for (i = 0; i < c.nvms; i++)
		if (state_file(p, dir, c.vm[i].name, SF_CTL) == 0)
			unlink(p);
	rmdir(dir);
	return 0;
}

static void read_file(const char *node, struct linkctl *out)
{
	char p[STATE_PATH_MAX];
	int fd;

	assert_int_equal(state_file(p, dir, node, SF_CTL), 0);
	fd = open(p, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(statefiles_ctl_read(fd, out), 0);
	close(fd);
}

static const struct link_imp *imp_of(const struct linkctl *k, const char *peer, const char *nic, const char *peer_nic)
{
	int e = statefiles_ctl_find(k, peer, nic, peer_nic);

	if (e < 0)
		fail_msg("no entry %s %s %s", peer, nic, peer_nic);
	return &k->link[e].imp;
}

/* The entries follow the node's --link order, name the link, and hold
 * the direction the node receives. */
static void test_ctl_made_in_link_order(void **state)
{
	static const char *const ends[][3] = { { "vm1", "", "" }, { "vm2", "", "" }, { "vm1", "eth1", "eth2" } };
	unsigned i, k;
	char words[256];
	struct stat st;
	char p[STATE_PATH_MAX];

	for (i = 0; i < c.nvms; i++) {
		args_of(i);
		read_file(c.vm[i].name, &ctl);
		assert_int_equal(ctl.magic, LINKCTL_MAGIC);
		assert_int_equal(ctl.version, LINKCTL_VERSION);
		assert_int_equal(ctl.gen % 2, 0);
		assert_int_equal(ctl.nlinks, a.nlinks);
		for (k = 0; k < a.nlinks; k++)
			assert_string_equal(ctl.link[k].peer, a.link[k].peer);
		assert_int_equal(state_file(p, dir, c.vm[i].name, SF_CTL), 0);
		assert_int_equal(stat(p, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0600);
		assert_int_equal(st.st_size, sizeof(struct linkctl));
	}
	read_file("vm0", &ctl);
	assert_int_equal(ctl.nlinks, 3);
	for (k = 0; k < 3; k++) {
		assert_string_equal(ctl.link[k].peer, ends[k][0]);
		assert_string_equal(ctl.link[k].nic, ends[k][1]);
		assert_string_equal(ctl.link[k].peer_nic, ends[k][2]);
	}
	/* vm1->vm0 on the wire is down with 1% loss: in vm0's file. */
	linkctl_format(&ctl.link[2].imp, words, sizeof(words));
	assert_string_equal(words, "state=down loss=1%");
	assert_false(linkctl_active(&ctl.link[0].imp));
	/* vm0->vm1 on the segment: in vm1's. */
	read_file("vm1", &ctl);
	assert_int_equal(imp_of(&ctl, "vm0", "", "")->delay_us, 20000);
	assert_false(linkctl_active(imp_of(&ctl, "vm0", "eth2", "eth1")));
	/* A tunnel's wire: the tunnel names no NIC of its own. */
	read_file("t0", &ctl);
	assert_int_equal(ctl.nlinks, 1);
	assert_int_equal(imp_of(&ctl, "vm2", "", "eth1")->rate_bps, 10000000);
	read_file("vm2", &ctl);
	assert_int_equal(imp_of(&ctl, "t0", "eth1", "")->rate_bps, 10000000);
}

static void open_pair(struct link_file *fa, const char *na, struct link_file *fb, const char *nb)
{
	char err[300];

	if (link_file_open(fa, dir, na, err, sizeof(err)) < 0 || link_file_open(fb, dir, nb, err, sizeof(err)) < 0)
		fail_msg("%s", err);
}

static void whole_file(const char *node, char *out)
{
	char p[STATE_PATH_MAX];
	int fd;

	assert_int_equal(state_file(p, dir, node, SF_CTL), 0);
	fd = open(p, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, out, sizeof(struct linkctl)), sizeof(struct linkctl));
	close(fd);
}

static void test_set_reset_down_up(void **state)
{
	static char before[2][sizeof(struct linkctl)], after[2][sizeof(struct linkctl)];
	struct link_file fa, fb, *f[2] = { &fb, &fa };
	char *set[] = { "delay=5ms", "jitter=1ms", "loss=0.5%", "rate=1gbit" };
	char *bad[] = { "delay=7ms", "loss=200%" }, *nokey[] = { "delay" }, *unknown[] = { "latency=1ms" };
	bool both[2] = { true, true }, one[2] = { true, false };
	char err[300], words[256];
	uint32_t gen0, gen1;
	int e[2];

	open_pair(&fa, "vm0", &fb, "vm1");
	assert_int_equal(link_find(&fa, "", &fb, "", e, err, sizeof(err)), 0);
	gen0 = fb.map->gen;
	gen1 = fa.map->gen;
	assert_int_equal(link_change(f, e, both, LINKOP_SET, set, 4, err, sizeof(err)), 0);
	assert_int_equal(fb.map->gen, gen0 + 2);	/* even again, one more */
	assert_int_equal(fa.map->gen, gen1 + 2);
	linkctl_format(&fb.map->link[e[0]].imp, words, sizeof(words));
	assert_string_equal(words, "delay=5ms jitter=1ms loss=0.5% rate=1gbit");
	linkctl_format(&fa.map->link[e[1]].imp, words, sizeof(words));
	assert_string_equal(words, "delay=5ms jitter=1ms loss=0.5% rate=1gbit");
	link_file_close(&fa);
	link_file_close(&fb);

	/* A refused word: nothing written, not even gen. */
	whole_file("vm0", before[0]);
	whole_file("vm1", before[1]);
	open_pair(&fa, "vm0", &fb, "vm1");
	assert_int_equal(link_find(&fa, "", &fb, "", e, err, sizeof(err)), 0);
	assert_int_equal(link_change(f, e, both, LINKOP_SET, bad, 2, err, sizeof(err)), -1);
	assert_string_equal(err, "loss=200%: not a percentage from 0% to 100% (e.g. 1%, 0.25%)");
	assert_int_equal(link_change(f, e, both, LINKOP_SET, nokey, 1, err, sizeof(err)), -1);
	assert_string_equal(err, "'delay' is not KEY=VALUE (e.g. delay=20ms)");
	assert_int_equal(link_change(f, e, one, LINKOP_SET, unknown, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "latency: unknown setting"));
	link_file_close(&fa);
	link_file_close(&fb);
	whole_file("vm0", after[0]);
	whole_file("vm1", after[1]);
	assert_memory_equal(before[0], after[0], sizeof(struct linkctl));
	assert_memory_equal(before[1], after[1], sizeof(struct linkctl));

	/* down, then reset: impairments go, the state stays; one direction. */
	open_pair(&fa, "vm0", &fb, "vm1");
	assert_int_equal(link_find(&fa, "", &fb, "", e, err, sizeof(err)), 0);
	assert_int_equal(link_change(f, e, both, LINKOP_DOWN, NULL, 0, err, sizeof(err)), 0);
	assert_int_equal(link_change(f, e, both, LINKOP_RESET, NULL, 0, err, sizeof(err)), 0);
	linkctl_format(&fb.map->link[e[0]].imp, words, sizeof(words));
	assert_string_equal(words, "state=down");
	assert_int_equal(link_change(f, e, one, LINKOP_UP, NULL, 0, err, sizeof(err)), 0);
	assert_false(linkctl_active(&fb.map->link[e[0]].imp));
	assert_true(fa.map->link[e[1]].imp.down);
	assert_int_equal(fb.map->gen % 2, 0);
	assert_int_equal(fa.map->gen % 2, 0);
	assert_int_equal(link_change(f, e, both, LINKOP_UP, NULL, 0, err, sizeof(err)), 0);
	link_file_close(&fa);
	link_file_close(&fb);
	read_file("vm0", &ctl);	/* what the node reads: consistent, even */
	assert_false(linkctl_active(imp_of(&ctl, "vm1", "", "")));
}

/* A wire by its NICs; what is not a link of the files. */
static void test_find(void **state)
{
	struct link_file fa, fb;
	char err[300];
	int e[2];

	open_pair(&fa, "vm1", &fb, "vm0");
	assert_int_equal(link_find(&fa, "eth2", &fb, "eth1", e, err, sizeof(err)), 0);
	assert_true(fb.map->link[e[0]].imp.down);	/* vm1->vm0 is in vm0's file: down */
	assert_false(fa.map->link[e[1]].imp.down);
	assert_int_equal(link_find(&fa, "eth1", &fb, "eth1", e, err, sizeof(err)), -1);
	assert_string_equal(err, "no link vm1:eth1-vm0:eth1 in the running system");
	link_file_close(&fa);
	link_file_close(&fb);
	open_pair(&fa, "vm0", &fb, "t0");
	assert_int_equal(link_find(&fa, "", &fb, "", e, err, sizeof(err)), -1);
	assert_string_equal(err, "no link vm0-t0 in the running system (a wire is named by its ends, "
			    "VM:IFNAME-VM:IFNAME)");
	link_file_close(&fa);
	link_file_close(&fb);
}

/* Not a control file: refused, whatever it holds. */
static void test_hostile_files(void **state)
{
	static struct linkctl junk;
	char p[STATE_PATH_MAX], err[300];
	struct link_file f;
	int fd;

	assert_int_equal(state_file(p, dir, "x", SF_CTL), 0);
	fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "short", 5), 5);
	assert_int_equal(link_file_open(&f, dir, "x", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "is not a link control file"));
	memset(&junk, 0xff, sizeof(junk));
	assert_int_equal(pwrite(fd, &junk, sizeof(junk), 0), sizeof(junk));
	assert_int_equal(link_file_open(&f, dir, "x", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a link control file of this version"));
	assert_int_equal(statefiles_ctl_read(fd, &ctl), -EPROTO);
	/* Ours, but a name without its NUL, or too many links. */
	memset(&junk, 0, sizeof(junk));
	junk.magic = LINKCTL_MAGIC;
	junk.version = LINKCTL_VERSION;
	junk.nlinks = MV_NODE_LINKS_MAX + 1;
	assert_int_equal(pwrite(fd, &junk, sizeof(junk), 0), sizeof(junk));
	assert_int_equal(statefiles_ctl_read(fd, &ctl), -EPROTO);
	junk.nlinks = 1;
	memset(junk.link[0].peer, 'a', sizeof(junk.link[0].peer));
	assert_int_equal(pwrite(fd, &junk, sizeof(junk), 0), sizeof(junk));
	assert_int_equal(statefiles_ctl_read(fd, &ctl), -EPROTO);
	assert_int_equal(statefiles_ctl_find(&junk, "a", "", ""), -1);
	close(fd);
	unlink(p);
	assert_int_equal(link_file_open(&f, dir, "nosuch", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "No such file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ctl_made_in_link_order),
		cmocka_unit_test(test_set_reset_down_up),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_hostile_files),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
