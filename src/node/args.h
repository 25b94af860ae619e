/* A node process's command line: the one seam between the supervisor
 * (which writes it, supervisor/spawn.c) and the node (which reads it,
 * node.c). One list of options gives the encoder, the decoder and the
 * usage text; they are tested against each other (tests/unit/test_argv.c).
 *
 *   multivm vmm --name NAME --mac MAC --socket PATH --stats-fd FD
 *               --queue-size N [--ctl-fd FD] [--capture-fd FD] [--ready-fd FD] [--handoff-fd FD]
 *               [--lifeline-fd FD]
 *               [--user UID:GID] [--group-connect] [--mtu N] [--offloads yes|no]
 *               [--eth0-wire] [--wire NAME,MAC,SOCKET,MTU,yes|no]...
 *               [--link PEER,PEERMAC|tunnel,SIDE,MEMFD,RXKICKFD,TXKICKFD[,NIC,PEERNIC][,qN]]...
 *
 *   multivm tunnel --name NAME --local IP --remote IP --port N --vni N [--udp-fd FD]
 *                  --stats-fd FD --queue-size N [--ctl-fd FD] [--ready-fd FD] [--lifeline-fd FD]
 *                  [--user UID:GID] [--local-macs MAC,MAC,...] [--local-ips IP,IP,...] [--wire-link]
 *                  [--link PEER,PEERMAC,SIDE,MEMFD,RXKICKFD,TXKICKFD[,0,PEERNIC][,qN]]...
 *
 * PEERMAC "tunnel": the peer is a tunnel process, with remote VMs of any
 * MAC behind it; such a link has no peer MAC (a tunnel links to VMs only).
 * A VMM's NIC 0 is eth0 (--mac, --socket, --mtu, --offloads): the segment's,
 * or with --eth0-wire a wire's; each --wire is one more NIC (1, 2, ...).
 * A wire's link says which NIC it belongs to and the peer's NIC ("-" for
 * a tunnel's end); without, a link is on the eth0 segment. Links come
 * grouped by NIC, and a wire's NIC has one link. A tunnel with --wire-link is one
 * wire end: its one link passes frames of any MAC both ways, as a cable.
 * Options of one kind are refused on the other's command line. Every
 * option is a separate word and its value the next one; FDs are inherited
 * by number. qN: that link's queue size when not --queue-size's (a
 * delayed link's, link/room.h). Not meant for users. */
#ifndef MULTIVM_NODE_ARGS_H
#define MULTIVM_NODE_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <netinet/in.h>
#include <sys/types.h>

#include "common/limits.h"
#include "common/mac.h"

enum node_kind { NODE_VMM, NODE_TUNNEL, NODE_KINDS };

#define NODE_SOCKET_MAX	108	/* a unix socket path, with its NUL (sun_path) */
#define NODE_FD_MAX	65535	/* highest fd number accepted */
/* "multivm KIND", at most thirteen options with values, three flags, a value
 * per wire NIC and per link, the NULL. */
#define NODE_ARGV_MAX	(2 + 2 * 13 + 3 + 2 * MV_NICS_MAX + 2 * MV_NODE_LINKS_MAX + 1)
/* Room for the strings of the longest command line (63 links, 64 MACs,
 * 8 wire NICs). */
#define NODE_ARGBUF_MAX	12288

struct node_link_arg {
	char peer[MV_NAME_MAX];		/* [A-Za-z0-9_-], not empty */
	uint8_t peer_mac[ETH_ALEN];	/* all zero for a tunnel */
	bool tunnel;			/* the peer is a tunnel: PEERMAC "tunnel" */
	int side;			/* 0 or 1: we send on direction side */
	int memfd, rx_kick, tx_kick;
	bool wire;			/* a wire's link, not the eth0 segment's */
	unsigned nic;			/* VMM: 0 eth0, k the k-th --wire NIC */
	char peer_nic[MV_IFNAME_MAX];	/* a wire's: the peer's NIC; "": a tunnel's end */
	unsigned qsize;			/* mv_qsize_ok(); 0: --queue-size */
};

