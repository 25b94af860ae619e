#include "supervisor/runas.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

uint32_t runas_range_account(uint32_t first, uint32_t last, char *who, size_t wholen)
{
	struct passwd *pw;
	struct group *gr;
	uint32_t hit = 0;

	setpwent();
	while (!hit && (pw = getpwent()) != NULL)
		if (pw->pw_uid >= first && pw->pw_uid <= last) {
			hit = pw->pw_uid;
			snprintf(who, wholen, "uid %u of user %s", (unsigned)hit, pw->pw_name);
		} else if (pw->pw_gid >= first && pw->pw_gid <= last) {
			hit = pw->pw_gid;
			snprintf(who, wholen, "gid %u of user %s", (unsigned)hit, pw->pw_name);
		}
	endpwent();
	if (hit)
		return hit;
	setgrent();
	while (!hit && (gr = getgrent()) != NULL)
		if (gr->gr_gid >= first && gr->gr_gid <= last) {
			hit = gr->gr_gid;
			snprintf(who, wholen, "gid %u of group %s", (unsigned)hit, gr->gr_name);
		}
	endgrent();
	return hit;
}

void runas_slots_busy(const char *proc, uint32_t first, unsigned nslots, uint64_t *busy)
{
	DIR *d = opendir(proc);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		char path[300], line[256];
		unsigned long u[4];
		FILE *f;
		int k;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "%s/%s/status", proc, e->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;	/* gone meanwhile */
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "Uid: %lu %lu %lu %lu", &u[0], &u[1], &u[2], &u[3]) == 4) {
				for (k = 0; k < 4; k++)
					if (u[k] >= first && u[k] - first < 2ull * nslots)
						busy[(u[k] - first) / 2 / 64] |= 1ull << ((u[k] - first) / 2 % 64);
				break;
			}
		fclose(f);
	}
	closedir(d);
}

/* Slot id's lock in dir, taken: its fd, or -1 (another holds it, or it
 * cannot be made). */
