#!/bin/sh
# make bench: multivm's links against DPDK's own vhost-user forwarding, on
# the same core, with the same frontend.
#
# Backend (everything on CPU 0): either two multivm VMMs joined by one link
# (`run --no-guests`, configs/pair.ini), or dpdk-testpmd with two net_vhost
# ports in io forwarding. Frontend (CPU 1): one dpdk-testpmd with two
# net_virtio_user ports (queue size 256, burst 32), `set fwd mac`, port 0
# sending to vm1's MAC and port 1 to vm0's, `start tx_first 16`. The rate is
# the sum of both frontend ports' Rx-pps over FWD_SECONDS, after a warm-up.
# Rounds alternate between the two backends; per size the medians and the
# ratio are printed, and for multivm the counters' balance.
#
# The part "wire": the same two VMMs and the same frontend, but joined by
# a wire (tests/e2e/configs/wire_pair.ini: `vm0:eth0 = vm1:eth0`, every
# frame copied to the other end, no MAC lookup) against the segment link
# of pair.ini, at FWD_WIRE_SIZES (default 64 1500), FWD_ROUNDS rounds of
# each alternating (the wire first in odd rounds, the segment first in
# even ones); every round, the medians and the ratio wire/segment
# (target: >= 1.00). FWD_WIRE=no skips it.
#
# Usage: vhost_fwd.sh BUILD   (FWD_ROUNDS, FWD_SECONDS, FWD_SIZES, FWD_PARTS,
# FWD_DPDK=no: multivm rounds only, FWD_PROFILE=1, FWD_PINGS, FWD_MESH,
# FWD_WIRE=no, FWD_WIRE_SIZES)
set -u
TEST_NAME=fwd
build=$1
MV=$(realpath "$build/multivm")
ROUNDS=${FWD_ROUNDS:-5}
SECS=${FWD_SECONDS:-3}
SIZES=${FWD_SIZES:-64 512 1500}
PAIR=$(realpath tests/e2e/configs/pair.ini)
WIRE=$(realpath tests/e2e/configs/wire_pair.ini)
MAC0=52:54:00:4d:56:01
MAC1=52:54:00:4d:56:02
W=$(mktemp -d /tmp/mvb.XXXXXX)
. "$(dirname "$0")/lib.sh"
fe=
be=

command -v dpdk-testpmd >/dev/null || skip "dpdk-testpmd missing: apt-get install dpdk-dev"
if [ -n "${FWD_PROFILE:-}" ] && ! command -v perf >/dev/null; then
	echo "fwd: FWD_PROFILE needs perf (apt-get install linux-perf)"
	exit 1
fi
[ "$(nproc)" -ge 2 ] || skip "needs two CPUs: backend on one, frontend on the other"

stop_all() {
	[ -n "$fe" ] && { exec 3>&-; kill "$fe" 2>/dev/null; wait "$fe" 2>/dev/null; }
	[ -n "$be" ] && { exec 4>&-; kill "$be" 2>/dev/null; wait "$be" 2>/dev/null; }
	fe= be=
	MULTIVM_STATE="$W/mv" "$MV" stop >/dev/null 2>&1
}
trap 'stop_all; [ -n "${FWD_KEEP:-}" ] || rm -rf "$W"' EXIT
trap 'exit 1' INT TERM HUP

# The frontend on CPU 1 against sockets $1 and $2, frames of $3 bytes.
# Leaves the rate (frames/s, both ports) in $rate.
run_frontend() {
	fe_start "$1" $MAC0 "$2" $MAC1 "$3" || return 1
	[ -n "${mv_dir:-}" ] && MULTIVM_STATE="$mv_dir" "$MV" stats >"$W/vmm.0" && t0=$(date +%s%N)
	if [ -n "${profile_pids:-}" ]; then	# the measured interval, profiled
		perf stat -x, -o "$W/perf.$3" -e task-clock,context-switches,raw_syscalls:sys_enter,page-faults \
			-p "$profile_pids" -- sleep "$SECS" 2>/dev/null
		perf record -q -o "$W/perf.data" -F 2000 -g -p "$profile_pids" -- sleep 1 >/dev/null 2>&1
	else
		sleep "$SECS"			# the measured interval
	fi
	[ -n "${mv_dir:-}" ] && t1=$(date +%s%N) && MULTIVM_STATE="$mv_dir" "$MV" stats >"$W/vmm.1"
	echo "show port stats all" >&3
	fe_stop
	sent=$(awk '/Accumulated forward statistics/ { a = 1 } a && /TX-packets:/ { print $2; exit }' "$W/fe.log")
	got=$(awk '/Accumulated forward statistics/ { a = 1 } a && /RX-packets:/ { print $2; exit }' "$W/fe.log")
}

