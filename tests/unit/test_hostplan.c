/* A system over several hosts (config/hostplan.h): each host's plan for
 * a 4-VM, 2-host system, byte for byte; each plan parses back to the same
 * VMs; the two sides agree on every tunnel; errors are the whole file's,
 * the same whichever host asks; run --host's loader runs what plan
 * writes; and every key the parser takes is one plan carries. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "config/hostplan.h"
#include "node/args.h"
#include "supervisor/spawn.h"

static struct config whole, part[2];
static char err[CFG_ERR_MAX];

#define HOSTS2 "[host a]\naddress = 10.0.0.1\n[host b]\naddress = 10.0.0.2\n"

/* vm0, vm1 on a; vm2 (a MAC of its own), vm3 on b; segment links across
 * (vm0-vm2, vm1-vm3, the latter delayed toward vm3), a wire across. */
static const char four[] =
	"[system]\n"
	"vni_base = 100\n"
	"[host a]\n"
	"address = 10.77.0.1\n"
	"[host b]\n"
	"address = 10.77.0.2\n"
	"[vm vm0]\n"
	"host = a\n"
	"[vm vm1]\n"
	"host = a\n"
	"memory = 512M\n"
	"[vm vm2]\n"
	"host = b\n"
	"mac = 52:54:00:12:34:56\n"
	"[vm vm3]\n"
	"host = b\n"
	"[links]\n"
	"vm0 = vm1 vm2\n"
	"vm1 = vm3\n"
	"vm2 = vm3\n"
	"vm0:eth1 = vm3:eth1\n"
	"[link vm1->vm3]\n"
	"delay = 5ms\n";

static const char plan_a[] =
	"; multivm plan --host a: what host a (10.77.0.1) runs of four.ini\n"
	"[system]\n"
	"name = multi\n"
	"engine = auto\n"
	"addressing = auto\n"
	"link_queue_size = 256\n"
	"user = multivm\n"
	"log_max = 4096K\n"
	"offloads = yes\n"
	"mtu = 1500\n"
	"uid_range = 1900000000-1900000127\n"
	"\n"
	"[vm vm0]\n"
	"memory = 256M\n"
	"cpus = 1\n"
	"restart = always\n"
	"mac = 52:54:00:4d:56:01\n"
	"address = 192.168.1.1/24\n"
	"offloads = yes\n"
	"mtu = 1500\n"
	"ip_forward = no\n"
	"eth1.mac = 52:54:00:4e:01:01\n"
	"eth1.address = 10.0.1.1/30\n"
	"eth1.mtu = 1500\n"
	"eth1.offloads = yes\n"
	"\n"
	"[vm vm1]\n"
	"memory = 512M\n"
	"cpus = 1\n"
	"restart = always\n"
	"mac = 52:54:00:4d:56:02\n"
	"address = 192.168.1.2/24\n"
	"offloads = yes\n"
	"mtu = 1500\n"
	"ip_forward = no\n"
	"\n"
	"[tunnel vx100]\n"
	"local = 10.77.0.1\n"
	"remote = 10.77.0.2\n"
	"vni = 100\n"
	"port = 4789\n"
	"mac = 52:54:00:12:34:56\n"
	"\n"
	"[tunnel vx101]\n"
	"local = 10.77.0.1\n"
	"remote = 10.77.0.2\n"
	"vni = 101\n"
	"port = 4789\n"
	"mac = 52:54:00:4d:56:03\n"
	"\n"
	"[tunnel vx102]\n"
	"local = 10.77.0.1\n"
	"remote = 10.77.0.2\n"
	"vni = 102\n"
	"port = 4789\n"
	"\n"
	"[links]\n"
	"vm0 = vm1\n"
	"vm0 = vx100\n"
	"vm1 = vx101\n"
	"vm0:eth1 = vx102\n"
;

