#!/bin/sh
# make bench: links with impairments set at run time (`multivm link`,
# multivm(8)), issue 29's targets.
#
# Part "delay": three multivm guests, vm0 linked to vm1 and to vm2 (the
# multivm row of bench/tcp.sh: iperf3 in the guests through `multivm
# exec`). The config gives vm0-vm1 a delay of IMPAIR_ROOM (default 5ms,
# the largest measured), which sizes that link's room when the system
# starts (src/link/room.h; "none": no [link] section, link_queue_size
# entries); vm0-vm2 is a plain link. One stream for TCP_SECONDS (default
# 10) vm0->vm2 on the plain link ("plain": what any link does), and
# vm0->vm1 with no delay (`link vm0-vm1 reset`: "none", the anchor), with
# delay=1ms and with delay=5ms (both directions: the RTT grows by 2 and
# 10 ms), all in the same system, in turn within each of IMPAIR_ROUNDS
# rounds (default 5; every other round in reverse order). Round 1 pings
# once under each setting to show the delay is there. Prints every
# round's Gbit/s (iperf3's receiver figure), the medians and the ratios
# 1ms/none (target >= 0.9), 5ms/none (target >= 0.7) and none/plain (the
# room costs nothing), each marked met or not (a missed target does not
# fail the bench).
#
# Part "rate": the shaper's accuracy at RATE_MBITS (default 10 100 1000
# Mbit/s), configured against measured. Two VMMs (`run --no-guests`,
# tests/e2e/configs/pair.ini) on CPU 0 and the frontend of
# bench/vhost_fwd.sh on CPU 1 (dpdk-testpmd, two virtio-user ports, `fwd
# mac`, `start tx_first 16`, frames of RATE_SIZE bytes, default 1500):
# frames circulate vm0->vm1 (into port 1) and vm1->vm0 (into port 0),
# enough of them to keep a shaped link always busy. For each rate: `link
# vm0-vm1 set rate=Nmbit`, 2 s to settle, then each port's Rx-pps over
# RATE_SECONDS (default 5; testpmd's own clock between two `show port
# stats`) times the frame's bytes times 8: bits as the shaper counts them
# (src/link/impair.c: the Ethernet frame, no virtio-net header, no FCS,
# preamble or gap). Cross-check: vm1's VMM's delivered_bytes over the
# same interval (`multivm stats`). RATE_ROUNDS rounds (default 3), the
# rates in turn, every other round in reverse; the medians of each
# direction, the ratio measured/configured (target 0.95 to 1.02), met or
# not.
#
# IMPAIR_PARTS picks parts (default "delay rate"); TCP_ENGINE as tcp.sh.
# Experiments (unset: the built-in guest and the defaults): IMPAIR_QSIZE
# sets [system] link_queue_size for part delay, IMPAIR_RMEM sets both
# guests' tcp_rmem and tcp_wmem maxima to that many bytes.
# Usage: impair.sh BUILD   (root; run under the e2e lock)
set -u
TEST_NAME=impair
build=$1
MV=$(realpath "$build/multivm")
secs=${TCP_SECONDS:-10}
rounds=${IMPAIR_ROUNDS:-5}
engine=${TCP_ENGINE:-tcg}
parts=${IMPAIR_PARTS:-delay rate}
rrounds=${RATE_ROUNDS:-3}
rsecs=${RATE_SECONDS:-5}
rsize=${RATE_SIZE:-1500}
rates=${RATE_MBITS:-10 100 1000}
PAIR=$(realpath tests/e2e/configs/pair.ini)
MAC0=52:54:00:4d:56:01
MAC1=52:54:00:4d:56:02
W=$(mktemp -d /tmp/mvimp.XXXXXX)
# The guests' state directory's ancestors must let the run user pass: not $W.
state=$(mktemp -d /tmp/mvimps.XXXXXX)
. "$(dirname "$0")/lib.sh"
fe=
failed=

