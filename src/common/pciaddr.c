/* PCI address parsing. See pciaddr.h. */
#include "common/pciaddr.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Digit count and separator after each field of DDDD:BB:DD.F. */
static const struct {
	unsigned digits;
	char sep;
} bdf_fields[] = { { 4, ':' }, { 2, ':' }, { 2, '.' }, { 1, 0 } };

int pci_bdf_parse(const char *s, struct pci_bdf *out)
{
	unsigned v[4], f, i;

	for (f = 0; f < 4; f++) {
		v[f] = 0;
		for (i = 0; i < bdf_fields[f].digits; i++, s++) {
			if (!isxdigit((unsigned char)*s))
				return -1;
			v[f] = v[f] * 16 + (isdigit((unsigned char)*s) ? *s - '0' : (tolower((unsigned char)*s) - 'a' + 10));
		}
		if (*s++ != bdf_fields[f].sep)
			return -1;
	}
	if (v[2] >= 32 || v[3] >= 8)
		return -1;
	*out = (struct pci_bdf){ v[0], v[1], v[2], v[3] };
	return 0;
}

/* A number in C notation, after blanks; no sign (strtoull alone would
 * take "-1" for 2^64 - 1). */
static int number(const char **s, uint64_t *v)
{
	char *end;

	*s += strspn(*s, " \t");
	if (!isdigit((unsigned char)**s))
		return -1;
	errno = 0;
	*v = strtoull(*s, &end, 0);
	if (errno)
		return -1;
	*s = end;
	return 0;
}

int addr_ranges_parse(const char *s, struct addr_range *out, unsigned max)
{
	unsigned n = 0;

	for (;;) {
		uint64_t a, size;

		if (number(&s, &a) < 0 || *s++ != '/' || number(&s, &size) < 0 || size == 0 || a + size < a)
			return -1;
		if (out && n < max)
			out[n] = (struct addr_range){ a, size };
		if (n++ == INT32_MAX)
			return -1;
		while (*s == ' ')
			s++;
		if (*s == 0)
			return n;
		if (*s++ != ',')
			return -1;
		while (*s == ' ')
			s++;
	}
}

int addr_ranges_format(const struct addr_range *r, unsigned n, char *buf, size_t len)
{
	size_t used = 0;
	unsigned i;

	if (len == 0)
		return -1;
	buf[0] = 0;
	for (i = 0; i < n; i++) {
		int w = snprintf(buf + used, len - used, "%s0x%llx/0x%llx", i ? "," : "",
				 (unsigned long long)r[i].addr, (unsigned long long)r[i].size);

		if (w < 0 || (size_t)w >= len - used)
			return -1;
		used += w;
	}
	return 0;
}
