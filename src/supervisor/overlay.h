/* An image VM's own files in the state directory (names: state.h),
 * made after preflight and before anything starts, so that the user's
 * image is never written: its qcow2 overlay over the image (VM.overlay.
 * qcow2, removed at stop; VM.persist.qcow2 with persist = yes, kept and
 * used again by the next run), and for firmware = uefi its copy of
 * OVMF's variables (VM.vars.fd; VM.persist.vars.fd). */
#ifndef MULTIVM_OVERLAY_H
#define MULTIVM_OVERLAY_H

#include <stdbool.h>
#include <stddef.h>

#include "supervisor/preflight.h"

/* 0, or -1 with err saying which VM and file and why. */
int overlay_make_all(const struct run_plan *p, char *err, size_t errlen);

/* The same for VM i of c alone (a VM apply adds): *fresh says whether its
 * persist overlay is new (false: an earlier run's, used again). */
int overlay_make_vm(const struct config *c, const char *dir, unsigned i, bool *fresh, char *err, size_t errlen);

/* Removes what overlay_make_vm made (a failed apply): the overlay, seed
 * and variables; a persist overlay and its variables only if fresh. */
void overlay_unmake_vm(const struct config *c, const char *dir, unsigned i, bool fresh);

/* multivm apply: VM i of the running config o becomes VM i of n (a guest
 * rebooted for new settings, or a persist change), before its QEMU
 * restarts: persist changed, its overlay, the one set aside and its
 * variables renamed to the other names (the guest keeps its disk; one of
 * the new names already there is refused); a new image, a new overlay
 * over it and the current one set aside as NAME.overlay.old.qcow2
 * (NAME.persist.old.qcow2), or the one set aside put back if it lies over
 * the new image (an undo, or back to the image it had); its seed made
 * again; UEFI variables made if it had none. What may fail is done first
 * under temporary names: 0, or -1 with err (nothing of this VM renamed,
 * but a persist rename). overlay_change_vm(n, o, ...) undoes it. */
int overlay_change_vm(const struct config *o, const struct config *n, const char *dir, unsigned i, char *err,
		      size_t errlen);

#endif
