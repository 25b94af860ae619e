#include "supervisor/overlay.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor/image.h"
#include "supervisor/qemu.h"
#include "supervisor/seed.h"
#include "supervisor/state.h"

static const char *fmt_name(enum cfg_image_format f)
{
	return f == IMAGE_QCOW2 ? "qcow2" : "raw";
}

/* What qemu-img info says of overlay path: 0, or -1 with msg set. */
static int facts(const char *path, struct qcow2_facts *f, char *msg, size_t msglen)
{
	static char out[64 * 1024];
	static const struct runas self = { .drop = false, .name = "" };
	char *argv[] = { "qemu-img", "info", "-U", "--output=json", "-f", "qcow2", (char *)path, NULL };

	return image_run(&self, argv, out, sizeof(out), msg, msglen) != 0 || image_qcow2_facts(out, f) < 0 ? -1 : 0;
}

/* A persist overlay from an earlier run must still lie over this image. */
static int reuse(const struct config *c, const struct cfg_vm *v, const char *path, char *err, size_t errlen)
{
	char msg[256] = "";
	struct qcow2_facts f;

	if (facts(path, &f, msg, sizeof(msg)) < 0) {
		snprintf(err, errlen, "%s:%d: [vm %s] persist: %s: not a usable overlay (%s); remove it to start "
			 "afresh", c->path, v->persist_line, v->name, path, msg[0] ? msg : "qemu-img info failed");
		return -1;
	}
	if (strcmp(f.backing, v->image) || strcmp(f.backing_fmt, fmt_name(v->image_format))) {
		snprintf(err, errlen, "%s:%d: [vm %s] persist: %s lies over %s (%s), not %s (%s); remove it "
			 "to start afresh", c->path, v->persist_line, v->name, path, f.backing, f.backing_fmt,
			 v->image, fmt_name(v->image_format));
		return -1;
	}
	return 0;
}

/* qemu-img create -u: the image is not opened here (the size is known),
 * so nothing of it is read as root; QEMU opens it by the -blockdev the
 * command line names, read-only. */
static int create(const struct config *c, const struct cfg_vm *v, const char *path, char *err, size_t errlen)
{
	static const struct runas self = { .drop = false, .name = "" };
	char size[32], out[256], msg[256] = "";
	char *argv[] = { "qemu-img", "create", "-q", "-u", "-f", "qcow2", "-F", (char *)fmt_name(v->image_format),
			 "-b", (char *)v->image, (char *)path, size, NULL };
	int rc;

	snprintf(size, sizeof(size), "%llu", (unsigned long long)v->image_size);
	unlink(path);
	rc = image_run(&self, argv, out, sizeof(out), msg, sizeof(msg));
	if (rc != 0) {
		snprintf(err, errlen, "[vm %s] cannot make its overlay %s: %s", v->name, path,
			 rc < 0 ? strerror(-rc) : msg[0] ? msg : "qemu-img create failed");
		unlink(path);
		return -1;
	}
	return 0;
}

static int copy_file(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC), out, rc = 0;
	ssize_t n;

	if (in < 0)
		return -errno;
	unlink(to);
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		rc = -errno;
		close(in);
		return rc;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n) {
			rc = -EIO;
			break;
		}
	if (n < 0)
		rc = -errno;
	if (close(out) < 0 && !rc)
		rc = -errno;
	close(in);
	if (rc)
		unlink(to);
	return rc;
}

