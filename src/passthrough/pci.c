#include "passthrough/pci.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IORESOURCE_IO	0x100
#define IORESOURCE_MEM	0x200

const char *pci_sysfs(void)
{
	const char *s = getenv("MULTIVM_SYSFS");

	return s && *s ? s : "/sys";
}

static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -1;
	ok = fgets(buf, len, f) != NULL;
	fclose(f);
	return ok ? 0 : -1;
}

/* Basename of where a sysfs symlink points, or "" if there is none. */
static void link_name(const char *path, char *out, size_t len)
{
	char target[PATH_MAX];
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	const char *base;

	out[0] = 0;
	if (n <= 0)
		return;
	target[n] = 0;
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	n = strlen(base);
	if ((size_t)n >= len)
		n = len - 1;	/* sysfs names are short; never overrun */
	memcpy(out, base, n);
	out[n] = 0;
}

static void read_bars(const char *dir, struct pci_info *p)
{
	char path[PATH_MAX + 16], line[128];
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "%s/resource", dir);
	f = fopen(path, "r");
	for (i = 0; f && i < PCI_MAX_BARS && fgets(line, sizeof(line), f); i++) {
		unsigned long long start, end, flags;

		if (sscanf(line, "%llx %llx %llx", &start, &end, &flags) != 3 || end <= start ||
		    !(flags & (IORESOURCE_IO | IORESOURCE_MEM)))
			continue;
		p->bar[p->nbars++] = (struct pci_bar){ i, flags & IORESOURCE_IO, start, end - start + 1 };
	}
	if (f)
		fclose(f);
}

