/* One skeleton for every node process of the link graph, VMM or tunnel
 * (OpenBSD vmd's shape: each process kind is one row, run by one
 * proc_run). node_main() decodes the command line (node/args.h), maps the
 * counters, attaches the links the supervisor handed over, sets up the
 * event loop (node/loop.h), lets the kind open what it serves and
 * register its fds, drops to the run user, enters the sandbox with the
 * kind's extra system calls, tells the supervisor it serves, and runs the
 * loop until SIGTERM. A kind brings only its row: what it serves and how
 * frames move; how frames go where (the lookup) stays in the kind. */
#ifndef MULTIVM_NODE_H
#define MULTIVM_NODE_H

#include "common/linkctl.h"
#include "common/stats.h"
#include "link/link.h"
#include "node/args.h"
#include "node/loop.h"
#include "node/sandbox.h"

struct node;
struct handoff_msg;

/* A kind of node: one row. */
struct node_kind_ops {
	enum node_kind kind;
	const char *who;		/* in log lines: "VMM", "tunnel" */
	/* After the links and the loop, before the uid drop and the sandbox:
	 * opens what the kind serves, registers its fds, sets n->ctx (the
	 * ctx of every hook below). 0, or -1 once it has logged why. */
	int (*setup)(struct node *n, const struct node_args *a);
	/* A link's doorbell rang (link index i). */
	loop_fn on_link;
	struct loop_ops loop;
	/* Sandboxed and about to serve: says what it serves. */
	void (*started)(struct node *n, unsigned uid);
	/* The loop ended: lets go of what setup took (the links are the
	 * skeleton's). May be NULL. */
	void (*stop)(struct node *n);
	/* Links handed over at run time (node/relink.c): may the kind take
	 * or drop an eth0 segment link now (0, or -EOPNOTSUPP)? NULL: never.
	 * relinked: the node's links changed (added: link index is new, the
	 * ones from there on moved up one; else the link at index went, the
	 * ones after moved down); the kind re-reads them. */
	int (*relink_ok)(struct node *n);
	void (*relinked)(struct node *n, int index, bool added);
	/* A wire's NIC handed over (HANDOFF_ADD_NIC) or to drop: nic_add
	 * serves m->nic on m->listen_fd (taking it, even on failure), with no
	 * link yet: relinked() finds its link by st->nic once added; 0 or
	 * -errno (-EEXIST: a NIC of that name; -ENOSPC: MV_NICS_MAX). nic_drop
	 * ends the NIC named (its session, its socket) before its link goes.
	 * NULL: never. */
	int (*nic_add)(struct node *n, const struct handoff_msg *m);
	void (*nic_drop)(struct node *n, const char *name);
	/* System calls beyond the common allow-list (docs/sandbox.md). */
	const struct sandbox_rule *rules;
	unsigned nrules;
};

/* What every node has. */
struct node {
	const struct node_kind_ops *ops;
	char name[MV_NAME_MAX];
	struct vm_stats *st;
	unsigned qsize;
	struct link links[MV_NODE_LINKS_MAX];
	unsigned nlinks;
	struct loop loop;
	void *ctx;			/* the kind's own state */
	const struct linkctl *ctl;	/* the link control file, read-only; NULL: none */
	uint32_t ctl_gen;		/* its generation last applied */
	bool ctl_bad[MV_NODE_LINKS_MAX];	/* an entry refused (logged once) */
	int handoff_fd;			/* the supervisor's link handoff channel; -1: none */
};

/* `multivm KIND ...` (argv[0] the command word). Exit status: 0 after a
 * signal, 2 for a command line it cannot use, 1 for a failed set-up. */
int node_main(const struct node_kind_ops *k, int argc, char **argv);

/* Maps the counters file fd (closed here), stamps it with magic, version
 * and name and counts one more start; NULL if fd is not a counters file. */
struct vm_stats *node_map_stats(int fd, const char *name);

/* Attaches link a as l with its counters st, using the link's fds (closed
 * here if it cannot attach). A link the peer spoiled stays down with a log
 * line and an error counted: never the process. who names us in the log
 * ("VMM", "tunnel"). 0, or the negative errno link_attach gave. */
int node_add_link(struct link *l, struct link_stats *st, unsigned qsize, const struct node_link_arg *a,
		  const char *who);

/* The impairments of the link control file (common/linkctl.h), if it
 * changed since the last call: checked, then put in force link by link. */
void node_ctl_poll(void *n);

/* Marks a link that stopped (a malformed queue) down, logged and counted
 * once. Call after each pass. */
void node_check_links(struct node *n);

/* One byte on *fd, then closes it: the supervisor adds QEMU or marks the
 * node up only then; if we die first, it sees EOF. */
void node_report_ready(int *fd);

#endif
