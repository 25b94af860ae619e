/* A tunnel's UDP socket and a shared port's steering. See udpsock.h. */
#include "tunnel/udpsock.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tunnel/vxlan.h"

_Static_assert(UDPSOCK_PROG_MAX <= BPF_MAXINSNS, "a program for every node fits the kernel's limit");
_Static_assert(VXLAN_HDR_LEN == 8, "the VNI is the payload's second word, its top 24 bits");

int udpsock_open(struct in_addr local, unsigned port, bool shared)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr = local, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), buf = 4 << 20, on = 1;
	int pmtu = IP_PMTUDISC_DONT;	/* a full frame over a 1500-byte path: fragmented, not lost */

	if (fd < 0)
		return -errno;
	/* Larger buffers absorb bursts; FORCE works as root, else the
	 * system's maximum applies. Neither is required. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu));
	if ((shared && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) < 0) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

int udpsock_prog(const uint32_t *vni, unsigned n, struct sock_filter *out, unsigned max)
{
	unsigned i, k = 0;

	if (!n || n > MV_NODES_MAX || max < UDPSOCK_PROG_LEN(n))
		return -EINVAL;
	/* A = the payload's bytes 4..7 (network order), >> 8: the VNI. A
	 * datagram shorter than 8 bytes ends the program with 0. */
	out[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 4);
	out[k++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 8);
	for (i = 0; i < n; i++) {
		/* equal: fall through to "return i"; else skip it */
		out[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, vni[i] & MV_VNI_MAX, 0, 1);
		out[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, i);
	}
	out[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);	/* no known VNI: the first */
	return (int)k;
}

int udpsock_steer(int fd, const uint32_t *vni, unsigned n)
{
	struct sock_filter f[UDPSOCK_PROG_MAX];
	struct sock_fprog p = { .filter = f };
	int len = udpsock_prog(vni, n, f, UDPSOCK_PROG_MAX);

	if (len < 0)
		return len;
	p.len = (unsigned short)len;
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &p, sizeof(p)) < 0 ? -errno : 0;
}

bool udpsock_shared(int fd)
{
	int on = 0;
	socklen_t len = sizeof(on);

	return getsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, &len) == 0 && on;
}
