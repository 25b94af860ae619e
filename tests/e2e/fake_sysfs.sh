# Builds a fake sysfs tree with one NIC, 0000:03:00.0 (sourced by tests).
# make_fake_sysfs DIR [DRIVER] [IOMMU_GROUP]: DRIVER "" = unbound, GROUP "" = none.
make_fake_sysfs() {
	root=$1
	drv=${2-vfio-pci}
	grp=${3-12}
	dev=$root/bus/pci/devices/0000:03:00.0
	mkdir -p "$dev" "$root/bus/pci/drivers/e1000e" "$root/bus/pci/drivers/vfio-pci" "$root/kernel/iommu_groups/12"
	echo 0x8086 >"$dev/vendor"
	echo 0x10d3 >"$dev/device"
	echo 16 >"$dev/irq"
	# BAR0 128 KiB MMIO, BAR2 32 I/O ports, BAR3 16 KiB MMIO, then ROM.
	cat >"$dev/resource" <<RES
0x00000000febc0000 0x00000000febdffff 0x0000000000040200
0x0000000000000000 0x0000000000000000 0x0000000000000000
0x000000000000c000 0x000000000000c01f 0x0000000000040101
0x00000000febe0000 0x00000000febe3fff 0x0000000000040200
0x0000000000000000 0x0000000000000000 0x0000000000000000
0x0000000000000000 0x0000000000000000 0x0000000000000000
0x00000000feb80000 0x00000000febbffff 0x0000000000046200
RES
	[ -n "$drv" ] && ln -sfn "../../../../bus/pci/drivers/$drv" "$dev/driver"
	[ -n "$grp" ] && ln -sfn "../../../../kernel/iommu_groups/$grp" "$dev/iommu_group"
	return 0
}
