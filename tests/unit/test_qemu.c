/* QEMU's command line for a VM (supervisor/qemu.c), a pure function:
 * engine, memory, devices, guest image, sandbox and user, per config. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "config/config.h"
#include "supervisor/qemu.h"

static struct config c;
static char buf[QEMU_ARGBUF_MAX], *argv[QEMU_MAX_ARGS];

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
	assert_non_null(find(n, "-device", "virtio-net-pci,netdev=net0,mac=52:54:00:4d:56:01,addr=0x3,disable-legacy=on,host_mtu=1500,ctrl_guest_offloads=off,id=nic-eth0,vectors=0"));
	assert_non_null(find(n, "-netdev", "user,id=pt0"));
	assert_non_null(find(n, "-device", "virtio-net-pci,netdev=pt0,mac=52:54:00:4d:56:81,addr=0x4"));
	assert_non_null(find(n, "-chardev", "socket,id=agent,path=/run/mv/vm0.agent,server=on,wait=off"));
	/* The port qemu-guest-agent opens in any guest (docs/agent.md). */
	assert_non_null(find(n, "-device", "virtserialport,chardev=agent,name=org.qemu.guest_agent.0"));
	/* The monitor (`multivm link` sets a wire NIC's carrier through it). */
	assert_non_null(find(n, "-qmp", "unix:/run/mv/vm0.qmp,server=on,wait=off"));
	assert_non_null(find(n, "-device", "virtio-net-pci,netdev=net0,"));
	assert_non_null(find(n, "-device", ",ctrl_guest_offloads=off,id=nic-eth0,vectors=0"));
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

/* The index of exact arg after flag, or -1. */
static int arg_is(int argc, const char *flag, const char *want)
{
	int i;

	for (i = 0; i + 1 < argc; i++)
		if (strcmp(argv[i], flag) == 0 && strcmp(argv[i + 1], want) == 0)
			return i + 1;
	return -1;
}

/* Bring your own guest: an image under its overlay, explicit formats,
 * firmware boot without kernel, direct boot with one, per-VM append. */
