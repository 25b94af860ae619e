#ifndef MULTIVM_COMMON_ERRBUF_H
#define MULTIVM_COMMON_ERRBUF_H

#include <stddef.h>

/* Deep code fills the caller's error buffer and returns; only the edge
 * prints. errf() formats into err (always terminated) and returns -1 so a
 * failure reads `return errf(err, errlen, "...", ...);`. */
int errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
