/* The printers of `multivm status` and `stats`: one snapshot in, text,
 * JSON (jansson) or the Prometheus text exposition format out. Each
 * returns 0, or -EIO/-ENOMEM when the output could not be written or
 * built; the caller reports it. Field names are documented in multivm(8). */
#ifndef MULTIVM_REPORT_H
#define MULTIVM_REPORT_H

#include <stdio.h>

#include "cli/snapshot.h"

/* NAME key=value ..., one line per VM. */
int report_status_text(FILE *f, const struct snapshot *s);
/* {"vms": [{"name": NAME, key: value, ...}]}; all-digit values are numbers. */
int report_status_json(FILE *f, const struct snapshot *s);

/* vm NAME key=value ... and link A->B key=value ... lines. */
int report_stats_text(FILE *f, const struct snapshot *s);
/* {"vms": [...], "links": [...]}, the same keys and values as the text. */
int report_stats_json(FILE *f, const struct snapshot *s);
/* multivm_vm_* and multivm_link_* families, for node_exporter's textfile
 * collector; counters of a VM whose stats file could not be read are
 * left out rather than shown as 0 (a drop would look like a reset). */
int report_stats_prom(FILE *f, const struct snapshot *s);

/* Writes s as a Prometheus label value: \ " and newline escaped. */
void prom_label(FILE *f, const char *s);

#endif
