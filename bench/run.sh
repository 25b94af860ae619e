#!/bin/sh
# make bench: forwarding throughput of the per-frame path (in-process),
# the machine's cost of a system call and of a process switch,
# multivm's links against DPDK's vhost-user forwarding on one core, boot
# times (3 VMs, a 16-VM mesh, a bare QEMU guest), VMM resident memory, a
# VXLAN tunnel between two systems against Linux's vxlan devices. Figures
# go to stdout; nothing here is pass/fail beyond "it ran".
set -eu
build=$1
"$build/bench/bench_fwd" "${BENCH_SECONDS:-2}"
# What a system call, a process switch and a doorbell cost here: the
# VMMs pay them per batch (docs/performance.md).
"$build/bench/switchcost" 0
sh bench/vhost_fwd.sh "$build"
# BENCH_BOOT16=0 skips the 16-VM mesh in boot.sh (a few minutes under TCG).
sh bench/boot.sh "$build"
# VXLAN: multivm's tunnel against Linux's vxlan devices (VX_ROUNDS,
# VX_SECONDS, VX_SIZES); BENCH_VXLAN=0 skips it.
[ "${BENCH_VXLAN:-1}" = 0 ] || sh bench/vxlan.sh "$build"
# Guest-to-guest TCP (iperf3): TCP_PARTS, TCP_TESTS, TCP_SECONDS; BENCH_TCP=0 skips it.
[ "${BENCH_TCP:-1}" = 0 ] || sh bench/tcp.sh "$build"
