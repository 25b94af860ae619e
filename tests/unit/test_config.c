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
	       "bad.ini:2: [net]: unknown section (expected [system], [vm NAME], [tunnel NAME], [host NAME], "
	       "[links] or [link A-B])");
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
	refuse("[vm a]\n[links]\nmesh = maybe\n", "bad.ini:3: [links] mesh: 'maybe' is not yes, no, wires or segment wires");
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
	       "bad.ini:3: [tunnel up] memory: unknown key (a tunnel has local, remote, vni, port, mac and host)");
	refuse("[vm a]\n[tunnel Up]\n", "bad.ini:2: [tunnel Up]: bad tunnel name (use [a-z][a-z0-9_-]*, at most 31 characters)");
	refuse("[vm a]\n[tunnel a]\n", "bad.ini:2: [tunnel a]: VM declared twice (first at line 1)");
	/* A port shared on one address: by VNI, so not one VNI twice; nor a
	 * port on any address and on one. */
	assert_int_equal(config_load_string(&c, "[vm a]\n[tunnel x]\nlocal = 10.9.0.1\nremote = 10.9.0.2\nvni = 1\n"
					    "[tunnel y]\nlocal = 10.9.0.1\nremote = 10.9.0.3\nvni = 2\n",
					    "t.ini", err, sizeof(err)), 0);
	refuse("[vm a]\n[tunnel x]\nlocal = 10.9.0.1\nremote = 10.9.0.2\nvni = 1\n"
	       "[tunnel y]\nlocal = 10.9.0.1\nremote = 10.9.0.3\nvni = 1\n",
	       "bad.ini:9: [tunnel y] vni: VNI 1 on UDP port 4789 of this address is tunnel x's already "
	       "(tunnels sharing a port differ by VNI)");
	refuse("[vm a]\n[tunnel x]\nlocal = 0.0.0.0\nremote = 10.9.0.2\nvni = 1\nport = 9000\n"
	       "[tunnel y]\nlocal = 10.9.0.1\nremote = 10.9.0.3\nvni = 2\nport = 9000\n",
	       "bad.ini:11: [tunnel y] port: UDP port 9000 on any address and on one: tunnel x's already");
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

/* Bring your own guest: kernel, initrd, append, image and its keys;
 * relative paths are the config file's directory's. */
static void test_guest_keys(void **state)
{
	const char *t = "[vm a]\nimage = disks/d.qcow2\nkernel = /k/vmlinuz\ninitrd = initrd.img\n"
			"append = root=LABEL=r ro\npersist = yes\nimage_format = raw\nimage_backing = yes\n"
			"firmware = uefi\n[vm b]\nimage = /abs/b.img\n[vm c]\nkernel = bz\nappend = x=1\n";

	assert_int_equal(config_load_string(&c, t, "/etc/mv/t.ini", err, sizeof(err)), 0);
	assert_string_equal(c.vm[0].image, "/etc/mv/disks/d.qcow2");
	assert_string_equal(c.vm[0].kernel, "/k/vmlinuz");
	assert_string_equal(c.vm[0].initrd, "/etc/mv/initrd.img");
	assert_string_equal(c.vm[0].append, "root=LABEL=r ro");
	assert_true(c.vm[0].persist);
	assert_true(c.vm[0].image_backing);
	assert_int_equal(c.vm[0].image_format, IMAGE_RAW);
	assert_int_equal(c.vm[0].firmware, FIRMWARE_UEFI);
	assert_int_equal(c.vm[0].image_line, 2);
	assert_string_equal(c.vm[1].image, "/abs/b.img");
	assert_false(c.vm[1].persist);
	assert_false(c.vm[1].image_backing);
	assert_int_equal(c.vm[1].image_format, IMAGE_AUTO);
	assert_int_equal(c.vm[1].firmware, FIRMWARE_BIOS);
	assert_string_equal(c.vm[2].kernel, "/etc/mv/bz");
	assert_string_equal(c.vm[2].image, "");
	/* A file name without directory: as written (the working directory). */
	assert_int_equal(config_load_string(&c, "[vm a]\nimage = d.img\n", "t.ini", err, sizeof(err)), 0);
	assert_string_equal(c.vm[0].image, "d.img");

	refuse("[vm a]\nimage_format = vmdk\nimage = /d\n",
	       "bad.ini:2: [vm a] image_format: 'vmdk' is not auto, qcow2 or raw");
	refuse("[vm a]\nimage = /d\nfirmware = efi\n", "bad.ini:3: [vm a] firmware: 'efi' is not bios or uefi");
	refuse("[vm a]\nimage = /d\npersist = maybe\n", "bad.ini:3: [vm a] persist: 'maybe' is not yes or no");
	refuse("[vm a]\nimage = /d\nimage_backing = 1\n", "bad.ini:3: [vm a] image_backing: '1' is not yes or no");
	refuse("[vm a]\nimage = /d\nimage = /e\n", "bad.ini:3: [vm a] image: set twice in this section");
	refuse("[vm a]\nimage =\n", "bad.ini:2: [vm a] image: empty value");
	refuse("[vm a]\nappend = a\tb\n", "bad.ini:2: [vm a] append: a control character in the command line");
	/* Keys that mean nothing without an image, or without a kernel. */
	refuse("[vm a]\npersist = yes\n", "bad.ini:2: [vm a] persist: only with image = PATH");
	refuse("[vm a]\nfirmware = uefi\n", "bad.ini:2: [vm a] firmware: only with image = PATH");
	refuse("[vm a]\nimage_format = raw\n", "bad.ini:2: [vm a] image_format: only with image = PATH");
	refuse("[vm a]\nimage_backing = yes\n", "bad.ini:2: [vm a] image_backing: only with image = PATH");
	refuse("[vm a]\nimage = /d\ninitrd = /i\n",
	       "bad.ini:3: [vm a] initrd: only with kernel (an image without kernel boots by its own bootloader)");
	refuse("[vm a]\nappend = x\nimage = /d\n",
	       "bad.ini:2: [vm a] append: only with kernel (an image without kernel boots by its own bootloader)");
	refuse("[vm a]\nguest = external\nimage = /d\n",
	       "bad.ini:3: [vm a] image: not with guest = external "
	       "(multivm starts no QEMU for this VM; its frontend decides)");
	{	/* a line is at most 198 characters: the config's directory makes it long */
		char dir[CFG_PATH_MAX];

		memset(dir, 'd', sizeof(dir) - 1);
		dir[0] = '/';
		strcpy(dir + 240, "/t.ini");
		assert_int_equal(config_load_string(&c, "[vm a]\nimage = disk-image.qcow2\n", dir, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "/t.ini:2: [vm a] image: path too long (at most 255 bytes with the config's "
				       "directory)"));
	}
}

/* uid_range and who may connect to an external VM's socket. */
static void test_identity_keys(void **state)
{
	assert_int_equal(config_load_string(&c, "[vm a]\n", "t.ini", err, sizeof(err)), 0);
	assert_int_equal(c.uid_first, 1900000000u);	/* MV_UID_RANGE_DEFAULT */
	assert_int_equal(c.uid_last, 1900000000u + 2 * MV_NODES_MAX - 1);
	assert_int_equal(c.uid_line, 0);
	assert_int_equal(config_load_string(&c, "[system]\nuid_range = 5000-5003\n[vm a]\n[vm b]\nguest = external\n"
					    "frontend_user = libvirt-qemu\n[vm c]\nguest = external\nfrontend_group = 4242\n",
					    "t.ini", err, sizeof(err)), 0);
	assert_int_equal(c.uid_first, 5000);
	assert_int_equal(c.uid_last, 5003);
	assert_int_equal(c.uid_line, 2);
	assert_string_equal(c.vm[1].frontend_user, "libvirt-qemu");
	assert_string_equal(c.vm[1].frontend_group, "");
	assert_string_equal(c.vm[2].frontend_group, "4242");
	assert_int_equal(c.vm[2].frontend_line, 9);

	for (const char *const *r = (const char *const[]){ "5000", "5-3", "0-10", "1-2147483648", "a-b", "1-2-3", "-5", NULL };
	     *r; r++) {
		char t[128], want[256];

		snprintf(t, sizeof(t), "[system]\nuid_range = %s\n[vm a]\n", *r);
		snprintf(want, sizeof(want), "bad.ini:2: [system] uid_range: '%s' is not START-END, ids from 1 to "
			 "2147483647 (e.g. 1900000000-1900000127)", *r);
		refuse(t, want);
	}
	refuse("[vm a]\nfrontend_user = libvirt-qemu\n",
	       "bad.ini:2: [vm a] frontend_user: only with guest = external (multivm's own QEMU has an identity of its own)");
	refuse("[vm a]\nguest = external\nfrontend_user = x\nfrontend_group = y\n",
	       "bad.ini:4: [vm a] frontend_group: frontend_user and frontend_group: say one");
	refuse("[vm a]\nguest = external\nfrontend_group = Wheel\n",
	       "bad.ini:3: [vm a] frontend_group: 'Wheel' is not a group name ([a-z][a-z0-9_-]*) or a number from 1");
	refuse("[vm a]\nguest = external\nfrontend_user = 0\n",
	       "bad.ini:3: [vm a] frontend_user: '0' is not a user name ([a-z][a-z0-9_-]*) or a number from 1");
}

