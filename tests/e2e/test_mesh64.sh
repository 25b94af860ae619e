#!/bin/sh
# 64 VMs in a full mesh (2016 links) start with --no-guests; a test
# frontend on each of the 64 VMMs; vm0 broadcasts N frames and each of the
# 63 others receives exactly N, and every counter agrees: vm0 took N, put N
# on each of its 63 links, each link delivered N, nothing was dropped.
# Prints the start-up time and the memory the VMMs and supervisor use.
TEST_NAME=mesh64
. "$(dirname "$0")/lib.sh"
N=200

{
	printf '[system]\naddressing = manual\nlink_queue_size = 64\n'
	for i in $(seq 0 63); do printf '[vm vm%d]\n' "$i"; done
	printf '[links]\nmesh = yes\n'
} >"$STATE/mesh64.ini"
"$MV" check "$STATE/mesh64.ini" || die "config refused"
start=$(date +%s%N)
"$MV" run --detach --no-guests --timeout 300 "$STATE/mesh64.ini" >/dev/null || die "run --detach failed"
ms=$((($(date +%s%N) - start) / 1000000))
[ "$(grep -c 'state=up' "$STATE/status")" -eq 64 ] || die "not all 64 up: $(cat "$STATE/status")"
kib=0
for p in $(cat "$STATE/supervisor.pid") $(status_field vmm); do
	k=$(awk '/^Pss:/ { print $2 }' /proc/$p/smaps_rollup)
	kib=$((kib + k))
done
say "64 VMMs, 2016 links up in $ms ms; supervisor + VMMs: $((kib / 1024)) MiB PSS (links: shared memory, counted once)"

socks=""
for i in $(seq 0 63); do socks="$socks $STATE/vm$i.vhost"; done
# shellcheck disable=SC2086
out=$("$HOSTILE" fanout 52:54:00:4d:56:01 $N $socks) || die "broadcast did not reach all 63: $out"
say "$(echo "$out" | tail -n 1)"
snap
[ "$(stat_of "vm vm0" tx_frames)" -eq $N ] || die "vm0 tx_frames=$(stat_of "vm vm0" tx_frames)"
for i in $(seq 1 63); do
	[ "$(stat_of "link vm0->vm$i" frames)" -eq $N ] || die "link vm0->vm$i frames=$(stat_of "link vm0->vm$i" frames)"
	[ "$(stat_of "link vm0->vm$i" delivered)" -eq $N ] || die "link vm0->vm$i delivered=$(stat_of "link vm0->vm$i" delivered)"
	[ "$(stat_of "vm vm$i" rx_frames)" -eq $N ] || die "vm$i rx_frames=$(stat_of "vm vm$i" rx_frames)"
done
drops=$(grep '^vm ' "$STATE/stats.out" | tr ' ' '\n' | awk -F= '/^drop_/ { s += $2 } END { print s + 0 }')
[ "$drops" -eq 0 ] || die "$drops frames dropped"
say "PASS"
