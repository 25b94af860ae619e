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

# A guest floods its serial console (400 kB against log_max = 64K): the
# transcript and its one old file stay under the cap, and what was thrown
# away is counted in status.
"$MV" exec --timeout 300 vm1 -- 'head -c 400000 /dev/zero | tr "\000" x >/dev/ttyS0' ||
	die "console flood failed"
dropped() { sed -n 's/^vm1 .*log_bytes_dropped=\([0-9]*\).*/\1/p' "$STATE/status"; }
all_seen() { [ "$(dropped)" -ge $((400000 - 2 * 65536)) ]; }
wait_for 60 all_seen || die "log_bytes_dropped=$(dropped) after a 400 kB flood"
for f in "$STATE/vm1.console.log" "$STATE/vm1.console.log.1"; do
	[ "$(stat -c %s "$f")" -le 65536 ] || die "$f is $(stat -c %s "$f") bytes, over log_max"
done
say "console flood: $(dropped) bytes dropped, $(cat "$STATE"/vm1.console.log* | wc -c) kept"
say "PASS"
