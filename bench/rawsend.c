/* rawsend IFNAME DSTMAC SRCMAC SIZE SECONDS: sends SIZE-byte Ethernet frames
 * (ethertype 0x88b5, local experimental) on IFNAME through an AF_PACKET
 * socket, 64 per sendmmsg, for SECONDS; prints "sent N". The Linux side of
 * bench/vxlan.sh: frames into a Linux vxlan device, as a DPDK frontend puts
 * them into a multivm VMM. */
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define BATCH 64

static int mac(const char *s, unsigned char *m)
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) == 6;
}

int main(int argc, char **argv)
{
	static unsigned char frame[1518];
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	struct mmsghdr msgs[BATCH];
	struct iovec iov;
	struct timespec t;
	unsigned long long sent = 0;
	int fd, size;
	double end;

	if (argc != 6 || !mac(argv[2], frame) || !mac(argv[3], frame + 6) ||
	    (size = atoi(argv[4])) < 60 || size > (int)sizeof frame) {
		fprintf(stderr, "usage: rawsend IFNAME DSTMAC SRCMAC SIZE(60..1518) SECONDS\n");
		return 2;
	}
	frame[12] = 0x88, frame[13] = 0xb5;
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	sll.sll_ifindex = (int)if_nametoindex(argv[1]);
	if (fd < 0 || !sll.sll_ifindex || bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
		perror("rawsend");
		return 1;
	}
	iov.iov_base = frame, iov.iov_len = (size_t)size;
	memset(msgs, 0, sizeof msgs);
	for (int i = 0; i < BATCH; i++)
		msgs[i].msg_hdr.msg_iov = &iov, msgs[i].msg_hdr.msg_iovlen = 1;
	clock_gettime(CLOCK_MONOTONIC, &t);
	end = t.tv_sec + t.tv_nsec / 1e9 + atof(argv[5]);
	do {
		int n = sendmmsg(fd, msgs, BATCH, 0);
		if (n > 0)
			sent += (unsigned)n;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (t.tv_sec + t.tv_nsec / 1e9 < end);
	printf("sent %llu\n", sent);
	return 0;
}
