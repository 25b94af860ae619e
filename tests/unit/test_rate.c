/* Rates for `multivm top`: from two snapshots and the time between them;
 * a counter that went backwards (a reset) never gives a negative or huge
 * rate, and a gauge going down is no reset. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "cli/rate.h"
#include "cli/top_view.h"

static struct snapshot a, b;
static struct rates r;

/* Two VMs with valid counters, all 0, and no links. */
static void vms(struct snapshot *s, const char *n0, const char *n1)
{
	memset(s, 0, sizeof(*s));
	s->nvms = 2;
	strcpy(s->vm[0].name, n0);
	strcpy(s->vm[1].name, n1);
	s->vm[0].valid = s->vm[1].valid = true;
}

static void add_link(struct snapshot *s, unsigned from, unsigned to, uint64_t frames)
{
	struct snap_link *l = &s->link[s->nlinks++];

	l->from = from;
	l->to = to;
	l->peer_valid = true;
	l->c[LINK_FRAMES] = frames;
	l->c[LINK_BYTES] = frames * 60;
	l->c[LINK_UP] = 1;
}

static void test_rate_of(void **state)
{
	double x;

	assert_int_equal(rate_of(100, 300, 2.0, &x), 0);
	assert_true(x == 100.0);
	assert_int_equal(rate_of(5, 5, 0.5, &x), 0);
	assert_true(x == 0.0);
	assert_int_equal(rate_of(300, 100, 2.0, &x), -1);	/* reset */
	assert_true(x == 0.0);
	assert_int_equal(rate_of(UINT64_MAX, 0, 1.0, &x), -1);
	assert_true(x == 0.0);
	assert_int_equal(rate_of(1, 2, 0.0, &x), -1);		/* no time passed */
	assert_int_equal(rate_of(0, INT64_MAX, 1e-9, &x), 0);	/* large, but real */
}

static void test_vm_rates(void **state)
{
	vms(&a, "vm0", "vm1");
	vms(&b, "vm1", "vm0");	/* another order: matched by name */
	a.vm[0].c[VM_TX_FRAMES] = 1000;
	a.vm[0].c[VM_TX_BYTES] = 60000;
	a.vm[0].drop[DROP_NO_LINK] = 4;
	a.vm[0].c[VM_VU_CONNECTED] = 1;
	b.vm[1].c[VM_TX_FRAMES] = 1500;
	b.vm[1].c[VM_TX_BYTES] = 90000;
	b.vm[1].drop[DROP_NO_LINK] = 14;
	b.vm[1].c[VM_VU_CONNECTED] = 0;	/* a gauge going down is no reset */
	rates_compute(&a, &b, 2.0, &r);
	assert_true(r.secs == 2.0);
	assert_int_equal(r.vm[1].state, RATE_OK);
	assert_true(r.vm[1].c[VM_TX_FRAMES] == 250.0);
	assert_true(r.vm[1].c[VM_TX_BYTES] == 15000.0);
	assert_true(r.vm[1].drop[DROP_NO_LINK] == 5.0);
	assert_true(r.vm[1].c[VM_VU_CONNECTED] == 0.0);
	assert_int_equal(r.vm[0].state, RATE_OK);
	assert_true(r.vm[0].c[VM_TX_FRAMES] == 0.0);
}

/* A new stats file (counters back near 0): the row is unknown, all of it. */
static void test_reset(void **state)
{
	vms(&a, "vm0", "vm1");
	vms(&b, "vm0", "vm1");
	a.vm[0].c[VM_TX_FRAMES] = 1000;
	a.vm[0].c[VM_RX_FRAMES] = 10;
	b.vm[0].c[VM_TX_FRAMES] = 20;
	b.vm[0].c[VM_RX_FRAMES] = 30;
	a.vm[1].drop[DROP_SPOOFED] = 9;
	b.vm[1].drop[DROP_SPOOFED] = 2;
	rates_compute(&a, &b, 1.0, &r);
	assert_int_equal(r.vm[0].state, RATE_RESET);
	assert_true(r.vm[0].c[VM_TX_FRAMES] == 0.0 && r.vm[0].c[VM_RX_FRAMES] == 0.0);
	assert_int_equal(r.vm[1].state, RATE_RESET);
	assert_true(r.vm[1].drop[DROP_SPOOFED] == 0.0);
	/* The next interval, from the new values, is known again. */
	a = b;
	b.vm[0].c[VM_TX_FRAMES] = 40;
	rates_compute(&a, &b, 1.0, &r);
	assert_int_equal(r.vm[0].state, RATE_OK);
	assert_true(r.vm[0].c[VM_TX_FRAMES] == 20.0);
}

