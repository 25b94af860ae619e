/* multivm link: see link.h and multivm(8). */
#include "cli/link.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/capture.h"
#include "cli/snapshot.h"
#include "common/errbuf.h"
#include "common/qmp.h"
#include "supervisor/state.h"
#include "supervisor/statefiles.h"

#define LOCK_WAIT_MS	5000	/* another `multivm link` holds a file this long at most */
#define END_MAX		(MV_NAME_MAX + MV_IFNAME_MAX + 1)
#define WORDS_MAX	256

/* ---- the files ---- */

static bool lock_in_time(int fd)
{
	struct timespec pause = { 0, 10 * 1000000 };
	int waited;

	for (waited = 0; waited < LOCK_WAIT_MS; waited += 10) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return true;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return false;
		nanosleep(&pause, NULL);
	}
	return false;
}

int link_file_open(struct link_file *f, const char *dir, const char *name, char *err, size_t errlen)
{
	char p[STATE_PATH_MAX];
	struct stat st;
	struct linkctl *m;

	f->fd = -1;
	f->map = NULL;
	snprintf(f->name, sizeof(f->name), "%s", name);
	if (state_file(p, dir, name, SF_CTL) < 0)
		return errf(err, errlen, "%s: state directory path too long", name);
	f->fd = open(p, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (f->fd < 0)
		return errf(err, errlen, "cannot open %s: %s%s", p, strerror(errno),
			   errno == EACCES ? " (link needs the user that runs the system: root)" : "");
	if (fstat(f->fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size < sizeof(struct linkctl)) {
		link_file_close(f);
		return errf(err, errlen, "%s is not a link control file", p);
	}
	if (!lock_in_time(f->fd)) {
		link_file_close(f);
		return errf(err, errlen, "%s: another `multivm link` holds it", p);
	}
	m = mmap(NULL, sizeof(*m), PROT_READ | PROT_WRITE, MAP_SHARED, f->fd, 0);
	if (m == MAP_FAILED) {
		link_file_close(f);
		return errf(err, errlen, "cannot map %s: %s", p, strerror(errno));
	}
	f->map = m;
	/* Under our lock nobody writes: an odd gen is a writer that died
	 * midway, and our write makes it even again. */
	if (m->magic != LINKCTL_MAGIC || m->version != LINKCTL_VERSION || m->nlinks > MV_NODE_LINKS_MAX) {
		link_file_close(f);
		return errf(err, errlen, "%s is not a link control file of this version", p);
	}
	return 0;
}

void link_file_close(struct link_file *f)
{
	if (f->map)
		munmap(f->map, sizeof(*f->map));
	if (f->fd >= 0)
		close(f->fd);	/* and the lock with it */
	f->map = NULL;
	f->fd = -1;
}

/* Whether the fixed-size field s holds exactly want. */
static bool field_is(const char *s, size_t size, const char *want)
{
	size_t n = strlen(want);

	return n < size && memcmp(s, want, n) == 0 && s[n] == 0;
}

static int entry_of(const struct linkctl *c, const char *peer, const char *nic, const char *peer_nic)
{
	unsigned k;

	for (k = 0; k < c->nlinks && k < MV_NODE_LINKS_MAX; k++) {
		const struct linkctl_entry *e = &c->link[k];

		if (field_is(e->peer, sizeof(e->peer), peer) && field_is(e->nic, sizeof(e->nic), nic) &&
		    field_is(e->peer_nic, sizeof(e->peer_nic), peer_nic))
			return k;
	}
	return -1;
}

/* "vm0" or "vm0:eth1" */
static const char *end_str(char out[END_MAX], const char *node, const char *nic)
{
	snprintf(out, END_MAX, "%s%s%s", node, *nic ? ":" : "", nic);
	return out;
}

int link_find(const struct link_file *fa, const char *nic_a, const struct link_file *fb, const char *nic_b,
	      int e[2], char *err, size_t errlen)
{
	char a[END_MAX], b[END_MAX];

	e[0] = entry_of(fb->map, fa->name, nic_b, nic_a);	/* a->b, as b receives it */
	e[1] = entry_of(fa->map, fb->name, nic_a, nic_b);
	if (e[0] >= 0 && e[1] >= 0)
		return 0;
	end_str(a, fa->name, nic_a);
	end_str(b, fb->name, nic_b);
	if (e[0] < 0 && e[1] < 0)
		return errf(err, errlen, "no link %s-%s in the running system%s", a, b,
			   *nic_a || *nic_b ? "" : " (a wire is named by its ends, VM:IFNAME-VM:IFNAME)");
	return errf(err, errlen, "link %s-%s: %s's control file has no entry for %s->%s", a, b,
		   e[0] < 0 ? fb->name : fa->name, e[0] < 0 ? a : b, e[0] < 0 ? b : a);
}

int link_change(struct link_file *const f[2], const int e[2], const bool dir[2], enum link_op op,
		char *const *words, int n, char *err, size_t errlen)
{
	struct link_imp imp[2];
	char key[64];
	int d, i;

	for (d = 0; d < 2; d++) {
		if (!dir[d])
			continue;
		if (e[d] < 0 || (unsigned)e[d] >= f[d]->map->nlinks || e[d] >= MV_NODE_LINKS_MAX)
			return errf(err, errlen, "no entry for that direction");
		imp[d] = f[d]->map->link[e[d]].imp;
		switch (op) {
		case LINKOP_RESET: {	/* impairments go, the state stays */
			uint8_t down = imp[d].down;

			memset(&imp[d], 0, sizeof(imp[d]));
			imp[d].down = down;
			break;
		}
		case LINKOP_DOWN:
		case LINKOP_UP:
			imp[d].down = op == LINKOP_DOWN;
			break;
		case LINKOP_SET:
			for (i = 0; i < n; i++) {
				const char *eq = strchr(words[i], '=');
				size_t kl = eq ? (size_t)(eq - words[i]) : 0;

				if (!eq || kl == 0 || kl >= sizeof(key))
					return errf(err, errlen, "'%.100s' is not KEY=VALUE (e.g. delay=20ms)", words[i]);
				memcpy(key, words[i], kl);
				key[kl] = 0;
				if (linkctl_set(&imp[d], key, eq + 1, err, errlen) < 0)
					return -1;
			}
			break;
		}
		if (!linkctl_check(&imp[d]))	/* what the file held was not sane */
			return errf(err, errlen, "the setting would not be valid");
	}
	for (d = 0; d < 2; d++) {
		if (!dir[d])
			continue;
		linkctl_write_begin(f[d]->map);
		f[d]->map->link[e[d]].imp = imp[d];
		linkctl_write_end(f[d]->map);
	}
	return 0;
}

/* A wire end's carrier (up while both directions are), told to its QEMU
 * if one listens (else the supervisor tells the next one it starts). */
static int tell_carrier(const char *dir, const char *vm, const char *nic, bool up, char *err, size_t errlen)
{
	char sock[STATE_PATH_MAX], id[MV_IFNAME_MAX + 8];
	const char *names[1] = { id };
	int r;

	if (!*nic || state_file(sock, dir, vm, SF_QMP) < 0 || qmp_nic_id(id, sizeof(id), nic) < 0)
		return 0;
	r = qmp_set_links(sock, names, &up, 1, QMP_TIMEOUT_MS, err, errlen);
	return r == -ENOENT || r == -ECONNREFUSED ? 0 : r;
}

int link_set_imp(const char *dir, const char *a, const char *nic_a, const char *b, const char *nic_b,
		 const bool which[2], const struct link_imp want[2], struct link_imp was[2], char *err, size_t errlen)
{
	struct link_imp now[2];
	struct link_file fa, fb, *f[2] = { &fb, &fa };	/* a->b is b's to apply */
	bool up;
	int e[2], d, rc;

	if (!linkctl_check(&want[0]) || !linkctl_check(&want[1]))
		return errf(err, errlen, "the setting would not be valid");
	/* Locked in name order, as `multivm link` locks in status order: the
	 * two wait for each other at most LOCK_WAIT_MS. */
	rc = link_file_open(strcmp(a, b) < 0 ? &fa : &fb, dir, strcmp(a, b) < 0 ? a : b, err, errlen);
	if (rc == 0) {
		rc = link_file_open(strcmp(a, b) < 0 ? &fb : &fa, dir, strcmp(a, b) < 0 ? b : a, err, errlen);
		if (rc < 0)
			link_file_close(strcmp(a, b) < 0 ? &fa : &fb);
	}
	if (rc < 0)
		return rc;
	rc = link_find(&fa, nic_a, &fb, nic_b, e, err, errlen);
	for (d = 0; d < 2 && rc == 0; d++) {
		was[d] = now[d] = f[d]->map->link[e[d]].imp;
		if (!which[d])
			continue;
		now[d] = want[d];
		linkctl_write_begin(f[d]->map);
		f[d]->map->link[e[d]].imp = want[d];
		linkctl_write_end(f[d]->map);
	}
	link_file_close(&fa);
	link_file_close(&fb);
	if (rc < 0)
		return -1;
	if ((!*nic_a && !*nic_b) || (!!was[0].down | !!was[1].down) == (!!now[0].down | !!now[1].down))
		return 0;
	up = !now[0].down && !now[1].down;
	if (tell_carrier(dir, a, nic_a, up, err, errlen) < 0 || tell_carrier(dir, b, nic_b, up, err, errlen) < 0)
		return -2;
	return 0;
}

/* ---- the running system ---- */

static struct snapshot snap;

/* Node i's copy of its control file, read under a shared lock. */
static bool read_ctl(const char *dir, unsigned i, struct linkctl *c)
{
	char p[STATE_PATH_MAX];
	int fd, rc;

	if (state_file(p, dir, snap.vm[i].name, SF_CTL) < 0)
		return false;
	fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		fprintf(stderr, "multivm: link: cannot open %s: %s\n", p, strerror(errno));
		return false;
	}
	rc = statefiles_ctl_read(fd, c);
	close(fd);
	if (rc < 0)
		fprintf(stderr, "multivm: link: %s: %s\n", p,
			rc == -EPROTO ? "not a link control file of this version" : strerror(-rc));
	return rc == 0;
}

/* One direction as text: "A->B state=up delay=20ms ..." */
static void put_dir_text(const char *from, const char *to, const struct link_imp *imp)
{
	char words[WORDS_MAX];

	linkctl_format(imp, words, sizeof(words));
	printf("%s->%s %s%s%s\n", from, to, imp->down ? "" : "state=up", !imp->down && *words ? " " : "", words);
}

static json_t *dir_json(const char *from, const char *to, const struct link_imp *imp)
{
	char words[WORDS_MAX];

	linkctl_format(imp, words, sizeof(words));
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:I}",
			 "from", from, "to", to, "state", imp->down ? "down" : "up", "settings", words,
			 "delay_us", (json_int_t)imp->delay_us, "jitter_us", (json_int_t)imp->jitter_us,
			 "distribution", imp->dist == LINKCTL_NORMAL ? "normal" : "uniform",
			 "loss_ppm", (json_int_t)imp->loss_ppm, "loss_correlation_ppm", (json_int_t)imp->loss_corr_ppm,
			 "corrupt_ppm", (json_int_t)imp->corrupt_ppm, "duplicate_ppm", (json_int_t)imp->duplicate_ppm,
			 "rate_bps", (json_int_t)imp->rate_bps, "seed", (json_int_t)imp->seed);
}

