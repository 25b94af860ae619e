/* Per-VM cgroups (cgroup v2), where the host offers one: a hierarchy
 * mounted, with the memory and pids controllers, that we may write.
 * Under our own cgroup, or else the hierarchy's root, the supervisor
 * makes multivm/NAME (NAME: its pid) and in it one cgroup per VM, named
 * as the VM, with memory.max and pids.max from the VM's size; the VM's
 * VMM and QEMU join it before exec (spawn.h). Without one (cgroup v1, a
 * hierarchy lacking the controllers, no right to write), the VMs run in
 * the supervisor's cgroup and the caller says why, once.
 *
 * Every path comes from the arguments, so tests/unit/test_cgroup.c runs
 * this against a directory tree standing in for the cgroup file system
 * (holding the files the kernel would make). */
#ifndef MULTIVM_CGROUP_H
#define MULTIVM_CGROUP_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

struct cgroups {
	int dir_fd;		/* multivm/NAME, -1: no cgroups */
	char path[PATH_MAX];	/* its name, for messages */
};

/* A VM's limits: memory.max, its memory plus MV_CG_QEMU_MIB (and
 * MV_CG_TCG_MIB under TCG); pids.max, MV_CG_PIDS plus a thread per vCPU. */
uint64_t cgroups_mem_max(uint64_t memory_mib, unsigned cpus, int kvm);
unsigned cgroups_pids_max(unsigned cpus);

/* Finds the hierarchy (mountinfo: "/proc/self/mountinfo", self: our
 * "/proc/self/cgroup") and makes multivm/name with memory and pids on for
 * its children. 0, or -1 with why saying in one line what is missing, or
 * which file could not be made or written and why; cg->dir_fd is then -1. */
int cgroups_open(struct cgroups *cg, const char *mountinfo, const char *self, const char *name, char *why,
		 size_t whylen);

/* VM vm's cgroup, with its limits written: an fd of its directory (for
 * struct spawn_how), or -1 with err naming the file and the error. */
int cgroups_vm(const struct cgroups *cg, const char *vm, uint64_t mem_max, unsigned pids_max, char *err,
	       size_t errlen);

/* Removes VM vm's cgroup (its processes reaped). 0, or -1 with err. */
int cgroups_vm_remove(const struct cgroups *cg, const char *vm, char *err, size_t errlen);

/* Removes multivm/NAME (the VMs' removed first) and closes it. */
void cgroups_close(struct cgroups *cg);

#endif
