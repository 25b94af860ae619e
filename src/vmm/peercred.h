/* Who may be a NIC's vhost-user frontend, checked on every accepted
 * connection (a second lock behind the socket file's owner and mode): a
 * socket file can be reached through a descriptor passed on, or a path
 * re-bound while the VMM restarts; the kernel's record of the peer
 * cannot be forged. */
#ifndef MULTIVM_PEERCRED_H
#define MULTIVM_PEERCRED_H

#include <stdbool.h>
#include <sys/types.h>

struct peer_rule {
	uid_t uid;		/* this user may connect */
	gid_t gid;		/* with group: so may a member of this group */
	bool group;		/* (primary or supplementary: SO_PEERGROUPS) */
};

/* fd's peer, as the kernel recorded it at connect: root, rule->uid, or
 * (rule->group) a member of rule->gid. On false, *uid is the peer's uid
 * ((uid_t)-1: unknown) for the log. Two getsockopt(SOL_SOCKET) calls. */
bool peer_allowed(int fd, const struct peer_rule *rule, uid_t *uid);

#endif
