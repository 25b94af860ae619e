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
# caps_are WHAT "msi=A msix=B": pci-info survives config space WHAT and
# ends its first line so.
caps_are() {
	out=$("$MV" pci-info 0000:03:00.0 2>&1)
	rc=$?
	[ $rc -eq 0 ] || die "pci-info exited $rc on $1: $out"
	echo "$out" | head -n 1 | grep -q " $2\$" || die "pci-info on $1: $out"
}

make_fake_sysfs "$MULTIVM_SYSFS"
out=$("$MV" pci-info 0000:03:00.0) || die "pci-info failed"
echo "$out" | grep -q 'driver=vfio-pci iommu_group=12 irq=16' || die "pci-info: $out"
echo "$out" | grep -q 'pci_mmio = 0xfebc0000/0x20000,0xfebe0000/0x4000' || die "pci-info mmio: $out"
echo "$out" | grep -q 'pci_io = 0xc000/0x20' || die "pci-info io: $out"
echo "$out" | grep -q 'irq=16 msi=4 msix=5$' || die "pci-info msi: $out"
echo "$out" | grep -q 'bus=0x03 dev=0x00 fn=0$' || die "pci-info bus/dev/fn: $out"
out=$("$MV" pci-info ../../../x.0 2>&1) && die "pci-info took a path: $out"
echo "$out" | grep -q "is not a PCI address" || die "pci-info on a path: $out"

# Config space is hostile input: the capability walk is bounded.
cfg=$MULTIVM_SYSFS/bus/pci/devices/0000:03:00.0/config
fake_config "$cfg" '\120' '\120'	# MSI points to itself
caps_are "a loop" "msi=4 msix=unknown"
fake_config "$cfg" '\120' '\160' '\160'	# MSI-X points to itself
caps_are "a loop after both" "msi=4 msix=5"
fake_config "$cfg" '\074'	# into the header
caps_are "a pointer below 0x40" "msi=unknown msix=unknown"
fake_config "$cfg" '\120' '\163' '\376'	# low bits set: masked to 0x70, 0xfc
caps_are "unaligned pointers" "msi=4 msix=5"
fake_config "$cfg" && poke "$cfg" 6 '\000'
caps_are "no capability list" "msi=none msix=none"
fake_config "$cfg" && head -c 64 "$cfg" >"$cfg.64" && mv "$cfg.64" "$cfg"	# as unprivileged reads get
caps_are "a pointer past the bytes read" "msi=unknown msix=unknown"
printf '\206\200\323' >"$cfg"
caps_are "a short file" "msi=unknown msix=unknown"
head -c 256 /dev/zero | tr '\000' '\377' >"$cfg"
caps_are "all ones" "msi=unknown msix=unknown"
rm -f "$cfg"
caps_are "no config file" "msi=unknown msix=unknown"
for i in 1 2 3 4 5 6 7 8; do
	head -c 256 /dev/urandom >"$cfg"
	caps_are "random bytes" "msi=[a-z0-9]* msix=[a-z0-9]*"
done
rm -rf "$MULTIVM_SYSFS" && make_fake_sysfs "$MULTIVM_SYSFS"

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
# Another device in the group on a host driver makes the group not viable.
rm -rf "$MULTIVM_SYSFS" && make_fake_sysfs "$MULTIVM_SYSFS"
add_group_peer "$MULTIVM_SYSFS" 0000:03:00.1 e1000e
expect_error "pci.ini:2: [vm vm0] passthrough: 0000:03:00.0 shares IOMMU group 12 with 0000:03:00.1, which is bound to e1000e, so VFIO cannot use the group; bind it to vfio-pci too, run: echo vfio-pci > /sys/bus/pci/devices/0000:03:00.1/driver_override; echo 0000:03:00.1 > /sys/bus/pci/devices/0000:03:00.1/driver/unbind; echo 0000:03:00.1 > /sys/bus/pci/drivers_probe"
rm -rf "$MULTIVM_SYSFS" && make_fake_sysfs "$MULTIVM_SYSFS"
add_group_peer "$MULTIVM_SYSFS" 0000:00:1c.0 pcieport
add_group_peer "$MULTIVM_SYSFS" 0000:03:00.1 vfio-pci
add_group_peer "$MULTIVM_SYSFS" 0000:03:00.2 pci-stub
add_group_peer "$MULTIVM_SYSFS" 0000:03:00.3 ""
"$MV" check "$STATE/pci.ini" >/dev/null || die "viable group refused: $("$MV" check "$STATE/pci.ini" 2>&1)"
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
