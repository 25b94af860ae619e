/* Wire NICs at run time: see hotplug.h. */
#include "cli/hotplug.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/agent.h"
#include "common/mac.h"
#include "common/qmp.h"
#include "supervisor/state.h"

int hotplug_vm_kept(const struct config *old, const struct config *new_, unsigned i)
{
	const struct cfg_vm *v = &new_->vm[i];

	return i < old->nvms && !strcmp(old->vm[i].name, v->name) && !v->tunnel && !v->external;
}

static int nic_in(const struct cfg_vm *v, const char *name)
{
	unsigned k;

	for (k = 0; k < v->nnics; k++)
		if (!strcmp(v->nic[k].name, name))
			return (int)k;
	return -1;
}

static int qmp_at(struct qmp *q, const char *dir, const char *vm, char *err, size_t errlen)
{
	char sock[STATE_PATH_MAX];
	int fd;

	q->fd = -1;	/* nothing for qmp_close to close yet */
	if (state_file(sock, dir, vm, SF_QMP) < 0)
		return snprintf(err, errlen, "state directory path too long"), -1;
	fd = qmp_connect(sock);
	if (fd < 0)
		return snprintf(err, errlen, "QMP: cannot connect to %s: %s", sock, strerror(-fd)), -1;
	return qmp_open(q, fd, qmp_now_ms() + HOTPLUG_MS, err, errlen);
}

/* device_del, then its netdev and chardev. */
static int unplug(const char *dir, const char *vm, const char *nic, char *err, size_t errlen)
{
	static struct qmp q;
	char dev[MV_IFNAME_MAX + 8], net[MV_IFNAME_MAX + 8], chr[MV_IFNAME_MAX + 8], e2[200], sock[STATE_PATH_MAX];
	int rc;

	if (qmp_nic_id(dev, sizeof(dev), nic) < 0 || qmp_wire_ids(net, chr, nic) < 0)
		return snprintf(err, errlen, "NIC name too long"), -1;
	if (qmp_at(&q, dir, vm, err, errlen) < 0) {
		qmp_close(&q);
		return -1;
	}
	rc = qmp_device_del(&q, dev, err, errlen);
	if (rc == 0)
		rc = qmp_execute(&q, "netdev_del", json_pack("{s:s}", "id", net), NULL, err, errlen);
	/* QEMU 7.2's vhost-user netdev deletes its chardev with it; one that
	 * does not leaves it to this (its "not found" is no failure). */
	if (rc == 0)
		qmp_execute(&q, "chardev-remove", json_pack("{s:s}", "id", chr), NULL, e2, sizeof(e2));
	qmp_close(&q);
	/* Its socket: the VMM that restarts without the NIC makes none, and
	 * the VM's files are those of the NICs it has (statefiles.c). */
	if (rc == 0 && state_nic_socket(sock, dir, vm, nic) == 0)
		unlink(sock);
	return rc;
}

/* chardev-add, netdev_add, device_add on the first port that takes it
 * (the others hold NICs); what was added is taken back on failure. */
static int plug(const char *dir, const char *vm, const struct cfg_nic *c, char *err, size_t errlen)
{
	static struct qmp q;
	char dev[MV_IFNAME_MAX + 8], net[MV_IFNAME_MAX + 8], chr[MV_IFNAME_MAX + 8], path[STATE_PATH_MAX];
	char mac[MAC_STR_LEN], port[16], e2[200];
	json_t *kvm = NULL;
	bool tcg;
	unsigned p;
	int rc = -1;

	q.fd = -1;
	if (qmp_nic_id(dev, sizeof(dev), c->name) < 0 || qmp_wire_ids(net, chr, c->name) < 0 ||
	    state_nic_socket(path, dir, vm, c->name) < 0)
		return snprintf(err, errlen, "NIC name or state directory path too long"), -1;
	if (qmp_at(&q, dir, vm, err, errlen) < 0)
		goto out;
	/* Under TCG no MSI-X, as at boot (supervisor/qemu.c). */
	if (qmp_execute(&q, "query-kvm", NULL, &kvm, err, errlen) < 0)
		goto out;
	tcg = !json_is_true(json_object_get(kvm, "enabled"));
	json_decref(kvm);
	/* reconnect: a later restart of the VMM, as at boot */
	if (qmp_execute(&q, "chardev-add",
			json_pack("{s:s, s:{s:s, s:{s:{s:s, s:{s:s}}, s:b, s:i}}}", "id", chr, "backend", "type",
				  "socket", "data", "addr", "type", "unix", "data", "path", path, "server", 0,
				  "reconnect", 1),
			NULL, err, errlen) < 0)
		goto out;
	if (qmp_execute(&q, "netdev_add", json_pack("{s:s, s:s, s:s}", "type", "vhost-user", "id", net, "chardev", chr),
			NULL, err, errlen) < 0) {
		qmp_execute(&q, "chardev-remove", json_pack("{s:s}", "id", chr), NULL, e2, sizeof(e2));
		goto out;
	}
	for (p = 0; p < MV_NICS_MAX && rc < 0; p++) {
		json_t *a;

		snprintf(port, sizeof(port), QMP_PORT_ID, p);
		a = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:i, s:b}", "driver", "virtio-net-pci", "id", dev,
			      "netdev", net, "mac", mac_format(mac, c->mac), "bus", port, "addr", 0, "disable-legacy",
			      "on", "host_mtu", (int)c->mtu, "ctrl_guest_offloads", 0);
		if (a && tcg && json_object_set_new(a, "vectors", json_integer(0)) < 0) {
			json_decref(a);
			a = NULL;
		}
		rc = qmp_execute(&q, "device_add", a, NULL, err, errlen);	/* the last port's error is said */
	}
	if (rc < 0) {
		qmp_execute(&q, "netdev_del", json_pack("{s:s}", "id", net), NULL, e2, sizeof(e2));
		qmp_execute(&q, "chardev-remove", json_pack("{s:s}", "id", chr), NULL, e2, sizeof(e2));
	}
