#!/bin/sh
# addressing = manual: eth0 comes up without an address, the user sets it
# with ifconfig as in the seed's instructions, and ping works.
TEST_NAME=manual
. "$(dirname "$0")/lib.sh"

"$MV" run --detach --timeout 300 "$(dirname "$0")/configs/manual.ini" || die "run failed"
out=$("$MV" exec vm1 -- ip addr show eth0) || die "ip addr failed: $out"
echo "$out" | grep -q ',UP' || die "eth0 is not up: $out"
echo "$out" | grep -q 'inet ' && die "eth0 has an address in manual mode: $out"
"$MV" exec vm0 -- ifconfig eth0 192.168.1.1 netmask 255.255.255.0 up || die "ifconfig in vm0"
"$MV" exec vm1 -- ifconfig eth0 192.168.1.2 netmask 255.255.255.0 up || die "ifconfig in vm1"
out=$("$MV" exec vm1 -- ping -c 2 -W 5 192.168.1.1) || die "vm1 -> vm0 ping failed: $out"
echo "$out" | grep -q '2 packets received' || die "lost packets: $out"
say "PASS"
