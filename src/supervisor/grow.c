#include "supervisor/grow.h"

#include <stdio.h>
#include <string.h>

#include "common/errbuf.h"

/* A running VM's place and what it is made of must not move: compared
 * field by field is too brittle (line numbers differ); what matters to
 * its processes is what is derived from the config, which the CLI's plan
 * (config_diff) already reported as `~ vm` changes, refused there. Here:
 * the same name and kind at the same index. Its wire NICs may come and go
 * (cli/hotplug.c plugs them), but not its eth0. What a reboot applies
 * (grow_reboot_key) may differ: see reboots(). */
static int same_vm(const struct cfg_vm *o, const struct cfg_vm *n)
{
	if (strcmp(o->name, n->name) || o->tunnel != n->tunnel || o->external != n->external)
		return 0;
	return 1;
}

bool grow_reboot_key(const char *key)
{
	return config_vm_key_apply(key) == CFG_APPLY_REBOOT;
}

bool grow_apply_key(const char *key)
{
	return config_vm_key_apply(key) != CFG_APPLY_STOP;
}

static bool same_routes(const struct cfg_vm *o, const struct cfg_vm *n)
{
	unsigned k;

	if (o->nroutes != n->nroutes)
		return false;
	for (k = 0; k < o->nroutes; k++)
		if (o->route[k].net != n->route[k].net || o->route[k].prefix != n->route[k].prefix ||
		    o->route[k].via != n->route[k].via)
			return false;
	return true;
}

static bool same_addr(const struct cfg_vm *o, const struct cfg_vm *n)
{
	return o->has_addr == n->has_addr && (!o->has_addr || (o->addr == n->addr && o->prefix == n->prefix));
}

/* Whether VM o becomes n by a reboot of its guest: its QEMU's command
 * line (its NIC's MAC; the built-in guest's addresses and routes are on it), its disk
 * and firmware files, its cloud-init seed (supervisor/overlay.h). */
static bool reboots(const struct cfg_vm *o, const struct cfg_vm *n)
{
	return o->memory_mib != n->memory_mib || o->cpus != n->cpus ||
	       (!o->tunnel && memcmp(o->mac, n->mac, sizeof(o->mac))) ||
	       strcmp(o->kernel, n->kernel) || strcmp(o->initrd, n->initrd) || strcmp(o->append, n->append) || strcmp(o->image, n->image) ||
	       o->image_format != n->image_format || o->image_backing != n->image_backing ||
	       o->firmware != n->firmware || o->cloud_init != n->cloud_init || strcmp(o->ssh_key, n->ssh_key) ||
	       strcmp(o->user_data, n->user_data) || !same_addr(o, n) || !same_routes(o, n) ||
	       o->ip_forward != n->ip_forward;
}

static bool same_cpuset(const struct cfg_vm *o, const struct cfg_vm *n)
{
	return !o->cpuset_line == !n->cpuset_line &&
	       (!o->cpuset_line || !memcmp(o->cpuset, n->cpuset, sizeof(o->cpuset)));
}

/* The name of end e of link l of c's wire NIC, "" on the segment or a tunnel's end. */
static const char *wire_nic(const struct config *c, const struct cfg_link *l, int e)
{
	int k = e ? l->nic_b : l->nic_a;

	return l->wire && k >= 0 ? c->vm[e ? l->b : l->a].nic[k].name : "";
}

/* The same link: ends, kind, and a wire's NICs by name (their indices
 * move when another wire of the VM comes or goes). */
static bool same_link(const struct config *oc, const struct cfg_link *o, const struct config *nc,
		      const struct cfg_link *n)
{
	return o->a == n->a && o->b == n->b && o->wire == n->wire && !strcmp(wire_nic(oc, o, 0), wire_nic(nc, n, 0)) &&
	       !strcmp(wire_nic(oc, o, 1), wire_nic(nc, n, 1));
}

/* A wire that comes or goes on a VM that stays: its NIC is plugged or
 * unplugged, unless it is the VM's eth0 (on the root bus, there from boot). */
