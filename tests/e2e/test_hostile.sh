#!/bin/sh
# Hostile frontends against real, running VMMs (no guests): a malformed
# SET_MEM_TABLE ends only that session; a looping TX descriptor chain stops
# only that queue. Each time the VMM logs one clear line, counts the event,
# stays up, and keeps serving its other queue and its link.
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
say "PASS"