/* A link: its name, and each direction we have (NULL: none read). */
static void put_link(json_t *arr, const char *a, const char *b, const struct link_imp *ab, const struct link_imp *ba)
{
	json_t *l, *dirs;

	if (!arr) {
		if (ab)
			put_dir_text(a, b, ab);
		if (ba)
			put_dir_text(b, a, ba);
		return;
	}
	dirs = json_array();
	if (ab)
		json_array_append_new(dirs, dir_json(a, b, ab));
	if (ba)
		json_array_append_new(dirs, dir_json(b, a, ba));
	l = json_pack("{s:s++, s:s, s:s, s:o}", "link", a, "-", b, "a", a, "b", b, "directions", dirs);
	json_array_append_new(arr, l);
}

static int print_json(json_t *arr)
{
	json_t *top = json_pack("{s:o}", "links", arr);
	int rc = !top || json_dumpf(top, stdout, JSON_INDENT(2)) < 0 ? -1 : 0;

	json_decref(top);
	if (rc == 0)
		putchar('\n');
	return rc;
}

static int finish_output(void)
{
	if (fflush(stdout) == EOF) {
		fprintf(stderr, "multivm: link: cannot write: %s\n", strerror(errno));
		return LINKCMD_FAILED;
	}
	return LINKCMD_OK;
}

