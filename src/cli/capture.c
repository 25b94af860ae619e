/* multivm capture: reads one or two VMMs' capture rings and writes what
 * they recorded. See capture.h, common/capring.h and multivm(8).
 *
 * A heartbeat thread renews our leases every CAP_RENEW_NS, whatever the
 * main thread is doing (a pipe nobody reads can block it for ever: the
 * VMM then goes on recording and overwriting, and we count what we lost).
 * The main thread polls the rings, merges two of them by timestamp, and
 * writes. Signals set a flag; the end drains the rings and counts what
 * was recorded for us but never read as lost. */
#include "cli/capture.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/capout.h"
#include "cli/snapshot.h"
#include "common/capring.h"
#include "supervisor/state.h"

#define HOLD_NS		20000000ULL	/* merging two rings: wait this long for the other */
#define ROUND_MAX	256		/* frames between flushes of a live output */
#define LABEL_MAX	(2 * (MV_NAME_MAX + MV_IFNAME_MAX) + 8)

/* One ring we read. */
struct src {
	char vm[MV_NAME_MAX];
	int fd;
	void *map;
	struct cap_reader r;
	struct cap_frame f;	/* the next frame, when have */
	bool have;
	char label[2][LABEL_MAX];	/* by direction */
};

static volatile sig_atomic_t stop_sig;

static void on_stop(int sig)
{
	stop_sig = sig;
}

static void on_alarm(int sig)
{
	(void)sig;	/* only interrupts a write that does not finish */
}

static void on_bus(int sig)
{
	static const char m[] = "multivm: capture: the capture file was truncated under us; stopping\n";

	(void)sig;
	(void)!write(2, m, sizeof(m) - 1);
	_exit(1);
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---- the target ---- */

static int find(const char *const names[], unsigned n, const char *s, size_t len)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (strlen(names[i]) == len && strncmp(names[i], s, len) == 0)
			return i;
	return -1;
}

/* s[0..len) as an END: NAME or NAME:IFNAME. The VM's index, nic set
 * ("" for NAME alone), or -1. */
static int end_of(const char *const names[], unsigned n, const char *s, size_t len, char nic[MV_IFNAME_MAX])
{
	const char *colon = memchr(s, ':', len);
	size_t k, nl;

	nic[0] = 0;
	if (!colon)
		return find(names, n, s, len);
	nl = len - (colon + 1 - s);
	if (nl == 0 || nl >= MV_IFNAME_MAX || colon[1] < 'a' || colon[1] > 'z')
		return -1;
	for (k = 1; k < nl; k++) {
		char c = colon[1 + k];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return -1;
	}
	memcpy(nic, colon + 1, nl);
	nic[nl] = 0;
	return find(names, n, s, colon - s);
}

int capture_parse_target(const char *t, const char *const names[], unsigned n, struct capture_target *out)
{
	const char *arrow = strstr(t, "->"), *p;
	char na[MV_IFNAME_MAX], nb[MV_IFNAME_MAX];
	int a, b, found = 0;

	memset(out, 0, sizeof(*out));
	a = end_of(names, n, t, strlen(t), na);
	if (a >= 0) {
		out->kind = na[0] ? CAPTURE_NIC : CAPTURE_VM;
		out->a = a;
		memcpy(out->nic_a, na, sizeof(na));
		return 0;
	}
	if (arrow) {
		a = end_of(names, n, t, arrow - t, na);
		b = end_of(names, n, arrow + 2, strlen(arrow + 2), nb);
		if (a < 0 || b < 0 || a == b)
			return -ENOENT;
		*out = (struct capture_target){ CAPTURE_LINK_ONE, a, b, "", "" };
		memcpy(out->nic_a, na, sizeof(na));
		memcpy(out->nic_b, nb, sizeof(nb));
		return 0;
	}
	for (p = strchr(t, '-'); p; p = strchr(p + 1, '-')) {
		a = end_of(names, n, t, p - t, na);
		b = end_of(names, n, p + 1, strlen(p + 1), nb);
		if (a < 0 || b < 0 || a == b)
			continue;
		if (found++)
			return -EINVAL;
		*out = (struct capture_target){ CAPTURE_LINK_BOTH, a, b, "", "" };
		memcpy(out->nic_a, na, sizeof(na));
		memcpy(out->nic_b, nb, sizeof(nb));
	}
	return found ? 0 : -ENOENT;
}

