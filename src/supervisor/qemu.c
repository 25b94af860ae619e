#include "supervisor/qemu.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/agent_proto.h"
#include "common/mac.h"
#include "common/qmp.h"
#include "link/link.h"
#include "link/room.h"
#include "supervisor/state.h"

struct args {
	char *buf;
	size_t len, used;
	char **argv;
	int argc, max;
	bool full;
};

static void add(struct args *a, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (a->full || a->argc >= a->max - 1) {
		a->full = true;
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(a->buf + a->used, a->len - a->used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= a->len - a->used) {
		a->full = true;
		return;
	}
	a->argv[a->argc++] = a->buf + a->used;
	a->used += n + 1;
}

static void mac_str(char out[MAC_STR_LEN], const uint8_t m[ETH_ALEN], uint8_t last_xor)
{
	uint8_t x[ETH_ALEN];

	memcpy(x, m, ETH_ALEN);
	x[ETH_ALEN - 1] ^= last_xor;
	mac_format(out, x);
}

/* The first PCI slot of the hot-plug ports (common/qmp.h: QMP_PORT_ID):
 * MV_NICS_MAX PCIe root ports, one a slot, each with one wire NIC at boot
 * (in the order the config names them: the same port for the same NIC on
 * every run) or empty, for one `multivm apply` plugs (cli/hotplug.c); a
 * NIC on q35's root bus could not be unplugged. */
#define WIRE_SLOT0	0x6
/* An image VM's disk, and its cloud-init seed: past the last wire NIC. */
#define DISK_SLOT	0x10
#define SEED_SLOT	0x11
_Static_assert(WIRE_SLOT0 + MV_NICS_MAX <= DISK_SLOT, "wire NICs stay below the disks");

/* A.B.C.D of a host-order address into out[16]. */
static const char *ip_str(char out[16], uint32_t ip)
{
	snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
	return out;
}

/* What the built-in guest's init needs to name and address its NICs
 * (guest/init): multivm.nic=NAME,MAC[,ADDR/P] for each NIC that multivm
 * names (eth0, the passthrough NIC, each wire NIC), multivm.route=NET/P,GW
 * per route, multivm.fwd=1. Appended to line. Each NIC's MTU is in its
 * config space (host_mtu): the guest's driver sets it. eth0: a wire's NIC
 * for a VM on no segment, else NULL. */
static void guest_nics(char *line, size_t len, const struct qemu_opts *o, const struct cfg_nic *eth0)
{
	const struct cfg_vm *vm = o->vm;
	char mac[MAC_STR_LEN], ip[16], gw[16];
	size_t used = strlen(line);
	unsigned k;

#define APPEND(...) do { if (used < len) used += snprintf(line + used, len - used, __VA_ARGS__); } while (0)
	if (!eth0) {	/* the segment's */
		APPEND(" multivm.nic=eth0,%s", mac_format(mac, vm->mac));
		if (o->cfg->auto_addr && vm->has_addr)
			APPEND(",%s/%u", ip_str(ip, vm->addr), vm->prefix);
	}
	if (vm->passthrough[0] && strncmp(vm->passthrough, "pci:", 4) != 0) {
		mac_str(mac, vm->mac, 0x80);
		APPEND(" multivm.nic=%s,%s", vm->passthrough_name[0] ? vm->passthrough_name : "eth1", mac);
	}
	for (k = 0; k < vm->nnics; k++) {
		const struct cfg_nic *c = &vm->nic[k];

		APPEND(" multivm.nic=%s,%s", c->name, mac_format(mac, c->mac));
		if (c->has_addr && o->cfg->auto_addr)	/* addressing = manual: none */
			APPEND(",%s/%u", ip_str(ip, c->addr), c->prefix);
	}
	for (k = 0; k < vm->nroutes; k++)
		APPEND(" multivm.route=%s/%u,%s", ip_str(ip, vm->route[k].net), vm->route[k].prefix,
		       ip_str(gw, vm->route[k].via));
	if (vm->ip_forward)
		APPEND(" multivm.fwd=1");
#undef APPEND
}

/* One vhost-user virtio-net device, netdev id, on chardev cid at path, at
 * bus (addr slot); the device's own id is the guest's name for the NIC
 * (ifname, as common/qmp.h names it), so that QMP's set_link and
 * device_del find it by that name. */
static void vhost_nic(struct args *a, const struct qemu_opts *o, const char *id, const char *cid, const char *path,
		      const uint8_t *m, unsigned mtu, const char *bus, unsigned slot, const char *ifname)
{
	char mac[MAC_STR_LEN], dev[MV_IFNAME_MAX + 8];

	if (qmp_nic_id(dev, sizeof(dev), ifname) < 0) {
		a->full = true;	/* names were checked by the config: not reached */
		return;
	}
	add(a, "-chardev");
	add(a, "socket,id=%s,path=%s,reconnect=1", cid, path);
	add(a, "-netdev");
	add(a, "vhost-user,id=%s,chardev=%s", id, cid);
	add(a, "-device");
	/* QEMU 7.2 under TCG crashes in vhost-user start-up with MSI-X. */
	/* Modern only: the VMM speaks VIRTIO 1.x headers, not legacy ones. */
	/* host_mtu: the MTU in config space (VIRTIO_NET_F_MTU). No
	 * CTRL_GUEST_OFFLOADS: QEMU would ack the guest's switch of its RX
	 * offloads (ethtool -K rx-gro-hw, XDP) and never tell the VMM, which
	 * would go on sending TSO frames; without it the guest says "fixed". */
	add(a, "virtio-net-pci,netdev=%s,mac=%s,%s%s%saddr=0x%x,disable-legacy=on,host_mtu=%u,ctrl_guest_offloads=off,id=%s%s",
	    id, mac_format(mac, m), bus ? "bus=" : "", bus ? bus : "", bus ? "," : "", slot, mtu, dev, o->kvm ? "" : ",vectors=0");
}

static void passthrough(struct args *a, const struct cfg_vm *vm)
{
	const char *p = vm->passthrough;
	char mac[MAC_STR_LEN];

	/* eth1 gets the VM's MAC with the top bit of the last octet flipped. */
	mac_str(mac, vm->mac, 0x80);
	if (strcmp(p, "user") == 0) {
		add(a, "-netdev");
		add(a, "user,id=pt0");
	} else if (strncmp(p, "tap:", 4) == 0) {
		add(a, "-netdev");
		add(a, "tap,id=pt0,ifname=%s,script=no,downscript=no", p + 4);
	} else if (strncmp(p, "pci:", 4) == 0) {
		add(a, "-device");
		add(a, "vfio-pci,host=%s,addr=0x4", p + 4);
		return;
	} else {
		return;
	}
	add(a, "-device");
	add(a, "virtio-net-pci,netdev=pt0,mac=%s,addr=0x4", mac);
}

/* One -blockdev in QEMU's JSON form: paths need no escaping of commas,
 * and every node's driver is stated (QEMU never probes a format). */
static void add_json(struct args *a, json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;

	if (!s)
		a->full = true;
	else
		add(a, "%s", s);
	free(s);
	json_decref(j);
}

static json_t *file_node(const char *path, bool ro)
{
	return json_pack("{s:s, s:s, s:b}", "driver", "file", "filename", path, "read-only", ro);
}

/* The VM's disk: its overlay (state directory) over the user's image,
 * read-only. The backing node is named here, not taken from the
 * overlay's header; a qcow2 image's own backing file is cut off
 * (backing: null) unless image_backing = yes allowed it. */
static void disk(struct args *a, const struct cfg_vm *vm, const char *overlay)
{
	bool qcow2 = vm->image_format == IMAGE_QCOW2;
	json_t *base = json_pack("{s:s, s:b, s:o}", "driver", qcow2 ? "qcow2" : "raw", "read-only", 1,
				 "file", file_node(vm->image, true));

	if (base && qcow2 && !vm->image_backing)
		json_object_set_new(base, "backing", json_null());
	add(a, "-blockdev");
	add_json(a, base ? json_pack("{s:s, s:s, s:o, s:o}", "driver", "qcow2", "node-name", "disk0",
				     "file", file_node(overlay, false), "backing", base) : NULL);
	add(a, "-device");
	add(a, "virtio-blk-pci,drive=disk0,addr=0x%x,bootindex=1", DISK_SLOT);
}

/* UEFI: Debian's OVMF code, read-only, and the VM's own variables. */
static void uefi(struct args *a, const char *vars)
{
	add(a, "-blockdev");
	add_json(a, json_pack("{s:s, s:s, s:b, s:o}", "driver", "raw", "node-name", "fwcode", "read-only", 1,
			      "file", file_node(OVMF_CODE, true)));
	add(a, "-blockdev");
	add_json(a, json_pack("{s:s, s:s, s:o}", "driver", "raw", "node-name", "fwvars",
			      "file", file_node(vars, false)));
}

/* QEMU is what a guest attacks first: its own seccomp filter, no new
 * processes, and (when started by root) an unprivileged user once the
 * devices are open. QEMU 7.2 makes that drop under its own filter, so
 * elevateprivileges=deny would kill it there; after the drop it has no
 * capabilities and no_new_privs, so it cannot gain them back anyway.
 * VFIO keeps root: it pins and maps guest memory for DMA as it runs. */
static void sandbox(struct args *a, const char *runas)
{
	add(a, "-sandbox");
	add(a, "on,obsolete=deny,elevateprivileges=%s,spawn=deny,resourcecontrol=deny",
	    runas ? "allow" : "deny");
	if (runas) {
		add(a, "-runas");
		add(a, "%s", runas);
	}
}

/* The built-in guest's TCP buffer maxima for a VM with a delayed link
 * (guest/init: multivm.tcpbuf=BYTES): twice its largest link's frame
 * area, so that a window (about half the buffer) fills that room and no
 * more; 0 for a VM whose links are all plain, whose guest keeps its own
 * (6 MiB receive, 4 MiB send: larger would overfill a plain link). */
static unsigned long long guest_tcpbuf(const struct config *c, const struct cfg_vm *vm)
{
	unsigned long long best = 0, b;
	unsigned k, q, me = (unsigned)(vm - c->vm);

	for (k = 0; k < c->nlinks; k++) {
		if (c->link[k].a != me && c->link[k].b != me)
			continue;
		q = link_room_qsize(c->link_queue_size, c->link[k].imp);
		b = 2ull * q * LINK_AREA_PER_ENTRY;
		if (q > c->link_queue_size && b > best)
			best = b;
	}
	return best;
}

int qemu_argv(const struct qemu_opts *o, char *buf, size_t buflen, char **argv, int maxargs)
{
	const struct cfg_vm *vm = o->vm;
	struct args a = { .buf = buf, .len = buflen, .argv = argv, .max = maxargs };
	const char *name = vm->name;
	const struct cfg_nic *eth0 = NULL;
	char addr[40] = "", nics[1536] = "", tcpbuf[32] = "", ip[16], id[MV_IFNAME_MAX + 8], cid[MV_IFNAME_MAX + 8];
	char port[16];
	unsigned long long tb = guest_tcpbuf(o->cfg, vm);
	char con[STATE_PATH_MAX], vhost[STATE_PATH_MAX], agent[STATE_PATH_MAX], qmp[STATE_PATH_MAX];
	char overlay[STATE_PATH_MAX], vars[STATE_PATH_MAX], seed[STATE_PATH_MAX];
	unsigned k, slot = WIRE_SLOT0;
	/* The built-in guest: [system]'s kernel and our initramfs unless the
	 * VM names its own. An image boots by its firmware without kernel. */
	bool image = vm->image[0] != 0;
	const char *kernel = vm->kernel[0] ? vm->kernel : image ? NULL : o->kernel;
	const char *initrd = vm->initrd[0] ? vm->initrd : image ? NULL : o->initrd;

	if (state_file(con, o->state_dir, name, SF_CONSOLE) < 0 ||
	    state_file(vhost, o->state_dir, name, SF_VHOST) < 0 ||
	    state_file(agent, o->state_dir, name, SF_AGENT) < 0 || state_file(qmp, o->state_dir, name, SF_QMP) < 0 ||
	    state_file(overlay, o->state_dir, name, vm->persist ? SF_PERSIST : SF_OVERLAY) < 0 ||
	    state_file(vars, o->state_dir, name, vm->persist ? SF_PERSIST_VARS : SF_VARS) < 0 ||
	    state_file(seed, o->state_dir, name, SF_SEED) < 0)
		return -ENAMETOOLONG;
	if (image && vm->image_format == IMAGE_AUTO)
		return -EINVAL;	/* preflight decides the format: never QEMU */
	for (k = 0; k < vm->nnics; k++)
		if (!strcmp(vm->nic[k].name, "eth0"))
			eth0 = &vm->nic[k];	/* a VM on no segment: eth0 is a wire's */
	if (o->cfg->auto_addr && vm->has_addr && !eth0)
		snprintf(addr, sizeof(addr), " multivm.addr=%s/%u", ip_str(ip, vm->addr), vm->prefix);
	if (vm->nnics || vm->nroutes || vm->ip_forward || (vm->passthrough_name[0] && strcmp(vm->passthrough_name, "eth1")))
		guest_nics(nics, sizeof(nics), o, eth0);
	add(&a, "qemu-system-x86_64");
	add(&a, "-name");
	add(&a, "%s", name);
	add(&a, "-nodefaults");
	add(&a, "-no-user-config");
	add(&a, "-display");
	add(&a, "none");
	add(&a, "-no-reboot");
	add(&a, "-machine");
	add(&a, "q35,accel=%s,memory-backend=mem%s", o->kvm ? "kvm" : "tcg",
	    image && vm->firmware == FIRMWARE_UEFI ? ",pflash0=fwcode,pflash1=fwvars" : "");
	add(&a, "-object");
	add(&a, "memory-backend-memfd,id=mem,size=%lluM,share=on", (unsigned long long)vm->memory_mib);
	add(&a, "-m");
	add(&a, "%lluM", (unsigned long long)vm->memory_mib);
	add(&a, "-smp");
	add(&a, "%u", vm->cpus);
	add(&a, "-cpu");
	/* TCG runs `rep movsb` one byte per step; without ERMS the guest's
	 * copies (every byte of its network traffic) use `rep movsq`, eight
	 * at a time: guest TCP twice as fast (docs/performance.md). */
	add(&a, o->kvm ? "host" : "max,-erms");
	if (kernel) {
		add(&a, "-kernel");
		add(&a, "%s", kernel);
	}
	if (initrd) {
		add(&a, "-initrd");
		add(&a, "%s", initrd);
	}
	/* What multivm adds (multivm.ini(5), append), then the VM's append. */
	if (kernel && image) {
		add(&a, "-append");
		add(&a, "console=ttyS0%s%s", vm->append[0] ? " " : "", vm->append);
	} else if (kernel) {
		add(&a, "-append");
		if (tb)
			snprintf(tcpbuf, sizeof(tcpbuf), " multivm.tcpbuf=%llu", tb);
		add(&a, "console=ttyS0 panic=-1 quiet multivm.name=%s%s%s%s%s%s", name, addr, nics, tcpbuf,
		    vm->append[0] ? " " : "", vm->append);
	}
	if (image && vm->firmware == FIRMWARE_UEFI)
		uefi(&a, vars);
	add(&a, "-chardev");
	add(&a, "socket,id=con,path=%s,server=on,wait=off", con);
	add(&a, "-serial");
	add(&a, "chardev:con");
	vhost_nic(&a, o, "net0", "vu", vhost, eth0 ? eth0->mac : vm->mac, eth0 ? eth0->mtu : vm->mtu, NULL, 0x3,
		  "eth0");
	passthrough(&a, vm);
	for (k = 0; k < MV_NICS_MAX; k++) {	/* the hot-plug ports, one a slot */
		add(&a, "-device");
		add(&a, "pcie-root-port,id=" QMP_PORT_ID ",bus=pcie.0,addr=0x%x,chassis=%u,io-reserve=0", k,
		    WIRE_SLOT0 + k, k + 1);
	}
	for (k = 0; k < vm->nnics; k++) {	/* wire NICs, port by port */
		char path[STATE_PATH_MAX];

		if (&vm->nic[k] == eth0)
			continue;
		if (state_nic_socket(path, o->state_dir, name, vm->nic[k].name) < 0 ||
		    qmp_wire_ids(id, cid, vm->nic[k].name) < 0)
			return -ENAMETOOLONG;
		snprintf(port, sizeof(port), QMP_PORT_ID, slot++ - WIRE_SLOT0);
		vhost_nic(&a, o, id, cid, path, vm->nic[k].mac, vm->nic[k].mtu, port, 0, vm->nic[k].name);
	}
	add(&a, "-device");
	add(&a, "virtio-serial-pci,addr=0x5");
	add(&a, "-chardev");
	add(&a, "socket,id=agent,path=%s,server=on,wait=off", agent);
	add(&a, "-device");
	add(&a, "virtserialport,chardev=agent,name=" AGENT_PORT_NAME);
	if (image)
		disk(&a, vm, overlay);
	if (image && vm->cloud_init) {	/* the NoCloud seed (supervisor/seed.h), read-only */
		add(&a, "-blockdev");
		add_json(&a, json_pack("{s:s, s:s, s:b, s:o}", "driver", "raw", "node-name", "seed", "read-only", 1,
				       "file", file_node(seed, true)));
		add(&a, "-device");
		add(&a, "virtio-blk-pci,drive=seed,addr=0x%x", SEED_SLOT);
	}
	/* The monitor, for the carrier of its wire NICs (set_link: `multivm
	 * link`, and the supervisor when it starts QEMU). */
	add(&a, "-qmp");
	add(&a, "unix:%s,server=on,wait=off", qmp);
	sandbox(&a, o->runas && strncmp(vm->passthrough, "pci:", 4) != 0 ? o->runas : NULL);
	if (a.full)
		return -E2BIG;
	argv[a.argc] = NULL;
	return a.argc;
}

bool kvm_usable(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* /dev/kvm may open and still be unable to run a Linux guest (a nested
 * hypervisor missing CPU features: QEMU aborts, or the kernel hangs before
 * its first line). So boot the guest kernel under KVM, as the VMs would
 * be, and wait for its first line on the serial port. */
bool kvm_boots(const char *kernel, int timeout_ms)
{
	static const char want[] = "Linux version";
	char buf[256 + sizeof(want)];
	size_t have = 0;
	bool ok = false;
	struct timespec t0, t;
	int p[2];
	pid_t pid;

	if (!kvm_usable() || pipe2(p, O_CLOEXEC) < 0)
		return false;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(null, 0);
		dup2(p[1], 1);
		dup2(null, 2);
		execlp("qemu-system-x86_64", "qemu-system-x86_64", "-nodefaults", "-no-user-config",
		       "-display", "none", "-no-reboot", "-machine", "q35,accel=kvm", "-cpu", "host",
		       "-m", "128M", "-kernel", kernel, "-append", "console=ttyS0 earlyprintk=ttyS0 panic=-1",
		       "-serial", "stdio", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (pid > 0 && !ok) {
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };
		long left;
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &t);
		left = timeout_ms - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || poll(&pfd, 1, left) <= 0)
			break;
		n = read(p[0], buf + have, sizeof(buf) - 1 - have);
		if (n <= 0)
			break;	/* QEMU exited: it could not start under KVM */
		have += n;
		buf[have] = 0;
		ok = memmem(buf, have, want, sizeof(want) - 1) != NULL;
		if (have > sizeof(want)) {	/* keep a tail that may hold a split match */
			memmove(buf, buf + have - (sizeof(want) - 1), sizeof(want) - 1);
			have = sizeof(want) - 1;
		}
	}
	close(p[0]);
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	return ok;
}