static const char plan_b[] =
	"; multivm plan --host b: what host b (10.77.0.2) runs of four.ini\n"
	"[system]\n"
	"name = multi\n"
	"engine = auto\n"
	"addressing = auto\n"
	"link_queue_size = 256\n"
	"user = multivm\n"
	"log_max = 4096K\n"
	"offloads = yes\n"
	"mtu = 1500\n"
	"uid_range = 1900000000-1900000127\n"
	"\n"
	"[vm vm2]\n"
	"memory = 256M\n"
	"cpus = 1\n"
	"restart = always\n"
	"mac = 52:54:00:12:34:56\n"
	"address = 192.168.1.3/24\n"
	"offloads = yes\n"
	"mtu = 1500\n"
	"ip_forward = no\n"
	"\n"
	"[vm vm3]\n"
	"memory = 256M\n"
	"cpus = 1\n"
	"restart = always\n"
	"mac = 52:54:00:4d:56:03\n"
	"address = 192.168.1.4/24\n"
	"offloads = yes\n"
	"mtu = 1500\n"
	"ip_forward = no\n"
	"eth1.mac = 52:54:00:4e:04:01\n"
	"eth1.address = 10.0.1.2/30\n"
	"eth1.mtu = 1500\n"
	"eth1.offloads = yes\n"
	"\n"
	"[tunnel vx100]\n"
	"local = 10.77.0.2\n"
	"remote = 10.77.0.1\n"
	"vni = 100\n"
	"port = 4789\n"
	"mac = 52:54:00:4d:56:01\n"
	"\n"
	"[tunnel vx101]\n"
	"local = 10.77.0.2\n"
	"remote = 10.77.0.1\n"
	"vni = 101\n"
	"port = 4789\n"
	"mac = 52:54:00:4d:56:02\n"
	"\n"
	"[tunnel vx102]\n"
	"local = 10.77.0.2\n"
	"remote = 10.77.0.1\n"
	"vni = 102\n"
	"port = 4789\n"
	"\n"
	"[links]\n"
	"vx100 = vm2\n"
	"vx101 = vm3\n"
	"vm2 = vm3\n"
	"vm3:eth1 = vx102\n"
	"\n"
	"[link vx101->vm3]\n"
	"delay = 5ms\n"
;

