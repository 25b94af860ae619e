#!/bin/sh
# Installs what multivm needs on Debian 12, or says the one command to run.
# Used by `make run`, `make test` and .ci/run.  Usage: deps.sh [run|test]
set -eu

mode=${1:-test}
pkgs="gcc make libc6-dev pkg-config libinih-dev libseccomp-dev libjansson-dev libpcap-dev
      qemu-system-x86 linux-image-amd64 busybox-static cpio gzip iperf3 ethtool"
if [ "$mode" = test ]; then
	# libvirt: tests/e2e/test_libvirt.sh boots a libvirt domain as a member
	# (it starts libvirtd itself where no systemd has).
	# graphviz: multivm graph --svg (dot -Tsvg).
	# wireguard-tools, wireguard-go: test_vxlan_wireguard (the README's example).
	# mmdebstrap to cloud-image-utils: scripts/mkimage.sh's Debian test
	# image and its cloud-init seed (cloud-localds); dosfstools, mtools: that
	# image's EFI system partition; ovmf: firmware = uefi.
	# systemd, man-db: systemd-analyze verify of multivm@.service (test_systemd).
	pkgs="$pkgs libcmocka-dev dpdk-dev iproute2 procps tmux clang libclang-rt-14-dev python3 tcpdump groff-base graphviz
	      libvirt-daemon-system libvirt-clients wireguard-tools wireguard-go
	      mmdebstrap qemu-utils grub-pc-bin e2fsprogs fdisk dosfstools mtools cloud-image-utils ovmf systemd man-db"
fi

# [system] user (multivm.ini(5)): its group may connect to external VMs'
# sockets (libvirt's QEMU joins it); user = root keeps everything root.
if [ "$(id -u)" -eq 0 ] && ! id multivm >/dev/null 2>&1; then
	echo "multivm: creating system user multivm"
	useradd --system --user-group --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin multivm
fi

# Started by root, every VMM, QEMU and tunnel runs as an id of its own from
# the default [system] uid_range (src/common/limits.h), which lies beyond
# every range useradd allocates from; no account may hold one of its ids
# (multivm run refuses it too, naming the account).
range=$(sed -n 's/^#define MV_UID_RANGE_DEFAULT[[:space:]]*"\(.*\)"/\1/p' "$(dirname "$0")/../src/common/limits.h")
first=${range%-*} last=${range#*-}
taken=$(getent passwd | awk -F: -v a="$first" -v b="$last" '($3 >= a && $3 <= b) || ($4 >= a && $4 <= b) { print "user " $1 }'
	getent group | awk -F: -v a="$first" -v b="$last" '$3 >= a && $3 <= b { print "group " $1 }')
if [ -n "$taken" ]; then
	echo "multivm: the default uid_range $range holds ids of: $(echo $taken)" >&2
	echo "multivm: set [system] uid_range to a range no account uses" >&2
	exit 1
fi

missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "multivm: missing packages:$missing" >&2
	echo "multivm: run as root: apt-get install -y$missing" >&2
	exit 1
fi
echo "multivm: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
