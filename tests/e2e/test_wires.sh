#!/bin/sh
# Wires (multivm.ini(5), WIRES): the eth0 segment and wires side by side in
# one system (tests/e2e/configs/wires.ini), one boot for every check:
#  - each guest sees each wire end as its own NIC, under its configured name
#    and MAC, with its address; vm0 and vm2 have eight wire NICs each;
#  - the segment still works beside them;
#  - a routed chain vm0 -wire- vm1 -wire- vm2 with routes from the config:
#    vm1 is the one hop (TTL 63, traceroute), and a capture of vm1's second
#    NIC shows the frames leaving with vm1's eth2 MAC as source;
#  - a VLAN trunk: two VLANs over one wire, both ping, the capture shows the
#    802.1Q tags;
#  - broadcast confinement: an ARP on one wire reaches its other end and
#    appears on no other wire and not on the segment;
#  - kill -9 of vm1's VMM during a ping stream between vm0 and vm2 over a
#    direct wire: that stream loses nothing; vm1's NICs all come back;
#  - stats name each wire's link by its NICs, and the counters balance.
TEST_NAME=wires
. "$(dirname "$0")/lib.sh"

CONF=$(realpath "$(dirname "$0")/configs/wires.ini")
command -v tcpdump >/dev/null || die "tcpdump missing (apt-get install tcpdump)"

"$MV" check "$CONF" || die "check refused the config"
# Refusals name file and line (every message: tests/unit/test_config.c).
refused "5: [links] vm0:eth1: vm0:eth1 is already the end of the wire at line 4" \
	"[vm vm0]\n[vm vm1]\n[links]\nvm0:eth1 = vm1:eth1\nvm0:eth1 = vm1:eth2\n"
refused "4: [links] vm0:eth1: a wire cannot join vm0 to itself" "[vm vm0]\n[vm vm1]\n[links]\nvm0:eth1 = vm0:eth2\n"
refused "3: [vm vm0] passthrough_name: vm0:eth2 is the end of the wire at line 6" \
	"[vm vm0]\npassthrough = user\npassthrough_name = eth2\n[vm vm1]\n[links]\nvm0:eth2 = vm1:eth1\n"
refused "5: [links] vm0:eth1: vm0's passthrough NIC is called eth1 (passthrough at line 2; set passthrough_name to another name)" \
	"[vm vm0]\npassthrough = user\n[vm vm1]\n[links]\nvm0:eth1 = vm1:eth1\n"
start=$(date +%s)
"$MV" run --detach --timeout 300 "$CONF" || die "run --detach failed"
say "system up in $(($(date +%s) - start)) s"
[ "$(grep -c 'state=up' "$STATE/status")" -eq 3 ] || die "not all VMs up: $(cat "$STATE/status")"

x() { "$MV" exec --timeout 60 "$@"; }

# Names and MACs (default 52:54:00:4e:<VM index+1>:<NIC index+1>, NICs in the
# order the config names them) and addresses, as the guests see them.
nic_is() {	# VM NAME MAC [ADDR]
	line=$(x "$1" -- "ip -o link show dev $2") || die "$1 has no $2: $(x "$1" -- 'ip -o link')"
	echo "$line" | grep -q "link/ether $3 " || die "$1's $2 is not $3: $line"
	[ -z "${4:-}" ] || x "$1" -- "ip -o -4 addr show dev $2" | grep -q "inet $4 " ||
		die "$1's $2 has not $4: $(x "$1" -- "ip -o -4 addr show dev $2")"
}
for k in 1 2 3 4 5 6 7 8; do
	nic_is vm0 eth$k 52:54:00:4e:01:0$k
	nic_is vm2 eth$k 52:54:00:4e:03:0$k
done
nic_is vm0 eth1 52:54:00:4e:01:01 10.0.1.1/30
nic_is vm0 eth4 52:54:00:4e:01:04 10.0.4.1/24
nic_is vm1 eth1 52:54:00:4e:02:01 10.0.1.2/30
nic_is vm1 eth2 52:54:00:4e:02:02 10.0.2.1/30
nic_is vm2 eth1 52:54:00:4e:03:01 10.0.2.2/30
nic_is vm1 eth0 "$(mac_of 1)" 192.168.1.2/24
[ "$(x vm1 -- 'cat /proc/sys/net/ipv4/ip_forward')" = 1 ] || die "vm1 does not forward"
say "NICs named, addressed and in place"

