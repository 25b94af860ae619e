#!/bin/sh
# multivm and Linux's own vxlan device on one VXLAN network: a namespace
# joined to the host by a veth pair holds a Linux `vxlan` device (same VNI,
# remote = our tunnel) with an address in the guests' subnet. vm0 resolves
# it with ARP and pings it across the tunnel; tcpdump on the veth in the
# namespace decodes what crossed as VXLAN (flags [I], vni 42) carrying the
# ARP and the echoes. Then datagrams that must be refused are sent to the
# tunnel, and each is counted by its reason.
TEST_NAME=vxlan-linux
. "$(dirname "$0")/lib.sh"

NS=mvx$$
VH=mvxh$$
VN=mvxn$$
NET=10.231.14
command -v tcpdump >/dev/null || die "tcpdump missing (scripts/deps.sh installs it)"
ip netns add $NS 2>/dev/null || skip "cannot create a network namespace here"
trap 'cleanup_net; cleanup' EXIT
cleanup_net() {
	[ -n "${dump:-}" ] && kill "$dump" 2>/dev/null && wait "$dump" 2>/dev/null
	ip link del $VH 2>/dev/null
	ip netns del $NS 2>/dev/null
}
nsx() { ip netns exec $NS "$@"; }
netns_veth $NS $VH $VN $NET || skip "no veth pairs here"
nsx ip addr add $NET.3/24 dev $VN	# a second address: not the configured remote
nsx ip link add vx0 type vxlan id 42 local $NET.2 remote $NET.1 dstport 4789 dev $VN ||
	skip "the kernel has no vxlan devices"
nsx ip addr add 192.168.1.100/24 dev vx0
nsx ip link set vx0 up
VXMAC=$(nsx cat /sys/class/net/vx0/address)

nsx tcpdump -i $VN -nn -U -w "$STATE/veth.pcap" udp port 4789 2>"$STATE/tcpdump.err" &
dump=$!
wait_for 10 grep -q listening "$STATE/tcpdump.err" || die "tcpdump did not start: $(cat "$STATE/tcpdump.err")"

cat >"$STATE/vx.ini" <<CONF
[vm vm0]
memory = 128M
address = 192.168.1.1/24
[tunnel uplink]
local = $NET.1
remote = $NET.2
vni = 42
[links]
vm0 = uplink
CONF
"$MV" check "$STATE/vx.ini" || die "config refused"
"$MV" run --detach --timeout 300 "$STATE/vx.ini" || die "run --detach failed"
"$MV" status >"$STATE/status.out"
grep -q '^uplink state=up vmm=[1-9][0-9]* qemu=0 .* guest=tunnel$' "$STATE/status.out" ||
	die "tunnel status: $(cat "$STATE/status.out")"
tpid=$(pid_of uplink vmm)
grep -q '^Seccomp:[[:space:]]*2$' /proc/$tpid/status || die "the tunnel process is not sandboxed"
grep -q '^NoNewPrivs:[[:space:]]*1$' /proc/$tpid/status || die "the tunnel process can gain privileges"
if [ "$(id -u)" -eq 0 ]; then
	# its own identity: node 1 of the config
	grep -q "^Uid:[[:space:]]*$(id_of 1 node)[[:space:]]" /proc/$tpid/status || die "the tunnel runs as $(grep ^Uid: /proc/$tpid/status)"
	grep -q '^CapEff:[[:space:]]*0*$' /proc/$tpid/status || die "the tunnel has capabilities"
fi

out=$("$MV" exec --timeout 60 vm0 -- ping -c 3 -W 5 192.168.1.100) || die "vm0 cannot ping Linux across VXLAN: $out"
echo "$out" | grep -q '3 packets received' || die "ping: $out"
arp=$("$MV" exec vm0 -- cat /proc/net/arp)
echo "$arp" | grep -q "^192.168.1.100 .*$VXMAC" || die "vm0's ARP table has no entry for Linux's vx0 ($VXMAC): $arp"
# And the other way: Linux pings vm0, whose MAC it learnt.
nsx busybox ping -c 2 -W 5 192.168.1.1 >/dev/null || die "Linux cannot ping vm0"
say "vm0 <-> Linux vxlan: pings and ARP ok"

# Refusals, from the namespace (python3: raw UDP payloads).
nsx python3 - "$NET" <<'PY' || die "could not send test datagrams"
import socket, sys
net = sys.argv[1]
dst = (net + ".1", 4789)
def hdr(vni, flags=8): return bytes([flags, 0, 0, 0, vni >> 16 & 255, vni >> 8 & 255, vni & 255, 0])
eth = bytes.fromhex("525400 4d5601".replace(" ", "")) + bytes.fromhex("020000000077") + b"\x88\xb5" + bytes(46)
own = bytes.fromhex("ffffffffffff") + bytes.fromhex("5254004d5601") + b"\x88\xb5" + bytes(46)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((net + ".2", 0))
s.sendto(hdr(43) + eth, dst)			# bad_vni
s.sendto(hdr(42, 0) + eth, dst)			# bad_header: no I flag
s.sendto(b"\x08\x00\x00", dst)			# bad_header: short
s.sendto(hdr(42) + eth[:13], dst)		# bad_length
s.sendto(hdr(42) + eth + bytes(1600), dst)	# bad_length: too long
s.sendto(hdr(42) + own, dst)			# spoofed: vm0's own MAC as source
o = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); o.bind((net + ".3", 0))
o.sendto(hdr(42) + eth, dst)			# not_remote
PY
counted() {
	snap
	[ "$(stat_of "vm uplink" drop_bad_vni)" -eq 1 ] && [ "$(stat_of "vm uplink" drop_bad_header)" -eq 2 ] &&
		[ "$(stat_of "vm uplink" drop_bad_length)" -eq 2 ] && [ "$(stat_of "vm uplink" drop_spoofed)" -eq 1 ] &&
		[ "$(stat_of "vm uplink" drop_not_remote)" -eq 1 ]
}
wait_for 10 counted || die "refusals not counted as expected: $(grep '^vm uplink' "$STATE/stats.out")"
grep '^vm uplink\|^link' "$STATE/stats.out"

kill "$dump"
wait "$dump" 2>/dev/null
dump=
tcpdump -nn -v -r "$STATE/veth.pcap" >"$STATE/veth.txt" 2>/dev/null || die "tcpdump cannot read its capture"
grep -q 'VXLAN, flags \[I\] (0x08), vni 42' "$STATE/veth.txt" || die "no well-formed VXLAN: $(head "$STATE/veth.txt")"
grep -q 'ARP, .*Request who-has 192.168.1.100 tell 192.168.1.1' "$STATE/veth.txt" || die "no ARP request in VXLAN: $(cat "$STATE/veth.txt")"
grep -q '192.168.1.1 > 192.168.1.100: ICMP echo request' "$STATE/veth.txt" || die "no echo request in VXLAN"
grep -q '192.168.1.100 > 192.168.1.1: ICMP echo reply' "$STATE/veth.txt" || die "no echo reply in VXLAN"
# What our tunnel sends: from its port 4789.
grep -q "$NET.1.4789 > $NET.2.4789: .*VXLAN" "$STATE/veth.txt" || die "tunnel's datagrams not from $NET.1:4789"
say "PASS"
