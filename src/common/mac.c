#include "common/mac.h"

#include <stdio.h>

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* By hand rather than sscanf: "%2x" also takes " a", "+a" and "0xa". */
int mac_parse(const char *s, uint8_t mac[ETH_ALEN])
{
	uint8_t out[ETH_ALEN];
	int i;

	for (i = 0; i < ETH_ALEN; i++) {
		const char *p = s + 3 * i;
		int hi = hexval(p[0]), lo = hi < 0 ? -1 : hexval(p[1]);

		if (lo < 0 || p[2] != (i == ETH_ALEN - 1 ? '\0' : ':'))
			return -1;
		out[i] = hi << 4 | lo;
	}
	for (i = 0; i < ETH_ALEN; i++)
		mac[i] = out[i];
	return 0;
}

char *mac_format(char out[MAC_STR_LEN], const uint8_t m[ETH_ALEN])
{
	snprintf(out, MAC_STR_LEN, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return out;
}
