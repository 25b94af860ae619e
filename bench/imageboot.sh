#!/bin/sh
# Image guest boot (issue 27): time from `multivm run --detach` to the
# guest agent answering (status agent=up) for one Debian guest from
# scripts/mkimage.sh's image, 512 MiB, booted by its firmware (SeaBIOS,
# GRUB) and by direct kernel + initrd, each round both, alternating which
# goes first; every round printed, then the medians. Also the time to
# `run --detach` returning (QEMU up). Usage: imageboot.sh BUILD
# (IMGBOOT_ROUNDS, default 3; MULTIVM_TEST_IMAGE, default
# /var/cache/multivm/debian12.qcow2: make image builds it).
set -eu
TEST_NAME=imageboot
build=$1
MV=$(realpath "$build/multivm")
STATE=$(mktemp -d /tmp/mvib.XXXXXX)
W=$(mktemp -d /tmp/mvibw.XXXXXX)
chmod 755 "$W"
export MULTIVM_STATE="$STATE"
. "$(dirname "$0")/lib.sh"
cleanup() {
	"$MV" stop --timeout 30 >/dev/null 2>&1 || true
	rm -rf "$STATE" "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

IMG=${MULTIVM_TEST_IMAGE:-/var/cache/multivm/debian12.qcow2}
[ -f "$IMG" ] && [ -f "$IMG.vmlinuz" ] && [ -f "$IMG.initrd" ] || skip "no image $IMG (make image)"
rounds=${IMGBOOT_ROUNDS:-3}

printf '[vm vm1]\nmemory = 512M\nimage = %s\nfirmware = bios\n' "$IMG" >"$W/firmware.ini"
printf '[vm vm1]\nmemory = 512M\nimage = %s\nkernel = %s.vmlinuz\ninitrd = %s.initrd\nappend = root=LABEL=mvroot ro\n' \
	"$IMG" "$IMG" "$IMG" >"$W/kernel.ini"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
agent_up() { grep -q ' agent=up' "$STATE/status"; }

# boot KIND ROUND: one system, run to agent=up, then stopped.
boot() {
	t0=$(now)
	"$MV" run --detach --timeout 120 "$W/$1.ini" >/dev/null || { echo "imageboot: $1: run failed"; return 1; }
	t1=$(now)
	wait_for 900 agent_up || { echo "imageboot: $1: no agent in 900 s"; return 1; }
	t2=$(now)
	"$MV" stop --timeout 30 >/dev/null
	up=$(elapsed "$t0" "$t1")
	ready=$(elapsed "$t0" "$t2")
	echo "imageboot: round $2 $1: run to up $up s, to agent ready $ready s"
	figure imageboot "${1}_run_to_agent_s_round$2" "$ready"
	echo "$ready" >>"$W/$1.times"
}

r=1
while [ $r -le "$rounds" ]; do
	if [ $((r % 2)) -eq 1 ]; then
		boot kernel $r && boot firmware $r
	else
		boot firmware $r && boot kernel $r
	fi || exit 1
	r=$((r + 1))
done
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
k=$(median "$W/kernel.times")
f=$(median "$W/firmware.times")
figure imageboot kernel_run_to_agent_s_median "$k"
figure imageboot firmware_run_to_agent_s_median "$f"
echo "imageboot: median of $rounds: direct kernel $k s, firmware (bios) $f s to agent ready"