/* ---- the filter ---- */

int capture_filter_compile(struct capture_filter *f, char *const *words, int n, unsigned snaplen,
			   char *err, size_t errlen)
{
	char expr[4096] = "";
	size_t len = 0;
	pcap_t *p;
	int i, rc;

	memset(f, 0, sizeof(*f));
	if (n <= 0)
		return 0;
	for (i = 0; i < n; i++) {
		len += snprintf(expr + len, sizeof(expr) - len, "%s%s", i ? " " : "", words[i]);
		if (len >= sizeof(expr)) {
			snprintf(err, errlen, "filter expression too long");
			return -1;
		}
	}
	p = pcap_open_dead(DLT_EN10MB, snaplen);
	if (!p) {
		snprintf(err, errlen, "cannot compile the filter: out of memory");
		return -1;
	}
	rc = pcap_compile(p, &f->prog, expr, 1, PCAP_NETMASK_UNKNOWN);
	if (rc < 0)
		snprintf(err, errlen, "filter '%s': %s", expr, pcap_geterr(p));
	pcap_close(p);
	if (rc < 0)
		return -1;
	f->on = true;
	return 0;
}

bool capture_filter_match(const struct capture_filter *f, const struct cap_frame *fr)
{
	struct pcap_pkthdr h = { .caplen = fr->len, .len = fr->len };

	return !f->on || pcap_offline_filter(&f->prog, &h, fr->data) != 0;
}

void capture_filter_free(struct capture_filter *f)
{
	if (f->on)
		pcap_freecode(&f->prog);
	f->on = false;
}

/* ---- the rings ---- */

