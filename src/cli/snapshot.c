/* One reading of a running system's state directory, as status, stats, top and
 * capture use it (see snapshot.h). */
#include "cli/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor/state.h"
#include "supervisor/statefiles.h"

/* A counter; a gauge; a counter that also needs the receiving VM's. */
#define COUNTER(k, m, h) { .key = k, .metric = m, .help = h }
#define GAUGE(k, m, h) { .key = k, .metric = m, .help = h, .gauge = true }
#define PEER(k, m, h) { .key = k, .metric = m, .help = h, .needs_peer = true }

const struct counter_desc vm_counter_desc[VM__N] = {
	[VM_TX_FRAMES] = COUNTER("tx_frames", "tx_frames_total", "Frames taken from the guest's TX queue."),
	[VM_TX_BYTES] = COUNTER("tx_bytes", "tx_bytes_total", "Bytes taken from the guest's TX queue."),
	[VM_RX_FRAMES] = COUNTER("rx_frames", "rx_frames_total", "Frames put in the guest's RX queue."),
	[VM_RX_BYTES] = COUNTER("rx_bytes", "rx_bytes_total", "Bytes put in the guest's RX queue."),
	[VM_VQ_ERRORS] = COUNTER("vq_errors", "vq_errors_total", "Guest queues stopped as malformed."),
	[VM_VU_BAD_MESSAGES] = COUNTER("vu_bad_messages", "vu_bad_messages_total",
				       "Malformed vhost-user messages from the frontend."),
	[VM_VU_ACCEPT_ERRORS] = COUNTER("vu_accept_errors", "vu_accept_errors_total",
					"Times the VMM could not accept a frontend (out of fds or memory)."),
	[VM_VU_PEER_REFUSED] = COUNTER("vu_peer_refused", "vu_peer_refused_total",
				       "Connections to the VM's sockets from a process not its frontend, refused."),
	[VM_VU_CONNECTED] = GAUGE("vu_connected", "vu_connected", "1 while a vhost-user frontend is connected."),
	[VM_VMM_STARTS] = COUNTER("vmm_starts", "vmm_starts_total", "Times a VMM attached to these counters."),
	[VM_TX_OFFLOAD] = COUNTER("tx_offload_frames", "tx_offload_frames_total",
				  "Guest TX frames with checksum or segmentation offload metadata."),
	[VM_TX_TSO] = COUNTER("tx_tso_frames", "tx_tso_frames_total", "TSO frames put whole on a link."),
	[VM_RX_TSO] = COUNTER("rx_tso_frames", "rx_tso_frames_total", "TSO frames passed whole to the guest."),
	[VM_SEG_FRAMES] = COUNTER("seg_frames", "seg_frames_total",
				  "TSO frames the VMM segmented in software for the guest."),
	[VM_SEG_SEGMENTS] = COUNTER("seg_segments", "seg_segments_total",
				    "Segments the VMM cut from TSO frames and delivered."),
	[VM_CSUM_COMPLETED] = COUNTER("csum_completed", "csum_completed_total",
				      "Frames whose partial checksum the VMM completed in software."),
	[VM_BUSY_NS] = COUNTER("vmm_busy_ns", "vmm_busy_nanoseconds_total",
			       "Wall time the VMM spent working, outside its waits and yields."),
	[VM_YIELDS] = COUNTER("vmm_yields", "vmm_yields_total",
			      "Times the VMM let other tasks on its core run first while frames streamed."),
	[VM_SLEEPS] = COUNTER("vmm_sleeps", "vmm_sleeps_total",
			      "Times the VMM ran out of work and waited for a doorbell, message or timer."),
	[VM_HANDOFF_REFUSED] = COUNTER("handoff_refused", "handoff_refused_total",
				       "Links handed to the running VMM (multivm apply) that it refused."),
	[VM_REMOTE_DOWN] = COUNTER("remote_down", "remote_down_total",
				   "A tunnel: times its remote multivm tunnel fell silent (no heartbeat for 2 s)."),
};

