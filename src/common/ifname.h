/* A guest interface name: the one rule for the config, a node's command
 * line and a handoff message. */
#ifndef MULTIVM_COMMON_IFNAME_H
#define MULTIVM_COMMON_IFNAME_H

#include <stdbool.h>
#include <stddef.h>

#include "common/limits.h"

/* [a-z][a-z0-9_-]*, at most MV_IFNAME_MAX - 1 characters (no '.', ':'
 * or '/': it names files and QEMU ids), and not the loopback's. */
#define IFNAME_RULE	"use [a-z][a-z0-9_-]*, at most 15 characters, not lo"
_Static_assert(MV_IFNAME_MAX == 16, "IFNAME_RULE says 15");

/* Whether s, read no further than max bytes (a fixed field needs its NUL
 * within them), follows the rule. */
bool ifname_valid(const char *s, size_t max);

#endif