# The segment beside the wires.
for t in "vm0 192.168.1.2" "vm2 192.168.1.1" "vm1 192.168.1.3"; do
	set -- $t
	x "$1" -- "ping -c 2 -W 5 $2" | grep -q '2 packets received' || die "segment: $1 -> $2 failed"
done
say "segment: ok"

# The routed chain, with a capture of vm1's eth2 (its way to vm2).
"$MV" capture vm1:eth2 -w "$STATE/v1e2.pcap" 2>"$STATE/v1e2.err" &
cap=$!
wait_for 30 grep -q 'listening on' "$STATE/v1e2.err" || die "capture vm1:eth2 did not start: $(cat "$STATE/v1e2.err")"
out=$(x vm0 -- 'ping -c 3 -W 5 10.0.2.2') || die "vm0 -> vm2 across vm1: $out"
echo "$out" | grep -q '3 packets received' || die "vm0 -> vm2 across vm1 lost packets: $out"
echo "$out" | grep -q 'ttl=63' || die "vm0 -> vm2: not one hop (TTL): $out"
out=$(x vm2 -- 'ping -c 2 -W 5 10.0.1.1') || die "vm2 -> vm0 across vm1: $out"
echo "$out" | grep -q 'ttl=63' || die "vm2 -> vm0: not one hop (TTL): $out"
out=$(x vm0 -- 'traceroute -n -m 4 -w 3 -q 1 10.0.2.2') || die "traceroute failed: $out"
echo "$out" | awk '$1 == 1' | grep -q '10\.0\.1\.2' || die "traceroute: vm1 is not the first hop: $out"
echo "$out" | awk '$1 == 2' | grep -q '10\.0\.2\.2' || die "traceroute: vm2 is not the second hop: $out"
kill -INT $cap
wait $cap
tcpdump -e -n -r "$STATE/v1e2.pcap" icmp >"$STATE/v1e2.txt" 2>/dev/null
grep -q '52:54:00:4e:02:02 > 52:54:00:4e:03:01.*10\.0\.1\.1 > 10\.0\.2\.2: ICMP echo request' "$STATE/v1e2.txt" ||
	die "capture of vm1:eth2: no echo request from vm1's eth2 MAC: $(cat "$STATE/v1e2.txt")"
grep -q '52:54:00:4e:03:01 > 52:54:00:4e:02:02.*10\.0\.2\.2 > 10\.0\.1\.1: ICMP echo reply' "$STATE/v1e2.txt" ||
	die "capture of vm1:eth2: no echo reply to vm1's eth2: $(cat "$STATE/v1e2.txt")"
say "routed chain: vm1 is the hop, TTL 63, traceroute and capture agree"

# A VLAN trunk: VLANs 10 and 20 over the wire vm0:eth3 = vm2:eth3.
for v in 0 2; do
	n=$((v / 2 + 1))
	x vm$v -- "vconfig add eth3 10 && vconfig add eth3 20 && ip link set eth3 up &&
		ip addr add 10.10.10.$n/24 dev eth3.10 && ip link set eth3.10 up &&
		ip addr add 10.20.20.$n/24 dev eth3.20 && ip link set eth3.20 up" >/dev/null ||
		die "vm$v: cannot set up VLANs on eth3"
done
"$MV" capture vm0:eth3 -w "$STATE/trunk.pcap" 2>"$STATE/trunk.err" &
cap=$!
wait_for 30 grep -q 'listening on' "$STATE/trunk.err" || die "capture vm0:eth3 did not start"
for ip in 10.10.10.2 10.20.20.2; do
	x vm0 -- "ping -c 2 -W 5 $ip" | grep -q '2 packets received' || die "VLAN trunk: vm0 -> $ip failed"
done
kill -INT $cap
wait $cap
tcpdump -e -n -r "$STATE/trunk.pcap" >"$STATE/trunk.txt" 2>/dev/null
grep -q 'vlan 10,.*10\.10\.10\.1 > 10\.10\.10\.2: ICMP echo request' "$STATE/trunk.txt" || die "no VLAN 10 tag: $(cat "$STATE/trunk.txt")"
grep -q 'vlan 20,.*10\.20\.20\.2 > 10\.20\.20\.1: ICMP echo reply' "$STATE/trunk.txt" || die "no VLAN 20 tag: $(cat "$STATE/trunk.txt")"
say "VLAN trunk: both VLANs ping, tags on the wire"

