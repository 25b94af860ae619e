/* multivm's built-in guest agent: the subset of qemu-guest-agent's protocol
 * (QGA) that `multivm exec` uses, on the virtio-serial port
 * org.qemu.guest_agent.0, so the host has one client for every guest.
 * Protocol and limits: docs/agent.md. Static (jansson linked in),
 * single-threaded: requests are answered in order while commands run.
 *
 *   guest-sync-delimited, guest-sync, guest-ping, guest-info,
 *   guest-exec (path, arg, env, capture-output), guest-exec-status
 *
 * A command is finished (exited: true) when its process has exited and
 * what it wrote before has been read, and then its pipes closed, went
 * quiet for 200 ms, or 1 s passed: what it left running in the background
 * (`cmd &`, udhcpc) does not hold it up. Such pipes stay open and drained
 * (up to 16, the oldest closed first), so those processes neither block
 * nor die of SIGPIPE. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/agent_proto.h"

#define MAX_PROCS	16	/* commands running or finished and not yet asked about */
#define MAX_ORPHANS	16
#define QUIET_MS	200
#define LINGER_MS	1000

struct proc {
	pid_t pid;		/* 0: a free slot */
	unsigned long long age;
	int capture;
	int fd[2];		/* stdout, stderr; -1 when closed */
	char *data[2];
	size_t len[2];
	int truncated[2];
	int exited, finished, status;
	long owed;		/* bytes written before the exit, not yet read */
	long long exit_ms, last_ms;
};

static struct proc procs[MAX_PROCS];
static unsigned long long ages;
static int orphans[MAX_ORPHANS];
static unsigned norphans;
static char in[AGENT_MAX_REQUEST];
static size_t have;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void nap(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Best effort: if the host went away, the reply is lost, the command is not. */
static void write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= n;
	}
}

/* Sends {"return": ret} (or {"error": err}), with the request's id if it
 * had one, the delimiter byte first if delim. Takes the references. */
static void send_reply(int port, json_t *ret, json_t *err, json_t *id, int delim)
{
	json_t *r = json_object();
	char *text;

	if (!r) {
		json_decref(ret);
		json_decref(err);
		return;
	}
	if (ret)
		json_object_set_new(r, "return", ret);
	if (err)
		json_object_set_new(r, "error", err);
	if (id)
		json_object_set(r, "id", id);
	text = json_dumps(r, JSON_COMPACT);
	json_decref(r);
	if (!text)
		return;
	if (delim) {
		char d = (char)AGENT_DELIM;

		write_all(port, &d, 1);
	}
	write_all(port, text, strlen(text));
	write_all(port, "\n", 1);
	free(text);
}

static void send_error(int port, json_t *id, const char *class, const char *fmt, const char *arg)
{
	char desc[256];

	snprintf(desc, sizeof(desc), fmt, arg);
	send_reply(port, NULL, json_pack("{s:s, s:s}", "class", class, "desc", desc), id, 0);
}

static void adopt(int fd)
{
	if (norphans == MAX_ORPHANS) {	/* the oldest goes: its writer gets SIGPIPE */
		close(orphans[0]);
		memmove(orphans, orphans + 1, sizeof(orphans) - sizeof(orphans[0]));
		norphans--;
	}
	orphans[norphans++] = fd;
}

/* Reads and discards what orphans wrote (a bounded amount per pass, so a
 * writer that never stops cannot keep us here); forgets those that closed. */
static void drain_orphans(void)
{
	char buf[4096];
	unsigned i = 0;

	while (i < norphans) {
		ssize_t n = 0;
		int k;

		for (k = 0; k < 16 && (n = read(orphans[i], buf, sizeof(buf))) > 0; k++)
			;
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			close(orphans[i]);
			memmove(orphans + i, orphans + i + 1, (norphans - i - 1) * sizeof(orphans[0]));
			norphans--;
			continue;
		}
		i++;
	}
}

