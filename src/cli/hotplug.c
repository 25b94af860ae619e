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

/* device_del, then its netdev and chardev; its socket file too if
 * sock_too (see hotplug_remove_sockets). */
static int unplug(const char *dir, const char *vm, const char *nic, bool sock_too, char *err, size_t errlen)
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
	if (rc == 0 && sock_too && state_nic_socket(sock, dir, vm, nic) == 0)
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
	char sock[STATE_PATH_MAX], cmd[1024], mac[MAC_STR_LEN], addr[96] = "", msg[256];
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

/* Undo arguments: NIC k of VM i of the config that has it. */
static unsigned nic_arg(unsigned i, unsigned k)
{
	return i * MV_NICS_MAX + k;
}

static void nic_step(char *step, size_t steplen, const char *what, const struct cfg_vm *v, unsigned k)
{
	snprintf(step, steplen, "%s %s:%s", what, v->name, v->nic[k].name);
}

/* NIC k of v plugged, then named in the built-in guest; pushed on u (if
 * u) once QEMU has it, so that a guest that does not name it has it
 * unplugged by the undo too. */
static int plug_named(const char *dir, const struct config *cfg, const struct cfg_vm *v, unsigned i, unsigned k,
		      struct undo_list *u, char *err, size_t errlen)
{
	if (plug(dir, v->name, &v->nic[k], err, errlen) < 0)
		return -1;
	if (u)
		undo_push(u, UNDO_PLUG, nic_arg(i, k));
	if (!v->image[0] && !v->initrd[0])
		return name_in_guest(dir, cfg, v, &v->nic[k], err, errlen);
	return 0;
}

int hotplug_unplug_gone(const char *dir, const struct config *old, const struct config *new_, struct undo_list *u,
			char *step, size_t steplen, char *err, size_t errlen)
{
	unsigned i, k;

	for (i = 0; i < new_->nvms; i++) {
		const struct cfg_vm *o = &old->vm[i];

		if (!hotplug_vm_kept(old, new_, i))
			continue;
		for (k = 0; k < o->nnics; k++) {
			if (nic_in(&new_->vm[i], o->nic[k].name) >= 0)
				continue;
			/* The socket stays: the VMM serving it runs until the
			 * supervisor's step, and plugging it back needs it. */
			if (unplug(dir, o->name, o->nic[k].name, false, err, errlen) < 0)
				return nic_step(step, steplen, "unplug", o, k), -1;
			undo_push(u, UNDO_UNPLUG, nic_arg(i, k));
		}
	}
	return 0;
}

int hotplug_plug_new(const char *dir, const struct config *old, const struct config *new_, long long t0_ms,
		     struct undo_list *u, char *step, size_t steplen, char *err, size_t errlen)
{
	unsigned i, k;

	for (i = 0; i < new_->nvms; i++) {
		const struct cfg_vm *v = &new_->vm[i];

		if (!hotplug_vm_kept(old, new_, i))
			continue;
		for (k = 0; k < v->nnics; k++) {
			if (nic_in(&old->vm[i], v->nic[k].name) >= 0)
				continue;
			if (plug_named(dir, new_, v, i, k, u, err, errlen) < 0)
				return nic_step(step, steplen, "plug", v, k), -1;
			printf("%s:%s plugged in %lld ms\n", v->name, v->nic[k].name, qmp_now_ms() - t0_ms);
		}
	}
	return 0;
}

int hotplug_undo(const char *dir, const struct config *old, const struct config *new_, const struct undo_step *s,
		 char *step, size_t steplen, char *err, size_t errlen)
{
	const struct config *c = s->kind == UNDO_PLUG ? new_ : old;
	unsigned i = s->arg / MV_NICS_MAX, k = s->arg % MV_NICS_MAX;

	if ((s->kind != UNDO_PLUG && s->kind != UNDO_UNPLUG) || i >= c->nvms || k >= c->vm[i].nnics) {
		snprintf(step, steplen, "NIC step %u", s->arg);
		return snprintf(err, errlen, "no such NIC"), -1;
	}
	if (s->kind == UNDO_PLUG) {
		nic_step(step, steplen, "plug", &c->vm[i], k);
		return unplug(dir, c->vm[i].name, c->vm[i].nic[k].name, true, err, errlen);
	}
	nic_step(step, steplen, "unplug", &c->vm[i], k);
	return plug_named(dir, old, &c->vm[i], i, k, NULL, err, errlen);
}

void hotplug_remove_sockets(const char *dir, const struct config *from, const struct config *to)
{
	char sock[STATE_PATH_MAX];
	unsigned i, k;

	for (i = 0; i < to->nvms; i++) {
		if (!hotplug_vm_kept(from, to, i))
			continue;
		for (k = 0; k < from->vm[i].nnics; k++)
			if (nic_in(&to->vm[i], from->vm[i].nic[k].name) < 0 &&
			    state_nic_socket(sock, dir, from->vm[i].name, from->vm[i].nic[k].name) == 0)
				unlink(sock);
	}
}
