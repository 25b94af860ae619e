/* What every node of the link graph does as it starts, VMM or tunnel:
 * publish its counters, attach the links the supervisor handed it, and
 * tell the supervisor it serves. One copy, so both behave alike. */
#ifndef MULTIVM_NODE_H
#define MULTIVM_NODE_H

#include "common/stats.h"
#include "link/link.h"
#include "vmm/args.h"

/* Maps the counters file fd (closed here), stamps it with magic, version
 * and name and counts one more start; NULL if fd is not a counters file. */
struct vm_stats *node_map_stats(int fd, const char *name);

/* Attaches link a as l with its counters st, using the link's fds (closed
 * here if it cannot attach). A link the peer spoiled stays down with a log
 * line and an error counted: never the process. who names us in the log
 * ("VMM", "tunnel"). 0, or the negative errno link_attach gave. */
int node_add_link(struct link *l, struct link_stats *st, unsigned qsize, const struct vmm_link_arg *a,
		  const char *who);

/* One byte on *fd, then closes it: the supervisor adds QEMU or marks the
 * node up only then; if we die first, it sees EOF. */
void node_report_ready(int *fd);

#endif
