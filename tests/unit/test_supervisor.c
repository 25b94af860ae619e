/* Pure parts of the supervisor: the QEMU command line and the console
 * escape filter. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "config/config.h"
#include "console/relay.h"
#include "supervisor/qemu.h"
#include "supervisor/state.h"

static struct config c;
static char buf[8192], *argv[QEMU_MAX_ARGS];

static const char *runas;

static int build(unsigned vm, bool kvm)
{
	struct qemu_opts o = { .cfg = &c, .vm = &c.vm[vm], .state_dir = "/run/mv", .kvm = kvm,
			       .kernel = "/g/vmlinuz", .initrd = "/g/initrd", .runas = runas };

	return qemu_argv(&o, buf, sizeof(buf), argv, QEMU_MAX_ARGS);
}

/* The argument that follows flag and contains want, or NULL. */
static const char *find(int argc, const char *flag, const char *want)
{
	int i;

	for (i = 0; i + 1 < argc; i++)
		if (strcmp(argv[i], flag) == 0 && strstr(argv[i + 1], want))
			return argv[i + 1];
	return NULL;
}

static void test_tcg_default_vm0(void **state)
{
	char err[CFG_ERR_MAX];
	int n;

	assert_int_equal(config_load_default(&c, err, sizeof(err)), 0);
	n = build(0, false);
	assert_true(n > 0);
	assert_null(argv[n]);
	assert_string_equal(argv[0], "qemu-system-x86_64");
	assert_non_null(find(n, "-machine", "q35,accel=tcg,memory-backend=mem"));
	assert_non_null(find(n, "-object", "memory-backend-memfd,id=mem,size=256M,share=on"));
	assert_non_null(find(n, "-cpu", "max,-erms"));
	assert_non_null(find(n, "-append", "multivm.name=vm0 multivm.addr=192.168.1.1/24"));
	assert_non_null(find(n, "-chardev", "socket,id=vu,path=/run/mv/vm0.vhost,reconnect=1"));
	/* MSI-X off under TCG: QEMU 7.2 crashes in vhost-user start-up with it. */
	assert_non_null(find(n, "-device", "virtio-net-pci,netdev=net0,mac=52:54:00:4d:56:01,addr=0x3,disable-legacy=on,host_mtu=1500,ctrl_guest_offloads=off,vectors=0"));
	assert_non_null(find(n, "-netdev", "user,id=pt0"));
	assert_non_null(find(n, "-device", "virtio-net-pci,netdev=pt0,mac=52:54:00:4d:56:81,addr=0x4"));
	assert_non_null(find(n, "-chardev", "socket,id=agent,path=/run/mv/vm0.agent,server=on,wait=off"));
	/* Not started by root: sandboxed, no user to drop to. */
	assert_non_null(find(n, "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"));
	assert_null(find(n, "-runas", ""));
}

/* Started by root: QEMU drops to the configured user, except for VFIO. */
static void test_runas(void **state)
{
	char err[CFG_ERR_MAX];
	const char *t = "[vm a]\npassthrough = tap:tap0\n[vm b]\npassthrough = pci:0000:03:00.1\n";
	int n;

	assert_int_equal(config_load_string(&c, t, "t.ini", err, sizeof(err)), 0);
	runas = "multivm";
	n = build(0, false);
	assert_non_null(find(n, "-runas", "multivm"));
	assert_non_null(find(n, "-sandbox", "on,obsolete=deny,elevateprivileges=allow,spawn=deny,resourcecontrol=deny"));
	n = build(1, true);
	assert_null(find(n, "-runas", ""));
	assert_non_null(find(n, "-sandbox", "elevateprivileges=deny"));
	runas = NULL;
}

static void test_kvm_vm1_no_passthrough(void **state)
{
	char err[CFG_ERR_MAX];
	int n;

	assert_int_equal(config_load_default(&c, err, sizeof(err)), 0);
	n = build(1, true);
	assert_non_null(find(n, "-machine", "accel=kvm"));
	assert_non_null(find(n, "-cpu", "host"));
	assert_non_null(find(n, "-device", "netdev=net0,mac=52:54:00:4d:56:02,addr=0x3"));
	assert_null(find(n, "-device", "vectors=0"));
	assert_null(find(n, "-netdev", "pt0"));
}