/* Every link of the system, from the node listed first. */
static int show_all(const char *dir, bool json)
{
	static struct linkctl ctl[MV_NODES_MAX];
	bool have[MV_NODES_MAX];
	json_t *arr = json ? json_array() : NULL;
	unsigned i, k;
	int rc;

	for (i = 0; i < snap.nvms; i++)
		have[i] = read_ctl(dir, i, &ctl[i]);
	for (i = 0; i < snap.nvms; i++) {
		for (k = 0; have[i] && k < ctl[i].nlinks; k++) {
			const struct linkctl_entry *e = &ctl[i].link[k];
			int j = snapshot_vm(&snap, e->peer), r = -1;
			char a[END_MAX], b[END_MAX];

			if (j >= 0 && (unsigned)j < i && have[j])
				continue;	/* shown from j */
			if (j >= 0 && have[j])	/* i->peer is in the peer's file */
				r = entry_of(&ctl[j], snap.vm[i].name, e->peer_nic, e->nic);
			put_link(arr, end_str(a, snap.vm[i].name, e->nic), end_str(b, e->peer, e->peer_nic),
				 r >= 0 ? &ctl[j].link[r].imp : NULL, &e->imp);
		}
	}
	if (json && print_json(arr) < 0)
		return LINKCMD_FAILED;
	rc = finish_output();
	for (i = 0; i < snap.nvms; i++)
		if (!have[i])
			rc = LINKCMD_FAILED;
	return rc;
}