/* Wires: a NIC per wire end, in the order the wires are written. */
static void test_wires(void **state)
{
	const char *t =
		"[system]\nmtu = 1400\n"
		"[vm vm0]\neth1.address = 10.0.1.1/30\nroute = 10.0.2.0/30 via 10.0.1.2\n"
		"route = 0.0.0.0/0 via 10.0.1.2\n"
		"[vm vm1]\neth2.address = 10.0.2.1/30\neth1.address = 10.0.1.2/30\nip_forward = yes\n"
		"eth2.mac = 02:00:00:00:01:02\neth2.mtu = 9000\neth2.offloads = no\n"
		"[vm vm2]\neth1.address = 10.0.2.2/30\neth1.mtu = 9000\n"
		"[links]\nmesh = yes\n"
		"vm0:eth1 = vm1:eth1\n"
		"vm2:eth1 = vm1:eth2   ; the higher index on the left\n"
		"vm0 : eth9 = vm2:eth9\n";	/* blanks around ':' are the same */
	const struct cfg_vm *v0, *v1, *v2;

	if (config_load_string(&c, t, "t.ini", err, sizeof(err)))
		fail_msg("%s", err);
	v0 = &c.vm[0];
	v1 = &c.vm[1];
	v2 = &c.vm[2];
	/* the mesh's three links first, then the wires by VM and NIC */
	assert_int_equal(c.nlinks, 6);
	for (unsigned i = 0; i < 3; i++) {
		assert_false(c.link[i].wire);
		assert_int_equal(c.link[i].nic_a, -1);
		assert_int_equal(c.link[i].nic_b, -1);
	}
	assert_true(c.link[3].wire);
	assert_int_equal(c.link[3].a, 0);
	assert_int_equal(c.link[3].b, 1);
	assert_int_equal(c.link[3].nic_a, 0);	/* vm0's eth1 */
	assert_int_equal(c.link[3].nic_b, 0);	/* vm1's eth1 */
	assert_int_equal(c.link[3].line, 19);
	assert_int_equal(c.link[4].a, 0);
	assert_int_equal(c.link[4].b, 2);
	assert_int_equal(c.link[4].nic_a, 1);	/* vm0's eth9 */
	assert_int_equal(c.link[4].nic_b, 1);	/* vm2's eth9 */
	assert_int_equal(c.link[5].a, 1);
	assert_int_equal(c.link[5].b, 2);
	assert_int_equal(c.link[5].nic_a, 1);	/* vm1's eth2 */
	assert_int_equal(c.link[5].nic_b, 0);	/* vm2's eth1 */
	/* NICs in the order named; eth0 stays the segment's */
	assert_true(v0->segment && v1->segment && v2->segment);
	assert_int_equal(v0->nnics, 2);
	assert_string_equal(v0->nic[0].name, "eth1");
	assert_string_equal(v0->nic[1].name, "eth9");
	assert_int_equal(v1->nnics, 2);
	assert_string_equal(v1->nic[0].name, "eth1");
	assert_string_equal(v1->nic[1].name, "eth2");
	assert_int_equal(v1->nic[1].line, 20);
	/* keys, and the defaults: the VM's mtu and offloads, a derived MAC */
	assert_true(v0->nic[0].has_addr);
	assert_int_equal(v0->nic[0].addr, 0x0a000101);
	assert_int_equal(v0->nic[0].prefix, 30);
	assert_int_equal(v0->nic[0].addr_line, 4);
	/* a wire without addresses gets 10.0.N.0/30, past the networks given */
	assert_true(v0->nic[1].has_addr);
	assert_int_equal(v0->nic[1].addr, 0x0a000301);
	assert_int_equal(v0->nic[1].prefix, 30);
	assert_int_equal(v0->nic[1].addr_line, 0);
	assert_int_equal(v2->nic[1].addr, 0x0a000302);
	assert_int_equal(v0->nic[0].mtu, 1400);
	assert_true(v0->nic[0].offloads);
	assert_int_equal(v0->nic[0].mtu_line, 0);
	{
		static const uint8_t m01[6] = { 0x52, 0x54, 0x00, 0x4e, 0x01, 0x01 };
		static const uint8_t m02[6] = { 0x52, 0x54, 0x00, 0x4e, 0x01, 0x02 };
		static const uint8_t m31[6] = { 0x52, 0x54, 0x00, 0x4e, 0x03, 0x01 };
		static const uint8_t given[6] = { 0x02, 0x00, 0x00, 0x00, 0x01, 0x02 };

		assert_memory_equal(v0->nic[0].mac, m01, 6);
		assert_memory_equal(v0->nic[1].mac, m02, 6);
		assert_memory_equal(v2->nic[0].mac, m31, 6);
		assert_memory_equal(v1->nic[1].mac, given, 6);
		assert_int_equal(v1->nic[1].mac_line, 11);
	}
	assert_int_equal(v1->nic[1].mtu, 9000);
	assert_false(v1->nic[1].offloads);
	assert_int_equal(v1->nic[1].offloads_line, 13);
	assert_int_equal(v2->nic[0].mtu, 9000);
	assert_int_equal(v2->mtu, 1400);
	assert_int_equal(v2->nic[1].mtu, 1400);
	/* routes and forwarding */
	assert_int_equal(v0->nroutes, 2);
	assert_int_equal(v0->route[0].net, 0x0a000200);
	assert_int_equal(v0->route[0].prefix, 30);
	assert_int_equal(v0->route[0].via, 0x0a000102);
	assert_int_equal(v0->route[0].line, 5);
	assert_int_equal(v0->route[1].net, 0);
	assert_int_equal(v0->route[1].prefix, 0);
	assert_false(v0->ip_forward);
	assert_true(v1->ip_forward);
	assert_int_equal(v1->nroutes, 0);
	assert_string_equal(v0->passthrough_name, "eth1");
	/* eth0 still 192.168.1.N */
	assert_int_equal(v2->addr, 0xc0a80103);
	assert_true(config_linked(&c, 0, 1));
}

/* The eth0 of a VM on no segment, tunnels at a wire's end, the passthrough
 * NIC's name. */
