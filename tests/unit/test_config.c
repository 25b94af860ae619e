/* Config parsing: the defaults, and hostile or mistaken input. Every error
 * must name the file, the line and the key. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "config/config.h"

static struct config c;
static char err[CFG_ERR_MAX];

static void test_default(void **state)
{
	static const uint8_t mac1[6] = { 0x52, 0x54, 0x00, 0x4d, 0x56, 0x02 };

	assert_int_equal(config_load_default(&c, err, sizeof(err)), 0);
	assert_string_equal(c.name, "multi");
	assert_int_equal(c.nvms, 3);
	assert_string_equal(c.vm[0].name, "vm0");
	assert_string_equal(c.vm[2].name, "vm2");
	assert_int_equal(c.vm[1].memory_mib, 256);
	assert_memory_equal(c.vm[1].mac, mac1, 6);
	assert_true(c.vm[2].has_addr);
	assert_int_equal(c.vm[2].addr, 0xc0a80103);
	assert_int_equal(c.vm[2].prefix, 24);
	assert_string_equal(c.vm[0].passthrough, "user");
	assert_string_equal(c.vm[1].passthrough, "");
	assert_true(c.auto_addr);
	assert_int_equal(c.link_queue_size, 256);
	assert_string_equal(c.user, "multivm");
	assert_int_equal(c.log_max, 4 << 20);
	assert_true(c.offloads && c.vm[0].offloads && c.vm[2].offloads);
	assert_int_equal(c.mtu, 1500);
	assert_int_equal(c.vm[1].mtu, 1500);
	assert_int_equal(c.nlinks, 3);
	assert_true(config_linked(&c, 0, 1) && config_linked(&c, 1, 2) && config_linked(&c, 2, 0));
	assert_int_equal(config_vm_index(&c, "vm2"), 2);
	assert_int_equal(config_vm_index(&c, "vm9"), -1);
}

static void test_shipped_file_matches_default(void **state)
{
	static struct config d;

	assert_int_equal(config_load_default(&d, err, sizeof(err)), 0);
	assert_int_equal(config_load_file(&c, "configs/multi.ini", err, sizeof(err)), 0);
	assert_int_equal(c.nvms, d.nvms);
	assert_int_equal(c.nlinks, d.nlinks);
	for (unsigned i = 0; i < c.nvms; i++) {
		assert_string_equal(c.vm[i].name, d.vm[i].name);
		assert_memory_equal(c.vm[i].mac, d.vm[i].mac, 6);
		assert_int_equal(c.vm[i].addr, d.vm[i].addr);
		assert_int_equal(c.vm[i].memory_mib, d.vm[i].memory_mib);
		assert_string_equal(c.vm[i].passthrough, d.vm[i].passthrough);
	}
	for (unsigned i = 0; i < c.nlinks; i++) {
		assert_int_equal(c.link[i].a, d.link[i].a);
		assert_int_equal(c.link[i].b, d.link[i].b);
	}
}

static void test_custom(void **state)
{
	const char *t =
		"[system]\naddressing = manual\nengine = tcg\nlink_queue_size = 1024\nuser = nobody\n"
		"log_max = 64K\n"
		"[links]\nb = a   c\n"	/* VMs may come after [links] */
		"[vm a]\n"		/* a section with no keys still declares a VM */
		"[vm b]\nmemory = 1G\ncpus = 2\nmac = 02:00:00:00:00:0b\npassthrough = tap:tap-mv0\n"
		"restart = never\n"
		"[vm c]\nmemory = 131072K\naddress = 10.0.0.3/8\npassthrough = pci:0000:03:00.1\n";

	assert_int_equal(config_load_string(&c, t, "t.ini", err, sizeof(err)), 0);
	assert_false(c.auto_addr);
	assert_int_equal(c.engine, ENGINE_TCG);
	assert_int_equal(c.link_queue_size, 1024);
	assert_string_equal(c.user, "nobody");
	assert_int_equal(c.user_line, 5);
	assert_int_equal(c.log_max, 64 << 10);
	assert_int_equal(c.nvms, 3);
	assert_int_equal(c.vm[1].memory_mib, 1024);
	assert_int_equal(c.vm[1].cpus, 2);
	assert_int_equal(c.vm[1].mac[5], 0x0b);
	assert_int_equal(c.vm[1].restart, RESTART_NEVER);
	assert_int_equal(c.vm[1].cpuset_line, 0);	/* anywhere */
	assert_false(c.vm[0].external || c.vm[1].external || c.vm[2].external);
	assert_int_equal(c.vm[2].memory_mib, 128);
	assert_int_equal(c.vm[0].mac[5], 1);
	assert_int_equal(c.nlinks, 2);
	assert_int_equal(c.link[0].a, 0);
	assert_int_equal(c.link[0].b, 1);
	assert_int_equal(c.link[0].line, 8);
	assert_false(config_linked(&c, 0, 2));
}

