/* Wire NICs plugged into and unplugged from running guests (multivm
 * apply, issue 30): over the VM's QMP socket (common/qmp.h), a NIC that
 * comes is a chardev to its vhost-user socket (which its restarted VMM
 * serves), a vhost-user netdev and a virtio-net-pci device on a free
 * hot-plug port (supervisor/qemu.c); one that goes is device_del'd (its
 * DEVICE_DELETED awaited), then its netdev and chardev removed. The
 * built-in guest then gets the NIC's configured name, MTU and address
 * over the agent channel (cli/agent.h): its init names NICs only at
 * boot. An image guest names it by its own hotplug handling. */
#ifndef MULTIVM_HOTPLUG_H
#define MULTIVM_HOTPLUG_H

#include <stddef.h>

#include "config/config.h"

#define HOTPLUG_MS	20000	/* one NIC's QMP exchange, device_del's wait for the guest included */
#define HOTPLUG_NAME_MS	20000	/* the guest's naming of a plugged NIC, its appearance included */

/* Whether VM i of new_ runs in old too (same name, same place) and is a
 * guest of multivm's QEMU: the one kind whose NICs are hot-plugged. */
int hotplug_vm_kept(const struct config *old, const struct config *new_, unsigned i);

/* Unplugs from each running guest the wire NICs old has and new_ has
 * not. 0, or -1 with err naming the NIC ("vm0:eth1: ..."). */
int hotplug_unplug_gone(const char *dir, const struct config *old, const struct config *new_, char *err,
			size_t errlen);

/* Plugs into each running guest the wire NICs new_ has and old has not,
 * and names them in the built-in guest; prints "VM:NIC plugged in N ms"
 * (from t0_ms, CLOCK_MONOTONIC) for each. 0, or -1 with err naming the NIC. */
int hotplug_plug_new(const char *dir, const struct config *old, const struct config *new_, long long t0_ms,
		     char *err, size_t errlen);

#endif
