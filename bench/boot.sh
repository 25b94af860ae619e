#!/bin/sh
# System benchmark: time from `multivm run --detach` to all six ordered
# pairs answering ping, next to the boot time of one bare QEMU guest
# (multivm's own QEMU command line, `multivm qemu-argv`, with QEMU's user
# network on eth0 instead of vhost-user and the console to a file)
# measured in the same run; then each
# VMM's resident memory. Then (BENCH_BOOT16=0 skips it) a 16-VM full mesh
# of 128 MiB guests: time from `run --detach` to all VMs up, and to all 240
# ordered pairs answering (one `multivm exec` per VM runs a shell loop that
# pings each of the 15 others once, -c 1 -W 5, and fails on the first
# silent one). Usage: boot.sh BUILD
set -eu
TEST_NAME=boot
build=$1
MV=$(realpath "$build/multivm")
STATE=$(mktemp -d /tmp/mvb.XXXXXX)
export MULTIVM_STATE="$STATE"
. "$(dirname "$0")/lib.sh"
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
# seconds METRIC T0 T1 WHAT: prints and records the time from T0 to T1.
seconds() {
	s=$(elapsed "$2" "$3")
	figure boot "$1" "$s"
	echo "boot: $4: $s s"
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
seconds run_to_up_s "$t0" "$t1" "multivm run --detach to all VMs up"
seconds run_to_pairs_s "$t0" "$t2" "multivm run --detach to all six pairs answering"
accel=$(status_field engine vm0)
for name in $(status_field name); do
	pid=$(pid_of $name vmm)
	set -- $(awk '$1 == "VmRSS:" { r = $2 } $1 == "RssAnon:" { a = $2 } END { print r, a }' /proc/"$pid"/status)
	figure boot "vmm_rss_kb_$name" "$1"
	figure boot "vmm_rssanon_kb_$name" "$2"
	echo "memory: VMM $name resident $1 kB (own heap and stacks, RssAnon: $2 kB; the rest is guest pages it touched)"
done
"$MV" stop --timeout 30 >/dev/null

printf '[vm bare]\n' >"$STATE/bare.ini"
"$MV" qemu-argv --engine "$accel" --netdev user --serial "$STATE/bare.log" "$STATE/bare.ini" bare >"$STATE/bare.argv"
t0=$(now)
run_argv "$STATE/bare.argv" &
qpid=$!
wait_for 120 grep -q 'multivm: bare ready' "$STATE/bare.log"
t1=$(now)
kill "$qpid"
wait "$qpid" 2>/dev/null || true
qpid=
seconds bare_qemu_to_ready_s "$t0" "$t1" "one bare QEMU guest ($accel) to ready"

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
seconds mesh16_run_to_up_s "$t0" "$t1" "16-VM full mesh (128 MiB guests, $accel): run --detach to all VMs up"
seconds mesh16_run_to_pairs_s "$t0" "$t2" "16-VM full mesh: run --detach to all 240 ordered pairs answering"
"$MV" stop --timeout 60 >/dev/null