static int wire_ok(const struct config *c, const struct cfg_link *l, unsigned keep, char *err, size_t errlen)
{
	int e;

	for (e = 0; e < 2 && l->wire; e++)
		if ((e ? l->b : l->a) < keep && !strcmp(wire_nic(c, l, e), "eth0"))
			return errf(err, errlen, "%s: its eth0 (a wire's end) is not plugged or unplugged at run time",
				    c->vm[e ? l->b : l->a].name);
	return 0;
}

int grow_plan(const struct config *old, const struct config *new_, struct grow *g, char *err, size_t errlen)
{
	unsigned i, j, keep = old->nvms < new_->nvms ? old->nvms : new_->nvms;

	memset(g, 0, sizeof(*g));
	if (new_->link_queue_size != old->link_queue_size)
		return errf(err, errlen, "link_queue_size does not change at run time");
	for (i = 0; i < keep; i++)
		if (config_vm_index(new_, old->vm[i].name) < 0)
			return errf(err, errlen, "%s: only the last VMs (in [vm] order) are removed at run time yet",
				   old->vm[i].name);
		else if (!same_vm(&old->vm[i], &new_->vm[i]))
			return errf(err, errlen, "%s: a running VM keeps its place and settings: new VMs come after "
				   "the running ones, in [vm] sections after theirs", old->vm[i].name);
		else if ((g->reboot[i] = reboots(&old->vm[i], &new_->vm[i])) && (old->vm[i].external || old->vm[i].tunnel))
			return errf(err, errlen, "%s: has no guest of multivm's to reboot for its new settings",
				   old->vm[i].name);
		else
			g->affinity[i] = !same_cpuset(&old->vm[i], &new_->vm[i]);
	/* Each tunnel knows every VM's MAC and address here (it claims none
	 * of them): a tunnel that stays restarts when one changes. A node's
	 * new MAC (a tunnel's: the VM behind it): its VMM or tunnel (its
	 * source check) restarts, and each linked peer's is handed the link
	 * again with it. */
	for (i = 0; i < keep; i++) {
		bool mac = memcmp(old->vm[i].mac, new_->vm[i].mac, sizeof(old->vm[i].mac)) ||
			   !old->vm[i].tun_mac_line != !new_->vm[i].tun_mac_line;

		if (!old->vm[i].tunnel && (mac || !same_addr(&old->vm[i], &new_->vm[i])))
			for (j = 0; j < keep; j++)
				g->restart_vmm[j] |= old->vm[j].tunnel;
		if (!mac)
			continue;
		g->new_vmm[i] = g->restart_vmm[i] = true;
		for (j = 0; j < new_->nlinks; j++)
			if (new_->link[j].a == i && new_->link[j].b < keep)
				g->restart_vmm[new_->link[j].b] = true;
			else if (new_->link[j].b == i && new_->link[j].a < keep)
				g->restart_vmm[new_->link[j].a] = true;
	}
	g->first_new = keep;	/* none new when VMs go */
	g->nvms = new_->nvms;
	g->first_gone = keep;
	g->old_nvms = old->nvms;
	for (j = 0; j < new_->nlinks; j++) {
		const struct cfg_link *l = &new_->link[j];

		g->old_link[j] = -1;
		for (i = 0; i < old->nlinks; i++)
			if (l->a < keep && l->b < keep && same_link(old, &old->link[i], new_, l))
				g->old_link[j] = i;
		if (g->old_link[j] >= 0)
			continue;
		if (wire_ok(new_, l, keep, err, errlen) < 0)
			return -1;
		g->new_links++;
		if (l->a < old->nvms)
			g->restart_vmm[l->a] = true;
		if (l->b < old->nvms)
			g->restart_vmm[l->b] = true;
	}
	for (i = 0; i < old->nlinks; i++) {
		const struct cfg_link *l = &old->link[i];

		for (j = 0; j < new_->nlinks && g->old_link[j] != (int)i; j++)
			;
		if (j < new_->nlinks)
			continue;
		if (wire_ok(old, l, keep, err, errlen) < 0)
			return -1;
		g->gone_link[i] = true;
		g->gone_links++;
		/* A node that stays loses it: its VMM restarts without it. */
		if (l->a < keep)
			g->restart_vmm[l->a] = true;
		if (l->b < keep)
			g->restart_vmm[l->b] = true;
	}
	return 0;
}
