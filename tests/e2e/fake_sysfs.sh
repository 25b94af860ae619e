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
	fake_config "$dev/config"
	[ -n "$drv" ] && ln -sfn "../../../../bus/pci/drivers/$drv" "$dev/driver"
	if [ -n "$grp" ]; then
		ln -sfn "../../../../kernel/iommu_groups/$grp" "$dev/iommu_group"
		# As in real sysfs: the group lists its devices, the NIC too.
		mkdir -p "$root/kernel/iommu_groups/$grp/devices"
		ln -sfn "../../../../bus/pci/devices/0000:03:00.0" "$root/kernel/iommu_groups/$grp/devices/0000:03:00.0"
	fi
	return 0
}

# add_group_peer DIR BDF DRIVER [GROUP]: another device in the NIC's IOMMU
# group (default 12), bound to DRIVER ("" = unbound).
add_group_peer() {
	peer=$1/bus/pci/devices/$2
	gdir=$1/kernel/iommu_groups/${4-12}
	mkdir -p "$peer" "$gdir/devices"
	[ -n "$3" ] && mkdir -p "$1/bus/pci/drivers/$3" && ln -sfn "../../../../bus/pci/drivers/$3" "$peer/driver"
	ln -sfn "../../../../kernel/iommu_groups/${4-12}" "$peer/iommu_group"
	ln -sfn "../../../../bus/pci/devices/$2" "$gdir/devices/$2"
	return 0
}

# poke FILE OFFSET BYTES: writes BYTES (printf octal escapes) at OFFSET.
poke() {
	# shellcheck disable=SC2059 # BYTES is the format: its escapes are the point
	printf "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

# fake_config FILE [CAP_PTR] [MSI_NEXT] [MSIX_NEXT]: 256 bytes of config
# space for an 8086:10d3 with a capability list: MSI at 0x50 (4 vectors)
# then MSI-X at 0x70 (table size 5). The pointers (octal escapes; defaults
# \120 = 0x50, \160 = 0x70, \000 = end) let tests break the list.
fake_config() {
	head -c 256 /dev/zero >"$1"
	poke "$1" 0 '\206\200\323\020'		# vendor 0x8086, device 0x10d3
	poke "$1" 6 '\020\000'			# status: bit 4, capability list
	poke "$1" 52 "${2-\\120}"		# 0x34: first capability
	poke "$1" 80 "\\005${3-\\160}\\004\\000"	# MSI; control: MMC = 2, 4 vectors
	poke "$1" 112 "\\021${4-\\000}\\004\\000"	# MSI-X; control: size - 1 = 4
	return 0
}
