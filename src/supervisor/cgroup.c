#include "supervisor/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/limits.h"

#define CG_LINE_MAX	4096	/* a mountinfo or cgroup line we read whole; longer ones are not ours */

uint64_t cgroups_mem_max(uint64_t memory_mib, unsigned cpus, int kvm)
{
	(void)cpus;
	return (memory_mib + MV_CG_QEMU_MIB + (kvm ? 0 : MV_CG_TCG_MIB)) << 20;
}

unsigned cgroups_pids_max(unsigned cpus)
{
	return MV_CG_PIDS + cpus;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *d = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
		    s[3] <= '7') {
			*d++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 4;
		} else {
			*d++ = *s++;
		}
	}
	*d = 0;
}

/* The first cgroup2 mount: its mount point and the root it shows. */
static int find_mount(const char *mountinfo, char *mnt, size_t mntlen, char *root, size_t rootlen)
{
	char line[CG_LINE_MAX];
	FILE *f = fopen(mountinfo, "re");
	int rc = -1;

	if (!f)
		return -1;
	while (rc < 0 && fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - "), *field[5], *save = NULL, *t;
		unsigned n = 0;

		if (!sep || strncmp(sep + 3, "cgroup2 ", 8) != 0)
			continue;
		*sep = 0;
		for (t = strtok_r(line, " ", &save); t && n < 5; t = strtok_r(NULL, " ", &save))
			field[n++] = t;
		if (n < 5)
			continue;
		unescape(field[3]);
		unescape(field[4]);
		if (snprintf(root, rootlen, "%s", field[3]) >= (int)rootlen ||
		    snprintf(mnt, mntlen, "%s", field[4]) >= (int)mntlen)
			continue;
		rc = 0;
	}
	fclose(f);
	return rc;
}

/* Our cgroup v2 path ("0::PATH" in /proc/self/cgroup), "" when none. */
static void own_path(const char *self, char *out, size_t len)
{
	char line[CG_LINE_MAX];
	FILE *f = fopen(self, "re");

	*out = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = 0;
			snprintf(out, len, "%s", line + 3);
			break;
		}
	fclose(f);
}

/* Whether the space-separated list has word. */
static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p = list;

	while ((p = strstr(p, word)) != NULL) {
		if ((p == list || p[-1] == ' ') && (p[n] == 0 || p[n] == ' ' || p[n] == '\n'))
			return true;
		p += n;
	}
	return false;
}

static int put(const char *dir, const char *file, const char *text, char *err, size_t errlen)
{
	char p[PATH_MAX + 64];
	size_t n = strlen(text);
	int fd, rc = 0;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	fd = open(p, O_WRONLY | O_CLOEXEC | O_TRUNC);
	if (fd < 0 || write(fd, text, n) != (ssize_t)n)
		rc = -1;
	if (rc < 0)
		snprintf(err, errlen, "%s: %s", p, strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

static int make_dir(const char *dir, char *err, size_t errlen)
{
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

static int join(char *out, size_t len, const char *a, const char *b, char *err, size_t errlen)
{
	if (snprintf(out, len, "%s/%s", a, b) >= (int)len) {
		snprintf(err, errlen, "%s/%s: name too long", a, b);
		return -1;
	}
	return 0;
}

#define CG_ENABLE	"+memory +pids"

/* multivm/name under base, with memory and pids for every child. */
static int try_base(struct cgroups *cg, const char *base, const char *name, char *why, size_t whylen)
{
	char p[PATH_MAX], mv[PATH_MAX], ctl[256] = "";
	ssize_t n;
	int fd;

	if (join(p, sizeof(p), base, "cgroup.controllers", why, whylen) < 0)
		return -1;
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, whylen, "%s: %s", p, strerror(errno));
		return -1;
	}
	n = read(fd, ctl, sizeof(ctl) - 1);
	close(fd);
	ctl[n > 0 ? n : 0] = 0;
	ctl[strcspn(ctl, "\n")] = 0;
	if (!has_word(ctl, "memory") || !has_word(ctl, "pids")) {
		snprintf(why, whylen, "cgroup v2 at %s offers no %s%s%s controller (cgroup.controllers: %s)", base,
			 has_word(ctl, "memory") ? "" : "memory", !has_word(ctl, "memory") && !has_word(ctl, "pids") ?
			 " or " : "", has_word(ctl, "pids") ? "" : "pids", *ctl ? ctl : "none");
		return -1;
	}
	if (join(mv, sizeof(mv), base, "multivm", why, whylen) < 0 || join(p, sizeof(p), mv, name, why, whylen) < 0)
		return -1;
	if (make_dir(mv, why, whylen) < 0 || put(base, "cgroup.subtree_control", CG_ENABLE, why, whylen) < 0 ||
	    make_dir(p, why, whylen) < 0 || put(mv, "cgroup.subtree_control", CG_ENABLE, why, whylen) < 0 ||
	    put(p, "cgroup.subtree_control", CG_ENABLE, why, whylen) < 0)
		return -1;
	fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, whylen, "%s: %s", p, strerror(errno));
		return -1;
	}
	cg->dir_fd = fd;
	snprintf(cg->path, sizeof(cg->path), "%s", p);
	return 0;
}