/* Host h's plan of the file text (loaded as name) as a string. */
static char *plan_as(const char *text, const char *name, unsigned h)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (config_load_string(&whole, text, name, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(hostplan_write(&whole, h, f), 0);
	fclose(f);
	return buf;
}

static char *plan(const char *text, unsigned h)
{
	return plan_as(text, "four.ini", h);
}

static void test_plans(void **state)
{
	char *a = plan(four, 0), *b = plan(four, 1);

	assert_string_equal(a, plan_a);
	assert_string_equal(b, plan_b);
	assert_int_equal(whole.nhosts, 2);
	assert_int_equal(whole.vm[2].host, 1);
	assert_int_equal(hostplan_cross(&whole, 0), -1);	/* vm0-vm1 */
	assert_int_equal(hostplan_cross(&whole, 1), 0);	/* vm0-vm2 */
	free(a);
	free(b);
}

/* Each part, parsed as any file, has the whole file's VMs of its host
 * with the same values. */
static void same_vms(const struct config *w, const struct config *p, int h)
{
	unsigned i, j, n = 0;

	for (i = 0; i < w->nvms; i++) {
		const struct cfg_vm *v = &w->vm[i], *q;
		int k;

		if (v->host != h || v->tunnel)
			continue;
		n++;
		k = config_vm_index(p, v->name);
		assert_true(k >= 0);
		q = &p->vm[k];
		assert_false(q->tunnel);
		assert_memory_equal(q->mac, v->mac, 6);
		assert_int_equal(q->has_addr, v->has_addr);
		assert_int_equal(q->addr, v->addr);
		assert_int_equal(q->prefix, v->prefix);
		assert_int_equal(q->memory_mib, v->memory_mib);
		assert_int_equal(q->cpus, v->cpus);
		assert_int_equal(q->mtu, v->mtu);
		assert_int_equal(q->offloads, v->offloads);
		assert_int_equal(q->ip_forward, v->ip_forward);
		assert_int_equal(q->segment, v->segment);
		assert_int_equal(q->nnics, v->nnics);
		for (j = 0; j < v->nnics; j++) {
			assert_string_equal(q->nic[j].name, v->nic[j].name);
			assert_memory_equal(q->nic[j].mac, v->nic[j].mac, 6);
			assert_int_equal(q->nic[j].addr, v->nic[j].addr);
			assert_int_equal(q->nic[j].prefix, v->nic[j].prefix);
			assert_int_equal(q->nic[j].mtu, v->nic[j].mtu);
		}
		assert_string_equal(q->image, v->image);
		assert_string_equal(q->kernel, v->kernel);
		assert_string_equal(q->initrd, v->initrd);
		assert_string_equal(q->append, v->append);
		assert_string_equal(q->ssh_key, v->ssh_key);
		assert_string_equal(q->user_data, v->user_data);
		assert_int_equal(q->image_format, v->image_format);
		assert_int_equal(q->firmware, v->firmware);
		assert_int_equal(q->persist, v->persist);
		assert_int_equal(q->cloud_init, v->cloud_init);
		assert_int_equal(q->nroutes, v->nroutes);
		for (j = 0; j < v->nroutes; j++) {
			assert_int_equal(q->route[j].net, v->route[j].net);
			assert_int_equal(q->route[j].prefix, v->route[j].prefix);
			assert_int_equal(q->route[j].via, v->route[j].via);
		}
	}
	for (i = j = 0; i < p->nvms; i++)
		j += !p->vm[i].tunnel;
	assert_int_equal(j, n);
	assert_int_equal(p->nhosts, 0);
}

/* The other end of tunnel t's one link in p: its node, and NIC (-1: eth0). */
static unsigned tunnel_peer(const struct config *p, unsigned t, int *nic, bool *wire)
{
	unsigned i, n = 0, peer = 0;

	for (i = 0; i < p->nlinks; i++) {
		const struct cfg_link *l = &p->link[i];

		if (l->a != t && l->b != t)
			continue;
		n++;
		peer = l->a == t ? l->b : l->a;
		*nic = l->a == t ? l->nic_b : l->nic_a;
		*wire = l->wire;
	}
	assert_int_equal(n, 1);
	return peer;
}

/* Every tunnel one side has, the other has under the same name with the
 * same VNI and port, addresses mirrored, and together they stand for a
 * link of the whole file between the VMs (NICs) they are linked to. */
static void sides_agree(const struct config *w)
{
	unsigned i, ntun = 0, ncross = 0;

	for (i = 0; i < w->nlinks; i++)
		ncross += hostplan_cross(w, i) >= 0;
	for (i = 0; i < part[0].nvms; i++) {
		const struct cfg_vm *t = &part[0].vm[i], *u;
		unsigned pa, pb, j;
		int k = config_vm_index(&part[1], t->name), na, nb;
		bool wa, wb, found = false;

		if (!t->tunnel)
			continue;
		ntun++;
		assert_true(k >= 0);
		u = &part[1].vm[k];
		assert_true(u->tunnel);
		assert_int_equal(t->tun_vni, u->tun_vni);
		assert_int_equal(t->tun_port, u->tun_port);
		assert_int_equal(t->tun_local, u->tun_remote);
		assert_int_equal(t->tun_remote, u->tun_local);
		assert_int_equal(t->tun_local, w->host[0].addr);
		pa = tunnel_peer(&part[0], i, &na, &wa);
		pb = tunnel_peer(&part[1], k, &nb, &wb);
		assert_int_equal(wa, wb);
		/* a segment link's tunnel has the remote VM's MAC */
		if (!wa) {
			assert_memory_equal(t->mac, part[1].vm[pb].mac, 6);
			assert_memory_equal(u->mac, part[0].vm[pa].mac, 6);
		}
		for (j = 0; j < w->nlinks; j++) {
			const struct cfg_link *l = &w->link[j];
			int x = config_vm_index(w, part[0].vm[pa].name), y = config_vm_index(w, part[1].vm[pb].name);

			if (l->wire != wa || !((int)l->a == x && (int)l->b == y) || hostplan_cross(w, j) < 0)
				continue;
			if (wa && (strcmp(w->vm[x].nic[l->nic_a].name, part[0].vm[pa].nic[na].name) != 0 ||
				   strcmp(w->vm[y].nic[l->nic_b].name, part[1].vm[pb].nic[nb].name) != 0))
				continue;
			assert_int_equal(t->tun_vni, w->vni_base + (unsigned)hostplan_cross(w, j));
			assert_int_equal(t->tun_port, w->tunnel_port);
			found = true;
		}
		assert_true(found);
	}
	assert_int_equal(ntun, ncross);
}

/* Each host's part, read back under the file's name as run --host does. */
static void parse_parts_as(const char *text, const char *name)
{
	unsigned h;

	for (h = 0; h < 2; h++) {
		char *p = plan_as(text, name, h);

		if (config_load_string(&part[h], p, whole.path, err, sizeof(err)) < 0)
			fail_msg("plan for host %u refused: %s\n%s", h, err, p);
		free(p);
		same_vms(&whole, &part[h], h);
	}
}

static void parse_parts(const char *text)
{
	parse_parts_as(text, "four.ini");
}

/* A guest of one's own on host b, its paths relative to the file's
 * directory: the plan gives them so again, and they read back the same. */
static void test_own_guest(void **state)
{
	static const char text[] =
		HOSTS2
		"[vm vm0]\nhost = a\n"
		"[vm vm1]\nhost = b\nmemory = 1G\nimage = disk.qcow2\nimage_format = qcow2\nfirmware = uefi\n"
		"persist = yes\nssh_key = /root/.ssh/id.pub\nkernel = k/vmlinuz\nappend = root=/dev/vda1 ro\n"
		"[links]\nvm0 = vm1\n";
	char *p = plan_as(text, "cfg/sys.ini", 1);

	assert_string_equal(whole.vm[1].image, "cfg/disk.qcow2");
	assert_non_null(strstr(p, "\nimage = disk.qcow2\n"));
	assert_non_null(strstr(p, "\nkernel = k/vmlinuz\n"));
	assert_non_null(strstr(p, "\nssh_key = /root/.ssh/id.pub\n"));
	free(p);
	parse_parts_as(text, "cfg/sys.ini");
	assert_string_equal(part[1].vm[0].image, "cfg/disk.qcow2");
}

static void test_parts_parse_back_and_agree(void **state)
{
	parse_parts(four);
	sides_agree(&whole);
	/* vm3 receives vm1's frames delayed: the tunnel's link into vm3 */
	for (unsigned i = 0; i < part[1].nlinks; i++) {
		const struct cfg_link *l = &part[1].link[i];
		const char *x = part[1].vm[l->a].name, *y = part[1].vm[l->b].name;

		if (!strcmp(x, "vm3") && !strcmp(y, "vx101"))
			assert_int_equal(l->imp[1].delay_us, 5000);
		else
			assert_int_equal(l->imp[0].delay_us + l->imp[1].delay_us, 0);
	}
}

/* The VMM of a VM linked to a point-to-point tunnel (mac =) takes it for
 * that remote VM: unicast for it goes there alone, and only frames from
 * it come out; a wire's tunnel stays a tunnel (any MAC). */
static void test_vmm_links(void **state)
{
	static struct node_args a;
	static struct link_res res[MV_LINKS_MAX];
	struct runas ra = { 0 };
	unsigned k, seen = 0;

	parse_parts(four);
	assert_int_equal(spawn_vmm_args(&a, &part[1], config_vm_index(&part[1], "vm3"), res, &ra, "/tmp"), 0);
	for (k = 0; k < a.nlinks; k++) {
		const struct node_link_arg *l = &a.link[k];

		if (!strcmp(l->peer, "vx101")) {	/* vm1-vm3 */
			assert_false(l->tunnel);
			assert_memory_equal(l->peer_mac, whole.vm[1].mac, 6);
			seen |= 1;
		} else if (!strcmp(l->peer, "vx102")) {	/* vm0:eth1 = vm3:eth1 */
			assert_true(l->tunnel);
			assert_true(l->wire);
			seen |= 2;
		}
	}
	assert_int_equal(seen, 3);
}

/* A routed chain across the hosts, automatic addresses and routes, a
 * wire NIC order to keep, a full mesh on the segment. */
static void test_routed_mesh(void **state)
{
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 9 };
	int k;
	static const char text[] =
		"[system]\n"
		"routing = auto\n"
		"tunnel_port = 5000\n"
		"[host left]\n"
		"address = 192.0.2.1\n"
		"[host right]\n"
		"address = 192.0.2.2\n"
		"[vm r0]\n"
		"host = left\n"
		"[vm r1]\n"
		"host = left\n"
		"cpuset = 0-1,3\n"
		"[vm r2]\n"
		"host = right\n"
		"[vm r3]\n"
		"host = right\n"
		"[tunnel up]\n"
		"host = right\n"
		"local = 192.0.2.2\n"
		"remote = 198.51.100.1\n"
		"vni = 9\n"
		"port = 4000\n"
		"mac = 02:00:00:00:00:09\n"
		"[links]\n"
		"mesh = yes\n"
		"r3 = up\n"
		"r2:eth2 = r3:eth1\n"
		"r0:eth1 = r1:eth1\n"
		"r1:eth2 = r2:eth1\n";

	parse_parts(text);
	sides_agree(&whole);
	assert_int_equal(whole.vni_base, CFG_VNI_BASE_DEFAULT);
	/* a hand-written tunnel stays on its host, as written */
	assert_int_equal(config_vm_index(&part[0], "up"), -1);
	k = config_vm_index(&part[1], "up");
	assert_true(k >= 0);
	assert_memory_equal(part[1].vm[k].mac, mac, 6);
	assert_int_equal(part[1].vm[k].tun_mac_line != 0, 1);
	assert_int_equal(part[1].vm[k].tun_vni, 9);
	assert_int_equal(part[1].vm[k].tun_port, 4000);
	/* r2's NICs keep their order: eth2 (written first), then eth1 */
	assert_string_equal(part[1].vm[0].nic[0].name, "eth2");
	assert_int_equal(part[0].vm[1].cpuset[0], 0xb);
	/* r0 reaches r2's side of r1-r2 through r1 */
	assert_true(whole.vm[0].nroutes > 0);
}