static void test_wire_ends(void **state)
{
	const char *t =
		"[vm a]\neth0.address = 10.0.0.1/30\neth0.mac = 02:00:00:00:00:01\n"
		"[vm b]\npassthrough = user\npassthrough_name = wan\n"
		"[vm c]\n"
		"[tunnel up]\nlocal = 10.9.0.1\nremote = 10.9.0.2\nvni = 7\n"
		"[links]\nmesh = yes\n"
		"a:eth0 = b:eth1\n"
		"c:eth3 = up\n"
		"b:wan0 = c:eth1\n";

	assert_int_equal(config_load_string(&c, t, "t.ini", err, sizeof(err)), 0);
	assert_false(c.vm[0].segment);
	assert_true(c.vm[1].segment && c.vm[2].segment);
	assert_false(c.vm[3].segment);	/* a tunnel has no eth0 */
	assert_false(c.vm[0].has_addr);	/* its eth0 is the NIC below */
	assert_int_equal(c.vm[0].nnics, 1);
	assert_string_equal(c.vm[0].nic[0].name, "eth0");
	assert_int_equal(c.vm[0].nic[0].addr, 0x0a000001);
	assert_int_equal(c.vm[0].nic[0].mac[5], 1);
	assert_string_equal(c.vm[1].passthrough_name, "wan");
	/* mesh joins the VMs on the segment: b and c */
	assert_int_equal(c.nlinks, 4);
	assert_false(c.link[0].wire);
	assert_int_equal(c.link[0].a, 1);
	assert_int_equal(c.link[0].b, 2);
	assert_true(c.link[1].wire && c.link[2].wire && c.link[3].wire);
	/* the tunnel end: nic -1 on its side, whichever side it is */
	assert_int_equal(c.link[3].a, 2);
	assert_int_equal(c.link[3].b, 3);
	assert_int_equal(c.link[3].nic_a, 0);
	assert_int_equal(c.link[3].nic_b, -1);
	assert_string_equal(c.vm[2].nic[0].name, "eth3");
	/* The tunnel on the left, a wire to a tunnel of the default MTU. */
	assert_int_equal(config_load_string(&c, "[vm a]\neth1.mtu = 1500\n[tunnel up]\nlocal = 10.9.0.1\n"
					    "remote = 10.9.0.2\nvni = 7\n[links]\nup = a:eth1\n", "t.ini", err,
					    sizeof(err)), 0);
	assert_int_equal(c.nlinks, 1);
	assert_int_equal(c.link[0].a, 0);
	assert_int_equal(c.link[0].nic_a, 0);
	assert_int_equal(c.link[0].nic_b, -1);
	/* A VM may have MV_NICS_MAX wire NICs; eth0 on no segment is one. */
	{
		static char text[2048];
		size_t n = (size_t)snprintf(text, sizeof(text), "[vm a]\n[vm b]\n[links]\n");

		for (int i = 0; i < MV_NICS_MAX; i++)
			n += (size_t)snprintf(text + n, sizeof(text) - n, "a:eth%d = b:eth%d\n", i, i);
		assert_int_equal(config_load_string(&c, text, "t.ini", err, sizeof(err)), 0);
		assert_int_equal(c.vm[1].nnics, MV_NICS_MAX);
		assert_false(c.vm[1].segment);
		snprintf(text + n, sizeof(text) - n, "a:eth%d = b:eth%d\n", MV_NICS_MAX, MV_NICS_MAX);
		refuse(text, "bad.ini:12: [links] a:eth8: a has more than 8 wire NICs");
	}
}

static void test_wire_refusals(void **state)
{
	const char *vms = "[vm a]\n[vm b]\n[vm c]\n[tunnel up]\nlocal = 10.9.0.1\nremote = 10.9.0.2\nvni = 1\n"
			  "[tunnel dn]\nlocal = 10.9.0.1\nremote = 10.9.0.3\nvni = 2\nport = 4790\n[links]\n";
	static char text[4096];
#define LINKS(s) (snprintf(text, sizeof(text), "%s%s", vms, s), text)

	/* line 14 is the first after [links] */
	refuse(LINKS("a:eth1 = b:eth1\nc:eth1 = b:eth1\n"),
	       "bad.ini:15: [links] c:eth1: b:eth1 is already the end of the wire at line 14");
	refuse(LINKS("a:eth1 = a:eth2\n"), "bad.ini:14: [links] a:eth1: a wire cannot join a to itself");
	refuse(LINKS("up:eth1 = dn\n"),
	       "bad.ini:14: [links] up:eth1: a wire joins a VM to a VM or a tunnel, not tunnel up to tunnel dn");
	refuse(LINKS("a:eth1 = up:eth1\n"),
	       "bad.ini:14: [links] a:eth1: tunnel up has no interfaces (name it alone: up)");
	refuse(LINKS("a = b:eth1\n"),
	       "bad.ini:14: [links] a: VM a needs an interface name at a wire's end (a:IFNAME)");
	refuse(LINKS("a:eth1 = b\n"),
	       "bad.ini:14: [links] a:eth1: VM b needs an interface name at a wire's end (b:IFNAME)");
	refuse(LINKS("a:eth1 = zz:eth1\n"), "bad.ini:14: [links] a:eth1: no VM called 'zz'");
	refuse(LINKS("a = b\nb:eth0 = c:eth1\n"),
	       "bad.ini:15: [links] b:eth0: b:eth0 is the segment's NIC (b is linked on the segment at line 14)");
	refuse(LINKS("c:eth1 = a:eth0\nup = a\n"),
	       "bad.ini:14: [links] c:eth1: a:eth0 is the segment's NIC (a is linked on the segment at line 15)");
	refuse(LINKS("a:Eth1 = b:eth1\n"),
	       "bad.ini:14: [links] a:Eth1: bad interface name 'Eth1' (use [a-z][a-z0-9_-]*, at most 15 characters, not lo)");
	refuse(LINKS("a:eth1 = b:eth.1\n"),
	       "bad.ini:14: [links] a:eth1: bad interface name 'eth.1' (use [a-z][a-z0-9_-]*, at most 15 characters, not lo)");
	refuse(LINKS("a:eth1 = b:lo\n"),
	       "bad.ini:14: [links] a:eth1: bad interface name 'lo' (use [a-z][a-z0-9_-]*, at most 15 characters, not lo)");
	refuse(LINKS("a:eth1 = b:abcdefghijklmnop\n"),
	       "bad.ini:14: [links] a:eth1: bad interface name 'abcdefghijklmnop' (use [a-z][a-z0-9_-]*, at most 15 characters, not lo)");
	refuse(LINKS("a: = b:eth1\n"),
	       "bad.ini:14: [links] a:: bad interface name '' (use [a-z][a-z0-9_-]*, at most 15 characters, not lo)");
	refuse(LINKS("a:eth1 = b:eth1 c:eth1\n"), "bad.ini:14: [links] a:eth1: one wire per line (VM:IFNAME = VM:IFNAME)");
	refuse(LINKS("up = a:eth1 b:eth1\n"), "bad.ini:14: [links] up: one wire per line (VM:IFNAME = VM:IFNAME)");
	refuse(LINKS("a:eth1 = b:eth1\n  c:eth1\n"),
	       "bad.ini:15: [links] a:eth1: one wire per line (an indented line continues the one above)");
	refuse(LINKS("a:eth1\n"), "bad.ini:14: [links] a:eth1: expected VM:IFNAME = VM:IFNAME (or = TUNNEL)");
	refuse(LINKS("a:eth1 =  ; nothing\n"),
	       "bad.ini:14: [links] a:eth1: expected VM:IFNAME = VM:IFNAME (or = TUNNEL)");
	/* a tunnel at a wire's end carries it alone */
	refuse(LINKS("a:eth1 = up\nb = up\n"),
	       "bad.ini:15: [links] b: tunnel up is already linked at line 14, and a tunnel at a wire's end carries "
	       "that wire alone");
	refuse(LINKS("a = up\nb:eth1 = up\n"),
	       "bad.ini:15: [links] b:eth1: tunnel up is already linked at line 14, and a tunnel at a wire's end "
	       "carries that wire alone");
	/* mtu: the two NICs', a tunnel's at most 1500 */
	refuse("[vm a]\neth1.mtu = 9000\n[vm b]\n[links]\na:eth1 = b:eth1\n",
	       "bad.ini:5: [links] wire a:eth1-b:eth1: wired NICs need the same mtu (a:eth1 has 9000, b:eth1 has 1500)");
	refuse("[vm a]\nmtu = 9000\n[vm b]\nmtu = 9000\neth2.mtu = 1500\n[links]\na = b\na:eth1 = b:eth2\n",
	       "bad.ini:8: [links] wire a:eth1-b:eth2: wired NICs need the same mtu (a:eth1 has 9000, b:eth2 has 1500)");
	refuse("[tunnel up]\nlocal = 10.9.0.1\nremote = 10.9.0.2\nvni = 1\n[vm c]\neth1.mtu = 1600\n[links]\nup = c:eth1\n",
	       "bad.ini:8: [links] wire up-c:eth1: c:eth1 has mtu 1600, tunnel up carries at most 1500");
	/* NIC keys */
	refuse("[vm a]\neth2.mtu = 1500\n[vm b]\n[links]\na:eth1 = b:eth1\n",
	       "bad.ini:2: [vm a] eth2.mtu: no wire in [links] ends at a:eth2");
	refuse("[vm a]\nmtu = 1500\neth0.mac = 02:00:00:00:00:01\n[vm b]\n[links]\na:eth1 = b:eth1\n",
	       "bad.ini:3: [vm a] eth0.mac: a's eth0 is on the segment (set it with mac, address, mtu, offloads)");
	refuse("[vm a]\neth1.mtu = 1500\neth1.mtu = 1500\n",
	       "bad.ini:3: [vm a] eth1.mtu: set twice in this section");
	refuse("[vm a]\neth1.speed = 10\n", "bad.ini:2: [vm a] eth1.speed: unknown key");
	refuse("[vm a]\neth1.\n", "bad.ini:2: syntax error (expected 'key = value' or '[section]')");
	refuse("[vm a]\nEth1.mtu = 1500\n",
	       "bad.ini:2: [vm a] Eth1.mtu: bad interface name 'Eth1' (use [a-z][a-z0-9_-]*, at most 15 characters, not lo)");
	refuse("[vm a]\n.mtu = 1500\n",
	       "bad.ini:2: [vm a] .mtu: bad interface name '' (use [a-z][a-z0-9_-]*, at most 15 characters, not lo)");
	refuse("[vm a]\nabcdefghijklmnopq.mtu = 1500\n",
	       "bad.ini:2: [vm a] abcdefghijklmnopq.mtu: bad interface name (use [a-z][a-z0-9_-]*, at most 15 characters, not lo)");
	refuse("[vm a]\neth1.mtu = 9001\n", "bad.ini:2: [vm a] eth1.mtu: '9001' is not a number from 68 to 9000");
	refuse("[vm a]\neth1.offloads = on\n", "bad.ini:2: [vm a] eth1.offloads: 'on' is not yes or no");
	refuse("[vm a]\neth1.address = 10.0.1.1\n",
	       "bad.ini:2: [vm a] eth1.address: '10.0.1.1' is not an IPv4 address with prefix (e.g. 10.0.1.1/30)");
	refuse("[vm a]\neth1.mac = 01:00:00:00:00:01\n", "bad.ini:2: [vm a] eth1.mac: '01:00:00:00:00:01' is a multicast address");
	refuse("[vm a]\neth1.mac = 1:2:3\n",
	       "bad.ini:2: [vm a] eth1.mac: '1:2:3' is not a MAC address (aa:bb:cc:dd:ee:ff)");
	{
		size_t n = (size_t)snprintf(text, sizeof(text), "[vm a]\n");

		for (int i = 0; i <= MV_NICS_MAX; i++)
			n += (size_t)snprintf(text + n, sizeof(text) - n, "eth%d.mtu = 1500\n", i);
		refuse(text, "bad.ini:10: [vm a] eth8.mtu: keys for more than 8 NICs (a VM has at most 8 wire NICs)");
	}
	/* MACs: unique in the system, said where one was given */
	refuse("[vm a]\neth1.mac = 52:54:00:4d:56:02\n[vm b]\n[links]\na:eth1 = b:eth1\n",
	       "bad.ini:2: [vm a] eth1.mac: same MAC as b");
	refuse("[vm a]\n[vm b]\nmac = 52:54:00:4e:01:01\n[links]\na:eth1 = b:eth1\n",
	       "bad.ini:3: [vm b] mac: same MAC as a:eth1");
	refuse("[vm a]\neth1.mac = 02:00:00:00:00:01\n[vm b]\neth1.mac = 02:00:00:00:00:01\n[links]\na:eth1 = b:eth1\n",
	       "bad.ini:4: [vm b] eth1.mac: same MAC as a:eth1");
	refuse("[vm a]\neth1.mac = 52:54:00:4e:02:01\n[vm b]\n[links]\na:eth1 = b:eth1\n",
	       "bad.ini:2: [vm a] eth1.mac: same MAC as b:eth1");
	/* eth0 on no segment: its keys are eth0.KEY */
	refuse("[vm a]\naddress = 10.0.0.1/24\n[vm b]\n[links]\na:eth0 = b:eth1\n",
	       "bad.ini:2: [vm a] address: a is on no segment (its eth0 is the end of the wire at line 5; use eth0.address)");
	refuse("[vm a]\n[vm b]\nmac = 02:00:00:00:00:01\n[links]\na:eth1 = b:eth0\n",
	       "bad.ini:3: [vm b] mac: b is on no segment (its eth0 is the end of the wire at line 5; use eth0.mac)");
	/* the passthrough NIC */
	refuse("[vm a]\npassthrough = user\n[vm b]\n[links]\na:eth1 = b:eth1\n",
	       "bad.ini:5: [links] a:eth1: a's passthrough NIC is called eth1 (passthrough at line 2; "
	       "set passthrough_name to another name)");
	refuse("[vm a]\npassthrough = user\n[vm b]\npassthrough = user\n[links]\na:eth2 = b:eth1\n",
	       "bad.ini:6: [links] a:eth2: b's passthrough NIC is called eth1 (passthrough at line 4; "
	       "set passthrough_name to another name)");
	refuse("[vm a]\npassthrough = user\npassthrough_name = eth2\n[vm b]\n[links]\na:eth2 = b:eth1\n",
	       "bad.ini:3: [vm a] passthrough_name: a:eth2 is the end of the wire at line 6");
	refuse("[vm a]\npassthrough = user\npassthrough_name = eth0\n",
	       "bad.ini:3: [vm a] passthrough_name: eth0 is the segment's NIC");
	refuse("[vm a]\npassthrough_name = wan\n", "bad.ini:2: [vm a] passthrough_name: only with passthrough");
	refuse("[vm a]\npassthrough = user\npassthrough_name = wan0:1\n",
	       "bad.ini:3: [vm a] passthrough_name: bad interface name 'wan0:1' (use [a-z][a-z0-9_-]*, at most 15 characters, not lo)");
	/* links per node: a VM's links are its VMM's arguments */
	{
		size_t n = 0;

		for (int i = 0; i < MV_NODES_MAX; i++)
			n += (size_t)snprintf(text + n, sizeof(text) - n, "[vm v%d]\n", i);
		n += (size_t)snprintf(text + n, sizeof(text) - n, "[links]\nmesh = yes\nv0:eth1 = v1:eth1\n");
		refuse(text, "bad.ini:67: [links] v0:eth1: v0 has more than 63 links (segment links and wires together)");
	}
#undef LINKS
}

