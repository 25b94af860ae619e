#!/bin/sh
# Packet capture on a guest-less pair, frames from hostile_frontend: an
# unknown VM or link is refused with nothing created; a reader that never
# reads changes no forwarding count and reports what it lost; two
# concurrent captures of a VM each see every frame (pcap read back by
# tcpdump and checked frame by frame); -c; SIGINT and SIGTERM end with the
# summary; a capture killed with SIGKILL stops costing the VMM once its
# lease runs out; the VMMs are the same, still sandboxed, afterwards.
TEST_NAME=capture
. "$(dirname "$0")/lib.sh"
HF=${HOSTILE:?HOSTILE must name build/tools/hostile_frontend}
command -v tcpdump >/dev/null || die "tcpdump missing (apt-get install tcpdump)"
command -v python3 >/dev/null || die "python3 missing (apt-get install python3)"
M0=$(mac_of 0)
M1=$(mac_of 1)
S2=
bg=
stop_all() {
	for p in $bg; do
		kill -9 "$p" 2>/dev/null
	done
	[ -n "$S2" ] && { "$MV" -S "$S2" stop --timeout 30 >/dev/null 2>&1; rm -rf "$S2"; }
	cleanup
}
trap stop_all EXIT

# capture NAME ARGS...: `multivm capture ARGS` in the background, stdout to
# $STATE/NAME.out, stderr to NAME.err; its pid in $cap. Returns once it
# listens (frames are recorded for it from then on).
capture() {
	name=$1
	shift
	"$MV" capture "$@" >"$STATE/$name.out" 2>"$STATE/$name.err" &
	cap=$!
	bg="$bg $cap"
	wait_for 30 grep -q '^multivm: capture: listening on ' "$STATE/$name.err" ||
		die "capture $* did not start: $(cat "$STATE/$name.err")"
}

# ended NAME PID: waits for the capture to exit 0; got="CAPTURED LOST".
ended() {
	wait "$2" || die "capture $1 exited $?: $(cat "$STATE/$1.err")"
	got=$(sed -n 's/^\([0-9]*\) frames captured, \([0-9]*\) lost (reader too slow)$/\1 \2/p' "$STATE/$1.err")
	[ -n "$got" ] || die "capture $1: no summary line: $(cat "$STATE/$1.err")"
}

# Frame numbers (hostile_frontend puts them after ethertype 0x88b5) of a
# pcap file, checked: exactly 0..N-1, in order, 60 bytes each, as tcpdump
# reads the file too.
pcap_has() {
	[ "$(tcpdump -n -r "$1" 'ether proto 0x88b5' 2>/dev/null | grep -c '^[0-9]')" -eq "$2" ] || return 1
	python3 - "$1" "$2" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
magic, _, _, _, _, snaplen, linktype = struct.unpack("<IHHiIII", data[:24])
assert magic == 0xa1b2c3d4 and linktype == 1, (hex(magic), linktype)
off, seen = 24, []
while off < len(data):
    sec, usec, caplen, length = struct.unpack("<IIII", data[off:off + 16])
    frame = data[off + 16:off + 16 + caplen]
    assert caplen == length == 60 and frame[12:14] == b"\x88\xb5", (caplen, length, frame[:14])
    seen.append(struct.unpack(">I", frame[14:18])[0])
    off += 16 + caplen
assert seen == list(range(int(sys.argv[2]))), (len(seen), seen[:5], seen[-5:])
PY
}

"$MV" run --detach --no-guests "$(dirname "$0")/configs/pair.ini" >/dev/null || die "run failed"
vmm0=$(pid_of vm0 vmm)
vmm1=$(pid_of vm1 vmm)
[ "$(stat -c %a "$STATE/vm0.capture")" = 600 ] || die "vm0.capture is not private"

# Refused: status 1, a message, no output file.
for t in vm9 vm0-vm9 'vm9->vm1' 'vm0->vm0' vm0-vm0; do
	"$MV" capture "$t" -w "$STATE/no.pcap" 2>"$STATE/refused.err"
	rc=$?
	[ $rc -eq 1 ] || die "capture $t exited $rc"
	grep -qx "multivm: capture: no VM, NIC or link called $t" "$STATE/refused.err" ||
		die "capture $t: $(cat "$STATE/refused.err")"
	[ -e "$STATE/no.pcap" ] && die "capture $t created its output"