/* refused_as(text, line message): the whole file is refused with
 * exactly "t.ini:" want, by check and by run --host whichever host. */
static void refused_as(const char *text, const char *want)
{
	char path[] = "/tmp/mvhostplan.XXXXXX", e2[CFG_ERR_MAX], full[CFG_ERR_MAX + 32];
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	if (config_load_string(&whole, text, "t.ini", err, sizeof(err)) == 0)
		fail_msg("accepted:\n%s", text);
	snprintf(full, sizeof(full), "t.ini:%s", want);
	assert_string_equal(err, full);
	/* the same whichever host runs it */
	assert_int_equal(hostplan_load(&part[0], path, "a", NULL, err, sizeof(err)), -1);
	assert_int_equal(hostplan_load(&part[1], path, "b", NULL, e2, sizeof(e2)), -1);
	assert_string_equal(err, e2);
	snprintf(full, sizeof(full), "%s:%s", path, want);
	assert_string_equal(err, full);
	unlink(path);
}

#define HOSTS "[host a]\naddress = 10.0.0.1\n[host b]\naddress = 10.0.0.2\n"

static void test_refusals(void **state)
{
	refused_as("[host a]\n[vm vm0]\n", "1: [host a] address: required (the host's address on the network between hosts)");
	refused_as("[host a]\naddress = 10.0.0.1\n[vm vm0]\nhost = b\n", "4: [vm vm0] host: no [host b] in the file");
	refused_as("[host a]\naddress = 10.0.0.1\n[host b]\naddress = 10.0.0.1\n[vm vm0]\nhost = a\n",
		   "4: [host b] address: 10.0.0.1 is host a's already (line 2)");
	refused_as(HOSTS "[vm vm0]\n", "5: [vm vm0]: host required (the file has 2 [host] sections)");
	refused_as("[host a]\naddress = 224.0.0.1\n[vm vm0]\n",
		   "2: [host a] address: '224.0.0.1' is not a unicast IPv4 address (e.g. 10.9.0.1)");
	refused_as("[host A]\naddress = 10.0.0.1\n[vm vm0]\n",
		   "1: [host A]: bad host name (use [a-z][a-z0-9_-]*, at most 31 characters)");
	refused_as("[host a]\naddress = 10.0.0.1\n[host a]\n", "3: [host a]: host declared twice (first at line 1)");
	refused_as("[host a]\naddress = 10.0.0.1\nport = 1\n", "3: [host a] port: unknown key (a host has address)");
	refused_as("[system]\nvni_base = 16777215\n" HOSTS "[vm vm0]\nhost = a\n[vm vm1]\nhost = b\n[vm vm2]\nhost = b\n"
		   "[links]\nmesh = yes\n",
		   "2: [system] vni_base: 2 links cross hosts, VNIs 16777215 to 16777216 pass 16777215");
	refused_as("[system]\nvni_base = 16777216\n", "2: [system] vni_base: '16777216' is not a VXLAN network identifier "
		   "(0 to 16777215)");
	refused_as(HOSTS "[vm vm0]\nhost = a\n[vm vm1]\nhost = b\n[tunnel up]\nhost = a\nlocal = 10.0.0.1\n"
		   "remote = 10.0.0.9\nvni = 1\n[links]\nvm1 = up\n",
		   "15: [links] vm1-up: tunnel up is on host a, vm1 on host b (a [tunnel] links VMs of its own host)");
	refused_as(HOSTS "[vm vm0]\nhost = a\n[vm vm1]\nhost = a\n[tunnel up]\nhost = a\nlocal = 10.0.0.1\n"
		   "remote = 10.0.0.9\nvni = 4097\nport = 4789\n[vm vm2]\nhost = b\n[links]\nmesh = yes\nvm0 = up\n",
		   "13: [tunnel up] vni: VNI 4097 on UDP port 4789 is a link across hosts' (vni_base 4096 to 4097)");
	refused_as(HOSTS "[vm vm0]\nhost = a\n[vm vm1]\nhost = a\n[tunnel up]\nhost = a\nlocal = 0.0.0.0\n"
		   "remote = 10.0.0.9\nvni = 1\nport = 4789\n[vm vm2]\nhost = b\n[links]\nmesh = yes\nvm0 = up\n",
		   "14: [tunnel up] port: UDP port 4789 on any address, the links across hosts' on 10.0.0.1 (tunnel_port)");
	/* On the host's address with a VNI of its own, it shares the port. */
	assert_int_equal(config_load_string(&whole, HOSTS "[vm vm0]\nhost = a\n[vm vm1]\nhost = a\n[tunnel up]\nhost = a\n"
					    "local = 10.0.0.1\nremote = 10.0.0.9\nvni = 1\nport = 4789\n[vm vm2]\n"
					    "host = b\n[links]\nmesh = yes\nvm0 = up\n", "t.ini", err, sizeof(err)), 0);
	refused_as(HOSTS "[vm vm0]\nhost = a\nmtu = 9000\n[vm vm1]\nhost = b\nmtu = 9000\n[links]\nvm0 = vm1\n",
		   "12: [links] vm0-vm1: vm0 has mtu 9000, a link across hosts carries at most 1500");
	refused_as(HOSTS "[vm vx4096]\nhost = a\n[vm vm1]\nhost = b\n[links]\nvx4096 = vm1\n",
		   "5: [vm vx4096]: the name of the tunnel of VNI 4096, a link across hosts (rename it)");
	refused_as(HOSTS "[vm vm0]\nhost = a\n[tunnel up]\nhost = a\nlocal = 10.0.0.1\nremote = 10.0.0.9\nvni = 1\n"
		   "mac = 52:54:00:4d:56:01\n[links]\nvm0 = up\n",
		   "12: [tunnel up] mac: VM vm0's MAC (the VM behind a tunnel is another system's)");
	refused_as(HOSTS "[vm vm0]\nhost = a\n[tunnel up]\nhost = a\nlocal = 10.0.0.1\nremote = 10.0.0.9\nvni = 1\n"
		   "mac = 52:54:00:00:00:01\n[links]\nvm0:eth1 = up\n",
		   "12: [tunnel up] mac: not for a wire's end (line 14; a cable carries any MAC)");
}