/* addressing = auto: a VM without an address is 192.168.1.N/24, N its
 * place among the VMs; manual leaves it without one. */
static void test_auto_addresses(void **state)
{
	assert_int_equal(config_load_string(&c, "[vm a]\n[vm b]\naddress = 10.0.0.9/8\n[vm c]\n", "t.ini",
					    err, sizeof(err)), 0);
	assert_true(c.vm[0].has_addr && c.vm[1].has_addr && c.vm[2].has_addr);
	assert_int_equal(c.vm[0].addr, 0xc0a80101);
	assert_int_equal(c.vm[0].prefix, 24);
	assert_int_equal(c.vm[1].addr, 0x0a000009);
	assert_int_equal(c.vm[2].addr, 0xc0a80103);
	assert_int_equal(config_load_string(&c, "[system]\naddressing = manual\n[vm a]\n", "t.ini",
					    err, sizeof(err)), 0);
	assert_false(c.vm[0].has_addr);
	assert_int_equal(config_load_string(&c, "[vm a]\naddress = 192.168.1.2/24\n[vm b]\n", "bad.ini",
					    err, sizeof(err)), -1);
	assert_string_equal(err, "bad.ini:2: [vm b] address: same address as a "
			    "(a VM without address is 192.168.1.N/24, N its place)");
}

/* The text must be refused with exactly this message. */
static void refuse(const char *text, const char *want)
{
	int rc = config_load_string(&c, text, "bad.ini", err, sizeof(err));

	if (rc == 0 || strcmp(err, want) != 0)
		fail_msg("input:\n%s\nwant: %s\ngot (%d): %s", text, want, rc, rc ? err : "accepted");
}

