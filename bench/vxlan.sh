#!/bin/sh
# make bench: frames through a VXLAN tunnel between two multivm systems, next
# to the same traffic through Linux's own vxlan devices, in the same run.
#
# multivm: system A on the host (vm0, tunnel ta on 10.231.16.1) and system B
# in a network namespace (b0, tunnel tb on 10.231.16.2), a veth pair (MTU
# 1600) between them, `run --no-guests`, all their processes on CPU 0. One
# dpdk-testpmd on CPU 1 with two net_virtio_user ports, port 0 on A's vm0
# and port 1 on B's b0, `set fwd mac` (port 0 sends to b0's MAC, port 1 to
# vm0's), `start tx_first 16`: every frame crosses the tunnel, is forwarded
# back by the frontend and crosses again. Measured: the sum of both ports'
# Rx-pps over VX_SECONDS after a 1 s warm-up = frames per second delivered
# at the far side of the tunnel (both directions together).
#
# Linux: two network namespaces joined by a veth pair (MTU 1600), a vxlan
# device (same VNI, port 4789) in each; in each namespace one bench/rawsend
# (AF_PACKET, sendmmsg of 64) writes frames of the same size into its vxlan
# device, addressed to the other device's MAC; one sender on CPU 0 and one
# on CPU 1 (the veth hands the datagram to the receiving side on the
# sender's CPU, so each CPU carries one direction end to end). Measured: the
# sum of both vxlan devices' rx_packets over VX_SECONDS after a 1 s warm-up
# = frames per second decapsulated at the far side (both directions).
# Twice per round: senders on CPUs 0 and 1 (Linux's data path has both
# CPUs), and both senders on CPU 0 (Linux's whole path, senders included,
# has the one CPU multivm's VMMs and tunnels share; multivm's frontend has
# CPU 1 to itself, which Linux's rawsend senders do not get).
#
# Gbit/s counts the inner Ethernet frames (SIZE bytes, no FCS, no
# VXLAN/UDP/IP/Ethernet outer headers). Per size the median of VX_ROUNDS is
# printed.
#
# Heartbeat cost (VX_HB_SECONDS, default 10; 0 skips it): both systems
# idle, up and hearing each other; perf stat counts the two tunnel
# processes' task-clock and context switches over that time: all of it is
# heartbeats (one datagram each way every VXLAN_HB_MS, and the check for a
# silent remote). Printed with its share of one CPU and, in bytes, of the
# link the last round measured at 1500 B.
# Usage: vxlan.sh BUILD (VX_ROUNDS, VX_SECONDS, VX_SIZES, VX_HB_SECONDS)
set -u
TEST_NAME=vxlan
build=$1
MV=$(realpath "$build/multivm")
RAWSEND=$(realpath "$build/bench/rawsend")
ROUNDS=${VX_ROUNDS:-3}
SECS=${VX_SECONDS:-3}
SIZES=${VX_SIZES:-64 1500}
A0=52:54:00:4d:56:01	# vm0 on system A (mac_of 0)
B0=52:54:00:4d:57:01	# b0 on system B (vxlan_systems)
NS=mvbx$$ VH=mvbxh$$ VN=mvbxn$$	# multivm: B's namespace and veth
LA=mvbla$$ LB=mvblb$$ LV=mvblv$$	# Linux: two namespaces and a veth
W=$(mktemp -d /tmp/mvbx.XXXXXX)
. "$(dirname "$0")/lib.sh"
fe=

command -v dpdk-testpmd >/dev/null || skip "dpdk-testpmd missing: apt-get install dpdk-dev"
[ "$(nproc)" -ge 2 ] || skip "needs two CPUs"

