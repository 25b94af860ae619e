#include "supervisor/runas.h"

#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int runas_resolve(const struct config *c, struct runas *r, char *err, size_t errlen)
{
	struct passwd *pw;

	memset(r, 0, sizeof(*r));
	r->name = c->user;
	if (geteuid() != 0 || strcmp(c->user, "root") == 0)
		return 0;
	pw = getpwnam(c->user);
	if (!pw || pw->pw_uid == 0 || pw->pw_gid == 0) {
		if (c->user_line)
			snprintf(err, errlen, "%s:%d: [system] user: %s", c->path, c->user_line,
				 pw ? "must not be root's uid or gid (say user = root to keep root)"
				    : "no such user on this host");
		else
			snprintf(err, errlen, "%s: the VMMs and QEMUs run as user '%s', and there is no such "
				 "user here: run scripts/deps.sh (it creates it), or set [system] user",
				 c->path, c->user);
		return -1;
	}
	r->drop = true;
	r->uid = pw->pw_uid;
	r->gid = pw->pw_gid;
	return 0;
}
