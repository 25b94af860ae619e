/* What `multivm top` draws (top_view.c): one report from a snapshot and
 * the rates since the one before; top.c reads, times and repeats it. */
#ifndef MULTIVM_TOP_VIEW_H
#define MULTIVM_TOP_VIEW_H

#include <stdio.h>

#include "cli/rate.h"
#include "cli/snapshot.h"

/* One report: a header line, then a table of VMs and one of links. */
void top_render(FILE *f, const char *dir, const struct snapshot *s, const struct rates *r);

#endif
