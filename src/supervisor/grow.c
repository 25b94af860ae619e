#include "supervisor/grow.h"

#include <stdio.h>
#include <string.h>

#include "common/errbuf.h"

/* A running VM's place and what it is made of must not move: compared
 * field by field is too brittle (line numbers differ); what matters to
 * its processes is what is derived from the config, which the CLI's plan
 * (config_diff) already reported as `~ vm` changes, refused there. Here:
 * the same name and kind at the same index, the same wire NICs. */
static int same_vm(const struct cfg_vm *o, const struct cfg_vm *n)
{
	unsigned k;

	if (strcmp(o->name, n->name) || o->tunnel != n->tunnel || o->nnics != n->nnics ||
	    memcmp(o->mac, n->mac, 6) || o->has_addr != n->has_addr || o->addr != n->addr ||
	    o->memory_mib != n->memory_mib || o->cpus != n->cpus || o->external != n->external)
		return 0;
	for (k = 0; k < o->nnics; k++)
		if (strcmp(o->nic[k].name, n->nic[k].name))
			return 0;
	return 1;
}

static bool same_link(const struct cfg_link *o, const struct cfg_link *n)
{
	return o->a == n->a && o->b == n->b && o->wire == n->wire && o->nic_a == n->nic_a && o->nic_b == n->nic_b;
}

int grow_plan(const struct config *old, const struct config *new_, struct grow *g, char *err, size_t errlen)
{
	unsigned i, j, keep = old->nvms < new_->nvms ? old->nvms : new_->nvms;

	memset(g, 0, sizeof(*g));
	if (new_->link_queue_size != old->link_queue_size)
		return errf(err, errlen, "link_queue_size does not change at run time");
	for (i = 0; i < keep; i++)
		if (!strcmp(old->vm[i].name, new_->vm[i].name) && old->vm[i].nnics != new_->vm[i].nnics)
			return errf(err, errlen, "%s: its wire NICs change: wires are not added or removed at run "
				   "time yet", old->vm[i].name);
		else if (config_vm_index(new_, old->vm[i].name) < 0)
			return errf(err, errlen, "%s: only the last VMs (in [vm] order) are removed at run time yet",
				   old->vm[i].name);
		else if (!same_vm(&old->vm[i], &new_->vm[i]))
			return errf(err, errlen, "%s: a running VM keeps its place and settings: new VMs come after "
				   "the running ones, in [vm] sections after theirs", old->vm[i].name);
	g->first_new = keep;	/* none new when VMs go */
	g->nvms = new_->nvms;
	g->first_gone = keep;
	g->old_nvms = old->nvms;
	for (j = 0; j < new_->nlinks; j++) {
		const struct cfg_link *l = &new_->link[j];

		g->old_link[j] = -1;
		for (i = 0; i < old->nlinks; i++)
			if (l->a < keep && l->b < keep && same_link(&old->link[i], l))
				g->old_link[j] = i;
		if (g->old_link[j] >= 0)
			continue;
		if (l->wire)
			return errf(err, errlen, "wire %s-%s: wires are not added at run time yet", new_->vm[l->a].name,
				   new_->vm[l->b].name);
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
		if (l->wire)
			return errf(err, errlen, "wire %s-%s: wires are not removed at run time yet", old->vm[l->a].name,
				   old->vm[l->b].name);
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
