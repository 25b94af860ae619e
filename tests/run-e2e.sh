#!/bin/sh
# Runs the end-to-end tests against the plain and the ASan+UBSan build.
# Usage: run-e2e.sh BUILD [TEST...]
#   TEST: ping, test_ping or tests/e2e/test_ping.sh (default: all of them)
#   BUILDS=plain|asan|both (environment; default both)
# `make e2e T="ping dpdk" BUILDS=plain` runs this.
set -u
build=$1
shift
tests=
for t in "${@:-}"; do
	[ -n "$t" ] || continue
	case $t in
	*/*) f=$t ;;
	test_*) f=tests/e2e/$t ;;
	*) f=tests/e2e/test_$t ;;
	esac
	f=${f%.sh}.sh
	[ -f "$f" ] || { echo "run-e2e: no test $t ($f); there are: $(ls tests/e2e/test_*.sh | sed 's,.*/test_,,; s,\.sh$,,' | tr '\n' ' ')" >&2; exit 2; }
	tests="$tests $f"
done
tests=${tests:-$(ls tests/e2e/test_*.sh)}
case ${BUILDS:-both} in
plain) bins="$build/multivm" ;;
asan) bins="$build/asan/multivm" ;;
both) bins="$build/multivm $build/asan/multivm" ;;
*) echo "run-e2e: BUILDS is plain, asan or both, not ${BUILDS}" >&2; exit 2 ;;
esac
pass=0
fail=0
skip=0
for bin in $bins; do
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
