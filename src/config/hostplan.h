/* One system over several hosts (issue 31): `[host NAME] address = A`,
 * `host = NAME` per VM and tunnel. Each host runs its own single-host
 * system, derived from the one file by hostplan_write:
 *  - its VMs and [tunnel]s, every value the parser derived for them from
 *    the whole file written out (MACs and addresses by the VM's place in
 *    the whole file, routing = auto's routes), so both sides agree;
 *  - every link (segment or wire) between VMs on two hosts becomes a
 *    point-to-point tunnel `vxVNI` on each side: the k-th such link in
 *    the file's link order has VNI vni_base + k on both hosts and UDP
 *    port tunnel_port, one for all (tunnel/udpsock.h steers by VNI),
 *    local = this host's address, remote = the other's;
 *  - [link] settings in the direction this host receives.
 * `multivm plan --host NAME` prints it, `multivm run --host NAME` runs
 * it (hostplan_load: the text written, then parsed like any file). */
#ifndef MULTIVM_HOSTPLAN_H
#define MULTIVM_HOSTPLAN_H

#include <stddef.h>
#include <stdio.h>

#include "config/config.h"

/* The whole file's checks that concern hosts, once its links are known
 * (config.c calls it when there are [host] sections): tunnels and VMs
 * they link on one host, the VNIs and ports of the links across hosts in
 * range, the MTU a tunnel carries, each host's share within the node
 * limit, no node called like a derived tunnel. 0, or -1 with err
 * "FILE:LINE: message". */
int hostplan_check(const struct config *c, char *err, size_t errlen);

/* The k-th link across hosts (0-based), or -1 for a link on one host. */
int hostplan_cross(const struct config *c, unsigned link);

/* Host host's system as an INI file that config_load_* accepts. */
int hostplan_write(const struct config *c, unsigned host, FILE *f);

/* -1 with err "PATH: the system is spread over hosts ...: run --host
 * NAME on each" if c has [host] sections (a run without --host), else 0. */
int hostplan_one_host(const struct config *c, const char *path, char *err, size_t errlen);

/* The system `multivm run [--host HOST] PATH` runs: with host, that
 * host's part of PATH (text, if not NULL, gets a malloc'd copy of what
 * was parsed); without, PATH itself, refused if it has [host] sections.
 * 0, or -1 with err. */
int hostplan_load(struct config *out, const char *path, const char *host, char **text, char *err,
		  size_t errlen);

#endif
