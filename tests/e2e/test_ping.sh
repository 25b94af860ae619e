#!/bin/sh
# The default system boots under TCG; all six ordered pairs ping with no
# loss; status and stats show what a user would check. Meanwhile vm0's
# eth0 is captured to a pcap file and the vm0-vm1 link (both ways) live
# into tcpdump through a pipe: tcpdump reads back exactly the echo
# requests and replies that crossed them. Last, the supervisor is killed
# (SIGKILL): every VMM and QEMU ends with it, and the system runs again.
TEST_NAME=ping
. "$(dirname "$0")/lib.sh"

start=$(date +%s)
# Started with an extra fd open: no child may inherit it.
"$MV" run --detach --timeout 300 7>"$STATE/inherited" || die "run --detach failed"
say "system up in $(($(date +%s) - start)) s"

"$MV" status > "$STATE/status.out" || die "status failed"
[ "$(grep -c '^vm[0-9] state=up' "$STATE/status.out")" -eq 3 ] || die "not all VMs up: $(cat "$STATE/status.out")"
grep -q '^vm1 state=up vmm=[1-9][0-9]* qemu=[1-9][0-9]* engine=\(tcg\|kvm\) console=/.*/vm1.console.log log_bytes_dropped=0 agent=up$' "$STATE/status.out" ||
	die "status line format: $(cat "$STATE/status.out")"

