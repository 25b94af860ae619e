#include "console/consoles.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/log.h"

#define READ_CHUNK	4096

/* The multiplexer's way to a guest: keys typed at a viewer showing it. */
static void to_vm(void *ctx, unsigned vm, const char *buf, size_t n)
{
	struct consoles *c = ctx;
	struct vm_console *con = &c->con[vm];
	size_t dropped;
	int rc;

	if (!vmcon_connected(con))
		return;	/* QEMU is not running: nothing reads this console */
	dropped = vmcon_send(con, buf, n);
	if (dropped)
		log_warn("%s: console input dropped: the guest has not read the last %zu bytes",
			 c->mux.vm[vm].name, VMCON_INQ_MAX - (n - dropped));
	rc = vmcon_flush(con);
	if (rc < 0)
		log_warn("%s: console write failed: %s", c->mux.vm[vm].name, strerror(-rc));
}

static const char *state_of(void *ctx, unsigned vm)
{
	struct consoles *c = ctx;

	return c->state[vm] ? c->state[vm] : "?";
}

void consoles_init(struct consoles *c, const struct config *cfg, int ep, struct console_tags tags, int tty_fd)
{
	struct mux_ops ops = { .ctx = c, .to_vm = to_vm, .state = state_of };
	unsigned i;

	memset(c, 0, sizeof(*c));
	c->nvms = cfg->nvms;
	c->ep = ep;
	c->tags = tags;
	c->tty_fd = tty_fd;
	mux_init(&c->mux, cfg, &ops);
	conserver_init(&c->server, &c->mux, ep, tags.listen, tags.viewer);
	for (i = 0; i < MV_NODES_MAX; i++) {
		c->log[i].fd = -1;
		vmcon_init(&c->con[i], i < cfg->nvms ? cfg->vm[i].name : "", ep, tags.vm + i);
	}
}

void consoles_add(struct consoles *c, unsigned i, const char *name)
{
	vmcon_init(&c->con[i], name, c->ep, c->tags.vm + i);
	snprintf(c->mux.vm[i].name, sizeof(c->mux.vm[i].name), "%s", name);
	if (i >= c->nvms)
		c->nvms = c->mux.nvms = i + 1;
}

void consoles_remove(struct consoles *c, unsigned i)
{
	vmcon_close(&c->con[i]);
	caplog_close(&c->log[i]);
	c->log[i].fd = -1;
	if (i + 1 == c->nvms)
		c->nvms = c->mux.nvms = i;
}

int consoles_log(struct consoles *c, unsigned i, const char *path, uint64_t max)
{
	snprintf(c->log_path[i], sizeof(c->log_path[i]), "%s", path);
	return caplog_open(&c->log[i], c->log_path[i], max) < 0 ? -errno : 0;
}

int consoles_listen(struct consoles *c, const char *path)
{
	return conserver_listen(&c->server, path);
}

void consoles_terminal(struct consoles *c, int in_fd)
{
	conserver_add_terminal(&c->server, in_fd, c->tty_fd, 0);
}

void consoles_say(struct consoles *c, const char *line)
{
	size_t n = strlen(line);

	if (c->tty_fd < 0)
		return;
	/* Raw mode: the terminal does not turn \n into \r\n for us. A
	 * terminal that is gone loses the line; the log has it. */
	if (write(c->tty_fd, line, n) == (ssize_t)n && write(c->tty_fd, "\r\n", 2) < 0)
		return;
}

void consoles_set_state(struct consoles *c, unsigned i, const char *state)
{
	c->state[i] = state;
}

int consoles_connect(struct consoles *c, unsigned i, const char *path)
{
	return vmcon_connect(&c->con[i], path);
}

void consoles_close(struct consoles *c, unsigned i)
{
	vmcon_close(&c->con[i]);
}

bool consoles_owns(const struct consoles *c, uint32_t tag)
{
	return tag == c->tags.listen || (tag >= c->tags.vm && tag < c->tags.vm + c->nvms) ||
	       (tag >= c->tags.viewer && tag < c->tags.viewer + MUX_MAX_VIEWERS);
}

/* VM i printed something (or QEMU has keys room again). */
static enum console_event vm_event(struct consoles *c, unsigned i, uint32_t events)
{
	struct vm_console *con = &c->con[i];
	char buf[READ_CHUNK];
	bool ready;
	ssize_t n;
	int rc;

	if (!vmcon_connected(con))
		return CONSOLE_NONE;	/* closed earlier in this batch */
	if (events & EPOLLOUT) {
		rc = vmcon_flush(con);
		if (rc < 0)
			log_warn("%s: console write failed: %s", c->mux.vm[i].name, strerror(-rc));
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return CONSOLE_NONE;
	n = vmcon_read(con, buf, sizeof(buf), &ready);
	if (n <= 0)
		return CONSOLE_NONE;
	caplog_write(&c->log[i], buf, n);
	mux_output(&c->mux, i, buf, n);
	return ready ? CONSOLE_READY : CONSOLE_NONE;
}

enum console_event consoles_event(struct consoles *c, uint32_t tag, uint32_t events, unsigned *vm)
{
	if (tag == c->tags.listen) {
		conserver_accept(&c->server);
		return CONSOLE_NONE;
	}
	if (tag >= c->tags.viewer && tag < c->tags.viewer + MUX_MAX_VIEWERS)
		return conserver_input(&c->server, tag - c->tags.viewer) ? CONSOLE_LEAVE : CONSOLE_NONE;
	*vm = tag - c->tags.vm;
	return vm_event(c, *vm, events);
}
