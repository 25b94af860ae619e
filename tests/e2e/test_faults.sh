#!/bin/sh
# A crash of one part loses nothing of the others:
# - VMM of vm1 killed with SIGKILL while vm0 and vm2 ping each other: that
#   traffic loses nothing; the supervisor restarts the VMM, QEMU reconnects
#   and vm1 answers again (the seconds it took are reported);
# - QEMU of vm2 killed: its VMM stays up, the supervisor restarts vm2 and it
#   is reachable again.
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
say "PASS"
