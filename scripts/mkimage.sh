#!/bin/sh
# Builds a small Debian bookworm disk image for testing "bring your own
# guest" (issue 27), from Debian packages only:
#   OUT            qcow2, one MBR partition (ext4, label mvroot) with GRUB
#                  for BIOS firmware boot: boots by itself (firmware = bios)
#   OUT.vmlinuz    its kernel and
#   OUT.initrd     initrd, for direct kernel boot with
#                  append = root=LABEL=mvroot ro console=ttyS0
# systemd, linux-image-amd64, cloud-init (NoCloud), qemu-guest-agent
# (started by udev when the org.qemu.guest_agent.0 port appears),
# iproute2, iperf3, openssh-server; no docs, man pages or recommends.
#
# No loop devices and no mounts of the image: mmdebstrap builds a
# directory (mounting /proc, /sys and /dev inside it while it installs), mkfs.ext4 -d turns it into a filesystem image, sfdisk
# partitions a raw file, dd puts the filesystem in the partition, GRUB's
# boot sector and a core image (grub-mkimage) go into the MBR and the gap
# before the partition by hand, qemu-img converts to qcow2.
#
# The result is cached: a run whose outputs exist and were built by a
# script with the same hash does nothing (OUT.stamp holds the hash).
# Usage: mkimage.sh OUT.qcow2   (root; env MIRROR overrides the mirror)
set -eu

out=${1:?usage: mkimage.sh OUT.qcow2}
self=$(readlink -f "$0")
hash=$(sha256sum "$self" | cut -d' ' -f1)
if [ -f "$out" ] && [ -f "$out.vmlinuz" ] && [ -f "$out.initrd" ] &&
   [ "$(cat "$out.stamp" 2>/dev/null)" = "$hash" ]; then
	echo "mkimage: $out is up to date"
	exit 0
fi

need() { command -v "$1" >/dev/null || { echo "mkimage: $1 missing: apt-get install $2" >&2; exit 1; }; }
need mmdebstrap mmdebstrap
need qemu-img qemu-utils
need mkfs.ext4 e2fsprogs
need sfdisk fdisk
need grub-mkimage grub-pc-bin
grublib=/usr/lib/grub/i386-pc
[ -f $grublib/boot.img ] || { echo "mkimage: $grublib missing: apt-get install grub-pc-bin" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "mkimage: run as root (mmdebstrap, file ownership)" >&2; exit 1; }

