/* A NIC's vhost-user listening socket: made by the VMM for the NICs it
 * starts with (before its sandbox), and by the supervisor for a wire NIC
 * handed to a running VMM (common/handoff.h), whose sandbox allows no
 * socket() or bind(). One maker, so both are the same. */
#ifndef MULTIVM_VUSOCK_H
#define MULTIVM_VUSOCK_H

#include <stdbool.h>
#include <sys/types.h>

#define VUSOCK_BACKLOG	4

/* A listening unix stream socket at path (non-blocking, close-on-exec),
 * what was there before removed. Created 0600 (no window in which others
 * could connect); with own, then handed to uid:gid (the frontend's);
 * with group, opened to the group (0660), before listen(). The fd, or
 * -errno. */
int vusock_listen(const char *path, bool own, uid_t uid, gid_t gid, bool group);

#endif
