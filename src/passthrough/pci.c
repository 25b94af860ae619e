#include "passthrough/pci.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/pciaddr.h"

#define IORESOURCE_IO	0x100
#define IORESOURCE_MEM	0x200

/* Config space offsets and IDs, as in the PCI spec (and linux/pci_regs.h). */
#define PCI_STATUS		0x06
#define PCI_STATUS_CAP_LIST	0x10
#define PCI_HEADER_TYPE		0x0e
#define PCI_HEADER_CARDBUS	2
#define PCI_CAP_PTR		0x34
#define PCI_CB_CAP_PTR		0x14	/* CardBus bridges keep it elsewhere */
#define PCI_CAP_ID_MSI		0x05
#define PCI_CAP_ID_MSIX		0x11
#define PCI_CFG_HEADER		64	/* also all an unprivileged read gets */
#define PCI_CFG_SIZE		256	/* MSI and MSI-X are never beyond it */
#define PCI_CAP_TTL		48	/* (256 - 64) / 4: more means a loop */

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

static unsigned cfg16(const uint8_t *cfg, size_t off)
{
	return cfg[off] | (unsigned)cfg[off + 1] << 8;
}

/* Walks the capability list, noting the first MSI and MSI-X (0: not seen).
 * True if the list ended properly; false if it was cut short (bytes not
 * read, a pointer into the header or past the end, a loop). */
