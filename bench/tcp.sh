#!/bin/sh
# Guest-to-guest TCP throughput (iperf3 in the guests, TCP_SECONDS each,
# default 10): one stream 0->1, one stream 1->0 (-R) and 4 parallel
# streams (-P 4), for
#   multivm     two multivm VMs on one link, offloads on (the default)
#   nooffload   the same with [system] offloads = no
#   stream      two bare QEMU guests joined by QEMU's -netdev stream
#   tap         two bare QEMU guests on TAP devices in a Linux bridge, in a
#               network namespace of their own (libvirt's default network)
#   wire        two multivm VMs on one segment link (192.168.1.x) and one
#               wire (`vm0:eth1 = vm1:eth1`, 10.0.9.1/30 and 10.0.9.2/30):
#               the tests over the wire (row "wire") and over the segment
#               (row "segment") in the same system, in turn (the wire
#               first in odd rounds); their ratio wire/segment is printed
#               too (target >= 0.95)
# all with the same kernel, initramfs, engine (TCP_ENGINE, default tcg),
# memory, one vCPU, CPU model (under TCG `max,-erms`) and virtio-net
# device options: the bare guests run multivm's own QEMU command line
# (`multivm qemu-argv`) with only eth0's netdev and the console replaced
# (and QEMU_QUEUES added to eth0's device), and are driven through their
# agents by `multivm agent-exec`. TCP_ROUNDS rounds (default 3), the
# parts in turn, every other round in reverse order, so that a slow spell
# of a shared machine hits them all alike.
# Prints every round's Gbit/s (iperf3's receiver figure), then the
# median of each and multivm's ratio to each of the others (of medians,
# and per round). TCP_PARTS picks parts, TCP_TESTS tests (fwd rev p4).
# TCP_BEFORE=path/to/an/older/multivm adds the part "before": that binary
# (e.g. one without offloads) with its own guest image, in the same run.
# TCP_PIN=yes keeps guest 0 on the first CPU we may use and guest 1 on the
# last, in every part alike: multivm's VMs with `cpuset` (QEMU and VMM),
# the bare QEMUs with taskset. Default: the scheduler places them all.
# Usage: tcp.sh BUILD   (root; run under the e2e lock)
set -eu
TEST_NAME=tcp
build=$1
MV=$(realpath "$build/multivm")
secs=${TCP_SECONDS:-10}
parts=${TCP_PARTS:-multivm nooffload stream tap wire${TCP_BEFORE:+ before}}
tests=${TCP_TESTS:-fwd rev p4}
engine=${TCP_ENGINE:-tcg}
rounds=${TCP_ROUNDS:-3}
pin=${TCP_PIN:-no}
allowed=$(awk '/^Cpus_allowed_list:/ { print $2 }' /proc/self/status)
cpu0=${allowed%%[-,]*}
cpu1=${allowed##*[-,]}
# virtio-net device options for the bare QEMU parts, to match what
# src/supervisor/qemu.c gives multivm's guests where the option exists
# (e.g. rx_queue_size=1024; QEMU keeps a TX queue of 256 for backends
# other than vhost-user). Default: none, as multivm's.
queues=${QEMU_QUEUES-}
work=$(mktemp -d /tmp/mvtcp.XXXXXX)
# The state directory's ancestors must let the run user pass: not $work.
state=$(mktemp -d /tmp/mvtcps.XXXXXX)
export MULTIVM_STATE="$state"
. "$(dirname "$0")/lib.sh"
ns=mvtcp$$
pids=

cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	"$MV" stop --timeout 30 >/dev/null 2>&1 || true
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$work" "$state"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

# iperf3 -J output on stdin: Gbit/s the receiver saw, and retransmissions.
parse() {
	python3 -c '
import json, sys
e = json.load(sys.stdin)["end"]
print("%.3f %d" % (e["sum_received"]["bits_per_second"] / 1e9, e["sum_sent"].get("retransmits", 0)))'
}

# run_tests PART EXEC0 EXEC1: EXECn runs a shell command in guest n.
run_tests() {
	$3 "iperf3 -s -D" >/dev/null || { echo "tcp: $1: cannot start iperf3 -s" >&2; return 1; }
	sleep 1
	run_iperf "$1" "$2" 192.168.1.2
}

# run_iperf ROW EXEC0 ADDR: the tests from guest 0 to iperf3 -s at ADDR.
run_iperf() {
	part=$1 x0=$2 addr=$3
	for t in $tests; do
		case $t in
		fwd) opt= ;;
		rev) opt=-R ;;
		p4) opt="-P 4" ;;
		esac
		# shellcheck disable=SC2086
		if $x0 "iperf3 -c $addr -t $secs -J $opt" >"$work/$part.$t.json" &&
			r=$(parse <"$work/$part.$t.json"); then
			echo "$round $part $t $r" >>"$work/results"
			echo "tcp: round $round: $part $t: $r (Gbit/s, retransmits)" >&2
		else
			echo "$round $part $t - -" >>"$work/results"
			echo "tcp: round $round: $part $t: failed: $(tail -c 300 "$work/$part.$t.json")" >&2
		fi
	done
}