# multivm: two VMMs on CPU 0 (taskset is inherited by the children).
# round_multivm SIZE [CONFIG [TAG]]: CONFIG default pair.ini; the balance
# and VMM time go to $W/balance.TAG and $W/vmmtime.TAG (TAG default SIZE).
round_multivm() {
	rm -rf "$W/mv"
	MULTIVM_STATE="$W/mv" taskset -c 0 "$MV" run --detach --no-guests "${2:-$PAIR}" >/dev/null || return 1
	profile_pids=
	[ -n "${FWD_PROFILE:-}" ] && profile_pids=$(MULTIVM_STATE="$W/mv" status_field vmm | paste -sd,)
	mv_dir="$W/mv"
	run_frontend "$W/mv/vm0.vhost" "$W/mv/vm1.vhost" "$1" || return 1
	mv_dir=
	vmm_time "$W/vmm.0" "$W/vmm.1" >>"$W/vmmtime.${3:-$1}"
	[ -n "$profile_pids" ] && profile_report "$1"
	profile_pids=
	MULTIVM_STATE="$W/mv" "$MV" stats >"$W/stats"
	for p in $(MULTIVM_STATE="$W/mv" status_field vmm); do
		rss="$rss $(awk '/^RssAnon:/ { print $2 }' /proc/$p/status)"
	done
	MULTIVM_STATE="$W/mv" "$MV" stop >/dev/null
	# Every frame the frontend sent is delivered or counted as dropped. The
	# frontend stops reading first: what sits in its RX rings was delivered.
	awk -v sent="$sent" -v got="$got" '
		$1 == "vm" { for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "tx_frames") tx += kv[2];
			if (kv[1] ~ /^drop_/ && kv[2] > 0) { drops += kv[2]; why[kv[1]] += kv[2] } } }
		$1 == "link" { for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "delivered") dl += kv[2] } }
		END { r = ""; for (k in why) r = r sprintf(" %s=%d", k, why[k])
			printf "frontend sent %d, VMMs took %d = delivered %d + dropped %d%s: %s (%d delivered, not yet read by the stopped frontend)\n",
			sent, tx, dl, drops, r ? " (" substr(r, 2) ")" : "", (sent == tx && tx == dl + drops && dl >= got) ? "balanced" : "MISMATCH", dl - got }' \
		"$W/stats" >>"$W/balance.${3:-$1}"
}

# DPDK: testpmd with two vhost-user ports ($W/vh0.sock, vh1.sock), io
# forwarding, on CPU 0, reading fd 4 (it runs until that input ends).
# Sets $be.
be_start() {
	rm -f "$W"/vh*.sock
	testpmd_start 4 "$W/be" 0 --lcores '(0,1)@0' \
		--vdev="net_vhost0,iface=$W/vh0.sock,queues=1" --vdev="net_vhost1,iface=$W/vh1.sock,queues=1" \
		-- --nb-cores=1 --burst=32 --forward-mode=io --auto-start
	be=$testpmd
	wait_for 60 test -S "$W/vh1.sock" || { echo "fwd: DPDK vhost did not start"; tail -5 "$W/be.log"; return 1; }
}
be_stop() {
	exec 4>&-
	wait_for 30 sh -c "! kill -0 $be" || kill "$be"
	wait "$be" 2>/dev/null
	be=
}
round_dpdk() {
	be_start || return 1
	run_frontend "$W/vh0.sock" "$W/vh1.sock" "$1" || return 1
	be_stop
}

