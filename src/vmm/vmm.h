/* The per-VM VMM process: entry point used by `multivm vmm ...`.
 *
 * It runs on the node skeleton (node/node.h); its command line is built
 * by the supervisor and read through one encoder/decoder pair
 * (node/args.h). The VMM listens on its socket
 * (vhost-user backend; QEMU is the client), maps the stats file and the
 * capture ring, attaches each link, reports on --ready-fd that it serves,
 * and serves until SIGTERM. It never exits because a frontend misbehaves
 * or goes away. */
#ifndef MULTIVM_VMM_H
#define MULTIVM_VMM_H

#include "node/node.h"

/* The VMM's row: how node_main runs it. */
extern const struct node_kind_ops vmm_kind;

int vmm_main(int argc, char **argv);

#endif