/* route = NET/PREFIX via GATEWAY, ip_forward, external guests. */
static void test_routes(void **state)
{
	static char text[4096];
	size_t n;
	int i;

	refuse("[vm a]\nroute = 10.0.2.0/30 10.0.1.2\n",
	       "bad.ini:2: [vm a] route: '10.0.2.0/30 10.0.1.2' is not NET/PREFIX via GATEWAY (e.g. 10.0.2.0/30 via 10.0.1.2)");
	refuse("[vm a]\nroute = 10.0.2.0 via 10.0.1.2\n",
	       "bad.ini:2: [vm a] route: '10.0.2.0 via 10.0.1.2' is not NET/PREFIX via GATEWAY (e.g. 10.0.2.0/30 via 10.0.1.2)");
	refuse("[vm a]\nroute = 10.0.2.0/30 via 10.0.1.2 dev eth1\n",
	       "bad.ini:2: [vm a] route: '10.0.2.0/30 via 10.0.1.2 dev eth1' is not NET/PREFIX via GATEWAY (e.g. 10.0.2.0/30 via 10.0.1.2)");
	refuse("[vm a]\nroute = 10.0.2.0/30 via 10.0.1.256\n",
	       "bad.ini:2: [vm a] route: gateway '10.0.1.256' is not a unicast IPv4 address");
	refuse("[vm a]\nroute = 10.0.2.0/30 via 224.0.0.1\n",
	       "bad.ini:2: [vm a] route: gateway '224.0.0.1' is not a unicast IPv4 address");
	refuse("[vm a]\nroute = 10.0.2.1/30 via 10.0.1.2\n",
	       "bad.ini:2: [vm a] route: '10.0.2.1/30' has host bits set (the network is 10.0.2.0/30)");
	refuse("[vm a]\nroute = 10.0.0.0/16 via 10.0.1.2\nroute = 10.0.0.0/16 via 10.0.1.3\n",
	       "bad.ini:3: [vm a] route: 10.0.0.0/16 routed twice (first at line 2)");
	refuse("[vm a]\nip_forward = 1\n", "bad.ini:2: [vm a] ip_forward: '1' is not yes or no");
	refuse("[vm a]\nip_forward = yes\nip_forward = yes\n", "bad.ini:3: [vm a] ip_forward: set twice in this section");
	refuse("[vm a]\nguest = external\nroute = 10.0.0.0/8 via 10.0.1.2\n",
	       "bad.ini:3: [vm a] route: not with guest = external (multivm starts no QEMU for this VM; its frontend decides)");
	n = (size_t)snprintf(text, sizeof(text), "[vm a]\n");
	for (i = 0; i <= CFG_ROUTES_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "route = 10.%d.0.0/16 via 192.168.1.9\n", i);
	refuse(text, "bad.ini:18: [vm a] route: more than 16 routes");
	text[n - strlen("route = 10.16.0.0/16 via 192.168.1.9\n")] = 0;
	assert_int_equal(config_load_string(&c, text, "t.ini", err, sizeof(err)), 0);
	assert_int_equal(c.vm[0].nroutes, CFG_ROUTES_MAX);
	assert_int_equal(c.vm[0].route[15].net, 0x0a0f0000);
	/* Wires of an external VM: its frontend connects a socket per NIC. */
	assert_int_equal(config_load_string(&c, "[vm a]\nguest = external\neth1.mac = 02:00:00:00:00:01\n[vm b]\n"
					    "[links]\na:eth1 = b:eth1\n", "t.ini", err, sizeof(err)), 0);
	assert_int_equal(c.vm[0].nic[0].mac[5], 1);
}

