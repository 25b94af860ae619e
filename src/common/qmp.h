/* A small client of QEMU's monitor protocol (QMP), for what multivm asks
 * of a running QEMU: a link's carrier (set_link, issue 29). One socket,
 * STATE/NAME.qmp (QEMU's -qmp unix:...,server=on,wait=off).
 *
 * Everything QEMU sends is untrusted (a guest may own its QEMU): each
 * message is one line of at most QMP_LINE_MAX bytes, parsed by jansson
 * as an object of the expected shape; the whole exchange ends at a
 * deadline, whatever arrives (asynchronous events are skipped, but only
 * until then). */
#ifndef MULTIVM_QMP_H
#define MULTIVM_QMP_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "common/limits.h"

#define QMP_LINE_MAX	16384	/* a longer message is refused */
#define QMP_TIMEOUT_MS	2000	/* a whole exchange with QEMU, from connect to the last reply */

struct qmp {
	int fd;
	long long deadline;	/* CLOCK_MONOTONIC, ms */
	unsigned next_id;
	size_t have;		/* bytes in buf not yet taken */
	char watch[MV_IFNAME_MAX + 8];	/* a device whose DEVICE_DELETED is awaited ("": none) */
	bool watched;			/* it came */
	char buf[QMP_LINE_MAX + 1];
};

/* CLOCK_MONOTONIC in ms. */
long long qmp_now_ms(void);

/* Connects to the socket at path (non-blocking, close-on-exec). An fd, or
 * -errno: -ENOENT or -ECONNREFUSED when no QEMU listens there. */
int qmp_connect(const char *path);

/* Takes fd (closed by qmp_close) and, before deadline, reads QEMU's
 * greeting and leaves capabilities negotiation (qmp_capabilities).
 * 0, or -1 with err set. */
int qmp_open(struct qmp *q, int fd, long long deadline, char *err, size_t errlen);

/* set_link {name, up}: name is a netdev id or a NIC device id. 0, or -1
 * with err set (QEMU's own message for an error it returns). */
int qmp_set_link(struct qmp *q, const char *name, bool up, char *err, size_t errlen);

/* Any command: {"execute": cmd, "arguments": args} (args stolen, may be
 * NULL), its answer awaited (events skipped, but a watched DEVICE_DELETED
 * noted); *ret (if ret) the "return" value, the caller's to json_decref.
 * 0, or -1 with err set (QEMU's own message for its error). */
int qmp_execute(struct qmp *q, const char *cmd, json_t *args, json_t **ret, char *err, size_t errlen);

/* device_del of device id, then its DEVICE_DELETED event awaited until
 * the deadline (the guest must let the device go: it may never). 0, or
 * -1 with err set. */
int qmp_device_del(struct qmp *q, const char *id, char *err, size_t errlen);

void qmp_close(struct qmp *q);

/* Connect, open, set_link for each of names[0..n) with up[i], close; the
 * whole within timeout_ms. 0; -ENOENT/-ECONNREFUSED: nobody listens at
 * path (err set); -1: anything else (err set). */
int qmp_set_links(const char *path, const char *const names[], const bool up[], unsigned n, int timeout_ms,
		  char *err, size_t errlen);

/* The QMP name of a guest NIC multivm gives QEMU: "nic-IFNAME" (eth0,
 * and each wire NIC; supervisor/qemu.c). 0, or -1 if it does not fit. */
int qmp_nic_id(char *out, size_t len, const char *ifname);

/* A wire NIC's netdev ("w-IFNAME") and chardev ("vu-IFNAME") ids, for
 * QEMU's command line and for hot-plug alike. 0, or -1 if they do not fit. */
int qmp_wire_ids(char netdev[MV_IFNAME_MAX + 8], char chardev[MV_IFNAME_MAX + 8], const char *ifname);

/* The id of hot-plug port N (a pcie-root-port; supervisor/qemu.c). */
#define QMP_PORT_ID	"hp%u"

#endif