/* A VMM's NIC for one wire end, besides eth0. */
struct node_wire_arg {
	char name[MV_IFNAME_MAX];	/* the guest's interface name */
	uint8_t mac[ETH_ALEN];
	char socket[NODE_SOCKET_MAX];
	unsigned mtu;
	bool offloads;
};

/* What only a VMM has: the guest's NIC. */
struct node_vmm_args {
	uint8_t mac[ETH_ALEN];
	char socket[NODE_SOCKET_MAX];	/* where to serve vhost-user */
	int capture_fd;			/* -1: none */
	bool group_connect;		/* socket 0660: the group may connect */
	/* Whose the sockets are (after a drop) and who may connect (SO_PEERCRED):
	 * uid front_uid, or with group_connect a member of front_gid; root
	 * always. Absent: the node's own uid and gid. */
	bool frontend;
	uid_t front_uid;
	gid_t front_gid;
	unsigned mtu;			/* MV_MTU_MIN..MAX; MV_MTU_DEFAULT when absent */
	bool offloads;			/* offer checksum/TSO offloads; yes when absent */
	bool eth0_wire;			/* eth0 is a wire's NIC, not the segment's */
	unsigned nwires;
	struct node_wire_arg wire[MV_NICS_MAX];
};

/* What only a tunnel has: its UDP endpoints and the system's MACs. */
struct node_tunnel_args {
	struct in_addr local, remote;	/* network byte order */
	unsigned port;			/* 1..65535, both ends */
	int udp_fd;			/* the socket bound to local:port, the supervisor's; -1: bind one */
	uint32_t vni;			/* 0..MV_VNI_MAX */
	unsigned nlocal;		/* every VM of the system: no remote source */
	uint8_t local_mac[MV_NODES_MAX][ETH_ALEN];
	unsigned nlocal_ip;		/* every VM's eth0 address: no remote claims one */
	struct in_addr local_ip[MV_NODES_MAX];
	bool wire;			/* one wire end: its link passes any MAC */
};

struct node_args {
	enum node_kind kind;
	char name[MV_NAME_MAX];		/* [A-Za-z0-9_-], not empty */
	int stats_fd;
	int ctl_fd;			/* the link control file (common/linkctl.h); -1: none */
	int ready_fd;			/* written to and closed once serving; -1: none */
	int handoff_fd;			/* VMM: links handed over at run time (common/handoff.h); -1: none */
	int lifeline_fd;		/* read end of a pipe only the supervisor writes: hung up, it is gone; -1: none */
	unsigned queue_size;		/* of every link without its own: mv_qsize_ok() */
	bool drop;			/* become uid:gid (both non-zero) after set-up */
	uid_t uid;
	gid_t gid;
	unsigned nlinks;
	struct node_link_arg link[MV_NODE_LINKS_MAX];
	union {				/* by kind */
		struct node_vmm_args vmm;
		struct node_tunnel_args tunnel;
	};
};

/* The command word of a kind ("vmm", "tunnel"). */
const char *node_kind_word(enum node_kind k);

/* A's defaults for kind k: what the decoder starts from. */
void node_args_init(struct node_args *a, enum node_kind k);

/* Fills argv ("multivm", KIND, options..., NULL; strings in buf).
 * Returns argc, or -EINVAL for a value the decoder would refuse, or
 * -E2BIG when buf or argv (max entries) is too small. */
int node_args_encode(const struct node_args *a, char *buf, size_t len, char **argv, int max);

/* Reads argv[0..argc): argv[0] is the command word, which says the kind.
 * Returns 0, or -EINVAL with err saying what was wrong; a is then
 * unusable. */
int node_args_decode(struct node_args *a, int argc, char *const *argv, char *err, size_t errlen);

/* The usage line of kind k, from the same list of options. */
void node_args_usage(FILE *f, enum node_kind k);

#endif