/* The routed chain of multivm.ini(5), shipped as configs/routed.ini. */
static void test_routed_example(void **state)
{
	assert_int_equal(config_load_file(&c, "configs/routed.ini", err, sizeof(err)), 0);
	assert_int_equal(c.nvms, 3);
	assert_int_equal(c.nlinks, 2);
	assert_true(c.link[0].wire && c.link[1].wire);
	assert_true(c.vm[1].ip_forward);
	assert_int_equal(c.vm[1].nnics, 2);
	assert_string_equal(c.vm[1].nic[1].name, "eth2");
	assert_int_equal(c.vm[1].nic[1].addr, 0x0a000201);
	assert_int_equal(c.vm[0].nroutes, 1);
	assert_int_equal(c.vm[0].route[0].via, 0x0a000102);
	assert_int_equal(c.vm[2].nroutes, 1);
	assert_int_equal(c.vm[2].route[0].via, 0x0a000201);
}

/* VM v's route i is net/prefix via gw, made at line. */
static void route_is(unsigned v, unsigned i, uint32_t net, unsigned prefix, uint32_t gw, int line)
{
	const struct cfg_route *r = &c.vm[v].route[i];

	if (i >= c.vm[v].nroutes || r->net != net || r->prefix != prefix || r->via != gw || r->line != line)
		fail_msg("%s route %u (of %u): %08x/%u via %08x line %d, want %08x/%u via %08x line %d", c.vm[v].name,
			 i, c.vm[v].nroutes, r->net, r->prefix, r->via, r->line, net, prefix, gw, line);
}

/* VM v's NIC called name: its address (0: none). */
static uint32_t nic_addr(unsigned v, const char *name)
{
	for (unsigned i = 0; i < c.vm[v].nnics; i++)
		if (!strcmp(c.vm[v].nic[i].name, name))
			return c.vm[v].nic[i].has_addr ? c.vm[v].nic[i].addr : 0;
	fail_msg("%s has no NIC %s", c.vm[v].name, name);
	return 0;
}

static void load(const char *text)
{
	if (config_load_string(&c, text, "t.ini", err, sizeof(err)))
		fail_msg("%s\nfor:\n%s", err, text);
}

/* mesh = wires: a wire per pair of VMs, NICs eth1, eth2, ... */
static void test_mesh_wires(void **state)
{
	static char text[4096];
	size_t n;

	/* the five-line triangle, shipped as configs/triangle.ini */
	assert_int_equal(config_load_file(&c, "configs/triangle.ini", err, sizeof(err)), 0);
	assert_int_equal(c.nvms, 3);
	assert_int_equal(c.nlinks, 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_true(c.link[i].wire);
		assert_int_equal(c.vm[i].nnics, 2);
		assert_string_equal(c.vm[i].nic[0].name, "eth1");
		assert_string_equal(c.vm[i].nic[1].name, "eth2");
		assert_int_equal(c.vm[i].nroutes, 0);
		assert_false(c.vm[i].ip_forward);	/* routing = none */
		assert_true(c.vm[i].segment);		/* eth0 stays, on no link */
	}
	/* r1-r2, r1-r3, r2-r3: 10.0.1.0/30, 10.0.2.0/30, 10.0.3.0/30 */
	assert_int_equal(c.link[0].a, 0);
	assert_int_equal(c.link[0].b, 1);
	assert_int_equal(c.link[1].b, 2);
	assert_int_equal(c.link[2].a, 1);
	assert_int_equal(c.link[2].line, 7);
	assert_int_equal(nic_addr(0, "eth1"), 0x0a000101);
	assert_int_equal(nic_addr(1, "eth1"), 0x0a000102);
	assert_int_equal(nic_addr(0, "eth2"), 0x0a000201);
	assert_int_equal(nic_addr(2, "eth1"), 0x0a000202);
	assert_int_equal(nic_addr(1, "eth2"), 0x0a000301);
	assert_int_equal(nic_addr(2, "eth2"), 0x0a000302);
	assert_int_equal(c.vm[2].nic[1].prefix, 30);

	/* names skip the passthrough NIC's and the written wires'; tunnels are
	 * left out; written wires' NICs come first; segment wires adds the mesh */
	load("[vm a]\npassthrough = user\neth4.mtu = 1400\n[vm b]\n[tunnel up]\nlocal = 10.9.0.1\nremote = 10.9.0.2\n"
	     "vni = 1\n[vm c]\neth1.mtu = 1400\n[links]\nmesh = segment wires\nb:eth5 = a:eth2\nup = c\n");
	assert_int_equal(c.vm[0].nnics, 3);
	assert_string_equal(c.vm[0].nic[0].name, "eth2");
	assert_string_equal(c.vm[0].nic[1].name, "eth3");	/* to b */
	assert_string_equal(c.vm[0].nic[2].name, "eth4");	/* to c */
	assert_int_equal(c.vm[0].nic[2].mtu, 1400);		/* its keys apply */
	assert_string_equal(c.vm[1].nic[0].name, "eth5");
	assert_string_equal(c.vm[1].nic[1].name, "eth1");
	assert_string_equal(c.vm[1].nic[2].name, "eth2");
	assert_int_equal(c.vm[3].nnics, 2);	/* c, after the tunnel */
	assert_string_equal(c.vm[3].nic[1].name, "eth2");
	assert_int_equal(c.vm[3].nic[1].line, 12);
	/* 3 segment links (a-b, a-c, b-c), c-up, then 4 wires */
	assert_int_equal(c.nlinks, 8);
	assert_false(c.link[3].wire);
	assert_int_equal(c.link[3].b, 3);
	assert_true(c.link[4].wire);
	/* mesh = wires alone leaves the segment empty; yes wires is segment wires */
	load("[vm a]\n[vm b]\n[links]\nmesh = wires\n");
	assert_int_equal(c.nlinks, 1);
	load("[vm a]\n[vm b]\n[links]\nmesh = wires yes\n");
	assert_int_equal(c.nlinks, 2);
	refuse("[vm a]\n[links]\nmesh = wires no\n", "bad.ini:3: [links] mesh: 'wires no' is not yes, no, wires or segment wires");
	refuse("[vm a]\n[links]\nmesh = wires wires\n",
	       "bad.ini:3: [links] mesh: 'wires wires' is not yes, no, wires or segment wires");
	refuse("[vm a]\n[vm b]\n[links]\nmesh = wires\nmesh = yes\n", "bad.ini:5: [links] mesh: set twice in this section");
	refuse("[vm a]\n[vm b]\n[links]\nmesh = segment wires\na = b\n",
	       "bad.ini:5: [links] a: list links or use mesh = yes, not both");
	/* nine VMs: eight wire NICs each, the most; a tenth is one too many */
	n = 0;
	for (int i = 0; i < 9; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "[vm v%d]\n", i);
	snprintf(text + n, sizeof(text) - n, "[links]\nmesh = wires\n");
	load(text);
	assert_int_equal(c.nlinks, 36);
	assert_int_equal(c.vm[8].nnics, MV_NICS_MAX);
	assert_string_equal(c.vm[8].nic[7].name, "eth8");
	n += (size_t)snprintf(text + n, sizeof(text) - n, "[vm v9]\n");
	snprintf(text + n, sizeof(text) - n, "[links]\nmesh = wires\n");
	refuse(text, "bad.ini:12: [links] mesh: v0 has more than 8 wire NICs");
	/* with a written wire, v1 reaches its ninth sooner: said at the mesh line */
	n = 0;
	for (int i = 0; i < 8; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "[vm v%d]\n", i);
	snprintf(text + n, sizeof(text) - n, "[links]\nv1:eth9 = v2:eth9\nv1:eth10 = v2:eth10\nmesh = wires\n");
	refuse(text, "bad.ini:12: [links] mesh: v1 has more than 8 wire NICs");
}

