#!/bin/sh
# A crash of one part loses nothing of the others:
# - VMM of vm1 killed with SIGKILL while vm0 and vm2 ping each other: that
#   traffic loses nothing; the supervisor restarts the VMM, QEMU reconnects
#   and vm1 answers again (the seconds it took are reported);
# - QEMU of vm2 killed: its VMM stays up, the supervisor restarts vm2 and it
#   is reachable again;
# - VMM of vm1 stopped (SIGSTOP): status says state=degraded
#   reason=vmm_unresponsive within 5 s (text and JSON); SIGCONT brings it
#   back up, the same process; stopped for good, it is killed after 10 s
#   and restarted, and vm1 answers again; what the VMMs and QEMU wrote
#   reached their logs through the supervisor.
TEST_NAME=faults
. "$(dirname "$0")/lib.sh"

"$MV" run --detach --timeout 300 >/dev/null || die "run failed"
"$MV" exec vm1 -- ping -c 1 -W 5 192.168.1.1 >/dev/null || die "vm1 not reachable at start"

# vm0 <-> vm2 traffic across the kill: 40 pings, 0.2 s apart.
"$MV" exec vm0 -- ping -c 40 -i 0.2 -W 2 192.168.1.3 >"$STATE/ping02.out" 2>&1 &
pinger=$!
sent_some() { snap; [ "$(stat_of "link vm0->vm2" frames)" -ge 5 ]; }
wait_for 30 sent_some || die "vm0 -> vm2 traffic did not start"
old=$(pid_of vm1 vmm)
kill -9 "$old"
t0=$(date +%s.%N)
restarted() { p=$(pid_of vm1 vmm); [ -n "$p" ] && [ "$p" != 0 ] && [ "$p" != "$old" ]; }
wait_for 30 restarted || die "VMM of vm1 was not restarted"
wait_for 60 "$MV" exec --timeout 5 vm2 -- ping -c 1 -W 1 192.168.1.2 || die "vm1 did not answer again"
t1=$(date +%s.%N)
say "vm1 answered again $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s after its VMM was killed"
wait "$pinger" || die "vm0 -> vm2 ping failed: $(cat "$STATE/ping02.out")"
grep -q '40 packets transmitted, 40 packets received' "$STATE/ping02.out" ||
	die "vm0 <-> vm2 lost frames while vm1's VMM died: $(tail -3 "$STATE/ping02.out")"
snap
[ "$(stat_of "vm vm1" vmm_starts)" -eq 2 ] || die "vm1 vmm_starts is $(stat_of "vm vm1" vmm_starts)"

# QEMU of vm2 dies: restarted; its VMM is the same process throughout.
vmm2=$(pid_of vm2 vmm)
kill -9 "$(pid_of vm2 qemu)"
back_up() { [ "$(state_of vm2)" = up ]; }
wait_for 10 sh -c "! grep -q '^vm2 state=up' '$STATE/status'" || die "vm2's QEMU death went unnoticed"
wait_for 120 back_up || die "vm2 did not come back: $(cat "$STATE/status")"
[ "$(pid_of vm2 vmm)" = "$vmm2" ] || die "vm2's VMM changed when its QEMU died"
"$MV" exec vm0 -- ping -c 2 -W 5 192.168.1.3 >/dev/null || die "vm2 not reachable after its restart"

# A stopped VMM cannot pass for a live one (its loop's heartbeat stops).
secs_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
vmm1=$(pid_of vm1 vmm)
kill -STOP "$vmm1"
t0=$(date +%s.%N)
# Polled with the text form alone (one process a look, no python): the
# time measured is the supervisor's, not the poller's.
unresponsive() { "$MV" status | grep -q "^vm1 state=degraded vmm=$vmm1 .* reason=vmm_unresponsive\$"; }
wait_for 9 unresponsive || { kill -CONT "$vmm1"; die "vm1's stopped VMM not seen: $("$MV" status)"; }
took=$(secs_since "$t0")
[ "$(state_of vm1)" = degraded ] && [ "$(status_field reason vm1)" = vmm_unresponsive ] &&
	[ "$(pid_of vm1 vmm)" = "$vmm1" ] ||
	{ kill -CONT "$vmm1"; die "multivm status --json says: $("$MV" status --json)"; }
awk -v t="$took" 'BEGIN { exit !(t <= 5.0) }' || { kill -CONT "$vmm1"; die "degraded only after $took s"; }
say "vm1 degraded (vmm_unresponsive) $took s after its VMM was stopped"
kill -CONT "$vmm1"
vm1_up() { [ "$(state_of vm1)" = up ] && [ -z "$(status_field reason vm1)" ]; }
wait_for 5 vm1_up || die "vm1 not up again after SIGCONT: $(cat "$STATE/status")"
[ "$(pid_of vm1 vmm)" = "$vmm1" ] || die "vm1's VMM was restarted though it came back in time"
"$MV" exec --timeout 10 vm0 -- ping -c 1 -W 5 192.168.1.2 >/dev/null || die "vm1 not reachable after SIGCONT"
# Stopped for good: killed after 10 s unresponsive and restarted.
kill -STOP "$vmm1"
t0=$(date +%s.%N)
replaced() { p=$(pid_of vm1 vmm); [ -n "$p" ] && [ "$p" != 0 ] && [ "$p" != "$vmm1" ]; }
wait_for 30 replaced || { kill -CONT "$vmm1"; die "vm1's hung VMM was not restarted: $(cat "$STATE/status")"; }
say "vm1's hung VMM replaced $(secs_since "$t0") s after it was stopped"
kill -0 "$vmm1" 2>/dev/null && die "the hung VMM $vmm1 still exists"
grep -q "vm1: VMM (pid $vmm1) unresponsive for 10 s; killing it" "$STATE/supervisor.log" ||
	die "no word of the kill in supervisor.log"
wait_for 60 "$MV" exec --timeout 5 vm0 -- ping -c 1 -W 1 192.168.1.2 || die "vm1 did not answer after its VMM was replaced"
wait_for 10 vm1_up || die "vm1 not up after its VMM was replaced: $(cat "$STATE/status")"

# The children's logs come through pipes into the supervisor's capped
# writer: every start of vm1's VMM is in its log, the killed ones' too.
n=$(grep -c ': serving ' "$STATE/vm1.vmm.log")
[ "$n" -eq 3 ] || die "vm1.vmm.log has $n VMM starts, not 3: $(cat "$STATE/vm1.vmm.log")"
grep -q . "$STATE/vm1.qemu.log" || die "vm1.qemu.log is empty (its reconnects say something)"
say "PASS"
