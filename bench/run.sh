#!/bin/sh
# make bench: forwarding throughput of the per-frame path (in-process),
# multivm's links against DPDK's vhost-user forwarding on one core, boot
# times and VMM resident memory. Figures go to stdout; nothing here is
# pass/fail beyond "it ran".
set -eu
build=$1
"$build/bench/bench_fwd" "${BENCH_SECONDS:-2}"
sh bench/vhost_fwd.sh "$build"
sh bench/boot.sh "$build"
# Guest-to-guest TCP (iperf3): TCP_PARTS, TCP_TESTS, TCP_SECONDS; BENCH_TCP=0 skips it.
[ "${BENCH_TCP:-1}" = 0 ] || sh bench/tcp.sh "$build"
