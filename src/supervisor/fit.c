/* Does the system fit the host? See fit.h. */
#include "supervisor/fit.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "link/link.h"
#include "link/room.h"

/* Per node: stats, capture, logs, console and agent sockets; plus ours. */
#define FDS_PER_NODE	8
#define FDS_SPARE	64

unsigned fit_fds_needed(const struct config *c)
{
	return 3 * c->nlinks + FDS_PER_NODE * c->nvms + FDS_SPARE;
}

/* Every link's, each sized for its delay (link/room.h). */
static uint64_t links_bytes(const struct config *c)
{
	uint64_t b = 0;
	unsigned k;

	for (k = 0; k < c->nlinks; k++)
		b += link_shm_size(link_room_qsize(c->link_queue_size, c->link[k].imp));
	return b;
}

uint64_t fit_memory_needed(const struct config *c, bool guests)
{
	uint64_t b = links_bytes(c);
	unsigned i;

	for (i = 0; i < c->nvms && guests; i++)
		if (!c->vm[i].external)
			b += c->vm[i].memory_mib << 20;
	return b;
}

static uint64_t mem_available(const char *meminfo)
{
	char line[256];
	unsigned long long kib = 0;
	FILE *f = fopen(meminfo, "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return (uint64_t)kib << 10;
}

int fit_check(const struct config *c, bool guests, const char *meminfo, char *err, size_t errlen)
{
	unsigned need = fit_fds_needed(c);
	uint64_t mem = fit_memory_needed(c, guests), avail = mem_available(meminfo);
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need) {
		if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
			snprintf(err, errlen, "%s: %u VMs and tunnels with %u links need %u open files, and the "
				 "hard limit here is %llu (raise it: ulimit -Hn, or LimitNOFILE=)", c->path, c->nvms,
				 c->nlinks, need, (unsigned long long)rl.rlim_max);
			return -1;
		}
		rl.rlim_cur = need;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
			snprintf(err, errlen, "%s: cannot raise the open file limit to %u", c->path, need);
			return -1;
		}
	}
	if (avail && mem > avail) {
		snprintf(err, errlen, "%s: the system needs %llu MiB (guest memory, and %u links: %llu MiB, "
			 "%zu KiB each at link_queue_size = %u, more if delayed) but only %llu MiB are "
			 "available", c->path, (unsigned long long)(mem >> 20), c->nlinks,
			 (unsigned long long)(links_bytes(c) >> 20), link_shm_size(c->link_queue_size) >> 10,
			 c->link_queue_size, (unsigned long long)(avail >> 20));
		return -1;
	}
	return 0;
}

int fit_check_more(const struct config *old, const struct config *c, bool guests, const char *meminfo, char *err,
		   size_t errlen)
{
	uint64_t now = fit_memory_needed(old, guests), then = fit_memory_needed(c, guests);
	uint64_t more = then > now ? then - now : 0, avail = mem_available(meminfo);

	if (avail && more > avail) {
		snprintf(err, errlen, "%s: what it adds needs %llu MiB (guest memory and links) but only %llu MiB "
			 "are available", c->path, (unsigned long long)(more >> 20), (unsigned long long)(avail >> 20));
		return -1;
	}
	return 0;
}
