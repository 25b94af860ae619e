#!/bin/sh
# Hostile frontends against real, running VMMs (no guests): a malformed
# SET_MEM_TABLE ends only that session; a looping TX descriptor chain stops
# only that queue. Each time the VMM logs one clear line, counts the event,
# stays up, and keeps serving its other queue and its link. A TSO frame
# with gso_size 1 is a counted malformed drop. A gigabyte written into a
# VMM's log pipe leaves at most log_max bytes and a .1 of at most that.
TEST_NAME=hostile
. "$(dirname "$0")/lib.sh"
HF=${HOSTILE:?HOSTILE must name build/tools/hostile_frontend}
M0=$(mac_of 0)
M1=$(mac_of 1)

"$MV" run --detach --no-guests "$(dirname "$0")/configs/pair.ini" >/dev/null || die "run failed"
vmm0=$(pid_of vm0 vmm)

"$HF" badmem "$STATE/vm0.vhost" || die "bad SET_MEM_TABLE was not handled as it must be"
snap
[ "$(stat_of "vm vm0" vu_bad_messages)" = 1 ] || die "bad message not counted"
grep -q 'vhost-user: SET_MEM_TABLE: region .* overlapping.*; closing the connection' "$STATE/vm0.vmm.log" ||
	die "no clear log line: $(tail -3 "$STATE/vm0.vmm.log")"

"$HF" loop "$STATE/vm0.vhost" $M0 $M1 5 >"$STATE/loop.out" 2>&1 &
looper=$!
stopped() { snap; [ "$(stat_of "vm vm0" vq_errors)" = 1 ]; }
wait_for 30 stopped || die "the looping chain did not stop the TX queue: $(cat "$STATE/stats.out")"
[ "$(grep -c 'guest TX queue stopped: descriptor chain too long' "$STATE/vm0.vmm.log")" = 1 ] ||
	die "expected one log line: $(tail -3 "$STATE/vm0.vmm.log")"
# vm0's RX queue and the link still work: vm1 sends 5 frames to vm0.
"$HF" send "$STATE/vm1.vhost" $M1 $M0 5 || die "sender failed"
wait "$looper" || die "vm0 stopped receiving after its TX queue was stopped: $(cat "$STATE/loop.out")"
[ "$(pid_of vm0 vmm)" = "$vmm0" ] || die "VMM vm0 was restarted"
snap
[ "$(stat_of "link vm1->vm0" up)" = 1 ] || die "link went down"

# Segmentation amplification (issue 26 item 5): a TSO frame that says
# gso_size 1 (1800 one-byte segments) is a counted malformed drop at
# vm0's guest TX; the same frame with gso_size 1448 crosses the link.
# (A peer's such frame on link RX: tests/unit/test_fwd_offload.c.)
snap
mal=$(stat_of "vm vm0" drop_malformed)
crossed=$(stat_of "link vm0->vm1" frames)
"$HF" gso "$STATE/vm0.vhost" $M0 $M1 1448 || die "the gso_size 1448 sender failed"
ok_gso() { snap; [ "$(stat_of "link vm0->vm1" frames)" = $((crossed + 1)) ]; }
wait_for 10 ok_gso || die "a well-formed TSO frame did not cross: $(grep '^link vm0->vm1\|^vm vm0' "$STATE/stats.out")"
"$HF" gso "$STATE/vm0.vhost" $M0 $M1 1 || die "the gso_size 1 sender failed"
counted() { snap; [ "$(stat_of "vm vm0" drop_malformed)" = $((mal + 1)) ]; }
wait_for 10 counted || die "gso_size 1 not counted malformed: $(grep '^vm vm0' "$STATE/stats.out")"
[ "$(stat_of "link vm0->vm1" frames)" = $((crossed + 1)) ] || die "a gso_size 1 frame crossed the link"
[ "$(stat_of "vm vm0" seg_frames)" = 0 ] || die "vm0 segmented: seg_frames=$(stat_of "vm vm0" seg_frames)"
say "a TSO frame with gso_size 1: drop_malformed $mal -> $(stat_of "vm vm0" drop_malformed), nothing crossed (gso_size 1448: crossed)"

# A child that writes a gigabyte to its log (issue 26 item 6): 1 GiB into
# the write end of vm0's VMM's stderr pipe, as the VMM would, leaves at
# most log_max (default 4M) in NAME.vmm.log and in its .1, the newest
# bytes, and every other byte counted in status as log_bytes_dropped.
max=$((4 << 20))
dd if=/dev/zero bs=1M count=1024 of="/proc/$vmm0/fd/2" status=none || die "cannot write into vm0's VMM's log pipe"
drained() {
	d=$("$MV" status | awk '$1 == "vm0" { for (i = 1; i <= NF; i++) if ($i ~ /^log_bytes_dropped=/) { sub(/.*=/, "", $i); print $i } }')
	[ "${d:-0}" -ge $(((1 << 30) - 2 * max)) ]
}
wait_for 60 drained || die "1 GiB written, log_bytes_dropped=$d"
for f in "$STATE/vm0.vmm.log" "$STATE/vm0.vmm.log.1"; do
	[ "$(stat -c %s "$f")" -le $max ] || die "$f holds $(stat -c %s "$f") bytes, over log_max $max"
done
say "1 GiB into vm0's VMM's log: vmm.log $(stat -c %s "$STATE/vm0.vmm.log") B, .1 $(stat -c %s "$STATE/vm0.vmm.log.1") B, log_bytes_dropped=$d"
[ "$(pid_of vm0 vmm)" = "$vmm0" ] || die "VMM vm0 was restarted"
say "PASS"
