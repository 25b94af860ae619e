/* multivm graph: a config's topology as Graphviz dot (issue 28). */
#ifndef MULTIVM_CLI_GRAPH_H
#define MULTIVM_CLI_GRAPH_H

#include <stdio.h>

#include "config/config.h"

/* Writes c as an undirected dot graph: a box per VM (its eth0 address and
 * passthrough NIC), a cds per tunnel, an edge per segment link (thin,
 * unlabelled: that pair's eth0 traffic) and per wire (bold, each end
 * labelled with its NIC's name and address). Returns 0, or -1 on a write
 * error. */
int graph_dot(FILE *f, const struct config *c);

/* graph [--svg] [CONFIG]: the built-in system without CONFIG; --svg pipes
 * the text through Graphviz's `dot -Tsvg`. */
int cmd_graph(const char *dir, int argc, char **argv);

#endif
