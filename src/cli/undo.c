#include "cli/undo.h"

int undo_push(struct undo_list *u, enum undo_kind kind, unsigned arg)
{
	if (u->n >= UNDO_STEPS_MAX)
		return -1;
	u->step[u->n++] = (struct undo_step){ .kind = kind, .arg = arg };
	return 0;
}

unsigned undo_run(struct undo_list *u, undo_fn fn, void *ctx)
{
	unsigned failed = 0;

	while (u->n > 0)
		if (fn(ctx, &u->step[--u->n]) < 0)
			failed++;
	return failed;
}