static void test_bad_inputs(void **state)
{
	refuse("[vm a]\nmemroy = 1G\n", "bad.ini:2: [vm a] memroy: unknown key");
	refuse("[system]\nfoo = 1\n", "bad.ini:2: [system] foo: unknown key");
	refuse("[vm a]\n[net]\nx = 1\n",
	       "bad.ini:2: [net]: unknown section (expected [system], [vm NAME], [tunnel NAME] or [links])");
	refuse("[vm a]\n\n[vm a]\n", "bad.ini:3: [vm a]: VM declared twice (first at line 1)");
	refuse("[vm A]\n", "bad.ini:1: [vm A]: bad VM name (use [a-z][a-z0-9_-]*, at most 31 characters)");
	refuse("[vm a]\n[links]\na = zz\n", "bad.ini:3: [links] a: no VM called 'zz'");
	refuse("[vm a]\n[links]\nzz = a\n", "bad.ini:3: [links] zz: no VM called 'zz'");
	refuse("[vm a]\n[links]\na = a\n", "bad.ini:3: [links] a: a VM cannot link to itself");
	refuse("[vm a]\n[vm b]\n[links]\na = b\nb = a\n",
	       "bad.ini:5: [links] b: link between a and b given twice (first at line 4)");
	refuse("[vm a]\n[vm b]\n[links]\nmesh = yes\na = b\n",
	       "bad.ini:5: [links] a: list links or use mesh = yes, not both");
	refuse("[vm a]\nmemory = 12Q\n",
	       "bad.ini:2: [vm a] memory: '12Q' is not a size from 64M to 64G (use e.g. 256M or 1G)");
	refuse("[vm a]\nmemory = 16M\n",
	       "bad.ini:2: [vm a] memory: '16M' is not a size from 64M to 64G (use e.g. 256M or 1G)");
	refuse("[vm a]\nmemory = 99999999999999999999999G\n",
	       "bad.ini:2: [vm a] memory: '99999999999999999999999G' is not a size from 64M to 64G (use e.g. 256M or 1G)");
	refuse("[vm a]\nmemory = 256M\nmemory = 512M\n", "bad.ini:3: [vm a] memory: set twice in this section");
	refuse("[vm a]\nmac = 52:54:00:zz:00:01\n",
	       "bad.ini:2: [vm a] mac: '52:54:00:zz:00:01' is not a MAC address (aa:bb:cc:dd:ee:ff)");
	refuse("[vm a]\nmac = 01:00:5e:00:00:01\n", "bad.ini:2: [vm a] mac: '01:00:5e:00:00:01' is a multicast address");
	refuse("[vm a]\nmac = 00:00:00:00:00:00\n", "bad.ini:2: [vm a] mac: the all-zero address is not usable");
	refuse("[vm a]\n[vm b]\nmac = 52:54:00:4d:56:01\n", "bad.ini:3: [vm b] mac: same MAC as a");
	refuse("[vm a]\naddress = 10.0.0.300/24\n",
	       "bad.ini:2: [vm a] address: '10.0.0.300/24' is not an IPv4 address with prefix (e.g. 192.168.1.1/24)");
	refuse("[vm a]\naddress = 10.0.0.3/33\n",
	       "bad.ini:2: [vm a] address: '10.0.0.3/33' is not an IPv4 address with prefix (e.g. 192.168.1.1/24)");
	refuse("[vm a]\naddress = 10.0.0.3/8\n[vm b]\naddress = 10.0.0.3/24\n",
	       "bad.ini:4: [vm b] address: same address as a");
	refuse("[vm a]\npassthrough = tap:\n",
	       "bad.ini:2: [vm a] passthrough: 'tap:' is not user, tap:IFNAME or pci:DDDD:BB:DD.F");
	refuse("[vm a]\npassthrough = pci:0000:03:00\n",
	       "bad.ini:2: [vm a] passthrough: 'pci:0000:03:00' is not user, tap:IFNAME or pci:DDDD:BB:DD.F");
	/* The BDF becomes a sysfs path: exactly DDDD:BB:DD.F, as pci-info reads it. */
	refuse("[vm a]\npassthrough = pci:0x00:03:00.0\n",
	       "bad.ini:2: [vm a] passthrough: 'pci:0x00:03:00.0' is not user, tap:IFNAME or pci:DDDD:BB:DD.F");
	refuse("[vm a]\npassthrough = pci:0000:03:00.0\npci_mmio = -4096/16\n",
	       "bad.ini:3: [vm a] pci_mmio: '-4096/16' is not a list of ADDRESS/SIZE (e.g. 0xfebc0000/0x20000)");
	refuse("[vm a]\npassthrough = pci:0000:03:00.0\npci_io = 0xc000/0x20,\n",
	       "bad.ini:3: [vm a] pci_io: '0xc000/0x20,' is not a list of ADDRESS/SIZE (e.g. 0xfebc0000/0x20000)");
	refuse("[system]\nengine = xen\n[vm a]\n", "bad.ini:2: [system] engine: 'xen' is not auto, kvm or tcg");
	refuse("[system]\nlink_queue_size = 100\n[vm a]\n",
	       "bad.ini:2: [system] link_queue_size: '100' is not a power of two from 64 to 4096");
	refuse("[system]\nuser = Root\n[vm a]\n",
	       "bad.ini:2: [system] user: 'Root' is not a valid user name ([a-z][a-z0-9_-]*)");
	refuse("[system]\nlog_max = 1K\n[vm a]\n", "bad.ini:2: [system] log_max: '1K' is not a size from 4K to 1G");
	refuse("[system]\nlog_max = 2G\n[vm a]\n", "bad.ini:2: [system] log_max: '2G' is not a size from 4K to 1G");
	refuse("[vm a]\ncpus =\n", "bad.ini:2: [vm a] cpus: empty value");
	refuse("[vm a]\nthis is not ini\n", "bad.ini:2: syntax error (expected 'key = value' or '[section]')");
	refuse("x = 1\n[vm a]\n", "bad.ini:1: x: key outside any section");
	refuse("[system]\nengine = tcg\n[vm a]\n[system]\nengine = kvm\n",
	       "bad.ini:4: [system]: section repeated (first at line 1)");
	refuse("[vm a]\n[vm b]\n[links]\nmesh = yes\nmesh = no\n", "bad.ini:5: [links] mesh: set twice in this section");
	{
		/* A comment longer than inih's line buffer, then a bad key on line 3. */
		static char text[600];

		snprintf(text, sizeof(text), "[vm a]\n; %0500d\nfoo = 1\n", 0);
		refuse(text, "bad.ini:2: line longer than 198 characters");
	}
	refuse("[system]\nname = multi\n", "bad.ini:2: no VMs: declare at least one [vm NAME] section");
}

