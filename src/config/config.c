/* Config parsing with libinih. inih hands us keys without line numbers
 * and never reports a section without keys, so our line reader counts
 * lines and opens sections itself; inih parses the key = value lines. */
#include "config/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ifname.h"
#include "common/mac.h"
#include "common/pciaddr.h"
#include "config/hostplan.h"

#define MAX_PENDING_LINKS MV_LINKS_MAX

enum section { SEC_NONE, SEC_SYSTEM, SEC_VM, SEC_LINKS, SEC_TUNNEL, SEC_LINK, SEC_HOST };

/* A [link A-B] or [link A->B] section: its settings, kept until finish()
 * finds the link (it may come before [links]). */
#define LINK_SPEC_MAX	(2 * (MV_NAME_MAX + MV_IFNAME_MAX) + 8)
#define MAX_LINK_SECTIONS (2 * MV_LINKS_MAX)	/* a section per direction at most */
struct link_section {
	char spec[LINK_SPEC_MAX];	/* "A-B", "A->B", as written */
	int line;
	struct link_imp imp;
};

/* A [links] line's link: a bare one on the segment, or a wire whose VM
 * ends name an interface (ifa, ifb; "" for a tunnel end). */
struct pending_link {
	char a[MV_NAME_MAX], b[MV_NAME_MAX];
	char ifa[MV_IFNAME_MAX], ifb[MV_IFNAME_MAX];
	char key[MV_NAME_MAX + MV_IFNAME_MAX];	/* the line's key as written: "vm0", "vm0:eth1" */
	bool wire;
	int line;
	int ia, ib, nic_a, nic_b;		/* resolved: node indexes, NIC indexes (-1: none) */
};

/* IFNAME.KEY lines of a [vm NAME] section, kept until [links] has made the
 * NICs (it may come later in the file). */
struct nic_keys {
	char name[MV_IFNAME_MAX];
	char first_key[MV_IFNAME_MAX + 16];	/* the first such key, for its message */
	int line;				/* and its line */
	struct cfg_nic v;			/* the values, with their *_line */
};

struct parser {
	struct config *c;
	const char *file;
	int line;			/* line inih is working on */
	bool mid_line;			/* the last piece read did not end a line */
	bool failed;
	char *err;
	size_t errlen;

	FILE *f;			/* source: a file ... */
	const char *s;			/* ... or a string */

	enum section sec;
	char sec_name[LINK_SPEC_MAX + 16];	/* as written, for messages */
	int vm;				/* current VM index in SEC_VM */
	unsigned seen;			/* keys set in the current section (bit per key) */
	int mac_line[MV_NODES_MAX], addr_line[MV_NODES_MAX];
	bool mac_given[MV_NODES_MAX];
	/* The first key that configures the VM's QEMU (memory, cpus, ...):
	 * an error with guest = external, which starts none. */
	int qemu_key_line[MV_NODES_MAX];
	const char *qemu_key[MV_NODES_MAX];

	struct pending_link pl[MAX_PENDING_LINKS];
	unsigned npl;
	int mesh_line;			/* mesh = yes (segment): its line, 0: none */
	int mesh_wires_line;		/* mesh = wires */
	int routing_line;		/* routing = auto: its line, 0: none */
	int ip_forward_line[MV_NODES_MAX];	/* ip_forward given: 0: not */
	/* [links] lines as inih will split them: a key line whose first
	 * delimiter is ':' ("vm0:eth1 = vm1:eth1" reaches the handler as
	 * vm0 = "eth1 = vm1:eth1"), the key before it, and indented lines that
	 * continue the key line above. */
	bool links_colon, links_cont, links_key_seen;
	char links_raw_key[MV_NAME_MAX + 8];
	int last_wire;				/* pending index of the last key line's wire, -1: none */
	/* Wires: NIC keys per VM, where each NIC was made (pending index), the
	 * line of a wire naming VM:eth0, each VM's place among the VMs. */
	struct nic_keys nk[MV_NODES_MAX][MV_NICS_MAX];
	unsigned nnk[MV_NODES_MAX];
	struct nic_keys *cur_nk;		/* the one an IFNAME.KEY line sets */
	int nic_pl[MV_NODES_MAX][MV_NICS_MAX];
	int eth0_wire[MV_NODES_MAX];		/* pending index + 1, 0: none */
	int passthrough_name_line[MV_NODES_MAX];
	unsigned ordinal[MV_NODES_MAX];
	unsigned node_links[MV_NODES_MAX];
	/* [tunnel NAME]: the required keys given (bit 0 local, 1 remote, 2 vni). */
	unsigned tun_keys[MV_NODES_MAX];
	int system_line, links_line;	/* where those sections opened, 0: not yet */
	/* [link ...] sections; the current one; per link and direction the
	 * line of the section that set it. */
	struct link_section ls[MAX_LINK_SECTIONS];
	unsigned nls;
	struct link_section *cur_ls;
	int dir_line[MV_LINKS_MAX][2];
	/* host = NAME of each VM and tunnel, resolved once every [host] is read. */
	char host_of[MV_NODES_MAX][MV_NAME_MAX];
	int host;			/* current host index in SEC_HOST, -1: a bad header */
};

static void fail(struct parser *p, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->failed)
		return;		/* the first error is the one worth reading */
	p->failed = true;
	n = snprintf(p->err, p->errlen, "%s:%d: ", p->file, line);
	if (n < 0 || (size_t)n >= p->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - n, fmt, ap);
	va_end(ap);
}

static bool valid_name(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n >= MV_NAME_MAX || !islower((unsigned char)s[0]))
		return false;
	for (i = 1; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

static void new_vm(struct parser *p, const char *kind, const char *name)
{
	struct config *c = p->c;
	struct cfg_vm *v;
	unsigned i;

	if (!valid_name(name)) {
		fail(p, p->line, "[%s %s]: bad %s name (use [a-z][a-z0-9_-]*, at most %d characters)",
		     kind, name, strcmp(kind, "vm") ? kind : "VM", MV_NAME_MAX - 1);
		return;
	}
	for (i = 0; i < c->nvms; i++)
		if (strcmp(c->vm[i].name, name) == 0) {
			fail(p, p->line, "[%s %s]: %s declared twice (first at line %d)", kind, name,
			     c->vm[i].tunnel ? "tunnel" : "VM", c->vm[i].line);
			return;
		}
	if (c->nvms >= MV_NODES_MAX) {
		fail(p, p->line, "[%s %s]: too many VMs and tunnels (at most %d together)", kind, name, MV_NODES_MAX);
		return;
	}
	v = &c->vm[c->nvms];
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->memory_mib = 256;
	v->cpus = 1;
	v->restart = RESTART_ALWAYS;
	v->pci_irq = -1;
	v->cloud_init = true;
	v->line = p->line;
	snprintf(v->passthrough_name, sizeof(v->passthrough_name), "eth1");
	if (strcmp(kind, "tunnel") == 0) {
		v->tunnel = v->external = true;
		v->tun_port = MV_VXLAN_PORT;
	} else {
		v->segment = true;	/* until a wire names its eth0 */
	}
	p->vm = c->nvms++;
}

/* [system] and [links] may appear once: a second one would silently
 * restart the per-section check for repeated keys. */
static void once(struct parser *p, int *line, const char *name)
{
	if (*line)
		fail(p, p->line, "[%s]: section repeated (first at line %d)", name, *line);
	else
		*line = p->line;
}

/* Called by our reader for each "[...]" line, before inih sees it. */
static void new_link_section(struct parser *p, const char *spec);

/* [host NAME]: a machine of a system spread over several. */
static void new_host(struct parser *p, const char *name)
{
	struct config *c = p->c;
	int i;

	p->host = -1;
	if (!valid_name(name)) {
		fail(p, p->line, "[host %s]: bad host name (use [a-z][a-z0-9_-]*, at most %d characters)", name,
		     MV_NAME_MAX - 1);
		return;
	}
	i = config_host_index(c, name);
	if (i >= 0) {
		fail(p, p->line, "[host %s]: host declared twice (first at line %d)", name, c->host[i].line);
		return;
	}
	if (c->nhosts >= CFG_HOSTS_MAX) {
		fail(p, p->line, "[host %s]: more than %d hosts", name, CFG_HOSTS_MAX);
		return;
	}
	p->host = c->nhosts++;
	memset(&c->host[p->host], 0, sizeof(c->host[0]));
	snprintf(c->host[p->host].name, sizeof(c->host[0].name), "%s", name);
	c->host[p->host].line = p->line;
}

static void open_section(struct parser *p, const char *line)
{
	char buf[256], *name, *end;

	snprintf(buf, sizeof(buf), "%s", line);
	name = trim(buf + 1);
	end = strchr(name, ']');
	if (!end) {
		fail(p, p->line, "section header without ']'");
		return;
	}
	*end = 0;
	name = trim(name);
	snprintf(p->sec_name, sizeof(p->sec_name), "%s", name);
	p->seen = 0;
	p->links_key_seen = false;
	p->last_wire = -1;
	if (strcmp(name, "system") == 0) {
		p->sec = SEC_SYSTEM;
		once(p, &p->system_line, name);
	} else if (strcmp(name, "links") == 0) {
		p->sec = SEC_LINKS;
		once(p, &p->links_line, name);
	} else if (strncmp(name, "vm", 2) == 0 && isspace((unsigned char)name[2])) {
		p->sec = SEC_VM;
		new_vm(p, "vm", trim(name + 3));
	} else if (strncmp(name, "tunnel", 6) == 0 && isspace((unsigned char)name[6])) {
		p->sec = SEC_TUNNEL;
		new_vm(p, "tunnel", trim(name + 7));
	} else if (strncmp(name, "host", 4) == 0 && isspace((unsigned char)name[4])) {
		p->sec = SEC_HOST;
		new_host(p, trim(name + 5));
	} else if (strncmp(name, "link", 4) == 0 && (isspace((unsigned char)name[4]) || !name[4])) {
		p->sec = SEC_LINK;
		new_link_section(p, trim(name + 4));
	} else {
		p->sec = SEC_NONE;
		fail(p, p->line, "[%s]: unknown section (expected [system], [vm NAME], [tunnel NAME], [host NAME], "
		     "[links] or [link A-B])", name);
	}
}

/* What inih will make of a [links] line (t: its first non-blank): an
 * indented line after a key line continues it; else a key line, split at
 * its first '=' or ':' (before an inline comment). */
static void links_line(struct parser *p, const char *line, const char *t)
{
	const char *s;
	size_t n;

	p->links_colon = p->links_cont = false;
	if (!*t || *t == '\n' || *t == '\r' || *t == ';' || *t == '#')
		return;
	if (t > line && p->links_key_seen) {
		p->links_cont = true;
		return;
	}
	p->links_key_seen = true;
	for (s = t; *s && *s != '=' && *s != ':'; s++)
		if (*s == ';' && s > t && isspace((unsigned char)s[-1]))
			return;
	if (*s != ':')
		return;
	p->links_colon = true;
	while (s > t && isspace((unsigned char)s[-1]))
		s--;
	n = s - t < (ptrdiff_t)sizeof(p->links_raw_key) ? (size_t)(s - t) : sizeof(p->links_raw_key) - 1;
	memcpy(p->links_raw_key, t, n);
	p->links_raw_key[n] = 0;
}

static char *reader(char *str, int num, void *stream)
{
	struct parser *p = stream;
	char *r;

	if (p->f) {
		r = fgets(str, num, p->f);
	} else {
		size_t n = strcspn(p->s, "\n");

		if (!*p->s)
			return NULL;
		if (p->s[n] == '\n')
			n++;
		if (n > (size_t)num - 1)
			n = num - 1;
		memcpy(str, p->s, n);
		str[n] = 0;
		p->s += n;
		r = str;
	}
	if (r) {
		const char *t = r;
		bool start = !p->mid_line;

		/* inih reads long lines in pieces: count lines, not pieces. */
		size_t len = strlen(r);

		p->mid_line = len && r[len - 1] != '\n';
		if (!start)
			return r;
		p->line++;
		/* A full buffer without a newline: inih would take the rest of
		 * the line for a line of its own. Say what is wrong instead. */
		if (p->mid_line && len == (size_t)num - 1)
			fail(p, p->line, "line longer than %d characters", num - 2);
		while (*t == ' ' || *t == '\t')
			t++;
		if (*t == '[')
			open_section(p, t);
		else if (p->sec == SEC_LINKS)
			links_line(p, r, t);
	}
	return r;
}

/* ---- values ---- */

static bool parse_u64(const char *s, uint64_t *out, char **end)
{
	errno = 0;
	if (!isdigit((unsigned char)*s))
		return false;
	*out = strtoull(s, end, 10);
	return errno == 0;
}

static bool parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	uint64_t v;
	char *end;

	if (!parse_u64(s, &v, &end) || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* "256M", "1G", "65536K", or a bare number of MiB. */
/* N, NK, NM or NG (no suffix: MiB), in KiB. */
static bool parse_size_kib(const char *s, uint64_t *kib)
{
	uint64_t v;
	char *end;

	if (!parse_u64(s, &v, &end) || v > (1ULL << 40))
		return false;
	if (!*end || ((*end == 'M' || *end == 'm') && !end[1]))
		*kib = v * 1024;
	else if ((*end == 'G' || *end == 'g') && !end[1])
		*kib = v * 1024 * 1024;
	else if ((*end == 'K' || *end == 'k') && !end[1])
		*kib = v;
	else
		return false;
	return true;
}

static bool parse_size_mib(const char *s, uint64_t *mib)
{
	uint64_t kib;

	if (!parse_size_kib(s, &kib) || kib % 1024)
		return false;
	*mib = kib / 1024;
	return true;
}

static bool parse_cidr(const char *s, uint32_t *addr, unsigned *prefix)
{
	char buf[32], *slash;
	struct in_addr a;

	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash)
		return false;
	*slash = 0;
	if (inet_pton(AF_INET, buf, &a) != 1 || !parse_uint(slash + 1, 0, 32, prefix))
		return false;
	*addr = ntohl(a.s_addr);
	return true;
}

static bool valid_passthrough(const char *s)
{
	struct pci_bdf bdf;
	size_t i, len;

	if (strcmp(s, "user") == 0)
		return true;
	if (strncmp(s, "tap:", 4) == 0) {
		len = strlen(s + 4);
		if (len == 0 || len > 15)
			return false;
		for (i = 0; i < len; i++) {
			char ch = s[4 + i];

			if (!isalnum((unsigned char)ch) && ch != '_' && ch != '.' && ch != '-')
				return false;
		}
		return true;
	}
	if (strncmp(s, "pci:", 4) == 0)
		return pci_bdf_parse(s + 4, &bdf) == 0;
	return false;
}

/* ---- keys ---- */

/* A key of a section. Its index in the section's table is its bit in
 * parser.seen: set once per section. */
struct key {
	const char *name;
	void (*set)(struct parser *p, const char *k, const char *v);
	bool qemu;	/* configures the QEMU multivm starts for the VM */
};

#define NKEYS(t) (sizeof(t) / sizeof((t)[0]))

/* Marks key bit as seen in this section; a repeat is an error. */
static bool first_time(struct parser *p, unsigned bit, const char *key)
{
	if (p->seen & (1u << bit)) {
		fail(p, p->line, "[%s] %s: set twice in this section", p->sec_name, key);
		return false;
	}
	p->seen |= 1u << bit;
	return true;
}

static const struct key *find_key(const struct key *keys, size_t n, const char *k)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(k, keys[i].name) == 0)
			return &keys[i];
	return NULL;
}