static int open_ring(const char *dir, const char *vm, struct src *s)
{
	char p[STATE_PATH_MAX];
	struct stat st;
	int rc;

	snprintf(s->vm, sizeof(s->vm), "%s", vm);
	s->fd = -1;
	s->map = MAP_FAILED;
	if (state_file(p, dir, vm, SF_CAPTURE) < 0) {
		fprintf(stderr, "multivm: capture: state directory path too long\n");
		return -1;
	}
	s->fd = open(p, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (s->fd < 0) {
		fprintf(stderr, "multivm: capture: cannot open %s: %s%s\n", p, strerror(errno),
			errno == EACCES ? " (capture needs the user that runs the system)" : "");
		return -1;
	}
	if (fstat(s->fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size < CAP_FILE_SIZE) {
		fprintf(stderr, "multivm: capture: %s is not a capture ring\n", p);
		return -1;
	}
	s->map = mmap(NULL, CAP_FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
	if (s->map == MAP_FAILED) {
		fprintf(stderr, "multivm: capture: cannot map %s: %s\n", p, strerror(errno));
		return -1;
	}
	rc = capr_open(&s->r, s->map, CAP_FILE_SIZE);
	if (rc < 0) {
		fprintf(stderr, "multivm: capture: %s: no capture ring yet (its VMM has not started)\n", vm);
		return -1;
	}
	return 0;
}

static void close_ring(struct src *s)
{
	if (s->map != MAP_FAILED)
		munmap(s->map, CAP_FILE_SIZE);
	if (s->fd >= 0)
		close(s->fd);
}

/* The stream of frames s's VM puts on its link to peer (on the segment),
 * or on its wire NIC nic, or -1 (said). label: the direction's name. */
static int link_stream(struct src *s, const char *peer, const char *nic, const char *label)
{
	char wire[MV_IFNAME_MAX + 1];
	int k;

	snprintf(wire, sizeof(wire), ":%s", nic);	/* a wire's stream (vmm/main.c) */
	k = capr_find_stream(&s->r, nic[0] ? wire : peer);
	if (k < 0 && nic[0])
		fprintf(stderr, "multivm: capture: %s has no wire NIC %s\n", s->vm, nic);
	else if (k < 0)
		fprintf(stderr, "multivm: capture: no link between %s and %s\n", s->vm, peer);
	else
		snprintf(s->label[0], LABEL_MAX, "%s", label);
	return k;
}

/* ---- the heartbeat ---- */

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool quit;
	struct src *src;
	unsigned nsrc;
	int err;		/* -EBUSY: a slot lost and none free */
} hb = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, NULL, 0, 0 };

static void *heartbeat(void *arg)
{
	struct timespec due;
	unsigned i;

	(void)arg;
	pthread_mutex_lock(&hb.mu);
	while (!hb.quit) {
		uint64_t t = clock_ns(CLOCK_MONOTONIC) + CAP_RENEW_NS;

		due.tv_sec = t / 1000000000ULL;
		due.tv_nsec = t % 1000000000ULL;
		while (!hb.quit && pthread_cond_timedwait(&hb.cv, &hb.mu, &due) != ETIMEDOUT)
			;
		if (hb.quit)
			break;
		t = clock_ns(CLOCK_MONOTONIC);
		for (i = 0; i < hb.nsrc; i++)
			if (capr_renew(&hb.src[i].r, getpid(), t) < 0)
				__atomic_store_n(&hb.err, -EBUSY, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&hb.mu);
	return NULL;
}

static int start_heartbeat(pthread_t *t, struct src *src, unsigned nsrc)
{
	pthread_condattr_t ca;
	sigset_t all, old;
	int rc;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&hb.cv, &ca);
	pthread_condattr_destroy(&ca);
	hb.src = src;
	hb.nsrc = nsrc;
	/* Signals are the main thread's. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(t, NULL, heartbeat, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return -rc;
}

static void stop_heartbeat(pthread_t t)
{
	pthread_mutex_lock(&hb.mu);
	hb.quit = true;
	pthread_cond_signal(&hb.cv);
	pthread_mutex_unlock(&hb.mu);
	pthread_join(t, NULL);
}

/* ---- reading and writing ---- */

struct run {
	const struct capture_opts *o;
	struct src src[2];
	unsigned nsrc;
	struct capout out;
	struct capture_filter filter;
	uint64_t filtered;	/* frames the filter did not pass */
	bool out_failed;	/* the output stopped taking frames */
	int out_err;
	const char *damaged;	/* the VM whose ring is damaged */
};

/* Fills each ring's lookahead. -1 if a ring is damaged. */
static int fill(struct run *r)
{
	unsigned i;

	for (i = 0; i < r->nsrc; i++) {
		struct src *s = &r->src[i];
		int rc;

		if (s->have)
			continue;
		rc = capr_next(&s->r, &s->f);
		if (rc < 0) {
			r->damaged = s->vm;
			return -1;
		}
		s->have = rc == 1;
	}
	return 0;
}

/* The ring whose frame goes next, or NULL. Two rings are merged by
 * timestamp; a frame waits up to HOLD_NS for the other ring to show an
 * older one, unless draining. */
static struct src *pick(struct run *r, bool drain)
{
	struct src *a = &r->src[0], *b = &r->src[1];

	if (r->nsrc == 1)
		return a->have ? a : NULL;
	if (a->have && b->have)
		return b->f.ts_ns < a->f.ts_ns ? b : a;
	if (!a->have && !b->have)
		return NULL;
	if (!a->have)
		a = b;
	if (drain || a->f.ts_ns + HOLD_NS <= clock_ns(CLOCK_REALTIME))
		return a;
	return NULL;
}

/* False once the output stopped taking frames (a write failed, or a
 * signal interrupted one that was not getting anywhere). */
static bool out_ok(struct run *r)
{
	if (!r->out_failed && ferror(r->out.f)) {
		r->out_failed = true;
		r->out_err = errno ? -errno : -EIO;
	}
	return !r->out_failed;
}

/* Writes up to ROUND_MAX frames. Returns how many, or -1 (damaged). */
static int round_of(struct run *r, bool drain)
{
	int n = 0;

	while (n < ROUND_MAX && out_ok(r) && (drain || !stop_sig)) {
		struct src *s;

		if (r->o->count && r->out.written >= r->o->count)
			break;
		if (fill(r) < 0)
			return -1;
		s = pick(r, drain);
		if (!s)
			break;
		if (capture_filter_match(&r->filter, &s->f))
			capout_frame(&r->out, &s->f, s->label[s->f.dir & 1]);
		else
			r->filtered++;
		s->have = false;
		n++;
	}
	return n;
}

static void flush(struct run *r)
{
	int rc;

	if (r->out_failed)
		return;
	rc = capout_flush(&r->out);
	if (rc < 0) {
		r->out_failed = true;
		r->out_err = rc;
	}
}

static bool system_gone(const struct run *r)
{
	unsigned i;

	if (!state_supervisor(r->o->state_dir))
		return true;
	for (i = 0; i < r->nsrc; i++) {
		struct stat st;

		/* Removed: the system stopped (or a new one replaced it). */
		if (fstat(r->src[i].fd, &st) < 0 || st.st_nlink == 0)
			return true;
	}
	return false;
}

enum end { END_SIGNAL, END_COUNT, END_OUTPUT, END_DAMAGED, END_GONE, END_SLOTS };

static enum end loop(struct run *r)
{
	uint64_t next_check = 0;
	unsigned idle = 0;
	bool dirty = false;

	for (;;) {
		uint64_t now;
		int n;

		if (stop_sig)
			return END_SIGNAL;
		n = round_of(r, false);
		if (n < 0)
			return END_DAMAGED;
		if (stop_sig)
			return END_SIGNAL;	/* the drain flushes */
		if (r->o->count && r->out.written >= r->o->count)
			return END_COUNT;
		dirty |= n > 0;
		/* A pipe or terminal sees every batch at once; a file when
		 * the rings go quiet. */
		if (dirty && (r->out.live || n == 0)) {
			flush(r);
			dirty = false;
		}
		if (r->out_failed)
			return stop_sig ? END_SIGNAL : END_OUTPUT;
		now = clock_ns(CLOCK_MONOTONIC);
		if (now >= next_check) {
			if (system_gone(r))
				return END_GONE;
			if (__atomic_load_n(&hb.err, __ATOMIC_RELAXED))
				return END_SLOTS;
			next_check = now + 1000000000ULL;
		}
		if (n == ROUND_MAX)
			continue;
		/* Nothing to wake us: the VMM makes no system call per frame.
		 * Poll, more slowly as the rings stay quiet. */
		idle = n ? 0 : idle + 1;
		nanosleep(&(struct timespec){ 0, idle < 100 ? 1000000 : 10000000 }, NULL);
	}
}

/* The rest of what was recorded for us: written if the output still
 * takes frames (drain), else counted as lost; left alone after COUNT
 * frames or a damaged ring (tail false). */
static void finish(struct run *r, bool drain, bool tail)
{
	unsigned i;

	for (i = 0; i < r->nsrc; i++)
		capr_mark_end(&r->src[i].r);
	if (drain && out_ok(r)) {
		int n;

		alarm(2);	/* an output that takes nothing must not keep us */
		while ((n = round_of(r, true)) > 0)
			;
		alarm(0);
		if (n < 0)
			return;
	}
	for (i = 0; tail && i < r->nsrc; i++)
		if (capr_end(&r->src[i].r) < 0)
			r->damaged = r->src[i].vm;
}

static int close_output(struct run *r)
{
	bool text = !r->out.dump;
	int rc;

	if (!out_ok(r))
		__fpurge(r->out.f);	/* what the output did not take is dropped */
	alarm(2);	/* a pipe nobody reads must not keep us here (SIGALRM: signals()) */
	rc = capout_close(&r->out);
	alarm(0);
	if (rc < 0 && text)
		__fpurge(stdout);	/* nor at exit */
	return r->out_failed ? r->out_err : rc;
}

static void summary(struct run *r)
{
	uint64_t lost = 0, lapses = 0;
	unsigned i;

	for (i = 0; i < r->nsrc; i++) {
		lost += r->src[i].r.lost;
		lapses += r->src[i].r.lapses;
	}
	fprintf(stderr, "%llu frames captured, %llu lost (reader too slow)", (unsigned long long)r->out.written,
		(unsigned long long)lost);
	if (r->filter.on)
		fprintf(stderr, ", %llu filtered out", (unsigned long long)r->filtered);
	if (r->out.truncated)
		fprintf(stderr, ", %llu truncated to snaplen %u", (unsigned long long)r->out.truncated,
			r->out.snaplen);
	if (lapses)
		fprintf(stderr, "; recording paused %llu time(s) while this reader could not renew its lease "
			"(stopped?): frames then were not recorded", (unsigned long long)lapses);
	fputc('\n', stderr);
}

/* The wire at a's NIC nic in snapshot s (read with the counters): its
 * peer *b and the peer's NIC (into peer_nic; "" for a tunnel's end), or
 * -1 when a has no wire NIC of that name. */
static int wire_of(const struct snapshot *s, unsigned a, const char *nic, unsigned *b, char peer_nic[MV_IFNAME_MAX])
{
	unsigned i;

	for (i = 0; i < s->nlinks; i++)
		if (s->link[i].from == a && strcmp(s->link[i].from_nic, nic) == 0) {
			*b = s->link[i].to;
			memcpy(peer_nic, s->link[i].to_nic, MV_IFNAME_MAX);
			return 0;
		}
	return -1;
}

/* Resolves the target against the running system and opens its rings.
 * Everything is checked before any output is created. */
static int resolve(struct run *r, const char *dir, const char *target)
{
	static struct snapshot snap;
	const char *names[MV_NODES_MAX];
	char la[LABEL_MAX], lb[LABEL_MAX], peer_nic[MV_IFNAME_MAX];
	struct capture_target t;
	unsigned i, peer;
	int rc, k;

	if (!state_supervisor(dir) || snapshot_read(dir, &snap) < 0) {
		fprintf(stderr, "multivm: no system running in %s\n", dir);
		return -1;
	}
	for (i = 0; i < snap.nvms; i++)
		names[i] = snap.vm[i].name;
	rc = capture_parse_target(target, names, snap.nvms, &t);
	if (rc == -EINVAL) {
		fprintf(stderr, "multivm: capture: '%s' is ambiguous: name one direction as A->B\n", target);
		return -1;
	}
	if (rc < 0) {
		fprintf(stderr, "multivm: capture: no VM, NIC or link called %s\n", target);
		return -1;
	}
	/* A wire NIC alone: its wire, both ways (the peer's way only if the
	 * peer is a VM, whose VMM records what it sends). */
	if (t.kind == CAPTURE_NIC && wire_of(&snap, t.a, t.nic_a, &peer, peer_nic) == 0) {
		t.kind = peer_nic[0] ? CAPTURE_LINK_BOTH : CAPTURE_LINK_ONE;
		t.b = peer;
		memcpy(t.nic_b, peer_nic, sizeof(peer_nic));
	} else if (t.kind == CAPTURE_NIC && strcmp(t.nic_a, "eth0") == 0) {
		t.kind = CAPTURE_VM;	/* the segment's eth0 */
	} else if (t.kind == CAPTURE_NIC) {
		fprintf(stderr, "multivm: capture: %s has no wire NIC %s\n", names[t.a], t.nic_a);
		return -1;
	}
	/* A link between two NICs must be one wire. */
	if (t.kind != CAPTURE_VM && (t.nic_a[0] || t.nic_b[0]) &&
	    (wire_of(&snap, t.a, t.nic_a, &peer, peer_nic) < 0 || peer != t.b || strcmp(peer_nic, t.nic_b) != 0)) {
		fprintf(stderr, "multivm: capture: no wire %s%s%s - %s%s%s\n", names[t.a], t.nic_a[0] ? ":" : "",
			t.nic_a, names[t.b], t.nic_b[0] ? ":" : "", t.nic_b);
		return -1;
	}
	if (open_ring(dir, names[t.a], &r->src[0]) < 0)
		return -1;
	r->nsrc = 1;
	if (t.kind == CAPTURE_VM) {
		r->src[0].r.streams = CAP_BIT(CAP_STREAM_GUEST);
		snprintf(r->src[0].label[CAP_DIR_OUT], LABEL_MAX, "%s out", names[t.a]);
		snprintf(r->src[0].label[CAP_DIR_IN], LABEL_MAX, "%s in", names[t.a]);
		return 0;
	}
	snprintf(la, sizeof(la), "%s%s%s->%s%s%s", names[t.a], t.nic_a[0] ? ":" : "", t.nic_a, names[t.b],
		 t.nic_b[0] ? ":" : "", t.nic_b);
	snprintf(lb, sizeof(lb), "%s%s%s->%s%s%s", names[t.b], t.nic_b[0] ? ":" : "", t.nic_b, names[t.a],
		 t.nic_a[0] ? ":" : "", t.nic_a);
	k = link_stream(&r->src[0], names[t.b], t.nic_a, la);
	if (k < 0)
		return -1;
	r->src[0].r.streams = CAP_BIT(k);
	if (t.kind == CAPTURE_LINK_ONE)
		return 0;
	r->nsrc = 2;
	if (open_ring(dir, names[t.b], &r->src[1]) < 0)
		return -1;
	k = link_stream(&r->src[1], names[t.a], t.nic_b, lb);
	if (k < 0)
		return -1;
	r->src[1].r.streams = CAP_BIT(k);
	return 0;
}

static int registered(struct run *r)
{
	uint64_t now = clock_ns(CLOCK_MONOTONIC);
	unsigned i;

	for (i = 0; i < r->nsrc; i++)
		if (capr_register(&r->src[i].r, r->src[i].r.streams, getpid(), now) < 0) {
			fprintf(stderr, "multivm: capture: %s: too many captures at once (at most %d)\n",
				r->src[i].vm, CAP_READERS);
			while (i--)
				capr_unregister(&r->src[i].r);
			return -1;
		}
	return 0;
}

static void signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop };	/* no SA_RESTART: a blocked write returns */

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	sa.sa_handler = on_bus;
	sigaction(SIGBUS, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int capture_run(const struct capture_opts *o)
{
	static struct run r;
	char err[512];
	pthread_t hbt;
	enum end why;
	unsigned i;
	int rc = 1;

	memset(&r, 0, sizeof(r));
	r.o = o;
	r.src[0].fd = r.src[1].fd = -1;
	r.src[0].map = r.src[1].map = MAP_FAILED;
	if (capture_filter_compile(&r.filter, o->filter, o->nfilter, o->snaplen, err, sizeof(err)) < 0) {
		fprintf(stderr, "multivm: capture: %s\n", err);
		return 2;
	}
	if (resolve(&r, o->state_dir, o->target) < 0)
		goto out;
	if (capout_open(&r.out, o->out, o->snaplen, err, sizeof(err)) < 0) {
		fprintf(stderr, "multivm: capture: %s\n", err);
		goto out;
	}
	signals();
	if (registered(&r) < 0) {
		close_output(&r);
		goto out;
	}
	if (start_heartbeat(&hbt, r.src, r.nsrc) < 0) {
		fprintf(stderr, "multivm: capture: cannot start a thread\n");
		for (i = 0; i < r.nsrc; i++)
			capr_unregister(&r.src[i].r);
		close_output(&r);
		goto out;
	}
	/* As tcpdump says it: from here on, frames are recorded for us. */
	fprintf(stderr, "multivm: capture: listening on %s%s, link-type EN10MB (Ethernet), snapshot length %u bytes\n",
		o->target, r.src[0].r.streams == CAP_BIT(CAP_STREAM_GUEST) ? " eth0" : "", o->snaplen);
	why = loop(&r);
	finish(&r, why == END_SIGNAL || why == END_GONE, why != END_COUNT && why != END_DAMAGED && why != END_SLOTS);
	stop_heartbeat(hbt);
	for (i = 0; i < r.nsrc; i++)
		capr_unregister(&r.src[i].r);
	rc = close_output(&r);
	if (rc < 0 && !r.out_failed) {
		r.out_failed = true;
		r.out_err = rc;
	}
	summary(&r);
	rc = 0;
	if (r.damaged) {
		fprintf(stderr, "multivm: capture: %s's capture ring is damaged; stopped\n", r.damaged);
		rc = 1;
	} else if (why == END_GONE) {
		fprintf(stderr, "multivm: capture: the system stopped\n");
		rc = 1;
	} else if (why == END_SLOTS) {
		fprintf(stderr, "multivm: capture: lost our reader slot and found no free one\n");
		rc = 1;
	} else if (r.out_failed && r.out_err != -EPIPE) {
		/* EPIPE: the reader of our output is done, and so are we. */
		if (why == END_SIGNAL)
			fprintf(stderr, "multivm: capture: the output was not taking frames; the last ones "
				"written may not have reached it\n");
		else
			fprintf(stderr, "multivm: capture: cannot write the output: %s\n", strerror(-r.out_err));
		rc = 1;
	}
out:
	for (i = 0; i < 2; i++)
		close_ring(&r.src[i]);
	capture_filter_free(&r.filter);
	return rc;
}