const struct counter_desc link_counter_desc[LINK__N] = {
	[LINK_FRAMES] = COUNTER("frames", "tx_frames_total", "Frames the sending VMM put on the link."),
	[LINK_BYTES] = COUNTER("bytes", "tx_bytes_total", "Bytes the sending VMM put on the link."),
	[LINK_DELIVERED] = PEER("delivered", "delivered_frames_total",
				"Frames the receiving VMM took off the link for its guest."),
	[LINK_DELIVERED_BYTES] = PEER("delivered_bytes", "delivered_bytes_total",
				      "Bytes the receiving VMM took off the link for its guest."),
	[LINK_KICKS] = COUNTER("kicks", "kicks_total", "Doorbells the sending VMM rang."),
	[LINK_WAIT_MS] = COUNTER("tx_wait_ms", "tx_wait_milliseconds_total",
				 "Milliseconds the sending guest's frames waited for room on the link."),
	[LINK_ERRORS] = PEER("errors", "errors_total", "Protocol violations seen on the link by either end."),
	[LINK_UP] = GAUGE("up", "up", "1 while the link's queues run at both ends."),
	[LINK_HELD] = { .key = "held", .metric = "held_frames", .gauge = true, .needs_peer = true,
			.help = "Frames on the link waiting out an impairment's delay or rate." },
	[LINK_DUPLICATED] = PEER("duplicated", "duplicated_frames_total",
				 "Frames an impaired link delivered twice."),
	[LINK_CORRUPTED] = PEER("corrupted", "corrupted_frames_total",
				"Frames an impaired link delivered with a bit flipped."),
};

static const char *const state_words[] = { "up", "down", NULL };
static const char *const dist_words[] = { "uniform", "normal", NULL };

const struct setting_desc link_setting_desc[LSET__N] = {
	[LSET_STATE] = { "state", "state", "The link direction's state: down drops every frame (multivm link down).",
			 state_words },
	[LSET_DELAY] = { "delay_us", "delay_microseconds", "Delay every frame waits on the link direction.", NULL },
	[LSET_JITTER] = { "jitter_us", "jitter_microseconds",
			  "Jitter added to the delay (uniform: up to this; normal: this sigma).", NULL },
	[LSET_DIST] = { "distribution", "jitter_distribution", "The jitter's distribution.", dist_words },
	[LSET_LOSS] = { "loss_ppm", "loss_ppm", "Frames lost at random, in parts per million.", NULL },
	[LSET_LOSS_CORR] = { "loss_correlation_ppm", "loss_correlation_ppm",
			     "Chance a frame repeats the last one's loss draw, in parts per million.", NULL },
	[LSET_CORRUPT] = { "corrupt_ppm", "corrupt_ppm", "Frames delivered with a bit flipped, in parts per million.", NULL },
	[LSET_DUPLICATE] = { "duplicate_ppm", "duplicate_ppm", "Frames delivered twice, in parts per million.", NULL },
	[LSET_RATE] = { "rate_bps", "rate_bits_per_second", "The link direction's shaper rate; 0: none.", NULL },
	[LSET_SEED] = { "seed", "seed", "The seed its random draws restart from at each change; 0: none.", NULL },
};

uint64_t snapshot_setting(const struct link_imp *imp, enum link_setting k)
{
	switch (k) {
	case LSET_STATE: return imp->down != 0;
	case LSET_DELAY: return imp->delay_us;
	case LSET_JITTER: return imp->jitter_us;
	case LSET_DIST: return imp->dist == LINKCTL_NORMAL;
	case LSET_LOSS: return imp->loss_ppm;
	case LSET_LOSS_CORR: return imp->loss_corr_ppm;
	case LSET_CORRUPT: return imp->corrupt_ppm;
	case LSET_DUPLICATE: return imp->duplicate_ppm;
	case LSET_RATE: return imp->rate_bps > INT64_MAX ? INT64_MAX : imp->rate_bps;
	case LSET_SEED: return imp->seed;
	case LSET__N: break;
	}
	return 0;
}

/* Opens a regular file read-only without ever blocking (a FIFO put in
 * place of a state file must not hang the reader). */
