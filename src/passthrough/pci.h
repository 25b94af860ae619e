/* PCI passthrough: what the host says about a device (read from sysfs)
 * and whether a VM's config matches it and can use it. The BDF is all a
 * user must give; the rest is read here, and stated values are checked. */
#ifndef MULTIVM_PCI_H
#define MULTIVM_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

#define PCI_MAX_BARS 6

struct pci_bar {
	int index;
	bool io;		/* I/O ports, else memory (MMIO) */
	uint64_t start, size;
};

/* pci_info.msi/msix when the capability is absent, or when config space
 * could not be read or walked to the end (unprivileged reads see only the
 * first 64 bytes). */
#define PCI_CAP_NONE	0
#define PCI_CAP_UNKNOWN	(-1)

struct pci_info {
	char bdf[16];
	unsigned domain, bus, dev, fn;
	unsigned vendor, device;
	char driver[64];	/* "" when unbound */
	int iommu_group;	/* -1: none */
	int irq;
	int msi;		/* MSI vectors, or PCI_CAP_NONE/UNKNOWN */
	int msix;		/* MSI-X table size, or PCI_CAP_NONE/UNKNOWN */
	unsigned nbars;
	struct pci_bar bar[PCI_MAX_BARS];
};

/* The sysfs root: $MULTIVM_SYSFS (tests build a fake tree), else /sys. */
const char *pci_sysfs(void);

/* Reads BDF (DDDD:BB:DD.F) from sysfs. 0, or -1 with err set. */
int pci_read(const char *sysfs, const char *bdf, struct pci_info *out, char *err, size_t errlen);

/* Prints what pci-info shows, including config lines ready to paste. */
void pci_print(const struct pci_info *p);

/* MSI vectors and MSI-X table size from config space bytes cfg[0..len),
 * which may be short or garbage: the capability walk is bounded. */
void pci_parse_caps(const uint8_t *cfg, size_t len, int *msi, int *msix);

/* Checks VM vm's pci passthrough against the device: stated values must
 * match, the device must be in an IOMMU group and bound to vfio-pci, and
 * every other device in the group must be free of host drivers.
 * 0, or -1 with err as "FILE:LINE: [vm NAME] key: what is wrong; the fix". */
int pci_check_vm(const char *sysfs, const struct config *c, const struct cfg_vm *vm,
		 char *err, size_t errlen);

#endif
