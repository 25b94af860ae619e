/* An image VM's first-boot configuration: a cloud-init NoCloud seed (a
 * `cidata` volume that cloud-localds makes, STATE/NAME.seed.img, given
 * to the guest read-only as a raw virtio disk), which every cloud image
 * reads:
 *   meta-data       instance-id and local-hostname (the VM's name)
 *   network-config  version 2: eth0, each wire NIC and the passthrough
 *                   NIC matched by MAC and named as multivm names them,
 *                   with the config's addresses (DHCP on the
 *                   passthrough NIC) and routes
 *   user-data       #cloud-config: hostname, the guest agent enabled,
 *                   ssh_key for the default user, IPv4 forwarding if
 *                   ip_forward; or the user's user_data file as it is
 * Written as JSON (a subset of YAML), by jansson: any value is quoted. */
#ifndef MULTIVM_SEED_H
#define MULTIVM_SEED_H

#include <stddef.h>

#include "config/config.h"

#define SEED_KEY_MAX	16384	/* an ssh_key file: one public key line */

struct seed_docs {
	char *meta, *net, *user;	/* NUL-ended; user NULL with user_data */
};

/* The documents for VM v of c; key: the ssh_key file's text or NULL.
 * 0, or -1 (out of memory). seed_free() either way. */
int seed_docs(const struct config *c, const struct cfg_vm *v, const char *key, struct seed_docs *d);
void seed_free(struct seed_docs *d);

/* Whether text is one OpenSSH public key line ("TYPE BASE64 [comment]",
 * printable, one line). */
bool seed_key_ok(const char *text);

/* Writes the documents into a directory of dir and runs cloud-localds to
 * make out; the directory is removed. 0, or -1 with err set. */
int seed_make(const struct config *c, const struct cfg_vm *v, const char *dir, const char *out, char *err,
	      size_t errlen);

#endif
