# Shared helpers for end-to-end tests (sourced). Every test gets its own
# short state directory, and everything it starts is stopped on exit. The
# helpers the benchmarks use too (say, skip, wait_for, mac_of, pid_of,
# state_of, netns_veth, vxlan_systems, testpmd_start, port_stat) are in
# tests/lib.sh.
MV=${MV:?MV must name the multivm binary}
STATE=$(mktemp -d /tmp/mvt.XXXXXX)
export MULTIVM_STATE="$STATE"
. "$(dirname "$0")/../lib.sh"

die() { say "FAIL: $*"; dump_logs; exit 1; }

dump_logs() {
	for f in "$STATE"/*.log; do
		[ -f "$f" ] || continue
		echo "---- $f (last 30 lines)"
		tail -n 30 "$f"
	done
}

# Stops the system and anything left of it, whatever happened.
cleanup() {
	"$MV" stop --timeout 30 >/dev/null 2>&1
	if [ -f "$STATE/supervisor.pid" ]; then
		kill -9 "$(cat "$STATE/supervisor.pid")" 2>/dev/null
	fi
	for p in $(sed -n 's/.*vmm=\([0-9]*\).*qemu=\([0-9]*\).*/\1 \2/p' "$STATE/status" 2>/dev/null); do
		[ "$p" -gt 0 ] 2>/dev/null && kill -9 "$p" 2>/dev/null
	done
	rm -rf "$STATE"
}
trap cleanup EXIT
# A signal ends the test; the EXIT trap then stops what it started.
trap 'exit 1' INT TERM HUP

# status_is N CMD...: CMD exits with exactly N. A negative check must not
# pass because `multivm exec` itself failed (255).
status_is() {
	want=$1
	shift
	"$@" >/dev/null 2>&1
	[ $? -eq "$want" ]
}

# Takes one snapshot of `multivm stats`; stat_of reads from it, so values
# compared with each other come from the same moment.
snap() {
	"$MV" stats >"$STATE/stats.out"
}

# Value of KEY=N on the snapshot's line starting with PREFIX.
stat_of() {
	awk -v p="$1" -v k="$2" '
		index($0, p " ") == 1 { for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) print kv[2] } }' \
		"$STATE/stats.out"
}

# refused WANT TEXT: `multivm check` refuses a config of TEXT (printf %b)
# with exactly FILE:WANT (every message: tests/unit/test_config.c).
refused() {
	printf '%b' "$2" >"$STATE/bad.ini"
	out=$("$MV" check "$STATE/bad.ini" 2>&1) && die "check accepted: $2"
	[ "$out" = "$STATE/bad.ini:$1" ] || die "check said '$out', not '$STATE/bad.ini:$1'"
}

# id_of I node|qemu: the uid (and gid) that node I of the config (its [vm]
# or [tunnel] sections in order, from 0) runs its VMM or tunnel, or its
# QEMU, as when started by root: the default [system] uid_range
# (src/common/limits.h, runas.h).
ID_BASE=$(sed -n 's/^#define MV_UID_RANGE_DEFAULT[[:space:]]*"\([0-9]*\)-.*/\1/p' \
	"$(dirname "$0")/../../src/common/limits.h")
id_of() {
	if [ "$2" = qemu ]; then echo $((ID_BASE + 2 * $1 + 1)); else echo $((ID_BASE + 2 * $1)); fi
}
