/* A config file's text, read once: the supervisor parses it and keeps
 * the same bytes as the running configuration (STATE/run), so what runs
 * is exactly what `multivm config` prints and what `apply` compares. */
#ifndef MULTIVM_CONFIG_TEXT_H
#define MULTIVM_CONFIG_TEXT_H

#include <stddef.h>

#define CFG_TEXT_MAX	(1u << 20)	/* a config file's bytes; a 64-VM mesh is a few KiB */

/* Reads path (at most CFG_TEXT_MAX - 1 bytes, no NUL byte in it) into
 * buf, NUL-terminated. 0, or -1 with err "PATH: message" (the message
 * config_load_file() gives for a file it cannot open). */
int config_read_text(const char *path, char *buf, size_t size, char *err, size_t errlen);

#endif
