#include "vmm/node.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/fdio.h"
#include "common/log.h"

struct vm_stats *node_map_stats(int fd, const char *name)
{
	struct vm_stats *st;
	uint64_t size;
	void *p;

	if (fd_size(fd, &size) < 0 || size < sizeof(struct vm_stats)) {
		close(fd);
		return NULL;
	}
	p = mmap(NULL, sizeof(struct vm_stats), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return NULL;
	st = p;
	/* Another version's counters are not read in this layout: start afresh. */
	if (st->magic != STATS_MAGIC || st->version != STATS_VERSION)
		memset(st, 0, sizeof(*st));
	st->magic = STATS_MAGIC;
	st->version = STATS_VERSION;
	snprintf(st->name, sizeof(st->name), "%s", name);
	STAT_ADD(st->vmm_starts, 1);
	return st;
}

int node_add_link(struct link *l, struct link_stats *st, unsigned qsize, const struct vmm_link_arg *a,
		  const char *who)
{
	int rc;

	memcpy(l->peer_mac, a->peer_mac, ETH_ALEN);
	l->tunnel = a->tunnel;	/* remote VMs of any MAC behind it */
	rc = link_attach(l, a->memfd, a->side, qsize, a->rx_kick, a->tx_kick, a->peer);
	if (rc < 0) {
		/* The peer can write this memory: what it did there may stop
		 * this one link, never the process and its other links. */
		if (rc == -EPROTONOSUPPORT)
			log_err("link to %s: link format version %u, this %s speaks version %u "
				"(docs/link-format.md); it stays down", a->peer, l->peer_version, who, LINK_VERSION);
		else
			log_err("link to %s: cannot attach (%s); it stays down", a->peer,
				rc == -EPROTO ? "not a link of this format, or damaged" : strerror(-rc));
		close(a->memfd);
		close(a->rx_kick);
		close(a->tx_kick);
		link_set_down(l, a->peer);
	}
	l->st = st;
	snprintf(st->peer, sizeof(st->peer), "%s", a->peer);
	STAT_SET(st->up, rc == 0);
	if (rc < 0)
		STAT_ADD(st->errors, 1);
	return rc;
}

void node_report_ready(int *fd)
{
	if (*fd < 0)
		return;
	if (write(*fd, "r", 1) != 1)
		log_warn("cannot tell the supervisor we are ready: %s", strerror(errno));
	close(*fd);
	*fd = -1;
}
