#!/bin/sh
# Runs every end-to-end test against the plain and the ASan+UBSan build.
# Usage: run-e2e.sh BUILD [TEST...]
set -u
build=$1
shift
tests=${*:-$(ls tests/e2e/test_*.sh)}
pass=0
fail=0
skip=0
for bin in "$build/multivm" "$build/asan/multivm"; do
	for t in $tests; do
		log="$build/e2e-$(basename "$t" .sh)-$(basename "$(dirname "$bin")").log"
		echo "== $t with $bin"
		MV=$(realpath "$bin") HOSTILE=$(realpath "$build/tools/hostile_frontend") \
			SYSINJECT=$(realpath "$build/tools/sysinject") \
			timeout 900 sh "$t" >"$log" 2>&1
		rc=$?
		if [ $rc -eq 0 ]; then
			pass=$((pass + 1))
			echo "ok   $t ($bin)"
		elif [ $rc -eq 77 ]; then	# the test said this host cannot run it
			skip=$((skip + 1))
			echo "skip $t ($bin): $(grep SKIP "$log" | tail -n 1)"
		else
			fail=$((fail + 1))
			echo "FAIL $t ($bin)"
			sed 's/^/    /' "$log"
		fi
	done
done
echo "e2e: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
