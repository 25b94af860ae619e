#!/bin/sh
# make bench: forwarding throughput of the per-frame path (in-process),
# the machine's cost of a system call and of a process switch,
# multivm's links against DPDK's vhost-user forwarding on one core, boot
# times (3 VMs, a 16-VM mesh, a bare QEMU guest), VMM resident memory, a
# VXLAN tunnel between two systems against Linux's vxlan devices, guest
# TCP, links impaired at run time (delay, rate), image guests' boot to
# agent ready. Figures go to stdout,
# and one a line to BUILD/bench/figures.tsv (commit, machine, bench,
# metric, value; tab-separated) for the docs to cite. Every part runs,
# whatever the one before did: a part that fails says "bench: PART
# FAILED", one this host cannot run is skipped (exit 77), and the last
# line names both; the exit status is 1 if any failed.
set -u
build=$1
mkdir -p "$build/bench"
export BENCH_FIGURES="$build/bench/figures.tsv"
: >"$BENCH_FIGURES"
. "$(dirname "$0")/lib.sh"
failed=
skipped=

# part NAME CMD...: runs one part and notes how it ended.
part() {
	name=$1
	shift
	echo "== bench: $name"
	"$@"
	rc=$?
	case $rc in
	0) ;;
	77) skipped="$skipped $name" ;;
	*) echo "bench: $name FAILED (exit $rc)"; failed="$failed $name" ;;
	esac
}

# The C benchmarks print a line a figure; each becomes figures too.
inproc() {
	"$build/bench/bench_fwd" "${BENCH_SECONDS:-2}" >"$build/bench/bench_fwd.out"
	rc=$?
	cat "$build/bench/bench_fwd.out"
	sed -n 's/^bench_fwd: frame= *\([0-9]*\) B *capture=\([a-z]*\) *\([0-9.]*\) Mframes\/s *\([0-9.]*\) ns\/frame.*/\1 \2 \3 \4/p' \
		"$build/bench/bench_fwd.out" | while read -r size cap mfps ns; do
		figure bench_fwd "mframes_per_s_${size}B_capture_$cap" "$mfps"
		figure bench_fwd "ns_per_frame_${size}B_capture_$cap" "$ns"
	done
	return $rc
}
# What a system call, a process switch and a doorbell cost here: the
# VMMs pay them per batch (docs/performance.md).
switchcost() {
	out=$("$build/bench/switchcost" 0) || return 1
	echo "$out"
	set -- $(echo "$out" | sed 's/.*system call \([0-9.]*\) us.* core \([0-9.]*\) us.* core) \([0-9.]*\) us.*/\1 \2 \3/')
	figure switchcost syscall_us "$1"
	figure switchcost process_switch_us "$2"
	figure switchcost doorbell_round_trip_us "$3"
}

part bench_fwd inproc
part switchcost switchcost
# FWD_ROUNDS, FWD_SECONDS, FWD_SIZES, FWD_PARTS, FWD_MESH: bench/vhost_fwd.sh.
part vhost_fwd sh bench/vhost_fwd.sh "$build"
# BENCH_BOOT16=0 skips the 16-VM mesh in boot.sh (a few minutes under TCG).
part boot sh bench/boot.sh "$build"
part relink sh bench/relink.sh "$build"
# Wires plugged and unplugged at run time (two guests; HOTPLUG_ROUNDS).
part hotplug sh bench/hotplug.sh "$build"
# A VM added by apply against the same VM booted alone (APPLYBOOT_ROUNDS).
part applyboot sh bench/applyboot.sh "$build"
# VXLAN: multivm's tunnel against Linux's vxlan devices (VX_ROUNDS,
# VX_SECONDS, VX_SIZES); BENCH_VXLAN=0 skips it.
[ "${BENCH_VXLAN:-1}" = 0 ] || part vxlan sh bench/vxlan.sh "$build"
# Guest-to-guest TCP (iperf3): TCP_PARTS, TCP_TESTS, TCP_SECONDS,
# TCP_ROUNDS; BENCH_TCP=0 skips it.
[ "${BENCH_TCP:-1}" = 0 ] || part tcp sh bench/tcp.sh "$build"
# Links impaired at run time (`multivm link`): guest TCP with no delay,
# 1 ms and 5 ms (IMPAIR_ROUNDS, TCP_SECONDS), the shaper's rate against
# what arrives (RATE_MBITS, RATE_ROUNDS, RATE_SECONDS, RATE_SIZE);
# BENCH_IMPAIR=0 skips it.
[ "${BENCH_IMPAIR:-1}" = 0 ] || part impair sh bench/impair.sh "$build"
# Image guests (issue 27): run to agent ready, direct kernel against
# firmware boot, every round (IMGBOOT_ROUNDS); BENCH_IMAGEBOOT=0 skips it.
[ "${BENCH_IMAGEBOOT:-1}" = 0 ] || part imageboot sh bench/imageboot.sh "$build"

echo "bench: $(wc -l <"$BENCH_FIGURES") figures in $BENCH_FIGURES${skipped:+; skipped:$skipped}${failed:+; FAILED:$failed}"
[ -z "$failed" ]
