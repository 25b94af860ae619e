/* Small fd operations shared by the VMM's rooms, in the exact form its
 * seccomp filter allows (src/node/sandbox.c): no path lookups. */
#ifndef MULTIVM_FDIO_H
#define MULTIVM_FDIO_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The file's size. The fstat system call itself: glibc's fstat() is
 * newfstatat(fd, "", AT_EMPTY_PATH), which the filter refuses since it
 * could name any path. 0 or -errno. */
static inline int fd_size(int fd, uint64_t *size)
{
	struct stat st;

	*size = 0;
	if (syscall(SYS_fstat, fd, &st) < 0)
		return -errno;
	*size = (uint64_t)st.st_size;
	return 0;
}

/* A memfd that still allows sealing gets F_SEAL_SHRINK: whoever else
 * holds it can then no longer truncate it under our mapping (SIGBUS).
 * Other files (no seals possible) are left as they are. */
static inline void memfd_seal_shrink(int fd)
{
	int seals = fcntl(fd, F_GET_SEALS);

	if (seals >= 0 && !(seals & (F_SEAL_SHRINK | F_SEAL_SEAL)))
		(void)fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK);
}

#endif