static void free_proc(struct proc *p)
{
	int s;

	for (s = 0; s < 2; s++) {
		if (p->fd[s] >= 0)
			close(p->fd[s]);
		free(p->data[s]);
	}
	memset(p, 0, sizeof(*p));
	p->fd[0] = p->fd[1] = -1;
}

/* Reads what stream s of p has now (a bounded amount per pass); keeps up
 * to AGENT_MAX_OUTPUT of it. */
static void read_stream(struct proc *p, int s)
{
	char buf[16384];
	int k;

	for (k = 0; k < 16 && p->fd[s] >= 0; k++) {
		ssize_t n = read(p->fd[s], buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			close(p->fd[s]);
			p->fd[s] = -1;
			return;
		}
		p->last_ms = now_ms();
		if (p->owed > 0 && (p->owed -= n) <= 0)
			p->exit_ms = p->last_ms;	/* the linger starts now */
		if (p->len[s] < AGENT_MAX_OUTPUT) {
			size_t take = (size_t)n < AGENT_MAX_OUTPUT - p->len[s] ? (size_t)n : AGENT_MAX_OUTPUT - p->len[s];
			char *d = realloc(p->data[s], p->len[s] + take);

			if (!d) {
				p->truncated[s] = 1;
				continue;
			}
			memcpy(d + p->len[s], buf, take);
			p->data[s] = d;
			p->len[s] += take;
			if (take < (size_t)n)
				p->truncated[s] = 1;
		} else {
			p->truncated[s] = 1;
		}
	}
}

static void reap(void)
{
	pid_t pid;
	int st, i, s;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		for (i = 0; i < MAX_PROCS; i++) {
			struct proc *p = &procs[i];

			if (p->pid != pid || p->exited)
				continue;
			p->exited = 1;
			p->status = st;
			p->exit_ms = now_ms();
			/* What it wrote before it exited is its output, however
			 * long that takes to read: the limits are for what follows. */
			for (s = 0; s < 2; s++) {
				int n = 0;

				if (p->fd[s] >= 0 && ioctl(p->fd[s], FIONREAD, &n) == 0 && n > 0)
					p->owed += n;
			}
		}
}

