/* The viewers of the console multiplexer: `multivm console` clients on
 * STATE/console.sock, and the terminal of a foreground `multivm run`.
 * Each is a mux viewer watched in the caller's epoll with data.u32 =
 * tag_viewer + its index; the listening socket has tag_listen. */
#ifndef MULTIVM_CONSOLE_SERVER_H
#define MULTIVM_CONSOLE_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "console/mux.h"

struct con_server {
	struct mux *mux;
	int ep;
	uint32_t tag_listen, tag_viewer;
	int listen_fd;			/* -1: not listening */
	int terminal;			/* the terminal's viewer, or -1 */
};

void conserver_init(struct con_server *cs, struct mux *m, int ep, uint32_t tag_listen, uint32_t tag_viewer);

/* Listens on path (0600; a stale socket there is replaced). 0 or -errno. */
int conserver_listen(struct con_server *cs, const char *path);
/* A client connected: it becomes a viewer (or is turned away if all
 * viewer slots are taken). */
void conserver_accept(struct con_server *cs);

/* The terminal (in_fd, e.g. stdin; out_fd its output) as a viewer that
 * shows VM shown first. 0 or -1. */
int conserver_add_terminal(struct con_server *cs, int in_fd, int out_fd, unsigned shown);

/* Input from viewer i. Returns true when the terminal's user asked to
 * leave (Return ~ .): for `multivm run`, that stops the system. A client
 * that leaves or goes away is removed here. */
bool conserver_input(struct con_server *cs, int i);

#endif