stop_all() {
	[ -n "$fe" ] && { exec 3>&-; kill "$fe" 2>/dev/null; wait "$fe" 2>/dev/null; }
	fe=
	vxlan_systems_stop $NS "$W/a" "$W/b"
}
cleanup() {
	stop_all
	ip link del $VH 2>/dev/null
	ip netns del $NS 2>/dev/null
	ip netns del $LA 2>/dev/null
	ip netns del $LB 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

gbps() { awk -v r="$1" -v s="$2" 'BEGIN { printf "%.2f", r * s * 8 / 1e9 }'; }

# ---- networks ----
ip netns add $NS && ip netns add $LA && ip netns add $LB || skip "no network namespaces"
netns_veth $NS $VH $VN 10.231.16 1600 || skip "no veth"

ip link add ${LV}a mtu 1600 netns $LA type veth peer name ${LV}b mtu 1600 netns $LB || exit 1
for s in a b; do
	ns=$LA; [ $s = b ] && ns=$LB
	me=1 peer=2; [ $s = b ] && me=2 peer=1
	ip netns exec $ns ip link set lo up
	ip netns exec $ns ip addr add 10.231.17.$me/24 dev $LV$s
	ip netns exec $ns ip link set $LV$s up
	ip netns exec $ns ip link add vx0 type vxlan id 9 local 10.231.17.$me remote 10.231.17.$peer dstport 4789 dev $LV$s ||
		skip "the kernel has no vxlan devices"
	ip netns exec $ns ip link set vx0 up
done
LAMAC=$(ip netns exec $LA cat /sys/class/net/vx0/address)
LBMAC=$(ip netns exec $LB cat /sys/class/net/vx0/address)

# multivm, frames of $1 bytes: leaves frames/s in $rate.
round_multivm() {
	rm -rf "$W/a" "$W/b"
	vxlan_systems $NS 10.231.16 9 "$W/a" "$W/b" vm0 taskset -c 0 || return 1
	fe_start "$W/a/vm0.vhost" $A0 "$W/b/b0.vhost" $B0 "$1" || return 1
	profile "$1" &
	sleep "$SECS"
	echo "show port stats all" >&3
	wait $! 2>/dev/null
	fe_stop
	"$MV" -S "$W/a" stats >"$W/stats.a.$1"
	stop_all
}

# VX_PERF=DIR: during the measured seconds of each multivm round, profile
# the tunnels and VMMs (children of both supervisors): perf stat per process
# (task-clock, context switches, system calls, sendmmsg and recvmmsg), the
# counters before and after, skbs sent and received on CPU 0 (one per GSO or
# GRO message) and its wake-ups and switches, and a perf record of CPU 0,
# where they run (idle and softirq work show there too).
# Costs a little throughput; off by default.
profile() {
	[ -n "${VX_PERF:-}" ] || return 0
	pids=$( (pgrep -P "$(cat "$W/a/supervisor.pid")"; pgrep -P "$(cat "$W/b/supervisor.pid")") | paste -sd,)
	mkdir -p "$VX_PERF"
	"$MV" -S "$W/a" stats >"$VX_PERF/stats0.a.$1.$r"
	"$MV" -S "$W/b" stats >"$VX_PERF/stats0.b.$1.$r"
	perf stat --per-thread -e task-clock,context-switches,raw_syscalls:sys_enter,syscalls:sys_enter_sendmmsg,syscalls:sys_enter_recvmmsg \
		-p "$pids" -o "$VX_PERF/stat.$1.$r" -- sleep "$((SECS - 1))" 2>/dev/null &
	# skbs on CPU 0 (GSO and GRO units: one per message of many datagrams), and wake-ups
	perf stat -a -C 0 -e net:net_dev_xmit,net:netif_receive_skb,sched:sched_wakeup,sched:sched_switch \
		-o "$VX_PERF/cpu0.$1.$r" -- sleep "$((SECS - 1))" 2>/dev/null &
	perf record -q -e task-clock -g -a -C 0 -o "$VX_PERF/perf.$1.$r.data" -- sleep "$((SECS - 1))" >/dev/null 2>&1
	wait
	"$MV" -S "$W/a" stats >"$VX_PERF/stats1.a.$1.$r"
	"$MV" -S "$W/b" stats >"$VX_PERF/stats1.b.$1.$r"
	for p in $(echo "$pids" | tr , ' '); do echo "$p $(tr '\0' ' ' </proc/$p/cmdline | cut -c1-60)"; done >"$VX_PERF/pids.$1.$r"
}

rxp() { ip netns exec "$1" cat /sys/class/net/vx0/statistics/rx_packets; }
# Linux, frames of $1 bytes, sender B on CPU $2 (A on CPU 0): leaves
# frames/s in $rate.
round_linux() {
	ip netns exec $LA taskset -c 0 "$RAWSEND" vx0 "$LBMAC" "$LAMAC" "$1" $((SECS + 2)) >"$W/ls.a" 2>&1 &
	sa=$!
	ip netns exec $LB taskset -c "$2" "$RAWSEND" vx0 "$LAMAC" "$LBMAC" "$1" $((SECS + 2)) >"$W/ls.b" 2>&1 &
	sb=$!
	sleep 1
	a0=$(rxp $LA) b0=$(rxp $LB) t0=$(date +%s.%N)
	sleep "$SECS"
	a1=$(rxp $LA) b1=$(rxp $LB) t1=$(date +%s.%N)
	wait $sa $sb
	rate=$(awk -v n=$((a1 - a0 + b1 - b0)) -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", n / (b - a) }')
	sent=$(($(awk '{ print $2 }' "$W/ls.a") + $(awk '{ print $2 }' "$W/ls.b")))
	echo "  linux round ${1}B, CPUs 0,$2: senders wrote $sent frames in $((SECS + 2)) s ($(mpps $((sent / (SECS + 2)))) Mpps offered), far sides decapsulated $(mpps "$rate") Mpps" >>"$W/notes.$1"
}

list() { for x in "$@"; do printf ' %s' "$(mpps "$x")"; done; }
# sized SIZE: ROUNDS rounds of multivm and of Linux, then their medians.
sized() {
	size=$1 mv_rates= lx_rates= l1_rates=
	: >"$W/notes.$size"
	r=1
	while [ $r -le "$ROUNDS" ]; do
		round_multivm "$size" || { echo "vxlan ${size}B: multivm round $r FAILED"; return 1; }
		mv_rates="$mv_rates $rate"
		round_linux "$size" 1
		lx_rates="$lx_rates $rate"
		round_linux "$size" 0
		l1_rates="$l1_rates $rate"
		r=$((r + 1))
	done
	m=$(echo "$mv_rates" | median)
	[ "$size" = 1500 ] && last1500=$m
	l=$(echo "$lx_rates" | median)
	l1=$(echo "$l1_rates" | median)
	figure vxlan "multivm_mpps_${size}B" "$(mpps "$m")"
	figure vxlan "linux_2cpu_mpps_${size}B" "$(mpps "$l")"
	figure vxlan "linux_cpu0_mpps_${size}B" "$(mpps "$l1")"
	figure vxlan "ratio_linux_2cpu_${size}B" "$(ratio "$m" "$l")"
	figure vxlan "ratio_linux_cpu0_${size}B" "$(ratio "$m" "$l1")"
	echo "vxlan ${size}B: multivm tunnel $(mpps "$m") Mpps ($(gbps "$m" "$size") Gbit/s); linux vxlan on 2 CPUs $(mpps "$l") Mpps ($(gbps "$l" "$size") Gbit/s), ratio $(ratio "$m" "$l"); linux vxlan on CPU 0 only (the CPU multivm's data path gets) $(mpps "$l1") Mpps, ratio $(ratio "$m" "$l1") ($ROUNDS rounds, medians)"
	# shellcheck disable=SC2086
	echo "  rounds, Mpps: multivm$(list $mv_rates); linux 2 CPUs$(list $lx_rates); linux CPU 0$(list $l1_rates)"
	sed 's/^/  /' "$W/notes.$size"
	awk '$1 == "vm" && $2 == "ta" { for (i = 3; i <= NF; i++) if ($i ~ /^(rx_frames|tx_frames|drop_[a-z_]*)=[1-9]/) printf " %s", $i }
		END { print "" }' "$W/stats.a.$size" | sed 's/^/  last multivm round, tunnel ta counters:/'
}
# heartbeats: the idle tunnels' cost (see the top).
heartbeats() {
	hs=${VX_HB_SECONDS:-10}
	[ "$hs" -gt 0 ] || return 0
	command -v perf >/dev/null || { echo "vxlan heartbeat: perf missing, not measured"; return 0; }
	rm -rf "$W/a" "$W/b"
	vxlan_systems $NS 10.231.16 9 "$W/a" "$W/b" vm0 taskset -c 0 || return 1
	up() { [ "$(MULTIVM_STATE="$W/a" status_field state ta)" = up ] && [ "$(MULTIVM_STATE="$W/b" status_field state tb)" = up ]; }
	wait_for 20 up || { echo "vxlan heartbeat: the tunnels did not come up"; stop_all; return 1; }
	ta=$(MULTIVM_STATE="$W/a" status_field vmm ta) tb=$(MULTIVM_STATE="$W/b" status_field vmm tb)
	perf stat -x, -e task-clock,context-switches -p "$ta,$tb" -o "$W/hb.stat" -- sleep "$hs" 2>/dev/null
	stop_all
	ms=$(awk -F, '$3 == "task-clock" { print $1 }' "$W/hb.stat")
	cs=$(awk -F, '$3 == "context-switches" { print $1 }' "$W/hb.stat")
	# one datagram each way per 400 ms: 14 + 20 + 8 + 8 + 60 bytes
	awk -v ms="$ms" -v cs="$cs" -v s="$hs" -v r="${last1500:-0}" 'BEGIN {
		per = 1000 / 400; bits = per * 110 * 8; cap = r * 1500 * 8
		printf "vxlan heartbeat: 2 idle tunnels over %d s: %.3f ms of CPU (%.4f %% of one CPU, %.1f us per heartbeat sent or received), %d context switches (%.1f/s); on the wire %.1f datagrams/s each way, %.0f bit/s", s, ms, ms / (s * 10), ms * 1000 / (s * per * 4), cs, cs / s, per, bits
		if (cap > 0)
			printf " = %.5f %% of the 1500 B figure (%.2f Gbit/s)", bits * 100 / cap, cap / 1e9
		printf "\n"
	}'
	figure vxlan heartbeat_cpu_percent "$(awk -v ms="$ms" -v s="$hs" 'BEGIN { printf "%.4f", ms / (s * 10) }')"
}

# A size that fails says so (FAILED) and the others still run; the exit
# status is then 1.
failed=
for size in $SIZES; do
	sized "$size" || { failed=1; stop_all; }
done
heartbeats || failed=1
[ -z "$failed" ]
