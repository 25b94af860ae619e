/* The per-VM VMM process: entry point used by `multivm vmm ...`.
 *
 * Its command line is built by the supervisor and read here through one
 * encoder/decoder pair (vmm/args.h). The VMM listens on its socket
 * (vhost-user backend; QEMU is the client), maps the stats file and the
 * capture ring, attaches each link, reports on --ready-fd that it serves,
 * and serves until SIGTERM. It never exits because a frontend misbehaves
 * or goes away. */
#ifndef MULTIVM_VMM_H
#define MULTIVM_VMM_H

int vmm_main(int argc, char **argv);

#endif
