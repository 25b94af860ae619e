/* The difference between two validated configs as a plan: what `multivm
 * apply` would change in a running system, one change a line:
 *
 *   - vm vm3                          a VM (or tunnel) that goes
 *   + vm vm3                          one that comes
 *   ~ vm vm1 memory 256M -> 512M (restart)   a setting only a reboot applies
 *   ~ vm vm1 cpuset 0 -> 1            one applied to the running processes
 *   ~ vm vm1 mac ... (stop and run)   one not applied at run time
 *   - link vm0-vm2                    a segment link that goes ...
 *   + wire vm1:eth2 = vm3:eth1        ... a wire that comes
 *   ~ link vm0->vm1 delay=20ms (was: none)   a direction's impairments
 *   ~ system link_queue_size 256 -> 512 (stop and run)   not at run time
 *
 * Pure: it reads the two configs and calls back once per change, in this
 * order: VMs removed, added, changed; links removed, added, changed;
 * system settings. Names, not indexes, say what is the same (a VM's
 * index may differ between the two). */
#ifndef MULTIVM_CONFIG_DIFF_H
#define MULTIVM_CONFIG_DIFF_H

#include <stdbool.h>

#include "config/config.h"

#define CFG_CHANGE_LINE_MAX	(2 * CFG_APPEND_MAX + 256)	/* two values of a setting, and the words around them */

enum cfg_change_kind {
	CHG_VM_DEL,		/* old_idx: a VM of old */
	CHG_VM_ADD,		/* new_idx: a VM of new */
	CHG_VM_SET,		/* a setting of a VM in both: restart = true */
	CHG_LINK_DEL,		/* old_idx: a link of old */
	CHG_LINK_ADD,		/* new_idx: a link of new */
	CHG_LINK_IMP,		/* a direction's impairments: old_idx, new_idx links, dir of new's */
	CHG_SYSTEM,		/* a [system] setting: not at run time */
};

/* How apply applies a running VM's setting (config_vm_key_apply). */
enum cfg_apply {
	CFG_APPLY_LIVE,		/* to its running processes, no reboot */
	CFG_APPLY_REBOOT,	/* its guest reboots alone: "(restart)" */
	CFG_APPLY_STOP,		/* not at run time: "(stop and run)" */
};

/* A VM's setting by its key (as in the plan line: "memory"; NULL, a wire
 * NIC's: CFG_APPLY_STOP). */
enum cfg_apply config_vm_key_apply(const char *key);

struct cfg_change {
	enum cfg_change_kind kind;
	int old_idx, new_idx;	/* VM or link index in old / new; -1: none */
	int dir;		/* CHG_LINK_IMP: 0 new's a->b, 1 b->a */
	bool restart;		/* the VM's guest reboots for it (CHG_VM_SET) */
	enum cfg_apply apply;	/* CHG_VM_SET: how (restart: CFG_APPLY_REBOOT) */
	const char *key;	/* CHG_VM_SET: the VM's setting ("memory"); NULL for a NIC's */
	char line[CFG_CHANGE_LINE_MAX];	/* as printed: "+ vm vm3" */
};

typedef void (*cfg_change_fn)(void *ctx, const struct cfg_change *c);

/* Calls fn once per change from old to new; returns how many. */
unsigned config_diff(const struct config *old, const struct config *new_, cfg_change_fn fn, void *ctx);

#endif
