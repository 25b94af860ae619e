#!/bin/sh
# Runs every unit test twice: plain and under ASan+UBSan.
# Usage: run-unit.sh BUILD TEST...
set -u
build=$1
shift
pass=0
fail=0
for t in "$@"; do
	for bin in "$build/tests/$t" "$build/asan/tests/$t"; do
		if "$bin" >"$bin.log" 2>&1; then
			pass=$((pass + 1))
			echo "ok   $bin ($(grep -c '^\[       OK' "$bin.log") cases)"
		else
			fail=$((fail + 1))
			echo "FAIL $bin"
			sed 's/^/    /' "$bin.log"
		fi
	done
done
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
