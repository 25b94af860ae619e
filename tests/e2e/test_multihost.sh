#!/bin/sh
# One system over two "hosts" (issue 31): two network namespaces joined by
# a veth pair, each running its part of one config file with its own
# state directory (`run --host a|b`). vm0 and vm1 on a, vm2 and vm3 on b,
# a full mesh: four links cross the hosts, and a wire vm0:eth1 = vm2:eth1
# (10.0.1.1/30 and .2, made up), each a point-to-point tunnel
# pair that `plan` derives (`multivm config` on each host, what run ran,
# is exactly what plan prints). Every VM pings every VM of the
# other host; each host's five tunnels share UDP port 4789 (ss), steered
# by VNI. `apply --host a` applies a link setting of an edited file and
# takes it back (no guest boots for it). Then host b's whole system is killed (SIGKILL, all of its
# processes, as a crashed machine): a's four cross-host links show up=0
# within 3 s (stats) and its tunnels count remote_down; b started again
# brings them back up with nobody touching a, and the guests ping again.
# The wire across, carried by a tunnel, is a cable: with b gone vm0's
# eth1 shows NO-CARRIER (its far end's tunnel silent, issue 29), and
# LOWER_UP again once b is back.
TEST_NAME=multihost
. "$(dirname "$0")/lib.sh"

NA=mvha$$
NB=mvhb$$
NET=10.231.31
SA=$(mktemp -d /tmp/mvta.XXXXXX)
SB=$(mktemp -d /tmp/mvtb.XXXXXX)
CFG=$STATE/system.ini

# kill9_system DIR: SIGKILL the supervisor and every VMM, tunnel and QEMU
# of the system in DIR, as a machine that loses power.
kill9_system() {
	pids="$(cat "$1/supervisor.pid" 2>/dev/null) $(sed -n 's/.*vmm=\([0-9]*\).*qemu=\([0-9]*\).*/\1 \2/p' "$1/status" 2>/dev/null)"
	for p in $pids; do [ "$p" -gt 0 ] 2>/dev/null && kill -9 "$p" 2>/dev/null; done
	return 0
}
stop_all() {
	"$MV" -S "$SA" stop --timeout 30 >/dev/null 2>&1 || kill9_system "$SA"
	"$MV" -S "$SB" stop --timeout 30 >/dev/null 2>&1 || kill9_system "$SB"
	kill9_system "$SA"
	kill9_system "$SB"
	rm -rf "$SA" "$SB"
	ip netns del $NA 2>/dev/null
	ip netns del $NB 2>/dev/null
	cleanup
}
ip netns add $NA 2>/dev/null || skip "cannot create a network namespace here"
trap stop_all EXIT
ip netns add $NB || die "second namespace"
ip link add mvh$$ netns $NA type veth peer name mvh$$ netns $NB 2>/dev/null || skip "no veth pairs here"
ip -n $NA addr add $NET.1/24 dev mvh$$ && ip -n $NA link set mvh$$ up && ip -n $NA link set lo up &&
	ip -n $NB addr add $NET.2/24 dev mvh$$ && ip -n $NB link set mvh$$ up && ip -n $NB link set lo up ||
	die "veth addresses"


cat >"$CFG" <<EOF
[system]
vni_base = 310
[host a]
address = $NET.1
[host b]
address = $NET.2
[vm vm0]
host = a
memory = 128M
[vm vm1]
host = a
memory = 128M
[vm vm2]
host = b
memory = 128M
[vm vm3]
host = b
memory = 128M
[links]
mesh = yes
vm0:eth1 = vm2:eth1
EOF
"$MV" check "$CFG" >/dev/null || die "config refused: $("$MV" check "$CFG" 2>&1)"
"$MV" plan --host a "$CFG" >"$STATE/plan-a.ini" || die "plan --host a"
"$MV" plan --host b "$CFG" >"$STATE/plan-b.ini" || die "plan --host b"
# run without --host refuses a file of several hosts, and nothing starts
out=$("$MV" -S "$SA" run --detach "$CFG" 2>&1) && die "run without --host accepted"
[ "$out" = "multivm: $CFG: the system is spread over hosts a, b: run --host NAME on each" ] || die "run said: $out"

