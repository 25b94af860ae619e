#!/bin/sh
# Runs fuzz targets. SECONDS 0: replay each checked-in corpus once.
# Usage: run.sh BUILD SECONDS TARGET...
set -u
build=$1
secs=$2
shift 2
pass=0
fail=0
for t in "$@"; do
	corpus=tests/fuzz/corpus/$t
	mkdir -p "$corpus" "$build/fuzz/new/$t"
	log=$build/fuzz/$t.log
	if [ "$secs" -eq 0 ]; then
		set -- -runs=0 "$corpus"
	else
		set -- -max_total_time="$secs" -print_final_stats=1 "$build/fuzz/new/$t" "$corpus"
	fi
	if "$build/fuzz/$t" -rss_limit_mb=4096 "$@" >"$log" 2>&1; then
		pass=$((pass + 1))
		echo "ok   $t ($(grep -aE 'stat::number_of_executed_units|Done [0-9]+ runs' "$log" | tail -n 1))"
	else
		fail=$((fail + 1))
		echo "FAIL $t"
		tail -n 40 "$log" | sed 's/^/    /'
	fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
