#!/bin/sh
# Builds a small Debian bookworm disk image for testing "bring your own
# guest" (issue 27), from Debian packages only:
#   OUT            qcow2, laid out like Debian's own cloud images: a GPT
#                  with a BIOS boot partition (GRUB's core image, for
#                  firmware = bios), an EFI system partition (FAT, GRUB for
#                  x86_64-efi at the removable path EFI/BOOT/BOOTX64.EFI, for
#                  firmware = uefi: no boot entry needed in the variables)
#                  and the root (ext4, label mvroot). Both GRUBs find the
#                  root by its label and read the one /boot/grub/grub.cfg.
#   OUT.vmlinuz    its kernel and
#   OUT.initrd     initrd, for direct kernel boot with
#                  append = root=LABEL=mvroot ro console=ttyS0
# systemd, linux-image-amd64, cloud-init (NoCloud), qemu-guest-agent
# (wanted by multi-user.target: its unit binds to the
# org.qemu.guest_agent.0 port's device and starts once that is there),
# iproute2, iperf3, openssh-server; no docs, man pages or recommends.
#
# No loop devices and no mounts of the image: mmdebstrap builds a
# directory (mounting /proc, /sys and /dev inside it while it installs),
# mkfs.ext4 -d turns it into a filesystem image, mkfs.vfat and mtools make
# the EFI partition in a file, sfdisk partitions a raw file, dd puts both
# in their partitions, GRUB's boot sector and BIOS core image
# (grub-mkimage) go into the MBR and the BIOS boot partition by hand,
# qemu-img converts to qcow2. GRUB for EFI is Debian's grub-efi-amd64-bin,
# fetched by the tree's own apt and unpacked beside it (not installed).
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
need mkfs.vfat dosfstools
need mcopy mtools
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
# The guest agent: its unit has no [Install] and udev's SYSTEMD_WANTS for
# the port was not seen to start it at boot; wanted by multi-user.target it
# waits for its port's device (BindsTo, After) and starts when it appears.
mkdir -p "\$r/etc/systemd/system/multi-user.target.wants"
ln -sf /lib/systemd/system/qemu-guest-agent.service "\$r/etc/systemd/system/multi-user.target.wants/"
# GRUB for EFI from the tree's apt (same mirror and release), unpacked
# beside the tree, not installed in it.
chroot "\$r" sh -c 'cd /tmp && apt-get download -q grub-efi-amd64-bin' >/dev/null
dpkg-deb -x "\$r"/tmp/grub-efi-amd64-bin_*.deb "$tmp/efi"
rm -f "\$r"/tmp/grub-efi-amd64-bin_*.deb
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
efilib=$tmp/efi/usr/lib/grub/x86_64-efi
[ -f $efilib/kernel.img ] || { echo "mkimage: grub-efi-amd64-bin was not unpacked" >&2; exit 1; }
# Normal mode looks for its command lists and any module not in the core
# image here, per platform.
mkdir -p "$root/boot/grub/i386-pc" "$root/boot/grub/x86_64-efi"
cp $grublib/*.mod $grublib/*.lst "$root/boot/grub/i386-pc/"
cp $efilib/*.mod $efilib/*.lst "$root/boot/grub/x86_64-efi/"
cat >"$root/boot/grub/grub.cfg" <<EOF
set timeout=0
linux /boot/vmlinuz-$kver $cmdline
initrd /boot/initrd.img-$kver
boot
EOF
# Both core images start with this: the root by its label, whatever the
# disk is called and wherever its partition is.
cat >"$tmp/early.cfg" <<EOF
search --no-floppy --label $label --set=root
set prefix=(\$root)/boot/grub
EOF

# The filesystem: what the tree holds plus room to work (cloud-init may
# grow it: growpart needs cloud-guest-utils, which is not installed).
used=$(du -sm "$root" | cut -f1)
fs_mb=$((used + used / 4 + 512))
mkfs.ext4 -q -F -L "$label" -d "$root" -E root_owner=0:0 "$tmp/fs.img" "${fs_mb}M" >/dev/null

# The EFI system partition: GRUB at the removable path, which firmware
# boots with no boot entry (OVMF's fresh variables have none).
grub-mkimage -O x86_64-efi -d $efilib -o "$tmp/BOOTX64.EFI" -c "$tmp/early.cfg" -p /boot/grub \
	part_gpt fat ext2 normal configfile linux boot search search_label echo test efi_gop
esp_mb=16
mkfs.vfat -C -n ESP "$tmp/esp.img" $((esp_mb * 1024)) >/dev/null
mmd -i "$tmp/esp.img" ::/EFI ::/EFI/BOOT
mcopy -i "$tmp/esp.img" "$tmp/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI

# The disk, in MiB: the GPT, the BIOS boot partition, the EFI system
# partition, the root, room for the backup GPT.
disk=$tmp/disk.raw
truncate -s $((3 + esp_mb + fs_mb))M "$disk"
sfdisk -q "$disk" <<EOF
label: gpt
start=1MiB, size=1MiB, type=21686148-6449-6E6F-744E-656564454649, name=bios
start=2MiB, size=${esp_mb}MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=esp
start=$((2 + esp_mb))MiB, size=${fs_mb}MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=root
EOF
dd if="$tmp/esp.img" of="$disk" bs=1M seek=2 conv=notrunc,sparse status=none
dd if="$tmp/fs.img" of="$disk" bs=1M seek=$((2 + esp_mb)) conv=notrunc,sparse status=none

# GRUB for BIOS, by hand (grub-install and grub-bios-setup want a block
# device): core.img holds what it needs to find the root, read grub.cfg
# there and boot Linux; it goes in the BIOS boot partition (sector 2048),
# boot.img's code in the first 440 bytes, before the protective MBR's
# table. Two pointers say where core.img is, set as grub-bios-setup sets
# them (64-bit little-endian sector numbers): boot.img's kernel sector at
# 0x5c (core.img's first sector), and the blocklist at 0x1f4 of core.img's
# first sector (the rest of it; grub-mkimage wrote its length).
grub-mkimage -O i386-pc -o "$tmp/core.img" -c "$tmp/early.cfg" -p /boot/grub \
	biosdisk part_gpt ext2 normal configfile linux boot search search_label echo test
core_sectors=$(( ($(stat -c %s "$tmp/core.img") + 511) / 512 ))
[ "$core_sectors" -le 2048 ] || { echo "mkimage: core.img too large ($core_sectors sectors)" >&2; exit 1; }
le64() { perl -e 'print pack("Q<", $ARGV[0])' "$1"; }
le64 2049 | dd of="$tmp/core.img" bs=1 seek=$((0x1f4)) conv=notrunc status=none
dd if=$grublib/boot.img of="$disk" bs=440 count=1 conv=notrunc status=none
le64 2048 | dd of="$disk" bs=1 seek=$((0x5c)) conv=notrunc status=none
dd if="$tmp/core.img" of="$disk" bs=512 seek=2048 conv=notrunc status=none

qemu-img convert -f raw -O qcow2 "$disk" "$tmp/out.qcow2"
cp "$root/boot/vmlinuz-$kver" "$tmp/out.vmlinuz"
cp "$root/boot/initrd.img-$kver" "$tmp/out.initrd"
chmod 644 "$tmp/out.qcow2" "$tmp/out.vmlinuz" "$tmp/out.initrd"
mv "$tmp/out.vmlinuz" "$out.vmlinuz"
mv "$tmp/out.initrd" "$out.initrd"
mv "$tmp/out.qcow2" "$out"
echo "$hash" >"$out.stamp"
echo "mkimage: $out (kernel $kver, $(du -m "$out" | cut -f1) MiB, filesystem ${fs_mb} MiB of which ${used} used) in $(($(date +%s) - start)) s"
