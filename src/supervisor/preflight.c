#include "supervisor/preflight.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "config/hostplan.h"
#include "passthrough/pci.h"
#include "supervisor/fit.h"
#include "supervisor/image.h"
#include "supervisor/qemu.h"

const struct preflight_host *preflight_real_host(void)
{
	static struct preflight_host h = { .kvm_boots = kvm_boots, .kvm_usable = kvm_usable };

	h.sysfs = pci_sysfs();
	return &h;
}

bool plan_needs_qemu(const struct run_plan *p)
{
	unsigned i;

	for (i = 0; i < p->cfg.nvms && !p->no_guests; i++)
		if (!p->cfg.vm[i].external)
			return true;
	return false;
}

/* "0-3,6" for the CPUs of set, cut short to fit len. */
static void cpulist(const cpu_set_t *set, char *out, size_t len)
{
	size_t at = 0;
	int i, j;

	out[0] = 0;
	for (i = 0; i < CPU_SETSIZE && at < len; i = j) {
		if (!CPU_ISSET(i, set)) {
			j = i + 1;
			continue;
		}
		for (j = i + 1; j < CPU_SETSIZE && CPU_ISSET(j, set); j++)
			;
		at += snprintf(out + at, len - at, j - 1 > i ? "%s%d-%d" : "%s%d", at ? "," : "", i, j - 1);
	}
}

/* A cpuset must name only CPUs this process may use: the CPUs that exist
 * and that whoever started `multivm run` (taskset, a cgroup) allows. */
static int check_cpusets(const struct config *c, char *err, size_t errlen)
{
	cpu_set_t have;
	char list[256];
	unsigned i, k;

	if (sched_getaffinity(0, sizeof(have), &have) < 0)
		return 0;	/* cannot tell: the VM's start will say */
	for (i = 0; i < c->nvms; i++) {
		const struct cfg_vm *v = &c->vm[i];

		if (!v->cpuset_line)
			continue;
		for (k = 0; k < CFG_CPUS_MAX; k++) {
			if (!(v->cpuset[k / 64] >> (k % 64) & 1) || CPU_ISSET(k, &have))
				continue;
			cpulist(&have, list, sizeof(list));
			snprintf(err, errlen, "%s:%d: [vm %s] cpuset: CPU %u is not one multivm may run on here (%s)",
				 c->path, v->cpuset_line, v->name, k, list);
			return -1;
		}
	}
	return 0;
}

/* Every path the system uses must fit (sockets need sun_path): checked
 * here once, so that building one later cannot fail. */
static int check_paths(const struct run_plan *p, const char *dir, char *err, size_t errlen)
{
	char path[STATE_PATH_MAX];
	unsigned i, k;
	bool ok = true;

	for (i = 0; i < p->cfg.nvms; i++)
		for (k = 0; k < SF_COUNT; k++)
			ok &= state_file(path, dir, p->cfg.vm[i].name, k) == 0;
	if (!ok) {
		snprintf(err, errlen, "state directory %s is too long for the paths it must hold "
			 "(at most %d bytes each; use -S with a shorter one)", dir, STATE_PATH_MAX - 1);
		return -1;
	}
	return 0;
}

