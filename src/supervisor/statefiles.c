#include "supervisor/statefiles.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/capring.h"
#include "common/stats.h"
#include "common/logcap.h"
#include "node/args.h"
#include "supervisor/state.h"

int statefiles_status(const char *dir, const struct vm_status *vms, unsigned n)
{
	char text[MV_NODES_MAX * STATUS_LINE_MAX] = "";
	size_t used = 0;
	unsigned i;

	for (i = 0; i < n && i < MV_NODES_MAX; i++) {
		int k = status_line_format(text + used, sizeof(text) - used, &vms[i]);

		if (k < 0)
			return k;	/* names and paths were checked long before */
		used += k;
	}
	return state_write_status(dir, text);
}

void statefiles_begin(const char *dir)
{
	char p[STATE_PATH_MAX];
	FILE *f;
	int fd;

	if (state_file(p, dir, NULL, SF_SUPERVISOR_LOG) == 0) {
		fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (fd >= 0) {
			dup2(fd, 2);
			close(fd);
		}
	}
	if (state_file(p, dir, NULL, SF_SUPERVISOR_PID) == 0 && (f = fopen(p, "w")) != NULL) {
		fprintf(f, "%d\n", (int)getpid());
		fclose(f);
	}
}

int statefiles_stats(const char *dir, const char *vm)
{
	char p[STATE_PATH_MAX];
	int fd, rc;

	if (state_file(p, dir, vm, SF_STATS) < 0)
		return -ENAMETOOLONG;
	fd = open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, sizeof(struct vm_stats)) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

/* Sparse: pages are allocated only as frames are recorded. */
int statefiles_capture(const char *dir, const char *vm)
{
	char p[STATE_PATH_MAX];
	int fd, rc;

	if (state_file(p, dir, vm, SF_CAPTURE) < 0)
		return -ENAMETOOLONG;
	unlink(p);
	fd = open(p, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, CAP_FILE_SIZE) < 0) {
		rc = -errno;
		close(fd);
		unlink(p);
		return rc;
	}
	return fd;
}

/* The NIC of node a that its link la leaves by, as the control file
 * names it: "" for the segment's (and a tunnel's), else the guest's name. */
static const char *link_nic(const struct node_args *a, const struct node_link_arg *la)
{
	if (a->kind != NODE_VMM)
		return "";
	if (la->nic == 0)
		return a->vmm.eth0_wire ? "eth0" : "";
	return la->nic <= a->vmm.nwires ? a->vmm.wire[la->nic - 1].name : "";
}

/* The NIC name of side x of link l: "" on the segment and for a tunnel. */
static const char *cfg_nic(const struct config *cfg, const struct cfg_link *l, int x)
{
	int n = x ? l->nic_b : l->nic_a;

	return l->wire && n >= 0 ? cfg->vm[x ? l->b : l->a].nic[n].name : "";
}

void statefiles_ctl_fill(struct linkctl *c, const struct node_args *a, const struct config *cfg, unsigned node)
{
	unsigned k, j;

	memset(c, 0, sizeof(*c));
	c->magic = LINKCTL_MAGIC;
	c->version = LINKCTL_VERSION;
	for (k = 0; k < a->nlinks && k < MV_NODE_LINKS_MAX; k++) {
		const struct node_link_arg *la = &a->link[k];
		struct linkctl_entry *e = &c->link[c->nlinks++];

		snprintf(e->peer, sizeof(e->peer), "%s", la->peer);
		snprintf(e->nic, sizeof(e->nic), "%s", link_nic(a, la));
		snprintf(e->peer_nic, sizeof(e->peer_nic), "%s", la->peer_nic);
		for (j = 0; j < cfg->nlinks; j++) {	/* its settings: those of the direction it receives */
			const struct cfg_link *l = &cfg->link[j];
			int x = l->a == node ? 0 : 1;

			if ((l->a != node && l->b != node) || l->wire != la->wire ||
			    strcmp(cfg->vm[x ? l->a : l->b].name, e->peer) || strcmp(cfg_nic(cfg, l, x), e->nic) ||
			    strcmp(cfg_nic(cfg, l, !x), e->peer_nic))
				continue;
			e->imp = l->imp[!x];	/* peer->node: b->a when the node is a */
			break;
		}
	}
}

int statefiles_ctl(const char *dir, const struct node_args *a, const struct config *cfg, unsigned node)
{
	static struct linkctl c;
	char p[STATE_PATH_MAX];
	int fd, rc;

	if (state_file(p, dir, cfg->vm[node].name, SF_CTL) < 0)
		return -ENAMETOOLONG;
	statefiles_ctl_fill(&c, a, cfg, node);
	unlink(p);	/* never an old one: a `multivm link` may hold it */
	fd = open(p, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (pwrite(fd, &c, sizeof(c), 0) != (ssize_t)sizeof(c)) {
		rc = errno ? -errno : -EIO;
		close(fd);
		unlink(p);
		return rc;
	}
	close(fd);
	/* Read-only from now on: the node gets this fd, and nothing here
	 * writes the file again (`multivm link` opens it for that). */
	fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		rc = -errno;
		unlink(p);
		return rc;
	}
	return fd;
}