static bool image_in(const char *dir, char *initrd, size_t len)
{
	snprintf(initrd, len, "%s/initramfs.cpio.gz", dir);
	return access(initrd, R_OK) == 0;
}

int guest_files(const struct config *cfg, char *kernel, char *initrd, size_t len,
		char *err, size_t errlen)
{
	char exe[4096], dir[4096 + 16], *base;
	const char *env = getenv("MULTIVM_GUEST_DIR");
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (env && *env) {
		snprintf(dir, sizeof(dir), "%s", env);
	} else {
		if (n <= 0) {
			snprintf(err, errlen, "cannot find my own executable");
			return -1;
		}
		exe[n] = 0;
		base = dirname(exe);
		snprintf(dir, sizeof(dir), "%s/guest", base);
		if (!image_in(dir, initrd, len))
			snprintf(dir, sizeof(dir), "%s/../guest", base);
	}
	if (!image_in(dir, initrd, len)) {
		snprintf(err, errlen, "no guest image in %s (run `make guest`)", dir);
		return -1;
	}
	if (cfg->kernel[0])
		snprintf(kernel, len, "%s", cfg->kernel);
	else
		snprintf(kernel, len, "%s/vmlinuz", dir);
	if (access(kernel, R_OK) != 0) {
		snprintf(err, errlen, "cannot read kernel %s (run `make guest`)", kernel);
		return -1;
	}
	return 0;
}
