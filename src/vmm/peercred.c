#include "vmm/peercred.h"

#include <sys/socket.h>

#define PEER_GROUPS_MAX	256	/* more supplementary groups than this: refused unless the primary fits */

bool peer_allowed(int fd, const struct peer_rule *rule, uid_t *uid)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	gid_t groups[PEER_GROUPS_MAX];
	unsigned k;

	*uid = (uid_t)-1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || len != sizeof(cr))
		return false;
	*uid = cr.uid;
	if (cr.uid == 0 || cr.uid == rule->uid)
		return true;
	if (!rule->group)
		return false;
	if (cr.gid == rule->gid)
		return true;
	len = sizeof(groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
		return false;
	for (k = 0; k < len / sizeof(gid_t); k++)
		if (groups[k] == rule->gid)
			return true;
	return false;
}
