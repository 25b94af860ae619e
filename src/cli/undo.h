/* multivm apply's undo list: each step done is pushed with what undoes
 * it; when a later step fails, the steps done are undone, the last
 * first, so that the system is back to the configuration it ran. */
#ifndef MULTIVM_CLI_UNDO_H
#define MULTIVM_CLI_UNDO_H

#include "common/limits.h"

enum undo_kind {
	UNDO_LINK,		/* arg: a link (of the new config) whose settings were written: the old ones back */
	UNDO_UNPLUG,		/* arg: a wire NIC unplugged from a running guest (cli/hotplug.h): plugged back */
	UNDO_PLUG,		/* arg: a wire NIC plugged: unplugged */
	UNDO_SUPERVISOR,	/* VMs and links added or removed: the old config handed back to the supervisor */
};

struct undo_step {
	enum undo_kind kind;
	unsigned arg;
};

/* a step per link's settings, per wire NIC unplugged or plugged (a kept
 * VM's NICs, old and new), the supervisor's */
#define UNDO_STEPS_MAX	(MV_LINKS_MAX + 2 * MV_NODES_MAX * MV_NICS_MAX + 1)

struct undo_list {
	unsigned n;
	struct undo_step step[UNDO_STEPS_MAX];
};

/* Undoes one step: 0, or -1 having said why. */
typedef int (*undo_fn)(void *ctx, const struct undo_step *s);

/* 0, or -1: the list is full (a plan never has more steps). */
int undo_push(struct undo_list *u, enum undo_kind kind, unsigned arg);

/* Undoes every step, the last first, each once, even after one that
 * could not be undone; the list is empty after. Returns how many could
 * not be undone. */
unsigned undo_run(struct undo_list *u, undo_fn fn, void *ctx);

#endif