static int open_regular(const char *path)
{
	struct stat sb;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

int snapshot_status(const char *dir, struct snapshot *s)
{
	char p[STATE_PATH_MAX], line[STATUS_LINE_MAX];
	FILE *f;
	int fd;

	s->nvms = s->nlinks = s->ndirs = 0;
	if (state_file(p, dir, NULL, SF_STATUS) < 0)
		return -ENAMETOOLONG;
	fd = open_regular(p);
	if (fd < 0)
		return fd;
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	while (s->nvms < MV_NODES_MAX && fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);

		if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
			int c;
			char *cut = strrchr(line, ' ');

			if (cut)	/* keep whole words only */
				*cut = 0;
			while ((c = getc(f)) != EOF && c != '\n')
				;
		}
		if (status_parse_line(line, &s->status[s->nvms]) < 0)
			continue;
		memcpy(s->vm[s->nvms].name, status_name(&s->status[s->nvms]), MV_NAME_MAX);
		s->nvms++;
	}
	fclose(f);
	return 0;
}

/* -EPROTONOSUPPORT: a stats file of another version (*version). */
static int read_stats(const char *dir, const char *name, struct vm_stats *st, uint32_t *version)
{
	char p[STATE_PATH_MAX];
	int fd;
	ssize_t n;

	if (state_file(p, dir, name, SF_STATS) < 0)
		return -ENAMETOOLONG;
	fd = open_regular(p);
	if (fd < 0)
		return fd;
	n = pread(fd, st, sizeof(*st), 0);
	close(fd);
	/* The magic and version come first in every version's layout. */
	if (n >= (ssize_t)offsetof(struct vm_stats, nlinks) && st->magic == STATS_MAGIC &&
	    st->version != STATS_VERSION) {
		*version = st->version;
		return -EPROTONOSUPPORT;
	}
	if (n != (ssize_t)sizeof(*st) || st->magic != STATS_MAGIC || st->nlinks > MV_NODE_LINKS_MAX)
		return -EINVAL;
	return 0;
}

/* The other end of link record out of VM name: the record of st whose
 * peer is name and whose NICs are out's the other way round (a segment
 * link and wires may join the same two VMs). */
static const struct link_stats *other_end(const struct vm_stats *st, const char *name, const struct link_stats *out)
{
	unsigned i;

	for (i = 0; st && i < st->nlinks && i < MV_NODE_LINKS_MAX; i++) {
		const struct link_stats *l = &st->link[i];

		if (strncmp(l->peer, name, MV_NAME_MAX) == 0 && strncmp(l->nic, out->peer_nic, MV_IFNAME_MAX) == 0 &&
		    strncmp(l->peer_nic, out->nic, MV_IFNAME_MAX) == 0)
			return l;
	}
	return NULL;
}

/* A NIC name from a counters file: cut to its size, never unterminated. */
static void nic_name(char out[MV_IFNAME_MAX], const char *in)
{
	snprintf(out, MV_IFNAME_MAX, "%.*s", MV_IFNAME_MAX - 1, in);
}

/* Every output format can carry a count up to INT64_MAX exactly. */
static uint64_t cap(uint64_t v)
{
	return v > INT64_MAX ? INT64_MAX : v;
}

static void fill_vm(struct snap_vm *v, const struct vm_stats *st)
{
	int r;

	v->valid = st != NULL;
	memset(v->c, 0, sizeof(v->c));
	memset(v->drop, 0, sizeof(v->drop));
	if (!st)
		return;
	v->c[VM_TX_FRAMES] = cap(st->guest_tx_frames);
	v->c[VM_TX_BYTES] = cap(st->guest_tx_bytes);
	v->c[VM_RX_FRAMES] = cap(st->guest_rx_frames);
	v->c[VM_RX_BYTES] = cap(st->guest_rx_bytes);
	v->c[VM_VQ_ERRORS] = cap(st->vq_errors);
	v->c[VM_VU_BAD_MESSAGES] = cap(st->vu_bad_messages);
	v->c[VM_VU_ACCEPT_ERRORS] = st->vu_accept_errors;
	v->c[VM_VU_PEER_REFUSED] = cap(st->vu_peer_refused);
	v->c[VM_HANDOFF_REFUSED] = cap(st->handoff_refused);
	v->c[VM_VU_CONNECTED] = st->vu_connected;
	v->c[VM_VMM_STARTS] = cap(st->vmm_starts);
	v->c[VM_TX_OFFLOAD] = cap(st->tx_offload_frames);
	v->c[VM_TX_TSO] = cap(st->tx_tso_frames);
	v->c[VM_RX_TSO] = cap(st->rx_tso_frames);
	v->c[VM_SEG_FRAMES] = cap(st->seg_frames);
	v->c[VM_SEG_SEGMENTS] = cap(st->seg_segments);
	v->c[VM_CSUM_COMPLETED] = cap(st->csum_completed);
	v->c[VM_BUSY_NS] = cap(st->vmm_busy_ns);
	v->c[VM_YIELDS] = cap(st->vmm_yields);
	v->c[VM_SLEEPS] = cap(st->vmm_sleeps);
	v->c[VM_REMOTE_DOWN] = st->remote_down;
	for (r = 0; r < DROP__MAX; r++)
		v->drop[r] = cap(st->drop[r]);
}

