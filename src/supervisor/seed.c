#include "supervisor/seed.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "common/mac.h"
#include "supervisor/image.h"

static const char *ip_str(char out[16], uint32_t ip)
{
	snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
	return out;
}

static uint32_t mask(unsigned prefix)
{
	return prefix ? ~0u << (32 - prefix) : 0;
}

/* One NIC of network-config: matched by MAC, named, addressed (or not). */
static json_t *nic(const uint8_t *m, const char *name, bool has_addr, uint32_t addr, unsigned prefix, bool dhcp)
{
	char mac[MAC_STR_LEN], ip[16], cidr[24];
	json_t *n = json_pack("{s:{s:s}, s:s, s:b}", "match", "macaddress", mac_format(mac, m), "set-name", name,
			      "dhcp4", dhcp);

	if (n && has_addr) {
		snprintf(cidr, sizeof(cidr), "%s/%u", ip_str(ip, addr), prefix);
		json_object_set_new(n, "addresses", json_pack("[s]", cidr));
	}
	return n;
}

/* The routes whose gateway lies on this NIC's network. */
static void routes_on(json_t *n, const struct cfg_vm *v, bool has_addr, uint32_t addr, unsigned prefix)
{
	json_t *r = json_array();
	char net[16], via[16], to[24];
	unsigned k;

	for (k = 0; k < v->nroutes && has_addr && r; k++) {
		if ((v->route[k].via & mask(prefix)) != (addr & mask(prefix)))
			continue;
		snprintf(to, sizeof(to), "%s/%u", ip_str(net, v->route[k].net), v->route[k].prefix);
		json_array_append_new(r, json_pack("{s:s, s:s}", "to", to, "via", ip_str(via, v->route[k].via)));
	}
	if (r && json_array_size(r))
		json_object_set(n, "routes", r);
	json_decref(r);
}

static json_t *network(const struct config *c, const struct cfg_vm *v)
{
	json_t *eths = json_object(), *n;
	const struct cfg_nic *eth0 = NULL;
	unsigned k;

	for (k = 0; k < v->nnics; k++)
		if (!strcmp(v->nic[k].name, "eth0"))
			eth0 = &v->nic[k];
	if (!eth0) {	/* the segment's */
		n = nic(v->mac, "eth0", c->auto_addr && v->has_addr, v->addr, v->prefix, false);
		routes_on(n, v, c->auto_addr && v->has_addr, v->addr, v->prefix);
		json_object_set_new(eths, "eth0", n);
	}
	for (k = 0; k < v->nnics; k++) {
		const struct cfg_nic *w = &v->nic[k];

		n = nic(w->mac, w->name, c->auto_addr && w->has_addr, w->addr, w->prefix, false);
		routes_on(n, v, c->auto_addr && w->has_addr, w->addr, w->prefix);
		json_object_set_new(eths, w->name, n);
	}
	/* user and tap: a NIC of QEMU's with the VM's MAC, last bit flipped
	 * (qemu.c); slirp answers DHCP. */
	if (v->passthrough[0] && strncmp(v->passthrough, "pci:", 4) != 0) {
		uint8_t m[6];

		memcpy(m, v->mac, 6);
		m[5] ^= 0x80;
		json_object_set_new(eths, v->passthrough_name, nic(m, v->passthrough_name, false, 0, 0, true));
	}
	return json_pack("{s:i, s:o}", "version", 2, "ethernets", eths);
}

static json_t *user(const struct cfg_vm *v, const char *key)
{
	/* Early (bootcmd), so that readiness does not wait for cloud-init's
	 * last stage; --no-block: not inside cloud-init's own start-up. */
	json_t *u = json_pack("{s:s, s:b, s:[[s,s,s,s]]}", "hostname", v->name, "preserve_hostname", 0, "bootcmd",
			      "systemctl", "start", "--no-block", "qemu-guest-agent");

	if (u && key) {
		char line[SEED_KEY_MAX];

		snprintf(line, sizeof(line), "%s", key);
		line[strcspn(line, "\r\n")] = 0;
		json_object_set_new(u, "ssh_authorized_keys", json_pack("[s]", line));
	}
	if (u && v->ip_forward)
		json_object_set_new(u, "write_files", json_pack("[{s:s, s:s}]", "path",
			"/etc/sysctl.d/90-multivm-forward.conf", "content", "net.ipv4.ip_forward = 1\n"));
	return u;
}

static char *dump(json_t *j, const char *head)
{
	char *body = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL, *out = NULL;

	json_decref(j);
	if (body && asprintf(&out, "%s%s\n", head, body) < 0)
		out = NULL;
	free(body);
	return out;
}