# Where the VMMs' time went over the measured interval, from their own
# counters (two `multivm stats` readings): busy time per frame forwarded
# (each frame is taken by one VMM and delivered by the other), each
# VMM's share of the core, and the frames a yield and a sleep carried.
vmm_time() {
	awk -v secs="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a) / 1e9 }')" '
		function val(k,   i, kv) { for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) return kv[2] } return 0 }
		$1 == "vm" { s = (FILENAME == ARGV[1]) ? -1 : 1; n[$2] = 1
			busy[$2] += s * val("vmm_busy_ns"); tx += s * val("tx_frames")
			y += s * val("vmm_yields"); sl += s * val("vmm_sleeps") }
		END { for (v in n) { all += busy[v]; share = share sprintf("%s%s %.0f %%", share ? ", " : "", v, busy[v] / secs / 1e7) }
			f = tx ? tx : 1
			printf "%.0f ns busy per frame forwarded; busy share of the core: %s; %.0f frames per yield, %.0f per sleep\n",
				all / f, share, y ? tx / y : 0, sl ? tx / sl : 0 }' "$1" "$2"
}

# FWD_PROFILE=1: what the two VMMs spent per frame forwarded, and where.
profile_report() {
	awk -F, -v rate="$rate" -v secs="$SECS" '
		$3 == "task-clock" { cpu = $1 }	# ms
		$3 == "context-switches" { cs = $1 }
		$3 == "raw_syscalls:sys_enter" { sc = $1 }
		$3 == "page-faults" { pf = $1 }
		END { n = rate * secs; if (n == 0) n = 1
			printf "  profile %sB: per frame %.0f ns of VMM CPU, %.4f context switches, %.4f system calls, %.4f page faults (%.2f Mpps)\n",
				size, cpu * 1e6 / n, cs / n, sc / n, pf / n, rate / 1e6 }' size="$1" "$W/perf.$1"
	perf report -q -i "$W/perf.data" --no-children --sort symbol --percent-limit 2 --stdio 2>/dev/null |
		grep -v '^$' | grep '%' | head -15 | sed 's/^/    /'
}

PARTS=${FWD_PARTS:-throughput latency mesh wire}
want() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }

# A part that fails says so (FAILED) and the others still run; the exit
# status is then 1.
failed=

# throughput SIZE: ROUNDS rounds of each backend, then their medians.
throughput() {
	mv_rates= dp_rates= rss=
	: >"$W/balance.$1"
	: >"$W/vmmtime.$1"
	r=1
	while [ $r -le "$ROUNDS" ]; do
		round_multivm "$1" || { echo "fwd ${1}B: multivm round $r FAILED"; return 1; }
		mv_rates="$mv_rates $rate"
		if [ "${FWD_DPDK:-yes}" = yes ]; then
			round_dpdk "$1" || { echo "fwd ${1}B: dpdk-vhost round $r FAILED"; return 1; }
			dp_rates="$dp_rates $rate"
		fi
		r=$((r + 1))
	done
	size=$1
	m=$(echo "$mv_rates" | median)
	figure fwd "multivm_mpps_${size}B" "$(mpps "$m")"
	if [ -n "$dp_rates" ]; then
		d=$(echo "$dp_rates" | median)
		figure fwd "dpdk_vhost_mpps_${size}B" "$(mpps "$d")"
		figure fwd "ratio_${size}B" "$(ratio "$m" "$d")"
		echo "fwd ${size}B: multivm $(mpps "$m") Mpps, dpdk-vhost $(mpps "$d") Mpps, ratio $(ratio "$m" "$d") ($ROUNDS rounds)"
		echo "  rounds, Mpps: multivm$(for x in $mv_rates; do printf ' %s' "$(mpps "$x")"; done); dpdk-vhost$(for x in $dp_rates; do printf ' %s' "$(mpps "$x")"; done)"
	else	# FWD_DPDK=no: nothing to compare with
		echo "fwd ${size}B: multivm $(mpps "$m") Mpps ($ROUNDS rounds)"
		echo "  rounds, Mpps: multivm$(for x in $mv_rates; do printf ' %s' "$(mpps "$x")"; done)"
	fi
	sed 's/^/  multivm counters: /' "$W/balance.$size"
	sed 's/^/  multivm VMM time: /' "$W/vmmtime.$size"
	echo "  VMM RssAnon after each round (kB):$rss"
}
want throughput && for size in $SIZES; do
	throughput "$size" || { failed=1; stop_all; }
done