int overlay_make_vm(const struct config *c, const char *dir, unsigned i, bool *fresh, char *err, size_t errlen)
{
	const struct cfg_vm *v = &c->vm[i];
	char path[STATE_PATH_MAX];
	int rc;

	*fresh = true;
	if (v->external || !v->image[0])
		return 0;
	if (state_file(path, dir, v->name, v->persist ? SF_PERSIST : SF_OVERLAY) < 0)
		return -1;	/* preflight checked the lengths */
	*fresh = !v->persist || access(path, F_OK) != 0;
	if (!*fresh ? reuse(c, v, path, err, errlen) < 0 : create(c, v, path, err, errlen) < 0)
		return -1;
	if (v->cloud_init && (state_file(path, dir, v->name, SF_SEED) < 0 ||
			      seed_make(c, v, dir, path, err, errlen) < 0))
		return -1;
	if (v->firmware != FIRMWARE_UEFI)
		return 0;
	if (state_file(path, dir, v->name, v->persist ? SF_PERSIST_VARS : SF_VARS) < 0)
		return -1;
	if (v->persist && access(path, F_OK) == 0)
		return 0;
	rc = copy_file(OVMF_VARS, path);
	if (rc < 0) {
		snprintf(err, errlen, "[vm %s] cannot copy %s to %s: %s", v->name, OVMF_VARS, path, strerror(-rc));
		return -1;
	}
	return 0;
}

void overlay_unmake_vm(const struct config *c, const char *dir, unsigned i, bool fresh)
{
	static const enum state_file made[] = { SF_OVERLAY, SF_SEED, SF_VARS }, kept[] = { SF_PERSIST, SF_PERSIST_VARS };
	const struct cfg_vm *v = &c->vm[i];
	char path[STATE_PATH_MAX];
	unsigned k;

	for (k = 0; k < sizeof(made) / sizeof(made[0]); k++)
		if (state_file(path, dir, v->name, made[k]) == 0)
			unlink(path);
	for (k = 0; v->persist && fresh && k < sizeof(kept) / sizeof(kept[0]); k++)
		if (state_file(path, dir, v->name, kept[k]) == 0)
			unlink(path);
}

/* ---- multivm apply: a running VM's files for its new settings ---- */

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* Whether overlay path lies over v's image (as its format). */
static bool lies_over(const struct cfg_vm *v, const char *path)
{
	char msg[256];
	struct qcow2_facts f;

	return exists(path) && facts(path, &f, msg, sizeof(msg)) == 0 && !strcmp(f.backing, v->image) &&
	       !strcmp(f.backing_fmt, fmt_name(v->image_format));
}

static int with_suffix(char *out, size_t len, const char *dir, const char *vm, enum state_file f, const char *suffix)
{
	char p[STATE_PATH_MAX];

	if (state_file(p, dir, vm, f) < 0 || snprintf(out, len, "%s%s", p, suffix) >= (int)len)
		return -1;
	return 0;
}

/* Renames what exists of from[k] to to[k]; none of to[] may exist. */
static int rename_all(const char *dir, const char *vm, const enum state_file *from, const enum state_file *to,
		      unsigned n, char *err, size_t errlen)
{
	char a[STATE_PATH_MAX], b[STATE_PATH_MAX];
	unsigned k;

	for (k = 0; k < n; k++)
		if (state_file(a, dir, vm, from[k]) < 0 || state_file(b, dir, vm, to[k]) < 0)
			return -1;
		else if (exists(a) && exists(b))
			return snprintf(err, errlen, "[vm %s] persist: %s is there (an earlier run's): remove it, or "
					"`multivm stop` and `multivm run` to use it", vm, b), -1;
	for (k = 0; k < n; k++)
		if (state_file(a, dir, vm, from[k]) == 0 && state_file(b, dir, vm, to[k]) == 0 && exists(a) &&
		    rename(a, b) < 0)
			return snprintf(err, errlen, "[vm %s] cannot rename %s: %s", vm, a, strerror(errno)), -1;
	return 0;
}

static const enum state_file plain[] = { SF_OVERLAY, SF_OVERLAY_OLD, SF_VARS },
			     kept[] = { SF_PERSIST, SF_PERSIST_OLD, SF_PERSIST_VARS };