/* addressing = auto: 10.0.N.0/30 per wire without addresses. */
static void test_auto_wire_addresses(void **state)
{
	/* N skips 10.0.1.0/30 (a's eth0 is in 10.0.1.0/24) and 10.0.3.0/30 (a
	 * route's network); a route's gateway is in use too; the default
	 * route does not count */
	load("[vm a]\naddress = 10.0.1.7/24\nroute = 10.0.3.0/24 via 10.0.5.1\nroute = 0.0.0.0/0 via 10.0.1.1\n"
	     "[vm b]\n[vm c]\n[links]\na:eth1 = b:eth1\nb:eth2 = c:eth1\na:eth2 = c:eth2\nc:eth3 = a:eth3\n");
	assert_int_equal(nic_addr(0, "eth1"), 0x0a000201);	/* a-b, the first */
	assert_int_equal(nic_addr(1, "eth1"), 0x0a000202);
	assert_int_equal(nic_addr(0, "eth2"), 0x0a000401);	/* a-c by a's NIC order */
	assert_int_equal(nic_addr(2, "eth2"), 0x0a000402);
	assert_int_equal(nic_addr(0, "eth3"), 0x0a000601);	/* a is the end declared first */
	assert_int_equal(nic_addr(2, "eth3"), 0x0a000602);
	assert_int_equal(nic_addr(1, "eth2"), 0x0a000701);	/* b-c */
	assert_int_equal(nic_addr(2, "eth1"), 0x0a000702);
	/* a wire with one end given is left alone; so is a tunnel's; a given
	 * pair is kept, and its network skipped */
	load("[vm a]\neth1.address = 192.168.7.1/24\neth3.address = 10.0.1.1/30\n[vm b]\n"
	     "eth3.address = 10.0.1.2/30\n[vm c]\n[tunnel up]\nlocal = 10.9.0.1\nremote = 10.9.0.2\nvni = 1\n"
	     "[links]\na:eth1 = b:eth1\nc:eth1 = up\na:eth2 = c:eth2\na:eth3 = b:eth3\n");
	assert_int_equal(nic_addr(0, "eth1"), 0xc0a80701);
	assert_int_equal(nic_addr(1, "eth1"), 0);
	assert_int_equal(nic_addr(2, "eth1"), 0);
	assert_int_equal(nic_addr(0, "eth2"), 0x0a000201);
	assert_int_equal(nic_addr(2, "eth2"), 0x0a000202);
	assert_int_equal(nic_addr(1, "eth3"), 0x0a000102);
	/* a VM whose eth0 is a wire's end gets it there */
	load("[vm a]\n[vm b]\n[links]\na:eth0 = b:eth0\n");
	assert_false(c.vm[0].has_addr);
	assert_int_equal(nic_addr(0, "eth0"), 0x0a000101);
	/* addressing = manual: nothing is added */
	load("[system]\naddressing = manual\nrouting = auto\n[vm r1]\n[vm r2]\n[vm r3]\n[links]\nmesh = wires\n");
	for (unsigned v = 0; v < 3; v++) {
		assert_false(c.vm[v].has_addr);
		assert_false(c.vm[v].nic[0].has_addr || c.vm[v].nic[1].has_addr);
		assert_int_equal(c.vm[v].nroutes, 0);	/* no networks to route to */
		assert_true(c.vm[v].ip_forward);
	}
	/* past 10.0.255.0/30: at the wire's line, or mesh's */
	refuse("[vm a]\naddress = 10.0.0.1/16\n[vm b]\n[links]\na = b\nb:eth1 = a:eth1\n",
	       "bad.ini:6: [links] wire a:eth1-b:eth1: no 10.0.N.0/30 (N up to 255) left that overlaps no address or "
	       "route of the config; give its NICs addresses, or use addressing = manual");
	refuse("[vm a]\nroute = 10.0.0.0/17 via 192.168.1.9\n[vm b]\nroute = 10.0.128.0/18 via 192.168.1.9\n"
	       "eth1.address = 10.0.192.1/19\n[vm c]\nroute = 10.0.224.0/20 via 192.168.1.9\n"
	       "route = 10.0.240.0/21 via 192.168.1.9\nroute = 10.0.248.0/22 via 192.168.1.9\n"
	       "route = 10.0.252.0/23 via 192.168.1.9\nroute = 10.0.254.0/24 via 192.168.1.9\n"
	       "[links]\nb:eth1 = c:eth9\nmesh = wires\n",
	       "bad.ini:14: [links] wire a:eth2-c:eth1: no 10.0.N.0/30 (N up to 255) left that overlaps no address or "
	       "route of the config; give its NICs addresses, or use addressing = manual");
	/* 10.0.255.0/30 is the last one used */
	load("[vm a]\nroute = 10.0.0.0/17 via 192.168.1.9\nroute = 10.0.128.0/18 via 192.168.1.9\n"
	     "route = 10.0.192.0/19 via 192.168.1.9\nroute = 10.0.224.0/20 via 192.168.1.9\n"
	     "route = 10.0.240.0/21 via 192.168.1.9\nroute = 10.0.248.0/22 via 192.168.1.9\n"
	     "route = 10.0.252.0/23 via 192.168.1.9\nroute = 10.0.254.0/24 via 192.168.1.9\n"
	     "[vm b]\n[links]\nmesh = wires\n");
	assert_int_equal(nic_addr(0, "eth1"), 0x0a00ff01);
}

