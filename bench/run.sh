#!/bin/sh
# make bench: forwarding throughput of the per-frame path (in-process), and
# VMM resident memory. Figures go to stdout; nothing here is pass/fail
# beyond "it ran".
set -eu
build=$1
"$build/bench/bench_fwd" "${BENCH_SECONDS:-2}"
sh bench/boot.sh "$build"
