/* The QEMU command line for one VM (a pure function, unit-tested) and the
 * facts it depends on: engine, kernel and initramfs. */
#ifndef MULTIVM_QEMU_H
#define MULTIVM_QEMU_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

#define QEMU_MAX_ARGS 128	/* 8 wire NICs take 6 each */
#define QEMU_ARGBUF_MAX 16384

/* Debian's OVMF (package ovmf), for firmware = uefi: the code read-only,
 * a copy of the variables per VM (supervisor/overlay.h). */
#define OVMF_CODE	"/usr/share/OVMF/OVMF_CODE_4M.fd"
#define OVMF_VARS	"/usr/share/OVMF/OVMF_VARS_4M.fd"

struct qemu_opts {
	const struct config *cfg;
	const struct cfg_vm *vm;
	const char *state_dir;
	bool kvm;
	const char *kernel, *initrd;
	const char *runas;	/* UID:GID QEMU drops to after set-up, or NULL */
};

/* Fills argv (NULL-terminated, strings stored in buf). Returns argc, or
 * -E2BIG if buf or argv is too small, -ENAMETOOLONG if a state path is,
 * -EINVAL for an image whose format is still IMAGE_AUTO (preflight
 * decides it). */
int qemu_argv(const struct qemu_opts *o, char *buf, size_t buflen, char **argv, int maxargs);

/* Whether /dev/kvm can be opened read-write. */
bool kvm_usable(void);

/* Whether KVM really runs a guest here: boots kernel under KVM and waits
 * up to timeout_ms for its first line. */
bool kvm_boots(const char *kernel, int timeout_ms);

/* Kernel and initramfs for the guests: cfg->kernel or GUESTDIR/vmlinuz,
 * and GUESTDIR/initramfs.cpio.gz. GUESTDIR is $MULTIVM_GUEST_DIR, else
 * the first of DIR(exe)/guest and DIR(exe)/../guest holding an image.
 * Returns 0, or -1 with err set. */
int guest_files(const struct config *cfg, char *kernel, char *initrd, size_t len,
		char *err, size_t errlen);

#endif
