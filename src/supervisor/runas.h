/* Who the VMMs and QEMUs run as. Started by root, they drop to the
 * configured user ([system] user, default "multivm") once set up; `user =
 * root` keeps root. Started by anyone else, they stay that user. */
#ifndef MULTIVM_RUNAS_H
#define MULTIVM_RUNAS_H

#include <stdbool.h>
#include <sys/types.h>

#include "config/config.h"

struct runas {
	bool drop;		/* false: children keep our uid */
	uid_t uid;
	gid_t gid;
	const char *name;
};

/* 0, or -1 with err naming the file, line and key. */
int runas_resolve(const struct config *c, struct runas *r, char *err, size_t errlen);

#endif
