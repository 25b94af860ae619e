/* Links handed to a running node (multivm apply): the supervisor's side
 * of a SOCK_SEQPACKET pair (vmproc.c) tells the node to add a link (its
 * memfd and two doorbells ride along as SCM_RIGHTS) or to drop one, and
 * the node answers each message. A VMM is also handed a wire's NIC with
 * its link (the NIC's vhost-user listening socket, which the sandboxed
 * VMM cannot make, rides along as a fourth fd) or told to drop one. One encoder (handoff_send) and one
 * decoder (handoff_decode, under handoff_recv), tested together in
 * tests/unit/test_handoff.c. The node trusts nothing here: a message of
 * the wrong size, magic, version or operation, with the wrong number of
 * fds, or a bad name is refused (its fds closed) before anything is
 * looked up; whether the index and peer fit its links the node decides
 * (node/relink.c). */
#ifndef MULTIVM_HANDOFF_H
#define MULTIVM_HANDOFF_H

#include <stddef.h>
#include <stdint.h>

#include "common/limits.h"
#include "node/args.h"

#define HANDOFF_MAGIC	0x46484d56u	/* "VMHF" little-endian */
#define HANDOFF_VERSION	2
#define HANDOFF_FDS	3		/* an add's: memfd, its receive and send doorbells */
#define HANDOFF_NIC_FDS	4		/* a NIC add's: those, then the NIC's listening socket */
#define HANDOFF_REPLY_MS 1000		/* a node answers within this, or the supervisor restarts it */

enum handoff_op { HANDOFF_ADD = 1, HANDOFF_DROP = 2, HANDOFF_ADD_NIC = 3, HANDOFF_DROP_NIC = 4 };

/* On the socket, exactly this many bytes (a NIC's: struct handoff_nic_wire). */
struct handoff_wire {
	uint32_t magic;
	uint16_t version, op;
	uint32_t seq;
	uint32_t index;			/* add: the place it takes; drop: which */
	char peer[MV_NAME_MAX];		/* NUL-ended, [A-Za-z0-9_-] */
	uint8_t peer_mac[6];		/* add, not a tunnel */
	uint8_t tunnel, side;		/* add: 0/1 each */
};
_Static_assert(sizeof(struct handoff_wire) == 56 && offsetof(struct handoff_wire, peer) == 16 &&
	       offsetof(struct handoff_wire, side) == 55, "struct handoff_wire layout");

/* A NIC operation: the link's part, then the NIC's. */
struct handoff_nic_wire {
	struct handoff_wire link;
	char name[MV_IFNAME_MAX];	/* the guest's interface name, NUL-ended, not eth0 */
	char peer_nic[MV_IFNAME_MAX];	/* add: the peer's NIC; "": a tunnel's end */
	uint8_t mac[6];			/* add: the NIC's */
	uint8_t offloads, pad;		/* add: 0/1; 0 */
	uint32_t mtu;			/* add: MV_MTU_MIN..MV_MTU_MAX */
};
_Static_assert(sizeof(struct handoff_nic_wire) == 100 && offsetof(struct handoff_nic_wire, mtu) == 96,
	       "struct handoff_nic_wire layout");

/* The node's answer: status 0, or a negative errno. */
struct handoff_reply {
	uint32_t magic;
	uint32_t seq;
	int32_t status;
	uint32_t pad;
};
_Static_assert(sizeof(struct handoff_reply) == 16, "struct handoff_reply layout");

/* A decoded message. add: link holds the peer, side and the three fds
 * (the receiver's now), on the eth0 segment; drop: link.peer names the
 * link at index, fds -1. A NIC's: nic names it (add: with its MAC, MTU,
 * offloads; socket ""), link is its one link (wire, peer_nic), listen_fd
 * its listening socket (add; else -1). */
struct handoff_msg {
	enum handoff_op op;
	uint32_t seq;
	uint32_t index;
	struct node_link_arg link;
	struct node_wire_arg nic;
	int listen_fd;
};

/* Sends m (an add sends m->link's memfd, rx_kick, tx_kick; a NIC's add
 * then m->listen_fd). 0 or -errno
 * (-EINVAL: m is not one the decoder would take). */
int handoff_send(int sock, const struct handoff_msg *m);

/* Checks a received message of len bytes with its nfds fds. 0, or
 * -EBADMSG with err saying why; the caller then closes the fds. */
int handoff_decode(const void *buf, size_t len, const int *fds, unsigned nfds, struct handoff_msg *m, char *err,
		   size_t errlen);

/* Takes one message off sock (non-blocking). 0; -EAGAIN: none waiting;
 * -EPIPE: the supervisor's end is closed; -EBADMSG: refused (err says
 * why, every fd it carried closed, *seq its sequence number if it was
 * legible, else 0). */
int handoff_recv(int sock, struct handoff_msg *m, uint32_t *seq, char *err, size_t errlen);

/* The node's answer to seq. 0 or -errno. */
int handoff_reply(int sock, uint32_t seq, int status);

/* The supervisor waits for the answer to seq (at most timeout_ms; other
 * answers, late ones, are skipped): 0 with *status, or -ETIMEDOUT,
 * -EPIPE, -errno. */
int handoff_wait_reply(int sock, uint32_t seq, int timeout_ms, int *status);

#endif
