#!/bin/sh
# Two multivm systems joined by a VXLAN tunnel: system A on the host (vm0,
# vm1, tunnel ta), system B in a network namespace (b0, tunnel tb), a veth
# pair between them. No guests: test frontends (hostile_frontend pair) on
# the VMMs' sockets. Frames cross both ways, every one counted; then A's
# tunnel process is killed with SIGKILL: vm0 <-> vm1 on A carry on
# meanwhile, and once the supervisor has restarted the tunnel, A and B
# reach each other again.
TEST_NAME=vxlan-pair
. "$(dirname "$0")/lib.sh"

NS=mvp$$
VH=mvph$$
VN=mvpn$$
NET=10.231.15
SB=$(mktemp -d /tmp/mvtb.XXXXXX)
N=300
skip() { say "SKIP: $*"; exit 77; }
ip netns add $NS 2>/dev/null || skip "cannot create a network namespace here"
trap 'cleanup_b; cleanup' EXIT
nsx() { ip netns exec $NS "$@"; }
cleanup_b() {
	nsx "$MV" -S "$SB" stop --timeout 30 >/dev/null 2>&1
	[ -f "$SB/supervisor.pid" ] && kill -9 "$(cat "$SB/supervisor.pid")" 2>/dev/null
	rm -rf "$SB"
	ip link del $VH 2>/dev/null
	ip netns del $NS 2>/dev/null
}
netns_veth $NS $VH $VN $NET || skip "no veth pairs here"

A0=52:54:00:4d:56:01
A1=52:54:00:4d:56:02
B0=52:54:00:4d:57:01
cat >"$STATE/a.ini" <<CONF
[system]
addressing = manual
[vm vm0]
[vm vm1]
[tunnel ta]
local = $NET.1
remote = $NET.2
vni = 7
[links]
mesh = yes
vm0 = ta
vm1 = ta
CONF
cat >"$SB/b.ini" <<CONF
[system]
addressing = manual
[vm b0]
mac = $B0
[tunnel tb]
local = $NET.2
remote = $NET.1
vni = 7
[links]
b0 = tb
CONF
"$MV" run --detach --no-guests "$STATE/a.ini" >/dev/null || die "system A did not start"
nsx "$MV" -S "$SB" run --detach --no-guests "$SB/b.ini" >/dev/null || die "system B did not start"

across() {	# from-socket to-socket src dst
	out=$("$HOSTILE" pair "$1" "$2" "$3" "$4" $N) || return 1
	[ "$out" = "sent $N received $N" ]
}
across "$STATE/vm0.vhost" "$SB/b0.vhost" $A0 $B0 || die "A vm0 -> B b0: $out"
across "$SB/b0.vhost" "$STATE/vm1.vhost" $B0 $A1 || die "B b0 -> A vm1: $out"
say "A <-> B: $N frames each way"
snap
[ "$(stat_of "link vm0->ta" frames)" -eq $N ] || die "vm0->ta frames: $(grep 'vm0->ta' "$STATE/stats.out")"
[ "$(stat_of "link vm0->ta" delivered)" -eq $N ] || die "ta did not send all of vm0's frames"
[ "$(stat_of "vm ta" rx_frames)" -eq $N ] || die "ta sent $(stat_of "vm ta" rx_frames) datagrams"
[ "$(stat_of "vm ta" tx_frames)" -eq $N ] || die "ta received $(stat_of "vm ta" tx_frames) datagrams"
[ "$(stat_of "link ta->vm1" delivered)" -eq $N ] || die "ta->vm1 delivered"
for r in queue_full no_link spoofed malformed not_remote bad_header bad_vni bad_length send_error; do
	[ "$(stat_of "vm ta" drop_$r)" -eq 0 ] || die "ta dropped frames as $r"
done

# SIGKILL the tunnel of A: local traffic goes on, the tunnel comes back.
tpid=$(sed -n 's/^ta .*vmm=\([0-9]*\).*/\1/p' "$STATE/status")
kill -9 "$tpid"
across "$STATE/vm0.vhost" "$STATE/vm1.vhost" $A0 $A1 || die "vm0 -> vm1 on A disturbed by the tunnel's death: $out"
restarted() { p=$(sed -n 's/^ta .*vmm=\([0-9]*\).*/\1/p' "$STATE/status"); [ -n "$p" ] && [ "$p" -gt 0 ] && [ "$p" != "$tpid" ]; }
wait_for 30 restarted || die "tunnel ta not restarted: $(cat "$STATE/status")"
# vmm= shows a pid only once the tunnel said it is ready (--ready-fd).
wait_for 10 grep -q '^ta state=up ' "$STATE/status" || die "restarted tunnel did not come up: $(cat "$STATE/status")"
across "$STATE/vm0.vhost" "$SB/b0.vhost" $A0 $B0 || die "A -> B after the tunnel's restart: $out"
across "$SB/b0.vhost" "$STATE/vm0.vhost" $B0 $A0 || die "B -> A after the tunnel's restart: $out"
snap
[ "$(stat_of "vm ta" vmm_starts)" -eq 2 ] || die "ta vmm_starts=$(stat_of "vm ta" vmm_starts)"
grep '^vm ta\|^link .*ta' "$STATE/stats.out"
say "PASS"
