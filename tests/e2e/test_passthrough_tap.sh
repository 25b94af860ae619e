#!/bin/sh
# vm0's eth1 on a TAP device: the test makes a network namespace holding a
# TAP device and a DHCP server, runs the system inside it, and vm0 gets a
# lease on eth1 and pings the namespace's address.
TEST_NAME=passthrough-tap
. "$(dirname "$0")/lib.sh"

NS=mvt$$
ip netns add $NS 2>/dev/null || skip "cannot create a network namespace here"
trap 'cleanup_ns; cleanup' EXIT
cleanup_ns() {
	[ -f "$STATE/udhcpd.pid" ] && kill "$(cat "$STATE/udhcpd.pid")" 2>/dev/null
	ip netns exec $NS "$MV" stop --timeout 30 >/dev/null 2>&1
	ip netns del $NS 2>/dev/null
}
nsx() { ip netns exec $NS "$@"; }
nsx ip link set lo up
nsx ip tuntap add dev mvtap0 mode tap 2>/dev/null || skip "the kernel refuses TAP devices here"
nsx ip addr add 10.77.0.1/24 dev mvtap0
nsx ip link set mvtap0 up
cat >"$STATE/udhcpd.conf" <<CONF
interface mvtap0
start 10.77.0.100
end 10.77.0.150
lease_file $STATE/udhcpd.leases
pidfile $STATE/udhcpd.pid
opt subnet 255.255.255.0
opt router 10.77.0.1
CONF
touch "$STATE/udhcpd.leases"
nsx busybox udhcpd -S "$STATE/udhcpd.conf" || die "udhcpd did not start"
cat >"$STATE/tap.ini" <<CONF
[vm vm0]
address = 192.168.1.1/24
passthrough = tap:mvtap0
[vm vm1]
address = 192.168.1.2/24
[links]
vm0 = vm1
CONF

nsx "$MV" run --detach --timeout 300 "$STATE/tap.ini" || die "run failed"
out=$("$MV" exec vm0 -- udhcpc -i eth1 -n -q -t 10) || die "no DHCP lease from the namespace: $out"
"$MV" exec vm0 -- ip addr show eth1 | grep -q 'inet 10\.77\.0\.1[0-5][0-9]/24' || die "eth1 not configured"
out=$("$MV" exec vm0 -- ping -c 2 -W 5 10.77.0.1) || die "ping to the namespace failed: $out"
"$MV" exec vm1 -- ping -c 2 -W 5 192.168.1.1 >/dev/null || die "eth0 link broken meanwhile"
say "PASS"
