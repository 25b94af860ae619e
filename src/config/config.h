/* The system description: VMs, links, passthrough. Parsed with libinih.
 * See multivm.ini.5 for the format. Every error names file, line and key. */
#ifndef MULTIVM_CONFIG_H
#define MULTIVM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/limits.h"
#include "common/linkctl.h"

/* Limits other modules share (names, node count, queue sizes, MTU, VNI)
 * are in common/limits.h; these are the parser's own. */
#define CFG_PATH_MAX	256
#define CFG_ERR_MAX	512
#define CFG_CPUS_MAX	1024	/* cpuset: CPUs 0..CFG_CPUS_MAX-1 (the kernel's CPU_SETSIZE) */
#define CFG_CPUSET_WORDS	(CFG_CPUS_MAX / 64)
#define CFG_ROUTES_MAX	16	/* route = per VM */
#define CFG_HOSTS_MAX	MV_NODES_MAX	/* [host NAME] sections */
#define CFG_VNI_BASE_DEFAULT	4096	/* [system] vni_base: the first VNI of links across hosts */

enum cfg_engine { ENGINE_AUTO, ENGINE_KVM, ENGINE_TCG };

/* A guest NIC of its own for one wire end (`vm0:eth1 = vm1:eth1` in
 * [links]); eth0, the segment's NIC, is not one of these (but for a VM
 * on no segment, whose eth0 may be a wire end). Its keys sit in the VM's
 * section, prefixed with its name: `eth1.address = 10.0.1.1/30`. */
struct cfg_nic {
	char name[MV_IFNAME_MAX];	/* the guest's interface name */
	uint8_t mac[6];			/* given, or 52:54:00:4e:<vm index+1>:<nic index+1> */
	bool has_addr;			/* configured at boot (built-in guest, cloud-init) */
	uint32_t addr;			/* IPv4, host byte order */
	unsigned prefix;
	unsigned mtu;			/* default: the VM's */
	bool offloads;			/* default: the VM's */
	int line;			/* where it was first named */
	int mac_line, addr_line, mtu_line, offloads_line;	/* 0: not given */
};

/* route = NET/PREFIX via GW, for the built-in guest. */
struct cfg_route {
	uint32_t net;			/* IPv4, host byte order, host bits zero */
	unsigned prefix;
	uint32_t via;
	int line;
};
enum cfg_restart { RESTART_ALWAYS, RESTART_NEVER };
/* image_format: auto is decided from the image's header before anything
 * starts (supervisor/image.h); QEMU is always told which. */
enum cfg_image_format { IMAGE_AUTO, IMAGE_QCOW2, IMAGE_RAW };
enum cfg_firmware { FIRMWARE_BIOS, FIRMWARE_UEFI };
#define CFG_APPEND_MAX	1024	/* append = (the kernel's own limit is 2048 with ours) */

struct cfg_vm {
	char name[MV_NAME_MAX];
	uint64_t memory_mib;		/* default 256 */
	unsigned cpus;			/* default 1 */
	uint8_t mac[6];			/* given, or 52:54:00:4d:56:<index+1> */
	bool has_addr;			/* eth0 address configured at boot */
#define CFG_AUTO_NET	0xc0a80100u	/* addressing = auto: the Nth VM without one is 192.168.1.N/24 */
	uint32_t addr;			/* IPv4, host byte order */
	unsigned prefix;		/* 0..32 */
	char passthrough[CFG_PATH_MAX];	/* "" none, "user", "tap:IF", "pci:BDF" */
	enum cfg_restart restart;	/* what to do when its QEMU exits */
	bool external;			/* guest = external: VMM only, another frontend connects */
	bool offloads;			/* checksum and TCP segmentation offloads offered to the guest */
	unsigned mtu;			/* eth0's MTU, MV_MTU_MIN..MV_MTU_MAX */
	int offloads_line, mtu_line;	/* 0: [system]'s value */
	/* cpuset: the host CPUs its QEMU and VMM may run on, bit i for CPU i;
	 * cpuset_line 0: not given, the scheduler places them anywhere. */
	uint64_t cpuset[CFG_CPUSET_WORDS];
	int cpuset_line;
	/* [tunnel NAME]: not a VM but a VXLAN tunnel process (src/tunnel/);
	 * external is set too (no QEMU, no console), mac is unused. */
	bool tunnel;
	uint32_t tun_local, tun_remote;	/* IPv4, host byte order */
	uint32_t tun_vni;		/* 0..2^24-1 */
	unsigned tun_port;		/* UDP, default MV_VXLAN_PORT */
	int tun_port_line;
	int tun_vni_line;
	/* mac = of a tunnel: the one VM behind it (point-to-point, as
	 * hostplan makes them), in mac; linked VMs treat it as that VM. */
	int tun_mac_line;		/* 0: any MAC behind it */
	int line;			/* line of its [vm NAME] header */
	int host;			/* index in config.host, -1: no [host] sections */
	int host_line;			/* 0: the default (the one host) */
	int passthrough_line;
	/* pci passthrough: values the user stated, checked against the
	 * device (multivm pci-info prints the right ones). "" / -1: unset. */
	char pci_mmio[CFG_PATH_MAX];	/* "ADDR/SIZE[,ADDR/SIZE...]" */
	char pci_io[CFG_PATH_MAX];	/* "PORT/SIZE[,...]" */
	int pci_irq;
	int pci_mmio_line, pci_io_line, pci_irq_line;
	/* Wires: a NIC per wire end, in the order of the PCI slots they get
	 * (the order they were named in), so their names are stable. */
	struct cfg_nic nic[MV_NICS_MAX];
	unsigned nnics;
	bool segment;			/* eth0 is the segment's NIC (no wire named eth0) */
	char passthrough_name[MV_IFNAME_MAX];	/* the passthrough NIC's, default "eth1" */
	struct cfg_route route[CFG_ROUTES_MAX];
	unsigned nroutes;
	bool ip_forward;		/* the built-in guest forwards IPv4 between its NICs */
	/* Bring your own guest (issue 27); "" and line 0: not given. Paths
	 * relative to the config file's directory are made so. */
	char kernel[CFG_PATH_MAX], initrd[CFG_PATH_MAX];	/* else [system]'s, the built-in one */
	char append[CFG_APPEND_MAX];		/* after what multivm puts on the command line */
	char image[CFG_PATH_MAX];		/* a disk (virtio-blk) under a qcow2 overlay */
	enum cfg_image_format image_format;
	bool image_backing;			/* a qcow2 image may name a backing file of its own */
	enum cfg_firmware firmware;
	bool persist;				/* the overlay outlives stop */
	uint64_t image_size;			/* its virtual size: set by image_check_all() */
	/* First boot of an image (cloud-init NoCloud, supervisor/seed.h):
	 * the seed multivm writes, or the user's user-data; or none. */
	bool cloud_init;			/* default yes */
	char ssh_key[CFG_PATH_MAX];		/* a public key for the image's default user */
	char user_data[CFG_PATH_MAX];		/* instead of multivm's user-data */
	int cloud_init_line, ssh_key_line, user_data_line;
	int kernel_line, initrd_line, append_line, image_line, image_format_line, image_backing_line;
	int firmware_line, persist_line;
	/* guest = external: who may connect to its socket, a user or a group
	 * (a name or a number); "": the group of [system] user. */
	char frontend_user[MV_NAME_MAX], frontend_group[MV_NAME_MAX];
	int frontend_line;
};

