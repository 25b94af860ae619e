#include "config/text.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int config_read_text(const char *path, char *buf, size_t size, char *err, size_t errlen)
{
	size_t len = 0, i;
	ssize_t n = 1;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), line = 1;
	char c;

	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	while (len + 1 < size && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += n;
	if (n > 0 && (n = read(fd, &c, 1)) > 0) {	/* a byte more than fits */
		close(fd);
		snprintf(err, errlen, "%s: larger than %zu bytes", path, size - 1);
		return -1;
	}
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	buf[len] = 0;
	for (i = 0; i < len; i++) {
		if (buf[i] == 0) {
			snprintf(err, errlen, "%s:%d: a NUL byte: not a text file", path, line);
			return -1;
		}
		line += buf[i] == '\n';
	}
	return 0;
}
