/* What `multivm apply` asks of a running supervisor, worked out from the
 * running config and the new one, before anything is touched: the new
 * config may add VMs and tunnels after the running ones or drop the last
 * ones (each VM that stays keeps its place, so its index, MAC and
 * address, and its files), add and drop links on the eth0 segment and
 * wires (a VM that stays gets or loses a wire NIC: its running VMM is
 * handed it, or restarted to serve it if it cannot take it, the CLI plugs
 * it into QEMU, cli/hotplug.h), reboot a VM for
 * new guest settings (grow_reboot_key), move a VM's processes to its new
 * cpuset, rename its overlay for persist, and change link
 * settings (the CLI writes those); nothing else. Pure: unit-tested in tests/unit/test_grow.c. */
#ifndef MULTIVM_GROW_H
#define MULTIVM_GROW_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "config/diff.h"

struct grow {
	int old_link[MV_LINKS_MAX];	/* per link of new: the same link's index in old, -1: a new one */
	bool gone_link[MV_LINKS_MAX];	/* per link of old: not in new */
	bool restart_vmm[MV_NODES_MAX];	/* a node that stays and gets or loses a link: its running VMM
					 * is handed the change, or restarts (lifecycle.c) */
	bool reboot[MV_NODES_MAX];	/* a VM that stays, its guest rebooted for new settings (its QEMU
					 * restarts; its VMM stays) */
	bool new_vmm[MV_NODES_MAX];	/* a VM that stays with a new MAC: its VMM restarts (restart_vmm too) */
	bool affinity[MV_NODES_MAX];	/* a node that stays, its running processes moved to its new cpuset */
	unsigned first_new, nvms;	/* new VMs: first_new .. nvms - 1 (none: first_new = nvms) */
	unsigned first_gone, old_nvms;	/* VMs that go (the last ones): first_gone .. old_nvms - 1 */
	unsigned new_links, gone_links;
};

/* Whether a VM's setting (config/diff.h's key) is applied at run time by
 * rebooting its guest (config_vm_key_apply: memory, cpus, kernel, initrd,
 * append, image..., address, route...); grow_apply_key: at run time at
 * all (those, cpuset and persist). */
bool grow_reboot_key(const char *key);
bool grow_apply_key(const char *key);

/* 0, or -1 with err saying what the supervisor cannot do at run time. */
int grow_plan(const struct config *old, const struct config *new_, struct grow *g, char *err, size_t errlen);

#endif