# Every VMM and every QEMU runs under a seccomp filter (mode 2); started
# by root, each as an unprivileged identity of its own (VM i's VMM and
# QEMU: id_of i node, id_of i qemu), no supplementary group, no
# capabilities.
i=0
for pair in $(sed -n 's/.*vmm=\([0-9]*\) qemu=\([0-9]*\).*/\1:\2/p' "$STATE/status.out"); do
	for pid in ${pair%:*} ${pair#*:}; do
		grep -q '^Seccomp:[[:space:]]*2$' /proc/$pid/status || die "process $pid is not sandboxed"
		ls -l /proc/$pid/fd | grep -q "$STATE/inherited" && die "process $pid inherited an fd of multivm run's caller"
		grep -q '^NoNewPrivs:[[:space:]]*1$' /proc/$pid/status || die "process $pid can gain privileges"
		[ "$(id -u)" -eq 0 ] || continue
		[ "$pid" = "${pair%:*}" ] && want=$(id_of $i node) || want=$(id_of $i qemu)
		grep -q "^Uid:[[:space:]]*$want[[:space:]]$want[[:space:]]$want[[:space:]]$want$" /proc/$pid/status &&
			grep -q "^Gid:[[:space:]]*$want[[:space:]]$want[[:space:]]$want[[:space:]]$want$" /proc/$pid/status ||
			die "vm$i's process $pid runs as $(grep -E '^(Uid|Gid):' /proc/$pid/status | tr '\n' ' '), not $want"
		grep -q '^Groups:[[:space:]]*\('"$want"'[[:space:]]*\)\?$' /proc/$pid/status ||
			die "process $pid has groups $(grep ^Groups: /proc/$pid/status)"
		grep -q '^CapEff:[[:space:]]*0*$' /proc/$pid/status || die "process $pid has capabilities: $(grep ^Cap /proc/$pid/status)"
		# The init of a PID namespace of its own (pid 1 there).
		grep -q "^NSpid:[[:space:]]*$pid[[:space:]]*1$" /proc/$pid/status ||
			die "process $pid is not its own PID namespace's init: $(grep ^NSpid: /proc/$pid/status)"
		echo "$(readlink /proc/$pid/ns/pid)" >>"$STATE/pidns"
	done
	# QEMU's /proc is its namespace's: itself alone.
	if [ "$(id -u)" -eq 0 ]; then
		seen=$(ls /proc/${pair#*:}/root/proc | grep -E '^[0-9]+$' | tr '\n' ' ')
		[ "$seen" = "1 " ] || die "vm$i's QEMU sees processes $seen in its /proc"
	fi
	i=$((i + 1))
done
[ $i -eq 3 ] || die "checked $i VMs' processes, not 3"
if [ "$(id -u)" -eq 0 ]; then
	[ "$(sort -u "$STATE/pidns" | grep -vc "^$(readlink /proc/self/ns/pid)$")" -eq 6 ] ||
		die "the 6 VMMs and QEMUs are not in 6 PID namespaces of their own: $(sort "$STATE/pidns" | uniq -c)"
	say "each VMM and QEMU: the init of a PID namespace of its own; each QEMU's /proc shows itself alone"
fi

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

command -v tcpdump >/dev/null || die "tcpdump missing (apt-get install tcpdump)"
"$MV" capture vm0 -w "$STATE/vm0.pcap" 2>"$STATE/cap0.err" &
cap0=$!
sh -c 'echo $$ >"$1"; shift; exec "$@"' sh "$STATE/cap1.pid" "$MV" capture vm0-vm1 -w - 2>"$STATE/cap1.err" |
	tcpdump -n -l -r - >"$STATE/link.txt" 2>"$STATE/tcpdump.err" &
live=$!
stop_captures() {
	kill -9 $cap0 $live "$(cat "$STATE/cap1.pid" 2>/dev/null)" 2>/dev/null
	cleanup
}
trap stop_captures EXIT
for f in cap0 cap1; do
	wait_for 30 grep -q '^multivm: capture: listening on ' "$STATE/$f.err" || die "capture did not start: $(cat "$STATE/$f.err")"
done

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

# The live capture already shows the link's replies (flushed as they come),
# then both captures end on SIGINT with nothing lost.
replies() { [ "$(grep -c 'ICMP echo reply' "$STATE/link.txt")" -ge 4 ]; }
wait_for 30 replies || die "tcpdump did not see the link's pings live: $(cat "$STATE/link.txt" "$STATE/tcpdump.err")"
kill -INT $cap0 "$(cat "$STATE/cap1.pid")"
wait $cap0 || die "capture of vm0 exited $?: $(cat "$STATE/cap0.err")"
wait $live || die "capture | tcpdump failed: $(cat "$STATE/cap1.err" "$STATE/tcpdump.err")"
for f in cap0 cap1; do
	grep -qx '[0-9]* frames captured, 0 lost (reader too slow)' "$STATE/$f.err" || die "capture: $(cat "$STATE/$f.err")"
done
tcpdump -n -r "$STATE/vm0.pcap" >"$STATE/vm0.txt" 2>"$STATE/tcpdump.err" || die "tcpdump cannot read vm0.pcap: $(cat "$STATE/tcpdump.err")"
# Each ordered pair ran one `ping -c 2`: two requests (one id, seq 0 and 1),
# each answered once, the reply after its request; nothing else.
icmp_exactly() {
	python3 - "$@" <<'PY'
import re, sys
path, pairs = sys.argv[1], [p.split(">") for p in sys.argv[2:]]
pat = re.compile(r"IP (\S+) > (\S+): ICMP echo (request|reply), id (\d+), seq (\d+), length \d+$")
seen = [m.groups() for m in map(pat.search, open(path)) if m]
assert len(seen) == 4 * len(pairs), ("echo frames", len(seen), seen)
for a, b in pairs:
    req = [s for s in seen if s[:3] == (a, b, "request")]
    rep = [s for s in seen if s[:3] == (b, a, "reply")]
    assert len(req) == 2 and len(rep) == 2, (a, b, req, rep)
    assert len({s[3] for s in req}) == 1 and sorted(s[4] for s in req) == ["0", "1"], (a, b, req)
    assert sorted(s[3:] for s in rep) == sorted(s[3:] for s in req), (a, b, req, rep)
    for r in req:	# requested, then answered
        assert seen.index(r) < seen.index((b, a, "reply") + r[3:]), (a, b, seen)
PY
}
I=192.168.1
icmp_exactly "$STATE/vm0.txt" $I.1\>$I.2 $I.1\>$I.3 $I.2\>$I.1 $I.3\>$I.1 ||
	die "vm0's capture is not exactly its pings: $(grep ICMP "$STATE/vm0.txt")"
icmp_exactly "$STATE/link.txt" $I.1\>$I.2 $I.2\>$I.1 ||
	die "the vm0-vm1 capture is not exactly their pings: $(grep ICMP "$STATE/link.txt")"
say "captured: vm0 $(grep -c "ICMP echo" "$STATE/vm0.txt") echo frames, link vm0-vm1 $(grep -c "ICMP echo" "$STATE/link.txt")"
sed -n '/ICMP echo/p' "$STATE/link.txt"
for v in vm0 vm1 vm2; do
	for k in drop_queue_full drop_no_link drop_spoofed drop_malformed drop_link_down drop_disabled vq_errors vu_bad_messages; do
		[ "$(stat_of "vm $v" $k)" = 0 ] || die "$v: $k = $(stat_of "vm $v" $k)"
	done
done
cat "$STATE/stats.out"

# ---- the supervisor killed (SIGKILL): its VMMs and QEMUs go with it ----
supervisor_death_ends_all 5
"$MV" run --detach --no-guests >/dev/null || die "run again after the supervisor died failed"
"$MV" stop >/dev/null || die "stop of the system run again failed"
say "run again in the same state directory: up, stopped"
say "PASS"
