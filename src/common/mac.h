/* Ethernet MAC addresses as text: one parser and one formatter for every
 * place that reads or writes them (config, the VMM's command line, QEMU's,
 * capture output). The text form is exactly aa:bb:cc:dd:ee:ff. */
#ifndef MULTIVM_MAC_H
#define MULTIVM_MAC_H

#include <net/ethernet.h>	/* ETH_ALEN, the length of a MAC address everywhere */
#include <stdint.h>

#define MAC_STR_LEN	18	/* "aa:bb:cc:dd:ee:ff" and its NUL */

/* Exactly six pairs of hex digits separated by ':' (either case), nothing
 * before or after. 0, or -1 (mac untouched). */
int mac_parse(const char *s, uint8_t mac[ETH_ALEN]);

/* Lower-case text form; returns out. */
char *mac_format(char out[MAC_STR_LEN], const uint8_t mac[ETH_ALEN]);

#endif