cleanup() {
	[ -n "$fe" ] && { exec 3>&-; kill "$fe" 2>/dev/null; wait "$fe" 2>/dev/null; }
	MULTIVM_STATE="$state" "$MV" stop --timeout 30 >/dev/null 2>&1
	MULTIVM_STATE="$W/mv" "$MV" stop --timeout 30 >/dev/null 2>&1
	rm -rf "$W" "$state"
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

# met VALUE LOW [HIGH]: "met" or "NOT met".
met() { awk -v v="$1" -v lo="$2" -v hi="${3:-}" 'BEGIN { print (v != "" && v >= lo && (hi == "" || v <= hi)) ? "met" : "NOT met" }'; }

# ---- part delay ----
gx() { vm=$1; shift; MULTIVM_STATE="$state" "$MV" exec --timeout $((secs + 60)) "$vm" -- "$@"; }
glink() { MULTIVM_STATE="$state" "$MV" link vm0-vm1 "$@" >/dev/null; }

part_delay() {
	cat >"$W/delay.ini" <<INI
[system]
engine = $engine
${IMPAIR_QSIZE:+link_queue_size = $IMPAIR_QSIZE}
[vm vm0]
address = 192.168.1.1/24
[vm vm1]
address = 192.168.1.2/24
[vm vm2]
address = 192.168.1.3/24
[links]
vm0 = vm1 vm2
INI
	room=${IMPAIR_ROOM:-5ms}
	[ "$room" = none ] || printf '[link vm0-vm1]\ndelay = %s\n' "$room" >>"$W/delay.ini"
	MULTIVM_STATE="$state" "$MV" run --detach --timeout 300 "$W/delay.ini" >/dev/null ||
		{ echo "impair: delay: the guests did not start"; return 1; }
	if [ -n "${IMPAIR_RMEM:-}" ]; then
		for v in vm0 vm1 vm2; do
			gx $v "for f in tcp_rmem tcp_wmem; do set -- \$(cat /proc/sys/net/ipv4/\$f); echo \$1 \$2 $IMPAIR_RMEM >/proc/sys/net/ipv4/\$f; done" ||
				{ echo "impair: delay: cannot raise $v's TCP buffers"; return 1; }
		done
		echo "impair: delay: tcp_rmem/tcp_wmem maxima $IMPAIR_RMEM in the guests"
	fi
	[ -n "${IMPAIR_QSIZE:-}" ] && echo "impair: delay: link_queue_size $IMPAIR_QSIZE"
	echo "impair: delay: vm0-vm1 sized for a delay of $room: $(grep -o 'link vm0-vm1: [0-9]* entries.*' "$state/supervisor.log" || echo "link_queue_size entries")"
	for v in vm0 vm1; do
		echo "impair: delay: $v tcp_rmem/tcp_wmem $(gx $v 'cat /proc/sys/net/ipv4/tcp_rmem /proc/sys/net/ipv4/tcp_wmem' | tr '\t\n' '  ')"
	done
	for v in vm1 vm2; do
		gx $v "iperf3 -s -D" >/dev/null || { echo "impair: delay: cannot start iperf3 -s in $v"; return 1; }
	done
	sleep 1
	: >"$W/delay.res"
	start=$(date +%s)
	r=1
	while [ "$r" -le "$rounds" ]; do
		[ $((r % 2)) = 1 ] && order="plain none 1ms 5ms" || order="5ms 1ms none plain"
		for d in $order; do
			to=192.168.1.2
			case $d in
			plain) to=192.168.1.3 ;;
			none) glink reset ;;
			*) glink set delay="$d" ;;
			esac || { echo "impair: delay: multivm link refused delay $d"; return 1; }
			[ "$r" = 1 ] && echo "impair: delay $d: vm0 -> $to ping $(gx vm0 "ping -c 3 -i 0.2 -W 2 $to" | grep -o '[0-9.]*/[0-9.]*/[0-9.]* ms')"
			if gx vm0 "iperf3 -c $to -t $secs -J" >"$W/delay.json" && v=$(parse <"$W/delay.json"); then
				echo "$r $d $v" >>"$W/delay.res"
				echo "impair: round $r: delay $d: $v (Gbit/s, retransmits)"
			else
				echo "$r $d - -" >>"$W/delay.res"
				echo "impair: round $r: delay $d: failed: $(tail -c 300 "$W/delay.json")"
			fi
		done
		r=$((r + 1))
	done
	glink reset
	MULTIVM_STATE="$state" "$MV" stats | awk '/^vm / { d = ""; for (i = 3; i <= NF; i++) if ($i ~ /^drop_/ && $i !~ /=0$/) d = d " " $i
		print "impair: delay: " $2 ":" (d == "" ? " no drops" : d) }'
	MULTIVM_STATE="$state" "$MV" stop --timeout 30 >/dev/null

	echo
	echo "guest-to-guest TCP with delay (both directions), iperf3 one stream vm0->vm1 (plain: vm0->vm2) ${secs} s, engine $engine, vm0-vm1 sized for $room, $rounds rounds in $(($(date +%s) - start)) s, Gbit/s (retransmits)"
	awk -v rounds="$rounds" -v figs="$W/figures" '
		function median(d,   n, i, j, x, a) {
			n = 0
			for (i = 1; i <= rounds; i++) if ((i, d) in v && v[i, d] != "-") a[++n] = v[i, d] + 0
			if (!n) return ""
			for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { x = a[j]; a[j] = a[j - 1]; a[j - 1] = x }
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
		}
		function ratio(a, b) { return (a == "" || a == "-" || b == "" || b == "-" || b + 0 == 0) ? "-" : sprintf("%.2f", a / b) }
		{ v[$1, $2] = $3; x[$1, $2] = $4 }
		END {
			printf "%-6s %16s %16s %16s %16s %10s %10s %10s\n", "round", "plain", "none", "1ms", "5ms", "1ms/none", "5ms/none", "none/plain"
			for (k = 1; k <= rounds; k++) {
				printf "%-6d", k
				for (i = 0; i <= 3; i++) { d = i == 0 ? "plain" : i == 1 ? "none" : i == 2 ? "1ms" : "5ms"
					printf " %16s", v[k, d] == "" ? "-" : v[k, d] == "-" ? "failed" : v[k, d] " (" x[k, d] ")" }
				printf " %10s %10s %10s\n", ratio(v[k, "1ms"], v[k, "none"]), ratio(v[k, "5ms"], v[k, "none"]), ratio(v[k, "none"], v[k, "plain"])
			}
			p = median("plain"); n = median("none"); a = median("1ms"); b = median("5ms")
			printf "%-6s %16s %16s %16s %16s %10s %10s %10s\n", "median", p == "" ? "-" : sprintf("%.3f", p),
				n == "" ? "-" : sprintf("%.3f", n),
				a == "" ? "-" : sprintf("%.3f", a), b == "" ? "-" : sprintf("%.3f", b), ratio(a, n), ratio(b, n), ratio(n, p)
			if (p != "") printf "delay_plain_gbps %.3f\n", p >figs
			if (n != "") printf "delay_none_gbps %.3f\n", n >figs
			if (a != "") printf "delay_1ms_gbps %.3f\n", a >figs
			if (b != "") printf "delay_5ms_gbps %.3f\n", b >figs
			if (ratio(a, n) != "-") printf "ratio_delay_1ms_none %s\n", ratio(a, n) >figs
			if (ratio(b, n) != "-") printf "ratio_delay_5ms_none %s\n", ratio(b, n) >figs
			print ratio(a, n), ratio(b, n) >(figs ".ratios")
		}' "$W/delay.res"
	read -r r1 r5 <"$W/figures.ratios"
	[ "$r1" = - ] && r1=
	[ "$r5" = - ] && r5=
	echo "target 1ms/none >= 0.90: ${r1:--} $(met "$r1" 0.9)"
	echo "target 5ms/none >= 0.70: ${r5:--} $(met "$r5" 0.7)"
	! grep -q ' - -$' "$W/delay.res" || { echo "impair: delay: $(grep -c ' - -$' "$W/delay.res") runs gave no figure"; return 1; }
}