static void vm_route(struct parser *p, const char *k, const char *v);

/* Sets key k of the current section from keys[]; false if k is not one. */
static bool set_key(struct parser *p, const struct key *keys, size_t n, const char *k, const char *v)
{
	const struct key *key = find_key(keys, n, k);

	if (!key)
		return false;
	if (key->set == vm_route || first_time(p, key - keys, k))	/* route may repeat */
		key->set(p, k, v);
	return true;
}

/* [system] */

static void sys_name(struct parser *p, const char *k, const char *v)
{
	if (!valid_name(v))
		fail(p, p->line, "[system] name: '%s' is not a valid name ([a-z][a-z0-9_-]*)", v);
	else
		snprintf(p->c->name, sizeof(p->c->name), "%s", v);
}

static void sys_engine(struct parser *p, const char *k, const char *v)
{
	struct config *c = p->c;

	if (strcmp(v, "auto") == 0)
		c->engine = ENGINE_AUTO;
	else if (strcmp(v, "kvm") == 0)
		c->engine = ENGINE_KVM;
	else if (strcmp(v, "tcg") == 0)
		c->engine = ENGINE_TCG;
	else
		fail(p, p->line, "[system] engine: '%s' is not auto, kvm or tcg", v);
}

static void sys_addressing(struct parser *p, const char *k, const char *v)
{
	if (strcmp(v, "auto") == 0 || strcmp(v, "manual") == 0)
		p->c->auto_addr = strcmp(v, "auto") == 0;
	else
		fail(p, p->line, "[system] addressing: '%s' is not auto or manual", v);
}

static void sys_kernel(struct parser *p, const char *k, const char *v)
{
	struct config *c = p->c;

	if (strlen(v) >= sizeof(c->kernel))
		fail(p, p->line, "[system] kernel: path too long");
	else
		snprintf(c->kernel, sizeof(c->kernel), "%s", v);
}

static void sys_link_queue_size(struct parser *p, const char *k, const char *v)
{
	unsigned q;

	if (!parse_uint(v, MV_QSIZE_MIN, MV_QSIZE_MAX, &q) || !mv_qsize_ok(q))
		fail(p, p->line, "[system] link_queue_size: '%s' is not a power of two from %d to %d", v,
		     MV_QSIZE_MIN, MV_QSIZE_MAX);
	else
		p->c->link_queue_size = q;
}

static void sys_user(struct parser *p, const char *k, const char *v)
{
	struct config *c = p->c;

	if (!valid_name(v))
		fail(p, p->line, "[system] user: '%s' is not a valid user name ([a-z][a-z0-9_-]*)", v);
	else
		snprintf(c->user, sizeof(c->user), "%s", v);
	c->user_line = p->line;
}

/* START-END: ids from 1 to 2^31 - 1 (the node command line's), START <= END. */
static bool parse_uid_range(const char *v, uint32_t *first, uint32_t *last)
{
	char buf[32], *dash;
	unsigned a, b;

	if (strlen(v) >= sizeof(buf))
		return false;
	snprintf(buf, sizeof(buf), "%s", v);
	dash = strchr(buf, '-');
	if (!dash)
		return false;
	*dash = 0;
	if (!parse_uint(buf, 1, 0x7fffffffu, &a) || !parse_uint(dash + 1, 1, 0x7fffffffu, &b) || a > b)
		return false;
	*first = a;
	*last = b;
	return true;
}

static void sys_uid_range(struct parser *p, const char *k, const char *v)
{
	if (!parse_uid_range(v, &p->c->uid_first, &p->c->uid_last))
		fail(p, p->line, "[system] uid_range: '%s' is not START-END, ids from 1 to 2147483647 "
		     "(e.g. " MV_UID_RANGE_DEFAULT ")", v);
	p->c->uid_line = p->line;
}

static void sys_log_max(struct parser *p, const char *k, const char *v)
{
	uint64_t kib;

	if (!parse_size_kib(v, &kib) || kib < 4 || kib > 1024 * 1024)
		fail(p, p->line, "[system] log_max: '%s' is not a size from 4K to 1G", v);
	else
		p->c->log_max = kib * 1024;
}

static bool parse_yes_no(const char *v, bool *out)
{
	if (strcmp(v, "yes") && strcmp(v, "no"))
		return false;
	*out = strcmp(v, "yes") == 0;
	return true;
}

static void sys_offloads(struct parser *p, const char *k, const char *v)
{
	if (!parse_yes_no(v, &p->c->offloads))
		fail(p, p->line, "[system] offloads: '%s' is not yes or no", v);
}

static void sys_mtu(struct parser *p, const char *k, const char *v)
{
	if (!parse_uint(v, MV_MTU_MIN, MV_MTU_MAX, &p->c->mtu))
		fail(p, p->line, "[system] mtu: '%s' is not a number from %d to %d", v, MV_MTU_MIN, MV_MTU_MAX);
}

/* routing = auto: forwarding and static routes over the wires (auto_routes). */
static void sys_routing(struct parser *p, const char *k, const char *v)
{
	if (strcmp(v, "auto") == 0)
		p->routing_line = p->line;
	else if (strcmp(v, "none") != 0)
		fail(p, p->line, "[system] routing: '%s' is not auto or none", v);
}

/* vni_base, tunnel_port: where the VNIs of links across hosts begin, and
 * their one UDP port (config/hostplan.h); that the VNIs fit is checked
 * once the links are known. */
static void sys_vni_base(struct parser *p, const char *k, const char *v)
{
	if (!parse_uint(v, 0, MV_VNI_MAX, &p->c->vni_base))
		fail(p, p->line, "[system] vni_base: '%s' is not a VXLAN network identifier (0 to %u)", v, MV_VNI_MAX);
	p->c->vni_base_line = p->line;
}

static void sys_tunnel_port(struct parser *p, const char *k, const char *v)
{
	if (!parse_uint(v, 1, 65535, &p->c->tunnel_port))
		fail(p, p->line, "[system] tunnel_port: '%s' is not a UDP port (1 to 65535)", v);
	p->c->tunnel_port_line = p->line;
}

static const struct key system_keys[] = {
	{ "name", sys_name, false },
	{ "engine", sys_engine, false },
	{ "addressing", sys_addressing, false },
	{ "kernel", sys_kernel, false },
	{ "link_queue_size", sys_link_queue_size, false },
	{ "user", sys_user, false },
	{ "uid_range", sys_uid_range, false },
	{ "log_max", sys_log_max, false },
	{ "offloads", sys_offloads, false },
	{ "mtu", sys_mtu, false },
	{ "routing", sys_routing, false },
	{ "vni_base", sys_vni_base, false },
	{ "tunnel_port", sys_tunnel_port, false },
};

/* [vm NAME] */

static void vm_memory(struct parser *p, const char *k, const char *v)
{
	struct cfg_vm *vm = &p->c->vm[p->vm];

	if (!parse_size_mib(v, &vm->memory_mib) || vm->memory_mib < 64 || vm->memory_mib > 65536)
		fail(p, p->line, "[%s] memory: '%s' is not a size from 64M to 64G (use e.g. 256M or 1G)",
		     p->sec_name, v);
}

static void vm_cpus(struct parser *p, const char *k, const char *v)
{
	if (!parse_uint(v, 1, 64, &p->c->vm[p->vm].cpus))
		fail(p, p->line, "[%s] cpus: '%s' is not a number from 1 to 64", p->sec_name, v);
}

/* "0-3,6": CPU numbers and ranges, comma-separated, each below
 * CFG_CPUS_MAX; at least one CPU. */
static bool parse_cpulist(const char *s, uint64_t *set)
{
	memset(set, 0, CFG_CPUSET_WORDS * sizeof(*set));
	for (;;) {
		uint64_t lo, hi;
		char *end;

		if (!parse_u64(s, &lo, &end))
			return false;
		hi = lo;
		if (*end == '-' && !parse_u64(end + 1, &hi, &end))
			return false;
		if (lo > hi || hi >= CFG_CPUS_MAX)
			return false;
		for (; lo <= hi; lo++)
			set[lo / 64] |= 1ULL << (lo % 64);
		if (!*end)
			return true;
		if (*end != ',')
			return false;
		s = end + 1;
	}
}

static void vm_cpuset(struct parser *p, const char *k, const char *v)
{
	struct cfg_vm *vm = &p->c->vm[p->vm];

	if (!parse_cpulist(v, vm->cpuset))
		fail(p, p->line, "[%s] cpuset: '%s' is not a list of CPUs from 0 to %d (e.g. 1 or 0-3,6)",
		     p->sec_name, v, CFG_CPUS_MAX - 1);
	vm->cpuset_line = p->line;
}

/* mac and IFNAME.mac: unicast, not zero. */
static void parse_mac_key(struct parser *p, const char *k, const char *v, uint8_t mac[6])
{
	const char *s = p->sec_name;

	if (mac_parse(v, mac) < 0)
		fail(p, p->line, "[%s] %s: '%s' is not a MAC address (aa:bb:cc:dd:ee:ff)", s, k, v);
	else if (mac[0] & 1)
		fail(p, p->line, "[%s] %s: '%s' is a multicast address", s, k, v);
	else if (!(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]))
		fail(p, p->line, "[%s] %s: the all-zero address is not usable", s, k);
}

static void vm_mac(struct parser *p, const char *k, const char *v)
{
	parse_mac_key(p, k, v, p->c->vm[p->vm].mac);
	p->mac_given[p->vm] = true;
	p->mac_line[p->vm] = p->line;
}

static void vm_address(struct parser *p, const char *k, const char *v)
{
	struct cfg_vm *vm = &p->c->vm[p->vm];

	if (!parse_cidr(v, &vm->addr, &vm->prefix))
		fail(p, p->line, "[%s] address: '%s' is not an IPv4 address with prefix (e.g. 192.168.1.1/24)",
		     p->sec_name, v);
	vm->has_addr = true;
	p->addr_line[p->vm] = p->line;
}

static void vm_passthrough(struct parser *p, const char *k, const char *v)
{
	struct cfg_vm *vm = &p->c->vm[p->vm];

	if (!valid_passthrough(v))
		fail(p, p->line, "[%s] passthrough: '%s' is not user, tap:IFNAME or pci:DDDD:BB:DD.F", p->sec_name, v);
	else
		snprintf(vm->passthrough, sizeof(vm->passthrough), "%s", v);
	vm->passthrough_line = p->line;
}

static void vm_restart(struct parser *p, const char *k, const char *v)
{
	struct cfg_vm *vm = &p->c->vm[p->vm];

	if (strcmp(v, "always") == 0)
		vm->restart = RESTART_ALWAYS;
	else if (strcmp(v, "never") == 0)
		vm->restart = RESTART_NEVER;
	else
		fail(p, p->line, "[%s] restart: '%s' is not always or never", p->sec_name, v);
}

