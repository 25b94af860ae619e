#!/bin/sh
# make bench: a wire added and removed by `multivm apply` between two
# running built-in guests (issue 30's "QMP hot-plug time for wires"): per
# round, apply of the config with vm0:eth1 = vm1:eth1 (both running VMMs
# are handed the NICs, each QEMU plugs its NIC over QMP, the guest agent
# names and addresses it); printed: apply's start to each NIC named in its
# guest (apply's own "plugged in N ms" line), and apply's whole time; a
# ping over the wire checks it; then apply of the config without it (NICs
# unplugged: device_del until the guest lets go), its time printed.
# HOTPLUG_ROUNDS rounds (default 3), every round printed, then medians.
# QEMU and VMM pids are checked unchanged. Usage: hotplug.sh BUILD
set -u
TEST_NAME=hotplug
build=$1
MV=$(realpath "$build/multivm")
ROUNDS=${HOTPLUG_ROUNDS:-3}
W=$(mktemp -d /tmp/mvh.XXXXXX)
chmod 755 "$W"	# QEMU (its own uid) reaches the sockets in $W/mv
. "$(dirname "$0")/lib.sh"
cleanup() {
	MULTIVM_STATE="$W/mv" "$MV" stop >/dev/null 2>&1
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE
fail() { echo "hotplug: $*"; exit 1; }

printf '[vm vm0]\n[vm vm1]\n[links]\nvm0 = vm1\n' >"$W/a.ini"
printf '[vm vm0]\neth1.address = 10.0.9.1/30\n[vm vm1]\neth1.address = 10.0.9.2/30\n[links]\nvm0 = vm1\nvm0:eth1 = vm1:eth1\n' >"$W/b.ini"
export MULTIVM_STATE="$W/mv"
"$MV" run --detach --timeout 300 "$W/a.ini" >/dev/null || fail "run failed"
pids() { echo "$(pid_of vm0 qemu) $(pid_of vm1 qemu) $(pid_of vm0 vmm) $(pid_of vm1 vmm)"; }
q0=$(pids)
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
: >"$W/plug"; : >"$W/apply"; : >"$W/unplug"
r=1
while [ $r -le "$ROUNDS" ]; do
	t0=$(date +%s%N)
	out=$("$MV" apply "$W/b.ini" 2>&1) || fail "round $r: apply adding the wire: $out"
	add=$(ms "$t0")
	p0=$(echo "$out" | sed -n 's/^vm0:eth1 plugged in \([0-9]*\) ms$/\1/p')
	p1=$(echo "$out" | sed -n 's/^vm1:eth1 plugged in \([0-9]*\) ms$/\1/p')
	[ -n "$p0" ] && [ -n "$p1" ] || fail "round $r: no 'plugged in' lines: $out"
	"$MV" exec --timeout 30 vm0 -- 'ping -c 1 -W 5 10.0.9.2' >/dev/null || fail "round $r: no ping over the plugged wire"
	t0=$(date +%s%N)
	out=$("$MV" apply "$W/a.ini" 2>&1) || fail "round $r: apply removing the wire: $out"
	del=$(ms "$t0")
	echo "hotplug: round $r: apply start to NIC named in guest: vm0 $p0 ms, vm1 $p1 ms; apply adding $add ms; apply removing $del ms"
	echo "$p1" >>"$W/plug"; echo "$add" >>"$W/apply"; echo "$del" >>"$W/unplug"
	r=$((r + 1))
done
[ "$q0" = "$(pids)" ] || fail "QEMU or VMM pids changed: $q0 -> $(pids)"
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo "hotplug: medians of $ROUNDS: apply start to the second NIC named in its guest $(median "$W/plug") ms, apply adding $(median "$W/apply") ms, removing $(median "$W/unplug") ms; QEMU and VMM pids unchanged"
figure hotplug plug_named_ms_median "$(median "$W/plug")"
figure hotplug apply_add_ms_median "$(median "$W/apply")"
figure hotplug apply_remove_ms_median "$(median "$W/unplug")"