/* offloads and mtu: per system, per VM, the VM's value winning. */
static void test_offloads_and_mtu(void **state)
{
	const char *t = "[system]\noffloads = no\nmtu = 9000\n[vm a]\n[vm b]\noffloads = yes\nmtu = 1500\n"
			"[vm c]\nmtu = 68\n";

	assert_int_equal(config_load_string(&c, t, "t.ini", err, sizeof(err)), 0);
	assert_false(c.offloads);
	assert_false(c.vm[0].offloads);
	assert_true(c.vm[1].offloads);
	assert_false(c.vm[2].offloads);
	assert_int_equal(c.vm[0].mtu, 9000);
	assert_int_equal(c.vm[1].mtu, 1500);
	assert_int_equal(c.vm[2].mtu, 68);
	refuse("[system]\noffloads = off\n[vm a]\n", "bad.ini:2: [system] offloads: 'off' is not yes or no");
	refuse("[vm a]\noffloads = 1\n", "bad.ini:2: [vm a] offloads: '1' is not yes or no");
	refuse("[vm a]\noffloads = no\noffloads = no\n", "bad.ini:3: [vm a] offloads: set twice in this section");
	refuse("[system]\nmtu = 9001\n[vm a]\n", "bad.ini:2: [system] mtu: '9001' is not a number from 68 to 9000");
	refuse("[vm a]\nmtu = 67\n", "bad.ini:2: [vm a] mtu: '67' is not a number from 68 to 9000");
	refuse("[vm a]\nmtu = 1500\nmtu = 9000\n", "bad.ini:3: [vm a] mtu: set twice in this section");
	refuse("[system]\nmtu = 1500\nmtu = 1500\n[vm a]\n", "bad.ini:3: [system] mtu: set twice in this section");
	/* A link joins VMs of one MTU; a tunnel carries the default MTU. */
	refuse("[vm a]\nmtu = 9000\n[vm b]\n[links]\nmesh = yes\n",
	       "bad.ini:5: [links] link a-b: linked VMs need the same mtu (a has 9000, b has 1500)");
	refuse("[system]\nmtu = 9000\n[vm a]\n[vm b]\nmtu = 1500\n[links]\na = b\n",
	       "bad.ini:7: [links] link a-b: linked VMs need the same mtu (a has 9000, b has 1500)");
	refuse("[vm a]\nmtu = 1600\n[tunnel up]\nlocal = 10.9.0.1\nremote = 10.9.0.2\nvni = 1\n[links]\na = up\n",
	       "bad.ini:8: [links] link a-up: VM a has mtu 1600, tunnel up carries at most 1500");
	assert_int_equal(config_load_string(&c, "[system]\nmtu = 9000\n[vm a]\n[vm b]\n[links]\nmesh = yes\n",
					       "t.ini", err, sizeof(err)), 0);
}

/* cpuset: CPUs and ranges; external VMs may have one (it pins the VMM). */
static void test_cpuset(void **state)
{
	assert_int_equal(config_load_string(&c, "[vm a]\ncpuset = 0-2,5,64,1023\n[vm b]\nguest = external\ncpuset = 1\n",
					    "t.ini", err, sizeof(err)), 0);
	assert_int_equal(c.vm[0].cpuset_line, 2);
	assert_int_equal(c.vm[0].cpuset[0], 0x27);
	assert_int_equal(c.vm[0].cpuset[1], 1);
	for (int w = 2; w < CFG_CPUSET_WORDS - 1; w++)
		assert_int_equal(c.vm[0].cpuset[w], 0);
	assert_int_equal(c.vm[0].cpuset[CFG_CPUSET_WORDS - 1], 1ULL << 63);
	assert_int_equal(c.vm[1].cpuset[0], 2);
	assert_int_equal(c.vm[1].cpuset_line, 5);
}

