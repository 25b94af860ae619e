#!/bin/sh
# make bench: a VM added to a running system by `multivm apply` (issue 30's
# target: time to its first answered ping <= 1.1x the boot time of that VM
# alone). A 3-VM system of built-in guests runs; per round, in turn (the
# order reversed every other round):
#   added  apply of the config with vm3 linked to vm0 and vm1; timed from
#          apply's start to vm0's first answered ping of vm3 (tried with
#          `multivm exec vm0 -- ping -c 1 -W 1`, again at once on failure);
#          then apply of the config without vm3
#   alone  `multivm run --detach` of vm3 alone in a state directory of its
#          own, timed from its start to vm3 answering `multivm exec vm3 --
#          true` (no peer to ping: its agent answering is the end of the
#          boot the added VM's ping needs as well); then stop
# Prints every round, the medians and added / alone (target <= 1.1).
# APPLYBOOT_ROUNDS rounds (default 3). Usage: applyboot.sh BUILD (root;
# under the e2e lock).
set -u
TEST_NAME=applyboot
build=$1
MV=$(realpath "$build/multivm")
ROUNDS=${APPLYBOOT_ROUNDS:-3}
W=$(mktemp -d /tmp/mvab.XXXXXX)
chmod 755 "$W"	# QEMU (its own uid) reaches the sockets in $W/mv and $W/one
. "$(dirname "$0")/lib.sh"
cleanup() {
	MULTIVM_STATE="$W/mv" "$MV" stop >/dev/null 2>&1
	MULTIVM_STATE="$W/one" "$MV" stop >/dev/null 2>&1
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE
fail() { echo "applyboot: $*"; exit 1; }

sys='[vm vm0]\naddress = 192.168.1.1/24\n[vm vm1]\naddress = 192.168.1.2/24\n[vm vm2]\naddress = 192.168.1.3/24\n'
printf "$sys"'[links]\nvm0 = vm1\nvm1 = vm2\nvm0 = vm2\n' >"$W/a.ini"
printf "$sys"'[vm vm3]\naddress = 192.168.1.4/24\n[links]\nvm0 = vm1\nvm1 = vm2\nvm0 = vm2\nvm3 = vm0\nvm3 = vm1\n' >"$W/b.ini"
printf '[vm vm3]\naddress = 192.168.1.4/24\n' >"$W/one.ini"
MULTIVM_STATE="$W/mv" "$MV" run --detach --timeout 300 "$W/a.ini" >/dev/null || fail "run of the 3-VM system failed"
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

added() {
	t0=$(date +%s%N)
	out=$(MULTIVM_STATE="$W/mv" "$MV" apply "$W/b.ini" 2>&1) || fail "round $r: apply adding vm3: $out"
	ret=$(ms "$t0")
	k=0
	until MULTIVM_STATE="$W/mv" "$MV" exec --timeout 5 vm0 -- 'ping -c 1 -W 1 192.168.1.4' >/dev/null 2>&1; do
		k=$((k + 1))
		[ $k -lt 300 ] || fail "round $r: vm0 never got an answer from vm3"
	done
	a=$(ms "$t0")
	out=$(MULTIVM_STATE="$W/mv" "$MV" apply "$W/a.ini" 2>&1) || fail "round $r: apply removing vm3: $out"
	echo "applyboot: round $r: added: apply returned in $ret ms, vm0's first answered ping of vm3 at $a ms"
	echo "$a" >>"$W/added"
}

alone() {
	t0=$(date +%s%N)
	out=$(MULTIVM_STATE="$W/one" "$MV" run --detach --timeout 300 "$W/one.ini" 2>&1) || fail "round $r: run of vm3 alone: $out"
	k=0
	until MULTIVM_STATE="$W/one" "$MV" exec --timeout 5 vm3 -- true >/dev/null 2>&1; do
		k=$((k + 1))
		[ $k -lt 300 ] || fail "round $r: vm3 alone never answered"
	done
	b=$(ms "$t0")
	MULTIVM_STATE="$W/one" "$MV" stop >/dev/null 2>&1 || fail "round $r: stop of vm3 alone failed"
	echo "applyboot: round $r: alone: vm3 booted to its agent's answer in $b ms"
	echo "$b" >>"$W/alone"
}

: >"$W/added"; : >"$W/alone"
r=1
while [ $r -le "$ROUNDS" ]; do
	if [ $((r % 2)) = 1 ]; then added; alone; else alone; added; fi
	r=$((r + 1))
done
med() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ma=$(med "$W/added")
mb=$(med "$W/alone")
echo "applyboot: medians of $ROUNDS: added (apply to first answered ping) $ma ms, alone (run to agent) $mb ms: ratio $(ratio "$ma" "$mb") (target <= 1.1)"
figure applyboot added_ping_ms_median "$ma"
figure applyboot alone_boot_ms_median "$mb"
