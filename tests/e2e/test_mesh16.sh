#!/bin/sh
# 16 small guests (128 MiB) in a full mesh boot under TCG and every VM
# reaches every other: each VM pings all 15 others (all 240 ordered pairs,
# a reply each, pings of one VM in parallel), then every VM's ARP table
# holds the 15 others' MACs as its config gives them. Deadlines throughout;
# lib.sh stops all 16 VMMs and QEMUs however the test ends.
TEST_NAME=mesh16
. "$(dirname "$0")/lib.sh"
n=16

{
	for i in $(seq 0 $((n - 1))); do printf '[vm m%d]\nmemory = 128M\n' "$i"; done
	printf '[links]\nmesh = yes\n'
} >"$STATE/mesh16.ini"
"$MV" check "$STATE/mesh16.ini" || die "config refused"
start=$(date +%s)
"$MV" run --detach --timeout 240 "$STATE/mesh16.ini" >/dev/null || die "16 VMs did not come up in 240 s: $(cat "$STATE/status")"
up=$(($(date +%s) - start))
[ "$(grep -c 'state=up' "$STATE/status")" -eq $n ] || die "not all $n up: $(cat "$STATE/status")"

# Defaults (multivm.ini(5)): VM i is 192.168.1.(i+1), MAC 52:54:00:4d:56:(i+1) (mac_of).

for i in $(seq 0 $((n - 1))); do
	others=$(seq 1 $n | grep -vx $((i + 1)) | sed 's/^/192.168.1./' | tr '\n' ' ')
	# Each ping waits up to 10 s for its one reply, and is sent once more
	# if none came (16 TCG guests share 2 CPUs: a guest can be too slow
	# to answer in time; a frame a VMM dropped would be counted, below); a
	# pair silent twice prints its address and fails the exec.
	out=$("$MV" exec --timeout 60 m$i -- "for a in $others; do (ping -c 1 -W 10 \$a >/dev/null || { echo RETRY \$a; ping -c 1 -W 10 \$a >/dev/null; } || echo NO-REPLY \$a) & done; wait; cat /proc/net/arp") ||
		die "exec in m$i failed: $out"
	echo "$out" | grep NO-REPLY && die "m$i did not reach every other VM ($(echo "$out" | grep -c RETRY) retried)"
	retries=$((${retries:-0} + $(echo "$out" | grep -c RETRY)))
	for j in $(seq 0 $((n - 1))); do
		[ "$j" = "$i" ] && continue
		echo "$out" | grep -qi "^192\.168\.1\.$((j + 1)) .* $(mac_of "$j") " ||
			die "m$i's ARP table lacks m$j ($(mac_of "$j")): $out"
	done
done
# Whatever was retried, no frame was lost to a VMM: none counted a drop.
drops=$("$MV" stats | awk '$1 == "vm" { for (i = 3; i <= NF; i++) if ($i ~ /^drop_/ && $i !~ /=0$/) print $2, $i }')
[ -z "$drops" ] || die "drops counted: $drops"
say "16 VMs up in $up s; all 240 ordered pairs answered ($retries after a second ping), ARP tables complete, no drops, $(($(date +%s) - start)) s from run"