/* pci_mmio and pci_io */
static void vm_pci_ranges(struct parser *p, const char *k, const char *v)
{
	struct cfg_vm *vm = &p->c->vm[p->vm];
	bool io = strcmp(k, "pci_io") == 0;

	if (addr_ranges_parse(v, NULL, 0) < 0 || strlen(v) >= sizeof(vm->pci_io))
		fail(p, p->line, "[%s] %s: '%s' is not a list of ADDRESS/SIZE (e.g. 0xfebc0000/0x20000)",
		     p->sec_name, k, v);
	snprintf(io ? vm->pci_io : vm->pci_mmio, sizeof(vm->pci_io), "%s", v);
	*(io ? &vm->pci_io_line : &vm->pci_mmio_line) = p->line;
}

static void vm_pci_irq(struct parser *p, const char *k, const char *v)
{
	struct cfg_vm *vm = &p->c->vm[p->vm];
	unsigned irq = 0;

	if (!parse_uint(v, 0, 1023, &irq))
		fail(p, p->line, "[%s] pci_irq: '%s' is not an IRQ number", p->sec_name, v);
	vm->pci_irq = irq;
	vm->pci_irq_line = p->line;
}

static void vm_guest(struct parser *p, const char *k, const char *v)
{
	if (strcmp(v, "multivm") == 0 || strcmp(v, "external") == 0)
		p->c->vm[p->vm].external = strcmp(v, "external") == 0;
	else
		fail(p, p->line, "[%s] guest: '%s' is not multivm or external", p->sec_name, v);
}

/* frontend_user, frontend_group: a name or a number. */
static void vm_frontend(struct parser *p, const char *k, const char *v)
{
	struct cfg_vm *vm = &p->c->vm[p->vm];
	bool user = strcmp(k, "frontend_user") == 0;
	unsigned id;

	if (!valid_name(v) && !parse_uint(v, 1, 0x7fffffffu, &id))
		fail(p, p->line, "[%s] %s: '%s' is not a %s name ([a-z][a-z0-9_-]*) or a number from 1",
		     p->sec_name, k, v, user ? "user" : "group");
	else if (vm->frontend_line)
		fail(p, p->line, "[%s] %s: frontend_user and frontend_group: say one", p->sec_name, k);
	else
		snprintf(user ? vm->frontend_user : vm->frontend_group, MV_NAME_MAX, "%s", v);
	vm->frontend_line = p->line;
}

static void vm_offloads(struct parser *p, const char *k, const char *v)
{
	struct cfg_vm *vm = &p->c->vm[p->vm];

	if (!parse_yes_no(v, &vm->offloads))
		fail(p, p->line, "[%s] offloads: '%s' is not yes or no", p->sec_name, v);
	vm->offloads_line = p->line;
}

static void vm_mtu(struct parser *p, const char *k, const char *v)
{
	struct cfg_vm *vm = &p->c->vm[p->vm];

	if (!parse_uint(v, MV_MTU_MIN, MV_MTU_MAX, &vm->mtu))
		fail(p, p->line, "[%s] mtu: '%s' is not a number from %d to %d", p->sec_name, v, MV_MTU_MIN,
		     MV_MTU_MAX);
	vm->mtu_line = p->line;
}

/* A path key: relative paths are relative to the config file's
 * directory (a config moved with its images keeps working). */
static void path_key(struct parser *p, const char *k, const char *v, char out[CFG_PATH_MAX], int *line)
{
	const char *slash = strrchr(p->file, '/');
	int n;

	*line = p->line;
	if (v[0] == '/' || !slash)
		n = snprintf(out, CFG_PATH_MAX, "%s", v);
	else
		n = snprintf(out, CFG_PATH_MAX, "%.*s/%s", (int)(slash - p->file), p->file, v);
	if (n < 0 || n >= CFG_PATH_MAX)
		fail(p, p->line, "[%s] %s: path too long (at most %d bytes with the config's directory)",
		     p->sec_name, k, CFG_PATH_MAX - 1);
}

static void vm_kernel(struct parser *p, const char *k, const char *v)
{
	struct cfg_vm *vm = &p->c->vm[p->vm];

	path_key(p, k, v, vm->kernel, &vm->kernel_line);
}

static void vm_initrd(struct parser *p, const char *k, const char *v)
{
	struct cfg_vm *vm = &p->c->vm[p->vm];

	path_key(p, k, v, vm->initrd, &vm->initrd_line);
}

static void vm_image(struct parser *p, const char *k, const char *v)
{
	struct cfg_vm *vm = &p->c->vm[p->vm];

	path_key(p, k, v, vm->image, &vm->image_line);
}

static void vm_append(struct parser *p, const char *k, const char *v)
{
	struct cfg_vm *vm = &p->c->vm[p->vm];
	const char *c;

	vm->append_line = p->line;
	for (c = v; *c; c++)
		if (!isprint((unsigned char)*c)) {
			fail(p, p->line, "[%s] append: a control character in the command line", p->sec_name);
			return;
		}
	if (strlen(v) >= sizeof(vm->append))
		fail(p, p->line, "[%s] append: longer than %d characters", p->sec_name, CFG_APPEND_MAX - 1);
	else
		snprintf(vm->append, sizeof(vm->append), "%s", v);
}

static void vm_image_format(struct parser *p, const char *k, const char *v)
{
	struct cfg_vm *vm = &p->c->vm[p->vm];

	vm->image_format_line = p->line;
	if (strcmp(v, "auto") == 0)
		vm->image_format = IMAGE_AUTO;
	else if (strcmp(v, "qcow2") == 0)
		vm->image_format = IMAGE_QCOW2;
	else if (strcmp(v, "raw") == 0)
		vm->image_format = IMAGE_RAW;
	else
		fail(p, p->line, "[%s] image_format: '%s' is not auto, qcow2 or raw", p->sec_name, v);
}

static void vm_image_backing(struct parser *p, const char *k, const char *v)
{
	struct cfg_vm *vm = &p->c->vm[p->vm];

	vm->image_backing_line = p->line;
	if (!parse_yes_no(v, &vm->image_backing))
		fail(p, p->line, "[%s] image_backing: '%s' is not yes or no", p->sec_name, v);
}

static void vm_firmware(struct parser *p, const char *k, const char *v)
{
	struct cfg_vm *vm = &p->c->vm[p->vm];

	vm->firmware_line = p->line;
	if (strcmp(v, "bios") == 0)
		vm->firmware = FIRMWARE_BIOS;
	else if (strcmp(v, "uefi") == 0)
		vm->firmware = FIRMWARE_UEFI;
	else
		fail(p, p->line, "[%s] firmware: '%s' is not bios or uefi", p->sec_name, v);
}

static void vm_persist(struct parser *p, const char *k, const char *v)
{
	struct cfg_vm *vm = &p->c->vm[p->vm];

	vm->persist_line = p->line;
	if (!parse_yes_no(v, &vm->persist))
		fail(p, p->line, "[%s] persist: '%s' is not yes or no", p->sec_name, v);
}

static void vm_cloud_init(struct parser *p, const char *k, const char *v)
{
	struct cfg_vm *vm = &p->c->vm[p->vm];

	vm->cloud_init_line = p->line;
	if (!parse_yes_no(v, &vm->cloud_init))
		fail(p, p->line, "[%s] cloud_init: '%s' is not yes or no", p->sec_name, v);
}

static void vm_ssh_key(struct parser *p, const char *k, const char *v)
{
	struct cfg_vm *vm = &p->c->vm[p->vm];

	path_key(p, k, v, vm->ssh_key, &vm->ssh_key_line);
}

static void vm_user_data(struct parser *p, const char *k, const char *v)
{
	struct cfg_vm *vm = &p->c->vm[p->vm];

	path_key(p, k, v, vm->user_data, &vm->user_data_line);
}

/* An IPv4 address a tunnel or a route can use: not multicast nor the
 * limited broadcast; the unspecified address only where any is allowed. */
static bool parse_ipv4(const char *s, bool any_ok, uint32_t *out)
{
	struct in_addr a;
	uint32_t h;

	if (inet_pton(AF_INET, s, &a) != 1)
		return false;
	h = ntohl(a.s_addr);
	if ((h >> 28) == 0xe || h == 0xffffffffu || (h == 0 && !any_ok))
		return false;
	*out = h;
	return true;
}

static uint32_t prefix_mask(unsigned prefix)
{
	return prefix ? ~0u << (32 - prefix) : 0;
}

static const char *ipv4_str(uint32_t a, char out[INET_ADDRSTRLEN])
{
	struct in_addr n = { htonl(a) };

	return inet_ntop(AF_INET, &n, out, INET_ADDRSTRLEN);
}

/* route = NET/PREFIX via GATEWAY; may repeat, each NET/PREFIX once. */
static void vm_route(struct parser *p, const char *k, const char *v)
{
	struct cfg_vm *vm = &p->c->vm[p->vm];
	char buf[128], *net, *via, *gw, *extra, *save = NULL, a[INET_ADDRSTRLEN];
	struct cfg_route r = { .line = p->line };
	unsigned i;

	net = via = gw = extra = NULL;
	if (strlen(v) < sizeof(buf)) {
		strcpy(buf, v);
		net = strtok_r(buf, " \t", &save);
		via = net ? strtok_r(NULL, " \t", &save) : NULL;
		gw = via ? strtok_r(NULL, " \t", &save) : NULL;
		extra = gw ? strtok_r(NULL, " \t", &save) : NULL;
	}
	if (!gw || extra || strcmp(via, "via") || !parse_cidr(net, &r.net, &r.prefix)) {
		fail(p, p->line, "[%s] route: '%s' is not NET/PREFIX via GATEWAY (e.g. 10.0.2.0/30 via 10.0.1.2)",
		     p->sec_name, v);
		return;
	}
	if (!parse_ipv4(gw, false, &r.via)) {
		fail(p, p->line, "[%s] route: gateway '%s' is not a unicast IPv4 address", p->sec_name, gw);
		return;
	}
	if (r.net & ~prefix_mask(r.prefix)) {
		fail(p, p->line, "[%s] route: '%s' has host bits set (the network is %s/%u)", p->sec_name, net,
		     ipv4_str(r.net & prefix_mask(r.prefix), a), r.prefix);
		return;
	}
	for (i = 0; i < vm->nroutes; i++)
		if (vm->route[i].net == r.net && vm->route[i].prefix == r.prefix) {
			fail(p, p->line, "[%s] route: %s routed twice (first at line %d)", p->sec_name, net,
			     vm->route[i].line);
			return;
		}
	if (vm->nroutes >= CFG_ROUTES_MAX) {
		fail(p, p->line, "[%s] route: more than %d routes", p->sec_name, CFG_ROUTES_MAX);
		return;
	}
	vm->route[vm->nroutes++] = r;
}

static void vm_ip_forward(struct parser *p, const char *k, const char *v)
{
	if (!parse_yes_no(v, &p->c->vm[p->vm].ip_forward))
		fail(p, p->line, "[%s] ip_forward: '%s' is not yes or no", p->sec_name, v);
	p->ip_forward_line[p->vm] = p->line;
}

static void vm_passthrough_name(struct parser *p, const char *k, const char *v)
{
	struct cfg_vm *vm = &p->c->vm[p->vm];

	if (!ifname_valid(v, MV_IFNAME_MAX))
		fail(p, p->line, "[%s] passthrough_name: bad interface name '%s' (" IFNAME_RULE ")", p->sec_name, v);
	else
		snprintf(vm->passthrough_name, sizeof(vm->passthrough_name), "%s", v);
	p->passthrough_name_line[p->vm] = p->line;
}

/* host = NAME (VMs and tunnels): resolved in finish_hosts, [host]
 * sections may come later. */
static void node_host(struct parser *p, const char *k, const char *v)
{
	snprintf(p->host_of[p->vm], sizeof(p->host_of[0]), "%.*s", MV_NAME_MAX - 1, v);
	p->c->vm[p->vm].host_line = p->line;
	if (strlen(v) >= MV_NAME_MAX || !valid_name(v))
		fail(p, p->line, "[%s] host: '%s' is not a valid host name ([a-z][a-z0-9_-]*)", p->sec_name, v);
}

/* IFNAME.KEY: a wire NIC's keys, kept in p->nk until the NICs exist. */
static struct cfg_nic *cur_nic(struct parser *p)
{
	return &p->cur_nk->v;
}

static void nic_mac(struct parser *p, const char *k, const char *v)
{
	parse_mac_key(p, k, v, cur_nic(p)->mac);
	cur_nic(p)->mac_line = p->line;
}

static void nic_address(struct parser *p, const char *k, const char *v)
{
	struct cfg_nic *n = cur_nic(p);

	if (!parse_cidr(v, &n->addr, &n->prefix))
		fail(p, p->line, "[%s] %s: '%s' is not an IPv4 address with prefix (e.g. 10.0.1.1/30)",
		     p->sec_name, k, v);
	n->has_addr = true;
	n->addr_line = p->line;
}

