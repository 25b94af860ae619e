#!/bin/sh
# The default system boots under TCG; all six ordered pairs ping with no
# loss; status and stats show what a user would check.
TEST_NAME=ping
. "$(dirname "$0")/lib.sh"

start=$(date +%s)
# Started with an extra fd open: no child may inherit it.
"$MV" run --detach --timeout 300 7>"$STATE/inherited" || die "run --detach failed"
say "system up in $(($(date +%s) - start)) s"

"$MV" status > "$STATE/status.out" || die "status failed"
[ "$(grep -c 'state=up' "$STATE/status.out")" -eq 3 ] || die "not all VMs up: $(cat "$STATE/status.out")"
grep -q '^vm1 state=up vmm=[1-9][0-9]* qemu=[1-9][0-9]* engine=\(tcg\|kvm\) console=/.*/vm1.console.log log_bytes_dropped=0$' "$STATE/status.out" ||
	die "status line format: $(cat "$STATE/status.out")"

# Every VMM and every QEMU runs under a seccomp filter (mode 2); started
# by root, both run as the unprivileged user multivm with no capabilities.
for pid in $(sed -n 's/.*vmm=\([0-9]*\) qemu=\([0-9]*\).*/\1 \2/p' "$STATE/status.out"); do
	grep -q '^Seccomp:[[:space:]]*2$' /proc/$pid/status || die "process $pid is not sandboxed"
	ls -l /proc/$pid/fd | grep -q "$STATE/inherited" && die "process $pid inherited an fd of multivm run's caller"
	grep -q '^NoNewPrivs:[[:space:]]*1$' /proc/$pid/status || die "process $pid can gain privileges"
	[ "$(id -u)" -eq 0 ] || continue
	grep -q "^Uid:[[:space:]]*$(id -u multivm)[[:space:]]" /proc/$pid/status ||
		die "process $pid runs as $(grep ^Uid: /proc/$pid/status), not as multivm"
	grep -q '^CapEff:[[:space:]]*0*$' /proc/$pid/status || die "process $pid has capabilities: $(grep ^Cap /proc/$pid/status)"
done

out=$("$MV" exec vm1 -- hostname) || die "exec hostname failed"
[ "$out" = vm1 ] || die "hostname in vm1 is '$out'"
"$MV" exec vm2 -- 'exit 7'
[ $? -eq 7 ] || die "exec does not pass the exit status"
# A command that leaves something running in the background (as udhcpc
# does) is done when its shell is: exec must not wait for the background.
out=$("$MV" exec --timeout 30 vm2 -- 'sleep 600 & echo started') || die "exec waited for a background process"
[ "$out" = started ] || die "background command printed '$out'"
out=$("$MV" exec vm2 -- 'echo next') || die "exec after a background command"
[ "$out" = next ] || die "exec after a background command printed '$out'"

for a in 0 1 2; do
	for b in 0 1 2; do
		[ $a = $b ] && continue
		out=$("$MV" exec vm$a -- ping -c 2 -W 5 192.168.1.$((b + 1))) ||
			die "vm$a -> vm$b ping failed: $out"
		echo "$out" | grep -q '2 packets received' || die "vm$a -> vm$b lost packets: $out"
		say "vm$a -> 192.168.1.$((b + 1)): ok"
	done
done

# Every direction of every link carried frames (ARP and ICMP) and delivered
# every one of them: once frames in flight have landed, sent == delivered
# in one snapshot (guests keep sending the odd ARP, so we wait for that).
balanced() {
	snap
	for a in 0 1 2; do
		for b in 0 1 2; do
			[ $a = $b ] && continue
			sent=$(stat_of "link vm$a->vm$b" frames)
			got=$(stat_of "link vm$a->vm$b" delivered)
			[ "${sent:-0}" -ge 4 ] && [ "$sent" -eq "$got" ] || return 1
		done
	done
}
wait_for 20 balanced || die "links do not balance: $(cat "$STATE/stats.out")"
for v in vm0 vm1 vm2; do
	for k in drop_queue_full drop_no_link drop_spoofed drop_malformed drop_link_down drop_disabled vq_errors vu_bad_messages; do
		[ "$(stat_of "vm $v" $k)" = 0 ] || die "$v: $k = $(stat_of "vm $v" $k)"
	done
done
cat "$STATE/stats.out"
say "PASS"