/* Tells the QEMU of each VM end of a wire its NIC's carrier: up while
 * both directions are up. A VM whose QEMU is not running (restarting,
 * external, a tunnel) is skipped: the supervisor tells a QEMU it starts. */
static int set_carrier(const char *dir, const struct capture_target *t, struct link_file *const f[2], const int e[2])
{
	bool up = !f[0]->map->link[e[0]].imp.down && !f[1]->map->link[e[1]].imp.down;
	int x, rc = LINKCMD_OK;

	for (x = 0; x < 2; x++) {
		unsigned vm = x ? t->b : t->a;
		const char *nic = x ? t->nic_b : t->nic_a, *guest = status_get(&snap.status[vm], "guest");
		const char *qemu = status_get(&snap.status[vm], "qemu");
		char sock[STATE_PATH_MAX], id[MV_IFNAME_MAX + 8], err[300];
		const char *names[1] = { id };
		int r;

		if (!*nic || guest || !qemu || !strcmp(qemu, "0"))
			continue;
		if (state_file(sock, dir, snap.vm[vm].name, SF_QMP) < 0 || qmp_nic_id(id, sizeof(id), nic) < 0)
			continue;
		r = qmp_set_links(sock, names, &up, 1, QMP_TIMEOUT_MS, err, sizeof(err));
		if (r == -ENOENT || r == -ECONNREFUSED)
			continue;	/* exited meanwhile: the supervisor sets the new one */
		if (r < 0) {
			fprintf(stderr, "multivm: link: %s:%s: the setting is in place, but its carrier is not: %s\n",
				snap.vm[vm].name, nic, err);
			rc = LINKCMD_FAILED;
		}
	}
	return rc;
}

/* Whether the change may move the state (and so a wire's carrier). */
static bool touches_state(enum link_op op, char *const *words, int n)
{
	int i;

	for (i = 0; op == LINKOP_SET && i < n; i++)
		if (!strncmp(words[i], "state=", 6))
			return true;
	return op == LINKOP_DOWN || op == LINKOP_UP;
}

/* ---- the command ---- */

static int usage(void)
{
	fprintf(stderr, "usage: multivm link [A-B|A->B] [show] [--json]\n"
		"       multivm link A-B|A->B set KEY=VALUE...   (delay jitter distribution loss loss_correlation\n"
		"                                                 corrupt duplicate rate state seed)\n"
		"       multivm link A-B|A->B reset|down|up\n");
	return LINKCMD_USAGE;
}