/* routing = auto: forwarding and routes along shortest paths. */
static void test_auto_routing(void **state)
{
	static char text[4096];
	size_t n;

	/* the chain, shipped as configs/routed.ini (routing at line 8) */
	assert_int_equal(config_load_file(&c, "configs/routed.ini", err, sizeof(err)), 0);
	assert_false(c.vm[0].ip_forward);
	assert_true(c.vm[1].ip_forward);
	assert_false(c.vm[2].ip_forward);
	assert_int_equal(c.vm[0].nroutes, 1);
	route_is(0, 0, 0x0a000200, 30, 0x0a000102, 8);	/* to vm1-vm2's via vm1 */
	assert_int_equal(c.vm[1].nroutes, 0);
	assert_int_equal(c.vm[2].nroutes, 1);
	route_is(2, 0, 0x0a000100, 30, 0x0a000201, 8);
	assert_int_equal(c.vm[1].nic[1].addr, 0x0a000201);

	/* a ring of four, and a network behind r3 (its wire to a tunnel):
	 * r1-r2 10.0.1, r1-r4 10.0.2, r2-r3 10.0.3, r3-r4 10.0.4 */
	const char *ring = "[system]\nrouting = auto\n[vm r1]\n[vm r2]\n[vm r3]\neth3.address = 10.9.9.1/24\n[vm r4]\n"
			   "[tunnel up]\nlocal = 10.8.0.1\nremote = 10.8.0.2\nvni = 1\n"
			   "[links]\nr1:eth1 = r2:eth1\nr2:eth2 = r3:eth1\nr3:eth2 = r4:eth1\nr4:eth2 = r1:eth2\nr3:eth3 = up\n";
	load(ring);
	for (unsigned v = 0; v < 4; v++)
		assert_true(c.vm[v].ip_forward);
	assert_int_equal(c.vm[0].nroutes, 3);
	route_is(0, 0, 0x0a000300, 30, 0x0a000102, 2);	/* r2-r3 via r2 */
	route_is(0, 1, 0x0a000400, 30, 0x0a000202, 2);	/* r3-r4 via r4 */
	route_is(0, 2, 0x0a090900, 24, 0x0a000102, 2);	/* two hops either way: r2, declared first */
	assert_int_equal(c.vm[1].nroutes, 3);
	route_is(1, 0, 0x0a000200, 30, 0x0a000101, 2);	/* r1-r4 via r1 */
	route_is(1, 1, 0x0a000400, 30, 0x0a000302, 2);
	route_is(1, 2, 0x0a090900, 24, 0x0a000302, 2);
	assert_int_equal(c.vm[2].nroutes, 2);
	route_is(2, 0, 0x0a000100, 30, 0x0a000301, 2);	/* r1-r2 via r2 */
	route_is(2, 1, 0x0a000200, 30, 0x0a000402, 2);	/* r1-r4 via r4 */
	assert_int_equal(c.vm[3].nroutes, 3);
	route_is(3, 0, 0x0a000100, 30, 0x0a000201, 2);
	route_is(3, 1, 0x0a000300, 30, 0x0a000401, 2);
	route_is(3, 2, 0x0a090900, 24, 0x0a000401, 2);
	/* the same ring written r1, r4, r3, r2: the tie now goes to r4 */
	load("[system]\nrouting = auto\n[vm r1]\n[vm r4]\n[vm r3]\neth3.address = 10.9.9.1/24\n[vm r2]\n"
	     "[tunnel up]\nlocal = 10.8.0.1\nremote = 10.8.0.2\nvni = 1\n"
	     "[links]\nr1:eth1 = r2:eth1\nr2:eth2 = r3:eth1\nr3:eth2 = r4:eth1\nr4:eth2 = r1:eth2\nr3:eth3 = up\n");
	assert_int_equal(c.vm[0].nroutes, 3);
	route_is(0, 2, 0x0a090900, 24, nic_addr(1, "eth2"), 2);

	/* user routes win; ip_forward = no keeps r2 from forwarding, so r1
	 * reaches r2-r3's network through r4 and r3 (gateways on eth0, so the
	 * wires' networks stay those above) */
	load("[system]\nrouting = auto\n[vm r1]\nroute = 10.9.9.0/24 via 192.168.1.4\n[vm r2]\nip_forward = no\n"
	     "route = 10.9.9.0/24 via 192.168.1.3\n[vm r3]\neth3.address = 10.9.9.1/24\n[vm r4]\n"
	     "[tunnel up]\nlocal = 10.8.0.1\nremote = 10.8.0.2\nvni = 1\n"
	     "[links]\nr1:eth1 = r2:eth1\nr2:eth2 = r3:eth1\nr3:eth2 = r4:eth1\nr4:eth2 = r1:eth2\nr3:eth3 = up\n");
	assert_false(c.vm[1].ip_forward);
	assert_true(c.vm[0].ip_forward && c.vm[2].ip_forward && c.vm[3].ip_forward);
	assert_int_equal(c.vm[0].nroutes, 3);
	route_is(0, 0, 0x0a090900, 24, 0xc0a80104, 4);	/* the user's */
	route_is(0, 1, 0x0a000300, 30, 0x0a000202, 2);	/* r2 does not forward: toward r3, via r4 */
	route_is(0, 2, 0x0a000400, 30, 0x0a000202, 2);
	assert_int_equal(c.vm[1].nroutes, 3);
	route_is(1, 0, 0x0a090900, 24, 0xc0a80103, 7);	/* the user's */
	route_is(1, 1, 0x0a000200, 30, 0x0a000101, 2);
	route_is(1, 2, 0x0a000400, 30, 0x0a000302, 2);
	assert_int_equal(c.vm[2].nroutes, 2);
	route_is(2, 0, 0x0a000100, 30, 0x0a000402, 2);	/* r1-r2: toward r1, which forwards, via r4 */
	route_is(2, 1, 0x0a000200, 30, 0x0a000402, 2);
	assert_int_equal(c.vm[3].nroutes, 3);
	route_is(3, 0, 0x0a000100, 30, 0x0a000201, 2);
	route_is(3, 1, 0x0a000300, 30, 0x0a000401, 2);
	route_is(3, 2, 0x0a090900, 24, 0x0a000401, 2);
	/* no routing: nothing is computed */
	load(strstr(ring, "[vm r1]"));
	for (unsigned v = 0; v < 4; v++)
		assert_true(!c.vm[v].ip_forward && c.vm[v].nroutes == 0);

	/* 16 routes in all are fine, 17 are not: said at routing */
	n = (size_t)snprintf(text, sizeof(text), "[system]\nrouting = auto\n[vm r1]\n");
	for (int i = 0; i < CFG_ROUTES_MAX - 1; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "route = 172.16.%d.0/24 via 192.168.1.9\n", i);
	snprintf(text + n, sizeof(text) - n, "[vm r2]\n[vm r3]\n[links]\nr1:eth1 = r2:eth1\nr2:eth2 = r3:eth1\n");
	load(text);
	assert_int_equal(c.vm[0].nroutes, CFG_ROUTES_MAX);
	route_is(0, 15, 0x0a000200, 30, 0x0a000102, 2);
	n += (size_t)snprintf(text + n, sizeof(text) - n, "route = 172.16.99.0/24 via 192.168.1.9\n");
	snprintf(text + n, sizeof(text) - n, "[vm r2]\n[vm r3]\n[links]\nr1:eth1 = r2:eth1\nr2:eth2 = r3:eth1\n");
	refuse(text, "bad.ini:2: [system] routing: r1 needs 17 routes, more than 16 (its route keys and the "
	       "computed ones together)");
	/* a chain of 19: r1 is on one of 18 networks */
	n = (size_t)snprintf(text, sizeof(text), "[vm r0]\n");
	for (int i = 1; i < 19; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "[vm r%d]\n", i);
	n += (size_t)snprintf(text + n, sizeof(text) - n, "[links]\n");
	for (int i = 1; i < 19; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "r%d:eth1 = r%d:eth2\n", i - 1, i);
	snprintf(text + n, sizeof(text) - n, "[system]\nrouting = auto\n");
	refuse(text, "bad.ini:40: [system] routing: r0 needs 17 routes, more than 16 (its route keys and the "
	       "computed ones together)");
	/* the key's values */
	refuse("[system]\nrouting = yes\n", "bad.ini:2: [system] routing: 'yes' is not auto or none");
	refuse("[system]\nrouting = auto\nrouting = none\n", "bad.ini:3: [system] routing: set twice in this section");
	load("[system]\nrouting = none\n[vm a]\n[vm b]\n[vm c]\n[links]\nmesh = wires\n");
	assert_false(c.vm[0].ip_forward);
}

/* The keys multivm.ini(5) documents: a VM's NIC keys as IFNAME.KEY. */
/* [link A-B], [link A->B]: a link's impairments, in linkctl's words. */
#define LINKS3 "[vm vm0]\n[vm vm1]\n[vm vm-2]\n[tunnel t0]\nlocal = 10.9.0.1\nremote = 10.9.0.2\nvni = 5\n" \
	"[links]\nmesh = yes\nvm0:eth1 = vm1:eth1\nt0 = vm-2:eth3\n"

/* The link of c between nodes a and b (a wire when nic_a is given). */
static const struct cfg_link *link_of(const char *a, const char *b, bool wire)
{
	int x = config_vm_index(&c, a), y = config_vm_index(&c, b);
	unsigned i;

	for (i = 0; i < c.nlinks; i++)
		if (c.link[i].wire == wire && ((int)c.link[i].a == x || (int)c.link[i].a == y) &&
		    ((int)c.link[i].b == x || (int)c.link[i].b == y))
			return &c.link[i];
	fail_msg("no link %s-%s", a, b);
	return NULL;
}