/* A link: on the eth0 segment (nic_a = nic_b = -1), or a wire between two
 * NICs (nic_a, nic_b: indexes in each VM's nic[]; -1 for a tunnel end). */
struct cfg_link {
	unsigned a, b;			/* VM indexes, a < b */
	int line;
	bool wire;
	int nic_a, nic_b;
	/* [link A-B] (issue 29): what each direction does to its frames;
	 * imp[0] a->b, imp[1] b->a; all zero: a plain link. */
	struct link_imp imp[2];
	int imp_line;			/* its section's header; 0: none */
	unsigned seq;			/* its place among the [links] lines (wires: their NICs' order) */
};

/* [host NAME]: one machine of a system spread over several (issue 31);
 * src/config/hostplan.h derives each host's own system. */
struct cfg_host {
	char name[MV_NAME_MAX];
	uint32_t addr;			/* its underlay IPv4 address, host byte order */
	int line, addr_line;
};

struct config {
	char path[CFG_PATH_MAX];	/* file name, or "(built-in)" */
	char name[MV_NAME_MAX];	/* system name, default "multi" */
	enum cfg_engine engine;
	bool auto_addr;			/* addressing = auto (default) | manual */
	char kernel[CFG_PATH_MAX];	/* "" = pick the host's newest kernel */
	unsigned link_queue_size;	/* mv_qsize_ok(), default MV_QSIZE_DEFAULT */
	char user[MV_NAME_MAX];	/* VMMs and QEMUs run as this user when started by root */
	int user_line;			/* 0: the default */
	/* [system] uid_range: ids the nodes and QEMUs get when started by root
	 * (runas.h); uid_line 0: the default MV_UID_RANGE_DEFAULT. */
	uint32_t uid_first, uid_last;
	int uid_line;
	uint64_t log_max;		/* bytes per log file before it is rotated */
	bool offloads;			/* default of every VM's offloads: yes */
	unsigned mtu;			/* default of every VM's mtu: MV_MTU_DEFAULT */
	unsigned nvms;
	struct cfg_vm vm[MV_NODES_MAX];
	unsigned nlinks;
	struct cfg_link link[MV_LINKS_MAX];
	unsigned nhosts;
	struct cfg_host host[CFG_HOSTS_MAX];
	unsigned vni_base;		/* links across hosts: VNI vni_base + k, UDP port tunnel_port */
	unsigned tunnel_port;
	int vni_base_line, tunnel_port_line;	/* 0: the default */
};

/* The embedded default: vm0..vm2, 256 MiB each, full mesh,
 * 192.168.1.1-3/24, vm0 with passthrough = user. */
extern const char config_default_text[];

/* Each returns 0, or -1 with err holding "FILE:LINE: message" (LINE
 * omitted only when the file cannot be opened at all). */
int config_load_file(struct config *c, const char *path, char *err, size_t errlen);
int config_load_string(struct config *c, const char *text, const char *name,
		       char *err, size_t errlen);
int config_load_default(struct config *c, char *err, size_t errlen);

/* Index of the VM called name, or -1. */
int config_vm_index(const struct config *c, const char *name);
/* Whether VMs a and b share a link. */
bool config_linked(const struct config *c, unsigned a, unsigned b);

/* Index of the host called name, or -1. */
int config_host_index(const struct config *c, const char *name);

/* The i-th key a section accepts ("system", "vm", "tunnel", "host" or "links",
 * whose VM-name keys are not listed); NULL past the last or for another
 * section. */
const char *config_key_name(const char *section, unsigned i);

#endif
