#!/bin/sh
# Image guest boot (issue 27): time from `multivm run --detach` to the
# guest agent answering (status agent=up) for one Debian guest from
# scripts/mkimage.sh's image, 512 MiB, booted by direct kernel + initrd
# (kernel), by BIOS firmware (SeaBIOS, GRUB in the BIOS boot partition:
# firmware) and, if asked for, by UEFI firmware (OVMF with fresh
# variables, GRUB at EFI/BOOT/BOOTX64.EFI: uefi), next to its
# anchor: the same image booted by a bare QEMU from multivm's own command
# line (`multivm qemu-argv` of the same config: engine and accelerator,
# CPU model, memory, firmware or kernel/initrd/append, disk overlay over
# the same image, the same cloud-init seed, the virtio-serial channel
# org.qemu.guest_agent.0 on a socket), timed from its start (overlay made)
# to the agent's first answer to `multivm agent-ping`, probed as the
# supervisor probes (5 s per try, the next 1 s later). What differs: eth0
# is QEMU's own user netdev, not vhost-user to a VMM (so its device keeps
# MSI-X: multivm's has vectors=0 under TCG), QEMU runs as root rather than
# a uid of its own (-runas), there is no supervisor, VMM or console
# multiplexer, and the seed is the one multivm made in that round's (or
# the previous round's) multivm boot, copied. Each round boots every kind
# under multivm and bare, in turn, the order reversed every other round;
# every round is printed, then the medians and the ratios multivm / bare
# (target <= 1.2).
# Then (IMGBOOT_TCP=0 skips it) guest-to-guest TCP between two Debian
# image guests (direct kernel, offloads on, the default) on one link,
# beside two built-in guests' on the same link in the same run: iperf3,
# one stream each way, IMGBOOT_TCP_SECONDS (default 10).
# Usage: imageboot.sh BUILD  (root; under the e2e lock)
# IMGBOOT_ROUNDS (default 3), IMGBOOT_KINDS (default "kernel firmware";
# "kernel firmware uefi" adds the UEFI disk boot, two boots a round more),
# MULTIVM_TEST_IMAGE (default /var/cache/multivm/debian12.qcow2: make
# image builds it).
set -eu
TEST_NAME=imageboot
build=$1
MV=$(realpath "$build/multivm")
STATE=$(mktemp -d /tmp/mvib.XXXXXX)
W=$(mktemp -d /tmp/mvibw.XXXXXX)
# The bare QEMU's files and sockets (qemu-argv -S): the same names multivm
# gives them in its state directory.
B=$W/bare
mkdir "$B"
chmod 755 "$W"
export MULTIVM_STATE="$STATE"
. "$(dirname "$0")/lib.sh"
qpid=
cleanup() {
	[ -n "$qpid" ] && { kill "$qpid" 2>/dev/null; wait "$qpid" 2>/dev/null; }
	"$MV" stop --timeout 30 >/dev/null 2>&1 || true
	rm -rf "$STATE" "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

IMG=${MULTIVM_TEST_IMAGE:-/var/cache/multivm/debian12.qcow2}
[ -f "$IMG" ] && [ -f "$IMG.vmlinuz" ] && [ -f "$IMG.initrd" ] || skip "no image $IMG (make image)"
rounds=${IMGBOOT_ROUNDS:-3}
kinds=${IMGBOOT_KINDS:-kernel firmware}
secs=${IMGBOOT_TCP_SECONDS:-10}

# image_format stated: qemu-argv does not probe (preflight does, for run).
printf '[vm vm1]\nmemory = 512M\nimage = %s\nimage_format = qcow2\nfirmware = bios\n' "$IMG" >"$W/firmware.ini"
printf '[vm vm1]\nmemory = 512M\nimage = %s\nimage_format = qcow2\nfirmware = uefi\n' "$IMG" >"$W/uefi.ini"
printf '[vm vm1]\nmemory = 512M\nimage = %s\nimage_format = qcow2\nkernel = %s.vmlinuz\ninitrd = %s.initrd\nappend = root=LABEL=mvroot ro\n' \
	"$IMG" "$IMG" "$IMG" >"$W/kernel.ini"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
agent_up() { grep -q ' agent=up' "$STATE/status"; }
engine=

# multivm KIND ROUND: one system, run to agent=up, then stopped; keeps its
# seed and engine for the bare QEMU.
multivm() {
	t0=$(now)
	"$MV" run --detach --timeout 120 "$W/$1.ini" >/dev/null || { echo "imageboot: $1: run failed"; return 1; }
	t1=$(now)
	cp "$STATE/vm1.seed.img" "$W/seed.img"
	engine=$(status_field engine vm1)
	wait_for 900 agent_up || { echo "imageboot: $1: no agent in 900 s"; return 1; }
	t2=$(now)
	"$MV" stop --timeout 30 >/dev/null
	up=$(elapsed "$t0" "$t1")
	ready=$(elapsed "$t0" "$t2")
	echo "imageboot: round $2 $1 multivm: run to up $up s, to agent ready $ready s"
	figure imageboot "${1}_run_to_agent_s_round$2" "$ready"
	echo "$ready" >>"$W/$1.times"
}

# The supervisor's probe: agent-ping of 5 s, the next 1 s after a miss.
bare_agent() {
	sleep 1
	until "$MV" agent-ping --timeout 5 "$B/vm1.agent"; do
		kill -0 "$qpid" 2>/dev/null || return 1
		[ "$(date +%s)" -lt "$1" ] || return 1
		sleep 1
	done
}

# bare KIND ROUND: multivm's command line for the same config, eth0 on
# QEMU's user network, the console to a file; its overlay (and UEFI
# variables) made as overlay.c makes them, the seed multivm made.
bare() {
	"$MV" -S "$B" qemu-argv --engine "$engine" --netdev user --serial "$B/vm1.console" \
		"$W/$1.ini" vm1 >"$W/bare.argv"
	rm -f "$B"/vm1.*
	size=$(qemu-img info -U --output=json -f qcow2 "$IMG" | awk -F'[:,]' '/"virtual-size"/ { gsub(/ /, "", $2); print $2; exit }')
	t0=$(now)
	qemu-img create -q -u -f qcow2 -F qcow2 -b "$IMG" "$B/vm1.overlay.qcow2" "$size"
	[ "$1" != uefi ] || cp /usr/share/OVMF/OVMF_VARS_4M.fd "$B/vm1.vars.fd"
	cp "$W/seed.img" "$B/vm1.seed.img"
	run_argv "$W/bare.argv" >"$B/qemu.log" 2>&1 &
	qpid=$!
	bare_agent $(($(date +%s) + 900)) || { echo "imageboot: $1 bare: no agent in 900 s: $(tail -c 300 "$B/qemu.log")"; return 1; }
	t1=$(now)
	kill "$qpid"
	wait "$qpid" 2>/dev/null || true
	qpid=
	ready=$(elapsed "$t0" "$t1")
	echo "imageboot: round $2 $1 bare QEMU: start to agent ready $ready s"
	figure imageboot "${1}_bare_to_agent_s_round$2" "$ready"
	echo "$ready" >>"$W/$1.bare.times"
}

r=1
while [ $r -le "$rounds" ]; do
	for k in $kinds; do
		# multivm first in odd rounds (round 1 makes the first seed).
		if [ $((r % 2)) -eq 1 ]; then
			multivm "$k" $r && bare "$k" $r
		else
			bare "$k" $r && multivm "$k" $r
		fi || exit 1
	done
	r=$((r + 1))
done
for k in $kinds; do
	m=$(median <"$W/$k.times")
	b=$(median <"$W/$k.bare.times")
	x=$(ratio "$m" "$b")
	figure imageboot "${k}_run_to_agent_s_median" "$m"
	figure imageboot "${k}_bare_to_agent_s_median" "$b"
	figure imageboot "${k}_ratio_multivm_bare" "$x"
	echo "imageboot: $k ($engine), median of $rounds: multivm $m s, bare QEMU $b s to agent ready: ratio $x (target <= 1.2)"
done

[ "${IMGBOOT_TCP:-1}" = 0 ] && exit 0
# ---- TCP between two Debian guests, beside two built-in guests ----
cat >"$W/tcp.ini" <<INI
[vm vm0]
address = 192.168.1.1/24
[vm vm1]
address = 192.168.1.2/24
[vm vm2]
memory = 512M
address = 192.168.1.11/24
image = $IMG
kernel = $IMG.vmlinuz
initrd = $IMG.initrd
append = root=LABEL=mvroot ro
[vm vm3]
memory = 512M
address = 192.168.1.12/24
image = $IMG
kernel = $IMG.vmlinuz
initrd = $IMG.initrd
append = root=LABEL=mvroot ro
[links]
vm0 = vm1
vm2 = vm3
INI
both_up() { [ "$(grep -c ' agent=up' "$STATE/status")" -eq 4 ]; }
"$MV" run --detach --timeout 300 "$W/tcp.ini" >/dev/null
wait_for 900 both_up || { echo "imageboot: tcp: agents not up in 900 s"; exit 1; }
gbps() {
	python3 -c '
import json, sys
e = json.load(sys.stdin)["end"]
print("%.3f %d" % (e["sum_received"]["bits_per_second"] / 1e9, e["sum_sent"].get("retransmits", 0)))'
}
# tcp NAME CLIENT SERVER ADDR: one stream each way.
tcp() {
	"$MV" exec "$3" -- "iperf3 -s -D" >/dev/null
	sleep 1
	for dir in fwd rev; do
		opt=
		[ $dir = rev ] && opt=-R
		"$MV" exec --timeout $((secs + 60)) "$2" -- "iperf3 -c $4 -t $secs -J $opt" >"$W/$1.$dir.json"
		res=$(gbps <"$W/$1.$dir.json")
		echo "imageboot: tcp $1 $dir: ${res% *} Gbit/s, ${res#* } retransmits"
		figure imageboot "tcp_${1}_${dir}_gbps" "${res% *}"
	done
}
tcp builtin vm0 vm1 192.168.1.2
tcp debian vm2 vm3 192.168.1.12
"$MV" stop --timeout 60 >/dev/null