static void nic_mtu(struct parser *p, const char *k, const char *v)
{
	struct cfg_nic *n = cur_nic(p);

	if (!parse_uint(v, MV_MTU_MIN, MV_MTU_MAX, &n->mtu))
		fail(p, p->line, "[%s] %s: '%s' is not a number from %d to %d", p->sec_name, k, v, MV_MTU_MIN,
		     MV_MTU_MAX);
	n->mtu_line = p->line;
}

static void nic_offloads(struct parser *p, const char *k, const char *v)
{
	struct cfg_nic *n = cur_nic(p);

	if (!parse_yes_no(v, &n->offloads))
		fail(p, p->line, "[%s] %s: '%s' is not yes or no", p->sec_name, k, v);
	n->offloads_line = p->line;
}

/* Named as multivm.ini(5) has them; the parser matches what follows the
 * prefix. */
#define NIC_PREFIX	"IFNAME."
static const struct key nic_keys[] = {
	{ NIC_PREFIX "mac", nic_mac, false },
	{ NIC_PREFIX "address", nic_address, false },
	{ NIC_PREFIX "mtu", nic_mtu, false },
	{ NIC_PREFIX "offloads", nic_offloads, false },
};

/* Where each NIC key's line is kept: a key set twice is an error. */
static int *nic_key_line(struct cfg_nic *n, size_t i)
{
	int *const lines[] = { &n->mac_line, &n->addr_line, &n->mtu_line, &n->offloads_line };

	_Static_assert(NKEYS(lines) == NKEYS(nic_keys), "a line per NIC key");
	return lines[i];
}

static void nic_key(struct parser *p, const char *k, const char *dot, const char *v)
{
	size_t i, n = dot - k;
	const struct key *key = NULL;
	struct nic_keys *e = NULL;
	char name[MV_IFNAME_MAX];
	unsigned j;

	for (i = 0; i < NKEYS(nic_keys) && !key; i++)
		if (strcmp(dot + 1, nic_keys[i].name + strlen(NIC_PREFIX)) == 0)
			key = &nic_keys[i];
	if (!key) {
		fail(p, p->line, "[%s] %s: unknown key", p->sec_name, k);
		return;
	}
	if (n >= sizeof(name)) {
		fail(p, p->line, "[%s] %s: bad interface name (" IFNAME_RULE ")", p->sec_name, k);
		return;
	}
	memcpy(name, k, n);
	name[n] = 0;
	if (!ifname_valid(name, MV_IFNAME_MAX)) {
		fail(p, p->line, "[%s] %s: bad interface name '%s' (" IFNAME_RULE ")", p->sec_name, k, name);
		return;
	}
	for (j = 0; j < p->nnk[p->vm]; j++)
		if (strcmp(p->nk[p->vm][j].name, name) == 0)
			e = &p->nk[p->vm][j];
	if (!e) {
		if (p->nnk[p->vm] >= MV_NICS_MAX) {
			fail(p, p->line, "[%s] %s: keys for more than %d NICs (a VM has at most %d wire NICs)",
			     p->sec_name, k, MV_NICS_MAX, MV_NICS_MAX);
			return;
		}
		e = &p->nk[p->vm][p->nnk[p->vm]++];
		memset(e, 0, sizeof(*e));
		strcpy(e->name, name);
		snprintf(e->first_key, sizeof(e->first_key), "%s", k);
		e->line = p->line;
	}
	p->cur_nk = e;
	if (*nic_key_line(&e->v, key - nic_keys)) {
		fail(p, p->line, "[%s] %s: set twice in this section", p->sec_name, k);
		return;
	}
	key->set(p, k, v);
}

static const struct key vm_keys[] = {
	{ "memory", vm_memory, true },
	{ "cpus", vm_cpus, true },
	{ "cpuset", vm_cpuset, false },
	{ "mac", vm_mac, false },
	{ "address", vm_address, false },
	{ "passthrough", vm_passthrough, true },
	{ "restart", vm_restart, true },
	{ "pci_mmio", vm_pci_ranges, false },
	{ "pci_io", vm_pci_ranges, false },
	{ "pci_irq", vm_pci_irq, false },
	{ "guest", vm_guest, false },
	{ "frontend_user", vm_frontend, false },
	{ "frontend_group", vm_frontend, false },
	{ "offloads", vm_offloads, false },
	{ "mtu", vm_mtu, false },
	/* The built-in guest's routing: its frontend decides with external. */
	{ "route", vm_route, true },
	{ "ip_forward", vm_ip_forward, true },
	{ "passthrough_name", vm_passthrough_name, false },
	/* Bring your own guest. */
	{ "kernel", vm_kernel, true },
	{ "initrd", vm_initrd, true },
	{ "append", vm_append, true },
	{ "image", vm_image, true },
	{ "image_format", vm_image_format, true },
	{ "image_backing", vm_image_backing, true },
	{ "firmware", vm_firmware, true },
	{ "persist", vm_persist, true },
	{ "cloud_init", vm_cloud_init, true },
	{ "ssh_key", vm_ssh_key, true },
	{ "user_data", vm_user_data, true },
	{ "host", node_host, false },
};
_Static_assert(NKEYS(vm_keys) <= 32, "a bit of parser.seen per key");

static void vm_key(struct parser *p, const char *k, const char *v)
{
	const struct key *key = find_key(vm_keys, NKEYS(vm_keys), k);
	const char *dot = strchr(k, '.');

	if (dot) {
		nic_key(p, k, dot, v);
		return;
	}

	/* The first QEMU key, set or not: an error with guest = external. */
	if (key && key->qemu && !p->qemu_key_line[p->vm]) {
		p->qemu_key_line[p->vm] = p->line;
		p->qemu_key[p->vm] = key->name;
	}
	if (!set_key(p, vm_keys, NKEYS(vm_keys), k, v))
		fail(p, p->line, "[%s] %s: unknown key", p->sec_name, k);
}

/* [tunnel NAME] */

static void tun_local(struct parser *p, const char *k, const char *v)
{
	if (!parse_ipv4(v, true, &p->c->vm[p->vm].tun_local))
		fail(p, p->line, "[%s] local: '%s' is not an IPv4 address to bind (e.g. 10.9.0.1)", p->sec_name, v);
	p->tun_keys[p->vm] |= 1;
}

static void tun_remote(struct parser *p, const char *k, const char *v)
{
	if (!parse_ipv4(v, false, &p->c->vm[p->vm].tun_remote))
		fail(p, p->line, "[%s] remote: '%s' is not a unicast IPv4 address (e.g. 10.9.0.2)", p->sec_name, v);
	p->tun_keys[p->vm] |= 2;
}

static void tun_vni(struct parser *p, const char *k, const char *v)
{
	if (!parse_uint(v, 0, MV_VNI_MAX, &p->c->vm[p->vm].tun_vni))
		fail(p, p->line, "[%s] vni: '%s' is not a VXLAN network identifier (0 to %u)", p->sec_name, v,
		     MV_VNI_MAX);
	p->c->vm[p->vm].tun_vni_line = p->line;
	p->tun_keys[p->vm] |= 4;
}

static void tun_port(struct parser *p, const char *k, const char *v)
{
	struct cfg_vm *t = &p->c->vm[p->vm];

	if (!parse_uint(v, 1, 65535, &t->tun_port))
		fail(p, p->line, "[%s] port: '%s' is not a UDP port (1 to 65535)", p->sec_name, v);
	t->tun_port_line = p->line;
}

static void tun_mac(struct parser *p, const char *k, const char *v)
{
	parse_mac_key(p, k, v, p->c->vm[p->vm].mac);
	p->c->vm[p->vm].tun_mac_line = p->line;
}

static const struct key tunnel_keys[] = {
	{ "local", tun_local, false },
	{ "remote", tun_remote, false },
	{ "vni", tun_vni, false },
	{ "port", tun_port, false },
	{ "mac", tun_mac, false },
	{ "host", node_host, false },
};

/* [host NAME] */

static void host_address(struct parser *p, const char *k, const char *v)
{
	struct cfg_host *h;

	if (p->host < 0)
		return;
	h = &p->c->host[p->host];
	if (!parse_ipv4(v, false, &h->addr))
		fail(p, p->line, "[%s] address: '%s' is not a unicast IPv4 address (e.g. 10.9.0.1)", p->sec_name, v);
	h->addr_line = p->line;
}

static const struct key host_keys[] = {
	{ "address", host_address, false },
};

/* [links]: mesh, else every key is a VM and its value the VMs it links to. */

/* mesh = yes (or segment): the segment; wires: a wire per pair of VMs;
 * segment wires (words in any order, yes for segment too): both; no:
 * neither. */
static void links_mesh(struct parser *p, const char *k, const char *v)
{
	char buf[64], *w, *save = NULL;
	bool seg = false, wires = false, no = false, bad = strlen(v) >= sizeof(buf);
	unsigned n = 0;

	if (!bad) {
		strcpy(buf, v);
		for (w = strtok_r(buf, " \t", &save); w && !bad; w = strtok_r(NULL, " \t", &save), n++) {
			if ((strcmp(w, "yes") == 0 || strcmp(w, "segment") == 0) && !seg)
				seg = true;
			else if (strcmp(w, "wires") == 0 && !wires)
				wires = true;
			else if (strcmp(w, "no") == 0)
				no = true;
			else
				bad = true;
		}
	}
	if (bad || (no && n > 1)) {
		fail(p, p->line, "[links] mesh: '%s' is not yes, no, wires or segment wires", v);
		return;
	}
	if (seg)
		p->mesh_line = p->line;
	if (wires)
		p->mesh_wires_line = p->line;
}

static const struct key links_keys[] = {
	{ "mesh", links_mesh, false },
};

/* One pending link of a [links] line. ifa/ifb: NULL for a bare end. */
static void add_pending(struct parser *p, const char *key, const char *a, const char *ifa, const char *b,
			const char *ifb)
{
	struct pending_link *l;

	if (p->npl >= MAX_PENDING_LINKS) {
		fail(p, p->line, "[links] %s: too many links", key);
		return;
	}
	if (strlen(a) >= MV_NAME_MAX || strlen(b) >= MV_NAME_MAX) {
		fail(p, p->line, "[links] %s: name too long", key);
		return;
	}
	if ((ifa && !ifname_valid(ifa, MV_IFNAME_MAX)) || (ifb && !ifname_valid(ifb, MV_IFNAME_MAX))) {
		fail(p, p->line, "[links] %s: bad interface name '%.*s' (" IFNAME_RULE ")", key, MV_IFNAME_MAX + 8,
		     ifa && !ifname_valid(ifa, MV_IFNAME_MAX) ? ifa : ifb);
		return;
	}
	l = &p->pl[p->npl++];
	memset(l, 0, sizeof(*l));
	strcpy(l->a, a);
	strcpy(l->b, b);
	snprintf(l->ifa, sizeof(l->ifa), "%s", ifa ? ifa : "");
	snprintf(l->ifb, sizeof(l->ifb), "%s", ifb ? ifb : "");
	snprintf(l->key, sizeof(l->key), "%s", key);
	l->wire = ifa || ifb;
	l->line = p->line;
	l->nic_a = l->nic_b = -1;
	if (l->wire)
		p->last_wire = p->npl - 1;
}

/* A wire end as written: VM:IFNAME, or a bare name (a tunnel). */
static void split_end(char *end, const char **ifname)
{
	char *colon = strchr(end, ':');

	*ifname = NULL;
	if (colon) {
		*colon = 0;
		*ifname = colon + 1;
	}
}

/* "A:IF = B[:IF]", which inih hands over as key A, value "IF = B[:IF]". */
static void links_wire(struct parser *p, const char *k, const char *v)
{
	char buf[256], key[MV_NAME_MAX + MV_IFNAME_MAX + 16], *eq, *ifa, *right;
	const char *ifb;

	if (strlen(v) >= sizeof(buf)) {
		fail(p, p->line, "[links] %s: value too long", k);
		return;
	}
	strcpy(buf, v);
	eq = strchr(buf, '=');
	if (eq)
		*eq = 0;
	ifa = trim(buf);
	snprintf(key, sizeof(key), "%.*s:%.*s", MV_NAME_MAX, k, MV_IFNAME_MAX + 8, ifa);
	if (!eq) {
		fail(p, p->line, "[links] %s: expected VM:IFNAME = VM:IFNAME (or = TUNNEL)", key);
		return;
	}
	right = trim(eq + 1);
	if (!*right) {
		fail(p, p->line, "[links] %s: expected VM:IFNAME = VM:IFNAME (or = TUNNEL)", key);
		return;
	}
	if (strpbrk(right, " \t,=")) {
		fail(p, p->line, "[links] %s: one wire per line (VM:IFNAME = VM:IFNAME)", key);
		return;
	}
	split_end(right, &ifb);
	add_pending(p, key, k, ifa, right, ifb);
}