static void test_link_sections(void **state)
{
	const struct cfg_link *l;
	char words[256];

	/* Before [links] and after; both directions, or one. */
	assert_int_equal(config_load_string(&c, "[link vm1-vm0]\ndelay = 20ms\njitter = 2ms\ndistribution = normal\n"
					    "loss = 1%\nloss_correlation = 25%\ncorrupt = 0.1%\nduplicate = 0.5%\n"
					    "rate = 100mbit\nseed = 42\nreorder = no\n" LINKS3
					    "[link vm0:eth1->vm1:eth1]\nstate = down\n[link vm1:eth1->vm0:eth1]\nrate = 1.5gbit\n"
					    "[link t0-vm-2:eth3]\nloss = 10%\n[link vm0-vm-2]\n", "l.ini", err, sizeof(err)), 0);
	l = link_of("vm0", "vm1", false);
	assert_int_equal(l->imp_line, 1);
	for (int d = 0; d < 2; d++) {
		linkctl_format(&l->imp[d], words, sizeof(words));
		assert_string_equal(words, "delay=20ms jitter=2ms distribution=normal loss=1% loss_correlation=25% "
				    "corrupt=0.1% duplicate=0.5% rate=100mbit seed=42");
	}
	l = link_of("vm0", "vm1", true);
	assert_int_equal(l->imp_line, 23);
	assert_true(l->imp[0].down);
	assert_int_equal(l->imp[0].rate_bps, 0);
	assert_false(l->imp[1].down);
	assert_int_equal(l->imp[1].rate_bps, 1500000000ull);
	/* A tunnel's wire: named by the tunnel and the VM's end ('-' in a name). */
	l = link_of("t0", "vm-2", true);
	assert_int_equal(l->imp[0].loss_ppm, 100000);
	assert_int_equal(l->imp[1].loss_ppm, 100000);
	/* A section without keys: a plain link, found. */
	l = link_of("vm0", "vm-2", false);
	assert_int_equal(l->imp_line, 29);
	assert_false(linkctl_active(&l->imp[0]) || linkctl_active(&l->imp[1]));
	/* No [link] section: plain. */
	l = link_of("vm1", "vm-2", false);
	assert_int_equal(l->imp_line, 0);
	assert_false(linkctl_active(&l->imp[0]) || linkctl_active(&l->imp[1]));
	/* The direction a->b is the one from the lower node: vm1->vm0 is imp[1]. */
	assert_int_equal(config_load_string(&c, LINKS3 "[link vm1->vm0]\ndelay = 1s\n", "l.ini", err, sizeof(err)), 0);
	l = link_of("vm0", "vm1", false);
	assert_int_equal(l->imp[0].delay_us, 0);
	assert_int_equal(l->imp[1].delay_us, 1000000);
}

static void test_link_refusals(void **state)
{
	refuse(LINKS3 "[link vm0-vm1]\ndelay = 5x\n",
	       "bad.ini:13: [link vm0-vm1] delay: '5x' is not a time from 0 to 10 s (e.g. 20ms, 500us, 1.5s)");
	refuse(LINKS3 "[link vm0-vm1]\ndelay = 11s\n",
	       "bad.ini:13: [link vm0-vm1] delay: '11s' is not a time from 0 to 10 s (e.g. 20ms, 500us, 1.5s)");
	refuse(LINKS3 "[link vm0-vm1]\nloss = 100.5%\n",
	       "bad.ini:13: [link vm0-vm1] loss: '100.5%' is not a percentage from 0% to 100% (e.g. 1%, 0.25%)");
	refuse(LINKS3 "[link vm0-vm1]\nloss = -1%\n",
	       "bad.ini:13: [link vm0-vm1] loss: '-1%' is not a percentage from 0% to 100% (e.g. 1%, 0.25%)");
	refuse(LINKS3 "[link vm0-vm1]\nrate = 200gbit\n", "bad.ini:13: [link vm0-vm1] rate: '200gbit' is not a rate "
	       "from 1kbit to 100gbit, or 0 for none (units bit kbit mbit gbit)");
	refuse(LINKS3 "[link vm0-vm1]\ndistribution = pareto\n",
	       "bad.ini:13: [link vm0-vm1] distribution: 'pareto' is not uniform or normal");
	refuse(LINKS3 "[link vm0-vm1]\nstate = off\n", "bad.ini:13: [link vm0-vm1] state: 'off' is not up or down");
	refuse(LINKS3 "[link vm0-vm1]\nreorder = yes\n",
	       "bad.ini:13: [link vm0-vm1] reorder: not supported: a link delivers in order (jitter never reorders)");
	refuse(LINKS3 "[link vm0-vm1]\nreorder = maybe\n", "bad.ini:13: [link vm0-vm1] reorder: 'maybe' is not yes or no");
	refuse(LINKS3 "[link vm0-vm1]\nlatency = 1ms\n", "bad.ini:13: [link vm0-vm1] latency: unknown key (delay, jitter, "
	       "distribution, loss, loss_correlation, corrupt, duplicate, rate, state)");
	refuse(LINKS3 "[link vm0-vm1]\nloss = 1%\nloss = 2%\n", "bad.ini:14: [link vm0-vm1] loss: set twice in this section");
	/* The link must exist; a wire by its ends, the segment by its VMs. */
	refuse(LINKS3 "[link vm0-vm9]\n", "bad.ini:12: [link vm0-vm9]: no such link in [links] (a link on the segment is "
	       "named by its two VMs, a wire by its ends, VM:IFNAME or a tunnel's name)");
	refuse("[link vm0:eth1-vm1]\n" LINKS3, "bad.ini:1: [link vm0:eth1-vm1]: no such link in [links] (a link on the "
	       "segment is named by its two VMs, a wire by its ends, VM:IFNAME or a tunnel's name)");
	refuse(LINKS3 "[link vm0:eth2-vm1:eth1]\n", "bad.ini:12: [link vm0:eth2-vm1:eth1]: no such link in [links] (a "
	       "link on the segment is named by its two VMs, a wire by its ends, VM:IFNAME or a tunnel's name)");
	refuse(LINKS3 "[link vm0>vm1]\n", "bad.ini:12: [link vm0>vm1]: no such link in [links] (a link on the segment is "
	       "named by its two VMs, a wire by its ends, VM:IFNAME or a tunnel's name)");
	refuse(LINKS3 "[link t0-vm0]\n", "bad.ini:12: [link t0-vm0]: no such link in [links] (a link on the segment is "
	       "named by its two VMs, a wire by its ends, VM:IFNAME or a tunnel's name)");
	refuse(LINKS3 "[link]\n", "bad.ini:12: [link]: name the link: [link A-B] or [link A->B]");
	/* A direction once. */
	refuse(LINKS3 "[link vm0-vm1]\nloss = 1%\n[link vm1->vm0]\ndelay = 1ms\n",
	       "bad.ini:14: [link vm1->vm0]: vm1->vm0 is set already by the section at line 12");
	refuse("[link vm1:eth1->vm0:eth1]\n" LINKS3 "[link vm0:eth1-vm1:eth1]\n",
	       "bad.ini:13: [link vm0:eth1-vm1:eth1]: vm1:eth1->vm0:eth1 is set already by the section at line 1");
	refuse(LINKS3 "[link vm0-vm1]\n[link vm1-vm0]\n",
	       "bad.ini:13: [link vm1-vm0]: vm0->vm1 is set already by the section at line 12");
	/* Keys are checked where they stand, before the link is looked for. */
	refuse(LINKS3 "[link vm0-vm1]\nseed = 1.5\n",
	       "bad.ini:13: [link vm0-vm1] seed: '1.5' is not a whole number from 0 to 4294967295");
	refuse("[link nowhere]\nloss = 1\n" LINKS3,
	       "bad.ini:2: [link nowhere] loss: '1' is not a percentage from 0% to 100% (e.g. 1%, 0.25%)");
}

static void test_key_names(void **state)
{
	const char *k;
	unsigned i, found = 0;

	for (i = 0; (k = config_key_name("vm", i)); i++)
		found += !strcmp(k, "IFNAME.mac") + !strcmp(k, "IFNAME.address") + !strcmp(k, "IFNAME.mtu") +
			 !strcmp(k, "IFNAME.offloads") + !strcmp(k, "route") + !strcmp(k, "ip_forward") +
			 !strcmp(k, "passthrough_name");
	assert_int_equal(found, 7);
	assert_string_equal(config_key_name("tunnel", 4), "mac");
	assert_string_equal(config_key_name("tunnel", 5), "host");
	assert_null(config_key_name("tunnel", 6));
	assert_string_equal(config_key_name("host", 0), "address");
	assert_null(config_key_name("host", 1));
	assert_null(config_key_name("links", 1));
	assert_string_equal(config_key_name("link", 0), "delay");
	assert_string_equal(config_key_name("link", 9), "seed");
	assert_string_equal(config_key_name("link", 10), "reorder");
	assert_null(config_key_name("link", 11));
	assert_null(config_key_name("nope", 0));
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
		cmocka_unit_test(test_external_guest), cmocka_unit_test(test_guest_keys), cmocka_unit_test(test_identity_keys),
		cmocka_unit_test(test_64_vm_mesh), cmocka_unit_test(test_tunnel),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_wires), cmocka_unit_test(test_wire_ends), cmocka_unit_test(test_wire_refusals),
		cmocka_unit_test(test_routes), cmocka_unit_test(test_routed_example), cmocka_unit_test(test_key_names),
		cmocka_unit_test(test_mesh_wires), cmocka_unit_test(test_auto_wire_addresses),
		cmocka_unit_test(test_auto_routing), cmocka_unit_test(test_link_sections),
		cmocka_unit_test(test_link_refusals),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