static bool walk_caps(const uint8_t *cfg, size_t len, int *msi, int *msix)
{
	size_t pos;
	int ttl;

	*msi = *msix = 0;
	if (len < PCI_CFG_HEADER)
		return false;
	if (!(cfg16(cfg, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return true;
	pos = cfg[(cfg[PCI_HEADER_TYPE] & 0x7f) == PCI_HEADER_CARDBUS ? PCI_CB_CAP_PTR : PCI_CAP_PTR];
	for (ttl = PCI_CAP_TTL; ttl > 0; ttl--) {
		pos &= ~(size_t)3;	/* the low two bits are reserved */
		if (pos == 0)
			return true;
		/* 0xff: all ones, as from a device that has gone away */
		if (pos < PCI_CFG_HEADER || pos + 4 > len || cfg[pos] == 0xff)
			return false;
		if (cfg[pos] == PCI_CAP_ID_MSI && !*msi)
			*msi = 1 << ((cfg16(cfg, pos + 2) >> 1) & 7);
		else if (cfg[pos] == PCI_CAP_ID_MSIX && !*msix)
			*msix = (cfg16(cfg, pos + 2) & 0x7ff) + 1;
		pos = cfg[pos + 1];
	}
	return false;
}

void pci_parse_caps(const uint8_t *cfg, size_t len, int *msi, int *msix)
{
	int none = walk_caps(cfg, len, msi, msix) ? PCI_CAP_NONE : PCI_CAP_UNKNOWN;

	if (!*msi)
		*msi = none;
	if (!*msix)
		*msix = none;
}

/* A missing or unreadable config file leaves MSI and MSI-X unknown. */
static void read_caps(const char *dir, struct pci_info *p)
{
	char path[PATH_MAX + 16];
	uint8_t cfg[PCI_CFG_SIZE];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/config", dir);
	f = fopen(path, "rb");
	if (f) {
		n = fread(cfg, 1, sizeof(cfg), f);
		fclose(f);
	}
	pci_parse_caps(cfg, n, &p->msi, &p->msix);
}

int pci_read(const char *sysfs, const char *bdf, struct pci_info *p, char *err, size_t errlen)
{
	char dir[PATH_MAX], path[PATH_MAX + 32], buf[64];
	struct pci_bdf b;

	memset(p, 0, sizeof(*p));
	/* Exactly DDDD:BB:DD.F: it becomes a path under sysfs. */
	if (pci_bdf_parse(bdf, &b) < 0) {
		snprintf(err, errlen, "'%s' is not a PCI address DDDD:BB:DD.F (lspci -D lists them)", bdf);
		return -1;
	}
	p->domain = b.domain;
	p->bus = b.bus;
	p->dev = b.dev;
	p->fn = b.fn;
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
	read_caps(dir, p);
	return 0;
}

/* The BARs of one kind, in BAR order. Returns how many. */
static unsigned bar_ranges(const struct pci_info *p, bool io, struct addr_range r[PCI_MAX_BARS])
{
	unsigned i, n = 0;

	for (i = 0; i < p->nbars; i++)
		if (p->bar[i].io == io)
			r[n++] = (struct addr_range){ p->bar[i].start, p->bar[i].size };
	return n;
}

/* "0xA/0xS,..." for the BARs of one kind ("" for none). */
static void ranges(const struct pci_info *p, bool io, char *out, size_t len)
{
	struct addr_range r[PCI_MAX_BARS];

	addr_ranges_format(r, bar_ranges(p, io, r), out, len);
}

static const char *cap_str(int v, char *buf, size_t len)
{
	if (v == PCI_CAP_NONE)
		return "none";
	if (v == PCI_CAP_UNKNOWN)
		return "unknown";
	snprintf(buf, len, "%d", v);
	return buf;
}

void pci_print(const struct pci_info *p)
{
	char mmio[256], io[256], group[16] = "none", msi[16], msix[16];
	unsigned i;

	if (p->iommu_group >= 0)
		snprintf(group, sizeof(group), "%d", p->iommu_group);
	printf("%s vendor=0x%04x device=0x%04x driver=%s iommu_group=%s irq=%d msi=%s msix=%s\n", p->bdf,
	       p->vendor, p->device, p->driver[0] ? p->driver : "none", group, p->irq,
	       cap_str(p->msi, msi, sizeof(msi)), cap_str(p->msix, msix, sizeof(msix)));
	printf("  domain=0x%04x bus=0x%02x dev=0x%02x fn=%u\n", p->domain, p->bus, p->dev, p->fn);
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

/* The stated ranges are the device's BARs of that kind, however they are
 * spelled (hex, decimal, spaces)? */
static bool same_ranges(const char *stated, const struct pci_info *p, bool io)
{
	struct addr_range want[PCI_MAX_BARS], have[PCI_MAX_BARS];
	int n = addr_ranges_parse(stated, want, PCI_MAX_BARS);

	return n >= 0 && (unsigned)n == bar_ranges(p, io, have) && memcmp(want, have, sizeof(want[0]) * n) == 0;
}

/* The values the config states must be the device's. */
static int check_stated(const struct config *c, const struct cfg_vm *vm, const struct pci_info *p,
			char *err, size_t errlen)
{
	char actual[256];

	ranges(p, false, actual, sizeof(actual));
	if (vm->pci_mmio[0] && !same_ranges(vm->pci_mmio, p, false)) {
		snprintf(err, errlen, "%s:%d: [vm %s] pci_mmio: %s does not match %s, whose memory BARs are %s",
			 c->path, vm->pci_mmio_line, vm->name, vm->pci_mmio, p->bdf, actual[0] ? actual : "none");
		return -1;
	}
	ranges(p, true, actual, sizeof(actual));
	if (vm->pci_io[0] && !same_ranges(vm->pci_io, p, true)) {
		snprintf(err, errlen, "%s:%d: [vm %s] pci_io: %s does not match %s, whose I/O BARs are %s",
			 c->path, vm->pci_io_line, vm->name, vm->pci_io, p->bdf, actual[0] ? actual : "none");
		return -1;
	}
	if (vm->pci_irq >= 0 && vm->pci_irq != p->irq) {
		snprintf(err, errlen, "%s:%d: [vm %s] pci_irq: %d does not match %s, whose IRQ is %d",
			 c->path, vm->pci_irq_line, vm->name, vm->pci_irq, p->bdf, p->irq);
		return -1;
	}
	return 0;
}

/* The shell commands that rebind bdf (now bound to drv, "" if none) to vfio-pci. */
static void bind_cmds(const char *bdf, const char *drv, char *out, size_t len)
{
	char unbind[128] = "";

	if (drv[0])
		snprintf(unbind, sizeof(unbind), "echo %s > /sys/bus/pci/devices/%s/driver/unbind; ", bdf, bdf);
	snprintf(out, len, "echo vfio-pci > /sys/bus/pci/devices/%s/driver_override; "
		 "%secho %s > /sys/bus/pci/drivers_probe", bdf, unbind, bdf);
}

/* Drivers the kernel lets share a group with vfio-pci (pcieport: bridges
 * keep their port driver); any other makes the group not viable. */
static bool group_safe_driver(const char *drv)
{
	return !drv[0] || !strcmp(drv, "vfio-pci") || !strcmp(drv, "pci-stub") || !strcmp(drv, "pcieport");
}

/* The first other device (by name) in bdf's IOMMU group bound to another
 * driver: 1 with its name and driver, 0 if none, -1 with errno if the
 * group cannot be listed. */
static int group_blocker(const char *sysfs, const char *bdf, char *other, size_t olen, char *drv, size_t dlen)
{
	char dir[PATH_MAX], path[PATH_MAX + 300];
	struct dirent **ent;
	int i, n, found = 0;

	snprintf(dir, sizeof(dir), "%s/bus/pci/devices/%s/iommu_group/devices", sysfs, bdf);
	n = scandir(dir, &ent, NULL, alphasort);
	if (n < 0)
		return -1;
	for (i = 0; i < n; i++) {
		const char *name = ent[i]->d_name;

		if (!found && name[0] != '.' && strcmp(name, bdf) != 0) {
			snprintf(path, sizeof(path), "%s/%s/driver", dir, name);
			link_name(path, drv, dlen);
			if (!group_safe_driver(drv)) {
				snprintf(other, olen, "%s", name);
				found = 1;
			}
		}
		free(ent[i]);
	}
	free(ent);
	return found;
}

/* In an IOMMU group, bound to vfio-pci, and the group viable. */
static int check_vfio(const char *sysfs, const struct config *c, const struct cfg_vm *vm,
		      const struct pci_info *p, char *err, size_t errlen)
{
	char cmds[320], other[NAME_MAX + 1], drv[64];
	int r;

	if (p->iommu_group < 0) {
		snprintf(err, errlen, "%s:%d: [vm %s] passthrough: %s is in no IOMMU group; enable the IOMMU "
			 "(intel_iommu=on or amd_iommu=on on the host kernel command line) and reboot",
			 c->path, vm->passthrough_line, vm->name, p->bdf);
		return -1;
	}
	if (strcmp(p->driver, "vfio-pci") != 0) {
		bind_cmds(p->bdf, p->driver, cmds, sizeof(cmds));
		snprintf(err, errlen, "%s:%d: [vm %s] passthrough: %s is bound to %s, not vfio-pci; run: "
			 "modprobe vfio-pci; %s", c->path, vm->passthrough_line, vm->name, p->bdf,
			 p->driver[0] ? p->driver : "no driver", cmds);
		return -1;
	}
	r = group_blocker(sysfs, p->bdf, other, sizeof(other), drv, sizeof(drv));
	if (r < 0) {
		snprintf(err, errlen, "%s:%d: [vm %s] passthrough: cannot list the devices of %s's IOMMU group %d "
			 "(%s/bus/pci/devices/%s/iommu_group/devices): %s", c->path, vm->passthrough_line,
			 vm->name, p->bdf, p->iommu_group, sysfs, p->bdf, strerror(errno));
		return -1;
	}
	if (r > 0) {
		bind_cmds(other, drv, cmds, sizeof(cmds));
		snprintf(err, errlen, "%s:%d: [vm %s] passthrough: %s shares IOMMU group %d with %s, which is "
			 "bound to %s, so VFIO cannot use the group; bind it to vfio-pci too, run: %s",
			 c->path, vm->passthrough_line, vm->name, p->bdf, p->iommu_group, other, drv, cmds);
		return -1;
	}
	return 0;
}

int pci_check_vm(const char *sysfs, const struct config *c, const struct cfg_vm *vm, char *err, size_t errlen)
{
	char why[256];
	struct pci_info p;

	if (pci_read(sysfs, vm->passthrough + 4, &p, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s:%d: [vm %s] passthrough: %s", c->path, vm->passthrough_line, vm->name, why);
		return -1;
	}
	if (check_stated(c, vm, &p, err, errlen) < 0)
		return -1;
	return check_vfio(sysfs, c, vm, &p, err, errlen);
}
