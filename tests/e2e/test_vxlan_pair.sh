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
ip netns add $NS 2>/dev/null || skip "cannot create a network namespace here"
trap 'vxlan_systems_stop $NS "$STATE" "$SB"; rm -rf "$SB"; ip link del $VH 2>/dev/null; ip netns del $NS 2>/dev/null; cleanup' EXIT
netns_veth $NS $VH $VN $NET || skip "no veth pairs here"

A0=$(mac_of 0)
A1=$(mac_of 1)
B0=52:54:00:4d:57:01
vxlan_systems $NS $NET 7 "$STATE" "$SB" "vm0 vm1" || die "the two systems did not start"

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
tpid=$(pid_of ta vmm)
kill -9 "$tpid"
across "$STATE/vm0.vhost" "$STATE/vm1.vhost" $A0 $A1 || die "vm0 -> vm1 on A disturbed by the tunnel's death: $out"
restarted() { p=$(pid_of ta vmm); [ -n "$p" ] && [ "$p" -gt 0 ] && [ "$p" != "$tpid" ]; }
wait_for 30 restarted || die "tunnel ta not restarted: $(cat "$STATE/status")"
# vmm= shows a pid only once the tunnel said it is ready (--ready-fd).
wait_for 10 grep -q '^ta state=up ' "$STATE/status" || die "restarted tunnel did not come up: $(cat "$STATE/status")"
across "$STATE/vm0.vhost" "$SB/b0.vhost" $A0 $B0 || die "A -> B after the tunnel's restart: $out"
across "$SB/b0.vhost" "$STATE/vm0.vhost" $B0 $A0 || die "B -> A after the tunnel's restart: $out"
snap
[ "$(stat_of "vm ta" vmm_starts)" -eq 2 ] || die "ta vmm_starts=$(stat_of "vm ta" vmm_starts)"
grep '^vm ta\|^link .*ta' "$STATE/stats.out"
say "PASS"