static void links_key(struct parser *p, const char *k, const char *v)
{
	char buf[512], *tok, *save = NULL;
	bool cont = p->links_cont;

	/* An indented line continues the key line above (inih's multi-line
	 * values): more peers of a bare link, but never a second wire. */
	if (cont && p->last_wire >= 0) {
		fail(p, p->line, "[links] %s: one wire per line (an indented line continues the one above)",
		     p->pl[p->last_wire].key);
		return;
	}
	if (!cont)
		p->last_wire = -1;
	if (!cont && p->links_colon && strcmp(p->links_raw_key, k) == 0) {
		links_wire(p, k, v);
		return;
	}
	if (set_key(p, links_keys, NKEYS(links_keys), k, v))
		return;
	if (strlen(v) >= sizeof(buf)) {
		fail(p, p->line, "[links] %s: value too long", k);
		return;
	}
	strcpy(buf, v);
	if (strchr(buf, ':')) {		/* TUNNEL = VM:IFNAME: a wire */
		const char *ifb;

		tok = strtok_r(buf, " \t,", &save);
		if (!tok || strtok_r(NULL, " \t,", &save)) {
			fail(p, p->line, "[links] %s: one wire per line (VM:IFNAME = VM:IFNAME)", k);
			return;
		}
		split_end(tok, &ifb);
		add_pending(p, k, k, NULL, tok, ifb);
		return;
	}
	for (tok = strtok_r(buf, " \t,", &save); tok && !p->failed; tok = strtok_r(NULL, " \t,", &save))
		add_pending(p, k, k, NULL, tok, NULL);
}

/* [link A-B], [link A->B]: what a link (both directions, or one) does to
 * its frames, in the words `multivm link set` takes (common/linkctl.c
 * parses both). */

static void new_link_section(struct parser *p, const char *spec)
{
	struct link_section *l;

	p->cur_ls = NULL;
	if (!*spec) {
		fail(p, p->line, "[link]: name the link: [link A-B] or [link A->B]");
		return;
	}
	if (strlen(spec) >= LINK_SPEC_MAX) {
		fail(p, p->line, "[link %.*s...]: name too long", 32, spec);
		return;
	}
	if (p->nls >= MAX_LINK_SECTIONS) {
		fail(p, p->line, "[link %s]: more than %d [link] sections", spec, MAX_LINK_SECTIONS);
		return;
	}
	l = &p->ls[p->nls++];
	memset(l, 0, sizeof(*l));
	snprintf(l->spec, sizeof(l->spec), "%s", spec);
	l->line = p->line;
	p->cur_ls = l;
}

static void link_setting(struct parser *p, const char *k, const char *v)
{
	char err[256];
	const char *why = err;
	size_t n = strlen(k);

	if (!p->cur_ls)
		return;
	if (linkctl_set(&p->cur_ls->imp, k, v, err, sizeof(err)) == 0)
		return;
	/* linkctl says "key=value: why"; the key is said already. */
	if (strncmp(err, k, n) == 0 && err[n] == '=' && strncmp(err + n + 1, v, strlen(v)) == 0 &&
	    strncmp(err + n + 1 + strlen(v), ": ", 2) == 0)
		why = err + n + 1 + strlen(v) + 2;
	fail(p, p->line, "[%s] %s: '%s' is %s", p->sec_name, k, v, why);
}

static void link_reorder(struct parser *p, const char *k, const char *v)
{
	if (strcmp(v, "yes") == 0)
		fail(p, p->line, "[%s] reorder: not supported: a link delivers in order (jitter never reorders)",
		     p->sec_name);
	else if (strcmp(v, "no") != 0)
		fail(p, p->line, "[%s] reorder: '%s' is not yes or no", p->sec_name, v);
}

static const struct key link_keys[] = {
	{ "delay", link_setting, false },
	{ "jitter", link_setting, false },
	{ "distribution", link_setting, false },
	{ "loss", link_setting, false },
	{ "loss_correlation", link_setting, false },
	{ "corrupt", link_setting, false },
	{ "duplicate", link_setting, false },
	{ "rate", link_setting, false },
	{ "state", link_setting, false },
	{ "seed", link_setting, false },
	{ "reorder", link_reorder, false },
};

_Static_assert(NKEYS(system_keys) <= 32 && NKEYS(vm_keys) <= 32 && NKEYS(links_keys) <= 32 && NKEYS(host_keys) <= 32 &&
	       NKEYS(tunnel_keys) <= 32 && NKEYS(link_keys) <= 32,
	       "a section's keys fit parser.seen");

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parser *p = user;

	(void)section;	/* we track sections ourselves, with their lines */
	if (p->failed)
		return 1;
	if (!*value) {
		fail(p, p->line, "[%s] %s: empty value", p->sec_name, name);
		return 1;
	}
	switch (p->sec) {
	case SEC_SYSTEM:
		if (!set_key(p, system_keys, NKEYS(system_keys), name, value))
			fail(p, p->line, "[system] %s: unknown key", name);
		break;
	case SEC_VM:
		vm_key(p, name, value);
		break;
	case SEC_LINKS:
		links_key(p, name, value);
		break;
	case SEC_TUNNEL:
		if (!set_key(p, tunnel_keys, NKEYS(tunnel_keys), name, value))
			fail(p, p->line, "[%s] %s: unknown key (a tunnel has local, remote, vni, port, mac and host)",
			     p->sec_name, name);
		break;
	case SEC_HOST:
		if (!set_key(p, host_keys, NKEYS(host_keys), name, value))
			fail(p, p->line, "[%s] %s: unknown key (a host has address)", p->sec_name, name);
		break;
	case SEC_LINK:
		if (!set_key(p, link_keys, NKEYS(link_keys), name, value))
			fail(p, p->line, "[%s] %s: unknown key (delay, jitter, distribution, loss, loss_correlation, "
			     "corrupt, duplicate, rate, state)", p->sec_name, name);
		break;
	case SEC_NONE:
		fail(p, p->line, "%s: key outside any section", name);
		break;
	}
	return 1;
}

/* ---- whole-file checks ---- */

/* A node's links are the node's arguments (MV_NODE_LINKS_MAX), the
 * system's its link array. */
static struct cfg_link *new_link(struct parser *p, const char *key, unsigned a, unsigned b, int line)
{
	struct config *c = p->c;
	unsigned n[2] = { a, b }, i;

	for (i = 0; i < 2; i++)
		if (++p->node_links[n[i]] > MV_NODE_LINKS_MAX) {
			fail(p, line, "[links] %s: %s has more than %d links (segment links and wires together)", key,
			     c->vm[n[i]].name, MV_NODE_LINKS_MAX);
			return NULL;
		}
	if (c->nlinks >= MV_LINKS_MAX) {	/* not reached while nodes have at most MV_NODE_LINKS_MAX */
		fail(p, line, "[links] %s: more than %d links in the system", key, MV_LINKS_MAX);
		return NULL;
	}
	return &c->link[c->nlinks++];
}

/* A link on the segment. */
static void add_link(struct parser *p, const char *key, unsigned a, unsigned b, int line)
{
	struct config *c = p->c;
	struct cfg_link *l;
	unsigned i;

	if (a > b) {
		unsigned t = a;

		a = b;
		b = t;
	}
	for (i = 0; i < c->nlinks; i++)
		if (!c->link[i].wire && c->link[i].a == a && c->link[i].b == b) {
			fail(p, line, "[links] %s: link between %s and %s given twice (first at line %d)",
			     key, c->vm[a].name, c->vm[b].name, c->link[i].line);
			return;
		}
	l = new_link(p, key, a, b, line);
	if (!l)
		return;
	l->a = a;
	l->b = b;
	l->line = line;
	l->wire = false;
	l->nic_a = l->nic_b = -1;
	l->seq = c->nlinks - 1;
}

/* Segment links first, then wires; each kind by its nodes, then NICs. */
static int cmp_link(const void *x, const void *y)
{
	const struct cfg_link *a = x, *b = y;

	if (a->wire != b->wire)
		return a->wire - b->wire;
	if (a->a != b->a)
		return (int)a->a - (int)b->a;
	if (a->b != b->b)
		return (int)a->b - (int)b->b;
	if (a->nic_a != b->nic_a)
		return a->nic_a - b->nic_a;
	return a->nic_b - b->nic_b;
}

/* "vm0:eth1" or "up" for a wire end in messages. */
static const char *end_name(const struct config *c, unsigned vm, int nic, char *buf, size_t len)
{
	if (nic < 0)
		snprintf(buf, len, "%s", c->vm[vm].name);
	else
		snprintf(buf, len, "%s:%s", c->vm[vm].name, c->vm[vm].nic[nic].name);
	return buf;
}

/* A link carries what its sender's MTU allows: a receiver of a smaller
 * one would drop the larger frames as malformed, and a tunnel carries
 * frames of the default MTU (VXLAN_MAX_FRAME). On the segment that is
 * the VMs' mtu, on a wire the two NICs'. */
static void check_link_mtu(struct parser *p, const struct cfg_link *l)
{
	const struct config *c = p->c;
	const struct cfg_vm *a = &c->vm[l->a], *b = &c->vm[l->b];
	char ea[MV_NAME_MAX + MV_IFNAME_MAX], eb[MV_NAME_MAX + MV_IFNAME_MAX];

	if (l->wire) {
		unsigned ma = l->nic_a < 0 ? MV_MTU_DEFAULT : a->nic[l->nic_a].mtu;
		unsigned mb = l->nic_b < 0 ? MV_MTU_DEFAULT : b->nic[l->nic_b].mtu;

		end_name(c, l->a, l->nic_a, ea, sizeof(ea));
		end_name(c, l->b, l->nic_b, eb, sizeof(eb));
		if (a->tunnel || b->tunnel) {
			if ((a->tunnel ? mb : ma) > MV_MTU_DEFAULT)
				fail(p, l->line, "[links] wire %s-%s: %s has mtu %u, tunnel %s carries at most %u", ea, eb,
				     a->tunnel ? eb : ea, a->tunnel ? mb : ma, a->tunnel ? a->name : b->name,
				     MV_MTU_DEFAULT);
		} else if (ma != mb) {
			fail(p, l->line, "[links] wire %s-%s: wired NICs need the same mtu (%s has %u, %s has %u)",
			     ea, eb, ea, ma, eb, mb);
		}
		return;
	}
	if (a->tunnel || b->tunnel) {
		const struct cfg_vm *v = a->tunnel ? b : a, *t = a->tunnel ? a : b;

		if (v->mtu > MV_MTU_DEFAULT)
			fail(p, l->line, "[links] link %s-%s: VM %s has mtu %u, tunnel %s carries at most %u",
			     a->name, b->name, v->name, v->mtu, t->name, MV_MTU_DEFAULT);
	} else if (a->mtu != b->mtu) {
		fail(p, l->line, "[links] link %s-%s: linked VMs need the same mtu (%s has %u, %s has %u)",
		     a->name, b->name, a->name, a->mtu, b->name, b->mtu);
	}
}

/* The index of VM v's NIC called name, or -1. */
static int nic_index(const struct cfg_vm *v, const char *name)
{
	unsigned i;

	for (i = 0; i < v->nnics; i++)
		if (strcmp(v->nic[i].name, name) == 0)
			return i;
	return -1;
}

/* One end of wire l: node x, ifname (or ""); its NIC index, or -1. */
static int wire_end(struct parser *p, struct pending_link *l, unsigned x, const char *ifname)
{
	struct cfg_vm *v = &p->c->vm[x];
	struct cfg_nic *n;
	int i;

	if (v->tunnel && *ifname) {
		fail(p, l->line, "[links] %s: tunnel %s has no interfaces (name it alone: %s)", l->key, v->name, v->name);
		return -1;
	}
	if (v->tunnel)
		return -1;
	if (!*ifname) {
		fail(p, l->line, "[links] %s: VM %s needs an interface name at a wire's end (%s:IFNAME)", l->key,
		     v->name, v->name);
		return -1;
	}
	i = nic_index(v, ifname);
	if (i >= 0) {
		fail(p, l->line, "[links] %s: %s:%s is already the end of the wire at line %d", l->key, v->name, ifname,
		     v->nic[i].line);
		return -1;
	}
	if (v->nnics >= MV_NICS_MAX) {
		fail(p, l->line, "[links] %s: %s has more than %d wire NICs", l->key, v->name, MV_NICS_MAX);
		return -1;
	}
	i = v->nnics++;
	n = &v->nic[i];
	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "%s", ifname);
	n->line = l->line;
	p->nic_pl[x][i] = l - p->pl;
	return i;
}

/* A wire's nodes and NICs, made in the order the wires are written (the
 * order of the NICs' PCI slots). */
static void resolve_wire(struct parser *p, struct pending_link *l)
{
	struct config *c = p->c;
	int a = config_vm_index(c, l->a), b = config_vm_index(c, l->b);

	if (a < 0 || b < 0) {
		fail(p, l->line, "[links] %s: no VM called '%s'", l->key, a < 0 ? l->a : l->b);
		return;
	}
	if (c->vm[a].tunnel && c->vm[b].tunnel) {
		fail(p, l->line, "[links] %s: a wire joins a VM to a VM or a tunnel, not tunnel %s to tunnel %s", l->key,
		     l->a, l->b);
		return;
	}
	if (a == b) {
		fail(p, l->line, "[links] %s: a wire cannot join %s to itself", l->key, l->a);
		return;
	}
	l->ia = a;
	l->ib = b;
	l->nic_a = wire_end(p, l, a, l->ifa);
	if (!p->failed)
		l->nic_b = wire_end(p, l, b, l->ifb);
}

