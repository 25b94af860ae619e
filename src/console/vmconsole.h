/* One VM's serial console as the supervisor sees it: the connection to
 * QEMU's socket (STATE/NAME.console), the keys waiting for the guest to
 * take them, and the scan for the guest's "multivm: NAME ready" line. It
 * tells its caller what happened (bytes, "ready line seen", errors) and
 * decides nothing about the VM. */
#ifndef MULTIVM_VMCONSOLE_H
#define MULTIVM_VMCONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define VMCON_INQ_MAX	4096	/* keys queued for a guest that reads slowly */
#define VMCON_LINE_MAX	160	/* longer lines are cut for the ready scan */

struct vm_console {
	int fd;				/* -1: not connected */
	int ep;				/* watched here, with data.u32 = tag */
	uint32_t tag;
	char ready[64];			/* "multivm: NAME ready" */
	char inq[VMCON_INQ_MAX];	/* keys QEMU has not taken yet */
	size_t inq_len;
	bool want_out;			/* fd is watched for EPOLLOUT */
	char line[VMCON_LINE_MAX];	/* the line being printed, for the scan */
	size_t linelen;
};

void vmcon_init(struct vm_console *c, const char *vm_name, int ep, uint32_t tag);

/* Connects to QEMU's console socket at path and watches it. 0 or -errno. */
int vmcon_connect(struct vm_console *c, const char *path);
/* Forgets the connection and any queued keys. */
void vmcon_close(struct vm_console *c);
static inline bool vmcon_connected(const struct vm_console *c)
{
	return c->fd >= 0;
}

/* Queues keys for the guest (vmcon_flush then writes them). Returns how
 * many bytes did not fit the queue and were dropped. Not connected:
 * nothing reads them, nothing is queued, 0. */
size_t vmcon_send(struct vm_console *c, const char *buf, size_t n);
/* Writes what the socket takes now of the queued keys; the rest waits for
 * EPOLLOUT, which is watched meanwhile. 0, or -errno when the write
 * failed (the queue is then dropped). */
int vmcon_flush(struct vm_console *c);

/* Reads what the VM printed into buf. Returns the bytes read, 0 if there
 * was nothing after all, or -1 when QEMU closed the console (now closed
 * here too). *ready is set if this read completed the ready line. */
ssize_t vmcon_read(struct vm_console *c, char *buf, size_t len, bool *ready);

/* The ready-line scan on its own: true if d[0..n) completes a line that
 * contains "multivm: NAME ready". Lines may be split across calls. */
bool vmcon_scan(struct vm_console *c, const char *d, size_t n);

#endif
