# Shared by the benchmark scripts (sourced). The helpers the end-to-end
# tests use too (say, skip, wait_for, mac_of, pid_of, status_field,
# netns_veth, vxlan_systems, testpmd_start, port_stat) are in tests/lib.sh.
. "$(dirname "$0")/../tests/lib.sh"

# Every figure a bench prints is also one line of $BENCH_FIGURES (make
# bench: BUILD/bench/figures.tsv): commit, machine, bench, metric, value,
# tab-separated, for the docs to cite. Unset (a script run by hand):
# printed only.
: "${BENCH_COMMIT:=$(git describe --always --dirty 2>/dev/null || echo unknown)}"
: "${BENCH_MACHINE:=$(awk -F': *' '/^model name/ { m = $2; exit } END { print m ? m : "unknown CPU" }' /proc/cpuinfo) x$(nproc)}"
export BENCH_COMMIT BENCH_MACHINE

# figure BENCH METRIC VALUE: records one figure (METRIC names its unit,
# e.g. multivm_mpps_64B).
figure() {
	[ -n "${BENCH_FIGURES:-}" ] || return 0
	printf '%s\t%s\t%s\t%s\t%s\n' "$BENCH_COMMIT" "$BENCH_MACHINE" "$1" "$2" "$3" >>"$BENCH_FIGURES"
}

# ---- one dpdk-testpmd virtio-user frontend (vhost_fwd.sh, vxlan.sh) ----
# The caller sets W, its work directory, and fe= before use; the frontend
# reads commands on fd 3, its output is $W/fe.log.

# fe_start SOCK0 MAC0 SOCK1 MAC1 SIZE: testpmd on CPU 1, port 0 on SOCK0
# sending to MAC1 and port 1 on SOCK1 sending to MAC0 (`fwd mac`, queue
# size 256, burst 32, 16 bursts in flight, frames of SIZE bytes, a pool of
# 8192 mbufs so that no page of it goes cold). After a 1 s warm-up it asks
# for the baseline stats. Sets $fe.
fe_start() {
	testpmd_start 3 "$W/fe" 1 --lcores '(0,1)@1' \
		--vdev="net_virtio_user0,path=$1,mac=$2,queues=1,queue_size=256" \
		--vdev="net_virtio_user1,path=$3,mac=$4,queues=1,queue_size=256" \
		-- -i --nb-cores=1 --burst=32 --txd=256 --rxd=256 --txpkts="$5" --total-num-mbufs=8192 \
		--eth-peer=0,"$4" --eth-peer=1,"$2" || { fe=$testpmd; echo "frontend did not start"; return 1; }
	fe=$testpmd
	echo "set fwd mac" >&3
	echo "start tx_first 16" >&3
	sleep 1				# warm-up; then a baseline for Rx-pps
	echo "show port stats all" >&3
}

# fe_stop: stops and quits the frontend (the caller has asked for the
# second stats); leaves the rate of both ports, frames/s, in $rate.
fe_stop() {
	echo "stop" >&3
	wait_for 30 grep -q 'Accumulated forward statistics' "$W/fe.log"
	testpmd_quit 3 "$W/fe" "$fe"
	fe=
	rate=$(($(port_stat "$W/fe.log" 0 Rx-pps 2) + $(port_stat "$W/fe.log" 1 Rx-pps 2)))
}

median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
mpps() { awk -v r="$1" 'BEGIN { printf "%.2f", r / 1e6 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b ? a / b : 0 }'; }

# ---- bare QEMU guests from multivm's own recipe (boot.sh, tcp.sh) ----
# `multivm qemu-argv [--engine E] [--netdev SPEC] [--nic-opts OPTS]
# [--serial FILE] CONFIG VM` prints the QEMU command line multivm gives VM,
# one argument a line, with what a bare guest changes; its sockets (e.g.
# VM.agent, for `multivm agent-exec`) are in the -S directory.
# run_argv FILE [PREFIX...] &: runs the command line in FILE (one argument
# a line) behind PREFIX (e.g. taskset -c 1, ip netns exec NS). Only in the
# background: it replaces the shell that runs it, so $! is QEMU's pid
# (taskset and ip netns exec replace themselves too).
run_argv() {
	f=$1
	shift
	IFS='
'
	set -f
	# shellcheck disable=SC2046
	exec "$@" $(cat "$f")
}
