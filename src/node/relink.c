#include "node/relink.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

#define HANDOFF_PER_EVENT 16	/* messages taken per wake-up: the channel cannot hold the loop */

static void close_fds(const struct handoff_msg *m)
{
	if (m->op != HANDOFF_ADD)
		return;
	close(m->link.memfd);
	close(m->link.rx_kick);
	close(m->link.tx_kick);
}

/* Link j moves to j + to (+1 or -1): its state, counters and doorbell. A
 * doorbell rung while unwatched is not lost: relinked() has the kind
 * look at every link on its next pass. */
static void move(struct node *n, unsigned j, int to)
{
	struct link *l = &n->links[j + to];

	if (n->links[j].rx_kick >= 0)
		loop_del(&n->loop, n->links[j].rx_kick);
	*l = n->links[j];
	link_moved(l);
	n->st->link[j + to] = n->st->link[j];
	l->st = &n->st->link[j + to];
	n->ctl_bad[j + to] = n->ctl_bad[j];
	if (l->rx_kick >= 0 && loop_add(&n->loop, l->rx_kick, true, n->ops->on_link, n->ctx, j + to) < 0)
		log_warn("link to %s: cannot watch its doorbell again; it is polled", l->peer);
}

/* At m->index, the links from there on moving up one place. Attached
 * aside first: a link that cannot attach moves nothing. */
static int add(struct node *n, const struct handoff_msg *m)
{
	static struct link l;	/* large; keep it off the stack */
	static struct link_stats st;
	unsigned i = m->index, k;
	int rc;

	if (i > n->nlinks || n->nlinks >= MV_NODE_LINKS_MAX) {
		close_fds(m);
		return -ERANGE;
	}
	for (k = 0; k < n->nlinks; k++)
		if (!strncmp(n->links[k].peer, m->link.peer, MV_NAME_MAX) && !n->links[k].st->nic[0]) {
			close_fds(m);
			return -EEXIST;
		}
	memset(&l, 0, sizeof(l));
	memset(&st, 0, sizeof(st));
	rc = node_add_link(&l, &st, n->qsize, &m->link, n->ops->who);
	if (rc < 0)
		return rc;	/* its fds closed there */
	for (k = n->nlinks; k > i; k--)
		move(n, k - 1, 1);
	n->links[i] = l;
	link_moved(&n->links[i]);
	n->st->link[i] = st;
	n->links[i].st = &n->st->link[i];
	n->ctl_bad[i] = false;
	n->nlinks++;
	STAT_SET(n->st->nlinks, n->nlinks);
	if (n->links[i].rx_kick >= 0 &&
	    loop_add(&n->loop, n->links[i].rx_kick, true, n->ops->on_link, n->ctx, i) < 0)
		log_warn("link to %s: cannot watch its doorbell; it is polled", n->links[i].peer);
	n->ops->relinked(n, (int)i, true);
	log_info("link to %s added at run time (link %u)", n->links[i].peer, i);
	return 0;
}

static int drop(struct node *n, const struct handoff_msg *m)
{
	unsigned i = m->index, j;
	char peer[MV_NAME_MAX];

	if (i >= n->nlinks)
		return -ERANGE;
	if (strncmp(n->links[i].peer, m->link.peer, MV_NAME_MAX) || n->links[i].st->nic[0])
		return -ENOENT;
	memcpy(peer, n->links[i].peer, sizeof(peer));
	if (n->links[i].rx_kick >= 0)
		loop_del(&n->loop, n->links[i].rx_kick);
	link_detach(&n->links[i]);
	for (j = i; j + 1 < n->nlinks; j++)
		move(n, j + 1, -1);
	n->nlinks--;
	STAT_SET(n->st->nlinks, n->nlinks);
	memset(&n->links[n->nlinks], 0, sizeof(n->links[n->nlinks]));
	link_set_down(&n->links[n->nlinks], "");
	memset(&n->st->link[n->nlinks], 0, sizeof(n->st->link[n->nlinks]));
	n->ctl_bad[n->nlinks] = false;
	n->ops->relinked(n, (int)i, false);
	log_info("link to %s dropped at run time (was link %u)", peer, i);
	return 0;
}

int node_relink(struct node *n, const struct handoff_msg *m)
{
	int rc = n->ops->relink_ok ? n->ops->relink_ok(n) : -EOPNOTSUPP;

	if (rc < 0) {
		close_fds(m);
		return rc;
	}
	return m->op == HANDOFF_ADD ? add(n, m) : drop(n, m);
}

static const char *why(int rc)
{
	switch (rc) {
	case -ERANGE: return "no such link index (an add goes at the end)";
	case -EEXIST: return "a link to that peer exists";
	case -ENOENT: return "the link at that index is not to that peer";
	case -EOPNOTSUPP: return "this node takes no links at run time (wire NICs, or a tunnel)";
	default: return strerror(-rc);
	}
}

int node_on_handoff(void *ctx, uint32_t arg)
{
	struct node *n = ctx;
	struct handoff_msg m;
	unsigned k;
	uint32_t seq;
	char err[120];
	int rc;

	for (k = 0; k < HANDOFF_PER_EVENT && n->handoff_fd >= 0; k++) {
		rc = handoff_recv(n->handoff_fd, &m, &seq, err, sizeof(err));
		if (rc == -EAGAIN)
			break;
		if (rc == -EBADMSG) {
			STAT_ADD(n->st->handoff_refused, 1);
			log_warn("link handoff: refused a message: %s", err);
			handoff_reply(n->handoff_fd, seq, rc);
			continue;
		}
		if (rc < 0) {	/* the supervisor's end closed: it has gone, or starts us anew */
			if (rc != -EPIPE)
				log_warn("link handoff channel: %s; closing it", strerror(-rc));
			loop_del(&n->loop, n->handoff_fd);
			close(n->handoff_fd);
			n->handoff_fd = -1;
			break;
		}
		rc = node_relink(n, &m);
		if (rc < 0) {
			STAT_ADD(n->st->handoff_refused, 1);
			log_warn("link handoff: refused to %s link %u to %s: %s", m.op == HANDOFF_ADD ? "add" : "drop",
				 (unsigned)m.index, m.link.peer, why(rc));
		}
		if (handoff_reply(n->handoff_fd, m.seq, rc) < 0)
			log_warn("link handoff: cannot answer the supervisor");
	}
	return 0;
}
