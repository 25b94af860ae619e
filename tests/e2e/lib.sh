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

# supervisor_death_ends_all SECS: SIGKILLs the supervisor; every VMM,
# tunnel and QEMU that status lists, and its guard (supervisor/lifeline.h),
# must be gone within SECS (a zombie is gone: this host's init reaps it
# later). Then `stop` says nothing runs, as a user would find it. Prints
# how long they took. The caller may `run` again in $STATE.
supervisor_death_ends_all() {
	sup=$(cat "$STATE/supervisor.pid")
	all=$(sed -n 's/.*vmm=\([0-9]*\).*qemu=\([0-9]*\).*/\1 \2/p' "$STATE/status")
	guard=$(ps -o pid= -o comm= --ppid "$sup" | awk '$2 == "multivm-guard" { print $1 }')
	[ -n "$guard" ] || die "the supervisor $sup has no guard: $(ps -o pid,comm --ppid "$sup")"
	all="$all $guard"
	n=0
	for p in $all; do [ "$p" -gt 0 ] && n=$((n + 1)); done
	t0=$(date +%s%N)
	kill -9 "$sup" || die "could not kill the supervisor $sup"
	wait_for "$1" none_alive $all ||
		die "alive $1 s after the supervisor's SIGKILL: $(for p in $all; do alive "$p" && ps -o pid=,user=,args= -p "$p"; done)"
	took=$((($(date +%s%N) - t0) / 1000000))
	status_is 1 "$MV" stop || die "stop after the supervisor died: $("$MV" stop 2>&1)"
	say "supervisor SIGKILLed: its $n processes (VMMs, tunnels, QEMUs, guard) gone within ${took} ms; stop says none runs"
}
alive() {
	s=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)
	[ -n "$s" ] && [ "$s" != Z ] && [ "$s" != X ]
}
none_alive() {
	for p in "$@"; do
		[ "$p" -gt 0 ] && alive "$p" && return 1
	done
	return 0
}