done
status_is 2 "$MV" capture || die "capture without a target"
status_is 2 "$MV" capture vm0 -c 0 || die "capture -c 0"
status_is 2 "$MV" capture vm0 --snaplen 0 || die "capture --snaplen 0"
status_is 2 "$MV" capture vm0 vm1 || die "capture with a filter libpcap cannot compile ('vm1')"
# A NIC that is no wire's: refused by name.
"$MV" capture vm0:eth5 -w "$STATE/no.pcap" 2>"$STATE/refused.err" && die "capture vm0:eth5 accepted"
grep -qx "multivm: capture: vm0 has no wire NIC eth5" "$STATE/refused.err" || die "capture vm0:eth5: $(cat "$STATE/refused.err")"
[ -e "$STATE/no.pcap" ] && die "capture vm0:eth5 created its output"

# A link the config does not have (vm1 and vm2 are not linked in chain.ini).
S2=$(mktemp -d /tmp/mvt.XXXXXX)
"$MV" -S "$S2" run --detach --no-guests "$(dirname "$0")/configs/chain.ini" >/dev/null || die "chain run failed"
for t in vm1-vm2 'vm2->vm0' 'vm0->vm2'; do
	"$MV" -S "$S2" capture "$t" -w "$S2/no.pcap" 2>"$STATE/refused.err"
	rc=$?
	[ $rc -eq 1 ] || die "capture $t (chain) exited $rc"
	grep -q '^multivm: capture: no link between vm[0-2] and vm[0-2]$' "$STATE/refused.err" ||
		die "capture $t (chain): $(cat "$STATE/refused.err")"
	[ -e "$S2/no.pcap" ] && die "capture $t (chain) created its output"
done
"$MV" -S "$S2" stop || die "chain stop failed"
rm -rf "$S2"
S2=

# Forwarding with nobody capturing, then with a reader that never reads
# (its pipe is full, then it blocks): every frame crosses both times, no
# drop anywhere, and the reader counts what it lost.
N=20000
forwarded() {	# frames and delivered on vm0->vm1 are $1, nothing dropped
	snap
	[ "$(stat_of "link vm0->vm1" frames)" -eq "$1" ] && [ "$(stat_of "link vm0->vm1" delivered)" -eq "$1" ] &&
		[ "$(stat_of "vm vm0" tx_frames)" -eq "$1" ] || return 1
	for k in drop_queue_full drop_no_link drop_spoofed drop_malformed drop_link_down drop_disabled; do
		[ "$(stat_of "vm vm0" $k)" -eq 0 ] || return 1
	done
}
"$HF" pair "$STATE/vm0.vhost" "$STATE/vm1.vhost" $M0 $M1 $N >/dev/null || die "frames did not all cross"
wait_for 30 forwarded $N || die "without capture: $(cat "$STATE/stats.out")"

sh -c 'echo $$ >"$1"; shift; exec "$@"' sh "$STATE/stalled.pid" "$MV" capture vm0 -w - 2>"$STATE/stalled.err" |
	sleep 600 &
bg="$bg $!"
wait_for 30 grep -q '^multivm: capture: listening on vm0 eth0' "$STATE/stalled.err" ||
	die "the stalled capture did not start: $(cat "$STATE/stalled.err")"
stalled=$(cat "$STATE/stalled.pid")
bg="$bg $stalled"
"$HF" pair "$STATE/vm0.vhost" "$STATE/vm1.vhost" $M0 $M1 $N >/dev/null ||
	die "frames did not all cross with a stalled reader"
