/* The VMM's command line: the one seam between the supervisor (which
 * writes it, spawn.c) and the VMM (which reads it, main.c). One encoder,
 * one decoder, tested against each other (tests/unit/test_argv.c):
 *
 *   multivm vmm --name NAME --mac MAC --socket PATH --stats-fd FD
 *               --queue-size N [--capture-fd FD] [--ready-fd FD]
 *               [--user UID:GID] [--group-connect] [--mtu N] [--offloads yes|no]
 *               [--link PEER,PEERMAC,SIDE,MEMFD,RXKICKFD,TXKICKFD]...
 *
 * Every option is a separate word and its value the next one; FDs are
 * inherited by number. Not meant for users. */
#ifndef MULTIVM_VMM_ARGS_H
#define MULTIVM_VMM_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/mac.h"
#include "common/stats.h"
#include "config/config.h"

#define VMM_SOCKET_MAX	108	/* a unix socket path, with its NUL (sun_path) */
#define VMM_FD_MAX	65535	/* highest fd number accepted */
/* "multivm vmm", ten options with values, one flag, a value per link. */
#define VMM_ARGV_MAX	(2 + 2 * 10 + 1 + 2 * STATS_MAX_LINKS + 1)
#define VMM_MTU_MIN	68
#define VMM_MTU_MAX	9000

struct vmm_link_arg {
	char peer[CFG_NAME_MAX];	/* [A-Za-z0-9_-], not empty */
	uint8_t peer_mac[ETH_ALEN];
	int side;			/* 0 or 1: we send on direction side */
	int memfd, rx_kick, tx_kick;
};

struct vmm_args {
	char name[CFG_NAME_MAX];	/* [A-Za-z0-9_-], not empty */
	uint8_t mac[ETH_ALEN];
	char socket[VMM_SOCKET_MAX];	/* where to serve vhost-user */
	int stats_fd;
	int capture_fd;			/* -1: none */
	int ready_fd;			/* written to and closed once serving; -1: none */
	unsigned queue_size;		/* of every link: config_qsize_ok() */
	bool drop;			/* become uid:gid (both non-zero) after set-up */
	uid_t uid;
	gid_t gid;
	bool group_connect;		/* socket 0660: the group may connect */
	unsigned mtu;			/* eth0's: VMM_MTU_MIN..MAX; 1500 when absent */
	bool offloads;			/* offer checksum/TSO offloads; yes when absent */
	unsigned nlinks;
	struct vmm_link_arg link[STATS_MAX_LINKS];
};

/* Fills argv ("multivm", "vmm", options..., NULL; strings in buf).
 * Returns argc, or -EINVAL for a value the decoder would refuse, or
 * -E2BIG when buf or argv (max entries) is too small. */
int vmm_args_encode(const struct vmm_args *a, char *buf, size_t len, char **argv, int max);

/* Reads argv[1..argc) (argv[0] is the command word, "vmm"). Returns 0, or
 * -EINVAL with err saying what was wrong; a is then unusable. */
int vmm_args_decode(struct vmm_args *a, int argc, char *const *argv, char *err, size_t errlen);

#endif
