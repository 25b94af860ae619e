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

#include "common/mac.h"
#include "common/pciaddr.h"

#define MAX_PENDING_LINKS MV_LINKS_MAX

enum section { SEC_NONE, SEC_SYSTEM, SEC_VM, SEC_LINKS, SEC_TUNNEL };

struct pending_link {
	char a[MV_NAME_MAX], b[MV_NAME_MAX];
	int line;
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
	char sec_name[64];		/* as written, for messages */
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
	int mesh_line;
	/* [tunnel NAME]: the required keys given (bit 0 local, 1 remote, 2 vni). */
	unsigned tun_keys[MV_NODES_MAX];
	int system_line, links_line;	/* where those sections opened, 0: not yet */
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
	v->line = p->line;
	if (strcmp(kind, "tunnel") == 0) {
		v->tunnel = v->external = true;
		v->tun_port = MV_VXLAN_PORT;
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
static void open_section(struct parser *p, const char *line)
{
	char buf[128], *name, *end;

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
	} else {
		p->sec = SEC_NONE;
		fail(p, p->line, "[%s]: unknown section (expected [system], [vm NAME], [tunnel NAME] or [links])", name);
	}
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

/* Sets key k of the current section from keys[]; false if k is not one. */
static bool set_key(struct parser *p, const struct key *keys, size_t n, const char *k, const char *v)
{
	const struct key *key = find_key(keys, n, k);

	if (!key)
		return false;
	if (first_time(p, key - keys, k))
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

static const struct key system_keys[] = {
	{ "name", sys_name, false },
	{ "engine", sys_engine, false },
	{ "addressing", sys_addressing, false },
	{ "kernel", sys_kernel, false },
	{ "link_queue_size", sys_link_queue_size, false },
	{ "user", sys_user, false },
	{ "log_max", sys_log_max, false },
	{ "offloads", sys_offloads, false },
	{ "mtu", sys_mtu, false },
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

static void vm_mac(struct parser *p, const char *k, const char *v)
{
	struct cfg_vm *vm = &p->c->vm[p->vm];
	const char *s = p->sec_name;

	if (mac_parse(v, vm->mac) < 0)
		fail(p, p->line, "[%s] mac: '%s' is not a MAC address (aa:bb:cc:dd:ee:ff)", s, v);
	else if (vm->mac[0] & 1)
		fail(p, p->line, "[%s] mac: '%s' is a multicast address", s, v);
	else if (!(vm->mac[0] | vm->mac[1] | vm->mac[2] | vm->mac[3] | vm->mac[4] | vm->mac[5]))
		fail(p, p->line, "[%s] mac: the all-zero address is not usable", s);
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
	{ "offloads", vm_offloads, false },
	{ "mtu", vm_mtu, false },
};

static void vm_key(struct parser *p, const char *k, const char *v)
{
	const struct key *key = find_key(vm_keys, NKEYS(vm_keys), k);

	/* The first QEMU key, set or not: an error with guest = external. */
	if (key && key->qemu && !p->qemu_key_line[p->vm]) {
		p->qemu_key_line[p->vm] = p->line;
		p->qemu_key[p->vm] = key->name;
	}
	if (!set_key(p, vm_keys, NKEYS(vm_keys), k, v))
		fail(p, p->line, "[%s] %s: unknown key", p->sec_name, k);
}

/* [tunnel NAME] */

/* An IPv4 address a tunnel can use: not multicast nor the limited
 * broadcast; the unspecified address only where any is allowed. */
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
	p->tun_keys[p->vm] |= 4;
}

static void tun_port(struct parser *p, const char *k, const char *v)
{
	struct cfg_vm *t = &p->c->vm[p->vm];

	if (!parse_uint(v, 1, 65535, &t->tun_port))
		fail(p, p->line, "[%s] port: '%s' is not a UDP port (1 to 65535)", p->sec_name, v);
	t->tun_port_line = p->line;
}

static const struct key tunnel_keys[] = {
	{ "local", tun_local, false },
	{ "remote", tun_remote, false },
	{ "vni", tun_vni, false },
	{ "port", tun_port, false },
};

/* [links]: mesh, else every key is a VM and its value the VMs it links to. */

static void links_mesh(struct parser *p, const char *k, const char *v)
{
	if (strcmp(v, "yes") == 0)
		p->mesh_line = p->line;
	else if (strcmp(v, "no") != 0)
		fail(p, p->line, "[links] mesh: '%s' is not yes or no", v);
}

static const struct key links_keys[] = {
	{ "mesh", links_mesh, false },
};

static void links_key(struct parser *p, const char *k, const char *v)
{
	char buf[512], *tok, *save = NULL;

	if (set_key(p, links_keys, NKEYS(links_keys), k, v))
		return;
	if (strlen(v) >= sizeof(buf)) {
		fail(p, p->line, "[links] %s: value too long", k);
		return;
	}
	strcpy(buf, v);
	for (tok = strtok_r(buf, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
		struct pending_link *l;

		if (p->npl >= MAX_PENDING_LINKS) {
			fail(p, p->line, "[links] %s: too many links", k);
			return;
		}
		if (strlen(k) >= MV_NAME_MAX || strlen(tok) >= MV_NAME_MAX) {
			fail(p, p->line, "[links] %s: name too long", k);
			return;
		}
		l = &p->pl[p->npl++];
		strcpy(l->a, k);
		strcpy(l->b, tok);
		l->line = p->line;
	}
}

_Static_assert(NKEYS(system_keys) <= 32 && NKEYS(vm_keys) <= 32 && NKEYS(links_keys) <= 32 &&
	       NKEYS(tunnel_keys) <= 32,
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
			fail(p, p->line, "[%s] %s: unknown key (a tunnel has local, remote, vni and port)",
			     p->sec_name, name);
		break;
	case SEC_NONE:
		fail(p, p->line, "%s: key outside any section", name);
		break;
	}
	return 1;
}

/* ---- whole-file checks ---- */

static void add_link(struct parser *p, const char *key, unsigned a, unsigned b, int line)
{
	struct config *c = p->c;
	unsigned i;

	if (a > b) {
		unsigned t = a;

		a = b;
		b = t;
	}
	for (i = 0; i < c->nlinks; i++)
		if (c->link[i].a == a && c->link[i].b == b) {
			fail(p, line, "[links] %s: link between %s and %s given twice (first at line %d)",
			     key, c->vm[a].name, c->vm[b].name, c->link[i].line);
			return;
		}
	c->link[c->nlinks].a = a;
	c->link[c->nlinks].b = b;
	c->link[c->nlinks].line = line;
	c->nlinks++;
}

static int cmp_link(const void *x, const void *y)
{
	const struct cfg_link *a = x, *b = y;

	return a->a != b->a ? (int)a->a - (int)b->a : (int)a->b - (int)b->b;
}

/* A link carries what its sender's MTU allows: a receiver of a smaller
 * one would drop the larger frames as malformed, and a tunnel carries
 * frames of the default MTU (VXLAN_MAX_FRAME). */
static void check_link_mtu(struct parser *p, const struct cfg_link *l)
{
	const struct cfg_vm *a = &p->c->vm[l->a], *b = &p->c->vm[l->b];

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

static void resolve_links(struct parser *p)
{
	struct config *c = p->c;
	unsigned i, j;

	/* With mesh = yes only links to tunnels are listed. */
	for (i = 0; i < p->npl && p->mesh_line; i++) {
		int a = config_vm_index(c, p->pl[i].a), b = config_vm_index(c, p->pl[i].b);

		if (!(a >= 0 && c->vm[a].tunnel) && !(b >= 0 && c->vm[b].tunnel)) {
			fail(p, p->pl[i].line, "[links] %s: list links or use mesh = yes, not both", p->pl[i].a);
			return;
		}
	}
	if (p->mesh_line)	/* the VMs; a tunnel is linked by name */
		for (i = 0; i < c->nvms; i++)
			for (j = i + 1; j < c->nvms; j++)
				if (!c->vm[i].tunnel && !c->vm[j].tunnel)
					add_link(p, "mesh", i, j, p->mesh_line);
	for (i = 0; i < p->npl && !p->failed; i++) {
		struct pending_link *l = &p->pl[i];
		int a = config_vm_index(c, l->a), b = config_vm_index(c, l->b);

		if (a < 0)
			fail(p, l->line, "[links] %s: no VM called '%s'", l->a, l->a);
		else if (b < 0)
			fail(p, l->line, "[links] %s: no VM called '%s'", l->a, l->b);
		else if (a == b)
			fail(p, l->line, "[links] %s: a VM cannot link to itself", l->a);
		else if (c->vm[a].tunnel && c->vm[b].tunnel)
			fail(p, l->line, "[links] %s: a tunnel links only to VMs, not to tunnel %s", l->a, l->b);
		else
			add_link(p, l->a, a, b, l->line);
	}
	qsort(c->link, c->nlinks, sizeof(c->link[0]), cmp_link);
	for (i = 0; i < c->nlinks && !p->failed; i++)
		check_link_mtu(p, &c->link[i]);
}

/* Required keys, and no two tunnels on the same UDP port of one address. */
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

		if (o->tunnel && o->tun_port == t->tun_port &&
		    (o->tun_local == t->tun_local || !o->tun_local || !t->tun_local))
			fail(p, t->tun_port_line ? t->tun_port_line : t->line,
			     "[tunnel %s] port: UDP port %u on this address is tunnel %s's already", t->name,
			     t->tun_port, o->name);
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
		ordinal++;
		if (c->auto_addr && !v->has_addr) {	/* the Nth VM is 192.168.1.N/24 */
			v->addr = CFG_AUTO_NET | ordinal;
			v->prefix = 24;
			v->has_addr = true;
		}
		if (!p->mac_given[i]) {	/* by VM, not node: tunnels take none */
			static const uint8_t base[5] = { 0x52, 0x54, 0x00, 0x4d, 0x56 };

			memcpy(v->mac, base, 5);
			v->mac[5] = ++nth;
		}
		for (j = 0; j < i; j++) {
			if (c->vm[j].tunnel)
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
		else if (v->external && p->qemu_key_line[i])
			fail(p, p->qemu_key_line[i], "[vm %s] %s: not with guest = external "
			     "(multivm starts no QEMU for this VM; its frontend decides)", v->name, p->qemu_key[i]);
	}
	if (!p->failed)
		resolve_links(p);
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
	c->log_max = 4 << 20;
	c->offloads = true;
	c->mtu = MV_MTU_DEFAULT;
}

static int parse(struct parser *p)
{
	int rc = ini_parse_stream(reader, p, handler, p);

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
	};
	size_t s;

	for (s = 0; s < NKEYS(sections); s++)
		if (strcmp(section, sections[s].section) == 0)
			return i < sections[s].n ? sections[s].keys[i].name : NULL;
	return NULL;
}