mv_exec0() { "$MV" exec --timeout $((secs + 60)) vm0 -- "$1"; }
mv_exec1() { "$MV" exec --timeout $((secs + 60)) vm1 -- "$1"; }

part_multivm() {	# PART OFFLOADS [MULTIVM]
	cat >"$work/$1.ini" <<INI
[system]
engine = $engine
$([ "$2" = no ] && echo "offloads = no")
[vm vm0]
address = 192.168.1.1/24
$([ "$pin" = yes ] && echo "cpuset = $cpu0")
[vm vm1]
address = 192.168.1.2/24
$([ "$pin" = yes ] && echo "cpuset = $cpu1")
[links]
vm0 = vm1
INI
	keep=$MV
	MV=${3:-$MV}
	"$MV" run --detach --timeout 300 "$work/$1.ini" >/dev/null
	run_tests "$1" mv_exec0 mv_exec1 || true
	# Where frames were lost, if anywhere (TCP's retransmissions).
	"$MV" stats | awk -v p="$1" -v r="$round" '/^vm / { d = ""; for (i = 3; i <= NF; i++) if ($i ~ /^drop_/ && $i !~ /=0$/) d = d " " $i
		print "tcp: round " r ": " p " " $2 ":" (d == "" ? " no drops" : d) }' >&2
	"$MV" stop --timeout 30 >/dev/null
	MV=$keep
}

# wire: the segment link of part_multivm and a wire between eth1 and eth1;
# the tests over each in turn, in the same system.
part_wire() {
	cat >"$work/wire.ini" <<INI
[system]
engine = $engine
[vm vm0]
address = 192.168.1.1/24
eth1.address = 10.0.9.1/30
$([ "$pin" = yes ] && echo "cpuset = $cpu0")
[vm vm1]
address = 192.168.1.2/24
eth1.address = 10.0.9.2/30
$([ "$pin" = yes ] && echo "cpuset = $cpu1")
[links]
vm0 = vm1
vm0:eth1 = vm1:eth1
INI
	"$MV" run --detach --timeout 300 "$work/wire.ini" >/dev/null
	if mv_exec1 "iperf3 -s -D" >/dev/null; then
		sleep 1
		if [ $((round % 2)) = 1 ]; then
			run_iperf wire mv_exec0 10.0.9.2; run_iperf segment mv_exec0 192.168.1.2
		else
			run_iperf segment mv_exec0 192.168.1.2; run_iperf wire mv_exec0 10.0.9.2
		fi
	else
		echo "tcp: wire: cannot start iperf3 -s" >&2
	fi
	# Drops, and what each link carried (the wire's and the segment's).
	"$MV" stats | awk -v r="$round" '/^vm / { d = ""; for (i = 3; i <= NF; i++) if ($i ~ /^drop_/ && $i !~ /=0$/) d = d " " $i
		print "tcp: round " r ": wire " $2 ":" (d == "" ? " no drops" : d) }
		/^link / { for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "delivered_bytes") b = kv[2] }
		printf "tcp: round %s: wire link %s: %.0f MB delivered\n", r, $2, b / 1e6 }' >&2
	"$MV" stop --timeout 30 >/dev/null
}