/* A golden message for every key and rule that had none. */
static void test_more_messages(void **state)
{
	static char text[16384], want[256];
	size_t n;
	int i;

	refuse("[vm a]\ncpus = 0\n", "bad.ini:2: [vm a] cpus: '0' is not a number from 1 to 64");
	for (i = 0; i < 9; i++) {
		static const char *const bad[] = { "x", "1,", ",1", "3-1", "1024", "0-1024", "1-", "-1", "1 2" };

		snprintf(text, sizeof(text), "[vm a]\ncpuset = %s\n", bad[i]);
		snprintf(want, sizeof(want), "bad.ini:2: [vm a] cpuset: '%s' is not a list of CPUs from 0 to 1023 "
			 "(e.g. 1 or 0-3,6)", bad[i]);
		refuse(text, want);
	}
	refuse("[vm a]\ncpuset = 1\ncpuset = 2\n", "bad.ini:3: [vm a] cpuset: set twice in this section");
	refuse("[vm a]\nrestart = sometimes\n", "bad.ini:2: [vm a] restart: 'sometimes' is not always or never");
	refuse("[system]\naddressing = dhcp\n[vm a]\n",
	       "bad.ini:2: [system] addressing: 'dhcp' is not auto or manual");
	refuse("[system]\nname = Multi\n[vm a]\n",
	       "bad.ini:2: [system] name: 'Multi' is not a valid name ([a-z][a-z0-9_-]*)");
	refuse("[vm a\n", "bad.ini:1: section header without ']'");
	refuse("[vm a]\n[links]\nmesh = maybe\n", "bad.ini:3: [links] mesh: 'maybe' is not yes or no");
	refuse("[vm a]\n[links]\na = bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n", "bad.ini:3: [links] a: name too long");
	n = (size_t)snprintf(text, sizeof(text), "[system]\nkernel = /");
	for (i = 0; i < CFG_PATH_MAX; i++)
		text[n++] = 'k';
	snprintf(text + n, sizeof(text) - n, "\n[vm a]\n");
	/* inih's line buffer is shorter than CFG_PATH_MAX: the line is refused
	 * first, still with its file and line. */
	refuse(text, "bad.ini:2: line longer than 198 characters");
	/* More link lines than the parser holds: refused at the first one over. */
	n = (size_t)snprintf(text, sizeof(text), "[vm a]\n[vm b]\n[links]\n");
	for (i = 0; i < MV_LINKS_MAX + 10 && n < sizeof(text) - 8; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "a = b\n");
	snprintf(want, sizeof(want), "bad.ini:%d: [links] a: too many links", 3 + MV_LINKS_MAX + 1);
	refuse(text, want);
}

static void test_too_many_vms(void **state)
{
	char text[2048] = "";
	int i;

	for (i = 0; i <= MV_NODES_MAX; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "[vm v%d]\n", i);
	refuse(text, "bad.ini:65: [vm v64]: too many VMs and tunnels (at most 64 together)");
}

/* 64 VMs in a full mesh: every VMM holds 63 links. */
static void test_64_vm_mesh(void **state)
{
	char text[2048] = "";
	int i;

	for (i = 0; i < MV_NODES_MAX; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "[vm v%d]\n", i);
	strcat(text, "[links]\nmesh = yes\n");
	assert_int_equal(config_load_string(&c, text, "t.ini", err, sizeof(err)), 0);
	assert_int_equal(c.nvms, 64);
	assert_int_equal(c.nlinks, 64 * 63 / 2);
	assert_int_equal(c.vm[63].mac[5], 64);
	assert_true(config_linked(&c, 0, 63) && config_linked(&c, 62, 63));
}

