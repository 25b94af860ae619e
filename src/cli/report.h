/* The printers of `multivm status` and `stats`: one snapshot in, text
 * out. Each returns 0, or -EIO when the output could not be written; the
 * caller reports it. Field names are documented in multivm(8). */
#ifndef MULTIVM_REPORT_H
#define MULTIVM_REPORT_H

#include <stdio.h>

#include "supervisor/snapshot.h"

/* NAME key=value ..., one line per VM. */
int report_status_text(FILE *f, const struct snapshot *s);

/* vm NAME key=value ... and link A->B key=value ... lines. */
int report_stats_text(FILE *f, const struct snapshot *s);
#endif
