#include "console/mux.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

void mux_init(struct mux *m, const struct config *cfg, const struct mux_ops *ops)
{
	unsigned i;

	memset(m, 0, sizeof(*m));
	m->nvms = cfg->nvms;
	m->ops = *ops;
	for (i = 0; i < cfg->nvms; i++)
		snprintf(m->vm[i].name, sizeof(m->vm[i].name), "%s", cfg->vm[i].name);
	for (i = 0; i < MUX_MAX_VIEWERS; i++)
		m->v[i].in_fd = m->v[i].out_fd = -1;
}

/* Terminals may block; client sockets must never stall the supervisor, so
 * a client that does not read loses output rather than hanging us. */
static void put(struct mux_viewer *v, const char *buf, size_t n)
{
	struct stat st;

	while (n) {
		ssize_t w;

		if (fstat(v->out_fd, &st) == 0 && S_ISSOCK(st.st_mode))
			w = send(v->out_fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		else
			w = write(v->out_fd, buf, n);
		if (w <= 0)
			return;
		buf += w;
		n -= w;
	}
}

static void say(struct mux_viewer *v, const char *text)
{
	put(v, text, strlen(text));
}

/* What vm printed since this viewer last saw it, at most the scrollback. */
static void backlog(struct mux *m, struct mux_viewer *v, unsigned vm)
{
	const struct mux_vm *c = &m->vm[vm];
	uint64_t from = v->seen[vm];

	if (c->total - from > MUX_SCROLLBACK)
		from = c->total - MUX_SCROLLBACK;
	while (from < c->total) {
		size_t off = from % MUX_SCROLLBACK, n = MUX_SCROLLBACK - off;

		if (n > c->total - from)
			n = c->total - from;
		put(v, c->ring + off, n);
		from += n;
	}
	v->seen[vm] = c->total;
}

static void show(struct mux *m, struct mux_viewer *v, unsigned vm)
{
	char line[200];

	if (v->shown >= 0)
		v->seen[v->shown] = m->vm[v->shown].total;
	v->shown = vm;
	snprintf(line, sizeof(line), "\r\n[multivm: showing %s (%s); Return @ ? lists VMs, Return ~ . %s]\r\n",
		 m->vm[vm].name, m->ops.state(m->ops.ctx, vm),
		 v->leave_stops_system ? "stops the system" : "leaves");
	say(v, line);
	backlog(m, v, vm);
}

static void list(struct mux *m, struct mux_viewer *v)
{
	char line[200];
	unsigned i;

	say(v, "\r\n[multivm: VMs]\r\n");
	for (i = 0; i < m->nvms; i++) {
		char key[16];

		/* One key for the first 16; Return @ # N Return reaches any. */
		if (i < 16)
			snprintf(key, sizeof(key), "@%x", i);
		else
			snprintf(key, sizeof(key), "@#%u", i);
		snprintf(line, sizeof(line), "  %-*s%-12s %-10s%s\r\n", m->nvms > 16 ? 6 : 4, key, m->vm[i].name,
			 m->ops.state(m->ops.ctx, i), (int)i == v->shown ? " (shown)" : "");
		say(v, line);
	}
	if (m->nvms > 16)
		say(v, "  (Return @ # N Return shows VM N, in decimal, for any N)\r\n");
}

int mux_add_viewer(struct mux *m, int in_fd, int out_fd, int shown, bool leave_stops_system)
{
	int i;

	for (i = 0; i < MUX_MAX_VIEWERS && m->v[i].in_fd >= 0; i++)
		;
	if (i == MUX_MAX_VIEWERS)
		return -1;
	memset(&m->v[i], 0, sizeof(m->v[i]));
	m->v[i].in_fd = in_fd;
	m->v[i].out_fd = out_fd;
	m->v[i].shown = -1;
	m->v[i].leave_stops_system = leave_stops_system;
	relay_init(&m->v[i].esc);
	if (shown >= 0 && (unsigned)shown < m->nvms)
		show(m, &m->v[i], shown);
	return i;
}

void mux_remove_viewer(struct mux *m, int i)
{
	m->v[i].in_fd = m->v[i].out_fd = -1;
}

void mux_output(struct mux *m, unsigned vm, const char *buf, size_t n)
{
	struct mux_vm *c = &m->vm[vm];
	size_t i;
	int k;

	for (i = 0; i < n; i++)
		c->ring[(c->total + i) % MUX_SCROLLBACK] = buf[i];
	c->total += n;
	for (k = 0; k < MUX_MAX_VIEWERS; k++) {
		struct mux_viewer *v = &m->v[k];

		if (v->in_fd >= 0 && v->shown == (int)vm) {
			put(v, buf, n);
			v->seen[vm] = c->total;
		}
	}
}

/* A client's first line names the VM to show. */
static bool hello(struct mux *m, struct mux_viewer *v, const char **buf, size_t *n)
{
	while (*n) {
		char c = **buf;
		unsigned i;

		(*buf)++;
		(*n)--;
		if (c != '\n') {
			if (v->hello_len >= sizeof(v->hello) - 1)
				return false;
			v->hello[v->hello_len++] = c;
			continue;
		}
		v->hello[v->hello_len] = 0;
		for (i = 0; i < m->nvms; i++)
			if (strcmp(m->vm[i].name, v->hello) == 0) {
				show(m, v, i);
				return true;
			}
		say(v, "multivm: no such VM\r\n");
		return false;
	}
	return true;
}

bool mux_input(struct mux *m, int i, const char *buf, size_t n)
{
	struct mux_viewer *v = &m->v[i];
	char out[2048];

	if (v->shown < 0) {
		if (!hello(m, v, &buf, &n))
			return false;	/* unknown VM or an overlong line */
		if (v->shown < 0)
			return true;	/* the rest of the line is still to come */
	}
	while (n) {
		size_t chunk = n > sizeof(out) / 2 - RELAY_DIGITS - 2 ? sizeof(out) / 2 - RELAY_DIGITS - 2 : n, olen;
		enum relay_event ev;
		int vm = 0;
		size_t used = relay_input(&v->esc, buf, chunk, out, &olen, &ev, &vm);

		if (olen)
			m->ops.to_vm(m->ops.ctx, v->shown, out, olen);
		buf += used;
		n -= used;
		if (ev == RELAY_QUIT)
			return false;
		if (ev == RELAY_LIST)
			list(m, v);
		if (ev == RELAY_SWITCH) {
			if ((unsigned)vm < m->nvms)
				show(m, v, vm);
			else
				say(v, "\r\n[multivm: no such VM; Return @ ? lists them]\r\n");
		}
	}
	return true;
}
