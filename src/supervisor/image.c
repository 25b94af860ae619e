#include "supervisor/image.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervisor/qemu.h"
#include "supervisor/seed.h"

#define QEMU_IMG_OUT_MAX	(64 * 1024)	/* qemu-img info's JSON of one image */

int image_magic(const uint8_t *hdr, size_t n, const char **what)
{
	static const struct { const char *magic; size_t len, off; const char *name; } m[] = {
		{ "QFI\xfb", 4, 0, "qcow2" },
		{ "KDMV", 4, 0, "vmdk" },
		{ "# Disk DescriptorFile", 21, 0, "vmdk" },
		{ "conectix", 8, 0, "vpc" },
		{ "vhdxfile", 8, 0, "vhdx" },
		{ "QED\0", 4, 0, "qed" },
		{ "LUKS\xba\xbe", 6, 0, "luks" },
		{ "\x7f\x10\xda\xbe", 4, 64, "vdi" },
	};
	size_t i;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (n >= m[i].off + m[i].len && memcmp(hdr + m[i].off, m[i].magic, m[i].len) == 0) {
			if (i == 0 && !(n >= 8 && !hdr[4] && !hdr[5] && !hdr[6] && hdr[7] == 1))
				return IMAGE_QCOW2;
			if (i == 0) {	/* version 1: qcow */
				*what = "qcow";
				return -1;
			}
			*what = m[i].name;
			return -1;
		}
	return IMAGE_RAW;
}

int image_qcow2_facts(const char *json, struct qcow2_facts *f)
{
	json_t *root = json_loads(json, 0, NULL), *v, *spec;
	const char *s;

	memset(f, 0, sizeof(*f));
	v = json_object_get(root, "virtual-size");
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		json_decref(root);
		return -1;
	}
	f->virtual_size = json_integer_value(v);
	s = json_string_value(json_object_get(root, "backing-filename"));
	if (!s)
		s = json_string_value(json_object_get(root, "full-backing-filename"));
	snprintf(f->backing, sizeof(f->backing), "%s", s ? s : "");
	s = json_string_value(json_object_get(root, "backing-filename-format"));
	snprintf(f->backing_fmt, sizeof(f->backing_fmt), "%s", s ? s : "");
	f->encrypted = json_is_true(json_object_get(root, "encrypted"));
	spec = json_object_get(json_object_get(root, "format-specific"), "data");
	f->data_file = json_object_get(spec, "data-file") != NULL;
	f->corrupt = json_is_true(json_object_get(spec, "corrupt"));
	json_decref(root);
	return 0;
}

/* In a child: become ra's user (no supplementary groups, as the VMMs). */
static void become(const struct runas *ra)
{
	if (ra->drop && (setgroups(0, NULL) < 0 || setresgid(ra->gid, ra->gid, ra->gid) < 0 ||
			 setresuid(ra->uid, ra->uid, ra->uid) < 0))
		_exit(126);
}

/* Reads all of fd into buf (NUL-ended, cut at len - 1, the rest read
 * and dropped so the writer never blocks). */
static void read_all(int fd, char *buf, size_t len)
{
	size_t have = 0;
	char sink[4096];
	ssize_t n;

	for (;;) {
		n = have + 1 < len ? read(fd, buf + have, len - 1 - have) : read(fd, sink, sizeof(sink));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (have + 1 < len)
			have += n;
	}
	if (len)
		buf[have] = 0;
}

