#!/bin/sh
# The seccomp filter holds inside a real, running VMM: a debugger attached
# to it makes the VMM itself call open, socket and execve, and each is
# refused with EPERM, while an allowed call (close) reaches the kernel.
# Afterwards the same VMM still forwards frames.
TEST_NAME=sandbox
. "$(dirname "$0")/lib.sh"
HF=${HOSTILE:?HOSTILE must name build/tools/hostile_frontend}
command -v gdb >/dev/null || die "gdb missing (apt-get install gdb)"
# Where the host forbids ptrace (containers, yama), this cannot be shown.
sleep 300 &
probe=$!
traced=$(timeout 60 gdb -batch -nx -p $probe -ex 'printf "ATTACHED\n"' -ex detach 2>/dev/null)
kill $probe
case $traced in
*ATTACHED*) ;;
*) say "SKIP: this host does not let gdb attach to a process"; exit 77 ;;
esac

"$MV" run --detach --no-guests "$(dirname "$0")/configs/pair.ini" >/dev/null || die "run failed"
vmm=$(sed -n 's/^vm0 .*vmm=\([0-9]*\).*/\1/p' "$STATE/status")
grep -q '^Seccomp:[[:space:]]*2$' /proc/$vmm/status || die "VMM $vmm is not in seccomp filter mode"

# in_vmm EXPR: the VMM evaluates EXPR (a call); prints "RESULT ERRNO".
in_vmm() {
	timeout 60 gdb -batch -nx -p "$vmm" \
		-ex "set \$r = (int)$1" \
		-ex 'set $e = *(int *)__errno_location()' \
		-ex 'printf "RESULT %d %d\n", $r, $e' -ex detach 2>/dev/null |
		sed -n 's/^RESULT //p'
}
EPERM=1
EBADF=9
[ "$(in_vmm 'close(-1)')" = "-1 $EBADF" ] || die "the control call did not reach the kernel: $(in_vmm 'close(-1)')"
[ "$(in_vmm 'open("/etc/hostname", 0)')" = "-1 $EPERM" ] || die "open was not refused"
[ "$(in_vmm 'socket(2, 1, 0)')" = "-1 $EPERM" ] || die "socket was not refused"
[ "$(in_vmm 'execve("/bin/true", 0, 0)')" = "-1 $EPERM" ] || die "execve was not refused"

# Still the same VMM, still forwarding.
[ "$(sed -n 's/^vm0 .*vmm=\([0-9]*\).*/\1/p' "$STATE/status")" = "$vmm" ] || die "VMM vm0 was restarted"
"$HF" send "$STATE/vm0.vhost" 52:54:00:4d:56:01 52:54:00:4d:56:02 5 || die "sending through vm0 failed"
crossed() { snap; [ "$(stat_of "link vm0->vm1" frames)" -eq 5 ]; }
wait_for 30 crossed || die "frames did not cross after the refused calls: $(cat "$STATE/stats.out")"
say "PASS"