static int change_files(const struct config *o, const struct config *n, const char *dir, unsigned i, char *err,
			size_t errlen)
{
	const struct cfg_vm *v = &o->vm[i], *w = &n->vm[i];
	char cur[STATE_PATH_MAX], old[STATE_PATH_MAX], tmp[STATE_PATH_MAX + 8], seed[STATE_PATH_MAX],
	     seed_tmp[STATE_PATH_MAX + 8], vars[STATE_PATH_MAX];
	bool fresh, disk = false, back = false;
	int rc;

	if (!w->image[0])
		return 0;	/* its overlay, if it had one, stays till stop (or is kept) */
	if (!v->image[0])
		return overlay_make_vm(n, dir, i, &fresh, err, errlen);	/* its first disk */
	if (state_file(cur, dir, w->name, w->persist ? SF_PERSIST : SF_OVERLAY) < 0 ||
	    state_file(old, dir, w->name, w->persist ? SF_PERSIST_OLD : SF_OVERLAY_OLD) < 0 ||
	    with_suffix(tmp, sizeof(tmp), dir, w->name, w->persist ? SF_PERSIST : SF_OVERLAY, ".new") < 0 ||
	    state_file(seed, dir, w->name, SF_SEED) < 0 ||
	    with_suffix(seed_tmp, sizeof(seed_tmp), dir, w->name, SF_SEED, ".new") < 0 ||
	    state_file(vars, dir, w->name, w->persist ? SF_PERSIST_VARS : SF_VARS) < 0)
		return snprintf(err, errlen, "[vm %s] state directory path too long", w->name), -1;
	/* A new image: a new overlay over it, unless the one set aside lies
	 * over it (apply's undo, or back to the image it had): the current
	 * one set aside in its place. What may fail first, then renames. */
	if (strcmp(v->image, w->image) || v->image_format != w->image_format) {
		disk = true;
		back = lies_over(w, old);
		if (!back && create(n, w, tmp, err, errlen) < 0)
			return -1;
	}
	if (w->cloud_init && seed_make(n, w, dir, seed_tmp, err, errlen) < 0) {
		unlink(tmp);
		return -1;
	}
	if (w->firmware == FIRMWARE_UEFI && !exists(vars) && (rc = copy_file(OVMF_VARS, vars)) < 0) {
		unlink(tmp);
		unlink(seed_tmp);
		return snprintf(err, errlen, "[vm %s] cannot copy %s to %s: %s", w->name, OVMF_VARS, vars,
				strerror(-rc)), -1;
	}
	/* The running QEMU keeps the files it opened until it goes. */
	if (disk && back && (rename(cur, tmp) < 0 || rename(old, cur) < 0 || rename(tmp, old) < 0))
		return snprintf(err, errlen, "[vm %s] cannot swap %s and %s: %s", w->name, cur, old, strerror(errno)), -1;
	if (disk && !back && ((exists(cur) && rename(cur, old) < 0) || rename(tmp, cur) < 0))
		return snprintf(err, errlen, "[vm %s] cannot put %s in place: %s", w->name, cur, strerror(errno)), -1;
	if (w->cloud_init && rename(seed_tmp, seed) < 0)
		return snprintf(err, errlen, "[vm %s] cannot put %s in place: %s", w->name, seed, strerror(errno)), -1;
	return 0;
}

int overlay_change_vm(const struct config *o, const struct config *n, const char *dir, unsigned i, char *err,
		      size_t errlen)
{
	const struct cfg_vm *v = &o->vm[i], *w = &n->vm[i];
	bool moved = v->image[0] && v->persist != w->persist;
	char e2[64];

	if (w->external)
		return 0;
	if (moved && rename_all(dir, w->name, v->persist ? kept : plain, v->persist ? plain : kept, 3, err, errlen) < 0)
		return -1;
	if (change_files(o, n, dir, i, err, errlen) == 0)
		return 0;
	if (moved)	/* back to the names its running QEMU's config has */
		rename_all(dir, w->name, v->persist ? plain : kept, v->persist ? kept : plain, 3, e2, sizeof(e2));
	return -1;
}

int overlay_make_all(const struct run_plan *p, char *err, size_t errlen)
{
	unsigned i;
	bool fresh;

	for (i = 0; i < p->cfg.nvms; i++)
		if (overlay_make_vm(&p->cfg, p->dir, i, &fresh, err, errlen) < 0)
			return -1;
	return 0;
}