static void add_wire(struct parser *p, const struct pending_link *l)
{
	struct cfg_link *k;
	bool swap = l->ia > l->ib;

	k = new_link(p, l->key, l->ia, l->ib, l->line);
	if (!k)
		return;
	k->a = swap ? l->ib : l->ia;
	k->b = swap ? l->ia : l->ib;
	k->nic_a = swap ? l->nic_b : l->nic_a;
	k->nic_b = swap ? l->nic_a : l->nic_b;
	k->line = l->line;
	k->wire = true;
	k->seq = l - p->pl;
}

/* The first of eth1, eth2, ... that VM v does not use yet (its wire
 * NICs, its passthrough NIC). */
static void free_ifname(const struct cfg_vm *v, char name[MV_IFNAME_MAX])
{
	unsigned k;

	for (k = 1;; k++) {
		snprintf(name, MV_IFNAME_MAX, "eth%u", k);
		if (nic_index(v, name) < 0 && !(*v->passthrough && strcmp(v->passthrough_name, name) == 0))
			return;
	}
}

/* mesh = wires: a wire per pair of VMs (not tunnels), in config order,
 * between new NICs; after the written wires, whose names they skip. */
static void mesh_wires(struct parser *p)
{
	struct config *c = p->c;
	unsigned i, j;

	for (i = 0; i < c->nvms && !p->failed; i++)
		for (j = i + 1; j < c->nvms && !p->failed; j++) {
			struct pending_link *l;

			if (c->vm[i].tunnel || c->vm[j].tunnel)
				continue;
			if (p->npl >= MAX_PENDING_LINKS) {
				fail(p, p->mesh_wires_line, "[links] mesh: too many links");
				return;
			}
			l = &p->pl[p->npl++];
			memset(l, 0, sizeof(*l));
			strcpy(l->a, c->vm[i].name);
			strcpy(l->b, c->vm[j].name);
			free_ifname(&c->vm[i], l->ifa);
			free_ifname(&c->vm[j], l->ifb);
			snprintf(l->key, sizeof(l->key), "mesh");
			l->wire = true;
			l->line = p->mesh_wires_line;
			l->nic_a = l->nic_b = -1;
			resolve_wire(p, l);
		}
}

/* A VM on no segment (a wire ends at its eth0) may have no segment link. */
static void check_on_segment(struct parser *p, unsigned vm, int line)
{
	const struct cfg_vm *v = &p->c->vm[vm];
	const struct pending_link *w;

	if (v->tunnel || v->segment)
		return;
	w = &p->pl[p->eth0_wire[vm] - 1];
	fail(p, w->line, "[links] %s: %s:eth0 is the segment's NIC (%s is linked on the segment at line %d)",
	     w->key, v->name, v->name, line);
}

/* A tunnel at a wire's end carries that wire alone (mesh never links a
 * tunnel, so the [links] lines say all). */
static void check_tunnel_wires(struct parser *p)
{
	const struct config *c = p->c;
	unsigned i, j;

	for (i = 0; i < p->npl && !p->failed; i++) {
		const struct pending_link *w = &p->pl[i];
		int t;

		if (!w->wire)
			continue;
		t = c->vm[w->ia].tunnel ? w->ia : w->ib;
		if (!c->vm[t].tunnel || p->node_links[t] == 1)
			continue;
		for (j = 0; j < p->npl; j++) {
			const struct pending_link *o = &p->pl[j];

			if (j != i && (o->ia == t || o->ib == t)) {
				const struct pending_link *later = j > i ? o : w, *first = j > i ? w : o;

				fail(p, later->line, "[links] %s: tunnel %s is already linked at line %d, and a tunnel "
				     "at a wire's end carries that wire alone", later->key, c->vm[t].name, first->line);
				break;
			}
		}
	}
}

static void resolve_links(struct parser *p)
{
	struct config *c = p->c;
	unsigned i, j;

	/* With mesh = yes only links to tunnels, and wires, are listed. */
	for (i = 0; i < p->npl && p->mesh_line; i++) {
		int a = config_vm_index(c, p->pl[i].a), b = config_vm_index(c, p->pl[i].b);

		if (p->pl[i].wire)
			continue;
		if (!(a >= 0 && c->vm[a].tunnel) && !(b >= 0 && c->vm[b].tunnel)) {
			fail(p, p->pl[i].line, "[links] %s: list links or use mesh = yes, not both", p->pl[i].a);
			return;
		}
	}
	for (i = 0; i < p->npl && !p->failed; i++)
		if (p->pl[i].wire)
			resolve_wire(p, &p->pl[i]);
	if (p->mesh_wires_line && !p->failed)
		mesh_wires(p);
	if (p->mesh_line)	/* the VMs on the segment; a tunnel is linked by name */
		for (i = 0; i < c->nvms; i++)
			for (j = i + 1; j < c->nvms; j++)
				if (!c->vm[i].tunnel && !c->vm[j].tunnel && c->vm[i].segment && c->vm[j].segment)
					add_link(p, "mesh", i, j, p->mesh_line);
	for (i = 0; i < p->npl && !p->failed; i++) {
		struct pending_link *l = &p->pl[i];
		int a = config_vm_index(c, l->a), b = config_vm_index(c, l->b);

		if (l->wire)
			continue;
		if (a < 0)
			fail(p, l->line, "[links] %s: no VM called '%s'", l->a, l->a);
		else if (b < 0)
			fail(p, l->line, "[links] %s: no VM called '%s'", l->a, l->b);
		else if (a == b)
			fail(p, l->line, "[links] %s: a VM cannot link to itself", l->a);
		else if (c->vm[a].tunnel && c->vm[b].tunnel)
			fail(p, l->line, "[links] %s: a tunnel links only to VMs, not to tunnel %s", l->a, l->b);
		else {
			l->ia = a;
			l->ib = b;
			check_on_segment(p, a, l->line);
			check_on_segment(p, b, l->line);
			if (!p->failed)
				add_link(p, l->a, a, b, l->line);
		}
	}
	for (i = 0; i < p->npl && !p->failed; i++)
		if (p->pl[i].wire)
			add_wire(p, &p->pl[i]);
	check_tunnel_wires(p);
	qsort(c->link, c->nlinks, sizeof(c->link[0]), cmp_link);
}

/* Required keys. Tunnels may share a UDP port of one address (the
 * supervisor steers by VNI, tunnel/udpsock.h) if their VNIs differ; a
 * port on any address and on one address would be two groups. */
static void check_tunnel(struct parser *p, unsigned i)
{
	static const char *const need[] = { "local", "remote", "vni" };
	const struct cfg_vm *t = &p->c->vm[i];
	unsigned k;

	for (k = 0; k < 3; k++)
		if (!(p->tun_keys[i] & (1u << k))) {
			fail(p, t->line, "[tunnel %s] %s: required", t->name, need[k]);
			return;
		}
	if (t->tun_local == t->tun_remote) {
		fail(p, t->line, "[tunnel %s] remote: the same address as local", t->name);
		return;
	}
	for (k = 0; k < i; k++) {
		const struct cfg_vm *o = &p->c->vm[k];

		if (!o->tunnel || o->tun_port != t->tun_port)
			continue;
		if (o->tun_local != t->tun_local) {
			if (!o->tun_local || !t->tun_local)
				fail(p, t->tun_port_line ? t->tun_port_line : t->line,
				     "[tunnel %s] port: UDP port %u on any address and on one: tunnel %s's already", t->name,
				     t->tun_port, o->name);
		} else if (o->tun_vni == t->tun_vni) {
			fail(p, t->tun_vni_line ? t->tun_vni_line : t->line,
			     "[tunnel %s] vni: VNI %u on UDP port %u of this address is tunnel %s's already (tunnels "
			     "sharing a port differ by VNI)", t->name, t->tun_vni, t->tun_port, o->name);
		}
	}
}

/* A VM whose eth0 is a wire's end is on no segment: its eth0 is that
 * NIC. Known from the [links] lines by name, before the VMs' defaults. */
static void find_segments(struct parser *p)
{
	unsigned i, e;

	for (i = 0; i < p->npl; i++)
		for (e = 0; e < 2 && p->pl[i].wire; e++) {
			int x = config_vm_index(p->c, e ? p->pl[i].b : p->pl[i].a);

			if (x >= 0 && !p->c->vm[x].tunnel && strcmp(e ? p->pl[i].ifb : p->pl[i].ifa, "eth0") == 0 &&
			    p->c->vm[x].segment) {
				p->c->vm[x].segment = false;
				p->eth0_wire[x] = i + 1;
			}
		}
}

/* Every MAC in the system is unique: the VMs' eth0 (checked before) and
 * their wire NICs'. Said at the line of a MAC that was given. */
struct mac_of {
	unsigned vm;
	int nic;		/* -1: eth0 */
	const uint8_t *mac;
	int line;		/* 0: the default */
};

static void check_nic_macs(struct parser *p)
{
	static struct mac_of m[MV_NODES_MAX * (MV_NICS_MAX + 1)];
	const struct config *c = p->c;
	unsigned i, j, n = 0;

	for (i = 0; i < c->nvms; i++) {
		const struct cfg_vm *v = &c->vm[i];

		if (v->tunnel)
			continue;
		if (v->segment)
			m[n++] = (struct mac_of){ i, -1, v->mac, p->mac_given[i] ? p->mac_line[i] : 0 };
		for (j = 0; j < v->nnics; j++)
			m[n++] = (struct mac_of){ i, (int)j, v->nic[j].mac, v->nic[j].mac_line };
	}
	for (i = 0; i < n && !p->failed; i++)
		for (j = 0; j < i && !p->failed; j++) {
			const struct mac_of *say, *other;
			char key[MV_IFNAME_MAX + 8], name[MV_NAME_MAX + MV_IFNAME_MAX];

			if ((m[i].nic < 0 && m[j].nic < 0) || memcmp(m[i].mac, m[j].mac, 6))
				continue;
			say = m[i].line || !m[j].line ? &m[i] : &m[j];
			other = say == &m[i] ? &m[j] : &m[i];
			if (say->nic < 0)
				snprintf(key, sizeof(key), "mac");
			else
				snprintf(key, sizeof(key), "%s.mac", c->vm[say->vm].nic[say->nic].name);
			end_name(c, other->vm, other->nic, name, sizeof(name));
			fail(p, say->line ? say->line : c->vm[say->vm].line, "[vm %s] %s: same MAC as %s",
			     c->vm[say->vm].name, key, name);
		}
}

/* A tunnel's mac is a remote VM's, on the segment: not a VM's here, not
 * a wire's end (a cable carries any MAC). */
static void check_tunnel_macs(struct parser *p)
{
	const struct config *c = p->c;
	unsigned i, j;

	for (i = 0; i < c->nvms && !p->failed; i++) {
		const struct cfg_vm *t = &c->vm[i];

		if (!t->tunnel || !t->tun_mac_line)
			continue;
		for (j = 0; j < c->nlinks; j++)
			if (c->link[j].wire && (c->link[j].a == i || c->link[j].b == i)) {
				fail(p, t->tun_mac_line, "[tunnel %s] mac: not for a wire's end (line %d; a cable "
				     "carries any MAC)", t->name, c->link[j].line);
				return;
			}
		for (j = 0; j < c->nvms; j++)
			if (!c->vm[j].tunnel && memcmp(c->vm[j].mac, t->mac, 6) == 0) {
				fail(p, t->tun_mac_line, "[tunnel %s] mac: VM %s's MAC (the VM behind a tunnel is "
				     "another system's)", t->name, c->vm[j].name);
				return;
			}
	}
}