static int slot_lock(const char *dir, uint32_t id)
{
	char path[300];
	int fd;

	snprintf(path, sizeof(path), "%s/multivm-uid-%u.lock", dir, (unsigned)id);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

void runas_release(struct runas *r)
{
	unsigned i;

	for (i = 0; i < MV_NODES_MAX; i++)
		if (r->lock_fd[i] >= 0) {
			close(r->lock_fd[i]);
			r->lock_fd[i] = -1;
		}
}

/* "the default uid_range A-B" or "FILE:LINE: [system] uid_range: A-B". */
static void range_where(const struct config *c, char *out, size_t len)
{
	if (c->uid_line)
		snprintf(out, len, "%s:%d: [system] uid_range: %u-%u", c->path, c->uid_line,
			 (unsigned)c->uid_first, (unsigned)c->uid_last);
	else
		snprintf(out, len, "%s: the default [system] uid_range %u-%u", c->path,
			 (unsigned)c->uid_first, (unsigned)c->uid_last);
}

/* A user or group of a frontend_user/_group: a name, or a number. */
static int frontend_id(const struct config *c, const struct cfg_vm *vm, struct frontend *f, char *err,
		       size_t errlen)
{
	const char *v = vm->frontend_user[0] ? vm->frontend_user : vm->frontend_group;
	bool user = vm->frontend_user[0] != 0;
	bool num = isdigit((unsigned char)v[0]);

	if (user) {
		struct passwd *pw = num ? getpwuid(atoi(v)) : getpwnam(v);

		if (num || pw) {
			f->id.uid = num ? (uid_t)atoi(v) : pw->pw_uid;
			return 0;
		}
	} else {
		struct group *gr = num ? NULL : getgrnam(v);

		if (num || gr) {
			f->id.gid = num ? (gid_t)atoi(v) : gr->gr_gid;
			f->group = true;
			return 0;
		}
	}
	snprintf(err, errlen, "%s:%d: [vm %s] %s: no such %s on this host", c->path, vm->frontend_line, vm->name,
		 user ? "frontend_user" : "frontend_group", user ? "user" : "group");
	return -1;
}

/* Slots for nodes [from, c->nvms), with their frontends: taken (lockdir
 * set: free and locked; else slot i for node i, for a check), or -1 with
 * err and nothing more held. */
static int take(const struct config *c, struct runas *r, unsigned from, const char *proc, const char *lockdir,
		char *err, size_t errlen)
{
	static uint64_t busy[RUNAS_SLOTS_MAX / 64];
	uint64_t have = (uint64_t)c->uid_last - c->uid_first + 1;
	unsigned i, s, nslots = have / MV_IDS_PER_NODE < RUNAS_SLOTS_MAX ? have / MV_IDS_PER_NODE : RUNAS_SLOTS_MAX;
	char where[CFG_PATH_MAX + 64];

	range_where(c, where, sizeof(where));
	memset(busy, 0, sizeof(busy));
	if (lockdir) {
		if (mkdir(lockdir, 0700) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create %s (the uid_range slots' locks): %s", lockdir, strerror(errno));
			return -1;
		}
		runas_slots_busy(proc, c->uid_first, nslots, busy);
	}
	for (i = from, s = 0; i < c->nvms && s < nslots; s++) {
		bool mine = false;

		for (unsigned k = 0; k < from; k++)	/* apply: ours already */
			mine |= r->node[k].uid == c->uid_first + MV_IDS_PER_NODE * s;
		if (mine || (busy[s / 64] >> (s % 64) & 1))
			continue;
		if (lockdir && (r->lock_fd[i] = slot_lock(lockdir, c->uid_first + MV_IDS_PER_NODE * s)) < 0)
			continue;
		r->node[i].uid = r->node[i].gid = c->uid_first + MV_IDS_PER_NODE * s;
		r->qemu[i].uid = r->qemu[i].gid = c->uid_first + MV_IDS_PER_NODE * s + 1;
		i++;
	}
	if (i < c->nvms) {
		snprintf(err, errlen, "%s: no free ids for %u of this system's %u VMs and tunnels (running "
			 "processes, or other systems started by root, have the rest): give it a uid_range of its "
			 "own, or a larger one", where, c->nvms - i, c->nvms);
		goto undo;
	}
	for (i = from; i < c->nvms; i++) {
		const struct cfg_vm *vm = &c->vm[i];

		r->front[i].id = r->qemu[i];
		r->front[i].group = false;
		if (vm->external && vm->frontend_line) {
			if (frontend_id(c, vm, &r->front[i], err, errlen) < 0)
				goto undo;
		} else if (vm->external) {	/* libvirt's QEMU, in [system] user's group */
			r->front[i].id.gid = r->user_gid;
			r->front[i].group = true;
		}
	}
	return 0;
undo:
	for (i = from; i < MV_NODES_MAX; i++)
		if (r->lock_fd[i] >= 0) {
			close(r->lock_fd[i]);
			r->lock_fd[i] = -1;
		}
	return -1;
}

int runas_resolve(const struct config *c, struct runas *r, char *err, size_t errlen)
{
	return runas_resolve_in(c, r, "/proc", RUNAS_LOCK_DIR, err, errlen);
}

int runas_resolve_check(const struct config *c, struct runas *r, char *err, size_t errlen)
{
	return runas_resolve_in(c, r, NULL, NULL, err, errlen);
}

int runas_extend(const struct config *c, struct runas *r, unsigned from, char *err, size_t errlen)
{
	unsigned i;

	for (i = from; i < c->nvms; i++) {	/* as runas_resolve_in would for a non-root run */
		r->front[i].id.uid = geteuid();
		r->front[i].id.gid = getegid();
		r->lock_fd[i] = -1;
	}
	return r->drop ? take(c, r, from, "/proc", RUNAS_LOCK_DIR, err, errlen) : 0;
}

int runas_resolve_in(const struct config *c, struct runas *r, const char *proc, const char *lockdir, char *err,
		     size_t errlen)
{
	struct passwd *pw;
	char where[CFG_PATH_MAX + 64], who[128];
	uint64_t need = (uint64_t)MV_IDS_PER_NODE * c->nvms, have = (uint64_t)c->uid_last - c->uid_first + 1;
	unsigned i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < MV_NODES_MAX; i++)
		r->lock_fd[i] = -1;
	r->name = c->user;
	for (i = 0; i < c->nvms; i++) {	/* not root: everything is ours */
		r->front[i].id.uid = geteuid();
		r->front[i].id.gid = getegid();
	}
	if (geteuid() != 0 || strcmp(c->user, "root") == 0)
		return 0;
	pw = getpwnam(c->user);
	if (!pw || pw->pw_uid == 0 || pw->pw_gid == 0) {
		if (c->user_line)
			snprintf(err, errlen, "%s:%d: [system] user: %s", c->path, c->user_line,
				 pw ? "must not be root's uid or gid (say user = root to keep root)"
				    : "no such user on this host");
		else
			snprintf(err, errlen, "%s: the VMMs and QEMUs run as user '%s', and there is no such "
				 "user here: run scripts/deps.sh (it creates it), or set [system] user",
				 c->path, c->user);
		return -1;
	}
	r->user_gid = pw->pw_gid;	/* pw is the C library's, overwritten by the next look-up */
	range_where(c, where, sizeof(where));
	if (have < need) {
		snprintf(err, errlen, "%s: holds %llu ids; this system's %u VMs and tunnels need %d each, %llu",
			 where, (unsigned long long)have, c->nvms, MV_IDS_PER_NODE, (unsigned long long)need);
		return -1;
	}
	if (runas_range_account(c->uid_first, c->uid_last, who, sizeof(who))) {
		snprintf(err, errlen, "%s: overlaps an account (%s): choose a range no user or group has an id in",
			 where, who);
		return -1;
	}
	if (take(c, r, 0, proc, lockdir, err, errlen) < 0)
		return -1;
	r->drop = true;
	/* What every QEMU may read (image checks): none has an account, so
	 * any one of them stands for all. */
	r->uid = r->qemu[0].uid;
	r->gid = r->qemu[0].gid;
	return 0;
}