# bare_qemu N NETDEV [NETNS]: guest N (bare0, bare1: 192.168.1.N+1, MAC
# mac_of N, as multivm addresses its Nth VM) in the background.
printf '[vm bare0]\n[vm bare1]\n' >"$work/bare.ini"
bare_qemu() {
	n=$1 netdev=$2 in=${3:-} cpu=
	[ "$pin" = yes ] && { [ "$n" = 0 ] && cpu=$cpu0 || cpu=$cpu1; }
	"$MV" -S "$work" qemu-argv --engine "$engine" --netdev "$netdev" ${queues:+--nic-opts "$queues"} \
		--serial "$work/bare$n.console" "$work/bare.ini" "bare$n" >"$work/bare$n.argv"
	# shellcheck disable=SC2086
	run_argv "$work/bare$n.argv" ${in:+ip netns exec $in} ${cpu:+taskset -c $cpu} >"$work/bare$n.log" 2>&1 &
	pids="$pids $!"
}
bare_exec0() { "$MV" agent-exec --timeout $((secs + 120)) "$work/bare0.agent" -- "$1"; }
bare_exec1() { "$MV" agent-exec --timeout $((secs + 120)) "$work/bare1.agent" -- "$1"; }
bare_stop() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	pids=
	rm -f "$work"/bare*.agent
}

part_stream() {
	bare_qemu 0 "stream,server=on,addr.type=unix,addr.path=$work/stream.sock"
	sleep 1
	bare_qemu 1 "stream,server=off,addr.type=unix,addr.path=$work/stream.sock"
	run_tests stream bare_exec0 bare_exec1 || true
	bare_stop
}

part_tap() {
	if ! ip netns add "$ns" 2>/dev/null; then
		echo "tcp: tap: cannot create a network namespace here; skipped" >&2
		return 0
	fi
	ip -n "$ns" link add br0 type bridge
	ip -n "$ns" link set br0 up
	for i in 0 1; do
		ip -n "$ns" tuntap add "tap$i" mode tap
		ip -n "$ns" link set "tap$i" master br0 up
	done
	bare_qemu 0 "tap,ifname=tap0,script=no,downscript=no" "$ns"
	bare_qemu 1 "tap,ifname=tap1,script=no,downscript=no" "$ns"
	run_tests tap bare_exec0 bare_exec1 || true
	bare_stop
	ip netns del "$ns"
}

: >"$work/results"
order=$parts
reverse=
for p in $parts; do reverse="$p $reverse"; done
# The rows of the tables: the part wire gives two (wire, segment).
rows=
for p in $parts; do [ "$p" = wire ] && rows="$rows wire segment" || rows="$rows $p"; done
start=$(date +%s)
round=1
while [ "$round" -le "$rounds" ]; do
	for p in $order; do
		case $p in
		multivm) part_multivm multivm yes ;;
		nooffload) part_multivm nooffload no ;;
		before) part_multivm before yes "$(realpath "${TCP_BEFORE:?TCP_BEFORE names the older multivm}")" ;;
		stream) part_stream ;;
		tap) part_tap ;;
		wire) part_wire ;;
		*) echo "tcp: unknown part $p" >&2; exit 2 ;;
		esac
	done
	[ "$order" = "$parts" ] && order=$reverse || order=$parts
	round=$((round + 1))
done

