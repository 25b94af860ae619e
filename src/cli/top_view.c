#include "cli/top_view.h"

#include <time.h>

static void rate_cols(FILE *f, enum rate_state st, const double *c, const int *cols, int n)
{
	int k;

	for (k = 0; k < n; k++)
		if (st == RATE_OK)
			fprintf(f, " %*.*f", k % 2 ? 11 : 9, k % 2 ? 0 : 1, c[cols[k]]);
		else
			fprintf(f, " %*s", k % 2 ? 11 : 9, "-");
}

/* Total drops/s, then each reason with a non-zero rate, or why unknown. */
static void drop_cols(FILE *f, enum rate_state st, const double *d)
{
	static const char *const why[] = {
		[RATE_NEW] = "(first reading)", [RATE_INVALID] = "(no valid counters)",
		[RATE_RESET] = "(counters reset)",
	};
	double total = 0;
	int r;

	if (st != RATE_OK) {
		fprintf(f, " %9s  %s\n", "-", why[st]);
		return;
	}
	for (r = 0; r < DROP__MAX; r++)
		total += d[r];
	fprintf(f, " %9.1f", total);
	for (r = 0; r < DROP__MAX; r++)
		if (d[r] > 0)
			fprintf(f, "  %s=%.1f", drop_reason_name(r), d[r]);
	fputc('\n', f);
}

/* How much of a CPU the VMM kept busy, in per cent. */
static void busy_col(FILE *f, enum rate_state st, const double *c)
{
	if (st == RATE_OK)
		fprintf(f, " %5.1f", c[VM_BUSY_NS] / 1e7);
	else
		fprintf(f, " %5s", "-");
}

static void vms(FILE *f, const struct snapshot *s, const struct rates *r)
{
	static const int cols[] = { VM_TX_FRAMES, VM_TX_BYTES, VM_RX_FRAMES, VM_RX_BYTES };
	unsigned i;

	fprintf(f, "%-20s %-4s %9s %11s %9s %11s %5s %9s  %s\n", "VM", "vu", "tx_fr/s", "tx_B/s", "rx_fr/s",
		"rx_B/s", "vmm%", "drop/s", "drops/s by reason");
	for (i = 0; i < s->nvms; i++) {
		fprintf(f, "%-20s %-4s", s->vm[i].name,
			!s->vm[i].valid ? "-" : s->vm[i].c[VM_VU_CONNECTED] ? "conn" : "disc");
		rate_cols(f, r->vm[i].state, r->vm[i].c, cols, 4);
		busy_col(f, r->vm[i].state, r->vm[i].c);
		drop_cols(f, r->vm[i].state, r->vm[i].drop);
	}
}

static void links(FILE *f, const struct snapshot *s, const struct rates *r)
{
	static const int cols[] = { LINK_FRAMES, LINK_BYTES, LINK_DELIVERED, LINK_DELIVERED_BYTES };
	char name[2 * (MV_NAME_MAX + MV_IFNAME_MAX) + 4];
	unsigned i;

	fprintf(f, "%-20s %-4s %9s %11s %9s %11s %9s  %s\n", "LINK", "link", "fr/s", "B/s", "dlv_fr/s",
		"dlv_B/s", "drop/s", "drops/s by reason");
	for (i = 0; i < s->nlinks; i++) {
		const struct snap_link *l = &s->link[i];

		snapshot_link_name(s, l, name, sizeof(name));
		fprintf(f, "%-20s %-4s", name, l->c[LINK_UP] ? "up" : "down");
		rate_cols(f, r->link[i].state, r->link[i].c, cols, 4);
		drop_cols(f, r->link[i].state, r->link[i].drop);
	}
}

void top_render(FILE *f, const char *dir, const struct snapshot *s, const struct rates *r)
{
	char when[16] = "";
	time_t t = time(NULL);
	struct tm tm;

	if (localtime_r(&t, &tm))
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
	fprintf(f, "multivm top  %s  %u VM%s, %u link direction%s, rates over %.1f s  %s\n", dir, s->nvms,
		s->nvms == 1 ? "" : "s", s->nlinks, s->nlinks == 1 ? "" : "s", r->secs, when);
	vms(f, s, r);
	fputc('\n', f);
	links(f, s, r);
}