static void fill_link(struct snap_link *l, const struct link_stats *out, const struct link_stats *in)
{
	int r;

	l->c[LINK_FRAMES] = cap(out->tx_frames);
	l->c[LINK_BYTES] = cap(out->tx_bytes);
	l->c[LINK_DELIVERED] = in ? cap(in->rx_frames) : 0;
	l->c[LINK_DELIVERED_BYTES] = in ? cap(in->rx_bytes) : 0;
	l->c[LINK_KICKS] = cap(out->kicks_sent);
	l->c[LINK_WAIT_MS] = out->tx_wait_ms;
	l->c[LINK_ERRORS] = cap(cap(out->errors) + (in ? cap(in->errors) : 0));
	l->c[LINK_UP] = out->up && (!in || in->up);
	l->c[LINK_HELD] = in ? in->held : 0;
	l->c[LINK_DUPLICATED] = in ? cap(in->rx_duplicated) : 0;
	l->c[LINK_CORRUPTED] = in ? cap(in->rx_corrupted) : 0;
	for (r = 0; r < DROP__MAX; r++)
		l->drop[r] = cap(out->drop[r]);
	/* The impairments of a direction act at its receiving end. */
	if (in) {
		l->drop[DROP_IMPAIRED] = cap(in->rx_impaired);
		l->drop[DROP_LINK_DOWN] = cap(l->drop[DROP_LINK_DOWN] + cap(in->rx_link_down));
	}
}

void snapshot_fill(struct snapshot *s, const struct vm_stats *const raw[])
{
	unsigned i, k;

	s->nlinks = 0;
	for (i = 0; i < s->nvms; i++)
		fill_vm(&s->vm[i], raw[i]);
	/* Each VM's link records in its own order: the segment's by peer,
	 * then its wires'. */
	for (i = 0; i < s->nvms; i++)
		for (k = 0; raw[i] && k < raw[i]->nlinks && k < MV_NODE_LINKS_MAX; k++) {
			const struct link_stats *out = &raw[i]->link[k];
			struct snap_link *l = &s->link[s->nlinks];
			char peer[MV_NAME_MAX];
			int j;

			snprintf(peer, sizeof(peer), "%.*s", MV_NAME_MAX - 1, out->peer);
			j = snapshot_vm(s, peer);
			if (j < 0 || (unsigned)j == i || s->nlinks >= sizeof(s->link) / sizeof(s->link[0]))
				continue;
			l->from = i;
			l->to = j;
			nic_name(l->from_nic, out->nic);
			nic_name(l->to_nic, out->peer_nic);
			l->peer_valid = raw[j] != NULL;
			l->dir = -1;
			fill_link(l, out, other_end(raw[j], s->vm[i].name, out));
			s->nlinks++;
		}
}

const char *snapshot_link_name(const struct snapshot *s, const struct snap_link *l, char *out, size_t len)
{
	if (l->from_nic[0] || l->to_nic[0])
		snprintf(out, len, "%s:%s->%s%s%s", s->vm[l->from].name, l->from_nic, s->vm[l->to].name,
			 l->to_nic[0] ? ":" : "", l->to_nic);
	else
		snprintf(out, len, "%s->%s", s->vm[l->from].name, s->vm[l->to].name);
	return out;
}

