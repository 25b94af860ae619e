/* Bring your own guest: what `multivm check` and `multivm run` learn
 * about each VM's image, kernel and initrd before anything starts. Every
 * file is opened as the user QEMU runs as (QEMU itself opens them before
 * it drops to that user, so a config must not make it read what that
 * user may not). The format is decided here, from the header or
 * image_format, and QEMU is always told it: never probed. A qcow2
 * image's details come from `qemu-img info --output=json`. */
#ifndef MULTIVM_IMAGE_H
#define MULTIVM_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "supervisor/runas.h"

#define IMAGE_HDR_LEN	512	/* header bytes read to tell the format */

/* What qemu-img info says of a qcow2 image. */
struct qcow2_facts {
	uint64_t virtual_size;
	char backing[CFG_PATH_MAX];	/* "" none */
	char backing_fmt[16];		/* "" not recorded */
	bool data_file;			/* an external data file: another host file */
	bool encrypted;
	bool corrupt;
};

/* The format hdr (n bytes) says: IMAGE_QCOW2, IMAGE_RAW (nothing
 * recognised), or -1 with *what naming another format (vmdk, vdi, ...). */
int image_magic(const uint8_t *hdr, size_t n, const char **what);

/* Parses qemu-img info's JSON. 0, or -1 if it is not what qemu-img
 * writes (no virtual-size). */
int image_qcow2_facts(const char *json, struct qcow2_facts *f);

/* Whether any VM names a kernel, initrd or image of its own. */
bool image_any(const struct config *c);

/* Checks every VM's kernel, initrd and image (and OVMF for firmware =
 * uefi) as ra's user, and settles each image: its real path, its format
 * (image_format), its virtual size (image_size). 0, or -1 with err as
 * "FILE:LINE: [vm NAME] KEY: PATH: what is wrong". */
int image_check_all(struct config *c, const struct runas *ra, char *err, size_t errlen);

/* Runs argv (qemu-img) as ra's user with stdout into out (NUL-ended, cut
 * at len - 1) and stderr's first line into msg. Its exit status (0..255),
 * or -errno if it could not run. */
int image_run(const struct runas *ra, char *const argv[], char *out, size_t len, char *msg, size_t msglen);

#endif