static bool in_path(const char *prog)
{
	char buf[4096], *dir, *save = NULL;
	const char *p = getenv("PATH");

	snprintf(buf, sizeof(buf), "%s", p ? p : "/usr/bin:/bin");
	for (dir = strtok_r(buf, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		char full[4200];

		snprintf(full, sizeof(full), "%s/%s", dir, prog);
		if (access(full, X_OK) == 0)
			return true;
	}
	return false;
}

/* KVM when asked or available and it really boots a guest here; else TCG.
 * A stated engine = kvm, or PCI passthrough, without a working KVM is
 * refused; so is a PCI device that the VM cannot use. */
static int choose_engine(struct run_plan *p, const struct preflight_host *h, char *err, size_t errlen)
{
	const struct config *c = &p->cfg;
	unsigned i;

	p->kvm = c->engine != ENGINE_TCG && h->kvm_boots(p->kernel, KVM_PROBE_MS);
	if (c->engine == ENGINE_AUTO && !p->kvm && h->kvm_usable())
		log_warn("/dev/kvm opens but a KVM guest does not boot here; using tcg");
	if (c->engine == ENGINE_KVM && !p->kvm) {
		snprintf(err, errlen, "%s: engine = kvm but %s", c->path,
			 h->kvm_usable() ? "a guest does not boot under KVM here (nested virtualisation?); "
					   "use engine = auto or tcg"
					 : "/dev/kvm cannot be opened read-write");
		return -1;
	}
	for (i = 0; i < c->nvms; i++) {
		const struct cfg_vm *v = &c->vm[i];

		if (strncmp(v->passthrough, "pci:", 4) != 0)
			continue;
		if (!p->kvm) {
			snprintf(err, errlen, "%s:%d: [vm %s] passthrough: PCI passthrough needs KVM, and "
				 "KVM is not usable here (load kvm_intel or kvm_amd, or use user or tap)",
				 c->path, v->passthrough_line, v->name);
			return -1;
		}
		if (pci_check_vm(h->sysfs, c, v, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* Every QEMU that runs as an identity of its own (runas.h) must pass
 * through the directories above dir. */
static int qemu_reachable(const struct run_plan *p, const char *dir, char *err, size_t errlen)
{
	unsigned i;

	if (!p->runas.drop || !plan_needs_qemu(p))
		return 0;
	for (i = 0; i < p->cfg.nvms; i++)
		if (!p->cfg.vm[i].external &&
		    state_reachable(dir, p->runas.qemu[i].uid, p->runas.qemu[i].gid, err, errlen) < 0)
			return -1;
	return 0;
}

/* The config's text into p->text, parsed into p->cfg, and its user.
 * With host: that host's part of the file (config/hostplan.h), and its
 * text is what STATE/run keeps. */
static enum preflight_result load(struct run_plan *p, const char *config_path, const char *host, char *err,
				  size_t errlen)
{
	char cerr[CFG_ERR_MAX], *text = NULL;
	int rc;

	/* Read once: the bytes parsed are the bytes kept as STATE/run. */
	if (config_path && host) {
		rc = hostplan_load(&p->cfg, config_path, host, &text, cerr, sizeof(cerr));
		if (rc == 0 && snprintf(p->text, sizeof(p->text), "%s", text) >= (int)sizeof(p->text)) {
			snprintf(cerr, sizeof(cerr), "%s: host %s's part is longer than %zu bytes", config_path, host,
				 sizeof(p->text) - 1);
			rc = -1;
		}
		free(text);
	} else if (config_path)
		rc = config_read_text(config_path, p->text, sizeof(p->text), cerr, sizeof(cerr)) < 0 ? -1 :
		     config_load_string(&p->cfg, p->text, config_path, cerr, sizeof(cerr)) < 0 ? -1 :
		     hostplan_one_host(&p->cfg, config_path, cerr, sizeof(cerr));
	else
		rc = snprintf(p->text, sizeof(p->text), "%s", config_default_text) < 0 ? -1 :
		     config_load_default(&p->cfg, cerr, sizeof(cerr));
	if (rc < 0) {
		snprintf(err, errlen, "%s", cerr);
		return PREFLIGHT_BAD_CONFIG;
	}
	if (!config_path || !realpath(config_path, p->abspath))	/* it was just read: cannot fail */
		snprintf(p->abspath, sizeof(p->abspath), "%s", config_path ? config_path : "(built-in)");
	if (runas_resolve(&p->cfg, &p->runas, err, errlen) < 0)
		return PREFLIGHT_BAD_CONFIG;
	return PREFLIGHT_OK;
}

enum preflight_result preflight_run(struct run_plan *p, const char *dir, const char *config_path,
				    const char *host_name, bool no_guests, const struct preflight_host *h, char *err,
				    size_t errlen)
{
	enum preflight_result r;
	pid_t other;

	memset(p, 0, sizeof(*p));
	snprintf(p->dir, sizeof(p->dir), "%s", dir);	/* cut short only if check_paths refuses */
	p->no_guests = no_guests;
	r = load(p, config_path, host_name, err, errlen);
	if (r != PREFLIGHT_OK)
		return r;
	/* QEMU, once it runs as its identity, reconnects through every
	 * directory above the state directory after a VMM restart. */
	if (qemu_reachable(p, dir, err, errlen) < 0 || state_prepare_dir(dir, p->runas.drop, err, errlen) < 0)
		return PREFLIGHT_REFUSED;
	other = state_supervisor(dir);
	if (other) {
		snprintf(err, errlen, "a system is already running in %s (supervisor pid %d); "
			 "`multivm stop` first, or use -S DIR", dir, (int)other);
		return PREFLIGHT_REFUSED;
	}
	/* A system that does not fit (memory, open files) is refused whole
	 * rather than failing halfway (supervisor/fit.h). */
	if (check_paths(p, dir, err, errlen) < 0 || check_cpusets(&p->cfg, err, errlen) < 0 ||
	    fit_check(&p->cfg, plan_needs_qemu(p), h->meminfo ? h->meminfo : "/proc/meminfo", err, errlen) < 0)
		return PREFLIGHT_REFUSED;
	if (!plan_needs_qemu(p))
		return PREFLIGHT_OK;
	if (!in_path("qemu-system-x86_64")) {
		snprintf(err, errlen, "qemu-system-x86_64 not found (apt-get install qemu-system-x86)");
		return PREFLIGHT_REFUSED;
	}
	if (image_check_all(&p->cfg, &p->runas, err, errlen) < 0)
		return PREFLIGHT_BAD_CONFIG;
	if (guest_files(&p->cfg, p->kernel, p->initrd, sizeof(p->kernel), err, errlen) < 0 ||
	    choose_engine(p, h, err, errlen) < 0)
		return PREFLIGHT_REFUSED;
	return PREFLIGHT_OK;
}

enum preflight_result preflight_apply(struct run_plan *p, const char *dir, const char *config_path,
				      const char *host_name, const struct preflight_host *h, char *err, size_t errlen)
{
	enum preflight_result r;
	unsigned i;

	memset(p, 0, sizeof(*p));
	snprintf(p->dir, sizeof(p->dir), "%s", dir);
	r = load(p, config_path, host_name, err, errlen);
	if (r != PREFLIGHT_OK)
		return r;
	if (check_paths(p, dir, err, errlen) < 0 || check_cpusets(&p->cfg, err, errlen) < 0)
		return PREFLIGHT_REFUSED;
	for (i = 0; i < p->cfg.nvms; i++)
		if (strncmp(p->cfg.vm[i].passthrough, "pci:", 4) == 0 &&
		    pci_check_vm(h->sysfs, &p->cfg, &p->cfg.vm[i], err, errlen) < 0)
			return PREFLIGHT_REFUSED;
	if (!plan_needs_qemu(p))
		return PREFLIGHT_OK;
	if (image_check_all(&p->cfg, &p->runas, err, errlen) < 0)
		return PREFLIGHT_BAD_CONFIG;
	if (guest_files(&p->cfg, p->kernel, p->initrd, sizeof(p->kernel), err, errlen) < 0)
		return PREFLIGHT_REFUSED;
	return PREFLIGHT_OK;
}