const char *snapshot_dir_name(const struct snapshot *s, const struct snap_dir *d, char *out, size_t len)
{
	if (d->from_nic[0] || d->to_nic[0])
		snprintf(out, len, "%s:%s->%s%s%s", s->vm[d->from].name, d->from_nic, s->vm[d->to].name,
			 d->to_nic[0] ? ":" : "", d->to_nic);
	else
		snprintf(out, len, "%s->%s", s->vm[d->from].name, s->vm[d->to].name);
	return out;
}

/* Whether the fixed-size field f holds exactly want. */
static bool field_is(const char *f, size_t size, const char *want)
{
	size_t n = strlen(want);

	return n < size && memcmp(f, want, n) == 0 && f[n] == 0;
}

void snapshot_fill_ctl(struct snapshot *s, const struct linkctl *const ctl[])
{
	unsigned i, j, k, r, n;

	s->ndirs = 0;
	/* By sender, then receiver: direction i->j is j's entry naming i,
	 * whose NICs are j's and i's; only j's file is needed. */
	for (i = 0; i < s->nvms; i++)
		for (j = 0; j < s->nvms; j++) {
			n = !ctl[j] || i == j ? 0 : ctl[j]->nlinks < MV_NODE_LINKS_MAX ? ctl[j]->nlinks : MV_NODE_LINKS_MAX;
			for (r = 0; r < n && s->ndirs < sizeof(s->dir) / sizeof(s->dir[0]); r++) {
				const struct linkctl_entry *e = &ctl[j]->link[r];
				struct snap_dir *d = &s->dir[s->ndirs];

				if (!field_is(e->peer, sizeof(e->peer), s->vm[i].name) ||
				    !memchr(e->nic, 0, sizeof(e->nic)) || !memchr(e->peer_nic, 0, sizeof(e->peer_nic)))
					continue;
				*d = (struct snap_dir){ .from = i, .to = j, .imp = e->imp };
				nic_name(d->from_nic, e->peer_nic);
				nic_name(d->to_nic, e->nic);
				s->ndirs++;
			}
		}
	for (k = 0; k < s->nlinks; k++) {
		struct snap_link *l = &s->link[k];

		l->dir = -1;
		for (r = 0; r < s->ndirs && l->dir < 0; r++)
			if (s->dir[r].from == l->from && s->dir[r].to == l->to && !strcmp(s->dir[r].from_nic, l->from_nic) &&
			    !strcmp(s->dir[r].to_nic, l->to_nic))
				l->dir = (int)r;
	}
}

void snapshot_ctl(const char *dir, struct snapshot *s)
{
	static struct linkctl ctl[MV_NODES_MAX];
	const struct linkctl *p[MV_NODES_MAX];
	char path[STATE_PATH_MAX];
	unsigned i;

	for (i = 0; i < s->nvms; i++) {
		int fd, rc = -ENAMETOOLONG;

		p[i] = NULL;
		if (state_file(path, dir, s->vm[i].name, SF_CTL) == 0) {
			fd = open_regular(path);
			rc = fd < 0 ? fd : statefiles_ctl_read(fd, &ctl[i]);
			if (fd >= 0)
				close(fd);
		}
		if (rc == 0)
			p[i] = &ctl[i];
		else if (rc != -ENOENT)	/* a node not started yet has none */
			fprintf(stderr, "multivm: %s: no link settings: %s\n", s->vm[i].name,
				rc == -EPROTO ? "not a link control file of this version" : strerror(-rc));
	}
	snapshot_fill_ctl(s, p);
}

int snapshot_read(const char *dir, struct snapshot *s)
{
	static struct vm_stats st[MV_NODES_MAX];
	const struct vm_stats *raw[MV_NODES_MAX];
	uint32_t version[MV_NODES_MAX] = { 0 };
	unsigned i;
	int rc = snapshot_status(dir, s);

	if (rc < 0)
		return rc;
	for (i = 0; i < s->nvms; i++)
		raw[i] = read_stats(dir, s->vm[i].name, &st[i], &version[i]) < 0 ? NULL : &st[i];
	snapshot_fill(s, raw);
	for (i = 0; i < s->nvms; i++)
		s->vm[i].version = version[i];
	return 0;
}

int snapshot_vm(const struct snapshot *s, const char *name)
{
	unsigned i;

	for (i = 0; i < s->nvms; i++)
		if (strcmp(s->vm[i].name, name) == 0)
			return i;
	return -1;
}