static void test_manual_and_other_passthrough(void **state)
{
	char err[CFG_ERR_MAX];
	int n;

	assert_int_equal(config_load_string(&c,
		"[system]\naddressing = manual\n"
		"[vm a]\naddress = 10.0.0.1/8\npassthrough = tap:tap0\nmemory = 1G\ncpus = 2\n"
		"[vm b]\npassthrough = pci:0000:03:00.0\n", "t", err, sizeof(err)), 0);
	n = build(0, false);
	assert_null(find(n, "-append", "multivm.addr"));
	assert_non_null(find(n, "-netdev", "tap,id=pt0,ifname=tap0,script=no,downscript=no"));
	assert_non_null(find(n, "-m", "1024M"));
	assert_non_null(find(n, "-smp", "2"));
	n = build(1, true);
	assert_non_null(find(n, "-device", "vfio-pci,host=0000:03:00.0,addr=0x4"));
}

static void test_small_buffer(void **state)
{
	struct qemu_opts o = { .cfg = &c, .vm = &c.vm[0], .state_dir = "/x", .kernel = "k", .initrd = "i" };
	char small[64];
	char err[CFG_ERR_MAX];

	assert_int_equal(config_load_default(&c, err, sizeof(err)), 0);
	assert_int_equal(qemu_argv(&o, small, sizeof(small), argv, QEMU_MAX_ARGS), -E2BIG);
	assert_int_equal(qemu_argv(&o, buf, sizeof(buf), argv, 8), -E2BIG);
}

/* Feeds text; returns the first escape and what reached the guest. */
static int filter(struct relay *r, const char *in, char *out, int *vm)
{
	size_t n = strlen(in), o = 0, olen;
	enum relay_event ev = RELAY_NONE;

	while (n && ev == RELAY_NONE) {
		size_t used = relay_input(r, in, n, out + o, &olen, &ev, vm);

		o += olen;
		in += used;
		n -= used;
	}
	out[o] = 0;
	return ev;
}

static void test_escape(void **state)
{
	struct relay r;
	char out[64];
	int vm = -1;

	relay_init(&r);
	assert_int_equal(filter(&r, "ls ~/x a@b\r", out, &vm), RELAY_NONE);	/* mid-line: untouched */
	assert_string_equal(out, "ls ~/x a@b\r");
	assert_int_equal(filter(&r, "~~", out, &vm), RELAY_NONE);	/* Return ~ ~ sends one ~ */
	assert_string_equal(out, "~");
	assert_int_equal(filter(&r, "\r@@", out, &vm), RELAY_NONE);	/* Return @ @ sends one @ */
	assert_string_equal(out, "\r@");
	assert_int_equal(filter(&r, "\r@x", out, &vm), RELAY_NONE);	/* not an escape: both keys */
	assert_string_equal(out, "\r@x");
	assert_int_equal(filter(&r, "\r@2", out, &vm), RELAY_SWITCH);
	assert_string_equal(out, "\r");
	assert_int_equal(vm, 2);
	assert_int_equal(filter(&r, "@b", out, &vm), RELAY_SWITCH);	/* right after a switch */
	assert_int_equal(vm, 11);
	assert_int_equal(filter(&r, "@?", out, &vm), RELAY_LIST);
	/* The terminal's answer to the shell's cursor query changes nothing. */
	assert_int_equal(filter(&r, "\r\x1b[50;8R@1", out, &vm), RELAY_SWITCH);
	assert_string_equal(out, "\r\x1b[50;8R");
	assert_int_equal(vm, 1);
	assert_int_equal(filter(&r, "\r@\x1b[1;1R3", out, &vm), RELAY_SWITCH);
	assert_int_equal(vm, 3);
	assert_int_equal(filter(&r, "\r~", out, &vm), RELAY_NONE);	/* split across reads */
	assert_string_equal(out, "\r");
	assert_int_equal(filter(&r, ".rest", out, &vm), RELAY_QUIT);
	assert_string_equal(out, "");
}

