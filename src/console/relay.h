/* Relaying one VM's serial console to the user's terminal: raw mode,
 * restoring the terminal on every way out, and the escape sequence
 * Return ~ . (like ssh) that leaves. */
#ifndef MULTIVM_RELAY_H
#define MULTIVM_RELAY_H

#include <stdbool.h>
#include <stddef.h>

struct relay {
	int state;	/* where we are in Return ~ . */
};

/* Puts fd (a terminal) in raw mode; the saved mode is restored by
 * relay_restore(), at exit and on fatal signals. No-op if not a tty. */
int relay_raw(int fd);
void relay_restore(void);

void relay_init(struct relay *r);

/* Filters n input bytes into out (room for 2n): Return ~ . sets *quit and
 * is not forwarded; "~~" after Return sends one "~". Returns bytes to send. */
size_t relay_input(struct relay *r, const char *in, size_t n, char *out, bool *quit);

#endif
