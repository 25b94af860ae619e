#!/bin/sh
# System benchmark: time from `multivm run --detach` to all six ordered
# pairs answering ping, next to the boot time of one bare QEMU guest (same
# kernel and initramfs, a plain QEMU NIC instead of vhost-user) measured in
# the same run; then each
# VMM's resident memory. Then (BENCH_BOOT16=0 skips it) a 16-VM full mesh
# of 128 MiB guests: time from `run --detach` to all VMs up, and to all 240
# ordered pairs answering (one `multivm exec` per VM runs a shell loop that
# pings each of the 15 others once, -c 1 -W 5, and fails on the first
# silent one). Usage: boot.sh BUILD
set -eu
build=$1
MV=$(realpath "$build/multivm")
guest=$(realpath "$build/guest")
STATE=$(mktemp -d /tmp/mvb.XXXXXX)
export MULTIVM_STATE="$STATE"
qpid=
cleanup() {
	[ -n "$qpid" ] && kill "$qpid" 2>/dev/null
	"$MV" stop --timeout 30 >/dev/null 2>&1 || true
	rm -rf "$STATE"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
wait_for() {
	end=$(($(date +%s) + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.1
	done
}

# The system first: its engine (multivm probes whether KVM really boots a
# guest here) is then used for the bare guest too.
t0=$(now)
"$MV" run --detach --timeout 300 >/dev/null
t1=$(now)
for a in 0 1 2; do
	for b in 0 1 2; do
		[ $a = $b ] && continue
		"$MV" exec vm$a -- ping -c 1 -W 5 192.168.1.$((b + 1)) >/dev/null
	done
done
t2=$(now)
echo "boot: multivm run --detach to all VMs up: $(elapsed "$t0" "$t1") s"
echo "boot: multivm run --detach to all six pairs answering: $(elapsed "$t0" "$t2") s"
accel=$(sed -n '1s/.*engine=\([a-z]*\).*/\1/p' "$STATE/status")
for pid in $(sed -n 's/.*vmm=\([0-9]*\).*/\1/p' "$STATE/status"); do
	name=$(tr '\0' ' ' </proc/"$pid"/cmdline | sed -n 's/.*--name \([^ ]*\).*/\1/p')
	echo "memory: VMM $name resident $(awk '$1 == "VmRSS:" { r = $2 } $1 == "RssAnon:" { a = $2 }
		END { print r " kB (own heap and stacks, RssAnon: " a " kB; the rest is guest pages it touched)" }' /proc/"$pid"/status)"
done
"$MV" stop --timeout 30 >/dev/null

cpu=max,-erms	# as multivm gives its guests (src/supervisor/qemu.c)
[ "$accel" = kvm ] && cpu=host
t0=$(now)
qemu-system-x86_64 -nodefaults -no-user-config -display none -no-reboot \
	-machine q35,accel=$accel -cpu "$cpu" -m 256M -kernel "$guest/vmlinuz" \
	-initrd "$guest/initramfs.cpio.gz" \
	-append "console=ttyS0 panic=-1 quiet multivm.name=bare" \
	-netdev user,id=n0 -device virtio-net-pci,netdev=n0,vectors=0 \
	-serial "file:$STATE/bare.log" &
qpid=$!
wait_for 120 grep -q 'multivm: bare ready' "$STATE/bare.log"
t1=$(now)
kill "$qpid"
wait "$qpid" 2>/dev/null || true
qpid=
echo "boot: one bare QEMU guest ($accel) to ready: $(elapsed "$t0" "$t1") s"

# ---- 16 VMs, full mesh, small guests ----
[ "${BENCH_BOOT16:-1}" = 0 ] && exit 0
n=16
{
	i=0
	while [ $i -lt $n ]; do
		printf '[vm m%d]\nmemory = 128M\naddress = 192.168.1.%d/24\n' $i $((i + 1))
		i=$((i + 1))
	done
	printf '[links]\nmesh = yes\n'
} >"$STATE/mesh16.ini"
t0=$(now)
"$MV" run --detach --timeout 900 "$STATE/mesh16.ini" >/dev/null
t1=$(now)
i=0
while [ $i -lt $n ]; do
	others=
	j=0
	while [ $j -lt $n ]; do
		[ $j = $i ] || others="$others 192.168.1.$((j + 1))"
		j=$((j + 1))
	done
	"$MV" exec --timeout 300 m$i -- "for a in$others; do ping -c 1 -W 5 \$a >/dev/null || { echo \$a; exit 1; }; done" ||
		{ echo "boot: 16-VM mesh: m$i did not reach every other VM"; exit 1; }
	i=$((i + 1))
done
t2=$(now)
echo "boot: 16-VM full mesh (128 MiB guests, $accel): run --detach to all VMs up: $(elapsed "$t0" "$t1") s"
echo "boot: 16-VM full mesh: run --detach to all 240 ordered pairs answering: $(elapsed "$t0" "$t2") s"
"$MV" stop --timeout 60 >/dev/null