/* Return @ # N Return: any of 64 VMs by its decimal index. */
static void test_escape_index(void **state)
{
	struct relay r;
	char out[64];
	int vm = -1;

	relay_init(&r);
	assert_int_equal(filter(&r, "@#42\r", out, &vm), RELAY_SWITCH);
	assert_string_equal(out, "");
	assert_int_equal(vm, 42);
	assert_int_equal(filter(&r, "@#7\n", out, &vm), RELAY_SWITCH);	/* right after a switch; \n too */
	assert_int_equal(vm, 7);
	assert_int_equal(filter(&r, "@#063\r", out, &vm), RELAY_SWITCH);
	assert_int_equal(vm, 63);
	/* Split across reads, a terminal answer in between. */
	assert_int_equal(filter(&r, "@#1", out, &vm), RELAY_NONE);
	assert_string_equal(out, "");
	assert_int_equal(filter(&r, "\x1b[5;1R", out, &vm), RELAY_NONE);
	assert_int_equal(filter(&r, "6\r", out, &vm), RELAY_SWITCH);
	assert_int_equal(vm, 16);
	/* Not an index: the guest gets every key typed. */
	assert_int_equal(filter(&r, "@#4x", out, &vm), RELAY_NONE);
	assert_string_equal(out, "@#4x");
	assert_int_equal(filter(&r, "\r@#\r", out, &vm), RELAY_NONE);	/* no digit */
	assert_string_equal(out, "\r@#\r");
	assert_int_equal(filter(&r, "@#1234\r", out, &vm), RELAY_NONE);	/* a fourth digit */
	assert_string_equal(out, "@#1234\r");
	/* Mid-line it is text; the single keys still work. */
	assert_int_equal(filter(&r, "a@#1\r", out, &vm), RELAY_NONE);
	assert_string_equal(out, "a@#1\r");
	assert_int_equal(filter(&r, "@f", out, &vm), RELAY_SWITCH);
	assert_int_equal(vm, 15);
}

static void test_state_paths(void **state)
{
	char p[STATE_PATH_MAX], dir[200];

	assert_int_equal(state_file(p, "/run/multivm", "vm0", SF_VHOST), 0);
	assert_string_equal(p, "/run/multivm/vm0.vhost");
	assert_int_equal(state_file(p, "/run/multivm", "vm0", SF_CONSOLE_LOG), 0);
	assert_string_equal(p, "/run/multivm/vm0.console.log");
	assert_int_equal(state_file(p, "/run/multivm", NULL, SF_CONSOLE_SOCK), 0);
	assert_string_equal(p, "/run/multivm/console.sock");
	assert_int_equal(state_file(p, "/run/multivm", "vm0", SF_STATUS), 0);	/* vm ignored */
	assert_string_equal(p, "/run/multivm/status");
	assert_int_equal(state_file(p, "/run/multivm", NULL, SF_STATS), -EINVAL);
	assert_int_equal(state_file(p, "/run/multivm", "vm0", SF_COUNT), -EINVAL);
	memset(dir, 'd', sizeof(dir) - 1);
	dir[sizeof(dir) - 1] = 0;
	assert_int_equal(state_file(p, dir, "vm0", SF_VHOST), -ENAMETOOLONG);
	assert_string_equal(p, "");
	state_dir(dir, sizeof(dir), "/tmp/given");
	assert_string_equal(dir, "/tmp/given");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcg_default_vm0), cmocka_unit_test(test_runas),
		cmocka_unit_test(test_kvm_vm1_no_passthrough),
		cmocka_unit_test(test_manual_and_other_passthrough),
		cmocka_unit_test(test_small_buffer),
		cmocka_unit_test(test_escape), cmocka_unit_test(test_escape_index),
		cmocka_unit_test(test_state_paths),
	};

	return cmocka_run_group_tests_name("supervisor", tests, NULL, NULL);
}