static uint32_t fnv1a(uint32_t h, const char *s)
{
	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

int seed_docs(const struct config *c, const struct cfg_vm *v, const char *key, struct seed_docs *d)
{
	char id[2 * MV_NAME_MAX + 32];
	uint32_t h;

	memset(d, 0, sizeof(*d));
	d->net = dump(network(c, v), "");
	if (!v->user_data[0])
		d->user = dump(user(v, key), "#cloud-config\n");
	if (!d->net || (!d->user && !v->user_data[0]))
		return -1;
	/* The instance-id names what the seed says: cloud-init provisions a
	 * disk again when it changes (multivm apply's new address, ssh_key,
	 * user_data), and only then. */
	h = fnv1a(fnv1a(2166136261u, d->net), d->user ? d->user : v->user_data);
	snprintf(id, sizeof(id), "multivm-%s-%s-%08x", c->name, v->name, (unsigned)h);
	d->meta = dump(json_pack("{s:s, s:s}", "instance-id", id, "local-hostname", v->name), "");
	return d->meta ? 0 : -1;
}

void seed_free(struct seed_docs *d)
{
	free(d->meta);
	free(d->net);
	free(d->user);
	memset(d, 0, sizeof(*d));
}

bool seed_key_ok(const char *text)
{
	size_t n = strlen(text), i, words = 0;

	if (n && text[n - 1] == '\n')
		n--;
	if (n && text[n - 1] == '\r')
		n--;
	if (n == 0 || n >= SEED_KEY_MAX)
		return false;
	for (i = 0; i < n; i++) {
		if (!isprint((unsigned char)text[i]))
			return false;	/* a second line, a control character */
		if (text[i] != ' ' && (i == 0 || text[i - 1] == ' '))
			words++;
	}
	return words >= 2 && (!strncmp(text, "ssh-", 4) || !strncmp(text, "ecdsa-", 6) || !strncmp(text, "sk-", 3));
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), rc = 0;
	size_t len = strlen(text);

	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len)
		rc = -EIO;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	return rc;
}

/* The ssh_key file's text (image_check_all() read it as the run user). */
static char *read_key(const char *path)
{
	char *buf = calloc(1, SEED_KEY_MAX + 1);
	FILE *f = fopen(path, "re");
	size_t n;

	if (!buf || !f) {
		free(buf);
		if (f)
			fclose(f);
		return NULL;
	}
	n = fread(buf, 1, SEED_KEY_MAX, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

int seed_make(const struct config *c, const struct cfg_vm *v, const char *dir, const char *out, char *err,
	      size_t errlen)
{
	static const struct runas self = { .drop = false, .name = "" };
	char tmp[4096], meta[4200], net[4200], user[4200], msg[256] = "", sink[256];
	char *argv[] = { "cloud-localds", "-N", net, (char *)out, user, meta, NULL };
	char *key = NULL;
	struct seed_docs d;
	int rc;

	snprintf(tmp, sizeof(tmp), "%s/.seed-%s.XXXXXX", dir, v->name);
	if (!mkdtemp(tmp)) {
		snprintf(err, errlen, "[vm %s] cannot make its cloud-init seed: %s: %s", v->name, tmp, strerror(errno));
		return -1;
	}
	snprintf(meta, sizeof(meta), "%s/meta-data", tmp);
	snprintf(net, sizeof(net), "%s/network-config", tmp);
	snprintf(user, sizeof(user), "%s/user-data", tmp);
	if (v->ssh_key[0] && !(key = read_key(v->ssh_key))) {
		snprintf(err, errlen, "[vm %s] cannot read ssh_key %s: %s", v->name, v->ssh_key, strerror(errno));
		rmdir(tmp);
		return -1;
	}
	rc = seed_docs(c, v, key, &d) < 0 ? -ENOMEM : 0;
	free(key);
	if (!rc)
		rc = write_file(meta, d.meta);
	if (!rc)
		rc = write_file(net, d.net);
	if (!rc && d.user)
		rc = write_file(user, d.user);
	seed_free(&d);
	if (v->user_data[0])
		argv[4] = (char *)v->user_data;
	unlink(out);
	if (!rc) {
		rc = image_run(&self, argv, sink, sizeof(sink), msg, sizeof(msg));
		if (rc)
			snprintf(err, errlen, "[vm %s] cloud-localds could not make %s: %s", v->name, out,
				 rc < 0 ? strerror(-rc) : msg[0] ? msg : "it failed (apt-get install cloud-image-utils)");
	} else {
		snprintf(err, errlen, "[vm %s] cannot write its cloud-init seed in %s: %s", v->name, tmp, strerror(-rc));
	}
	unlink(meta);
	unlink(net);
	unlink(user);
	rmdir(tmp);
	return rc ? -1 : 0;
}
