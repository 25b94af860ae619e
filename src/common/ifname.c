/* See ifname.h. */
#include "common/ifname.h"

#include <string.h>

bool ifname_valid(const char *s, size_t max)
{
	size_t n = strnlen(s, max), i;

	if (n == 0 || n >= max || n >= MV_IFNAME_MAX || s[0] < 'a' || s[0] > 'z' || !strcmp(s, "lo"))
		return false;
	for (i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}