/* [tunnel NAME]: a node of the link graph with a UDP endpoint. */
static void test_tunnel(void **state)
{
	const char *t = "[vm a]\n[tunnel up]\nlocal = 10.9.0.1\nremote = 10.9.0.2\nvni = 42\n[vm b]\n"
			"[tunnel two]\nlocal = 0.0.0.0\nremote = 10.9.0.3\nvni = 16777215\nport = 8472\n"
			"[links]\nmesh = yes\na = up two\nb = up\n";

	assert_int_equal(config_load_string(&c, t, "t.ini", err, sizeof(err)), 0);
	assert_int_equal(c.nvms, 4);
	assert_true(c.vm[1].tunnel && c.vm[1].external && !c.vm[0].tunnel);
	assert_int_equal(c.vm[1].tun_local, 0x0a090001);
	assert_int_equal(c.vm[1].tun_remote, 0x0a090002);
	assert_int_equal(c.vm[1].tun_vni, 42);
	assert_int_equal(c.vm[1].tun_port, 4789);
	assert_int_equal(c.vm[3].tun_port, 8472);
	assert_int_equal(c.vm[3].tun_vni, 0xffffff);
	/* MACs by VM, not by node: b is the second VM. */
	assert_int_equal(c.vm[2].mac[5], 2);
	/* mesh joins the VMs; tunnels are linked by name. */
	assert_int_equal(c.nlinks, 4);
	assert_true(config_linked(&c, 0, 2) && config_linked(&c, 0, 1) && config_linked(&c, 0, 3) &&
		    config_linked(&c, 2, 1) && !config_linked(&c, 2, 3));

	refuse("[vm a]\n[tunnel up]\nlocal = 10.9.0.256\nremote = 10.9.0.2\nvni = 1\n",
	       "bad.ini:3: [tunnel up] local: '10.9.0.256' is not an IPv4 address to bind (e.g. 10.9.0.1)");
	refuse("[vm a]\n[tunnel up]\nlocal = 10.9.0.1\nremote = 224.0.0.1\nvni = 1\n",
	       "bad.ini:4: [tunnel up] remote: '224.0.0.1' is not a unicast IPv4 address (e.g. 10.9.0.2)");
	refuse("[vm a]\n[tunnel up]\nlocal = 10.9.0.1\nremote = 0.0.0.0\nvni = 1\n",
	       "bad.ini:4: [tunnel up] remote: '0.0.0.0' is not a unicast IPv4 address (e.g. 10.9.0.2)");
	refuse("[vm a]\n[tunnel up]\nlocal = 10.9.0.1\nremote = 10.9.0.2\nvni = 16777216\n",
	       "bad.ini:5: [tunnel up] vni: '16777216' is not a VXLAN network identifier (0 to 16777215)");
	refuse("[vm a]\n[tunnel up]\nlocal = 10.9.0.1\nremote = 10.9.0.2\nvni = -1\n",
	       "bad.ini:5: [tunnel up] vni: '-1' is not a VXLAN network identifier (0 to 16777215)");
	refuse("[vm a]\n[tunnel up]\nlocal = 10.9.0.1\nremote = 10.9.0.2\nvni = 1\nport = 0\n",
	       "bad.ini:6: [tunnel up] port: '0' is not a UDP port (1 to 65535)");
	refuse("[vm a]\n[tunnel up]\nlocal = 10.9.0.1\nremote = 10.9.0.2\nvni = 1\nport = 65536\n",
	       "bad.ini:6: [tunnel up] port: '65536' is not a UDP port (1 to 65535)");
	refuse("[vm a]\n[tunnel up]\nlocal = 10.9.0.1\nvni = 1\n", "bad.ini:2: [tunnel up] remote: required");
	refuse("[vm a]\n[tunnel up]\nremote = 10.9.0.1\nvni = 1\n", "bad.ini:2: [tunnel up] local: required");
	refuse("[vm a]\n[tunnel up]\nlocal = 10.9.0.1\nremote = 10.9.0.2\n", "bad.ini:2: [tunnel up] vni: required");
	refuse("[vm a]\n[tunnel up]\nlocal = 10.9.0.1\nremote = 10.9.0.1\nvni = 1\n",
	       "bad.ini:2: [tunnel up] remote: the same address as local");
	refuse("[vm a]\n[tunnel up]\nlocal = 10.9.0.1\nlocal = 10.9.0.1\n",
	       "bad.ini:4: [tunnel up] local: set twice in this section");
	refuse("[vm a]\n[tunnel up]\nmemory = 1G\n",
	       "bad.ini:3: [tunnel up] memory: unknown key (a tunnel has local, remote, vni and port)");
	refuse("[vm a]\n[tunnel Up]\n", "bad.ini:2: [tunnel Up]: bad tunnel name (use [a-z][a-z0-9_-]*, at most 31 characters)");
	refuse("[vm a]\n[tunnel a]\n", "bad.ini:2: [tunnel a]: VM declared twice (first at line 1)");
	/* Port clash: the same port on the same address, or on any address. */
	refuse("[vm a]\n[tunnel x]\nlocal = 10.9.0.1\nremote = 10.9.0.2\nvni = 1\n"
	       "[tunnel y]\nlocal = 10.9.0.1\nremote = 10.9.0.3\nvni = 2\n",
	       "bad.ini:6: [tunnel y] port: UDP port 4789 on this address is tunnel x's already");
	refuse("[vm a]\n[tunnel x]\nlocal = 0.0.0.0\nremote = 10.9.0.2\nvni = 1\nport = 9000\n"
	       "[tunnel y]\nlocal = 10.9.0.1\nremote = 10.9.0.3\nvni = 2\nport = 9000\n",
	       "bad.ini:11: [tunnel y] port: UDP port 9000 on this address is tunnel x's already");
	assert_int_equal(config_load_string(&c, "[vm a]\n[tunnel x]\nlocal = 10.9.0.1\nremote = 10.9.0.2\nvni = 1\n"
					    "[tunnel y]\nlocal = 10.9.0.4\nremote = 10.9.0.3\nvni = 2\n",
					    "t.ini", err, sizeof(err)), 0);
	/* Links: a tunnel to a tunnel; no VM at all. */
	refuse("[vm a]\n[tunnel x]\nlocal = 10.9.0.1\nremote = 10.9.0.2\nvni = 1\n"
	       "[tunnel y]\nlocal = 10.9.0.4\nremote = 10.9.0.3\nvni = 2\n[links]\nx = y\n",
	       "bad.ini:11: [links] x: a tunnel links only to VMs, not to tunnel y");
	refuse("[tunnel x]\nlocal = 10.9.0.1\nremote = 10.9.0.2\nvni = 1\n",
	       "bad.ini:4: no VMs: declare at least one [vm NAME] section");
}

