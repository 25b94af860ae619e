/* A host's share of a system spread over several. See hostplan.h. */
#include "config/hostplan.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/linkctl.h"
#include "common/mac.h"

#define TUN_PREFIX	"vx"	/* a link across hosts is tunnel vx<VNI> on both */

static int say(char *err, size_t errlen, const struct config *c, int line, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errlen, "%s:%d: ", c->path, line);

	if (n >= 0 && (size_t)n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static const char *ip(uint32_t a, char out[INET_ADDRSTRLEN])
{
	struct in_addr n = { htonl(a) };

	return inet_ntop(AF_INET, &n, out, INET_ADDRSTRLEN);
}

int hostplan_cross(const struct config *c, unsigned link)
{
	unsigned i;
	int k = 0;

	if (c->vm[c->link[link].a].host == c->vm[c->link[link].b].host)
		return -1;
	for (i = 0; i < link; i++)
		k += c->vm[c->link[i].a].host != c->vm[c->link[i].b].host;
	return k;
}

/* "vm0", "vm0:eth1": end side (0: a) of link l as [links] names it. */
static const char *end_name(const struct config *c, const struct cfg_link *l, int side, char *buf, size_t len)
{
	const struct cfg_vm *v = &c->vm[side ? l->b : l->a];
	int nic = side ? l->nic_b : l->nic_a;

	if (l->wire && nic >= 0)
		snprintf(buf, len, "%s:%s", v->name, v->nic[nic].name);
	else
		snprintf(buf, len, "%s", v->name);
	return buf;
}

int hostplan_check(const struct config *c, char *err, size_t errlen)
{
	unsigned i, j, ncross = 0, nodes[CFG_HOSTS_MAX] = { 0 };
	char ea[MV_NAME_MAX + MV_IFNAME_MAX + 2], eb[MV_NAME_MAX + MV_IFNAME_MAX + 2];
	int line = c->vni_base_line ? c->vni_base_line : c->host[0].line;

	for (i = 0; i < c->nvms; i++)
		nodes[c->vm[i].host]++;
	for (i = 0; i < c->nlinks; i++) {
		const struct cfg_link *l = &c->link[i];
		const struct cfg_vm *a = &c->vm[l->a], *b = &c->vm[l->b];

		if (a->host == b->host)
			continue;
		end_name(c, l, 0, ea, sizeof(ea));
		end_name(c, l, 1, eb, sizeof(eb));
		if (a->tunnel || b->tunnel) {
			const struct cfg_vm *t = a->tunnel ? a : b, *v = a->tunnel ? b : a;

			return say(err, errlen, c, l->line, "[links] %s-%s: tunnel %s is on host %s, %s on host %s (a "
				   "[tunnel] links VMs of its own host)", ea, eb, t->name, c->host[t->host].name, v->name,
				   c->host[v->host].name);
		}
		/* Its tunnels carry frames of the default MTU (check_link_mtu). */
		for (j = 0; j < 2; j++) {
			const struct cfg_vm *v = j ? b : a;
			int nic = j ? l->nic_b : l->nic_a;
			unsigned mtu = l->wire ? v->nic[nic].mtu : v->mtu;

			if (mtu > MV_MTU_DEFAULT)
				return say(err, errlen, c, l->line, "[links] %s-%s: %s has mtu %u, a link across hosts "
					   "carries at most %u", ea, eb, j ? eb : ea, mtu, MV_MTU_DEFAULT);
		}
		nodes[a->host]++;
		nodes[b->host]++;
		ncross++;
	}
	if (ncross && c->vni_base + (uint64_t)ncross - 1 > MV_VNI_MAX)
		return say(err, errlen, c, line, "[system] vni_base: %u links cross hosts, VNIs %u to %llu pass %u",
			   ncross, c->vni_base, c->vni_base + (unsigned long long)ncross - 1, MV_VNI_MAX);
	for (i = 0; i < c->nhosts; i++)
		if (nodes[i] > MV_NODES_MAX)
			return say(err, errlen, c, c->host[i].line, "[host %s]: %u VMs and tunnels with those of the "
				   "links across hosts, more than %d", c->host[i].name, nodes[i], MV_NODES_MAX);
	for (i = 0; i < c->nvms; i++) {
		const struct cfg_vm *v = &c->vm[i];
		char *end, addr[INET_ADDRSTRLEN];
		unsigned long vni;

		if (strncmp(v->name, TUN_PREFIX, strlen(TUN_PREFIX)) == 0) {
			vni = strtoul(v->name + strlen(TUN_PREFIX), &end, 10);
			if (!*end && end != v->name + strlen(TUN_PREFIX) && ncross && vni >= c->vni_base &&
			    vni < c->vni_base + (unsigned long)ncross)
				return say(err, errlen, c, v->line, "[%s %s]: the name of the tunnel of VNI %lu, a link "
					   "across hosts (rename it)", v->tunnel ? "tunnel" : "vm", v->name, vni);
		}
		/* A [tunnel] beside the derived ones may share their port
		 * (on the host's address, with a VNI of its own). */
		if (!v->tunnel || !ncross || v->tun_port != c->tunnel_port)
			continue;
		if (!v->tun_local)
			return say(err, errlen, c, v->tun_port_line ? v->tun_port_line : v->line, "[tunnel %s] port: "
				   "UDP port %u on any address, the links across hosts' on %s (tunnel_port)", v->name,
				   v->tun_port, ip(c->host[v->host].addr, addr));
		if (v->tun_local == c->host[v->host].addr && v->tun_vni >= c->vni_base &&
		    v->tun_vni < c->vni_base + ncross)
			return say(err, errlen, c, v->tun_vni_line ? v->tun_vni_line : v->line, "[tunnel %s] vni: "
				   "VNI %u on UDP port %u is a link across hosts' (vni_base %u to %u)", v->name, v->tun_vni,
				   v->tun_port, c->vni_base, c->vni_base + ncross - 1);
	}
	return 0;
}

/* The name the link's end side has in host h's system: its own if it
 * is on h, else the tunnel's that stands for it there. */
static const char *local_end(const struct config *c, unsigned li, int side, int h, char *buf, size_t len)
{
	const struct cfg_link *l = &c->link[li];

	if (c->vm[side ? l->b : l->a].host != h) {
		snprintf(buf, len, TUN_PREFIX "%u", c->vni_base + (unsigned)hostplan_cross(c, li));
		return buf;
	}
	return end_name(c, l, side, buf, len);
}

static void write_cpuset(const struct cfg_vm *v, FILE *f)
{
	unsigned i = 0, lo;
	const char *sep = "";

	fprintf(f, "cpuset = ");
	while (i < CFG_CPUS_MAX) {
		if (!(v->cpuset[i / 64] >> (i % 64) & 1)) {
			i++;
			continue;
		}
		for (lo = i; i + 1 < CFG_CPUS_MAX && (v->cpuset[(i + 1) / 64] >> ((i + 1) % 64) & 1); i++)
			;
		if (lo == i)
			fprintf(f, "%s%u", sep, lo);
		else
			fprintf(f, "%s%u-%u", sep, lo, i);
		sep = ",";
		i++;
	}
	fprintf(f, "\n");
}

static const char *yes(bool b)
{
	return b ? "yes" : "no";
}

/* A path key as written: the parser made a relative one relative to the
 * file's directory; the plan is read under the file's name again, so it
 * is given relative to that directory once more. */
static void write_path(const struct config *c, const char *key, const char *path, FILE *f)
{
	const char *slash = strrchr(c->path, '/');
	size_t n = slash ? (size_t)(slash - c->path) + 1 : 0;

	if (path[0] != '/' && n && strncmp(path, c->path, n) == 0)
		path += n;
	fprintf(f, "%s = %s\n", key, path);
}

/* Your own guest (multivm.ini(5), YOUR OWN GUEST): what was given. */
static void write_guest(const struct config *c, const struct cfg_vm *v, FILE *f)
{
	static const char *const formats[] = { [IMAGE_AUTO] = "auto", [IMAGE_QCOW2] = "qcow2", [IMAGE_RAW] = "raw" };

	if (v->kernel_line)
		write_path(c, "kernel", v->kernel, f);
	if (v->initrd_line)
		write_path(c, "initrd", v->initrd, f);
	if (v->append_line)
		fprintf(f, "append = %s\n", v->append);
	if (v->image_line)
		write_path(c, "image", v->image, f);
	if (v->image_format_line)
		fprintf(f, "image_format = %s\n", formats[v->image_format]);
	if (v->image_backing_line)
		fprintf(f, "image_backing = %s\n", v->image_backing ? "yes" : "no");
	if (v->firmware_line)
		fprintf(f, "firmware = %s\n", v->firmware == FIRMWARE_UEFI ? "uefi" : "bios");
	if (v->persist_line)
		fprintf(f, "persist = %s\n", v->persist ? "yes" : "no");
	if (v->cloud_init_line)
		fprintf(f, "cloud_init = %s\n", v->cloud_init ? "yes" : "no");
	if (v->ssh_key_line)
		write_path(c, "ssh_key", v->ssh_key, f);
	if (v->user_data_line)
		write_path(c, "user_data", v->user_data, f);
}

static void write_vm(const struct config *c, const struct cfg_vm *v, FILE *f)
{
	char m[MAC_STR_LEN], a[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];
	unsigned j;

	fprintf(f, "\n[vm %s]\n", v->name);
	if (!v->external)
		fprintf(f, "memory = %lluM\ncpus = %u\nrestart = %s\n", (unsigned long long)v->memory_mib, v->cpus,
			v->restart == RESTART_NEVER ? "never" : "always");
	else
		fprintf(f, "guest = external\n");
	if (v->frontend_user[0])	/* only with external */
		fprintf(f, "frontend_user = %s\n", v->frontend_user);
	if (v->frontend_group[0])
		fprintf(f, "frontend_group = %s\n", v->frontend_group);
	if (v->cpuset_line)
		write_cpuset(v, f);
	if (v->segment) {
		fprintf(f, "mac = %s\n", mac_format(m, v->mac));
		if (v->has_addr)
			fprintf(f, "address = %s/%u\n", ip(v->addr, a), v->prefix);
	}
	if (*v->passthrough)
		fprintf(f, "passthrough = %s\npassthrough_name = %s\n", v->passthrough, v->passthrough_name);
	if (*v->pci_mmio)
		fprintf(f, "pci_mmio = %s\n", v->pci_mmio);
	if (*v->pci_io)
		fprintf(f, "pci_io = %s\n", v->pci_io);
	if (v->pci_irq_line)
		fprintf(f, "pci_irq = %d\n", v->pci_irq);
	fprintf(f, "offloads = %s\nmtu = %u\n", yes(v->offloads), v->mtu);
	if (!v->external) {
		for (j = 0; j < v->nroutes; j++)
			fprintf(f, "route = %s/%u via %s\n", ip(v->route[j].net, a), v->route[j].prefix,
				ip(v->route[j].via, g));
		fprintf(f, "ip_forward = %s\n", yes(v->ip_forward));
		write_guest(c, v, f);
	}
	for (j = 0; j < v->nnics; j++) {
		const struct cfg_nic *n = &v->nic[j];

		fprintf(f, "%s.mac = %s\n", n->name, mac_format(m, n->mac));
		if (n->has_addr)
			fprintf(f, "%s.address = %s/%u\n", n->name, ip(n->addr, a), n->prefix);
		fprintf(f, "%s.mtu = %u\n%s.offloads = %s\n", n->name, n->mtu, n->name, yes(n->offloads));
	}
}

static void write_tunnel(const char *name, uint32_t local, uint32_t remote, unsigned vni, unsigned port, FILE *f)
{
	char a[INET_ADDRSTRLEN];

	fprintf(f, "\n[tunnel %s]\nlocal = %s\n", name, ip(local, a));
	fprintf(f, "remote = %s\nvni = %u\nport = %u\n", ip(remote, a), vni, port);
}

/* Wires in the order their lines were written: each VM's NICs keep
 * their order (their PCI slots). */
static int cmp_seq(const void *x, const void *y)
{
	const struct cfg_link *a = *(const struct cfg_link *const *)x, *b = *(const struct cfg_link *const *)y;

	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void write_links(const struct config *c, int h, FILE *f)
{
	static const struct cfg_link *wires[MV_LINKS_MAX];
	char ea[MV_NAME_MAX + MV_IFNAME_MAX + 2], eb[MV_NAME_MAX + MV_IFNAME_MAX + 2];
	unsigned i, nw = 0;
	bool any = false;

	for (i = 0; i < c->nlinks; i++) {
		const struct cfg_link *l = &c->link[i];

		if (c->vm[l->a].host != h && c->vm[l->b].host != h)
			continue;
		if (!any)
			fprintf(f, "\n[links]\n");
		any = true;
		if (l->wire) {
			wires[nw++] = l;
			continue;
		}
		fprintf(f, "%s = %s\n", local_end(c, i, 0, h, ea, sizeof(ea)), local_end(c, i, 1, h, eb, sizeof(eb)));
	}
	qsort(wires, nw, sizeof(wires[0]), cmp_seq);
	for (i = 0; i < nw; i++) {
		unsigned li = wires[i] - c->link;
		/* A VM's end first: "VM:IF = VM:IF" or "VM:IF = TUNNEL". */
		int first = !strchr(local_end(c, li, 0, h, ea, sizeof(ea)), ':');

		fprintf(f, "%s = %s\n", local_end(c, li, first, h, ea, sizeof(ea)),
			local_end(c, li, !first, h, eb, sizeof(eb)));
	}
}

/* [link S->R] for what this host receives: the receiver applies it. */
static void write_link_settings(const struct config *c, int h, FILE *f)
{
	char ea[MV_NAME_MAX + MV_IFNAME_MAX + 2], eb[MV_NAME_MAX + MV_IFNAME_MAX + 2], words[512];
	unsigned i;
	int d;

	for (i = 0; i < c->nlinks; i++) {
		const struct cfg_link *l = &c->link[i];

		for (d = 0; d < 2; d++) {
			char *w, *save = NULL;

			if (c->vm[d ? l->a : l->b].host != h)
				continue;
			linkctl_format(&l->imp[d], words, sizeof(words));
			if (!*words)
				continue;
			fprintf(f, "\n[link %s->%s]\n", local_end(c, i, d, h, ea, sizeof(ea)),
				local_end(c, i, !d, h, eb, sizeof(eb)));
			for (w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
				char *eq = strchr(w, '=');

				if (eq)
					*eq = 0;
				fprintf(f, "%s = %s\n", w, eq ? eq + 1 : "");
			}
		}
	}
}

int hostplan_write(const struct config *c, unsigned host, FILE *f)
{
	const struct cfg_host *me = &c->host[host];
	char a[INET_ADDRSTRLEN];
	unsigned i;

	if (host >= c->nhosts)
		return -1;
	fprintf(f, "; multivm plan --host %s: what host %s (%s) runs of %s\n", me->name, me->name,
		ip(me->addr, a), c->path);
	fprintf(f, "[system]\nname = %s\nengine = %s\naddressing = %s\n", c->name,
		c->engine == ENGINE_KVM ? "kvm" : c->engine == ENGINE_TCG ? "tcg" : "auto",
		c->auto_addr ? "auto" : "manual");
	if (*c->kernel)
		fprintf(f, "kernel = %s\n", c->kernel);
	fprintf(f, "link_queue_size = %u\nuser = %s\nlog_max = %lluK\noffloads = %s\nmtu = %u\n", c->link_queue_size,
		c->user, (unsigned long long)(c->log_max / 1024), yes(c->offloads), c->mtu);
	fprintf(f, "uid_range = %u-%u\n", (unsigned)c->uid_first, (unsigned)c->uid_last);
	for (i = 0; i < c->nvms; i++) {
		const struct cfg_vm *v = &c->vm[i];

		if (v->host != (int)host)
			continue;
		if (v->tunnel) {
			char m[MAC_STR_LEN];

			write_tunnel(v->name, v->tun_local, v->tun_remote, v->tun_vni, v->tun_port, f);
			if (v->tun_mac_line)
				fprintf(f, "mac = %s\n", mac_format(m, v->mac));
		} else {
			write_vm(c, v, f);
		}
	}
	for (i = 0; i < c->nlinks; i++) {
		const struct cfg_link *l = &c->link[i];
		int k = hostplan_cross(c, i), other;
		char name[MV_NAME_MAX], mac[MAC_STR_LEN];

		if (k < 0 || (c->vm[l->a].host != (int)host && c->vm[l->b].host != (int)host))
			continue;
		other = c->vm[l->a].host == (int)host ? c->vm[l->b].host : c->vm[l->a].host;
		snprintf(name, sizeof(name), TUN_PREFIX "%u", c->vni_base + (unsigned)k);
		write_tunnel(name, me->addr, c->host[other].addr, c->vni_base + k, c->tunnel_port, f);
		if (!l->wire)	/* the one VM behind it: unicast for it goes this way only */
			fprintf(f, "mac = %s\n", mac_format(mac, c->vm[other == c->vm[l->a].host ? l->a : l->b].mac));
	}
	write_links(c, host, f);
	write_link_settings(c, host, f);
	return ferror(f) ? -1 : 0;
}

static void host_list(const struct config *c, char *out, size_t len)
{
	unsigned i;
	size_t n = 0;

	out[0] = 0;
	for (i = 0; i < c->nhosts && n < len; i++)
		n += snprintf(out + n, len - n, "%s%s", i ? ", " : "", c->host[i].name);
}

int hostplan_one_host(const struct config *c, const char *path, char *err, size_t errlen)
{
	char hosts[256];

	if (!c->nhosts)
		return 0;
	host_list(c, hosts, sizeof(hosts));
	snprintf(err, errlen, "%s: the system is spread over hosts %s: run --host NAME on each", path, hosts);
	return -1;
}

int hostplan_load(struct config *out, const char *path, const char *host, char **text, char *err, size_t errlen)
{
	static struct config whole;	/* large: off the stack */
	char hosts[256];
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int h, rc;

	if (text)
		*text = NULL;
	if (config_load_file(&whole, path, err, errlen) < 0)
		return -1;
	host_list(&whole, hosts, sizeof(hosts));
	if (!host) {
		if (hostplan_one_host(&whole, path, err, errlen) < 0)
			return -1;
		memcpy(out, &whole, sizeof(whole));
		return 0;
	}
	h = config_host_index(&whole, host);
	if (h < 0) {
		if (whole.nhosts)
			snprintf(err, errlen, "%s: no [host %s] (its hosts: %s)", path, host, hosts);
		else
			snprintf(err, errlen, "%s: no [host %s] (it has no [host] sections: run it without --host)",
				 path, host);
		return -1;
	}
	f = open_memstream(&buf, &len);
	if (!f) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	rc = hostplan_write(&whole, h, f);
	if (fclose(f) != 0 || rc < 0) {
		free(buf);
		snprintf(err, errlen, "%s: cannot write host %s's plan", path, host);
		return -1;
	}
	/* Under the file's name: relative paths are relative to its directory. */
	rc = config_load_string(out, buf, path, err, errlen);
	if (rc == 0 && text)
		*text = buf;
	else
		free(buf);
	return rc;
}
