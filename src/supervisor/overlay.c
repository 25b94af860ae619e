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

/* A persist overlay from an earlier run must still lie over this image. */
static int reuse(const struct config *c, const struct cfg_vm *v, const char *path, char *err, size_t errlen)
{
	static char out[64 * 1024];
	static const struct runas self = { .drop = false, .name = "" };
	char msg[256] = "", *argv[] = { "qemu-img", "info", "-U", "--output=json", "-f", "qcow2", (char *)path, NULL };
	struct qcow2_facts f;
	int rc = image_run(&self, argv, out, sizeof(out), msg, sizeof(msg));

	if (rc != 0 || image_qcow2_facts(out, &f) < 0) {
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

int overlay_make_all(const struct run_plan *p, char *err, size_t errlen)
{
	unsigned i;
	bool fresh;

	for (i = 0; i < p->cfg.nvms; i++)
		if (overlay_make_vm(&p->cfg, p->dir, i, &fresh, err, errlen) < 0)
			return -1;
	return 0;
}