static void update(struct proc *p)
{
	long long now = now_ms(), since = p->last_ms > p->exit_ms ? p->last_ms : p->exit_ms;
	int s;

	if (!p->pid || p->finished || !p->exited || p->owed > 0)
		return;
	if ((p->fd[0] < 0 && p->fd[1] < 0) || now - since >= QUIET_MS || now - p->exit_ms >= LINGER_MS) {
		p->finished = 1;
		for (s = 0; s < 2; s++)
			if (p->fd[s] >= 0) {
				adopt(p->fd[s]);
				p->fd[s] = -1;
			}
	}
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *base64(const char *d, size_t len)
{
	char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;
	size_t i;

	if (!out)
		return NULL;
	for (i = 0; i + 2 < len; i += 3) {
		unsigned v = (unsigned char)d[i] << 16 | (unsigned char)d[i + 1] << 8 | (unsigned char)d[i + 2];

		*o++ = b64[v >> 18];
		*o++ = b64[(v >> 12) & 63];
		*o++ = b64[(v >> 6) & 63];
		*o++ = b64[v & 63];
	}
	if (i < len) {
		unsigned v = (unsigned char)d[i] << 16 | (i + 1 < len ? (unsigned char)d[i + 1] << 8 : 0);

		*o++ = b64[v >> 18];
		*o++ = b64[(v >> 12) & 63];
		*o++ = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	*o = 0;
	return out;
}

static void exec_status(int port, json_t *args, json_t *id)
{
	json_t *pidv = json_object_get(args, "pid"), *ret;
	static const char *const key[2][2] = { { "out-data", "out-truncated" }, { "err-data", "err-truncated" } };
	struct proc *p = NULL;
	int i, s;

	for (i = 0; json_is_integer(pidv) && i < MAX_PROCS; i++)
		if (procs[i].pid && procs[i].pid == json_integer_value(pidv))
			p = &procs[i];
	if (!p) {
		send_error(port, id, "GenericError", "Invalid parameter '%s'", "pid");
		return;
	}
	update(p);
	if (!p->finished) {
		send_reply(port, json_pack("{s:b}", "exited", 0), NULL, id, 0);
		return;
	}
	ret = json_pack("{s:b}", "exited", 1);
	if (WIFSIGNALED(p->status))
		json_object_set_new(ret, "signal", json_integer(WTERMSIG(p->status)));
	else
		json_object_set_new(ret, "exitcode", json_integer(WEXITSTATUS(p->status)));
	for (s = 0; s < 2 && p->capture; s++) {
		if (p->len[s]) {
			char *e = base64(p->data[s], p->len[s]);

			if (e)
				json_object_set_new(ret, key[s][0], json_string(e));
			free(e);
			p->truncated[s] |= !e;
		}
		if (p->truncated[s])
			json_object_set_new(ret, key[s][1], json_true());
	}
	free_proc(p);
	send_reply(port, ret, NULL, id, 0);
}

/* A slot for a new command: a free one, else the oldest finished one
 * nobody asked about (its client went away). */
static struct proc *new_proc(void)
{
	struct proc *old = NULL;
	int i;

	for (i = 0; i < MAX_PROCS; i++) {
		update(&procs[i]);
		if (!procs[i].pid)
			return &procs[i];
		if (procs[i].finished && (!old || procs[i].age < old->age))
			old = &procs[i];
	}
	if (old)
		free_proc(old);
	return old;
}

/* NULL-terminated copy of a JSON array of strings (at most max), or NULL. */
static char **strings(json_t *a, size_t max, int *bad)
{
	char **v;
	size_t i;

	if (!a)
		return NULL;
	if (!json_is_array(a) || json_array_size(a) > max) {
		*bad = 1;
		return NULL;
	}
	v = calloc(json_array_size(a) + 2, sizeof(*v));
	if (!v) {
		*bad = 1;
		return NULL;
	}
	for (i = 0; i < json_array_size(a); i++)
		if (!(v[i] = (char *)json_string_value(json_array_get(a, i))) || strlen(v[i]) != json_string_length(json_array_get(a, i)))
			*bad = 1;
	return v;
}

static void exec_start(int port, json_t *args, json_t *id)
{
	const char *path = json_string_value(json_object_get(args, "path"));
	json_t *cap = json_object_get(args, "capture-output");
	char **arg, **env, **argv;
	int bad = 0, p[2][2] = { { -1, -1 }, { -1, -1 } }, s;
	struct proc *pr;
	size_t n = 0;
	pid_t pid;

	if (!path || !*path) {
		send_error(port, id, "GenericError", "Invalid parameter '%s'", "path");
		return;
	}
	if (json_object_get(args, "input-data")) {
		send_error(port, id, "GenericError", "%s is not supported by multivm's agent", "input-data");
		return;
	}
	if (cap && !json_is_boolean(cap)) {
		send_error(port, id, "GenericError", "Invalid parameter '%s'", "capture-output");
		return;
	}
	arg = strings(json_object_get(args, "arg"), 4096, &bad);
	env = strings(json_object_get(args, "env"), 4096, &bad);
	if (bad) {
		free(arg);
		free(env);
		send_error(port, id, "GenericError", "Invalid parameter '%s'", "arg or env");
		return;
	}
	pr = new_proc();
	if (!pr) {
		free(arg);
		free(env);
		send_error(port, id, "GenericError", "%s", "too many commands running");
		return;
	}
	while (arg && arg[n])
		n++;
	argv = calloc(n + 2, sizeof(*argv));
	if (!argv || (json_is_true(cap) && (pipe2(p[0], O_CLOEXEC) < 0 || pipe2(p[1], O_CLOEXEC) < 0))) {
		for (s = 0; s < 4; s++)
			if (p[s / 2][s % 2] >= 0)
				close(p[s / 2][s % 2]);
		free(argv);
		free(arg);
		free(env);
		send_error(port, id, "GenericError", "cannot start %s: out of resources", path);
		return;
	}
	argv[0] = (char *)path;
	if (n)
		memcpy(argv + 1, arg, n * sizeof(*argv));
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		setsid();
		signal(SIGPIPE, SIG_DFL);
		dup2(null, 0);
		dup2(json_is_true(cap) ? p[0][1] : null, 1);
		dup2(json_is_true(cap) ? p[1][1] : null, 2);
		if (env)
			execve(path, argv, env);
		else
			execv(path, argv);
		_exit(127);
	}
	free(argv);
	free(arg);
	free(env);
	for (s = 0; s < 2; s++)
		if (p[s][1] >= 0)
			close(p[s][1]);
	if (pid < 0) {
		for (s = 0; s < 2; s++)
			if (p[s][0] >= 0)
				close(p[s][0]);
		send_error(port, id, "GenericError", "cannot start %s: fork failed", path);
		return;
	}
	memset(pr, 0, sizeof(*pr));
	pr->pid = pid;
	pr->age = ++ages;
	pr->capture = json_is_true(cap);
	for (s = 0; s < 2; s++) {
		pr->fd[s] = p[s][0];
		if (pr->fd[s] >= 0)
			fcntl(pr->fd[s], F_SETFL, O_NONBLOCK);
	}
	send_reply(port, json_pack("{s:I}", "pid", (json_int_t)pid), NULL, id, 0);
}

static void handle(int port, json_t *req)
{
	const char *cmd = json_string_value(json_object_get(req, "execute"));
	json_t *args = json_object_get(req, "arguments"), *id = json_object_get(req, "id");

	if (!cmd) {
		send_error(port, id, "GenericError", "%s", "Expected 'execute' in QMP input");
		return;
	}
	if (args && !json_is_object(args)) {
		send_error(port, id, "GenericError", "%s", "QMP input member 'arguments' must be an object");
		return;
	}
	if (strcmp(cmd, "guest-sync-delimited") == 0 || strcmp(cmd, "guest-sync") == 0) {
		json_t *n = json_object_get(args, "id");

		if (!json_is_integer(n))
			send_error(port, id, "GenericError", "Invalid parameter '%s'", "id");
		else
			send_reply(port, json_incref(n), NULL, id, cmd[10] == '-');
	} else if (strcmp(cmd, "guest-ping") == 0) {
		send_reply(port, json_object(), NULL, id, 0);
	} else if (strcmp(cmd, "guest-info") == 0) {
		static const char *const names[] = { "guest-sync-delimited", "guest-sync", "guest-ping", "guest-info",
						     "guest-exec", "guest-exec-status" };
		json_t *list = json_array();
		unsigned i;

		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			json_array_append_new(list, json_pack("{s:s, s:b, s:b}", "name", names[i], "enabled", 1,
							      "success-response", 1));
		send_reply(port, json_pack("{s:s, s:o}", "version", "multivm", "supported_commands", list), NULL, id, 0);
	} else if (strcmp(cmd, "guest-exec") == 0) {
		exec_start(port, args, id);
	} else if (strcmp(cmd, "guest-exec-status") == 0) {
		exec_status(port, args, id);
	} else {
		send_error(port, id, "CommandNotFound", "The command %s has not been found", cmd);
	}
}

static void drop(size_t n)
{
	memmove(in, in + n, have - n);
	have -= n;
}

/* Takes what came from the host: a delimiter byte drops everything before
 * it (a half-sent request of an earlier client); each complete JSON value
 * is a request; what cannot become one is answered with an error and
 * dropped through the end of its line. */
static void take(int port, const char *data, size_t len)
{
	const char *d = memrchr(data, AGENT_DELIM, len);

	if (d) {
		have = 0;
		len -= d + 1 - data;
		data = d + 1;
	}
	while (len) {
		size_t n = len < sizeof(in) - have ? len : sizeof(in) - have;

		memcpy(in + have, data, n);
		have += n;
		data += n;
		len -= n;
		for (;;) {
			json_error_t err;
			json_t *req;
			size_t ws = 0;
			char *nl;

			while (ws < have && (in[ws] == ' ' || in[ws] == '\n' || in[ws] == '\r' || in[ws] == '\t'))
				ws++;
			drop(ws);
			if (!have)
				break;
			req = json_loadb(in, have, JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES, &err);
			if (req) {
				drop(err.position > 0 && (size_t)err.position < have ? (size_t)err.position : have);
				if (json_is_object(req))
					handle(port, req);
				else
					send_error(port, NULL, "GenericError", "%s", "Expected 'execute' in QMP input");
				json_decref(req);
				continue;
			}
			if (json_error_code(&err) == json_error_premature_end_of_input && have < sizeof(in))
				break;	/* the rest is on its way */
			send_error(port, NULL, "GenericError", "%s", "Invalid JSON syntax");
			nl = memchr(in, '\n', have);
			drop(nl ? (size_t)(nl + 1 - in) : have);
		}
	}
}

/* Serves the channel port until it fails; with once, returns when the
 * host end closes (tests), else waits for a host to come back. */
static void serve(int port, int once)
{
	for (;;) {
		struct pollfd pfd[1 + 2 * MAX_PROCS + MAX_ORPHANS];
		struct proc *who[1 + 2 * MAX_PROCS];
		int side[1 + 2 * MAX_PROCS];
		unsigned n = 1, i, busy = 0;
		char buf[65536];
		ssize_t r;

		pfd[0] = (struct pollfd){ .fd = port, .events = POLLIN };
		for (i = 0; i < MAX_PROCS; i++) {
			int s;

			busy |= procs[i].pid && !procs[i].finished;
			for (s = 0; s < 2; s++)
				if (procs[i].pid && procs[i].fd[s] >= 0) {
					who[n] = &procs[i];
					side[n] = s;
					pfd[n++] = (struct pollfd){ .fd = procs[i].fd[s], .events = POLLIN };
				}
		}
		for (i = 0; i < norphans; i++)
			pfd[n + i] = (struct pollfd){ .fd = orphans[i], .events = POLLIN };
		if (poll(pfd, n + norphans, busy ? 50 : 1000) < 0 && errno != EINTR)
			nap(50);
		reap();
		for (i = 1; i < n; i++)
			if (pfd[i].revents)
				read_stream(who[i], side[i]);
		for (i = 0; i < MAX_PROCS; i++)
			update(&procs[i]);
		drain_orphans();
		if (!(pfd[0].revents & POLLIN)) {
			/* Host side closed: Linux reports POLLHUP until it returns. */
			if (pfd[0].revents & (POLLHUP | POLLERR | POLLNVAL)) {
				if (once)
					return;
				nap(50);
			}
			continue;
		}
		r = read(port, buf, sizeof(buf));
		if (r <= 0) {
			if (once && (r == 0 || errno != EINTR))
				return;
			nap(50);
			continue;
		}
		take(port, buf, r);
	}
}

#ifndef AGENT_NO_MAIN
/* /dev/vportNpM whose sysfs name is org.qemu.guest_agent.0. */
static int open_port(void)
{
	char path[300], name[64];
	struct dirent *e;
	DIR *d;
	int fd = -1;

	d = opendir("/sys/class/virtio-ports");
	if (!d)
		return -1;
	while (fd < 0 && (e = readdir(d))) {
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(name, sizeof(name), f) && strcmp(name, AGENT_PORT_NAME "\n") == 0) {
			snprintf(path, sizeof(path), "/dev/%s", e->d_name);
			fd = open(path, O_RDWR | O_CLOEXEC);
		}
		fclose(f);
	}
	closedir(d);
	return fd;
}

int main(void)
{
	int port, i;

	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < MAX_PROCS; i++)
		procs[i].fd[0] = procs[i].fd[1] = -1;
	while ((port = open_port()) < 0)
		nap(200);
	serve(port, 0);
	return 1;
}
#endif
