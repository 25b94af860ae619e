/* PCI addresses as a user writes them: a device's BDF and ADDRESS/SIZE
 * ranges (pci_mmio, pci_io). One parser for both readers: the config
 * checks the syntax, passthrough compares the values with the device. */
#ifndef MULTIVM_PCIADDR_H
#define MULTIVM_PCIADDR_H

#include <stddef.h>
#include <stdint.h>

#define PCI_BDF_LEN	12	/* DDDD:BB:DD.F */

struct pci_bdf {
	unsigned domain, bus, dev, fn;
};

/* DDDD:BB:DD.F exactly: hex digits at fixed places, dev < 32, fn < 8 (the
 * string becomes a path under sysfs). 0, or -1 if it is anything else. */
int pci_bdf_parse(const char *s, struct pci_bdf *out);

struct addr_range {
	uint64_t addr, size;
};

/* "A/S[,A/S...]": numbers in C notation (0x hex, 0 octal, else decimal),
 * without sign; S > 0 and A + S within 64 bits; blanks before a number,
 * spaces after one. Returns how many ranges s lists, storing the
 * first max of them in out (which may be NULL), or -1 if malformed. */
int addr_ranges_parse(const char *s, struct addr_range *out, unsigned max);

/* "0xA/0xS,..." (what pci-info prints, and addr_ranges_parse reads). Always
 * NUL-terminated; returns -1 if it did not fit in len, else 0. */
int addr_ranges_format(const struct addr_range *r, unsigned n, char *buf, size_t len);

#endif
