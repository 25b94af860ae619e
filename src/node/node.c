#include "node/node.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/fdio.h"
#include "common/log.h"
#include "node/relink.h"

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

int node_add_link(struct link *l, struct link_stats *st, unsigned qsize, const struct node_link_arg *a,
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
	snprintf(st->peer_nic, sizeof(st->peer_nic), "%s", a->peer_nic);
	st->nic[0] = 0;	/* a VMM names its wires' NICs */
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

void node_check_links(struct node *n)
{
	unsigned i;

	for (i = 0; i < n->nlinks; i++) {
		struct link *l = &n->links[i];
		enum vq_err e = vq_error(&l->txq) ? vq_error(&l->txq) : vq_error(&l->rxq);

		if (e && l->st->up) {
			log_warn("link to %s stopped: %s", l->peer, vq_strerror(e));
			STAT_SET(l->st->up, 0);
			STAT_ADD(l->st->errors, 1);
		}
	}
}

/* The control file, mapped read-only now: inside the sandbox nothing can
 * be opened. Without it the links stay plain. */
static void map_ctl(struct node *n, int fd)
{
	uint64_t size;
	void *p;

	if (fd_size(fd, &size) < 0 || size < sizeof(struct linkctl)) {
		log_warn("ctl fd %d: not a link control file; links stay plain", fd);
		close(fd);
		return;
	}
	p = mmap(NULL, sizeof(struct linkctl), PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		log_warn("cannot map the link control file: %s; links stay plain", strerror(errno));
		return;
	}
	n->ctl = p;
	n->ctl_gen = UINT32_MAX;	/* apply what it says at once */
	n->loop.poll = node_ctl_poll;
	n->loop.poll_ctx = n;
	n->loop.max_wait_ms = LINKCTL_POLL_MS;
}

void node_ctl_poll(void *arg)
{
	static struct linkctl copy;	/* large; keep it off the stack */
	struct node *n = arg;
	unsigned i;

	if (__atomic_load_n(&n->ctl->gen, __ATOMIC_RELAXED) == n->ctl_gen || !linkctl_read(n->ctl, &copy))
		return;	/* unchanged, or a writer is busy: the next pass */
	n->ctl_gen = copy.gen;
	for (i = 0; i < n->nlinks; i++) {
		struct link *l = &n->links[i];
		const struct linkctl_entry *e = &copy.link[i];
		char words[256];

		/* The entry must be this link's (the supervisor writes them in
		 * our links' order) and sane; else it is not applied. */
		if (i >= copy.nlinks || strncmp(e->peer, l->peer, MV_NAME_MAX) ||
		    strncmp(e->nic, l->st->nic, MV_IFNAME_MAX) || strncmp(e->peer_nic, l->st->peer_nic, MV_IFNAME_MAX) ||
		    !linkctl_check(&e->imp)) {
			if (!n->ctl_bad[i])
				log_warn("link to %s: its control entry does not fit it; ignored", l->peer);
			n->ctl_bad[i] = true;
			continue;
		}
		n->ctl_bad[i] = false;
		if (!memcmp(&e->imp, &l->imp.imp, sizeof(e->imp)))
			continue;
		link_imp_set(l, &e->imp);
		linkctl_format(&e->imp, words, sizeof(words));
		log_info("link from %s: %s", l->peer, words[0] ? words : "plain");
	}
}

/* The lifeline hung up: every write end is closed, so the supervisor
 * is gone (killed, even by SIGKILL). A node must not serve on alone: its
 * uid drop cleared its parent-death signal, and in its PID namespace
 * getppid() says nothing. */
static int on_lifeline(void *ctx, uint32_t arg)
{
	(void)ctx;
	(void)arg;
	log_warn("the supervisor is gone (its lifeline hung up)");
	return -1;
}

int node_main(const struct node_kind_ops *k, int argc, char **argv)
{
	static struct node_args a;	/* large; keep them off the stack */
	static struct node n;
	const char *word = node_kind_word(k->kind);
	char err[160], tag[48];
	unsigned i;
	uid_t uid;
	int rc;

	if (node_args_decode(&a, argc, argv, err, sizeof(err)) < 0 || a.kind != k->kind) {
		fprintf(stderr, "multivm %s: %s\n", word, a.kind == k->kind ? err : "not this kind's command line");
		node_args_usage(stderr, k->kind);
		return 2;
	}
	n.ops = k;
	n.qsize = a.queue_size;
	snprintf(n.name, sizeof(n.name), "%s", a.name);
	snprintf(tag, sizeof(tag), "%s %s", word, n.name);
	log_set_tag(tag);
	n.st = node_map_stats(a.stats_fd, n.name);
	if (!n.st) {
		log_err("cannot map stats fd %d", a.stats_fd);
		return 2;
	}
	/* Links come after the stats: each has its counters there. */
	for (i = 0; i < a.nlinks; i++, n.nlinks++)
		node_add_link(&n.links[i], &n.st->link[i], a.link[i].qsize ? a.link[i].qsize : n.qsize, &a.link[i],
			      k->who);
	STAT_SET(n.st->nlinks, n.nlinks);
	rc = loop_init(&n.loop, n.st);
	if (rc < 0) {
		log_err("cannot set up the event loop: %s", strerror(-rc));
		return 1;
	}
	if (a.ctl_fd >= 0)
		map_ctl(&n, a.ctl_fd);
	if (k->setup(&n, &a) < 0)
		return 1;
	for (i = 0; i < n.nlinks; i++) {
		rc = n.links[i].rx_kick < 0 ? 0 : loop_add(&n.loop, n.links[i].rx_kick, true, k->on_link, n.ctx, i);
		if (rc < 0) {
			log_err("cannot watch the link to %s: %s", n.links[i].peer, strerror(-rc));
			return 1;
		}
	}
	/* Links the supervisor hands over later (multivm apply): node/relink.h. */
	n.handoff_fd = a.handoff_fd;
	if (n.handoff_fd >= 0) {
		rc = loop_add(&n.loop, n.handoff_fd, false, node_on_handoff, &n, 0);
		if (rc < 0) {
			log_err("cannot watch the link handoff channel: %s", strerror(-rc));
			return 1;
		}
	}
	/* Watched before the uid drop: once watched, a supervisor dying at
	 * any time after is seen (the pipe hangs up whenever it dies). */
	if (a.lifeline_fd >= 0) {
		rc = loop_add(&n.loop, a.lifeline_fd, false, on_lifeline, NULL, 0);
		if (rc < 0) {
			log_err("cannot watch the supervisor's lifeline: %s", strerror(-rc));
			return 1;
		}
	}
	rc = a.drop ? sandbox_drop_user(a.uid, a.gid) : 0;
	if (rc < 0) {
		log_err("cannot become uid %u gid %u: %s", (unsigned)a.uid, (unsigned)a.gid, strerror(-rc));
		return 1;
	}
	uid = getuid();	/* the filter refuses getuid */
	rc = sandbox_enter(k->rules, k->nrules);
	if (rc < 0) {
		log_err("cannot enter the sandbox: %s", strerror(-rc));
		return 1;
	}
	k->started(&n, (unsigned)uid);
	node_report_ready(&a.ready_fd);
	rc = loop_run(&n.loop, &k->loop, n.ctx);
	log_info("stopping");
	if (k->stop)
		k->stop(&n);
	for (i = 0; i < n.nlinks; i++)
		link_detach(&n.links[i]);
	return rc < 0 ? 1 : 0;
}
