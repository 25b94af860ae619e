/* The VMM's command line: the one seam between the supervisor (which
 * writes it, spawn.c) and the VMM (which reads it, main.c). One encoder,
 * one decoder, tested against each other (tests/unit/test_argv.c):
 *
 *   multivm vmm --name NAME --mac MAC --socket PATH --stats-fd FD
 *               --queue-size N [--capture-fd FD] [--ready-fd FD]
 *               [--user UID:GID] [--group-connect] [--mtu N] [--offloads yes|no]
 *               [--link PEER,PEERMAC|tunnel,SIDE,MEMFD,RXKICKFD,TXKICKFD]...
 *
 * PEERMAC "tunnel": the peer is a tunnel process (src/tunnel/), with remote
 * VMs of any MAC behind it; such a link has no peer MAC.
 *
 * A tunnel process (src/tunnel/) has the same kind of command line, from
 * the same encoder and decoder (tunnel set; its links are to VMs):
 *
 *   multivm tunnel --name NAME --local IP --remote IP --port N --vni N
 *                  --stats-fd FD --queue-size N [--ready-fd FD]
 *                  [--user UID:GID] [--local-macs MAC,MAC,...]
 *                  [--link PEER,PEERMAC,SIDE,MEMFD,RXKICKFD,TXKICKFD]...
 *
 * Options of the one kind are refused on the other's command line.
 * Every option is a separate word and its value the next one; FDs are
 * inherited by number. Not meant for users. */
#ifndef MULTIVM_VMM_ARGS_H
#define MULTIVM_VMM_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/types.h>

#include "common/mac.h"
#include "common/stats.h"
#include "config/config.h"

#define VMM_SOCKET_MAX	108	/* a unix socket path, with its NUL (sun_path) */
#define VMM_FD_MAX	65535	/* highest fd number accepted */
/* "multivm vmm|tunnel", at most twelve options with values, one flag, a
 * value per link, the NULL. */
#define VMM_ARGV_MAX	(2 + 2 * 12 + 1 + 2 * MV_NODE_LINKS_MAX + 1)
/* Room for the strings of the longest command line (63 links, 64 MACs). */
#define VMM_ARGBUF_MAX	8192

struct vmm_link_arg {
	char peer[MV_NAME_MAX];	/* [A-Za-z0-9_-], not empty */
	uint8_t peer_mac[ETH_ALEN];	/* all zero for a tunnel */
	bool tunnel;			/* the peer is a tunnel: PEERMAC "tunnel" */
	int side;			/* 0 or 1: we send on direction side */
	int memfd, rx_kick, tx_kick;
};

struct vmm_args {
	char name[MV_NAME_MAX];	/* [A-Za-z0-9_-], not empty */
	uint8_t mac[ETH_ALEN];
	char socket[VMM_SOCKET_MAX];	/* where to serve vhost-user */
	int stats_fd;
	int capture_fd;			/* -1: none */
	int ready_fd;			/* written to and closed once serving; -1: none */
	unsigned queue_size;		/* of every link: mv_qsize_ok() */
	bool drop;			/* become uid:gid (both non-zero) after set-up */
	uid_t uid;
	gid_t gid;
	bool group_connect;		/* socket 0660: the group may connect */
	unsigned mtu;			/* eth0's: MV_MTU_MIN..MAX; 1500 when absent */
	bool offloads;			/* offer checksum/TSO offloads; yes when absent */
	unsigned nlinks;
	struct vmm_link_arg link[MV_NODE_LINKS_MAX];

	/* A tunnel process ("multivm tunnel"): then mac, socket, capture_fd,
	 * group_connect, mtu and offloads are not used (zero, -1, false). */
	bool tunnel;
	struct in_addr local, remote;	/* UDP endpoints (network byte order) */
	unsigned port;			/* 1..65535, both ends */
	uint32_t vni;			/* 0..MV_VNI_MAX */
	unsigned nlocal;		/* every VM of the system: no remote source */
	uint8_t local_mac[MV_NODES_MAX][ETH_ALEN];
};

/* Fills argv ("multivm", "vmm", options..., NULL; strings in buf).
 * Returns argc, or -EINVAL for a value the decoder would refuse, or
 * -E2BIG when buf or argv (max entries) is too small. */
int vmm_args_encode(const struct vmm_args *a, char *buf, size_t len, char **argv, int max);

/* Reads argv[1..argc) (argv[0] is the command word: "tunnel" for a tunnel
 * process, anything else a VMM). Returns 0, or
 * -EINVAL with err saying what was wrong; a is then unusable. */
int vmm_args_decode(struct vmm_args *a, int argc, char *const *argv, char *err, size_t errlen);

#endif
