# Shell helpers shared by the end-to-end tests (tests/e2e/lib.sh) and the
# benchmarks (bench/lib.sh), which source this file. Those that run
# multivm use $MV (the binary) and its state directory from the
# environment (MULTIVM_STATE=DIR before the call picks another).

# say MESSAGE: one line, prefixed with TEST_NAME (or the script's name).
say() { printf '%s: %s\n' "${TEST_NAME:-${0##*/}}" "$*"; }

# skip REASON: this host cannot run the script. Exit status 77, which
# tests/run-e2e.sh and bench/run.sh report as skipped, not failed.
skip() {
	say "SKIP: $*"
	exit 77
}

# wait_for SECONDS CMD...: polls CMD until it succeeds or the deadline passes.
wait_for() {
	limit=$1
	shift
	end=$(($(date +%s) + limit))
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.1
	done
}

# mac_of N: the MAC of the Nth VM (from 0) of a config that gives it none
# (multivm.ini(5)): 52:54:00:4d:56:(N+1).
mac_of() { printf '52:54:00:4d:56:%02x\n' $(($1 + 1)); }

# status_field KEY [VM]: KEY (state, vmm, qemu, engine, ...) of VM from
# `multivm status --json`, or of every VM, one a line. Prints nothing
# when no system answers.
status_field() {
	"$MV" status --json 2>/dev/null | python3 -c '
import json, sys
try:
    vms = json.load(sys.stdin)["vms"]
except (ValueError, KeyError):
    sys.exit(1)
for v in vms:
    if len(sys.argv) < 3 or v["name"] == sys.argv[2]:
        print(v.get(sys.argv[1], ""))' "$@"
}
# pid_of VM vmm|qemu, state_of VM: from status_field.
pid_of() { status_field "$2" "$1"; }
state_of() { status_field state "$1"; }

# netns_veth NS HOSTIF NSIF NET [MTU]: namespace NS joined to the host by
# a veth pair: host end HOSTIF as NET.1/24, namespace end NSIF as
# NET.2/24, both up (MTU: of both ends). Fails where veth pairs cannot be
# made. The caller creates NS and deletes both.
netns_veth() {
	ip link add "$2" ${5:+mtu "$5"} type veth peer name "$3" ${5:+mtu "$5"} netns "$1" || return 1
	ip addr add "$4.1/24" dev "$2" && ip link set "$2" up &&
		ip netns exec "$1" ip link set lo up &&
		ip netns exec "$1" ip addr add "$4.2/24" dev "$3" &&
		ip netns exec "$1" ip link set "$3" up
}

# vxlan_systems NS NET VNI ADIR BDIR "A-VMS" [PREFIX...]: two multivm
# systems joined by a VXLAN tunnel (VNI), no guests (run --no-guests),
# each in its own state directory: A on the host (ADIR) with the VMs
# A-VMS (linked to each other) each linked to tunnel ta on NET.1, B in
# the namespace NS (BDIR) with b0 (MAC 52:54:00:4d:57:01) linked to
# tunnel tb on NET.2. PREFIX (e.g. taskset -c 0) runs before multivm.
# The configs are DIR/system.ini.
# The namespace and its veth are the caller's (netns_veth).
vxlan_systems() {
	ns=$1 net=$2 vni=$3 adir=$4 bdir=$5 avms=$6
	shift 6
	mkdir -p "$adir" "$bdir"
	{
		printf '[system]\naddressing = manual\n'
		for v in $avms; do printf '[vm %s]\n' "$v"; done
		printf '[tunnel ta]\nlocal = %s.1\nremote = %s.2\nvni = %s\n[links]\n' "$net" "$net" "$vni"
		[ "$(echo $avms | wc -w)" -gt 1 ] && printf 'mesh = yes\n'
		for v in $avms; do printf '%s = ta\n' "$v"; done
	} >"$adir/system.ini"
	printf '[system]\naddressing = manual\n[vm b0]\nmac = 52:54:00:4d:57:01\n[tunnel tb]\nlocal = %s.2\nremote = %s.1\nvni = %s\n[links]\nb0 = tb\n' \
		"$net" "$net" "$vni" >"$bdir/system.ini"
	"$@" "$MV" -S "$adir" run --detach --no-guests "$adir/system.ini" >/dev/null || return 1
	ip netns exec "$ns" "$@" "$MV" -S "$bdir" run --detach --no-guests "$bdir/system.ini" >/dev/null
}

# vxlan_systems_stop NS ADIR BDIR: stops both, whatever state they are in.
vxlan_systems_stop() {
	"$MV" -S "$2" stop --timeout 30 >/dev/null 2>&1 ||
		{ [ -f "$2/supervisor.pid" ] && kill -9 "$(cat "$2/supervisor.pid")" 2>/dev/null; }
	ip netns exec "$1" "$MV" -S "$3" stop --timeout 30 >/dev/null 2>&1 ||
		{ [ -f "$3/supervisor.pid" ] && kill -9 "$(cat "$3/supervisor.pid")" 2>/dev/null; }
	return 0
}

# testpmd_start FD NAME CPU ARGS...: dpdk-testpmd in the background as
# this machine runs it (no hugepages: --no-huge -m 1024
# --single-file-segments; no PCI scan; a file prefix of its own), on CPU
# (taskset; - for any), its output line by line in NAME.log, its commands
# from the FIFO NAME.in, which we hold open on FD (3 to 9): testpmd quits
# when its input ends. ARGS: EAL options (--vdev ...), then -- and
# testpmd's own. With -i it returns once testpmd prompts (1 if it did not
# within 60 s). Sets $testpmd to its pid.
testpmd_start() {
	fd=$1 name=$2 cpu=$3
	shift 3
	rm -f "$name.in" "$name.log"
	mkfifo "$name.in" || return 1
	set -- stdbuf -oL dpdk-testpmd --no-huge -m 1024 --single-file-segments --no-pci \
		--file-prefix="mv${name##*/}$$" "$@"
	[ "$cpu" = - ] || set -- taskset -c "$cpu" "$@"
	"$@" <"$name.in" >"$name.log" 2>&1 &
	testpmd=$!
	eval "exec $fd>\"\$name.in\""
	case " $* " in
	*" -i "*) wait_for 60 grep -q 'testpmd>' "$name.log" || { tail -5 "$name.log"; return 1; } ;;
	esac
}

# testpmd_quit FD NAME PID: asks an interactive testpmd to quit, closes its
# input and waits for it. Its output is complete once it has exited.
testpmd_quit() {
	echo "quit" >&"$1"
	wait_for 30 grep -q 'Bye' "$2.log"
	rc=$?
	eval "exec $1>&-"
	wait "$3" 2>/dev/null
	return $rc
}

# port_stat LOG PORT FIELD [N]: FIELD (RX-packets, Rx-pps, ...) of port
# PORT in the Nth "show port stats" of testpmd's LOG, default the last.
port_stat() {
	awk -v p="$2" -v f="$3:" -v n="${4:-0}" '
		/NIC statistics for port/ { cur = $(NF - 1); seen[cur]++; next }
		/statistics for port|statistics for all ports|######/ { cur = -1 }
		cur == p && (n == 0 || seen[cur] == n) { for (i = 1; i < NF; i++) if ($i == f) v = $(i + 1) }
		END { print v + 0 }' "$1"
}