# runhost NS DIR HOST: run --host HOST in namespace NS, detached.
runhost() { ip netns exec "$1" "$MV" -S "$2" run --detach --timeout 300 --host "$3" "$CFG" >/dev/null; }
start=$(date +%s)
runhost $NA "$SA" a &
pa=$!
runhost $NB "$SB" b || die "host b did not come up: $(cat "$SB/status")"
wait $pa || die "host a did not come up: $(cat "$SA/status")"
say "both hosts up in $(($(date +%s) - start)) s"
"$MV" -S "$SA" config >"$STATE/ran-a.ini" && "$MV" -S "$SB" config >"$STATE/ran-b.ini" || die "multivm config"
cmp -s "$STATE/plan-a.ini" "$STATE/ran-a.ini" || die "host a ran something else than its plan: $(diff "$STATE/plan-a.ini" "$STATE/ran-a.ini")"
cmp -s "$STATE/plan-b.ini" "$STATE/ran-b.ini" || die "host b ran something else than its plan: $(diff "$STATE/plan-b.ini" "$STATE/ran-b.ini")"
# each host: its two VMs and four tunnels, nothing of the other's
for h in a b; do
	d=$SA
	[ $h = b ] && d=$SB
	[ "$(grep -c 'state=up' "$d/status")" -eq 7 ] || die "host $h: $(cat "$d/status")"
	[ "$(grep -c '^vx31[0-4] .*guest=tunnel' "$d/status")" -eq 5 ] || die "host $h tunnels: $(cat "$d/status")"
done
grep -q '^vm2 \|^vm3 ' "$SA/status" && die "host a runs b's VMs"

# pings VM N...: VM (on the host of state directory $dir) pings 192.168.1.N each, one reply each
pings() {
	vm=$1
	shift
	for n in "$@"; do
		"$MV" -S "$dir" exec --timeout 60 "$vm" -- "ping -c 1 -W 5 192.168.1.$n >/dev/null || ping -c 1 -W 5 192.168.1.$n" >/dev/null ||
			return 1
	done
}
all_pairs() {
	dir=$SA
	pings vm0 3 4 && pings vm1 3 4 || return 1
	dir=$SB
	pings vm2 1 2 && pings vm3 1 2
}
all_pairs || die "a cross-host pair does not ping (vm$vm)"
"$MV" -S "$SA" exec --timeout 60 vm0 -- "ping -c 1 -W 5 10.0.1.2 >/dev/null || ping -c 1 -W 5 10.0.1.2" >/dev/null ||
	die "vm0 -> vm2 over the wire across hosts"
say "all 8 cross-host ordered pairs ping, and over the wire across"
"$MV" -S "$SA" stats >"$STATE/stats.out" || die "stats"
for l in 'vm0->vx310' 'vm0->vx311' 'vm1->vx312' 'vm1->vx313'; do
	[ "$(stat_of "link $l" up)" = 1 ] || die "link $l not up: $(grep '^link' "$STATE/stats.out")"
done
[ "$(stat_of "vm vx310" drop_no_link)" -eq 0 ] || die "vx310 dropped frames for nobody: $(grep '^vm vx310' "$STATE/stats.out")"
# One UDP port for every link across hosts: the five tunnels of each host
# bound to its address on tunnel_port, steered by VNI (each pings above;
# none took another's datagrams: no bad_vni).
for h in a b; do
	ns=$NA addr=$NET.1 d=$SA
	[ $h = b ] && ns=$NB addr=$NET.2 d=$SB
	n=$(ip netns exec $ns ss -Huln "sport = :4789" | grep -c " $addr:4789 ")
	[ "$n" -eq 5 ] || die "host $h: $n sockets on $addr:4789: $(ip netns exec $ns ss -Huln)"
	"$MV" -S "$d" stats >"$STATE/stats.$h" || die "stats $h"
	awk '$1 == "vm" && $2 ~ /^vx/ { for (i = 3; i <= NF; i++) if ($i ~ /^drop_bad_vni=[1-9]/) bad = bad " " $2 " " $i }
		END { if (bad) { print bad; exit 1 } }' "$STATE/stats.$h" || die "host $h: datagrams of another VNI: $(grep '^vm vx' "$STATE/stats.$h")"
done
say "each host's 5 tunnels share UDP port 4789 on its address, no datagram of another VNI"

# apply --host: host a's part of an edited file. A link setting on a,
# applied at run time; the file unchanged is nothing to change.
out=$("$MV" -S "$SA" apply --dry-run --host a "$CFG") || die "apply --dry-run --host a: $out"
[ "$out" = "nothing to change" ] || die "apply --host a of the running file said: $out"
cp "$CFG" "$STATE/edit.ini"
printf '[link vm0-vm1]\ndelay = 5ms\n' >>"$STATE/edit.ini"
out=$("$MV" -S "$SA" apply --host a "$STATE/edit.ini") || die "apply --host a failed: $out"
[ "$out" = "$(printf '~ link vm0-vm1 delay=5ms (was: none)\napplied 1 change')" ] || die "apply --host a said: $out"
"$MV" -S "$SA" link vm0-vm1 >"$STATE/show" || die "link show"
grep -qx 'vm0->vm1 state=up delay=5ms' "$STATE/show" && grep -qx 'vm1->vm0 state=up delay=5ms' "$STATE/show" ||
	die "not applied: $(cat "$STATE/show")"
