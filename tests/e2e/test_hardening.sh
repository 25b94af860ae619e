#!/bin/sh
# Containment holes found by review (issue 26), against running VMMs
# (`run --no-guests`, test frontends standing in for guests):
#  - a VMM whose fds run out (prlimit --nofile) cannot accept a frontend:
#    it must not spin on its readable socket, it counts the failures, and
#    it accepts the waiting frontend once fds are back;
#  - a capture file truncated under a VMM (root can) must not kill it:
#    the capture stops, forwarding goes on.
TEST_NAME=hardening
. "$(dirname "$0")/lib.sh"

PAIR=$(realpath "$(dirname "$0")/configs/pair.ini")
command -v prlimit >/dev/null || skip "prlimit missing (util-linux)"
"$MV" run --detach --no-guests --timeout 60 "$PAIR" || die "run --no-guests failed"
vmm0=$(pid_of vm0 vmm)
[ -n "$vmm0" ] && [ "$vmm0" -gt 0 ] || die "no VMM for vm0"

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# As the VMM's own uid (no other process has it: test_containment shows a
# QEMU's cannot), or as root where /proc hides it (a non-dumpable VMM).
owner=$(stat -c %u "/proc/$vmm0")
as_owner() { if [ "$owner" = "$(id -u)" ]; then "$@"; else setpriv --reuid="$owner" --regid="$(stat -c %g "/proc/$vmm0")" --clear-groups "$@"; fi; }

# Out of fds: one frontend connects and waits.
# The soft limit only: the hard one could not be raised again (but by
# root with CAP_SYS_RESOURCE), and the test wants the VMM back.
as_owner prlimit --pid "$vmm0" --nofile=3:1024 || die "prlimit failed"
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
time.sleep(float(sys.argv[2]))' "$STATE/vm0.vhost" 4 &
client=$!
wait_for 10 sh -c "\"$MV\" stats | grep -q '^vm vm0 .* vu_accept_errors=[1-9]'" ||
	die "no accept error counted: $("$MV" stats | grep '^vm vm0')"
t0=$(cpu_ticks "$vmm0")
sleep 2	# measuring the CPU a VMM uses over a time: nothing to wait for
t1=$(cpu_ticks "$vmm0")
[ $((t1 - t0)) -le 20 ] || die "the VMM spun on its socket: $((t1 - t0)) ticks of CPU in 2 s"
say "out of fds: $((t1 - t0)) ticks of CPU in 2 s, $("$MV" stats | sed -n 's/^vm vm0 .*\(vu_accept_errors=[0-9]*\).*/\1/p')"
as_owner prlimit --pid "$vmm0" --nofile=1024:1024 || die "prlimit back failed"
wait_for 10 sh -c "\"$MV\" stats | grep -q '^vm vm0 .* vu_connected=1 '" ||
	die "the waiting frontend was not accepted once fds were back"
wait $client
"$HOSTILE" pair "$STATE/vm0.vhost" "$STATE/vm1.vhost" "$(mac_of 0)" "$(mac_of 1)" 200 ||
	die "frames no longer cross after the VMM ran out of fds"
say "fds back: the frontend was accepted and frames cross"

# A capture file truncated while a capture runs and frames flow.
"$MV" capture vm0-vm1 -w /dev/null 2>"$STATE/cap.err" &
cap=$!
wait_for 30 grep -q 'listening on' "$STATE/cap.err" || die "capture did not start: $(cat "$STATE/cap.err")"
"$HOSTILE" pair "$STATE/vm0.vhost" "$STATE/vm1.vhost" "$(mac_of 0)" "$(mac_of 1)" 200 || die "frames before the truncation"
truncate -s 0 "$STATE/vm0.capture"
"$HOSTILE" pair "$STATE/vm0.vhost" "$STATE/vm1.vhost" "$(mac_of 0)" "$(mac_of 1)" 500 ||
	die "frames stopped crossing after the capture file was truncated"
kill -9 $cap 2>/dev/null
[ "$(pid_of vm0 vmm)" = "$vmm0" ] || die "vm0's VMM died when its capture file was truncated"
grep -q 'capture file was truncated under us' "$STATE/vm0.vmm.log" || die "the VMM did not say the capture stopped"
say "a truncated capture file: the VMM lives on and forwards"
echo "hardening: PASS"