/* After [links] made the NICs: their keys, defaults and checks. */
static void finish_nics(struct parser *p)
{
	struct config *c = p->c;
	unsigned i, j;
	int line;

	for (i = 0; i < c->nvms && !p->failed; i++) {
		struct cfg_vm *v = &c->vm[i];
		const struct nic_keys *unwired = NULL;

		for (j = 0; j < p->nnk[i]; j++) {
			const struct nic_keys *e = &p->nk[i][j];
			int k = nic_index(v, e->name);
			struct cfg_nic *n;

			if (k < 0) {
				if (!unwired || e->line < unwired->line)
					unwired = e;
				continue;
			}
			n = &v->nic[k];
			if (e->v.mac_line) {
				memcpy(n->mac, e->v.mac, 6);
				n->mac_line = e->v.mac_line;
			}
			if (e->v.addr_line) {
				n->has_addr = true;
				n->addr = e->v.addr;
				n->prefix = e->v.prefix;
				n->addr_line = e->v.addr_line;
			}
			if (e->v.mtu_line) {
				n->mtu = e->v.mtu;
				n->mtu_line = e->v.mtu_line;
			}
			if (e->v.offloads_line) {
				n->offloads = e->v.offloads;
				n->offloads_line = e->v.offloads_line;
			}
		}
		if (unwired && strcmp(unwired->name, "eth0") == 0) {
			fail(p, unwired->line, "[vm %s] %s: %s's eth0 is on the segment (set it with mac, address, "
			     "mtu, offloads)", v->name, unwired->first_key, v->name);
			break;
		} else if (unwired) {
			fail(p, unwired->line, "[vm %s] %s: no wire in [links] ends at %s:%s", v->name,
			     unwired->first_key, v->name, unwired->name);
			break;
		}
		for (j = 0; j < v->nnics; j++) {
			struct cfg_nic *n = &v->nic[j];

			if (!n->mtu_line)
				n->mtu = v->mtu;
			if (!n->offloads_line)
				n->offloads = v->offloads;
			if (!n->mac_line) {	/* 52:54:00:4e:<the VM's place>:<the NIC's> */
				static const uint8_t base[4] = { 0x52, 0x54, 0x00, 0x4e };

				memcpy(n->mac, base, 4);
				n->mac[4] = p->ordinal[i];
				n->mac[5] = j + 1;
			}
		}
		/* The passthrough NIC: a name of its own. */
		line = p->passthrough_name_line[i];
		if (line && !*v->passthrough) {
			fail(p, line, "[vm %s] passthrough_name: only with passthrough", v->name);
		} else if (*v->passthrough) {
			int k = nic_index(v, v->passthrough_name);

			if (v->segment && strcmp(v->passthrough_name, "eth0") == 0)
				fail(p, line, "[vm %s] passthrough_name: eth0 is the segment's NIC", v->name);
			else if (k >= 0 && line)
				fail(p, line, "[vm %s] passthrough_name: %s:%s is the end of the wire at line %d", v->name,
				     v->name, v->nic[k].name, v->nic[k].line);
			else if (k >= 0)
				fail(p, v->nic[k].line, "[links] %s: %s's passthrough NIC is called %s (passthrough at "
				     "line %d; set passthrough_name to another name)", p->pl[p->nic_pl[i][k]].key, v->name,
				     v->nic[k].name, v->passthrough_line);
		}
	}
	if (!p->failed)
		check_nic_macs(p);
	if (!p->failed)
		check_tunnel_macs(p);
	for (i = 0; i < c->nlinks && !p->failed; i++)
		check_link_mtu(p, &c->link[i]);
}

/* ---- automatic wire addresses and routes ---- */

/* Whether a/pa and b/pb share an address. */
static bool nets_overlap(uint32_t a, unsigned pa, uint32_t b, unsigned pb)
{
	return ((a ^ b) & prefix_mask(pa < pb ? pa : pb)) == 0;
}

/* Whether net/prefix overlaps an address or route the config gives:
 * eth0's and the NICs' addresses with their networks, routes (but the
 * default route, which overlaps everything) and their gateways. */
static bool overlaps_given(const struct parser *p, uint32_t net, unsigned prefix)
{
	const struct config *c = p->c;
	unsigned i, j;

	for (i = 0; i < c->nvms; i++) {
		const struct cfg_vm *v = &c->vm[i];

		if (v->tunnel)
			continue;
		if (p->addr_line[i] && v->has_addr && nets_overlap(net, prefix, v->addr, v->prefix))
			return true;
		for (j = 0; j < v->nnics; j++)
			if (v->nic[j].addr_line && nets_overlap(net, prefix, v->nic[j].addr, v->nic[j].prefix))
				return true;
		for (j = 0; j < v->nroutes; j++)
			if ((v->route[j].prefix && nets_overlap(net, prefix, v->route[j].net, v->route[j].prefix)) ||
			    nets_overlap(net, prefix, v->route[j].via, 32))
				return true;
	}
	return false;
}

#define AUTO_WIRE_NET	0x0a000000u	/* the Nth wire without addresses: 10.0.N.1/30 and 10.0.N.2/30 */
#define AUTO_WIRE_LAST	255

/* addressing = auto: a /30 of 10.0.N.0 for each wire between two VMs
 * whose NICs have no address, in link order; N counts from 1, skipping
 * networks the config uses. */
static void auto_wire_addresses(struct parser *p)
{
	struct config *c = p->c;
	unsigned i, n = 1;

	if (!c->auto_addr)
		return;
	for (i = 0; i < c->nlinks && !p->failed; i++) {
		const struct cfg_link *l = &c->link[i];
		struct cfg_nic *a, *b;
		char ea[MV_NAME_MAX + MV_IFNAME_MAX], eb[MV_NAME_MAX + MV_IFNAME_MAX];

		if (!l->wire || l->nic_a < 0 || l->nic_b < 0)	/* a tunnel's end has no address */
			continue;
		a = &c->vm[l->a].nic[l->nic_a];
		b = &c->vm[l->b].nic[l->nic_b];
		if (a->has_addr || b->has_addr)	/* set by hand */
			continue;
		while (n <= AUTO_WIRE_LAST && overlaps_given(p, AUTO_WIRE_NET | n << 8, 30))
			n++;
		if (n > AUTO_WIRE_LAST) {
			fail(p, l->line, "[links] wire %s-%s: no 10.0.N.0/30 (N up to %d) left that overlaps no address "
			     "or route of the config; give its NICs addresses, or use addressing = manual",
			     end_name(c, l->a, l->nic_a, ea, sizeof(ea)), end_name(c, l->b, l->nic_b, eb, sizeof(eb)),
			     AUTO_WIRE_LAST);
			return;
		}
		a->addr = AUTO_WIRE_NET | n << 8 | 1;
		b->addr = AUTO_WIRE_NET | n << 8 | 2;
		a->prefix = b->prefix = 30;
		a->has_addr = b->has_addr = true;
		n++;
	}
}

/* A VM that forwards for others: routes lead through it. */
static bool forwards(const struct cfg_vm *v)
{
	return !v->tunnel && !v->external && v->ip_forward;
}

/* Whether VM v has a wire NIC on net/prefix. */
static bool on_net(const struct cfg_vm *v, uint32_t net, unsigned prefix)
{
	unsigned j;

	for (j = 0; j < v->nnics; j++)
		if (v->nic[j].has_addr && v->nic[j].prefix == prefix && ((v->nic[j].addr ^ net) & prefix_mask(prefix)) == 0)
			return true;
	return false;
}

/* routing = auto: every VM with two or more wire NICs forwards (unless
 * ip_forward = no), and every VM gets a route to each network of a wire
 * NIC it is not on, through the neighbour on a shortest path over the
 * wires whose two NICs have addresses (breadth first, neighbours in
 * config order: a tie goes to the neighbour declared first), toward the
 * nearest VM on that network that forwards, else the nearest. Only VMs
 * that forward are passed through; tunnels and external guests never
 * are, and the latter get nothing. A route the user wrote for the same
 * network stays. */
static void auto_routes(struct parser *p)
{
	static bool adj[MV_NODES_MAX][MV_NODES_MAX];
	static uint32_t gw[MV_NODES_MAX][MV_NODES_MAX];	/* v's address on the first wire between u and v */
	static struct { uint32_t net; unsigned prefix; } nets[MV_LINKS_MAX * 2];
	struct config *c = p->c;
	unsigned i, j, k, s, nnets = 0;

	if (!p->routing_line)
		return;
	for (i = 0; i < c->nvms; i++)
		if (!c->vm[i].tunnel && !c->vm[i].external && c->vm[i].nnics >= 2 && !p->ip_forward_line[i])
			c->vm[i].ip_forward = true;
	memset(adj, 0, sizeof(adj));
	for (i = 0; i < c->nlinks; i++) {
		const struct cfg_link *l = &c->link[i];
		const struct cfg_nic *a, *b;

		if (!l->wire)
			continue;
		a = l->nic_a >= 0 ? &c->vm[l->a].nic[l->nic_a] : NULL;
		b = l->nic_b >= 0 ? &c->vm[l->b].nic[l->nic_b] : NULL;
		for (k = 0; k < 2; k++) {	/* the networks, each once, in link order */
			const struct cfg_nic *n = k ? b : a;
			uint32_t net;

			if (!n || !n->has_addr)
				continue;
			net = n->addr & prefix_mask(n->prefix);
			for (j = 0; j < nnets && !(nets[j].net == net && nets[j].prefix == n->prefix); j++)
				;
			if (j == nnets) {
				nets[nnets].net = net;
				nets[nnets++].prefix = n->prefix;
			}
		}
		if (a && b && a->has_addr && b->has_addr && !adj[l->a][l->b]) {
			adj[l->a][l->b] = adj[l->b][l->a] = true;
			gw[l->a][l->b] = b->addr;
			gw[l->b][l->a] = a->addr;
		}
	}
	for (s = 0; s < c->nvms && !p->failed; s++) {
		struct cfg_vm *v = &c->vm[s];
		int dist[MV_NODES_MAX], first[MV_NODES_MAX];
		unsigned queue[MV_NODES_MAX], head = 0, tail = 0;
		struct cfg_route add[CFG_ROUTES_MAX];
		unsigned nadd = 0, need = v->nroutes;

		if (v->tunnel || v->external)
			continue;
		for (i = 0; i < c->nvms; i++)
			dist[i] = first[i] = -1;
		dist[s] = 0;
		queue[tail++] = s;
		while (head < tail) {
			unsigned u = queue[head++];

			if (u != s && !forwards(&c->vm[u]))
				continue;
			for (i = 0; i < c->nvms; i++)
				if (adj[u][i] && dist[i] < 0) {
					dist[i] = dist[u] + 1;
					first[i] = u == s ? (int)i : first[u];
					queue[tail++] = i;
				}
		}
		for (k = 0; k < nnets; k++) {
			int best = -1;
			bool have = false;

			if (on_net(v, nets[k].net, nets[k].prefix))
				continue;
			for (i = 0; i < c->nvms; i++) {	/* the VMs on it: forwarding, nearest, first neighbour */
				if (dist[i] <= 0 || !on_net(&c->vm[i], nets[k].net, nets[k].prefix))
					continue;
				if (best < 0 || forwards(&c->vm[i]) > forwards(&c->vm[best]) ||
				    (forwards(&c->vm[i]) == forwards(&c->vm[best]) &&
				     (dist[i] < dist[best] || (dist[i] == dist[best] && first[i] < first[best]))))
					best = i;
			}
			if (best < 0)
				continue;	/* not reachable over addressed wires */
			for (j = 0; j < v->nroutes && !have; j++)
				have = v->route[j].net == nets[k].net && v->route[j].prefix == nets[k].prefix;
			if (have)	/* the user's route wins */
				continue;
			if (++need <= CFG_ROUTES_MAX)
				add[nadd++] = (struct cfg_route){ nets[k].net, nets[k].prefix, gw[s][first[best]],
								  p->routing_line };
		}
		if (need > CFG_ROUTES_MAX) {
			fail(p, p->routing_line, "[system] routing: %s needs %u routes, more than %d (its route keys "
			     "and the computed ones together)", v->name, need, CFG_ROUTES_MAX);
			return;
		}
		memcpy(&v->route[v->nroutes], add, nadd * sizeof(add[0]));
		v->nroutes += nadd;
	}
}

/* ---- [link] sections ---- */

/* Whether s[0..len) is side (0: a, 1: b) of link l as a [link] section
 * names it: the node's name, with :IFNAME for a wire's VM end. */
static bool end_is(const struct config *c, const struct cfg_link *l, int side, const char *s, size_t len)
{
	const struct cfg_vm *v = &c->vm[side ? l->b : l->a];
	int nic = side ? l->nic_b : l->nic_a;
	size_t nl = strlen(v->name), il;

	if (len < nl || strncmp(s, v->name, nl) != 0)
		return false;
	if (!l->wire || nic < 0)
		return len == nl;
	il = strlen(v->nic[nic].name);
	return len == nl + 1 + il && s[nl] == ':' && strncmp(s + nl + 1, v->nic[nic].name, il) == 0;
}

/* The link whose ends are x and y, and the direction x->y (0: a->b), or -1. */
static int match_link(const struct config *c, const char *x, size_t xl, const char *y, size_t yl, int *dir)
{
	unsigned i;

	for (i = 0; i < c->nlinks; i++) {
		const struct cfg_link *l = &c->link[i];

		for (*dir = 0; *dir < 2; (*dir)++)
			if (end_is(c, l, *dir, x, xl) && end_is(c, l, !*dir, y, yl))
				return i;
	}
	return -1;
}

