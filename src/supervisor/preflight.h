/* Everything that can refuse `multivm run` before anything starts: the
 * config, the run user, the state directory (and the directories above
 * it), a system already running there, path lengths, QEMU in PATH, the
 * guest image, the engine (a KVM probe boot) and PCI passthrough devices.
 * It creates nothing but the state directory. Unit-tested against a
 * temporary directory and a fake sysfs (tests/unit/test_preflight.c). */
#ifndef MULTIVM_PREFLIGHT_H
#define MULTIVM_PREFLIGHT_H

#include <stdbool.h>
#include <limits.h>
#include <stddef.h>

#include "config/config.h"
#include "config/text.h"
#include "supervisor/runas.h"
#include "supervisor/state.h"

#define KVM_PROBE_MS	3000	/* a KVM guest prints its first line within this */
#define GUEST_PATH_MAX	512

enum preflight_result {
	PREFLIGHT_OK,
	PREFLIGHT_BAD_CONFIG,	/* the config or its user cannot be used */
	PREFLIGHT_REFUSED,	/* this host or state directory cannot run it */
};

/* The host as preflight sees it; tests replace parts of it. */
struct preflight_host {
	const char *sysfs;				/* pci_sysfs() */
	bool (*kvm_boots)(const char *kernel, int timeout_ms);
	bool (*kvm_usable)(void);
	const char *meminfo;				/* MemAvailable for fit_check(); NULL: /proc/meminfo */
};

/* The host itself: /sys (or $MULTIVM_SYSFS) and the real KVM probes. */
const struct preflight_host *preflight_real_host(void);

/* What a run needs, as found by preflight_run(). */
struct run_plan {
	char dir[STATE_PATH_MAX];	/* the state directory */
	bool no_guests;			/* --no-guests */
	struct config cfg;
	char text[CFG_TEXT_MAX];	/* the config's text cfg was parsed from: kept as STATE/run */
	char abspath[PATH_MAX];		/* its file's absolute name ("(built-in)"): STATE/run.name */
	struct runas runas;
	bool kvm;			/* else TCG */
	char kernel[GUEST_PATH_MAX], initrd[GUEST_PATH_MAX];	/* "" without QEMU */
};

/* Loads config_path (NULL: the built-in system; with host_name, that
 * host's part of it: config/hostplan.h) and checks everything
 * above for a run in dir. On anything but PREFLIGHT_OK, err says what and
 * how to fix it. */
enum preflight_result preflight_run(struct run_plan *p, const char *dir, const char *config_path,
				    const char *host_name, bool no_guests, const struct preflight_host *host, char *err,
				    size_t errlen);

/* What `multivm apply` checks of config_path (host_name: that host's
 * part of it, as `run --host` takes it; NULL: the whole) before it
 * compares it with the system running in dir, with run's messages: the config and its
 * user, path lengths, cpusets, PCI devices, disk images, the guest
 * kernel. Not the
 * state directory (a system runs there), nor the engine (the running
 * system's stays). */
enum preflight_result preflight_apply(struct run_plan *p, const char *dir, const char *config_path,
				      const char *host_name, const struct preflight_host *host, char *err, size_t errlen);

/* Whether the plan starts any QEMU: not with --no-guests, nor when every
 * VM's frontend is external. */
bool plan_needs_qemu(const struct run_plan *p);

#endif