int pci_read(const char *sysfs, const char *bdf, struct pci_info *p, char *err, size_t errlen)
{
	char dir[PATH_MAX], path[PATH_MAX + 32], buf[64];

	memset(p, 0, sizeof(*p));
	snprintf(p->bdf, sizeof(p->bdf), "%s", bdf);
	snprintf(dir, sizeof(dir), "%s/bus/pci/devices/%s", sysfs, bdf);
	if (access(dir, F_OK) != 0) {
		snprintf(err, errlen, "no PCI device %s (lspci -D lists them)", bdf);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/vendor", dir);
	if (read_line(path, buf, sizeof(buf)) == 0)
		p->vendor = strtoul(buf, NULL, 0);
	snprintf(path, sizeof(path), "%s/device", dir);
	if (read_line(path, buf, sizeof(buf)) == 0)
		p->device = strtoul(buf, NULL, 0);
	snprintf(path, sizeof(path), "%s/irq", dir);
	p->irq = read_line(path, buf, sizeof(buf)) == 0 ? atoi(buf) : -1;
	snprintf(path, sizeof(path), "%s/driver", dir);
	link_name(path, p->driver, sizeof(p->driver));
	snprintf(path, sizeof(path), "%s/iommu_group", dir);
	link_name(path, buf, sizeof(buf));
	p->iommu_group = buf[0] ? atoi(buf) : -1;
	read_bars(dir, p);
	return 0;
}

/* "0xA/0xS,..." for the BARs of one kind, in BAR order. */
static void ranges(const struct pci_info *p, bool io, char *out, size_t len)
{
	size_t used = 0;
	unsigned i;

	out[0] = 0;
	for (i = 0; i < p->nbars; i++)
		if (p->bar[i].io == io && used < len)
			used += snprintf(out + used, len - used, "%s0x%llx/0x%llx", used ? "," : "",
					 (unsigned long long)p->bar[i].start, (unsigned long long)p->bar[i].size);
}

void pci_print(const struct pci_info *p)
{
	char mmio[256], io[256], group[16] = "none";
	unsigned i;

	if (p->iommu_group >= 0)
		snprintf(group, sizeof(group), "%d", p->iommu_group);
	printf("%s vendor=0x%04x device=0x%04x driver=%s iommu_group=%s irq=%d\n", p->bdf, p->vendor,
	       p->device, p->driver[0] ? p->driver : "none", group, p->irq);
	for (i = 0; i < p->nbars; i++)
		printf("  BAR%d %-4s 0x%llx size 0x%llx\n", p->bar[i].index, p->bar[i].io ? "io" : "mmio",
		       (unsigned long long)p->bar[i].start, (unsigned long long)p->bar[i].size);
	ranges(p, false, mmio, sizeof(mmio));
	ranges(p, true, io, sizeof(io));
	printf("config lines for its [vm NAME] section:\n  passthrough = pci:%s\n", p->bdf);
	if (mmio[0])
		printf("  pci_mmio = %s\n", mmio);
	if (io[0])
		printf("  pci_io = %s\n", io);
	printf("  pci_irq = %d\n", p->irq);
}

/* "A/S,A/S,..." into pairs; returns how many, or -1 if malformed. */
static int parse_ranges(const char *s, unsigned long long r[][2], int max)
{
	int n = 0;

	while (*s) {
		char *end;

		if (n == max)
			return -1;
		r[n][0] = strtoull(s, &end, 0);
		if (end == s || *end != '/')
			return -1;
		s = end + 1;
		r[n][1] = strtoull(s, &end, 0);
		if (end == s)
			return -1;
		n++;
		s = end + strspn(end, " ,");
	}
	return n;
}

/* The same ranges, however they are spelled (hex, decimal, spaces)? */
static bool same_ranges(const char *stated, const char *actual)
{
	unsigned long long a[16][2], b[16][2];
	int na = parse_ranges(stated, a, 16), nb = parse_ranges(actual, b, 16);

	return na >= 0 && na == nb && memcmp(a, b, sizeof(a[0]) * na) == 0;
}

int pci_check_vm(const char *sysfs, const struct config *c, const struct cfg_vm *vm, char *err, size_t errlen)
{
	const char *bdf = vm->passthrough + 4;
	char why[256], actual[256];
	struct pci_info p;

	if (pci_read(sysfs, bdf, &p, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s:%d: [vm %s] passthrough: %s", c->path, vm->passthrough_line, vm->name, why);
		return -1;
	}
	ranges(&p, false, actual, sizeof(actual));
	if (vm->pci_mmio[0] && !same_ranges(vm->pci_mmio, actual)) {
		snprintf(err, errlen, "%s:%d: [vm %s] pci_mmio: %s does not match %s, whose memory BARs are %s",
			 c->path, vm->pci_mmio_line, vm->name, vm->pci_mmio, bdf, actual[0] ? actual : "none");
		return -1;
	}
	ranges(&p, true, actual, sizeof(actual));
	if (vm->pci_io[0] && !same_ranges(vm->pci_io, actual)) {
		snprintf(err, errlen, "%s:%d: [vm %s] pci_io: %s does not match %s, whose I/O BARs are %s",
			 c->path, vm->pci_io_line, vm->name, vm->pci_io, bdf, actual[0] ? actual : "none");
		return -1;
	}
	if (vm->pci_irq >= 0 && vm->pci_irq != p.irq) {
		snprintf(err, errlen, "%s:%d: [vm %s] pci_irq: %d does not match %s, whose IRQ is %d",
			 c->path, vm->pci_irq_line, vm->name, vm->pci_irq, bdf, p.irq);
		return -1;
	}
	if (p.iommu_group < 0) {
		snprintf(err, errlen, "%s:%d: [vm %s] passthrough: %s is in no IOMMU group; enable the IOMMU "
			 "(intel_iommu=on or amd_iommu=on on the host kernel command line) and reboot",
			 c->path, vm->passthrough_line, vm->name, bdf);
		return -1;
	}
	if (strcmp(p.driver, "vfio-pci") != 0) {
		char unbind[128] = "";

		if (p.driver[0])
			snprintf(unbind, sizeof(unbind), "echo %s > /sys/bus/pci/devices/%s/driver/unbind; ",
				 bdf, bdf);
		snprintf(err, errlen, "%s:%d: [vm %s] passthrough: %s is bound to %s, not vfio-pci; run: "
			 "modprobe vfio-pci; echo vfio-pci > /sys/bus/pci/devices/%s/driver_override; "
			 "%secho %s > /sys/bus/pci/drivers_probe",
			 c->path, vm->passthrough_line, vm->name, bdf, p.driver[0] ? p.driver : "no driver",
			 bdf, unbind, bdf);
		return -1;
	}
	return 0;
}