/* Each [link] section's settings into its link's directions. */
static void resolve_link_sections(struct parser *p)
{
	struct config *c = p->c;
	unsigned i;

	for (i = 0; i < p->nls && !p->failed; i++) {
		const struct link_section *ls = &p->ls[i];
		const char *s = ls->spec, *gt = strchr(s, '>'), *dash;
		char ea[MV_NAME_MAX + MV_IFNAME_MAX], eb[MV_NAME_MAX + MV_IFNAME_MAX];
		int k = -1, dir = 0, d, found = 0;
		unsigned n, first;
		struct cfg_link *l;

		if (gt) {	/* A->B: one direction ('>' is in no name) */
			if (gt > s && gt[-1] == '-' && !strchr(gt + 1, '>'))
				k = match_link(c, s, gt - 1 - s, gt + 1, strlen(gt + 1), &dir);
			found = k >= 0;
		} else {	/* A-B: names may hold '-': where both halves are ends */
			for (dash = strchr(s, '-'); dash; dash = strchr(dash + 1, '-')) {
				int kk = match_link(c, s, dash - s, dash + 1, strlen(dash + 1), &d);

				if (kk >= 0 && (!found++ || kk != k)) {
					if (found > 1) {
						fail(p, ls->line, "[link %s]: names more than one link (split it as "
						     "[link A->B] and [link B->A])", s);
						return;
					}
					k = kk;
					dir = d;
				}
			}
		}
		if (!found) {
			fail(p, ls->line, "[link %s]: no such link in [links] (a link on the segment is named by its two "
			     "VMs, a wire by its ends, VM:IFNAME or a tunnel's name)", s);
			return;
		}
		l = &c->link[k];
		first = gt ? (unsigned)dir : 0;
		n = gt ? 1 : 2;
		for (d = first; d < (int)(first + n); d++)
			if (p->dir_line[k][d]) {
				fail(p, ls->line, "[link %s]: %s->%s is set already by the section at line %d", s,
				     end_name(c, d ? l->b : l->a, d ? l->nic_b : l->nic_a, ea, sizeof(ea)),
				     end_name(c, d ? l->a : l->b, d ? l->nic_a : l->nic_b, eb, sizeof(eb)),
				     p->dir_line[k][d]);
				return;
			}
		for (d = first; d < (int)(first + n); d++) {
			l->imp[d] = ls->imp;
			p->dir_line[k][d] = ls->line;
		}
		if (!l->imp_line)
			l->imp_line = ls->line;
	}
}

/* The keys that only mean something with an image, or with a kernel. */
static void check_guest_keys(struct parser *p, const struct cfg_vm *v)
{
	static const char only_image[] = "only with image = PATH";
	const struct { int line; const char *key, *why; } rules[] = {
		{ !v->image[0] ? v->image_format_line : 0, "image_format", only_image },
		{ !v->image[0] ? v->image_backing_line : 0, "image_backing", only_image },
		{ !v->image[0] ? v->firmware_line : 0, "firmware", only_image },
		{ !v->image[0] ? v->persist_line : 0, "persist", only_image },
		{ !v->image[0] ? v->cloud_init_line : 0, "cloud_init", only_image },
		{ !v->image[0] ? v->ssh_key_line : 0, "ssh_key", only_image },
		{ !v->image[0] ? v->user_data_line : 0, "user_data", only_image },
		{ !v->cloud_init ? v->ssh_key_line : 0, "ssh_key", "not with cloud_init = no (it goes in the seed)" },
		{ !v->cloud_init ? v->user_data_line : 0, "user_data", "not with cloud_init = no (it goes in the seed)" },
		{ v->user_data[0] ? v->ssh_key_line : 0, "ssh_key",
		  "not with user_data (multivm's user-data installs the key; put it in yours)" },
		{ v->image[0] && !v->kernel[0] ? v->initrd_line : 0, "initrd",
		  "only with kernel (an image without kernel boots by its own bootloader)" },
		{ v->image[0] && !v->kernel[0] ? v->append_line : 0, "append",
		  "only with kernel (an image without kernel boots by its own bootloader)" },
	};
	size_t i;

	for (i = 0; i < NKEYS(rules); i++)
		if (rules[i].line) {
			fail(p, rules[i].line, "[vm %s] %s: %s", v->name, rules[i].key, rules[i].why);
			return;
		}
}

/* Every host has an address, no two the same; every VM and tunnel is on
 * a host that exists: the one host by default, named when there are
 * several. */
static void finish_hosts(struct parser *p)
{
	struct config *c = p->c;
	unsigned i, j;
	char a[INET_ADDRSTRLEN];

	for (i = 0; i < c->nhosts && !p->failed; i++) {
		const struct cfg_host *h = &c->host[i];

		if (!h->addr_line) {
			fail(p, h->line, "[host %s] address: required (the host's address on the network between hosts)",
			     h->name);
			return;
		}
		for (j = 0; j < i; j++)
			if (c->host[j].addr == h->addr) {
				fail(p, h->addr_line, "[host %s] address: %s is host %s's already (line %d)", h->name,
				     ipv4_str(h->addr, a), c->host[j].name, c->host[j].addr_line);
				return;
			}
	}
	for (i = 0; i < c->nvms && !p->failed; i++) {
		struct cfg_vm *v = &c->vm[i];
		const char *kind = v->tunnel ? "tunnel" : "vm";

		v->host = -1;
		if (v->host_line) {
			v->host = config_host_index(c, p->host_of[i]);
			if (v->host < 0)
				fail(p, v->host_line, "[%s %s] host: no [host %s] in the file", kind, v->name, p->host_of[i]);
		} else if (c->nhosts == 1) {
			v->host = 0;
		} else if (c->nhosts > 1) {
			fail(p, v->line, "[%s %s]: host required (the file has %u [host] sections)", kind, v->name,
			     c->nhosts);
		}
	}
}

static void finish(struct parser *p)
{
	struct config *c = p->c;
	unsigned i, j, nth, ordinal = 0;

	for (i = nth = 0; i < c->nvms; i++)
		nth += !c->vm[i].tunnel;
	if (!p->failed && nth == 0)
		fail(p, p->line, "no VMs: declare at least one [vm NAME] section");
	find_segments(p);
	for (i = 0, nth = 0; i < c->nvms && !p->failed; i++) {
		struct cfg_vm *v = &c->vm[i];

		if (v->tunnel) {
			check_tunnel(p, i);
			continue;
		}
		if (!v->offloads_line)
			v->offloads = c->offloads;
		if (!v->mtu_line)
			v->mtu = c->mtu;
		p->ordinal[i] = ++ordinal;
		if (!v->segment && (p->mac_given[i] || v->has_addr)) {
			const struct pending_link *w = &p->pl[p->eth0_wire[i] - 1];
			bool mac = p->mac_given[i] && (!v->has_addr || p->mac_line[i] < p->addr_line[i]);

			fail(p, mac ? p->mac_line[i] : p->addr_line[i], "[vm %s] %s: %s is on no segment (its eth0 is "
			     "the end of the wire at line %d; use eth0.%s)", v->name, mac ? "mac" : "address", v->name,
			     w->line, mac ? "mac" : "address");
			break;
		}
		if (c->auto_addr && !v->has_addr && v->segment) {	/* the Nth VM is 192.168.1.N/24 */
			v->addr = CFG_AUTO_NET | ordinal;
			v->prefix = 24;
			v->has_addr = true;
		}
		if (!p->mac_given[i]) {	/* by VM, not node: tunnels take none */
			static const uint8_t base[5] = { 0x52, 0x54, 0x00, 0x4d, 0x56 };

			memcpy(v->mac, base, 5);
			v->mac[5] = ++nth;
		}
		for (j = 0; j < i && v->segment; j++) {
			if (c->vm[j].tunnel || !c->vm[j].segment)
				continue;
			if (memcmp(c->vm[j].mac, v->mac, 6) == 0)
				fail(p, p->mac_given[i] ? p->mac_line[i] : v->line,
				     "[vm %s] mac: same MAC as %s", v->name, c->vm[j].name);
			else if (v->has_addr && c->vm[j].has_addr && v->addr == c->vm[j].addr)
				fail(p, p->addr_line[i] ? p->addr_line[i] : p->addr_line[j],
				     "[vm %s] address: same address as %s%s", v->name, c->vm[j].name,
				     p->addr_line[i] && p->addr_line[j] ? "" : " (a VM without address is 192.168.1.N/24, N its place)");
		}
	}
	for (i = 0; i < c->nvms && !p->failed; i++) {
		const struct cfg_vm *v = &c->vm[i];
		int line = v->pci_mmio_line ? v->pci_mmio_line : v->pci_io_line ? v->pci_io_line : v->pci_irq_line;

		if (line && strncmp(v->passthrough, "pci:", 4) != 0)
			fail(p, line, "[vm %s] %s: only with passthrough = pci:DDDD:BB:DD.F", v->name,
			     v->pci_mmio_line ? "pci_mmio" : v->pci_io_line ? "pci_io" : "pci_irq");
		else if (v->frontend_line && !v->external)
			fail(p, v->frontend_line, "[vm %s] %s: only with guest = external (multivm's own QEMU "
			     "has an identity of its own)", v->name, v->frontend_user[0] ? "frontend_user" : "frontend_group");
		else if (v->external && p->qemu_key_line[i])
			fail(p, p->qemu_key_line[i], "[vm %s] %s: not with guest = external "
			     "(multivm starts no QEMU for this VM; its frontend decides)", v->name, p->qemu_key[i]);
		else
			check_guest_keys(p, v);
	}
	if (!p->failed)
		resolve_links(p);
	if (!p->failed)
		finish_nics(p);
	if (!p->failed)
		resolve_link_sections(p);
	if (!p->failed)
		auto_wire_addresses(p);
	if (!p->failed)
		auto_routes(p);
	if (!p->failed)
		finish_hosts(p);
	if (!p->failed && c->nhosts && hostplan_check(c, p->err, p->errlen) < 0)
		p->failed = true;
}

static void defaults(struct config *c, const char *path)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->path, sizeof(c->path), "%s", path);
	snprintf(c->name, sizeof(c->name), "multi");
	c->engine = ENGINE_AUTO;
	c->auto_addr = true;
	c->link_queue_size = MV_QSIZE_DEFAULT;
	snprintf(c->user, sizeof(c->user), "multivm");
	parse_uid_range(MV_UID_RANGE_DEFAULT, &c->uid_first, &c->uid_last);
	c->log_max = 4 << 20;
	c->offloads = true;
	c->mtu = MV_MTU_DEFAULT;
	c->vni_base = CFG_VNI_BASE_DEFAULT;
	c->tunnel_port = MV_VXLAN_PORT;
}

static int parse(struct parser *p)
{
	int rc;

	p->last_wire = -1;
	rc = ini_parse_stream(reader, p, handler, p);

	/* inih reports lines it could not read as key = value or [section]. */
	if (rc > 0 && !p->failed)
		fail(p, rc, "syntax error (expected 'key = value' or '[section]')");
	if (!p->failed)
		finish(p);
	return p->failed ? -1 : 0;
}

int config_load_string(struct config *c, const char *text, const char *name, char *err, size_t errlen)
{
	static struct parser p;	/* large: keep it off the stack */

	memset(&p, 0, sizeof(p));
	defaults(c, name);
	p.c = c;
	p.file = name;
	p.err = err;
	p.errlen = errlen;
	p.s = text;
	return parse(&p);
}

int config_load_file(struct config *c, const char *path, char *err, size_t errlen)
{
	static struct parser p;
	int rc;

	memset(&p, 0, sizeof(p));
	defaults(c, path);
	p.f = fopen(path, "r");
	if (!p.f) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	p.c = c;
	p.file = path;
	p.err = err;
	p.errlen = errlen;
	rc = parse(&p);
	fclose(p.f);
	return rc;
}

int config_load_default(struct config *c, char *err, size_t errlen)
{
	return config_load_string(c, config_default_text, "(built-in)", err, errlen);
}

int config_host_index(const struct config *c, const char *name)
{
	unsigned i;

	for (i = 0; i < c->nhosts; i++)
		if (strcmp(c->host[i].name, name) == 0)
			return i;
	return -1;
}

int config_vm_index(const struct config *c, const char *name)
{
	unsigned i;

	for (i = 0; i < c->nvms; i++)
		if (strcmp(c->vm[i].name, name) == 0)
			return i;
	return -1;
}

bool config_linked(const struct config *c, unsigned a, unsigned b)
{
	unsigned i;

	for (i = 0; i < c->nlinks; i++)
		if ((c->link[i].a == a && c->link[i].b == b) || (c->link[i].a == b && c->link[i].b == a))
			return true;
	return false;
}

/* For tests and docs: the keys of each section, read-only. */
const char *config_key_name(const char *section, unsigned i)
{
	static const struct {
		const char *section;
		const struct key *keys;
		size_t n;
	} sections[] = {
		{ "system", system_keys, NKEYS(system_keys) },
		{ "vm", vm_keys, NKEYS(vm_keys) },
		{ "tunnel", tunnel_keys, NKEYS(tunnel_keys) },
		{ "links", links_keys, NKEYS(links_keys) },
		{ "link", link_keys, NKEYS(link_keys) },
		{ "host", host_keys, NKEYS(host_keys) },
	};
	size_t s;

	for (s = 0; s < NKEYS(sections); s++)
		if (strcmp(section, sections[s].section) == 0)
			break;
	if (s == NKEYS(sections))
		return NULL;
	if (i < sections[s].n)
		return sections[s].keys[i].name;
	/* A VM's wire NICs' keys, as IFNAME.mac and so on. */
	i -= sections[s].n;
	if (strcmp(section, "vm") == 0 && i < NKEYS(nic_keys))
		return nic_keys[i].name;
	return NULL;
}