# ---- part rate ----
shows=0
# show: asks the frontend for its port stats and waits for them; the
# Rx-pps of this show is over the time since the one before.
show() {
	echo "show port stats all" >&3
	shows=$((shows + 1))
	wait_for 10 sh -c "[ \$(grep -c 'Rx-pps' '$W/fe.log') -ge $((2 * shows)) ]"
}
# delivered_bytes of every link direction, "FROM->TO BYTES" a line.
link_bytes() {
	MULTIVM_STATE="$W/mv" "$MV" stats | awk '/^link / { for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "delivered_bytes") print $2, kv[2] } }'
}

part_rate() {
	command -v dpdk-testpmd >/dev/null || { echo "impair: rate: SKIP: dpdk-testpmd missing (apt-get install dpdk-dev)"; return 0; }
	[ "$(nproc)" -ge 2 ] || { echo "impair: rate: SKIP: needs two CPUs"; return 0; }
	rm -rf "$W/mv"
	MULTIVM_STATE="$W/mv" taskset -c 0 "$MV" run --detach --no-guests "$PAIR" >/dev/null ||
		{ echo "impair: rate: the VMMs did not start"; return 1; }
	fe_start "$W/mv/vm0.vhost" $MAC0 "$W/mv/vm1.vhost" $MAC1 "$rsize" || return 1
	shows=1
	wait_for 10 grep -q 'Rx-pps' "$W/fe.log"
	: >"$W/rate.res"
	reverse=
	for m in $rates; do reverse="$m $reverse"; done
	r=1
	while [ "$r" -le "$rrounds" ]; do
		[ $((r % 2)) = 1 ] && order=$rates || order=$reverse
		for m in $order; do
			MULTIVM_STATE="$W/mv" "$MV" link vm0-vm1 set rate="${m}mbit" >/dev/null ||
				{ echo "impair: rate: multivm link refused rate=${m}mbit"; return 1; }
			sleep 2
			# each reading of the VMM's bytes timed at its midpoint
			a0=$(date +%s%N); link_bytes >"$W/lb.0"; a1=$(date +%s%N)
			show && sleep "$rsecs" && show ||
				{ echo "impair: rate: the frontend gave no stats"; tail -5 "$W/fe.log"; return 1; }
			b0=$(date +%s%N); link_bytes >"$W/lb.1"; b1=$(date +%s%N)
			t0=$(((a0 + a1) / 2)) t1=$(((b0 + b1) / 2))
			p1=$(port_stat "$W/fe.log" 1 Rx-pps "$shows")
			p0=$(port_stat "$W/fe.log" 0 Rx-pps "$shows")
			vmm=$(awk -v s="$(((t1 - t0) / 1000))" 'FILENAME == ARGV[1] { b[$1] = $2; next } $1 ~ /vm0->vm1|vm0-vm1/ && !done { printf "%.3f", ($2 - b[$1]) * 8 / s; done = 1 }' "$W/lb.0" "$W/lb.1")
			awk -v r="$r" -v m="$m" -v p1="$p1" -v p0="$p0" -v sz="$rsize" -v vmm="${vmm:--}" \
				'BEGIN { printf "%d %d %.3f %.3f %s\n", r, m, p1 * sz * 8 / 1e6, p0 * sz * 8 / 1e6, vmm }' >>"$W/rate.res"
			tail -1 "$W/rate.res" | awk '{ printf "impair: round %d: rate %d Mbit/s: vm0->vm1 %.3f, vm1->vm0 %.3f Mbit/s (vm1 VMM delivered %s Mbit/s)\n", $1, $2, $3, $4, $5 }'
		done
		r=$((r + 1))
	done
	echo "stop" >&3
	wait_for 30 grep -q 'Accumulated forward statistics' "$W/fe.log"
	testpmd_quit 3 "$W/fe" "$fe"
	fe=
	MULTIVM_STATE="$W/mv" "$MV" stats | awk '/^vm / { d = ""; for (i = 3; i <= NF; i++) if ($i ~ /^drop_/ && $i !~ /=0$/) d = d " " $i
		print "impair: rate: " $2 ":" (d == "" ? " no drops" : d) }'
	MULTIVM_STATE="$W/mv" "$MV" stop --timeout 30 >/dev/null

	echo
	echo "rate accuracy: ${rsize} B frames, Mbit/s of Ethernet frames as the shaper counts them (testpmd Rx-pps x ${rsize} x 8 over ${rsecs} s), $rrounds rounds; medians; target measured/configured 0.95..1.02"
	printf '%-10s %10s %7s %10s %7s  %s\n' configured "vm0->vm1" ratio "vm1->vm0" ratio "rounds vm0->vm1"
	for m in $rates; do
		a=$(awk -v m="$m" '$2 == m { printf "%s ", $3 }' "$W/rate.res" | median)
		b=$(awk -v m="$m" '$2 == m { printf "%s ", $4 }' "$W/rate.res" | median)
		each=$(awk -v m="$m" '$2 == m { printf "%s ", $3 }' "$W/rate.res")
		ra3=$(awk -v a="$a" -v m="$m" 'BEGIN { printf "%.3f", a / m }')
		rb3=$(awk -v a="$b" -v m="$m" 'BEGIN { printf "%.3f", a / m }')
		printf '%-10s %10s %7s %10s %7s  %s\n' "$m" "$a" "$ra3" "$b" "$rb3" "$each"
		echo "  rate ${m} Mbit/s: vm0->vm1 ${ra3} $(met "$ra3" 0.95 1.02), vm1->vm0 ${rb3} $(met "$rb3" 0.95 1.02)"
		figure impair "rate_${m}mbit_measured_mbps" "$a"
		figure impair "rate_${m}mbit_measured_rev_mbps" "$b"
		figure impair "ratio_rate_${m}mbit" "$ra3"
		figure impair "ratio_rate_${m}mbit_rev" "$rb3"
	done
}

for p in $parts; do
	case $p in
	delay) part_delay || failed="$failed delay" ;;
	rate) part_rate || failed="$failed rate" ;;
	*) echo "impair: unknown part $p"; exit 2 ;;
	esac
done
touch "$W/figures"
while read -r metric value; do figure impair "$metric" "$value"; done <"$W/figures"
[ -z "$failed" ] || { echo "impair: FAILED:$failed"; exit 1; }
