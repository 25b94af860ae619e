/* `multivm console VM`: attaches this terminal to the multiplexer of a
 * running system (STATE/console.sock). Escapes are handled by the
 * supervisor; Return ~ . detaches, leaving the system running. */
#ifndef MULTIVM_CLIENT_H
#define MULTIVM_CLIENT_H

/* Returns the exit status: 0 after detaching, 1 on error. */
int console_attach(const char *sock_path, const char *vm);

#endif
