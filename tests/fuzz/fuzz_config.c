/* Fuzz target: the config parser on arbitrary text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config c;
	static char text[65536];
	char err[CFG_ERR_MAX];

	if (size >= sizeof(text))
		size = sizeof(text) - 1;
	memcpy(text, data, size);
	text[size] = 0;
	config_load_string(&c, text, "fuzz.ini", err, sizeof(err));
	return 0;
}