"$MV" plan --host a "$STATE/edit.ini" >"$STATE/plan-edit.ini" && "$MV" -S "$SA" config >"$STATE/ran-edit.ini" &&
	cmp -s "$STATE/plan-edit.ini" "$STATE/ran-edit.ini" || die "a runs something else than plan --host a of the edited file"
out=$("$MV" -S "$SA" apply --host a "$CFG") || die "apply --host a back failed: $out"
say "apply --host a: a link setting applied and taken back; a's config then is plan --host a of the edited file"

# Host b dies whole. a's tunnels miss its heartbeats: up=0 within 3 s
# (gone after 2 s of silence: tunnel/vxlan.h).
# links_up N: each of a's tunnels' links into its VMs shows up=N (one
# stats and one awk a try: the poll itself must be quick, so the ASan
# run reads the counters with the plain build's multivm beside it, which
# starts in milliseconds; the tunnels measured are the ASan build's).
READER=$MV
[ -x "$(dirname "$MV")/../multivm" ] && [ "$(basename "$(dirname "$MV")")" = asan ] && READER=$(dirname "$MV")/../multivm
links_up() {
	"$READER" -S "$SA" stats >"$STATE/stats.out" || return 1
	[ "$(awk -v w="up=$1" '/^link vx31[0-3]->vm[01] / { for (i = 2; i <= NF; i++) if ($i == w) n++ } END { print n + 0 }' \
		"$STATE/stats.out")" -eq 4 ]
}
# eth1_is 0|1: vm0's eth1 has no carrier (0: NO-CARRIER) or has it (1:
# LOWER_UP), as its guest sees it.
eth1_is() {
	"$MV" -S "$SA" exec --timeout 30 vm0 -- 'cat /sys/class/net/eth1/carrier; ip -o link show dev eth1' \
		>"$STATE/eth1.txt" 2>&1 && [ "$(head -1 "$STATE/eth1.txt")" = "$1" ] || return 1
	if [ "$1" = 0 ]; then grep -q NO-CARRIER "$STATE/eth1.txt"; else grep -q LOWER_UP "$STATE/eth1.txt"; fi
}
eth1_is 1 || die "vm0's eth1 before b died: $(cat "$STATE/eth1.txt")"
gone_said() { grep -c "vm0: eth1 has no carrier: its wire's far end is gone" "$SA/supervisor.log"; }
said=$(gone_said)
t0=$(date +%s%N)
kill9_system "$SB"
wait_for 10 links_up 0 || die "a's cross-host links still up 10 s after b died: $(grep '^link' "$STATE/stats.out")"
ms=$((($(date +%s%N) - t0) / 1000000))
say "host b killed: a's 4 cross-host links up=0 after $ms ms"
[ $ms -le 3000 ] || die "took $ms ms, more than 3 s"
# The wire's tunnel (vx314) misses b's heartbeats as the others do; the
# supervisor looks every 0.5 s and pulls vm0's eth1 carrier (QMP set_link).
wait_for 10 eth1_is 0 || die "vm0's eth1 kept its carrier with the wire's far end gone: $(cat "$STATE/eth1.txt")"
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$(gone_said)" -gt "$said" ] ||
	die "a's supervisor did not say why vm0's eth1 lost its carrier: $(grep carrier "$SA/supervisor.log")"
say "the wire across: vm0's eth1 NO-CARRIER $ms ms after b was killed (exec included)"
[ $ms -le 8000 ] || die "NO-CARRIER only $ms ms after b was killed (2 s of silence, a 0.5 s look, exec)"
for t in vx310 vx311 vx312 vx313; do
	[ "$(stat_of "vm $t" remote_down)" -eq 1 ] || die "$t remote_down=$(stat_of "vm $t" remote_down)"
done
for v in vm0 vm1; do
	grep -q "^$v state=up " "$SA/status" || die "$v on a disturbed: $(cat "$SA/status")"
done
"$MV" -S "$SA" exec vm0 -- "ping -c 1 -W 5 192.168.1.2" >/dev/null || die "vm0 -> vm1 on host a disturbed"

# b again, from the same file: a's links come back with nobody touching a.
t0=$(date +%s)
runhost $NB "$SB" b || die "host b did not come back: $(cat "$SB/status")"
wait_for 10 links_up 1 || die "a's links not back up: $(grep '^link' "$STATE/stats.out")"
say "host b back (booted in $(($(date +%s) - t0)) s): a's links up again"
t0=$(date +%s%N)
wait_for 10 eth1_is 1 || die "vm0's eth1 did not get its carrier back: $(cat "$STATE/eth1.txt")"
say "the wire across: vm0's eth1 LOWER_UP $((($(date +%s%N) - t0) / 1000000)) ms after a's links were up again (exec included)"
all_pairs || die "a cross-host pair does not ping after b's restart (vm$vm)"
say "all 8 cross-host ordered pairs ping again"
say "PASS"