out:
	qmp_close(&q);
	return rc;
}

/* The built-in guest names the NIC with c's MAC as its init would have
 * at boot (guest/init: name_final), once it appears. */
static int name_in_guest(const char *dir, const struct config *cfg, const struct cfg_vm *v, const struct cfg_nic *c,
			 char *err, size_t errlen)
{
	char sock[STATE_PATH_MAX], cmd[1024], mac[MAC_STR_LEN], addr[48] = "", msg[256];
	int p[2], rc;
	ssize_t n;

	mac_format(mac, c->mac);
	for (n = 0; mac[n]; n++)	/* sysfs writes it in lower case */
		if (mac[n] >= 'A' && mac[n] <= 'F')
			mac[n] += 'a' - 'A';
	if (c->has_addr && cfg->auto_addr)
		snprintf(addr, sizeof(addr), " && ip addr add %u.%u.%u.%u/%u dev %s", c->addr >> 24, (c->addr >> 16) & 255,
			 (c->addr >> 8) & 255, c->addr & 255, c->prefix, c->name);
	/* Names were checked by the config ([a-z][a-z0-9_-]*): nothing to quote. */
	snprintf(cmd, sizeof(cmd),
		 "n=0; d=; while :; do for f in /sys/class/net/*/address; do read -r a <\"$f\" && "
		 "[ \"$a\" = %s ] && { d=${f%%/address}; d=${d##*/}; }; done; [ -n \"$d\" ] && break; "
		 "n=$((n + 1)); [ $n -lt %d ] || { echo 'no NIC with MAC %s appeared' >&2; exit 3; }; sleep 0.05; done; "
		 "{ [ \"$d\" = %s ] || ip link set dev \"$d\" name %s; } && ip link set dev %s mtu %u && "
		 "ip link set dev %s up%s",
		 mac, (HOTPLUG_NAME_MS - 2000) / 50, mac, c->name, c->name, c->name, c->mtu, c->name, addr);
	if (state_file(sock, dir, v->name, SF_AGENT) < 0)
		return snprintf(err, errlen, "state directory path too long"), -1;
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return snprintf(err, errlen, "pipe: %s", strerror(errno)), -1;
	rc = agent_exec(sock, cmd, HOTPLUG_NAME_MS, p[1], p[1]);
	close(p[1]);
	n = read(p[0], msg, sizeof(msg) - 1);
	close(p[0]);
	msg[n > 0 ? n : 0] = 0;
	msg[strcspn(msg, "\n")] = 0;
	if (rc == 0)
		return 0;
	if (rc > 0)
		return snprintf(err, errlen, "the guest could not name it (exit %d): %s", rc, msg), -1;
	return snprintf(err, errlen, "the guest agent: %s", rc == AGENT_ENOAGENT ? "no answer" : strerror(-rc)), -1;
}

int hotplug_unplug_gone(const char *dir, const struct config *old, const struct config *new_, char *err,
			size_t errlen)
{
	char e[400];
	unsigned i, k;

	for (i = 0; i < new_->nvms; i++) {
		const struct cfg_vm *o = &old->vm[i];

		if (!hotplug_vm_kept(old, new_, i))
			continue;
		for (k = 0; k < o->nnics; k++) {
			if (nic_in(&new_->vm[i], o->nic[k].name) >= 0)
				continue;
			if (unplug(dir, o->name, o->nic[k].name, e, sizeof(e)) < 0)
				return snprintf(err, errlen, "%s:%s: %s", o->name, o->nic[k].name, e), -1;
		}
	}
	return 0;
}

int hotplug_plug_new(const char *dir, const struct config *old, const struct config *new_, long long t0_ms,
		     char *err, size_t errlen)
{
	char e[400];
	unsigned i, k;

	for (i = 0; i < new_->nvms; i++) {
		const struct cfg_vm *v = &new_->vm[i];

		if (!hotplug_vm_kept(old, new_, i))
			continue;
		for (k = 0; k < v->nnics; k++) {
			if (nic_in(&old->vm[i], v->nic[k].name) >= 0)
				continue;
			if (plug(dir, v->name, &v->nic[k], e, sizeof(e)) < 0 ||
			    (!v->image[0] && !v->initrd[0] && name_in_guest(dir, new_, v, &v->nic[k], e, sizeof(e)) < 0))
				return snprintf(err, errlen, "%s:%s: %s", v->name, v->nic[k].name, e), -1;
			printf("%s:%s plugged in %lld ms\n", v->name, v->nic[k].name, qmp_now_ms() - t0_ms);
		}
	}
	return 0;
}
