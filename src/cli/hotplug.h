/* Wire NICs plugged into and unplugged from running guests (multivm
 * apply, issue 30): over the VM's QMP socket (common/qmp.h), a NIC that
 * comes is a chardev to its vhost-user socket (which its running VMM was
 * handed, or its restarted VMM made), a vhost-user netdev and a virtio-net-pci device on a free
 * hot-plug port (supervisor/qemu.c); one that goes is device_del'd (its
 * DEVICE_DELETED awaited), then its netdev and chardev removed. The
 * built-in guest then gets the NIC's configured name, MTU and address
 * over the agent channel (cli/agent.h): its init names NICs only at
 * boot. An image guest names it by its own hotplug handling. */
#ifndef MULTIVM_HOTPLUG_H
#define MULTIVM_HOTPLUG_H

#include <stddef.h>

#include "cli/undo.h"
#include "config/config.h"

#define HOTPLUG_MS	20000	/* one NIC's QMP exchange, device_del's wait for the guest included */
#define HOTPLUG_NAME_MS	20000	/* the guest's naming of a plugged NIC, its appearance included */

/* Whether VM i of new_ runs in old too (same name, same place) and is a
 * guest of multivm's QEMU: the one kind whose NICs are hot-plugged. */
int hotplug_vm_kept(const struct config *old, const struct config *new_, unsigned i);

/* Each NIC is a step of its own: pushed on u once done (UNDO_UNPLUG,
 * UNDO_PLUG), so that a failure at one NIC has those before it undone
 * (hotplug_undo), the last first. On failure: -1, step the failed one
 * ("plug vm0:eth1"), err why (QEMU's own text, or the guest's). */

/* Unplugs from each running guest the wire NICs old has and new_ has
 * not. Their socket files stay (their VMMs still serve them, for the
 * undo): hotplug_remove_sockets once those VMMs restarted without them. */
int hotplug_unplug_gone(const char *dir, const struct config *old, const struct config *new_, struct undo_list *u,
			char *step, size_t steplen, char *err, size_t errlen);

/* Plugs into each running guest the wire NICs new_ has and old has not,
 * and names them in the built-in guest; prints "VM:NIC plugged in N ms"
 * (from t0_ms, CLOCK_MONOTONIC) for each. A NIC QEMU took but the guest
 * did not name in HOTPLUG_NAME_MS fails its step (and is on u: the undo
 * unplugs it). */
int hotplug_plug_new(const char *dir, const struct config *old, const struct config *new_, long long t0_ms,
		     struct undo_list *u, char *step, size_t steplen, char *err, size_t errlen);

/* Undoes one step those pushed (old and new_ as they were given): a NIC
 * plugged is unplugged (its socket file removed), one unplugged plugged
 * back and named again. 0, or -1 with step and err set. */
int hotplug_undo(const char *dir, const struct config *old, const struct config *new_, const struct undo_step *s,
		 char *step, size_t steplen, char *err, size_t errlen);

/* Removes the socket files of the wire NICs of VMs running in both from
 * and to that from has and to has not: once their VMMs restarted with
 * to, nothing serves them (and a VM's files are those of its NICs). */
void hotplug_remove_sockets(const char *dir, const struct config *from, const struct config *to);

#endif