static void test_long_names_do_not_overflow(void **state)
{
	char text[4096];

	memset(err, 0, sizeof(err));
	snprintf(text, sizeof(text), "[vm a]\n[links]\n%0300d = a\n", 0);
	assert_int_equal(config_load_string(&c, text, "bad.ini", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "bad.ini:3:"));
	/* a tiny error buffer is never overrun */
	char small[8];
	assert_int_equal(config_load_string(&c, "[vm A]\n", "bad.ini", small, sizeof(small)), -1);
	assert_int_equal(strlen(small), sizeof(small) - 1);
}

/* guest = external: multivm runs the VMM, someone else the frontend. */
static void test_external_guest(void **state)
{
	const char *t = "[vm a]\n[vm b]\nguest = external\naddress = 10.0.0.2/24\nmac = 02:00:00:00:00:0b\n"
			"[vm c]\nguest = multivm\n[links]\nmesh = yes\n";

	assert_int_equal(config_load_string(&c, t, "t.ini", err, sizeof(err)), 0);
	assert_false(c.vm[0].external);
	assert_true(c.vm[1].external);
	assert_false(c.vm[2].external);
	assert_int_equal(c.vm[1].mac[5], 0x0b);
	assert_int_equal(c.nlinks, 3);

	refuse("[vm a]\nguest = libvirt\n", "bad.ini:2: [vm a] guest: 'libvirt' is not multivm or external");
	refuse("[vm a]\nguest = external\nguest = external\n", "bad.ini:3: [vm a] guest: set twice in this section");
	/* Keys for the QEMU multivm would start, before or after the guest key. */
	refuse("[vm a]\nmemory = 1G\nguest = external\n",
	       "bad.ini:2: [vm a] memory: not with guest = external "
	       "(multivm starts no QEMU for this VM; its frontend decides)");
	refuse("[vm a]\nguest = external\naddress = 10.0.0.1/8\ncpus = 2\nrestart = never\n",
	       "bad.ini:4: [vm a] cpus: not with guest = external "
	       "(multivm starts no QEMU for this VM; its frontend decides)");
	refuse("[vm a]\n[vm b]\nguest = external\npassthrough = user\n",
	       "bad.ini:4: [vm b] passthrough: not with guest = external "
	       "(multivm starts no QEMU for this VM; its frontend decides)");
	refuse("[vm a]\nguest = external\nrestart = always\n",
	       "bad.ini:3: [vm a] restart: not with guest = external "
	       "(multivm starts no QEMU for this VM; its frontend decides)");
}

static void test_missing_file(void **state)
{
	assert_int_equal(config_load_file(&c, "/nonexistent/x.ini", err, sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent/x.ini: cannot open: No such file or directory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_shipped_file_matches_default),
		cmocka_unit_test(test_custom),
		cmocka_unit_test(test_auto_addresses),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_more_messages), cmocka_unit_test(test_cpuset), cmocka_unit_test(test_offloads_and_mtu), cmocka_unit_test(test_too_many_vms),
		cmocka_unit_test(test_long_names_do_not_overflow),
		cmocka_unit_test(test_external_guest),
		cmocka_unit_test(test_64_vm_mesh), cmocka_unit_test(test_tunnel),
		cmocka_unit_test(test_missing_file),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
