/* Every limit that crosses a module or a process boundary, spelled once.
 * The config parser refuses what exceeds them (with FILE:LINE), the node
 * command line decoder refuses it again, and shared layouts (link headers,
 * stats files, capture rings) are pinned on them. */
#ifndef MULTIVM_LIMITS_H
#define MULTIVM_LIMITS_H

#include <stdbool.h>

/* A name of a VM, tunnel or system: [A-Za-z0-9_-], with its NUL. */
#define MV_NAME_MAX		32
/* Nodes of the link graph (VMs and tunnels together). */
#define MV_NODES_MAX		64
/* A node links to at most every other one; links are bits of a uint64_t. */
#define MV_NODE_LINKS_MAX	(MV_NODES_MAX - 1)
#define MV_LINKS_MAX		(MV_NODES_MAX * (MV_NODES_MAX - 1) / 2)
/* QEMUs the guard (supervisor/lifeline.h) holds: one per VM, and as many
 * again that have exited and are not yet dropped. */
#define MV_GUARD_MAX		(2 * MV_NODES_MAX)

/* A guest interface name (Linux's IFNAMSIZ, with its NUL). */
#define MV_IFNAME_MAX		16
/* Guest NICs of a VM for wires, besides eth0 and the passthrough NIC. */
#define MV_NICS_MAX		8

/* A VM's disk image (image =): at least this big, raw in whole sectors. */
#define MV_IMAGE_MIN_BYTES	(1u << 20)
#define MV_IMAGE_SECTOR		512

/* Entries of each link queue (link_queue_size; the link format's Q). */
#define MV_QSIZE_MIN		64
#define MV_QSIZE_MAX		4096
#define MV_QSIZE_DEFAULT	256
/* A delayed link gets more entries: the bandwidth-delay product of a link
 * this fast (link/room.h), up to MV_QSIZE_MAX (32 MiB of frames each way:
 * 26 ms at this rate). Guest-to-guest TCP over a link measures 2.5-3.6
 * Gbit/s under TCG (bench/impair.sh); a fast link is that, with room. */
#define MV_LINK_FAST_BPS	10000000000ull

/* A guest NIC's MTU. */
#define MV_MTU_MIN		68
#define MV_MTU_MAX		9000
#define MV_MTU_DEFAULT		1500

/* VXLAN (RFC 7348): a 24-bit network identifier, IANA's UDP port. */
#define MV_VNI_MAX		0xffffffu
#define MV_VXLAN_PORT		4789

/* The uids and gids the VMMs, QEMUs and tunnels of a system run as when
 * started by root ([system] uid_range): two per node (its VMM or tunnel,
 * its QEMU), so the default holds the largest system. Above every range
 * useradd allocates from (users, system users, subordinate ids up to
 * 600100000) and systemd's container ranges; scripts/deps.sh reads it
 * from here and checks that no account has an id in it. Node ids beyond
 * 2^31 - 1 are refused (the node command line's limit). */
#define MV_UID_RANGE_DEFAULT	"1900000000-1900000127"
#define MV_IDS_PER_NODE		2

/* A VM's cgroup (supervisor/cgroup.h), where the host offers cgroup v2:
 * memory.max is its memory plus what its QEMU and VMM use beside it
 * (QEMU's heap, libraries, device state, I/O buffers; the VMM's rings
 * and maps), plus under TCG QEMU's translation cache (1 GiB by default
 * on a 64-bit host, filled as the guest runs new code). Measured under
 * TCG, QEMU's anonymous memory beside the guest's (a memfd): 90 MiB for
 * the built-in guest, 690-730 MiB for a booted Debian image. pids.max
 * is the threads of both (QEMU's main, RCU, I/O and up to 64 pool
 * workers, the VMM's few) plus one per vCPU, and bounds a fork bomb. */
#define MV_CG_QEMU_MIB		256
#define MV_CG_TCG_MIB		1024
#define MV_CG_PIDS		128

_Static_assert(MV_NODE_LINKS_MAX <= 64, "a node's links are bits of a uint64_t");

/* A link queue size: a power of two from MV_QSIZE_MIN to MV_QSIZE_MAX. */
static inline bool mv_qsize_ok(unsigned q)
{
	return q >= MV_QSIZE_MIN && q <= MV_QSIZE_MAX && !(q & (q - 1));
}

#endif