static void test_image_guests(void **state)
{
	char err[CFG_ERR_MAX];
	const char *t = "[vm fw]\nimage = /i/d.qcow2\n"
			"[vm direct]\nimage = /i/d.raw\nkernel = /i/vmlinuz\ninitrd = /i/initrd\n"
			"append = root=LABEL=r ro\npersist = yes\n"
			"[vm efi]\nimage = /i/d.qcow2\nfirmware = uefi\nimage_backing = yes\ncloud_init = no\n"
			"[vm own]\nkernel = /k/bzImage\nappend = loglevel=7\n";
	int n;

	assert_int_equal(config_load_string(&c, t, "t.ini", err, sizeof(err)), 0);
	/* The format is preflight's to decide: never left to QEMU. */
	assert_int_equal(build(0, false), -EINVAL);
	c.vm[0].image_format = c.vm[2].image_format = IMAGE_QCOW2;
	c.vm[1].image_format = IMAGE_RAW;

	n = build(0, false);
	assert_true(n > 0);
	assert_null(find(n, "-kernel", ""));
	assert_null(find(n, "-initrd", ""));
	assert_null(find(n, "-append", ""));
	assert_true(arg_is(n, "-machine", "q35,accel=tcg,memory-backend=mem") > 0);
	/* The overlay over the image, read-only, its own backing cut off. */
	assert_true(arg_is(n, "-blockdev", "{\"driver\":\"qcow2\",\"node-name\":\"disk0\",\"file\":{\"driver\":"
			   "\"file\",\"filename\":\"/run/mv/fw.overlay.qcow2\",\"read-only\":false},\"backing\":"
			   "{\"driver\":\"qcow2\",\"read-only\":true,\"file\":{\"driver\":\"file\",\"filename\":"
			   "\"/i/d.qcow2\",\"read-only\":true},\"backing\":null}}") > 0);
	assert_true(arg_is(n, "-device", "virtio-blk-pci,drive=disk0,addr=0x10,bootindex=1") > 0);
	assert_null(find(n, "-drive", ""));
	/* The cloud-init seed: raw, read-only, never probed. */
	assert_true(arg_is(n, "-blockdev", "{\"driver\":\"raw\",\"node-name\":\"seed\",\"read-only\":true,"
			   "\"file\":{\"driver\":\"file\",\"filename\":\"/run/mv/fw.seed.img\",\"read-only\":true}}") > 0);
	assert_true(arg_is(n, "-device", "virtio-blk-pci,drive=seed,addr=0x11") > 0);

	n = build(1, false);
	assert_true(arg_is(n, "-kernel", "/i/vmlinuz") > 0);
	assert_true(arg_is(n, "-initrd", "/i/initrd") > 0);
	assert_true(arg_is(n, "-append", "console=ttyS0 root=LABEL=r ro") > 0);
	/* persist = yes: the overlay that stop keeps; a raw image has no backing. */
	assert_true(arg_is(n, "-blockdev", "{\"driver\":\"qcow2\",\"node-name\":\"disk0\",\"file\":{\"driver\":"
			   "\"file\",\"filename\":\"/run/mv/direct.persist.qcow2\",\"read-only\":false},\"backing\":"
			   "{\"driver\":\"raw\",\"read-only\":true,\"file\":{\"driver\":\"file\",\"filename\":"
			   "\"/i/d.raw\",\"read-only\":true}}}") > 0);

	n = build(2, false);
	assert_true(arg_is(n, "-machine", "q35,accel=tcg,memory-backend=mem,pflash0=fwcode,pflash1=fwvars") > 0);
	assert_true(arg_is(n, "-blockdev", "{\"driver\":\"raw\",\"node-name\":\"fwcode\",\"read-only\":true,"
			   "\"file\":{\"driver\":\"file\",\"filename\":\"" OVMF_CODE "\",\"read-only\":true}}") > 0);
	assert_true(arg_is(n, "-blockdev", "{\"driver\":\"raw\",\"node-name\":\"fwvars\",\"file\":{\"driver\":"
			   "\"file\",\"filename\":\"/run/mv/efi.vars.fd\",\"read-only\":false}}") > 0);
	/* image_backing = yes: QEMU follows the image's own chain. */
	assert_non_null(find(n, "-blockdev", "\"filename\":\"/i/d.qcow2\",\"read-only\":true}}}"));
	assert_null(find(n, "-blockdev", "null"));
	assert_null(find(n, "-device", "drive=seed"));	/* cloud_init = no */

	/* The built-in guest with its own kernel: our initramfs, our
	 * parameters, then the VM's append. */
	n = build(3, false);
	assert_true(arg_is(n, "-kernel", "/k/bzImage") > 0);
	assert_true(arg_is(n, "-initrd", "/g/initrd") > 0);
	assert_true(arg_is(n, "-append", "console=ttyS0 panic=-1 quiet multivm.name=own multivm.addr=192.168.1.4/24 "
			   "loglevel=7") > 0);
	assert_null(find(n, "-blockdev", ""));
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

/* Wire NICs: one vhost-user device each, slot by slot from 0x6, on
 * their own sockets; the guest is told their names, MACs and addresses,
 * the routes and forwarding. A VM on no segment: eth0 is a wire's. */
static void test_wires(void **state)
{
	char err[CFG_ERR_MAX];
	struct cfg_vm *v;
	int n;

	assert_int_equal(config_load_default(&c, err, sizeof(err)), 0);
	v = &c.vm[1];
	v->nnics = 2;
	strcpy(v->nic[0].name, "eth1");
	memcpy(v->nic[0].mac, (uint8_t[6]){ 0x52, 0x54, 0, 0x4e, 2, 1 }, 6);
	v->nic[0].mtu = 1500;
	v->nic[0].has_addr = true;
	v->nic[0].addr = 0x0a000102;
	v->nic[0].prefix = 30;
	strcpy(v->nic[1].name, "wan");
	memcpy(v->nic[1].mac, (uint8_t[6]){ 0x52, 0x54, 0, 0x4e, 2, 2 }, 6);
	v->nic[1].mtu = 9000;
	v->nroutes = 1;
	v->route[0] = (struct cfg_route){ 0x0a000200, 30, 0x0a000101, 0 };
	v->ip_forward = true;
	n = build(1, false);
	assert_true(n > 0);
	/* Each wire NIC on a hot-plug port of its own (slots 6..13, the
	 * spare ones empty for apply), its ids from its name (cli/hotplug.c
	 * unplugs it by them). */
	assert_non_null(find(n, "-device", "pcie-root-port,id=hp0,bus=pcie.0,addr=0x6,chassis=1,io-reserve=0"));
	assert_non_null(find(n, "-device", "pcie-root-port,id=hp7,bus=pcie.0,addr=0xd,chassis=8,io-reserve=0"));
	assert_non_null(find(n, "-chardev", "socket,id=vu-eth1,path=/run/mv/vm1.eth1.vhost,reconnect=1"));
	assert_non_null(find(n, "-netdev", "vhost-user,id=w-eth1,chardev=vu-eth1"));
	assert_non_null(find(n, "-device", "virtio-net-pci,netdev=w-eth1,mac=52:54:00:4e:02:01,bus=hp0,addr=0x0,disable-legacy=on,host_mtu=1500"));
	assert_non_null(find(n, "-chardev", "socket,id=vu-wan,path=/run/mv/vm1.wan.vhost,reconnect=1"));
	assert_non_null(find(n, "-device", "virtio-net-pci,netdev=w-wan,mac=52:54:00:4e:02:02,bus=hp1,addr=0x0,disable-legacy=on,host_mtu=9000"));
	/* set_link names a NIC by the guest's name for it. */
	assert_non_null(find(n, "-device", "netdev=w-eth1,mac=52:54:00:4e:02:01,bus=hp0,addr=0x0,disable-legacy=on,host_mtu=1500,ctrl_guest_offloads=off,id=nic-eth1"));
	assert_non_null(find(n, "-device", ",id=nic-wan"));
	assert_non_null(find(n, "-append", " multivm.nic=eth0,52:54:00:4d:56:02,192.168.1.2/24 multivm.nic=eth1,52:54:00:4e:02:01,10.0.1.2/30 multivm.nic=wan,52:54:00:4e:02:02 multivm.route=10.0.2.0/30,10.0.1.1 multivm.fwd=1"));
	/* eth0 a wire's: its MAC and MTU, no segment address. */
	strcpy(v->nic[1].name, "eth0");
	n = build(1, false);
	assert_non_null(find(n, "-device", "virtio-net-pci,netdev=net0,mac=52:54:00:4e:02:02,addr=0x3,disable-legacy=on,host_mtu=9000"));
	assert_null(find(n, "-append", "multivm.addr="));
	assert_null(find(n, "-netdev", "vhost-user,id=w-eth0"));
	assert_non_null(find(n, "-append", "multivm.nic=eth0,52:54:00:4e:02:02 "));
}

/* A VM with a delayed link tells its built-in guest TCP buffer maxima of
 * twice that link's frame area (5 ms: 1024 entries, 8 MiB); one whose
 * links are all plain tells none (the guest keeps its 6 MiB / 4 MiB). */
static void test_tcpbuf(void **state)
{
	char err[CFG_ERR_MAX];
	int n;

	assert_int_equal(config_load_string(&c, "[vm vm0]\n[vm vm1]\n[vm vm2]\n[vm vm3]\n[links]\nmesh = yes\n"
					    "[link vm0-vm1]\ndelay = 5ms\n[link vm2->vm0]\ndelay = 1ms\n",
					    "t.ini", err, sizeof(err)), 0);
	n = build(0, false);
	assert_non_null(find(n, "-append", " multivm.tcpbuf=16777216"));	/* the larger */
	n = build(1, false);
	assert_non_null(find(n, "-append", " multivm.tcpbuf=16777216"));
	n = build(2, false);
	assert_non_null(find(n, "-append", " multivm.tcpbuf=8388608"));	/* 512 entries */
	n = build(3, false);
	assert_null(find(n, "-append", "multivm.tcpbuf"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wires),
		cmocka_unit_test(test_tcg_default_vm0), cmocka_unit_test(test_runas),
		cmocka_unit_test(test_kvm_vm1_no_passthrough),
		cmocka_unit_test(test_manual_and_other_passthrough),
		cmocka_unit_test(test_small_buffer),
		cmocka_unit_test(test_image_guests),
		cmocka_unit_test(test_tcpbuf),
	};

	return cmocka_run_group_tests_name("qemu", tests, NULL, NULL);
}