static int one_link(const char *dir, const char *target, const char *verb, char **words, int n, bool json)
{
	static const char *const ops[] = { [LINKOP_SET] = "set", [LINKOP_RESET] = "reset", [LINKOP_DOWN] = "down",
					   [LINKOP_UP] = "up" };
	const char *names[MV_NODES_MAX];
	struct link_file fa, fb, *f[2];
	struct capture_target t;
	char err[400], a[END_MAX], b[END_MAX];
	bool dirs[2] = { true, true }, show = !strcmp(verb, "show");
	int e[2], rc, op = -1, i;
	unsigned k;

	for (k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
		if (!strcmp(verb, ops[k]))
			op = k;
	if ((!show && op < 0) || (show && n) || (op == LINKOP_SET && !n) || (op > LINKOP_SET && n) || (json && !show))
		return usage();
	for (k = 0; k < snap.nvms; k++)
		names[k] = snap.vm[k].name;
	rc = capture_parse_target(target, names, snap.nvms, &t);
	if (rc == -EINVAL) {
		fprintf(stderr, "multivm: link: '%s' can be split into two ends more than one way\n", target);
		return LINKCMD_USAGE;
	}
	if (rc < 0 || (t.kind != CAPTURE_LINK_BOTH && t.kind != CAPTURE_LINK_ONE)) {
		fprintf(stderr, "multivm: link: '%s' is not a link of the running system (A-B or A->B: two VMs, or "
			"a wire's ends VM:IFNAME)\n", target);
		return LINKCMD_FAILED;
	}
	if (t.kind == CAPTURE_LINK_ONE)
		dirs[1] = false;
	/* Both files locked, in the order the status lists the nodes: two
	 * `multivm link` never wait for each other's second. */
	rc = link_file_open(t.a < t.b ? &fa : &fb, dir, names[t.a < t.b ? t.a : t.b], err, sizeof(err));
	if (rc == 0) {
		rc = link_file_open(t.a < t.b ? &fb : &fa, dir, names[t.a < t.b ? t.b : t.a], err, sizeof(err));
		if (rc < 0)
			link_file_close(t.a < t.b ? &fa : &fb);
	}
	if (rc < 0) {
		fprintf(stderr, "multivm: link: %s\n", err);
		return LINKCMD_FAILED;
	}
	f[0] = &fb;	/* a->b is b's to apply */
	f[1] = &fa;
	rc = link_find(&fa, t.nic_a, &fb, t.nic_b, e, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "multivm: link: %s\n", err);
		rc = LINKCMD_FAILED;
		goto out;
	}
	if (!show) {
		if (link_change(f, e, dirs, op, words, n, err, sizeof(err)) < 0) {
			fprintf(stderr, "multivm: link: %s: %s; nothing changed\n", target, err);
			rc = LINKCMD_USAGE;
			goto out;
		}
		rc = (*t.nic_a || *t.nic_b) && touches_state(op, words, n) ? set_carrier(dir, &t, f, e) : LINKCMD_OK;
	}
	end_str(a, names[t.a], t.nic_a);
	end_str(b, names[t.b], t.nic_b);
	if (json) {
		json_t *arr = json_array();

		put_link(arr, a, b, &f[0]->map->link[e[0]].imp, &f[1]->map->link[e[1]].imp);
		if (print_json(arr) < 0)
			rc = LINKCMD_FAILED;
	} else {
		put_link(NULL, a, b, &f[0]->map->link[e[0]].imp, dirs[1] || show ? &f[1]->map->link[e[1]].imp : NULL);
	}
	i = finish_output();
	if (rc == LINKCMD_OK)
		rc = i;
out:
	link_file_close(&fa);
	link_file_close(&fb);
	return rc;
}

int cmd_link(const char *dir, int argc, char **argv)
{
	const char *target = NULL, *verb = "show";
	bool json = false;
	int i = 1, n;

	if (argc > 1 && !strcmp(argv[argc - 1], "--json")) {
		json = true;
		argc--;
	}
	if (i < argc && strcmp(argv[i], "show") && strcmp(argv[i], "set") && strcmp(argv[i], "reset") &&
	    strcmp(argv[i], "down") && strcmp(argv[i], "up"))
		target = argv[i++];
	if (i < argc)
		verb = argv[i++];
	n = argc - i;
	if (!target && (strcmp(verb, "show") || n))
		return usage();
	if (n > WORDS_MAX)
		return usage();
	if (!state_supervisor(dir) || snapshot_status(dir, &snap) < 0) {
		fprintf(stderr, "multivm: link: no system running in %s\n", dir);
		return LINKCMD_FAILED;
	}
	if (!target)
		return show_all(dir, json);
	return one_link(dir, target, verb, argv + i, n, json);
}
