#include "node/relink.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

#define HANDOFF_PER_EVENT 16	/* messages taken per wake-up: the channel cannot hold the loop */

static void close_fds(const struct handoff_msg *m)
{
	if (m->op == HANDOFF_ADD_NIC && m->listen_fd >= 0)
		close(m->listen_fd);
	if (m->op != HANDOFF_ADD && m->op != HANDOFF_ADD_NIC)
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

/* At m->index, the links from there on moving up one place; a wire's
 * (nic: its NIC's name, else "") named after its NIC. Attached aside
 * first: a link that cannot attach moves nothing. Its fds are taken. */
static int add(struct node *n, const struct handoff_msg *m, const char *nic)
{
	static struct link l;	/* large; keep it off the stack */
	static struct link_stats st;
	unsigned i = m->index, k;
	int rc;

	if (i > n->nlinks || n->nlinks >= MV_NODE_LINKS_MAX) {
		close_fds(m);
		return -ERANGE;
	}
	for (k = 0; k < n->nlinks && !nic[0]; k++)
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
	snprintf(n->st->link[i].nic, sizeof(n->st->link[i].nic), "%s", nic);
	n->ctl_bad[i] = false;
	n->nlinks++;
	STAT_SET(n->st->nlinks, n->nlinks);
	if (n->links[i].rx_kick >= 0 &&
	    loop_add(&n->loop, n->links[i].rx_kick, true, n->ops->on_link, n->ctx, i) < 0)
		log_warn("link to %s: cannot watch its doorbell; it is polled", n->links[i].peer);
	n->ops->relinked(n, (int)i, true);
	log_info("%s%slink to %s added at run time (link %u)", nic, nic[0] ? ": " : "", n->links[i].peer, i);
	return 0;
}

/* The link at m->index, to m->link.peer, on NIC nic ("": the segment). */
static bool is_link(struct node *n, const struct handoff_msg *m, const char *nic)
{
	unsigned i = m->index;

	return i < n->nlinks && !strncmp(n->links[i].peer, m->link.peer, MV_NAME_MAX) &&
	       !strncmp(n->links[i].st->nic, nic, sizeof(n->links[i].st->nic));
}

static int drop(struct node *n, const struct handoff_msg *m, const char *nic)
{
	unsigned i = m->index, j;
	char peer[MV_NAME_MAX];

	if (i >= n->nlinks)
		return -ERANGE;
	if (!is_link(n, m, nic))
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

/* A wire's NIC and its link: the NIC first (it takes the listening
 * socket), then the link; a link that cannot be added takes the NIC
 * back. */
static int add_nic(struct node *n, const struct handoff_msg *m)
{
	struct handoff_msg l = *m;
	int rc;

	if (m->index > n->nlinks || n->nlinks >= MV_NODE_LINKS_MAX) {
		close_fds(m);
		return -ERANGE;
	}
	l.listen_fd = -1;	/* the kind's now, even on failure */
	rc = n->ops->nic_add(n, m);
	if (rc < 0) {
		close_fds(&l);
		return rc;
	}
	rc = add(n, &l, m->nic.name);
	if (rc < 0)
		n->ops->nic_drop(n, m->nic.name);
	return rc;
}

static int drop_nic(struct node *n, const struct handoff_msg *m)
{
	if (m->index >= n->nlinks)
		return -ERANGE;
	if (!is_link(n, m, m->nic.name))
		return -ENOENT;
	n->ops->nic_drop(n, m->nic.name);
	return drop(n, m, m->nic.name);
}

int node_relink(struct node *n, const struct handoff_msg *m)
{
	int rc = n->ops->relink_ok ? n->ops->relink_ok(n) : -EOPNOTSUPP;

	if (rc == 0 && (m->op == HANDOFF_ADD_NIC || m->op == HANDOFF_DROP_NIC) &&
	    (!n->ops->nic_add || !n->ops->nic_drop))
		rc = -EOPNOTSUPP;
	if (rc < 0) {
		close_fds(m);
		return rc;
	}
	switch (m->op) {
	case HANDOFF_ADD: return add(n, m, "");
	case HANDOFF_DROP: return drop(n, m, "");
	case HANDOFF_ADD_NIC: return add_nic(n, m);
	default: return drop_nic(n, m);
	}
}

static const char *why(const struct handoff_msg *m, int rc)
{
	switch (rc) {
	case -ERANGE: return "no such link index (an add goes at the end)";
	case -EEXIST: return m->op == HANDOFF_ADD_NIC ? "a NIC of that name exists" : "a link to that peer exists";
	case -ENOENT: return "the link at that index is not to that peer (on that NIC)";
	case -ENOSPC: return "no room for another wire NIC";
	case -EOPNOTSUPP: return "this node takes no links at run time (eth0 a wire's, or a tunnel)";
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
			log_warn("link handoff: refused to %s %s%slink %u to %s: %s",
				 m.op == HANDOFF_ADD || m.op == HANDOFF_ADD_NIC ? "add" : "drop", m.nic.name,
				 m.nic.name[0] ? "'s " : "", (unsigned)m.index, m.link.peer, why(&m, rc));
		}
		if (handoff_reply(n->handoff_fd, m.seq, rc) < 0)
			log_warn("link handoff: cannot answer the supervisor");
	}
	return 0;
}