# ---- latency: one frame at a time, A -> backend -> B -> backend -> A ----
# bench/pingpong (two busy-polling frontends on CPU 1); backend on CPU 0.
PP=$(realpath "$build/bench/pingpong")
latency() {	# SOCK0 SOCK1 WHO: median and p99 round trip, printed and recorded
	taskset -c 1 timeout 120 "$PP" "$1" $MAC0 "$2" $MAC1 "${FWD_PINGS:-20000}" >"$W/pp.out" || return 1
	read -r _ _ med _ p99 _ <"$W/pp.out"
	figure fwd "${3}_rtt_median_us_64B" "$med"
	figure fwd "${3}_rtt_p99_us_64B" "$p99"
	echo "median $med us, p99 $p99 us"
}
latency_part() {
	rm -rf "$W/mv"
	MULTIVM_STATE="$W/mv" taskset -c 0 "$MV" run --detach --no-guests "$PAIR" >/dev/null || return 1
	mv_lat=$(latency "$W/mv/vm0.vhost" "$W/mv/vm1.vhost" multivm) || return 1
	MULTIVM_STATE="$W/mv" "$MV" stop >/dev/null
	be_start || return 1
	dp_lat=$(latency "$W/vh0.sock" "$W/vh1.sock" dpdk_vhost) || return 1
	be_stop
	echo "latency 64B round trip: multivm $mv_lat; dpdk-vhost $dp_lat"
}
want latency && { latency_part || { echo "fwd latency FAILED"; failed=1; stop_all; }; }


# ---- many VMMs on one core ----
# N VMMs in a full mesh (run --no-guests), all on CPU 0; one frontend on
# CPU 1 with a virtio-user port per VM, port i sending to VM i+1 (mac
# forwarding in testpmd's paired topology keeps every port busy).
mesh() {
	n=$1
	{ i=0; while [ $i -lt "$n" ]; do printf '[vm m%d]\n' $i; i=$((i + 1)); done
	  printf '[links]\nmesh = yes\n'; } >"$W/mesh.ini"
	rm -rf "$W/mv"
	MULTIVM_STATE="$W/mv" taskset -c 0 "$MV" run --detach --no-guests "$W/mesh.ini" >/dev/null || return 1
	vdevs= peers=
	i=0
	while [ $i -lt "$n" ]; do
		vdevs="$vdevs --vdev=net_virtio_user$i,path=$W/mv/m$i.vhost,mac=$(mac_of $i),queues=1,queue_size=256"
		peers="$peers --eth-peer=$i,$(mac_of $(((i + 1) % n)))"
		i=$((i + 1))
	done
	# shellcheck disable=SC2086
	testpmd_start 3 "$W/fe" 1 --lcores '(0,1)@1' $vdevs -- -i --nb-cores=1 --burst=32 --total-num-mbufs=16384 $peers ||
		{ fe=$testpmd; return 1; }
	fe=$testpmd
	echo "set fwd mac" >&3
	echo "start tx_first 16" >&3
	sleep 1
	echo "show port stats all" >&3
	pids=$(MULTIVM_STATE="$W/mv" status_field vmm | paste -sd,)
	if [ -n "${FWD_PROFILE:-}" ]; then
		perf stat -x, -o "$W/perf.mesh" -e task-clock,context-switches,raw_syscalls:sys_enter \
			-p "$pids" -- sleep "$SECS" 2>/dev/null
	else
		sleep "$SECS"
	fi
	echo "show port stats all" >&3
	echo "stop" >&3
	testpmd_quit 3 "$W/fe" "$fe"
	fe=
	MULTIVM_STATE="$W/mv" "$MV" stop >/dev/null
	total=0
	i=0
	while [ $i -lt "$n" ]; do
		total=$((total + $(port_stat "$W/fe.log" $i Rx-pps 2)))
		i=$((i + 1))
	done
	figure fwd "mesh_mpps_64B_N$n" "$(mpps $total)"
	printf ' N=%d %s Mpps' "$n" "$(mpps $total)"
	# FWD_PROFILE=1: per frame, and frames per context switch of the VMMs.
	# (An if, not &&: without FWD_PROFILE mesh must still succeed.)
	if [ -n "${FWD_PROFILE:-}" ]; then
		awk -F, -v rate="$total" -v secs="$SECS" '
			$3 == "task-clock" { cpu = $1 } $3 == "context-switches" { cs = $1 } $3 == "raw_syscalls:sys_enter" { sc = $1 }
			END { f = rate * secs; if (f == 0) f = 1; if (cs == 0) cs = 1
				printf " (%.0f ns CPU, %.4f cs, %.4f sc per frame, %.0f frames per cs)", cpu * 1e6 / f, cs / f, sc / f, f / cs }' \
			"$W/perf.mesh"
	fi
}
if want mesh; then
	printf 'fwd mesh 64B, all VMMs on one core, aggregate:'
	for n in ${FWD_MESH:-2 4 8}; do
		mesh "$n" || { printf ' N=%d FAILED' "$n"; failed=1; stop_all; }
	done
	echo