int statefiles_ctl_read(int fd, struct linkctl *out)
{
	ssize_t n;
	unsigned k;

	if (flock(fd, LOCK_SH) < 0)
		return -errno;
	n = pread(fd, out, sizeof(*out), 0);
	flock(fd, LOCK_UN);
	if (n < 0)
		return -errno;
	if (n != (ssize_t)sizeof(*out) || out->magic != LINKCTL_MAGIC || out->version != LINKCTL_VERSION ||
	    out->nlinks > MV_NODE_LINKS_MAX || (out->gen & 1))
		return -EPROTO;
	for (k = 0; k < out->nlinks; k++) {
		struct linkctl_entry *e = &out->link[k];

		if (!memchr(e->peer, 0, sizeof(e->peer)) || !memchr(e->nic, 0, sizeof(e->nic)) ||
		    !memchr(e->peer_nic, 0, sizeof(e->peer_nic)))
			return -EPROTO;
	}
	return 0;
}

int statefiles_ctl_find(const struct linkctl *c, const char *peer, const char *nic, const char *peer_nic)
{
	unsigned k;

	for (k = 0; k < c->nlinks && k < MV_NODE_LINKS_MAX; k++)
		if (!strcmp(c->link[k].peer, peer) && !strcmp(c->link[k].nic, nic) &&
		    !strcmp(c->link[k].peer_nic, peer_nic))
			return k;
	return -1;
}

int statefiles_ctl_keep(const char *dir, const char *vm, const struct linkctl *old)
{
	static struct linkctl c;
	char p[STATE_PATH_MAX];
	unsigned k;
	int fd, e, rc = 0;

	if (state_file(p, dir, vm, SF_CTL) < 0)
		return -ENAMETOOLONG;
	fd = open(p, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX) < 0 || pread(fd, &c, sizeof(c), 0) != (ssize_t)sizeof(c) || c.nlinks > MV_NODE_LINKS_MAX) {
		close(fd);
		return -EIO;
	}
	for (k = 0; k < c.nlinks; k++) {
		e = statefiles_ctl_find(old, c.link[k].peer, c.link[k].nic, c.link[k].peer_nic);
		if (e >= 0)
			c.link[k].imp = old->link[e].imp;
	}
	c.gen += 2;	/* even: no node maps it yet */
	if (pwrite(fd, &c, sizeof(c), 0) != (ssize_t)sizeof(c))
		rc = -EIO;
	close(fd);
	return rc;
}

int statefiles_ctl_relink(const char *dir, const struct node_args *a, const struct config *cfg, unsigned node,
			  const struct linkctl *old)
{
	static struct linkctl fresh;
	char p[STATE_PATH_MAX];
	struct linkctl *c;
	unsigned k;
	int fd, e, rc = 0;

	if (state_file(p, dir, cfg->vm[node].name, SF_CTL) < 0)
		return -ENAMETOOLONG;
	statefiles_ctl_fill(&fresh, a, cfg, node);
	for (k = 0; old && k < fresh.nlinks; k++) {
		e = statefiles_ctl_find(old, fresh.link[k].peer, fresh.link[k].nic, fresh.link[k].peer_nic);
		if (e >= 0)
			fresh.link[k].imp = old->link[e].imp;
	}
	fd = open(p, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (c == MAP_FAILED || flock(fd, LOCK_EX) < 0) {
		rc = -errno;
		if (c != MAP_FAILED)
			munmap(c, sizeof(*c));
		close(fd);
		return rc;
	}
	/* The node reads it lock-free (seqlock): odd while the entries change. */
	linkctl_write_begin(c);
	memcpy(c->link, fresh.link, sizeof(c->link));
	c->nlinks = fresh.nlinks;
	linkctl_write_end(c);
	flock(fd, LOCK_UN);
	munmap(c, sizeof(*c));
	close(fd);
	return 0;
}

void statefiles_trim_own_log(const char *dir, uint64_t max)
{
	char p[STATE_PATH_MAX];

	if (state_file(p, dir, NULL, SF_SUPERVISOR_LOG) == 0)
		caplog_trim(p, max);
}

void statefiles_remove_vm(const char *dir, const struct cfg_vm *vm, bool all)
{
	static const enum state_file per_vm[] = { SF_VHOST, SF_CONSOLE, SF_AGENT, SF_CAPTURE, SF_CTL, SF_QMP,
						  SF_OVERLAY, SF_VARS, SF_SEED, SF_OVERLAY_OLD };
	static const enum state_file kept[] = { SF_STATS, SF_VMM_LOG, SF_QEMU_LOG, SF_CONSOLE_LOG };
	char p[STATE_PATH_MAX + 2];
	unsigned k;

	for (k = 0; k < sizeof(per_vm) / sizeof(per_vm[0]); k++)
		if (state_file(p, dir, vm->name, per_vm[k]) == 0)
			unlink(p);
	for (k = 0; k < vm->nnics; k++)
		if (state_nic_socket(p, dir, vm->name, vm->nic[k].name) == 0)
			unlink(p);
	for (k = 0; all && k < sizeof(kept) / sizeof(kept[0]); k++)
		if (state_file(p, dir, vm->name, kept[k]) == 0) {
			unlink(p);
			strcat(p, ".1");	/* a capped log's older part */
			unlink(p);
		}
}

void statefiles_remove(const char *dir, const struct config *cfg)
{
	static const enum state_file sys[] = { SF_STATUS, SF_CONSOLE_SOCK, SF_SUPERVISOR_PID, SF_RUN, SF_RUN_NAME,
					       SF_APPLY_REQ, SF_APPLY_REQ_NAME, SF_APPLY_RES };
	char p[STATE_PATH_MAX];
	unsigned i, k;

	for (i = 0; i < cfg->nvms; i++)
		statefiles_remove_vm(dir, &cfg->vm[i], false);
	for (k = 0; k < sizeof(sys) / sizeof(sys[0]); k++)
		if (state_file(p, dir, NULL, sys[k]) == 0)
			unlink(p);
}
