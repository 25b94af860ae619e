/* The per-VM VMM process: entry point used by `multivm vmm ...`.
 *
 * Command line (built by the supervisor, not meant for users):
 *   multivm vmm --name NAME --mac MAC --socket PATH --stats-fd FD
 *               [--capture-fd FD] [--queue-size N] [--user UID:GID]
 *               [--link PEER,PEERMAC,SIDE,MEMFD,RXKICKFD,TXKICKFD]...
 * The VMM listens on PATH (vhost-user backend; QEMU is the client), maps
 * the stats file FD and the capture ring, attaches each link, and serves until SIGTERM. It
 * never exits because a frontend misbehaves or goes away. */
#ifndef MULTIVM_VMM_H
#define MULTIVM_VMM_H

int vmm_main(int argc, char **argv);

#endif