# Broadcast confinement: ARPs for 10.0.4.99 on vm0's eth4 only.
for t in vm0 vm0:eth1 vm0:eth2 vm0:eth4 vm2 vm2:eth3; do
	f=$(echo "$t" | tr : _)
	"$MV" capture "$t" -w "$STATE/arp_$f.pcap" 2>"$STATE/arp_$f.err" &
	echo $! >>"$STATE/arp.pids"
	wait_for 30 grep -q 'listening on' "$STATE/arp_$f.err" || die "capture $t did not start: $(cat "$STATE/arp_$f.err")"
done
x vm0 -- 'arping -c 3 -w 4 -I eth4 10.0.4.99' >/dev/null	# no one answers: exit 1
kill -INT $(cat "$STATE/arp.pids")
wait
for t in vm0 vm0:eth1 vm0:eth2 vm0:eth4 vm2 vm2:eth3; do
	f=$(echo "$t" | tr : _)
	n=$(tcpdump -n -r "$STATE/arp_$f.pcap" 'arp and host 10.0.4.99' 2>/dev/null | wc -l)
	case $t in
	vm0:eth4) [ "$n" -ge 3 ] || die "the ARPs are not on vm0:eth4 ($n)" ;;
	*) [ "$n" -eq 0 ] || die "an ARP of vm0:eth4 appeared on $t ($n)" ;;
	esac
done
snap
[ "$(stat_of 'link vm0:eth4->vm2:eth4' delivered)" -ge 3 ] || die "vm2's eth4 did not get the ARPs: $(grep eth4 "$STATE/stats.out")"
say "broadcast confinement: the ARPs stayed on their wire"

# kill -9 of vm1's VMM during a ping stream vm0 -> vm2 over the direct wire.
vmm1=$(pid_of vm1 vmm)
x vm0 -- 'ping -c 60 -i 0.1 -W 5 10.0.3.2' >"$STATE/flood.txt" 2>&1 &
flood=$!
sleep 1	# the stream is running: kill in its middle, not before it
kill -9 "$vmm1"
wait $flood || die "ping over the direct wire failed: $(cat "$STATE/flood.txt")"
grep -q '60 packets transmitted, 60 packets received' "$STATE/flood.txt" ||
	die "the direct wire lost frames while vm1's VMM died: $(cat "$STATE/flood.txt")"
restarted() { p=$(pid_of vm1 vmm); [ -n "$p" ] && [ "$p" != 0 ] && [ "$p" != "$vmm1" ] && [ "$(state_of vm1)" = up ]; }
wait_for 60 restarted || die "vm1's VMM was not restarted: $("$MV" status)"
wait_for 60 sh -c "\"$MV\" exec vm0 -- 'ping -c 1 -W 2 10.0.2.2' | grep -q '1 packets received'" ||
	die "the routed chain did not come back after vm1's VMM restarted"
x vm1 -- 'ping -c 2 -W 5 192.168.1.1' | grep -q '2 packets received' || die "vm1's eth0 did not come back"
x vm1 -- 'ping -c 2 -W 5 10.0.2.2' | grep -q '2 packets received' || die "vm1's eth2 did not come back"
say "kill -9 of vm1's VMM: 0 lost on the direct wire, vm1's NICs back"

# Stats: each wire's link named by its NICs, up, counters balanced.
snap
for l in 'vm0:eth1->vm1:eth1' 'vm1:eth2->vm2:eth1' 'vm0:eth2->vm2:eth2' 'vm2:eth8->vm0:eth8' 'vm0->vm1'; do
	grep -q "^link $l .* up=1 " "$STATE/stats.out" || die "stats: no link $l up: $(grep '^link' "$STATE/stats.out")"
done
"$MV" stats --json | python3 -c '
import json, sys
links = json.load(sys.stdin)["links"]
w = [l for l in links if l.get("from_nic") == "eth2" and l["from"] == "vm0"]
assert len(w) == 1 and w[0]["to"] == "vm2" and w[0]["to_nic"] == "eth2" and w[0]["delivered"] >= 60, w
' || die "stats --json: the wire vm0:eth2 -> vm2:eth2"
"$MV" stats --prometheus | grep -q '^multivm_link_up{from="vm0",to="vm1",from_nic="eth1",to_nic="eth1"} 1$' ||
	die "stats --prometheus: no from_nic/to_nic labels"
say "stats: wires by NIC"
echo "wires: PASS"
