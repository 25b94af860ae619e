#!/bin/sh
# The seccomp filter holds inside a real, running VMM: sysinject (ptrace,
# general registers only) makes the VMM itself call openat, socket,
# execve, an executable mmap and a stat of a path, and each is refused
# with EPERM, while an allowed call (close) reaches the kernel. Afterwards
# the same VMM still forwards frames.
TEST_NAME=sandbox
. "$(dirname "$0")/lib.sh"
HF=${HOSTILE:?HOSTILE must name build/tools/hostile_frontend}
SI=${SYSINJECT:?SYSINJECT must name build/tools/sysinject}
EPERM=1
EBADF=9

# The same injection into an unsandboxed process first: where the host
# forbids ptrace (containers, yama) or the tool cannot work, this test
# cannot prove anything and says so; it must not fail or pass.
sleep 300 &
probe=$!
control=$("$SI" $probe close-badf openat 2>&1)
rc=$?
kill $probe
case $rc in
0) ;;
77) say "$control"; exit 77 ;;
*) say "SKIP: ptrace injection does not work on this host: $control"; exit 77 ;;
esac
echo "$control" | grep -qx "close-badf -1 $EBADF" && echo "$control" | grep -qx 'openat [0-9][0-9]* 0' ||
	die "injection into an unsandboxed process gave: $control"

"$MV" run --detach --no-guests "$(dirname "$0")/configs/pair.ini" >/dev/null || die "run failed"
vmm=$(pid_of vm0 vmm)
grep -q '^Seccomp:[[:space:]]*2$' /proc/$vmm/status || die "VMM $vmm is not in seccomp filter mode"

got=$("$SI" "$vmm" close-badf openat socket execve mmap-exec stat-path 2>&1) || die "sysinject failed on VMM $vmm: $got"
expect() {
	echo "$got" | grep -qx "$1" || die "$2: got $(echo "$got" | grep "^${1%% *} ")"
}
expect "close-badf -1 $EBADF" "the control call did not reach the kernel"
expect "openat -1 $EPERM" "openat was not refused"
expect "socket -1 $EPERM" "socket was not refused"
expect "execve -1 $EPERM" "execve was not refused"
expect "mmap-exec -1 $EPERM" "an executable mapping was not refused"
expect "stat-path -1 $EPERM" "stat of a path was not refused"

# Still the same VMM, still forwarding.
[ "$(pid_of vm0 vmm)" = "$vmm" ] || die "VMM vm0 was restarted"
"$HF" send "$STATE/vm0.vhost" 52:54:00:4d:56:01 52:54:00:4d:56:02 5 || die "sending through vm0 failed"
crossed() { snap; [ "$(stat_of "link vm0->vm1" frames)" -eq 5 ]; }
wait_for 30 crossed || die "frames did not cross after the refused calls: $(cat "$STATE/stats.out")"
say "PASS"