fi

# ---- a wire against the segment link ----
# wire_part SIZE: ROUNDS rounds of each, alternating, both through
# round_multivm (two VMMs on CPU 0, the frontend on CPU 1, the counters'
# balance checked); every round, the medians and wire/segment.
wire_part() {
	ws=$1 wi_rates= sg_rates= rss=
	for t in wire seg; do : >"$W/balance.$t$ws"; : >"$W/vmmtime.$t$ws"; done
	r=1
	while [ $r -le "$ROUNDS" ]; do
		if [ $((r % 2)) = 1 ]; then order="wire segment"; else order="segment wire"; fi
		for which in $order; do
			if [ "$which" = wire ]; then
				round_multivm "$ws" "$WIRE" "wire$ws" || { echo "fwd wire ${ws}B: wire round $r FAILED"; return 1; }
				wi_rate=$rate wi_rates="$wi_rates $rate"
			else
				round_multivm "$ws" "$PAIR" "seg$ws" || { echo "fwd wire ${ws}B: segment round $r FAILED"; return 1; }
				sg_rate=$rate sg_rates="$sg_rates $rate"
			fi
		done
		echo "fwd wire ${ws}B round $r ($order): wire $(mpps "$wi_rate") Mpps, segment $(mpps "$sg_rate") Mpps, wire/segment $(ratio "$wi_rate" "$sg_rate")"
		r=$((r + 1))
	done
	wm=$(echo "$wi_rates" | median)
	sm=$(echo "$sg_rates" | median)
	figure fwd "wire_mpps_${ws}B" "$(mpps "$wm")"
	figure fwd "segment_mpps_${ws}B" "$(mpps "$sm")"
	figure fwd "ratio_wire_segment_${ws}B" "$(ratio "$wm" "$sm")"
	echo "fwd wire ${ws}B: wire $(mpps "$wm") Mpps, segment $(mpps "$sm") Mpps, ratio wire/segment $(ratio "$wm" "$sm") (target >= 1.00; medians of $ROUNDS rounds)"
	echo "  rounds, Mpps: wire$(for x in $wi_rates; do printf ' %s' "$(mpps "$x")"; done); segment$(for x in $sg_rates; do printf ' %s' "$(mpps "$x")"; done)"
	# The VMMs' own busy time per frame: what each path costs, whatever
	# else the machine runs (the rate also depends on the frontend's CPU).
	wn=$(awk '{ print $1 }' "$W/vmmtime.wire$ws" | median)
	sn=$(awk '{ print $1 }' "$W/vmmtime.seg$ws" | median)
	figure fwd "wire_busy_ns_per_frame_${ws}B" "$wn"
	figure fwd "segment_busy_ns_per_frame_${ws}B" "$sn"
	echo "  VMM busy ns per frame forwarded, median: wire $wn, segment $sn, wire/segment $(ratio "$wn" "$sn") (rounds: wire$(awk '{ printf " %s", $1 }' "$W/vmmtime.wire$ws"); segment$(awk '{ printf " %s", $1 }' "$W/vmmtime.seg$ws"))"
	sed 's/^/  wire counters: /' "$W/balance.wire$ws"
	sed 's/^/  segment counters: /' "$W/balance.seg$ws"
	sed 's/^/  wire VMM time: /' "$W/vmmtime.wire$ws"
	sed 's/^/  segment VMM time: /' "$W/vmmtime.seg$ws"
}
if want wire && [ "${FWD_WIRE:-yes}" != no ]; then
	for ws in ${FWD_WIRE_SIZES:-64 1500}; do
		wire_part "$ws" || { failed=1; stop_all; }
	done
fi
[ -z "$failed" ] || { echo "fwd: FAILED (above)"; exit 1; }
