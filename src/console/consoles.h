/* Every console of a running system in one place: each VM's serial
 * console (vmconsole.h) and its transcript (STATE/NAME.console.log), the
 * multiplexer (mux.h) and its viewers (server.h): `multivm console`
 * clients and the terminal of a foreground `multivm run`. The supervisor
 * tells it which VMs run and in which state; it tells the supervisor when
 * a guest printed its ready line and when the terminal's user left. */
#ifndef MULTIVM_CONSOLES_H
#define MULTIVM_CONSOLES_H

#include <stdbool.h>
#include <stdint.h>

#include "common/logcap.h"
#include "config/config.h"
#include "console/mux.h"
#include "console/server.h"
#include "console/vmconsole.h"

/* epoll data.u32 of its fds: vm + VM index, listen, viewer + viewer index. */
struct console_tags {
	uint32_t vm, listen, viewer;
};

struct consoles {
	unsigned nvms;
	int ep;
	struct console_tags tags;
	struct mux mux;
	struct con_server server;
	struct vm_console con[MV_NODES_MAX];
	struct capped_log log[MV_NODES_MAX];		/* transcripts; fd -1: none */
	char log_path[MV_NODES_MAX][CFG_PATH_MAX];
	const char *state[MV_NODES_MAX];			/* what `Return @ ?` shows */
	int tty_fd;					/* the terminal, -1: none */
};

enum console_event {
	CONSOLE_NONE,
	CONSOLE_READY,		/* VM *vm printed "multivm: NAME ready" */
	CONSOLE_LEAVE,		/* the terminal's user typed Return ~ . */
};

/* tty_fd: the terminal of a foreground `multivm run` (consoles_say
 * writes there from now on), else -1. */
void consoles_init(struct consoles *c, const struct config *cfg, int ep, struct console_tags tags, int tty_fd);

/* VM i, called name, joins a running system (multivm apply). */
void consoles_add(struct consoles *c, unsigned i, const char *name);
/* VM i, the last one, leaves a running system (multivm apply). */
void consoles_remove(struct consoles *c, unsigned i);
/* Opens VM i's transcript, capped at max bytes (path is copied). 0/-errno. */
int consoles_log(struct consoles *c, unsigned i, const char *path, uint64_t max);
/* Serves `multivm console` clients on path. 0 or -errno. */
int consoles_listen(struct consoles *c, const char *path);
/* The terminal becomes a viewer of the first VM, with keys from in_fd. */
void consoles_terminal(struct consoles *c, int in_fd);
/* A line for the terminal's user, if there is one. */
void consoles_say(struct consoles *c, const char *line);

void consoles_set_state(struct consoles *c, unsigned i, const char *state);
/* VM i's QEMU runs: reach its console socket at path. 0 or -errno (QEMU
 * may not have made it yet: try again later). */
int consoles_connect(struct consoles *c, unsigned i, const char *path);
/* VM i's QEMU is gone. */
void consoles_close(struct consoles *c, unsigned i);
static inline bool consoles_connected(const struct consoles *c, unsigned i)
{
	return vmcon_connected(&c->con[i]);
}

/* Whether tag is one of ours; then consoles_event() handles it. */
bool consoles_owns(const struct consoles *c, uint32_t tag);
enum console_event consoles_event(struct consoles *c, uint32_t tag, uint32_t events, unsigned *vm);

#endif