int image_run(const struct runas *ra, char *const argv[], char *out, size_t len, char *msg, size_t msglen)
{
	int o[2], e[2], status;
	pid_t pid;

	if (pipe2(o, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(e, O_CLOEXEC) < 0) {
		close(o[0]);
		close(o[1]);
		return -errno;
	}
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		sigset_t none;

		/* From the supervisor (apply), its signals blocked for its signalfd. */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		dup2(null, 0);
		dup2(o[1], 1);
		dup2(e[1], 2);
		become(ra);
		execvp(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(o[1]);
	close(e[1]);
	if (pid < 0) {
		close(o[0]);
		close(e[0]);
		return -errno;
	}
	/* qemu-img info writes a few KiB to one of them: stdout first. */
	read_all(o[0], out, len);
	read_all(e[0], msg, msglen);
	close(o[0]);
	close(e[0]);
	msg[strcspn(msg, "\n")] = 0;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* What opening a file as ra's user found. */
struct probe {
	int err;		/* errno of open, or 0 */
	mode_t mode;
	uint64_t size;
	size_t n;		/* header bytes read */
	uint8_t hdr[IMAGE_HDR_LEN];
};

static int probe_as(const struct runas *ra, const char *path, struct probe *pr)
{
	int p[2], status;
	pid_t pid;

	memset(pr, 0, sizeof(*pr));
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid == 0) {
		struct probe c = { 0 };
		struct stat st;
		int fd;

		become(ra);
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (fd < 0) {
			c.err = errno;
		} else if (fstat(fd, &st) == 0) {
			c.mode = st.st_mode;
			c.size = st.st_size;
			if (S_ISREG(st.st_mode)) {
				ssize_t n = pread(fd, c.hdr, sizeof(c.hdr), 0);

				c.n = n > 0 ? n : 0;
			}
		}
		_exit(write(p[1], &c, sizeof(c)) == sizeof(c) ? 0 : 1);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return -errno;
	}
	status = read(p[0], pr, sizeof(*pr)) == sizeof(*pr) ? 0 : -EIO;
	close(p[0]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	if (pr->n > sizeof(pr->hdr))
		return -EIO;
	return status;
}

#define FAIL(line, ...) do { \
	int n_ = snprintf(err, errlen, "%s:%d: [vm %s] ", c->path, (line), v->name); \
	if (n_ >= 0 && (size_t)n_ < errlen) \
		snprintf(err + n_, errlen - n_, __VA_ARGS__); \
	return -1; \
} while (0)

/* A file the VM's QEMU reads: it must be a regular file that ra's user
 * can read. */
static int readable(const struct config *c, const struct cfg_vm *v, const struct runas *ra, const char *key,
		    int line, const char *path, struct probe *pr, char *err, size_t errlen)
{
	int rc = probe_as(ra, path, pr);

	if (rc < 0)
		FAIL(line, "%s: %s: cannot look at it: %s", key, path, strerror(-rc));
	if (pr->err == ENOENT)
		FAIL(line, "%s: %s: no such file", key, path);
	if (pr->err == EACCES || pr->err == EPERM)
		FAIL(line, "%s: %s: not readable by user %s, whom QEMU runs as", key, path, ra->name);
	if (pr->err)
		FAIL(line, "%s: %s: cannot open: %s", key, path, strerror(pr->err));
	if (S_ISDIR(pr->mode))
		FAIL(line, "%s: %s: is a directory", key, path);
	if (!S_ISREG(pr->mode))
		FAIL(line, "%s: %s: not a regular file", key, path);
	if (pr->size == 0)
		FAIL(line, "%s: %s: empty", key, path);
	return 0;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && strcmp(s + n - t, tail) == 0;
}

static int check_qcow2(const struct config *c, struct cfg_vm *v, const struct runas *ra, char *err, size_t errlen)
{
	static char out[QEMU_IMG_OUT_MAX];
	char msg[256] = "";
	char *argv[] = { "qemu-img", "info", "-U", "--output=json", "-f", "qcow2", v->image, NULL };
	struct qcow2_facts f;
	int rc = image_run(ra, argv, out, sizeof(out), msg, sizeof(msg));

	if (rc < 0)
		FAIL(v->image_line, "image: %s: cannot run qemu-img (apt-get install qemu-utils): %s", v->image,
		     strerror(-rc));
	if (rc != 0 || image_qcow2_facts(out, &f) < 0)
		FAIL(v->image_line, "image: %s: qemu-img info refuses it as qcow2: %s", v->image,
		     msg[0] ? msg : "no answer");
	if (f.data_file)
		FAIL(v->image_line, "image: %s: names an external data file: refused (QEMU would read and write "
		     "that host file)", v->image);
	if (f.encrypted)
		FAIL(v->image_line, "image: %s: encrypted images are not supported", v->image);
	if (f.corrupt)
		FAIL(v->image_line, "image: %s: marked corrupt (qemu-img check -r all)", v->image);
	if (f.backing[0] && !v->image_backing)
		FAIL(v->image_line, "image: %s: names a backing file of its own (%s): refused, QEMU would "
		     "read that host file too; set image_backing = yes if you trust it, or flatten it "
		     "(qemu-img convert -O qcow2)", v->image, f.backing);
	if (f.backing[0] && !f.backing_fmt[0])
		FAIL(v->image_backing_line, "image_backing: %s: its backing file %s has no format recorded "
		     "(QEMU would probe it): qemu-img rebase -u -F FORMAT -b %s", v->image, f.backing, f.backing);
	v->image_size = f.virtual_size;
	return 0;
}

static int check_image(const struct config *c, struct cfg_vm *v, const struct runas *ra, char *err, size_t errlen)
{
	char real[PATH_MAX];
	const char *what = NULL;
	struct probe pr;
	int fmt;

	/* The file QEMU will open, and the one the overlay names. */
	if (realpath(v->image, real) && strlen(real) < sizeof(v->image))
		snprintf(v->image, sizeof(v->image), "%s", real);
	if (readable(c, v, ra, "image", v->image_line, v->image, &pr, err, errlen) < 0)
		return -1;
	fmt = image_magic(pr.hdr, pr.n, &what);
	if (v->image_format == IMAGE_QCOW2 && fmt != IMAGE_QCOW2)
		FAIL(v->image_format_line, "image_format: %s: not a qcow2 image (no qcow2 header)", v->image);
	if (v->image_format == IMAGE_AUTO) {
		if (fmt < 0)
			FAIL(v->image_line, "image: %s: a %s image, not qcow2 or raw (convert it: qemu-img convert "
			     "-O qcow2)", v->image, what);
		if (fmt == IMAGE_RAW && ends_with(v->image, ".qcow2"))
			FAIL(v->image_line, "image: %s: named .qcow2 but has no qcow2 header (say image_format = "
			     "raw if it is a raw disk)", v->image);
		v->image_format = fmt;
	}
	if (v->image_format == IMAGE_QCOW2) {
		if (check_qcow2(c, v, ra, err, errlen) < 0)
			return -1;
	} else {
		if (pr.size % MV_IMAGE_SECTOR)
			FAIL(v->image_line, "image: %s: a raw disk of %llu bytes, not a whole number of %d-byte "
			     "sectors", v->image, (unsigned long long)pr.size, MV_IMAGE_SECTOR);
		v->image_size = pr.size;
	}
	if (v->image_size < MV_IMAGE_MIN_BYTES)
		FAIL(v->image_line, "image: %s: too small for a disk (%llu bytes; at least %u)", v->image,
		     (unsigned long long)v->image_size, MV_IMAGE_MIN_BYTES);
	return 0;
}

/* ssh_key: one public key line, read as the run user. */
static int check_key(const struct config *c, const struct cfg_vm *v, const struct runas *ra, char *err, size_t errlen)
{
	char text[SEED_KEY_MAX + 1];
	struct probe pr;
	FILE *f;
	size_t n;

	if (readable(c, v, ra, "ssh_key", v->ssh_key_line, v->ssh_key, &pr, err, errlen) < 0)
		return -1;
	f = fopen(v->ssh_key, "re");
	n = f ? fread(text, 1, SEED_KEY_MAX, f) : 0;
	text[n] = 0;
	if (f)
		fclose(f);
	if (pr.size > SEED_KEY_MAX || !seed_key_ok(text))
		FAIL(v->ssh_key_line, "ssh_key: %s: not one OpenSSH public key line (the .pub file)", v->ssh_key);
	return 0;
}

bool image_any(const struct config *c)
{
	unsigned i;

	for (i = 0; i < c->nvms; i++)
		if (!c->vm[i].external && (c->vm[i].kernel[0] || c->vm[i].initrd[0] || c->vm[i].image[0]))
			return true;
	return false;
}

int image_check_all(struct config *c, const struct runas *ra, char *err, size_t errlen)
{
	struct probe pr;
	unsigned i;

	for (i = 0; i < c->nvms; i++) {
		struct cfg_vm *v = &c->vm[i];

		if (v->external)
			continue;
		if (v->kernel[0] && readable(c, v, ra, "kernel", v->kernel_line, v->kernel, &pr, err, errlen) < 0)
			return -1;
		if (v->initrd[0] && readable(c, v, ra, "initrd", v->initrd_line, v->initrd, &pr, err, errlen) < 0)
			return -1;
		if (!v->image[0])
			continue;
		if (check_image(c, v, ra, err, errlen) < 0)
			return -1;
		if (v->ssh_key[0] && check_key(c, v, ra, err, errlen) < 0)
			return -1;
		if (v->user_data[0] && readable(c, v, ra, "user_data", v->user_data_line, v->user_data, &pr, err,
						errlen) < 0)
			return -1;
		if (v->firmware == FIRMWARE_UEFI && (access(OVMF_CODE, R_OK) || access(OVMF_VARS, R_OK)))
			FAIL(v->firmware_line, "firmware: uefi needs Debian's OVMF (%s; apt-get install ovmf)",
			     OVMF_CODE);
	}
	return 0;
}
