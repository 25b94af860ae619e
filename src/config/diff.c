#include "config/diff.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define VAL_MAX	(CFG_APPEND_MAX + 16)	/* a setting's value as text: append = at most */

struct differ {
	const struct config *o, *n;
	cfg_change_fn fn;
	void *ctx;
	unsigned count;
};

static void emit(struct differ *d, struct cfg_change *c, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void emit(struct differ *d, struct cfg_change *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->line, sizeof(c->line), fmt, ap);
	va_end(ap);
	d->fn(d->ctx, c);
	d->count++;
}

static const char *kind(const struct cfg_vm *v)
{
	return v->tunnel ? "tunnel" : "vm";
}

/* The VM of c called like v, of the same kind, or -1. */
static int same_vm(const struct config *c, const struct cfg_vm *v)
{
	int i = config_vm_index(c, v->name);

	return i >= 0 && c->vm[i].tunnel == v->tunnel ? i : -1;
}

/* ---- a VM's settings as text, compared as text ---- */

static void ip_text(char *out, bool has, uint32_t a, unsigned prefix)
{
	if (!has)
		snprintf(out, VAL_MAX, "none");
	else
		snprintf(out, VAL_MAX, "%u.%u.%u.%u/%u", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255, prefix);
}

static void mac_text(char *out, const uint8_t m[6])
{
	snprintf(out, VAL_MAX, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void cpuset_text(char *out, const struct cfg_vm *v)
{
	size_t at = 0;
	unsigned i, j;

	out[0] = 0;
	if (!v->cpuset_line) {
		snprintf(out, VAL_MAX, "none");
		return;
	}
	for (i = 0; i < CFG_CPUS_MAX && at < VAL_MAX; i = j) {
		j = i + 1;
		if (!(v->cpuset[i / 64] >> (i % 64) & 1))
			continue;
		while (j < CFG_CPUS_MAX && (v->cpuset[j / 64] >> (j % 64) & 1))
			j++;
		at += snprintf(out + at, VAL_MAX - at, j - 1 > i ? "%s%u-%u" : "%s%u", at ? "," : "", i, j - 1);
	}
}

static void routes_text(char *out, const struct cfg_vm *v)
{
	char net[VAL_MAX], via[VAL_MAX];
	size_t at = 0;
	unsigned i;

	snprintf(out, VAL_MAX, "none");
	for (i = 0; i < v->nroutes && at < VAL_MAX; i++) {
		ip_text(net, true, v->route[i].net, v->route[i].prefix);
		ip_text(via, true, v->route[i].via, 32);
		*strrchr(via, '/') = 0;
		at += snprintf(out + at, VAL_MAX - at, "%s%s via %s", at ? ", " : "", net, via);
	}
}

/* Setting `key` of v as text; false if v has no such setting. */
static bool vm_value(const struct cfg_vm *v, const char *key, char *out)
{
	if (!strcmp(key, "memory"))
		snprintf(out, VAL_MAX, "%lluM", (unsigned long long)v->memory_mib);
	else if (!strcmp(key, "cpus"))
		snprintf(out, VAL_MAX, "%u", v->cpus);
	else if (!strcmp(key, "cpuset"))
		cpuset_text(out, v);
	else if (!strcmp(key, "mac") && v->tunnel && !v->tun_mac_line)
		snprintf(out, VAL_MAX, "any");	/* a tunnel's: any VM behind it */
	else if (!strcmp(key, "mac"))
		mac_text(out, v->mac);
	else if (!strcmp(key, "address"))
		ip_text(out, v->has_addr, v->addr, v->prefix);
	else if (!strcmp(key, "passthrough"))
		snprintf(out, VAL_MAX, "%s", *v->passthrough ? v->passthrough : "none");
	else if (!strcmp(key, "passthrough_name"))
		snprintf(out, VAL_MAX, "%s", v->passthrough_name);
	else if (!strcmp(key, "pci_mmio"))
		snprintf(out, VAL_MAX, "%s", *v->pci_mmio ? v->pci_mmio : "none");
	else if (!strcmp(key, "pci_io"))
		snprintf(out, VAL_MAX, "%s", *v->pci_io ? v->pci_io : "none");
	else if (!strcmp(key, "pci_irq"))
		snprintf(out, VAL_MAX, "%d", v->pci_irq);
	else if (!strcmp(key, "guest"))
		snprintf(out, VAL_MAX, "%s", v->external ? "external" : "qemu");
	else if (!strcmp(key, "offloads"))
		snprintf(out, VAL_MAX, "%s", v->offloads ? "yes" : "no");
	else if (!strcmp(key, "mtu"))
		snprintf(out, VAL_MAX, "%u", v->mtu);
	else if (!strcmp(key, "route"))
		routes_text(out, v);
	else if (!strcmp(key, "ip_forward"))
		snprintf(out, VAL_MAX, "%s", v->ip_forward ? "yes" : "no");
	else if (!strcmp(key, "segment"))
		snprintf(out, VAL_MAX, "%s", v->segment ? "yes" : "no");
	else if (!strcmp(key, "kernel"))
		snprintf(out, VAL_MAX, "%s", *v->kernel ? v->kernel : "(the system's)");
	else if (!strcmp(key, "initrd"))
		snprintf(out, VAL_MAX, "%s", *v->initrd ? v->initrd : "(the system's)");
	else if (!strcmp(key, "append"))
		snprintf(out, VAL_MAX, "%s", *v->append ? v->append : "none");
	else if (!strcmp(key, "image"))
		snprintf(out, VAL_MAX, "%s", *v->image ? v->image : "none");
	else if (!strcmp(key, "image_format"))
		snprintf(out, VAL_MAX, "%s", v->image_format == IMAGE_QCOW2 ? "qcow2" : v->image_format == IMAGE_RAW ? "raw" : "auto");
	else if (!strcmp(key, "image_backing"))
		snprintf(out, VAL_MAX, "%s", v->image_backing ? "yes" : "no");
	else if (!strcmp(key, "firmware"))
		snprintf(out, VAL_MAX, "%s", v->firmware == FIRMWARE_UEFI ? "uefi" : "bios");
	else if (!strcmp(key, "persist"))
		snprintf(out, VAL_MAX, "%s", v->persist ? "yes" : "no");
	else if (!strcmp(key, "cloud_init"))
		snprintf(out, VAL_MAX, "%s", v->cloud_init ? "yes" : "no");
	else if (!strcmp(key, "ssh_key"))
		snprintf(out, VAL_MAX, "%s", *v->ssh_key ? v->ssh_key : "none");
	else if (!strcmp(key, "user_data"))
		snprintf(out, VAL_MAX, "%s", *v->user_data ? v->user_data : "none");
	else if (!strcmp(key, "frontend_user"))
		snprintf(out, VAL_MAX, "%s", *v->frontend_user ? v->frontend_user : "none");
	else if (!strcmp(key, "frontend_group"))
		snprintf(out, VAL_MAX, "%s", *v->frontend_group ? v->frontend_group : "none");
	else if (!strcmp(key, "local"))
		ip_text(out, true, v->tun_local, 32);
	else if (!strcmp(key, "remote"))
		ip_text(out, true, v->tun_remote, 32);
	else if (!strcmp(key, "vni"))
		snprintf(out, VAL_MAX, "%u", v->tun_vni);
	else if (!strcmp(key, "port"))
		snprintf(out, VAL_MAX, "%u", v->tun_port);
	else
		return false;
	return true;
}

/* Settings a VM's guest (or a tunnel's process) takes only at its start. */
static const char *const vm_keys[] = {
	"memory", "cpus", "cpuset", "mac", "address", "passthrough", "passthrough_name", "pci_mmio", "pci_io",
	"pci_irq", "guest", "offloads", "mtu", "route", "ip_forward", "segment", "kernel", "initrd", "append",
	"image", "image_format", "image_backing", "firmware", "persist", "cloud_init", "ssh_key", "user_data",
	"frontend_user", "frontend_group",
};

/* How `multivm apply` applies a running VM's setting (multivm(8)): the
 * guest's settings by rebooting it alone (a new MAC also restarts its VMM
 * and hands its links again to its peers' VMMs, supervisor/grow.h); cpuset (affinity) and persist
 * (its overlay's name) on the running processes; the rest, which its VMM
 * or its linked peers' VMMs (or the PCI device) took at their start, not
 * at run time. */
enum cfg_apply config_vm_key_apply(const char *key)
{
	static const char *const reboot[] = {
		"memory", "cpus", "kernel", "initrd", "append", "image", "image_format", "image_backing",
		"firmware", "cloud_init", "ssh_key", "user_data", "address", "route", "ip_forward", "mac",
	};
	size_t i;

	if (key && (!strcmp(key, "cpuset") || !strcmp(key, "persist")))
		return CFG_APPLY_LIVE;
	for (i = 0; key && i < sizeof(reboot) / sizeof(reboot[0]); i++)
		if (!strcmp(key, reboot[i]))
			return CFG_APPLY_REBOOT;
	return CFG_APPLY_STOP;
}

static const char *const apply_words[] = {
	[CFG_APPLY_LIVE] = "", [CFG_APPLY_REBOOT] = " (restart)", [CFG_APPLY_STOP] = " (stop and run)",
};
static const char *const tunnel_keys[] = { "local", "remote", "vni", "port", "cpuset", "mac" };

static void nic_value(const struct cfg_nic *k, const char *key, char *out)
{
	if (!strcmp(key, "mac"))
		mac_text(out, k->mac);
	else if (!strcmp(key, "address"))
		ip_text(out, k->has_addr, k->addr, k->prefix);
	else if (!strcmp(key, "mtu"))
		snprintf(out, VAL_MAX, "%u", k->mtu);
	else
		snprintf(out, VAL_MAX, "%s", k->offloads ? "yes" : "no");
}

static void vm_changes(struct differ *d, int oi, int ni)
{
	static const char *const nic_keys[] = { "mac", "address", "mtu", "offloads" };
	const struct cfg_vm *ov = &d->o->vm[oi], *nv = &d->n->vm[ni];
	const char *const *keys = nv->tunnel ? tunnel_keys : vm_keys;
	size_t nkeys = nv->tunnel ? sizeof(tunnel_keys) / sizeof(*keys) : sizeof(vm_keys) / sizeof(*keys);
	struct cfg_change c = { .kind = CHG_VM_SET, .old_idx = oi, .new_idx = ni };
	char a[VAL_MAX], b[VAL_MAX], key[MV_IFNAME_MAX + 16];
	unsigned i, j, k;

	for (i = 0; i < nkeys; i++) {
		vm_value(ov, keys[i], a);
		vm_value(nv, keys[i], b);
		c.key = keys[i];
		/* A tunnel has no guest: its mac (the VM behind it) restarts
		 * it (no reboot, "(restart)" all the same). */
		c.apply = nv->tunnel && strcmp(keys[i], "cpuset") && strcmp(keys[i], "mac") ? CFG_APPLY_STOP
											    : config_vm_key_apply(keys[i]);
		c.restart = c.apply == CFG_APPLY_REBOOT;
		if (strcmp(a, b))
			emit(d, &c, "~ %s %s %s %s -> %s%s", kind(nv), nv->name, keys[i], a, b, apply_words[c.apply]);
	}
	c.key = NULL;
	c.apply = CFG_APPLY_STOP;	/* a wire NIC's: its VMM and its peer's took them at start */
	c.restart = false;
	/* restart = always|never: the supervisor's own business, no reboot */
	if (ov->restart != nv->restart) {
		struct cfg_change r = c;

		r.restart = false;
		r.apply = CFG_APPLY_LIVE;
		emit(d, &r, "~ vm %s restart %s -> %s", nv->name, ov->restart == RESTART_NEVER ? "never" : "always",
		     nv->restart == RESTART_NEVER ? "never" : "always");
	}
	/* A wire NIC in both: its own settings (one that comes or goes is its wire's line). */
	for (j = 0; j < nv->nnics; j++)
		for (k = 0; k < ov->nnics; k++) {
			if (strcmp(ov->nic[k].name, nv->nic[j].name))
				continue;
			for (i = 0; i < sizeof(nic_keys) / sizeof(*nic_keys); i++) {
				nic_value(&ov->nic[k], nic_keys[i], a);
				nic_value(&nv->nic[j], nic_keys[i], b);
				snprintf(key, sizeof(key), "%s.%s", nv->nic[j].name, nic_keys[i]);
				if (strcmp(a, b))
					emit(d, &c, "~ vm %s %s %s -> %s (stop and run)", nv->name, key, a, b);
			}
		}
}

/* ---- links ---- */

/* End e (0: a, 1: b) of link l of c: "vm1" or "vm1:eth2". */
static void end_text(char *out, size_t len, const struct config *c, const struct cfg_link *l, int e)
{
	const struct cfg_vm *v = &c->vm[e ? l->b : l->a];
	int nic = e ? l->nic_b : l->nic_a;

	if (l->wire && nic >= 0)
		snprintf(out, len, "%s:%s", v->name, v->nic[nic].name);
	else
		snprintf(out, len, "%s", v->name);
}

/* Whether link ol of o is link nl of n: 0 no, 1 yes, 2 yes with its ends
 * the other way round. */
static int same_link(const struct config *o, const struct cfg_link *ol, const struct config *n,
		     const struct cfg_link *nl)
{
	char oa[MV_NAME_MAX + MV_IFNAME_MAX], ob[sizeof(oa)], na[sizeof(oa)], nb[sizeof(oa)];

	if (ol->wire != nl->wire)
		return 0;
	end_text(oa, sizeof(oa), o, ol, 0);
	end_text(ob, sizeof(ob), o, ol, 1);
	end_text(na, sizeof(na), n, nl, 0);
	end_text(nb, sizeof(nb), n, nl, 1);
	/* A node that changed kind (VM, tunnel) is another node: its links too. */
	if (!strcmp(oa, na) && !strcmp(ob, nb))
		return o->vm[ol->a].tunnel == n->vm[nl->a].tunnel && o->vm[ol->b].tunnel == n->vm[nl->b].tunnel ? 1 : 0;
	if (!strcmp(oa, nb) && !strcmp(ob, na))
		return o->vm[ol->a].tunnel == n->vm[nl->b].tunnel && o->vm[ol->b].tunnel == n->vm[nl->a].tunnel ? 2 : 0;
	return 0;
}

/* Link l of c in a plan line: "link vm0-vm2" or "wire vm1:eth2 = vm3:eth1". */
static void link_text(char *out, size_t len, const struct config *c, const struct cfg_link *l)
{
	char a[MV_NAME_MAX + MV_IFNAME_MAX], b[sizeof(a)];

	end_text(a, sizeof(a), c, l, 0);
	end_text(b, sizeof(b), c, l, 1);
	snprintf(out, len, l->wire ? "wire %s = %s" : "link %s-%s", a, b);
}

/* The impairments of direction dir of new link nl against old link ol. */
static void link_imp_changes(struct differ *d, int oi, int ni, int orient)
{
	const struct cfg_link *ol = &d->o->link[oi], *nl = &d->n->link[ni];
	struct cfg_change c = { .kind = CHG_LINK_IMP, .old_idx = oi, .new_idx = ni };
	char a[MV_NAME_MAX + MV_IFNAME_MAX], b[sizeof(a)], was[VAL_MAX], now[VAL_MAX];
	const struct link_imp *o[2] = { &ol->imp[orient == 2], &ol->imp[orient != 2] };
	bool ch[2];
	int x;

	for (x = 0; x < 2; x++)
		ch[x] = memcmp(o[x], &nl->imp[x], sizeof(struct link_imp)) != 0;
	end_text(a, sizeof(a), d->n, nl, 0);
	end_text(b, sizeof(b), d->n, nl, 1);
	/* Both directions alike before and after: one line for the link. */
	if (ch[0] && ch[1] && !memcmp(o[0], o[1], sizeof(*o[0])) && !memcmp(&nl->imp[0], &nl->imp[1], sizeof(nl->imp[0]))) {
		linkctl_format(o[0], was, sizeof(was));
		linkctl_format(&nl->imp[0], now, sizeof(now));
		c.dir = -1;
		emit(d, &c, "~ link %s-%s %s (was: %s)", a, b, *now ? now : "none", *was ? was : "none");
		return;
	}
	for (x = 0; x < 2; x++) {
		if (!ch[x])
			continue;
		linkctl_format(o[x], was, sizeof(was));
		linkctl_format(&nl->imp[x], now, sizeof(now));
		c.dir = x;
		emit(d, &c, "~ link %s->%s %s (was: %s)", x ? b : a, x ? a : b, *now ? now : "none",
		     *was ? was : "none");
	}
}

/* Link i of c is in other (its index there, and orientation), or -1. */
static int find_link(const struct config *c, unsigned i, const struct config *other, int *orient)
{
	unsigned j;

	for (j = 0; j < other->nlinks; j++) {
		*orient = same_link(c, &c->link[i], other, &other->link[j]);
		if (*orient)
			return j;
	}
	return -1;
}

/* ---- [system] ---- */

static void system_changes(struct differ *d)
{
	const struct config *o = d->o, *n = d->n;
	struct cfg_change c = { .kind = CHG_SYSTEM, .old_idx = -1, .new_idx = -1 };
	static const char *const engines[] = { [ENGINE_AUTO] = "auto", [ENGINE_KVM] = "kvm", [ENGINE_TCG] = "tcg" };
	const char *const end = "(stop and run)";

	if (strcmp(o->name, n->name))
		emit(d, &c, "~ system name %s -> %s %s", o->name, n->name, end);
	if (o->engine != n->engine)
		emit(d, &c, "~ system engine %s -> %s %s", engines[o->engine], engines[n->engine], end);
	if (strcmp(o->kernel, n->kernel))
		emit(d, &c, "~ system kernel %s -> %s %s", *o->kernel ? o->kernel : "(the host's)",
		     *n->kernel ? n->kernel : "(the host's)", end);
	if (o->link_queue_size != n->link_queue_size)
		emit(d, &c, "~ system link_queue_size %u -> %u %s", o->link_queue_size, n->link_queue_size, end);
	if (strcmp(o->user, n->user))
		emit(d, &c, "~ system user %s -> %s %s", o->user, n->user, end);
	if (o->log_max != n->log_max)
		emit(d, &c, "~ system log_max %llu -> %llu %s", (unsigned long long)o->log_max,
		     (unsigned long long)n->log_max, end);
}

unsigned config_diff(const struct config *old, const struct config *new_, cfg_change_fn fn, void *ctx)
{
	struct differ d = { .o = old, .n = new_, .fn = fn, .ctx = ctx };
	char what[CFG_CHANGE_LINE_MAX - 8];
	unsigned i;
	int j, orient;

	for (i = 0; i < old->nvms; i++)
		if (same_vm(new_, &old->vm[i]) < 0) {
			struct cfg_change c = { .kind = CHG_VM_DEL, .old_idx = i, .new_idx = -1 };

			emit(&d, &c, "- %s %s", kind(&old->vm[i]), old->vm[i].name);
		}
	for (i = 0; i < new_->nvms; i++)
		if (same_vm(old, &new_->vm[i]) < 0) {
			struct cfg_change c = { .kind = CHG_VM_ADD, .old_idx = -1, .new_idx = i };

			emit(&d, &c, "+ %s %s", kind(&new_->vm[i]), new_->vm[i].name);
		}
	for (i = 0; i < new_->nvms; i++) {
		j = same_vm(old, &new_->vm[i]);
		if (j >= 0)
			vm_changes(&d, j, i);
	}
	for (i = 0; i < old->nlinks; i++)
		if (find_link(old, i, new_, &orient) < 0) {
			struct cfg_change c = { .kind = CHG_LINK_DEL, .old_idx = i, .new_idx = -1 };

			link_text(what, sizeof(what), old, &old->link[i]);
			emit(&d, &c, "- %s", what);	/* a wire's NICs are unplugged (cli/hotplug.h) */
		}
	for (i = 0; i < new_->nlinks; i++)
		if (find_link(new_, i, old, &orient) < 0) {
			struct cfg_change c = { .kind = CHG_LINK_ADD, .old_idx = -1, .new_idx = i };

			link_text(what, sizeof(what), new_, &new_->link[i]);
			emit(&d, &c, "+ %s", what);	/* ... and plugged */
		}
	for (i = 0; i < new_->nlinks; i++) {
		j = find_link(new_, i, old, &orient);
		if (j >= 0)
			link_imp_changes(&d, j, i, orient);
	}
	system_changes(&d);
	return d.count;
}