static char *write_temp(const char *text, char *path)
{
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* The shipped example: both parts load, four links across. */
static void test_shipped_example(void **state)
{
	assert_int_equal(hostplan_load(&part[0], "configs/two-hosts.ini", "a", NULL, err, sizeof(err)), 0);
	assert_int_equal(hostplan_load(&part[1], "configs/two-hosts.ini", "b", NULL, err, sizeof(err)), 0);
	assert_int_equal(part[0].nvms, 6);	/* vm0, vm1 and four tunnels */
	assert_int_equal(part[1].nvms, 6);
	assert_string_equal(part[1].vm[2].name, "vx4096");
	assert_int_equal(part[1].vm[2].tun_port, 4789);
}

/* run --host loads what plan writes, and nothing else. */
static void test_load(void **state)
{
	char path[] = "/tmp/mvhostplan.XXXXXX", one[] = "/tmp/mvhostplan1.XXXXXX", want[CFG_ERR_MAX];
	char *text = NULL, *p;
	FILE *f;
	size_t len = 0;

	write_temp(four, path);
	assert_int_equal(hostplan_load(&part[1], path, "b", &text, err, sizeof(err)), 0);
	assert_non_null(text);
	assert_int_equal(config_load_file(&whole, path, err, sizeof(err)), 0);
	f = open_memstream(&p, &len);
	assert_int_equal(hostplan_write(&whole, 1, f), 0);
	fclose(f);
	assert_string_equal(text, p);
	free(p);
	free(text);
	assert_int_equal(part[1].nvms, 5);	/* vm2, vm3 and three tunnels */
	assert_int_equal(config_vm_index(&part[1], "vm0"), -1);

	assert_int_equal(hostplan_load(&part[0], path, NULL, NULL, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: the system is spread over hosts a, b: run --host NAME on each", path);
	assert_string_equal(err, want);
	assert_int_equal(hostplan_load(&part[0], path, "c", NULL, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: no [host c] (its hosts: a, b)", path);
	assert_string_equal(err, want);

	write_temp("[vm vm0]\n", one);
	assert_int_equal(hostplan_load(&part[0], one, NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(part[0].nvms, 1);
	assert_int_equal(part[0].vm[0].host, -1);
	assert_int_equal(hostplan_load(&part[0], one, "a", NULL, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: no [host a] (it has no [host] sections: run it without --host)", one);
	assert_string_equal(err, want);
	unlink(path);
	unlink(one);
}

/* Every key a section takes is written by hostplan_write (or is about
 * hosts, which a host's own system has none of): a key added to the
 * parser and not to the plan fails here. */
static void test_every_key_carried(void **state)
{
	static const char *const carried[] = {
		"system name engine addressing kernel link_queue_size user uid_range log_max offloads mtu ",
		"vm memory cpus cpuset mac address passthrough restart pci_mmio pci_io pci_irq guest offloads mtu "
		"frontend_user frontend_group route ip_forward passthrough_name IFNAME.mac IFNAME.address IFNAME.mtu IFNAME.offloads "
		"kernel initrd append image image_format image_backing firmware persist cloud_init ssh_key user_data ",
		"tunnel local remote vni port mac ",
		"link delay jitter distribution loss loss_correlation corrupt duplicate rate state seed reorder ",
	};
	/* about hosts, or resolved into what is written */
	static const char *const whole_only[] = { "system routing vni_base tunnel_port ", "vm host ",
						  "tunnel host ", "link ", "links mesh ", "host address " };
	static const char *const sections[] = { "system", "vm", "tunnel", "link", "links", "host" };
	unsigned s, i, j, bad = 0;
	const char *key;

	for (s = 0; s < sizeof(sections) / sizeof(sections[0]); s++)
		for (i = 0; (key = config_key_name(sections[s], i)); i++) {
			char want[64];
			bool ok = false;

			snprintf(want, sizeof(want), " %s ", key);
			for (j = 0; j < 4 && !ok; j++)
				ok = !strncmp(carried[j], sections[s], strlen(sections[s])) &&
				     carried[j][strlen(sections[s])] == ' ' && strstr(carried[j] + strlen(sections[s]), want);
			for (j = 0; j < 6 && !ok; j++)
				ok = !strncmp(whole_only[j], sections[s], strlen(sections[s])) &&
				     whole_only[j][strlen(sections[s])] == ' ' && strstr(whole_only[j] + strlen(sections[s]), want);
			if (!ok) {
				fprintf(stderr, "[%s] %s: not carried by hostplan_write\n", sections[s], key);
				bad++;
			}
		}
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plans), cmocka_unit_test(test_parts_parse_back_and_agree),
		cmocka_unit_test(test_vmm_links), cmocka_unit_test(test_own_guest), cmocka_unit_test(test_routed_mesh), cmocka_unit_test(test_refusals), cmocka_unit_test(test_load),
		cmocka_unit_test(test_shipped_example),
		cmocka_unit_test(test_every_key_carried),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
