#!/bin/sh
# Builds the guest image into OUTDIR: initramfs.cpio.gz (busybox-static,
# the virtio (a disk's too: image = with kernel =) and 802.1Q (VLAN) modules of the host's kernel, the multivm agent, init, iperf3
# and ethtool with their libraries) and
# vmlinuz (the matching kernel), so kernel and modules always agree.
# Usage: mkinitramfs.sh OUTDIR   (env MULTIVM_KERNEL_VERSION picks a kernel)
set -eu

out=$1
here=$(cd "$(dirname "$0")" && pwd)
modules="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci
	 failover net_failover virtio_net virtio_console virtio_blk llc stp garp mrp 8021q"

need() { [ -e "$1" ] || { echo "mkinitramfs: $1 missing: apt-get install $2" >&2; exit 1; }; }
need /bin/busybox busybox-static
need /usr/bin/iperf3 iperf3
need /usr/sbin/ethtool ethtool
command -v cpio >/dev/null || need /usr/bin/cpio cpio

ver=${MULTIVM_KERNEL_VERSION:-}
if [ -z "$ver" ]; then
	for d in $(ls -d /lib/modules/* 2>/dev/null | sort -V); do
		v=$(basename "$d")
		[ -f "/boot/vmlinuz-$v" ] && ver=$v
	done
fi
[ -n "$ver" ] || { echo "mkinitramfs: no kernel found: apt-get install linux-image-amd64" >&2; exit 1; }
need "/boot/vmlinuz-$ver" linux-image-amd64
[ -r "/boot/vmlinuz-$ver" ] || { echo "mkinitramfs: cannot read /boot/vmlinuz-$ver (run as root)" >&2; exit 1; }

mkdir -p "$out"
tmp=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
mkdir -p "$root/bin" "$root/sbin" "$root/lib/modules" "$root/etc/udhcpc" \
	"$root/etc" "$root/proc" "$root/sys" "$root/dev" "$root/tmp" "$root/root"
cp /bin/busybox "$root/bin/busybox"
for m in $modules; do
	f=$(find "/lib/modules/$ver" -name "$m.ko*" | head -n 1)
	case "$f" in
	"") echo "mkinitramfs: note: $m not a module in $ver (built in?)" >&2 ;;
	*.ko) cp "$f" "$root/lib/modules/$m.ko" ;;
	*.ko.xz) xz -dc "$f" >"$root/lib/modules/$m.ko" ;;
	*.ko.zst) zstd -qdc "$f" >"$root/lib/modules/$m.ko" ;;
	*.ko.gz) gzip -dc "$f" >"$root/lib/modules/$m.ko" ;;
	esac
done
# Programs beyond busybox, with the shared libraries ldd finds for them
# (and the loader), at the same paths as on the host.
for prog in /usr/bin/iperf3 /usr/sbin/ethtool; do
	mkdir -p "$root$(dirname "$prog")"
	cp "$prog" "$root$prog"
	for lib in $(ldd "$prog" | sed -n 's/.*=> \(\/[^ ]*\).*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p'); do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
done
${CC:-cc} -static -Os -std=gnu11 -Wall -Wextra -Werror -I"$here/../src" -o "$root/sbin/multivm-agent" "$here/agent.c" -ljansson
cp "$here/init" "$root/init"
# Debian's busybox looks for /etc/udhcpc/default.script.
cp "$here/udhcpc.script" "$root/etc/udhcpc/default.script"
chmod 755 "$root/init" "$root/etc/udhcpc/default.script"
echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
echo "root:x:0:" >"$root/etc/group"

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -9 >"$tmp/initramfs.cpio.gz"
cp "/boot/vmlinuz-$ver" "$tmp/vmlinuz"
echo "$ver" >"$tmp/kernel-version"
mv "$tmp/vmlinuz" "$out/vmlinuz"
mv "$tmp/kernel-version" "$out/kernel-version"
mv "$tmp/initramfs.cpio.gz" "$out/initramfs.cpio.gz"
echo "mkinitramfs: $out/initramfs.cpio.gz for kernel $ver ($(du -k "$out/initramfs.cpio.gz" | cut -f1) KiB)"
