#!/bin/sh
# The README's WireGuard example: VXLAN authenticates nothing (a datagram's
# source address can be forged), so two multivm systems on an untrusted
# network join their tunnels over WireGuard. System A on the host, system B
# in a network namespace; a veth pair is the untrusted network (10.231.22.0/24),
# a WireGuard interface on each side (10.231.23.0/24, keys made by `wg`) the
# encrypted one the tunnels use. Frames cross both ways through VXLAN inside
# WireGuard (test frontends on the VMMs' sockets), and the veth carries only
# WireGuard's UDP, never a VXLAN datagram in the clear. The kernel's
# WireGuard where it has one, else wireguard-go (the same protocol in user
# space on a TUN device: for a kernel without modules, as CI's may be).
TEST_NAME=vxlan-wireguard
. "$(dirname "$0")/lib.sh"

command -v wg >/dev/null || die "wg missing (apt-get install wireguard-tools)"
NS=mvw$$
VH=mvwh$$
VN=mvwn$$
WH=mvwgh$$
WN=mvwgn$$
NET=10.231.22
WG=10.231.23
SB=$(mktemp -d /tmp/mvtb.XXXXXX)
N=200
ip netns add $NS 2>/dev/null || skip "cannot create a network namespace here"
trap 'vxlan_systems_stop $NS "$STATE" "$SB"; rm -rf "$SB"; ip link del $WH 2>/dev/null; ip netns exec $NS ip link del $WN 2>/dev/null; ip link del $VH 2>/dev/null; ip netns del $NS 2>/dev/null; cleanup' EXIT
netns_veth $NS $VH $VN $NET || skip "no veth pairs here"
# wg_link NAME [NS]: a WireGuard interface NAME (in namespace NS).
wg_link() {
	in=${2:+ip netns exec $2}
	$in ip link add "$1" type wireguard 2>/dev/null && return 0
	command -v wireguard-go >/dev/null || return 1
	$in wireguard-go "$1" >/dev/null 2>&1 && wait_for 10 $in ip link show "$1"
}
wg_link $WH || skip "no WireGuard here (no kernel module, no wireguard-go)"

# The keys, and each side's interface: the peer is the other side's key,
# reached at its veth address.
umask 077
wg genkey >"$SB/a.key" && wg pubkey <"$SB/a.key" >"$SB/a.pub" &&
	wg genkey >"$SB/b.key" && wg pubkey <"$SB/b.key" >"$SB/b.pub" || die "wg genkey failed"
wg set $WH listen-port 51820 private-key "$SB/a.key" \
	peer "$(cat "$SB/b.pub")" endpoint $NET.2:51821 allowed-ips $WG.2/32 || die "wg set (A) failed"
ip addr add $WG.1/24 dev $WH && ip link set $WH up || die "A's WireGuard interface"
wg_link $WN $NS || die "B's WireGuard interface"
ip netns exec $NS wg set $WN listen-port 51821 private-key "$SB/b.key" \
	peer "$(cat "$SB/a.pub")" endpoint $NET.1:51820 allowed-ips $WG.1/32 || die "wg set (B) failed"
ip netns exec $NS ip addr add $WG.2/24 dev $WN && ip netns exec $NS ip link set $WN up || die "B's WireGuard address"
wait_for 10 busybox ping -c 1 -W 1 $WG.2 || die "WireGuard does not carry a ping"
say "WireGuard up: $(busybox ping -c 1 -W 1 $WG.2 | grep -o "time=[^ ]*")"

# Two systems whose tunnels use the WireGuard addresses.
vxlan_systems $NS $WG 9 "$STATE" "$SB" "vm0 vm1" || die "the two systems did not start"
command -v tcpdump >/dev/null || die "tcpdump missing"
tcpdump -Z root -U --immediate-mode -i $VH -n -w "$SB/underlay.pcap" 2>"$SB/tcpdump.err" &
dump=$!
wait_for 10 grep -q 'listening on' "$SB/tcpdump.err" || die "tcpdump did not start"
out=$("$HOSTILE" pair "$STATE/vm0.vhost" "$SB/b0.vhost" "$(mac_of 0)" 52:54:00:4d:57:01 $N) || die "A -> B: $out"
[ "$out" = "sent $N received $N" ] || die "A -> B: $out"
out=$("$HOSTILE" pair "$SB/b0.vhost" "$STATE/vm1.vhost" 52:54:00:4d:57:01 "$(mac_of 1)" $N) || die "B -> A: $out"
[ "$out" = "sent $N received $N" ] || die "B -> A: $out"
# Datagrams of both directions' frames: WireGuard may join the tunnel's
# segmented sends (UDP GSO), so fewer than one a frame, but many.
wg_seen() { [ "$(tcpdump -n -r "$SB/underlay.pcap" 'udp port 51820 or udp port 51821' 2>/dev/null | wc -l)" -ge $N ]; }
wait_for 10 wg_seen	# the capture written out
kill -INT $dump
wait $dump
plain=$(tcpdump -n -r "$SB/underlay.pcap" 'udp port 4789' 2>/dev/null | wc -l)
sealed=$(tcpdump -n -r "$SB/underlay.pcap" 'udp port 51820 or udp port 51821' 2>/dev/null | wc -l)
[ "$plain" -eq 0 ] || die "$plain VXLAN datagrams crossed the untrusted network in the clear"
[ "$sealed" -ge $N ] || die "only $sealed WireGuard datagrams on the underlay for $((2 * N)) frames"
say "$N frames each way through VXLAN inside WireGuard; the underlay saw $sealed WireGuard datagrams, no VXLAN"
echo "vxlan-wireguard: PASS"