wait_for 30 forwarded $((2 * N)) || die "with a stalled reader: $(cat "$STATE/stats.out")"
kill -INT "$stalled"
wait_for 30 grep -q 'frames captured' "$STATE/stalled.err" || die "no summary from the stalled capture"
set -- $(sed -n 's/^\([0-9]*\) frames captured, \([0-9]*\) lost (reader too slow)$/\1 \2/p' "$STATE/stalled.err")
[ $# -eq 2 ] && [ "$2" -gt 0 ] && [ $(($1 + $2)) -eq $N ] ||
	die "stalled reader: captured + lost is not $N, or nothing lost: $(cat "$STATE/stalled.err")"
say "stalled reader: $1 captured, $2 lost of $N; forwarding unchanged"

# Two captures of vm0 at once, a pcap file and text lines, and one of the
# link both ways: each sees every frame. Then SIGINT and SIGTERM.
capture pcap vm0 -w "$STATE/vm0.pcap"
p1=$cap
capture text vm0
p2=$cap
capture link vm0-vm1 -w "$STATE/link.pcap"
p3=$cap
capture count 'vm0->vm1' -c 5 -w "$STATE/count.pcap"
p4=$cap
# vm0's ring (4096 records) holds both of its streams, eth0 and the link:
# 2 x 1500 frames fit whole, so no reader can be lapped however slowly it
# runs (an ASan build on a loaded host); being lapped is tested above.
M=1500
"$HF" pair "$STATE/vm0.vhost" "$STATE/vm1.vhost" $M0 $M1 $M >/dev/null || die "frames did not all cross"
wait_for 30 forwarded $((2 * N + M)) || die "with three captures: $(cat "$STATE/stats.out")"
kill -INT $p1 $p3
kill -TERM $p2
ended pcap $p1
[ "$got" = "$M 0" ] || die "pcap capture: $(cat "$STATE/pcap.err")"
ended text $p2
[ "$got" = "$M 0" ] || die "text capture: $(cat "$STATE/text.err")"
ended link $p3
[ "$got" = "$M 0" ] || die "link capture: $(cat "$STATE/link.err")"
ended count $p4
[ "$got" = "5 0" ] || die "-c 5: $(cat "$STATE/count.err")"
pcap_has "$STATE/vm0.pcap" $M || die "vm0.pcap is not every frame once, in order"
pcap_has "$STATE/link.pcap" $M || die "link.pcap is not every frame once, in order"
pcap_has "$STATE/count.pcap" 5 || die "count.pcap is not the first 5 frames"
[ "$(grep -c "^[0-9:.]* vm0 out $M0 > $M1, ethertype Unknown (0x88b5), length 60\$" "$STATE/text.out")" -eq $M ] ||
	die "text capture: $(head -n 3 "$STATE/text.out")"
say "two captures of vm0 and one of the link: $M frames each, none lost; -c 5: 5"

# A capture killed with SIGKILL: once its lease (5 s) has run out, the next
# batch clears the ring's 'wanted' flag and the VMM records nothing more.
capture killed vm0 -w "$STATE/killed.pcap"
kill -9 $cap
wanted() { od -An -t u4 -j 64 -N 4 "$STATE/vm0.capture" | tr -d ' '; }
head_pos() { od -An -t u8 -j 128 -N 8 "$STATE/vm0.capture" | tr -d ' '; }
[ "$(wanted)" = 1 ] || die "a registered reader did not set 'wanted'"
off() { "$HF" send "$STATE/vm0.vhost" $M0 $M1 1 >/dev/null && [ "$(wanted)" = 0 ]; }
wait_for 60 off || die "the VMM still records for a reader killed 60 s ago"
h=$(head_pos)
"$HF" send "$STATE/vm0.vhost" $M0 $M1 50 >/dev/null || die "send failed"
[ "$(head_pos)" = "$h" ] || die "the VMM recorded frames with no reader"

# The same VMMs, still in their sandbox.
[ "$(pid_of vm0 vmm)" = "$vmm0" ] || die "VMM vm0 was restarted"
[ "$(pid_of vm1 vmm)" = "$vmm1" ] || die "VMM vm1 was restarted"
for pid in $vmm0 $vmm1; do
	grep -q '^Seccomp:[[:space:]]*2$' /proc/$pid/status || die "VMM $pid is not in seccomp mode 2"
done
grep -i -E 'error|malformed|closing|capture' "$STATE"/vm*.vmm.log && die "a VMM logged a problem"
"$MV" stop || die "stop failed"
[ -e "$STATE/vm0.capture" ] && die "the capture ring outlived the system"
say "PASS"
