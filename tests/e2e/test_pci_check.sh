#!/bin/sh
# PCI passthrough needs only the BDF: `multivm pci-info` reads the rest
# from sysfs, and `multivm check` says which stated value is wrong and what
# the right one is, or what is missing and how to fix it. Uses a fake sysfs
# tree (MULTIVM_SYSFS), so it runs anywhere.
TEST_NAME=pci-check
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fake_sysfs.sh"
export MULTIVM_SYSFS="$STATE/sys"

conf() {
	cat >"$STATE/pci.ini" <<CONF
[vm vm0]
passthrough = pci:0000:03:00.0
$1
[vm vm1]
CONF
}
expect_error() {
	out=$("$MV" check "$STATE/pci.ini" 2>&1)
	rc=$?
	[ $rc -eq 2 ] || die "check exited $rc (a bad configuration is 2) on: $1"
	echo "$out" | grep -qF -- "$1" || die "check said '$out', expected '$1'"
}

make_fake_sysfs "$MULTIVM_SYSFS"
out=$("$MV" pci-info 0000:03:00.0) || die "pci-info failed"
echo "$out" | grep -q 'driver=vfio-pci iommu_group=12 irq=16' || die "pci-info: $out"
echo "$out" | grep -q 'pci_mmio = 0xfebc0000/0x20000,0xfebe0000/0x4000' || die "pci-info mmio: $out"
echo "$out" | grep -q 'pci_io = 0xc000/0x20' || die "pci-info io: $out"

conf "pci_mmio = 0xfebc0000/0x20000, 0xfebe0000/16384
pci_io = 49152/32
pci_irq = 16"
"$MV" check "$STATE/pci.ini" >/dev/null || die "right values refused: $("$MV" check "$STATE/pci.ini" 2>&1)"

conf "pci_mmio = 0xfe000000/0x20000,0xfebe0000/0x4000"
expect_error "pci.ini:3: [vm vm0] pci_mmio: 0xfe000000/0x20000,0xfebe0000/0x4000 does not match 0000:03:00.0, whose memory BARs are 0xfebc0000/0x20000,0xfebe0000/0x4000"
conf "pci_irq = 11"
expect_error "pci.ini:3: [vm vm0] pci_irq: 11 does not match 0000:03:00.0, whose IRQ is 16"
conf ""
rm -rf "$MULTIVM_SYSFS" && make_fake_sysfs "$MULTIVM_SYSFS" vfio-pci ""
expect_error "pci.ini:2: [vm vm0] passthrough: 0000:03:00.0 is in no IOMMU group; enable the IOMMU"
rm -rf "$MULTIVM_SYSFS" && make_fake_sysfs "$MULTIVM_SYSFS" e1000e 12
expect_error "is bound to e1000e, not vfio-pci; run: modprobe vfio-pci"
rm -rf "$MULTIVM_SYSFS"
expect_error "pci.ini:2: [vm vm0] passthrough: no PCI device 0000:03:00.0"
conf "pci_irq = 16"
sed -i 's/passthrough = pci:0000:03:00.0/passthrough = user/' "$STATE/pci.ini"
expect_error "pci.ini:3: [vm vm0] pci_irq: only with passthrough = pci:DDDD:BB:DD.F"
# Without KVM, `run` refuses before starting anything, naming the fix
# (engine = tcg stands for a host without KVM, so this runs everywhere).
make_fake_sysfs "$MULTIVM_SYSFS"
cat >"$STATE/pci.ini" <<CONF
[vm vm0]
passthrough = pci:0000:03:00.0
[vm vm1]
[system]
engine = tcg
CONF
out=$("$MV" run --detach "$STATE/pci.ini" 2>&1) && die "run started without KVM"
echo "$out" | grep -q 'pci.ini:2: \[vm vm0\] passthrough: PCI passthrough needs KVM' || die "run said: $out"
[ -e "$STATE/status" ] && die "run started something"
say "PASS"