int cgroups_open(struct cgroups *cg, const char *mountinfo, const char *self, const char *name, char *why,
		 size_t whylen)
{
	char mnt[PATH_MAX], root[PATH_MAX], own[PATH_MAX], base[PATH_MAX];
	size_t rl;

	cg->dir_fd = -1;
	cg->path[0] = 0;
	if (find_mount(mountinfo, mnt, sizeof(mnt), root, sizeof(root)) < 0) {
		snprintf(why, whylen, "no cgroup v2 hierarchy is mounted (%s)", mountinfo);
		return -1;
	}
	/* Our own cgroup first, as it shows under the mount (a delegation
	 * is there); it may hold processes (ours), and then cannot enable
	 * controllers for children: the hierarchy's root next. */
	own_path(self, own, sizeof(own));
	rl = strcmp(root, "/") ? strlen(root) : 0;
	if (*own == '/' && strcmp(own, "/") && !strncmp(own, root, rl) && (own[rl] == '/' || !own[rl]) &&
	    snprintf(base, sizeof(base), "%s%s", mnt, own + rl) < (int)sizeof(base) &&
	    try_base(cg, base, name, why, whylen) == 0)
		return 0;
	return try_base(cg, mnt, name, why, whylen);
}

int cgroups_vm(const struct cgroups *cg, const char *vm, uint64_t mem_max, unsigned pids_max, char *err,
	       size_t errlen)
{
	char p[PATH_MAX], num[32];
	int fd;

	if (cg->dir_fd < 0) {
		snprintf(err, errlen, "no cgroups");
		return -1;
	}
	if (join(p, sizeof(p), cg->path, vm, err, errlen) < 0 || make_dir(p, err, errlen) < 0)
		return -1;
	snprintf(num, sizeof(num), "%llu", (unsigned long long)mem_max);
	if (put(p, "memory.max", num, err, errlen) < 0)
		return -1;
	snprintf(num, sizeof(num), "%u", pids_max);
	if (put(p, "pids.max", num, err, errlen) < 0)
		return -1;
	fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		snprintf(err, errlen, "%s: %s", p, strerror(errno));
	return fd;
}

int cgroups_vm_remove(const struct cgroups *cg, const char *vm, char *err, size_t errlen)
{
	char p[PATH_MAX];

	if (cg->dir_fd < 0)
		return 0;
	if (join(p, sizeof(p), cg->path, vm, err, errlen) < 0)
		return -1;
	if (rmdir(p) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", p, strerror(errno));
		return -1;
	}
	return 0;
}

void cgroups_close(struct cgroups *cg)
{
	if (cg->dir_fd < 0)
		return;
	close(cg->dir_fd);
	cg->dir_fd = -1;
	rmdir(cg->path);	/* best effort: a VM's left would say so itself */
}
