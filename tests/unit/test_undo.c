/* apply's undo list (src/cli/undo.h): the steps done undone the last
 * first, each once, on past one that fails; a full list refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli/undo.h"

static char order[64];

static int undo_one(void *ctx, const struct undo_step *s)
{
	size_t n = strlen(order);

	(void)ctx;
	order[n] = (char)(s->kind == UNDO_SUPERVISOR ? 'S' : '0' + s->arg);
	order[n + 1] = 0;
	return s->arg == 2 ? -1 : 0;
}

static void test_reverse(void **st)
{
	static struct undo_list u;

	(void)st;
	memset(&u, 0, sizeof(u));
	order[0] = 0;
	assert_int_equal(undo_run(&u, undo_one, NULL), 0);	/* nothing done: nothing undone */
	assert_string_equal(order, "");
	assert_int_equal(undo_push(&u, UNDO_LINK, 1), 0);
	assert_int_equal(undo_push(&u, UNDO_LINK, 2), 0);
	assert_int_equal(undo_push(&u, UNDO_LINK, 3), 0);
	assert_int_equal(undo_push(&u, UNDO_SUPERVISOR, 0), 0);
	assert_int_equal(undo_run(&u, undo_one, NULL), 1);	/* link 2 fails: the others still undone */
	assert_string_equal(order, "S321");
	assert_int_equal(u.n, 0);
	order[0] = 0;
	assert_int_equal(undo_run(&u, undo_one, NULL), 0);	/* each once */
	assert_string_equal(order, "");
}

static void test_full(void **st)
{
	static struct undo_list u;
	unsigned i;

	(void)st;
	memset(&u, 0, sizeof(u));
	for (i = 0; i < UNDO_STEPS_MAX; i++)
		assert_int_equal(undo_push(&u, UNDO_LINK, 0), 0);
	assert_int_equal(undo_push(&u, UNDO_LINK, 0), -1);
	assert_int_equal(u.n, UNDO_STEPS_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reverse),
		cmocka_unit_test(test_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
