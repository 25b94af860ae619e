#include "common/logcap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define OLD_SUFFIX ".1"

static uint64_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

int caplog_open(struct capped_log *l, const char *path, uint64_t max)
{
	char old[4096];
	uint64_t old_size;
	struct stat st;

	l->path = path;
	l->max = max;
	l->dropped = 0;
	l->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (l->fd < 0)
		return -errno;
	l->size = fstat(l->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	/* An older run's PATH.1 past max (a larger log_max then) is not kept:
	 * the two files together stay within 2 * max. */
	snprintf(old, sizeof(old), "%s" OLD_SUFFIX, path);
	old_size = file_size(old);
	if (old_size > max && unlink(old) == 0)
		l->dropped += old_size;
	return 0;
}

/* PATH becomes PATH.1 (the previous PATH.1 is dropped); a new PATH. */
static void rotate(struct capped_log *l)
{
	char old[4096];

	if (l->size > l->max) {	/* an older run's, past max: not kept as PATH.1 either */
		l->dropped += l->size;
		if (ftruncate(l->fd, 0) == 0)
			l->size = 0;
		return;
	}
	snprintf(old, sizeof(old), "%s" OLD_SUFFIX, l->path);
	l->dropped += file_size(old);
	if (rename(l->path, old) < 0) {
		l->dropped += l->size;	/* cannot keep it: start it over */
		if (ftruncate(l->fd, 0) == 0)
			l->size = 0;
		return;
	}
	close(l->fd);
	l->fd = open(l->path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	l->size = 0;
}

void caplog_write(struct capped_log *l, const void *buf, size_t n)
{
	const char *p = buf;
	ssize_t w;

	if (l->fd < 0)
		return;
	if (n > l->max) {	/* keep the newest max bytes */
		l->dropped += n - l->max;
		p += n - l->max;
		n = l->max;
	}
	if (l->size + n > l->max)
		rotate(l);
	if (l->fd < 0)
		return;
	w = write(l->fd, p, n);
	if (w > 0)
		l->size += w;
	if (w < (ssize_t)n)
		l->dropped += n - (w > 0 ? w : 0);
}

int caplog_drain(struct capped_log *l, int fd, size_t budget)
{
	static char buf[65536];	/* a pipe's worth; one process, one loop */

	while (budget > 0) {
		ssize_t n = read(fd, buf, budget < sizeof(buf) ? budget : sizeof(buf));

		if (n == 0)
			return 0;
		if (n < 0)
			return errno == EAGAIN ? 1 : errno == EINTR ? 1 : -errno;
		caplog_write(l, buf, n);
		budget -= n;
	}
	return 1;
}

void caplog_close(struct capped_log *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}

uint64_t caplog_trim(const char *path, uint64_t max)
{
	char old[4096];
	uint64_t dropped;
	int in, out;
	off_t left;

	if (file_size(path) <= max)
		return 0;
	snprintf(old, sizeof(old), "%s" OLD_SUFFIX, path);
	dropped = file_size(old);
	in = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	out = open(old, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	left = in >= 0 ? lseek(in, 0, SEEK_END) : 0;
	if (in >= 0 && lseek(in, 0, SEEK_SET) == 0)
		while (out >= 0 && left > 0) {
			ssize_t c = copy_file_range(in, NULL, out, NULL, left, 0);

			if (c <= 0)
				break;
			left -= c;
		}
	dropped += left > 0 ? (uint64_t)left : 0;	/* what could not be copied */
	/* Lines written between the copy and here are lost: a small window.
	 * A file that cannot be emptied is tried again at the next call. */
	if (in >= 0) {
		int rc = ftruncate(in, 0);

		(void)rc;
		close(in);
	}
	if (out >= 0)
		close(out);
	return dropped;
}
