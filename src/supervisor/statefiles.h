/* The files the supervisor keeps in the state directory of a running
 * system (names: state.h): its pid and log, the status file, each VM's
 * counters and capture ring, and the logs other processes write there. */
#ifndef MULTIVM_STATEFILES_H
#define MULTIVM_STATEFILES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/linkctl.h"
#include "common/statusline.h"
#include "config/config.h"

struct node_args;

/* Writes STATE/status atomically, one line per VM. 0 or -errno. */
int statefiles_status(const char *dir, const struct vm_status *vms, unsigned n);

/* Our stderr (and so our log lines) to STATE/supervisor.log; our pid to
 * STATE/supervisor.pid. */
void statefiles_begin(const char *dir);

/* STATE/VM.stats, fresh for this run (its counters then survive VMM
 * restarts). An fd, or -errno. */
int statefiles_stats(const char *dir, const char *vm);
/* STATE/VM.capture: a new sparse ring file, never the old one truncated
 * (a `multivm capture` still mapping it would fault). An fd, or -errno. */
int statefiles_capture(const char *dir, const char *vm);

/* The link control file of node `node` of cfg (common/linkctl.h): an
 * entry per link of a, the command line spawn_vmm_args() built for it, in
 * its order; each names the link (peer, this node's NIC, the peer's) and
 * holds the config's settings for the direction the node receives (the
 * receiver applies them: A->B's are in B's file, entry peer A). */
void statefiles_ctl_fill(struct linkctl *c, const struct node_args *a, const struct config *cfg, unsigned node);
/* STATE/NAME.ctl made anew (mode 0600) with statefiles_ctl_fill()'s
 * contents. The supervisor keeps the fd for every start of the node, so
 * changes made at run time (`multivm link`) outlive its restarts. An fd
 * (read-write), or -errno. */
int statefiles_ctl(const char *dir, const struct node_args *a, const struct config *cfg, unsigned node);
/* A consistent copy of the control file fd (under a shared flock, which
 * writers hold exclusively), its header and strings checked: NUL-ended,
 * nlinks at most MV_NODE_LINKS_MAX. 0, -errno, or -EPROTO if it is not
 * a control file of ours. */
int statefiles_ctl_read(int fd, struct linkctl *out);
/* The entry of c for the link to peer between this node's NIC nic and
 * the peer's peer_nic ("" for the segment, or a tunnel's end), or -1. */
int statefiles_ctl_find(const struct linkctl *c, const char *peer, const char *nic, const char *peer_nic);

/* Node vm's new control file (statefiles_ctl) takes over the run-time
 * settings of the entries it shares with old, its last one (multivm
 * apply: a node restarted for a new link keeps its links' settings).
 * 0 or -errno. */
int statefiles_ctl_keep(const char *dir, const char *vm, const struct linkctl *old);

/* Node's control file rewritten in place for its links as a now says
 * (multivm apply handed its running VMM links: the node keeps its
 * mapping), each entry keeping old's settings for the same link; under
 * the file's lock and its seqlock. 0 or -errno. */
int statefiles_ctl_relink(const char *dir, const struct node_args *a, const struct config *cfg, unsigned node,
			  const struct linkctl *old);

/* Keeps the supervisor's own log (our stderr, appended to) under max
 * bytes. The children's logs come through pipes into capped writers
 * (vmproc.h) and never pass max. */
void statefiles_trim_own_log(const char *dir, uint64_t max);

/* At stop: sockets, capture rings (they hold guest traffic), control
 * files, image VMs' overlays, UEFI variables and seeds (not the persist
 * ones), status, pid file and the running configuration go; logs and
 * counters stay. */
void statefiles_remove(const char *dir, const struct config *cfg);
/* One VM's part of that; all: its logs and counters too (multivm apply
 * removing it: nothing of it is left). */
void statefiles_remove_vm(const char *dir, const struct cfg_vm *vm, bool all);

#endif
