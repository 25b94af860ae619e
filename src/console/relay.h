/* The user's side of a serial console: raw terminal mode (restored on
 * every way out) and the escapes typed right after Return:
 *   Return @ N   switch to VM N (0-9, then a-f for 10-15)
 *   Return @ # N Return   switch to VM N, in decimal (any of 64: @#42)
 *   Return @ ?   list the VMs
 *   Return ~ .   leave
 *   Return ~ ~ / Return @ @   send one ~ / @
 * Anything else is passed through unchanged, so typing is never eaten. */
#ifndef MULTIVM_RELAY_H
#define MULTIVM_RELAY_H

#include <stdbool.h>
#include <stddef.h>

#define RELAY_DIGITS	3	/* @ # N: at most 999, enough for MV_NODES_MAX */

enum relay_event { RELAY_NONE, RELAY_QUIT, RELAY_SWITCH, RELAY_LIST };

/* Where in a terminal escape sequence the input is. */
enum relay_esc { RELAY_ESC_NONE, RELAY_ESC_SEEN, RELAY_ESC_CSI };

struct relay {
	bool line_start;	/* the last key was Return (or nothing yet) */
	char pending;		/* '~' or '@' typed right after Return; '#' after @ # */
	char digits[RELAY_DIGITS];	/* after @ #: the index typed so far */
	unsigned ndigits;
	enum relay_esc esc;	/* inside a terminal escape sequence: after ESC, in CSI */
};

/* Puts fd (a terminal) in raw mode; relay_restore() puts it back, and is
 * also run at exit and on fatal signals. No-op if fd is not a tty. */
int relay_raw(int fd);
void relay_restore(void);

void relay_init(struct relay *r);

/* Consumes input up to the end or the first escape. Bytes for the guest go
 * to out (room for 2n + RELAY_DIGITS + 2: keys held back for an escape
 * that turns out not to be one are released at once) with *outlen set; *ev says which escape ended the
 * scan, an enum relay_event (*vm: the index for RELAY_SWITCH). Returns
 * bytes consumed: call again with the rest. */
size_t relay_input(struct relay *r, const char *in, size_t n, char *out, size_t *outlen,
		   enum relay_event *ev, int *vm);

#endif