static void test_new_and_invalid(void **state)
{
	vms(&a, "vm0", "old");
	vms(&b, "vm0", "new");
	a.vm[0].valid = false;
	rates_compute(&a, &b, 1.0, &r);
	assert_int_equal(r.vm[0].state, RATE_NEW);	/* no valid earlier reading */
	assert_int_equal(r.vm[1].state, RATE_NEW);	/* not there before */
	b.vm[1].valid = false;
	rates_compute(&b, &b, 1.0, &r);
	assert_int_equal(r.vm[1].state, RATE_INVALID);
	rates_compute(&b, &b, 0.0, &r);
	assert_int_equal(r.vm[0].state, RATE_NEW);	/* no time: no rate */
}

static void test_link_rates(void **state)
{
	vms(&a, "vm0", "vm1");
	vms(&b, "vm1", "vm0");
	add_link(&a, 0, 1, 100);	/* vm0->vm1 */
	add_link(&a, 1, 0, 500);	/* vm1->vm0 */
	add_link(&b, 0, 1, 800);	/* vm1->vm0 */
	add_link(&b, 1, 0, 400);	/* vm0->vm1 */
	b.link[0].c[LINK_UP] = 0;
	rates_compute(&a, &b, 4.0, &r);
	assert_int_equal(r.link[1].state, RATE_OK);
	assert_true(r.link[1].c[LINK_FRAMES] == 75.0);
	assert_true(r.link[1].c[LINK_BYTES] == 4500.0);
	assert_int_equal(r.link[0].state, RATE_OK);	/* up 1 -> 0 is no reset */
	assert_true(r.link[0].c[LINK_FRAMES] == 75.0);
	b.link[1].drop[DROP_QUEUE_FULL] = 3;
	a.link[0].drop[DROP_QUEUE_FULL] = 4;
	rates_compute(&a, &b, 4.0, &r);
	assert_int_equal(r.link[1].state, RATE_RESET);
	b.nlinks = 1;
	a.nlinks = 0;
	rates_compute(&a, &b, 4.0, &r);
	assert_int_equal(r.link[0].state, RATE_NEW);
}

/* The batch report: a known rate, and a reset row shown as "-". */
static void test_render(void **state)
{
	char buf[4096] = "";
	FILE *f;

	vms(&a, "vm0", "vm1");
	vms(&b, "vm0", "vm1");
	add_link(&a, 0, 1, 100);
	add_link(&b, 0, 1, 150);
	a.vm[1].c[VM_TX_FRAMES] = 9;
	b.vm[0].drop[DROP_QUEUE_FULL] = 2;
	b.vm[0].c[VM_BUSY_NS] = 125000000;	/* an eighth of the second */
	rates_compute(&a, &b, 1.0, &r);
	f = fmemopen(buf, sizeof(buf) - 1, "w");
	top_render(f, "/run/mv", &b, &r);
	fclose(f);
	assert_non_null(strstr(buf, "\nvm0                  disc       0.0           0       0.0           0  12.5       2.0"
				    "  queue_full=2.0\n"));
	assert_non_null(strstr(buf, "\nvm1                  disc         -           -         -           -     -         -"
				    "  (counters reset)\n"));
	assert_non_null(strstr(buf, "\nvm0->vm1             up        50.0        3000       0.0           0       0.0\n"));
	assert_null(strchr(buf, '\033'));	/* plain text */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate_of),
		cmocka_unit_test(test_vm_rates),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_new_and_invalid),
		cmocka_unit_test(test_link_rates),
		cmocka_unit_test(test_render),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