echo "guest-to-guest TCP, iperf3 ${secs} s, engine $engine, $rounds rounds in $(($(date +%s) - start)) s,$([ "$pin" = yes ] && echo " guests pinned to CPUs $cpu0 and $cpu1,") Gbit/s (retransmits)"
awk -v tests="$tests" -v parts="$rows" -v rounds="$rounds" -v figs="$work/figures" '
	function median(p, t,   n, i, j, x, a) {
		n = 0
		for (i = 1; i <= rounds; i++) if ((i, p, t) in v && v[i, p, t] != "-") a[++n] = v[i, p, t] + 0
		if (!n) return ""
		for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { x = a[j]; a[j] = a[j - 1]; a[j - 1] = x }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	function ratio(a, b) { return (a == "" || a == "-" || b == "" || b == "-" || b + 0 == 0) ? sprintf(" %8s", "-") : sprintf(" %8.2fx", a / b) }
	{ v[$1, $2, $3] = $4; r[$1, $2, $3] = $5 }
	END {
		nt = split(tests, T, " "); np = split(parts, P, " ")
		printf "%-5s %-10s", "round", "part"; for (i = 1; i <= nt; i++) printf " %16s", T[i]; printf "\n"
		for (k = 1; k <= rounds; k++)
			for (j = 1; j <= np; j++) {
				printf "%-5d %-10s", k, P[j]
				for (i = 1; i <= nt; i++) printf " %16s", v[k, P[j], T[i]] == "" ? "-" : v[k, P[j], T[i]] == "-" ? "failed" : v[k, P[j], T[i]] " (" r[k, P[j], T[i]] ")"
				printf "\n"
			}
		printf "\nmedian of %d rounds\n", rounds
		for (j = 1; j <= np; j++) {
			printf "%-16s", P[j]
			for (i = 1; i <= nt; i++) {
				m[P[j], T[i]] = median(P[j], T[i]); printf " %9s", m[P[j], T[i]] == "" ? "-" : sprintf("%.3f", m[P[j], T[i]])
				if (m[P[j], T[i]] != "") printf "%s_%s_gbps %.3f\n", P[j], T[i], m[P[j], T[i]] >figs
			}
			printf "\n"
		}
		if (("multivm", T[1]) in m) printf "\nmultivm ratio (of medians; then each round)\n"
		for (j = 1; j <= np; j++) {
			if (P[j] == "multivm" || !(("multivm", T[1]) in m)) continue
			printf "%-16s", "/" P[j]
			for (i = 1; i <= nt; i++) {
				printf "%s", ratio(m["multivm", T[i]], m[P[j], T[i]])
				if (m["multivm", T[i]] != "" && m[P[j], T[i]] + 0 > 0)
					printf "ratio_multivm_%s_%s %.2f\n", P[j], T[i], m["multivm", T[i]] / m[P[j], T[i]] >figs
			}
			for (k = 1; k <= rounds; k++) {
				printf "   r%d:", k
				for (i = 1; i <= nt; i++) printf "%s", ratio(v[k, "multivm", T[i]], v[k, P[j], T[i]])
			}
			printf "\n"
		}
		if (("wire", T[1]) in m && ("segment", T[1]) in m) {
			printf "\nwire ratio, wire/segment in the same system (target >= 0.95; of medians, then each round)\n"
			printf "%-16s", "wire/segment"
			for (i = 1; i <= nt; i++) {
				printf "%s", ratio(m["wire", T[i]], m["segment", T[i]])
				if (m["wire", T[i]] != "" && m["segment", T[i]] + 0 > 0)
					printf "ratio_wire_segment_%s %.2f\n", T[i], m["wire", T[i]] / m["segment", T[i]] >figs
			}
			for (k = 1; k <= rounds; k++) {
				printf "   r%d:", k
				for (i = 1; i <= nt; i++) printf "%s", ratio(v[k, "wire", T[i]], v[k, "segment", T[i]])
			}
			printf "\n"
		}
	}' "$work/results"
touch "$work/figures"
while read -r metric value; do figure tcp "$metric" "$value"; done <"$work/figures"
if grep -q ' - -$' "$work/results"; then
	echo "tcp: FAILED: $(grep -c ' - -$' "$work/results") runs gave no figure (above)"
	exit 1
fi
