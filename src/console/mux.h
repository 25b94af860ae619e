/* The console multiplexer: every VM's serial output goes into a bounded
 * scrollback; each viewer (the terminal of a foreground `multivm run`, or
 * a `multivm console` client) shows one VM at a time and switches with
 * Return @ N (first 16) or Return @ # N Return (any, decimal). On a switch, what the VM printed since that viewer last saw
 * it (up to the scrollback size) is shown first, so nothing is lost. */
#ifndef MULTIVM_MUX_H
#define MULTIVM_MUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "console/relay.h"

#define MUX_SCROLLBACK	65536
#define MUX_MAX_VIEWERS	8

struct mux_vm {
	char name[MV_NAME_MAX];
	char ring[MUX_SCROLLBACK];
	uint64_t total;			/* bytes ever printed */
};

struct mux_viewer {
	int in_fd, out_fd;		/* in_fd -1: slot free */
	int shown;			/* -1 until the client said which VM */
	bool leave_stops_system;	/* the terminal of `multivm run` */
	uint64_t seen[MV_NODES_MAX];	/* per VM: total when last shown */
	struct relay esc;
	char hello[MV_NAME_MAX + 2];	/* a client's first line: the VM */
	size_t hello_len;
};

struct mux_ops {
	void *ctx;
	void (*to_vm)(void *ctx, unsigned vm, const char *buf, size_t n);
	const char *(*state)(void *ctx, unsigned vm);
};

struct mux {
	unsigned nvms;
	struct mux_vm vm[MV_NODES_MAX];
	struct mux_viewer v[MUX_MAX_VIEWERS];
	struct mux_ops ops;
};

void mux_init(struct mux *m, const struct config *cfg, const struct mux_ops *ops);

/* Adds a viewer. shown < 0: a client that first sends "NAME\n". Returns
 * the viewer's index or -1 when all slots are taken. */
int mux_add_viewer(struct mux *m, int in_fd, int out_fd, int shown, bool leave_stops_system);
void mux_remove_viewer(struct mux *m, int i);

/* Output of VM vm: kept, and shown to viewers showing it. */
void mux_output(struct mux *m, unsigned vm, const char *buf, size_t n);

/* Input from viewer i. Returns false when the viewer left (Return ~ .,
 * or a bad first line): the caller removes it, or stops the system. */
bool mux_input(struct mux *m, int i, const char *buf, size_t n);

#endif
