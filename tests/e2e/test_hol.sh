#!/bin/sh
# A full link holds up only its own destination (issue 26, item 4), with
# real VMMs and no guests: a frontend on vm0 sends a frame to vm1 and one
# to vm2 about every ms, 5 s. First vm1 takes every frame; then vm1
# drips (posts one RX buffer every 60 ms, as a guest that starves its
# ring would). vm2 must get at least 90 % of what it got in the first
# run, the time vm0's frames waited for vm1 is counted (tx_wait_ms) and
# what vm1's link could not take is a counted queue_full drop, while
# nothing for vm2 is dropped.
TEST_NAME=hol
. "$(dirname "$0")/lib.sh"
HF=${HOSTILE:?HOSTILE must name build/tools/hostile_frontend}
M0=$(mac_of 0)
M1=$(mac_of 1)
M2=$(mac_of 2)

printf '[vm vm0]\naddress = 192.168.1.1/24\n[vm vm1]\naddress = 192.168.1.2/24\n[vm vm2]\naddress = 192.168.1.3/24\n[links]\nvm0 = vm1\nvm0 = vm2\n' >"$STATE/tri.ini"
"$MV" run --detach --no-guests "$STATE/tri.ini" >/dev/null || die "run failed"

# run DRIPMS: prints the frames vm2 got.
run() {
	"$HF" hol "$STATE/vm0.vhost" "$STATE/vm1.vhost" "$STATE/vm2.vhost" $M0 $M1 $M2 5 "$1" >"$STATE/hol.out" 2>&1 ||
		die "frontend failed: $(cat "$STATE/hol.out")"
	cat "$STATE/hol.out" >&2
	awk '{ for (i = 1; i < NF; i++) if ($i == "got_c") print $(i + 1) }' "$STATE/hol.out"
}
fair=$(run 0)
snap
cp "$STATE/stats.out" "$STATE/stats.fair"
[ "$(stat_of "link vm0->vm1" drop_queue_full)" = 0 ] || die "vm1 keeping up, yet frames for it dropped"
dripped=$(run 60)
snap
say "frames to vm2 in 5 s: $fair with vm1 keeping up, $dripped with vm1 dripping (one RX buffer every 60 ms)"
[ "$fair" -gt 2000 ] || die "too few frames to vm2 to compare: $fair"
[ $((dripped * 10)) -ge $((fair * 9)) ] || die "vm1 dripping held vm0's frames to vm2 back: $dripped of $fair"
waited=$(stat_of "link vm0->vm1" tx_wait_ms)
qf=$(stat_of "link vm0->vm1" drop_queue_full)
say "vm0's frames waited $waited ms for vm1 in all; $qf frames for vm1 dropped as queue_full"
[ "$waited" -ge 100 ] || die "the waits for vm1 were not counted: tx_wait_ms=$waited"
[ "$qf" -gt 0 ] || die "what vm1's link could not take was not counted as queue_full"
[ "$(stat_of "link vm0->vm2" drop_queue_full)" = 0 ] || die "frames for vm2 dropped: $(grep 'link vm0->vm2' "$STATE/stats.out")"
say "PASS"
