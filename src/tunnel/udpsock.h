/* A tunnel's UDP socket, and the steering of a port several tunnels share.
 *
 * The supervisor opens and binds every tunnel's socket once, at run, and
 * keeps it for the system's life: each start of the tunnel process gets
 * it (--udp-fd), so its port is never unbound while the tunnel restarts
 * and no other identity can take it meanwhile (docs/sandbox.md).
 *
 * Tunnels on one local address and port (the links across hosts: all on
 * [system] tunnel_port) form one SO_REUSEPORT group, every socket opened
 * by the supervisor (the kernel keeps a group to one owner uid). A classic
 * BPF program on the group (SO_ATTACH_REUSEPORT_CBPF) picks each
 * datagram's socket by its VNI: the program sees the UDP payload, whose
 * bytes 4..6 are the VNI (RFC 7348). A datagram of no known VNI, or too
 * short to hold one, goes to the group's first socket, whose tunnel counts
 * it (bad_vni, bad_header) as every tunnel counts what is not its own:
 * never delivered as another link's traffic. The supervisor binds a
 * port's sockets back to back at run, and gives each joining socket its
 * index before its bind: a bound socket never sees a datagram the kernel
 * hashed to it for want of a program. UDP GRO stays off on a shared
 * socket: GRO merges datagrams of one 4-tuple, and links between two
 * hosts share theirs, so one merged message could hold several VNIs. */
#ifndef MULTIVM_TUNNEL_UDPSOCK_H
#define MULTIVM_TUNNEL_UDPSOCK_H

#include <linux/filter.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/limits.h"

/* Instructions of a program for n VNIs: two each, a load, a shift, a
 * default. */
#define UDPSOCK_PROG_LEN(n)	(2 * (n) + 3)
#define UDPSOCK_PROG_MAX	UDPSOCK_PROG_LEN(MV_NODES_MAX)

/* Opens a UDP socket bound to local:port (shared: SO_REUSEPORT first),
 * with large buffers and no path MTU discovery. The fd (non-blocking,
 * close-on-exec), or -errno. */
int udpsock_open(struct in_addr local, unsigned port, bool shared);

/* Writes the steering program for a group whose sockets, in the order
 * they joined, serve vni[0..n): a datagram of VNI vni[i] returns i, any
 * other 0. Returns its length, or -EINVAL (n 0, or more than
 * MV_NODES_MAX, or max too small). Pure. */
int udpsock_prog(const uint32_t *vni, unsigned n, struct sock_filter *out, unsigned max);

/* Attaches that program to fd's group. 0 or -errno. */
int udpsock_steer(int fd, const uint32_t *vni, unsigned n);

/* Whether fd is one of a shared port's sockets (SO_REUSEPORT set). */
bool udpsock_shared(int fd);

#endif