mirror=${MIRROR:-http://deb.debian.org/debian}
label=mvroot
start=$(date +%s)
mkdir -p "$(dirname "$out")"
tmp=$(mktemp -d "$(dirname "$out")/.mkimage.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root

# What the image is set up with, inside the tree before it becomes a
# filesystem: fstab, hostname, cloud-init's datasource, network renderer
# and locale, fewer kernel modules.
cat >"$tmp/setup.sh" <<EOF
set -eu
r=\$1
echo "LABEL=$label / ext4 defaults,errors=remount-ro 0 1" >"\$r/etc/fstab"
echo debian >"\$r/etc/hostname"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"\$r/etc/hosts"
# Only NoCloud (the cidata seed multivm or cloud-localds makes): no waiting
# on metadata servers that are not there.
cat >"\$r/etc/cloud/cloud.cfg.d/90-multivm.cfg" <<'CFG'
datasource_list: [ NoCloud, None ]
CFG
# systemd-networkd is in the image already; cloud-init renders to it
# when ifupdown and netplan are absent (bookworm's cloud-init 22.4).
cat >"\$r/etc/cloud/cloud.cfg.d/91-multivm-network.cfg" <<'CFG'
system_info:
  network:
    renderers: [ networkd ]
CFG
chroot "\$r" systemctl enable systemd-networkd.service >/dev/null 2>&1 || true
# No locales package (no recommends): C.UTF-8, which glibc always has, and
# cloud-init leaves it alone (else its locale module fails on en_US.UTF-8).
echo LANG=C.UTF-8 >"\$r/etc/default/locale"
cat >"\$r/etc/cloud/cloud.cfg.d/92-multivm-locale.cfg" <<'CFG'
locale: false
CFG
# Kernel modules a VM never needs (graphics, sound, cameras, radios,
# InfiniBand, staging): half of what the kernel brings. The initrd was
# made before, from the full set.
for k in "\$r"/lib/modules/*; do
	(cd "\$k/kernel" && rm -rf drivers/gpu drivers/media drivers/net/wireless drivers/infiniband \
		drivers/staging drivers/bluetooth drivers/iio drivers/isdn drivers/misc/mei sound \
		net/wireless net/mac80211 net/bluetooth)
	chroot "\$r" depmod "\${k##*/}"
done
# No root password (a login only through the seed's key or the agent);
# no apt lists or cache.
rm -rf "\$r/var/cache/apt/"* "\$r/var/lib/apt/lists/"*
EOF

pkgs=systemd,systemd-sysv,udev,dbus,linux-image-amd64,initramfs-tools,cloud-init,qemu-guest-agent
pkgs=$pkgs,iproute2,iputils-ping,iperf3,openssh-server,ca-certificates,netbase,procps,e2fsprogs
echo "mkimage: mmdebstrap bookworm from $mirror"
mmdebstrap --variant=minbase --include="$pkgs" \
	--aptopt='APT::Install-Recommends "false"' \
	--dpkgopt='path-exclude=/usr/share/man/*' \
	--dpkgopt='path-exclude=/usr/share/doc/*' \
	--dpkgopt='path-include=/usr/share/doc/*/copyright' \
	--dpkgopt='path-exclude=/usr/share/info/*' \
	--dpkgopt='path-exclude=/usr/share/locale/*' \
	--dpkgopt='path-include=/usr/share/locale/locale.alias' \
	--customize-hook="sh $tmp/setup.sh \"\$1\"" \
	bookworm "$root" "deb $mirror bookworm main" "deb $mirror bookworm-updates main" \
	"deb ${mirror%/debian}/debian-security bookworm-security main" >"$tmp/mmdebstrap.log" 2>&1 ||
	{ tail -n 30 "$tmp/mmdebstrap.log" >&2; echo "mkimage: mmdebstrap failed" >&2; exit 1; }

kver=$(ls "$root/lib/modules" | sort -V | tail -n 1)
[ -f "$root/boot/vmlinuz-$kver" ] && [ -f "$root/boot/initrd.img-$kver" ] ||
	{ echo "mkimage: no kernel or initrd for $kver in the tree" >&2; exit 1; }
cmdline="root=LABEL=$label ro console=tty0 console=ttyS0,115200"
mkdir -p "$root/boot/grub/i386-pc"
# Normal mode looks for its command lists and any module not in core.img here.
cp $grublib/*.mod $grublib/*.lst "$root/boot/grub/i386-pc/"
cat >"$root/boot/grub/grub.cfg" <<EOF
set timeout=0
linux /boot/vmlinuz-$kver $cmdline
initrd /boot/initrd.img-$kver
boot
EOF

# The filesystem: what the tree holds plus room to work (cloud-init may
# grow it: growpart needs cloud-guest-utils, which is not installed).
used=$(du -sm "$root" | cut -f1)
fs_mb=$((used + used / 4 + 512))
mkfs.ext4 -q -F -L "$label" -d "$root" -E root_owner=0:0 "$tmp/fs.img" "${fs_mb}M" >/dev/null

# The disk: 1 MiB before the partition holds GRUB's core image.
disk=$tmp/disk.raw
truncate -s $((fs_mb + 1))M "$disk"
echo 'label: dos
start=2048, type=83, bootable' | sfdisk -q "$disk"
dd if="$tmp/fs.img" of="$disk" bs=1M seek=1 conv=notrunc,sparse status=none

# GRUB for BIOS, by hand (grub-install and grub-bios-setup want a block
# device): core.img holds what it needs to find the partition, read
# grub.cfg there and boot Linux; normal mode finds its command lists in
# /boot/grub/i386-pc.
# boot.img's defaults load core.img from sector 1 with the BIOS's boot
# drive; its code goes in the first 440 bytes, before the disk signature
# and partition table sfdisk wrote.
grub-mkimage -O i386-pc -o "$tmp/core.img" -p '(hd0,msdos1)/boot/grub' \
	biosdisk part_msdos ext2 normal configfile linux boot search search_label echo test
core_sectors=$(( ($(stat -c %s "$tmp/core.img") + 511) / 512 ))
[ "$core_sectors" -lt 2047 ] || { echo "mkimage: core.img too large ($core_sectors sectors)" >&2; exit 1; }
dd if=$grublib/boot.img of="$disk" bs=440 count=1 conv=notrunc status=none
dd if="$tmp/core.img" of="$disk" bs=512 seek=1 conv=notrunc status=none

qemu-img convert -f raw -O qcow2 "$disk" "$tmp/out.qcow2"
cp "$root/boot/vmlinuz-$kver" "$tmp/out.vmlinuz"
cp "$root/boot/initrd.img-$kver" "$tmp/out.initrd"
chmod 644 "$tmp/out.qcow2" "$tmp/out.vmlinuz" "$tmp/out.initrd"
mv "$tmp/out.vmlinuz" "$out.vmlinuz"
mv "$tmp/out.initrd" "$out.initrd"
mv "$tmp/out.qcow2" "$out"
echo "$hash" >"$out.stamp"
echo "mkimage: $out (kernel $kver, $(du -m "$out" | cut -f1) MiB, filesystem ${fs_mb} MiB of which ${used} used) in $(($(date +%s) - start)) s"
