/* Fuzz target: the vhost-user message stream, with fds attached, then the
 * guest rings it set up over guest memory whose contents the input also
 * chooses. Input: records of [kind][len:2][bytes]. kind & 0x80: write the
 * bytes into guest memory at offset len*16; else send them as stream
 * data with (kind & 15) % 10 memfds attached. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vmm/vhost_user.h"
#include "../scm.h"

#define MEM (1 << 20)

static struct vu_dev d;
static int fe = -1, memfd = -1;

static void connect_pair(void)
{
	int sv[2];

	if (fe >= 0)
		close(fe);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	vu_attach(&d, sv[0]);
	fe = sv[1];
}

static void send_record(const uint8_t *p, size_t n, int nfds)
{
	int fds[10], i;

	for (i = 0; i < nfds; i++)
		fds[i] = memfd;
	if (n || nfds)
		send_fds(fe, p, n, fds, nfds, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void drain_replies(void)
{
	char buf[4096];

	while (recv(fe, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

static void run_rings(void)
{
	static uint8_t scratch[2048];
	struct vq_chain c;
	int i, k;

	for (i = 0; i < VU_NRINGS; i++) {
		if (!vu_ring_running(&d, i))
			continue;
		for (k = 0; k < 64 && vq_pop(&d.ring[i].vq, &c) > 0; k++) {
			vq_chain_read(&c, 0, scratch, sizeof(scratch));
			vq_chain_write(&c, 0, scratch, sizeof(scratch));
			vq_push(&d.ring[i].vq, c.head, 0);
		}
		vq_flush(&d.ring[i].vq);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (memfd < 0) {
		memfd = memfd_create("guest", MFD_CLOEXEC);
		if (memfd < 0 || ftruncate(memfd, MEM) < 0)
			abort();
		vu_init(&d);
	}
	connect_pair();
	while (size >= 3) {
		uint8_t kind = data[0];
		size_t len = data[1] | (size_t)data[2] << 8;

		data += 3;
		size -= 3;
		if (kind & 0x80) {
			size_t n = size < 512 ? size : 512;

			if (pwrite(memfd, data, n, (len * 16) % (MEM - 512)) < 0)
				abort();
			data += n;
			size -= n;
			continue;
		}
		if (len > size)
			len = size;
		send_record(data, len, (kind & 15) % 10);
		data += len;
		size -= len;
		if (vu_receive(&d) != 0)
			connect_pair();
		drain_replies();
		run_rings();
	}
	vu_reset(&d);
	return 0;
}
