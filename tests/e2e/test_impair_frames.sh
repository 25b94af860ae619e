#!/bin/sh
# Impaired links counted frame by frame (issue 29): no guests, two
# dpdk-testpmd frontends on a pair (configs/pair.ini, run --no-guests),
# one on vm0 that sends (txonly frames, a count exact to the frame: `start
# tx_first` bursts in io forwarding with TX retry, 800 at a time), one on
# vm1 that only receives. Each phase impairs vm0->vm1 only and compares
# what changed:
#  - loss=10 %: 20000 frames, the delivered count within 3 sigma of the
#    binomial mean (18000 +- 127), every lost frame counted as impaired;
#  - duplicate=10 %: delivered = sent + duplicated exactly, duplicated
#    within 3 sigma of 2000;
#  - delay=2ms jitter=2ms (2 ms +- 2 ms, uniform): frames arrive in order
#    (a capture of vm1's eth0 read back: the IP source address testpmd's
#    --txonly-multi-flow counts up by one per frame), and their delays,
#    matched against a capture of the link's sending end, vary, with a
#    median of about 2 ms or more;
#  - rate=10mbit, sent well above it: the excess is counted (queue_full),
#    the delivered rate within 0.8..1.1 of the rate;
#  - delay=500ms set at run time on a link sized for none (256 entries),
#    sent well above what it holds: the link carries its room per delay
#    (512 frames a second, within 0.6..1.2 of it: it never stops), the
#    excess is counted (queue_full), and reset lets the held frames go.
# In every phase the counters balance exactly: what testpmd sent = vm0's
# tx_frames = delivered - duplicated + the link's drops by reason; vm0's
# tx_frames = the link's frames + what vm0's VMM dropped before the link
# (queue_full); the link's frames = delivered - duplicated + what vm1's
# VMM dropped off it (impaired); delivered = vm1's rx_frames = what vm1's
# testpmd received.
TEST_NAME=impair_frames
. "$(dirname "$0")/lib.sh"
N=20000		# frames per statistical phase
SIGMA3=127	# 3 * sqrt(20000 * 0.1 * 0.9)
# Both statistical phases are seeded (link set seed=29): the receiver's
# draws restart from the seed, so the same frames give the same count
# every run, and a 3-sigma bound holds or fails for good instead of
# failing 0.27 % of runs with nothing wrong; a loss or duplication rate
# off by more than the bound still fails it.
NORD=3200	# frames of the order phase

command -v dpdk-testpmd >/dev/null || die "dpdk-testpmd missing (package dpdk-dev)"
cpu=$(($(nproc) - 1))	# both frontends' lcores on the last CPU

"$MV" run --detach --no-guests "$(dirname "$0")/configs/pair.ini" || die "run --no-guests failed"
tx= rx= cap1= cap2=
stop_frontends() {
	exec 3>&- 4>&-
	for p in $tx $rx $cap1 $cap2; do kill "$p" 2>/dev/null; done
	for p in $tx $rx $cap1 $cap2; do wait "$p" 2>/dev/null; done
	tx= rx= cap1= cap2=
}
trap 'stop_frontends; cleanup' EXIT

# vm1's frontend: receives only, from the start.
testpmd_start 4 "$STATE/rx" "$cpu" --lcores "(0,1)@$cpu" \
	--vdev="net_virtio_user1,path=$STATE/vm1.vhost,mac=$(mac_of 1),queues=1,queue_size=1024" \
	-- -i --rxd=1024 --txd=1024 || die "vm1's testpmd did not start"
rx=$testpmd
echo "set fwd rxonly" >&4
echo "start" >&4
# vm0's frontend: txonly frames to vm1's MAC, the source address counting.
testpmd_start 3 "$STATE/tx" "$cpu" --lcores "(0,1)@$cpu" \
	--vdev="net_virtio_user0,path=$STATE/vm0.vhost,mac=$(mac_of 0),queues=1,queue_size=1024" \
	-- -i --rxd=1024 --txd=1024 --eth-peer=0,"$(mac_of 1)" --txonly-multi-flow ||
	die "vm0's testpmd did not start"
tx=$testpmd

# pmd FD NAME FIELD: FIELD of port 0 as testpmd prints it now (asks, and
# waits for the whole answer: the closing line of its block).
blocks() { grep -c '^ *#################*$' "$1.log"; }
more_blocks() { [ "$(blocks "$1")" -gt "$2" ]; }
pmd() {
	b=$(blocks "$2")
	echo "show port stats 0" >&"$1"
	wait_for 20 more_blocks "$2" "$b" || die "testpmd $2 did not answer: $(tail -5 "$2.log")"
	port_stat "$2.log" 0 "$3"
}
tx_sent() { pmd 3 "$STATE/tx" TX-packets; }
rx_got() { pmd 4 "$STATE/rx" RX-packets; }

# Snapshots of `multivm stats` (FILE), and what changed between two.
snap_to() { "$MV" stats >"$STATE/$1" || die "stats failed"; }
# delta A B PREFIX KEY: KEY on the line PREFIX in B minus in A; KEY
# drops: the sum of every drop_ key.
delta() {
	awk -v p="$3" -v k="$4" '
		index($0, p " ") == 1 { s = (FILENAME == ARGV[1]) ? -1 : 1
			for (i = 1; i <= NF; i++) { split($i, kv, "=")
				if (kv[1] == k || (k == "drops" && kv[1] ~ /^drop_/)) v += s * kv[2] } }
		END { print v + 0 }' "$STATE/$1" "$STATE/$2"
}
# drops_by_reason A B: the link's drops that changed, "reason=N ...".
drops_by_reason() {
	awk 'index($0, "link vm0->vm1 ") == 1 { s = (FILENAME == ARGV[1]) ? -1 : 1
			for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] ~ /^drop_/) d[substr(kv[1], 6)] += s * kv[2] } }
		END { for (r in d) if (d[r]) printf "%s%s=%d", n++ ? " " : "", r, d[r] }' "$STATE/$1" "$STATE/$2"
}
# settled SENT: everything vm0's testpmd sent has been taken by vm0's
# VMM and has left the link (delivered or dropped), and vm1's testpmd has
# received all that was delivered. (The link's held gauge is not used: it
# is refreshed only when the receiver next looks at the link.)
settled() {
	snap_to s.now
	[ "$(delta s.base s.now 'vm vm0' tx_frames)" -eq "$1" ] || return 1
	[ "$(delta s.base s.now 'link vm0->vm1' frames)" -eq $(($(delta s.base s.now 'link vm0->vm1' delivered) -
		$(delta s.base s.now 'link vm0->vm1' duplicated) + $(delta s.base s.now 'link vm0->vm1' drop_impaired) +
		$(delta s.base s.now 'link vm0->vm1' drop_link_down))) ] || return 1
	[ "$(($(rx_got) - rx0))" -eq "$(delta s.base s.now 'link vm0->vm1' delivered)" ]
}

# phase_begin: the counters' baseline.
phase_begin() {
	snap_to s.base
	tx0=$(tx_sent)
	rx0=$(rx_got)
}
# send LABEL FRAMES: FRAMES (a multiple of 800) exactly, 800 at a time
# (25 bursts of 32), each lot settled before the next: 800 frames fit on
# the link and in vm1's RX ring at once, so no frame waits for room
# (queue_full) even when the frontends get little of their CPU. Then
# checks the balance. Sets sent, frames, delivered, dup, drops.
send() {
	echo "set fwd io retry" >&3
	echo "set burst tx delay 200 retry 1000" >&3
	want=0
	while [ $want -lt "$2" ]; do
		want=$((want + 800))
		echo "start tx_first 25" >&3
		end=$(($(date +%s) + 30))
		until [ "$(($(tx_sent) - tx0))" -ge $want ]; do
			[ "$(date +%s)" -lt "$end" ] || die "$1: testpmd sent $(($(tx_sent) - tx0)) of $want in 30 s"
			sleep 0.05
		done
		echo "stop" >&3
		wait_for 30 settled $want || die "$1: $want frames sent did not settle: $(cat "$STATE/s.now")"
	done
	sent=$(($(tx_sent) - tx0))
	[ "$sent" -eq "$2" ] || die "$1: testpmd sent $sent, not $2"
	balance "$1"
}
# balance LABEL: waits for what testpmd sent ($sent) to settle, then
# checks every counter against every other.
balance() {
	wait_for 30 settled "$sent" || die "$1: the counters did not settle: sent $sent; $(cat "$STATE/s.now")"
	snap_to s.end
	got=$(($(rx_got) - rx0))
	tx_frames=$(delta s.base s.end 'vm vm0' tx_frames)
	frames=$(delta s.base s.end 'link vm0->vm1' frames)
	delivered=$(delta s.base s.end 'link vm0->vm1' delivered)
	dup=$(delta s.base s.end 'link vm0->vm1' duplicated)
	drops=$(delta s.base s.end 'link vm0->vm1' drops)
	rx_frames=$(delta s.base s.end 'vm vm1' rx_frames)
	# Dropped by the receiver (off the link) and by the sender (never on it).
	rdrops=$(($(delta s.base s.end 'link vm0->vm1' drop_impaired) + $(delta s.base s.end 'link vm0->vm1' drop_link_down)))
	sdrops=$((drops - rdrops))
	why=$(drops_by_reason s.base s.end)
	say "$1: sent $sent = delivered $delivered - duplicated $dup + dropped $drops (${why:-none}); vm0 tx_frames $tx_frames = $frames put on the link + $sdrops dropped before it; vm1 rx_frames $rx_frames, vm1's testpmd received $got"
	[ "$tx_frames" -eq "$sent" ] || die "$1: vm0 tx_frames $tx_frames, testpmd sent $sent"
	[ "$sent" -eq $((delivered - dup + drops)) ] || die "$1: unbalanced: sent $sent, delivered - duplicated + dropped $((delivered - dup + drops))"
	[ "$tx_frames" -eq $((frames + sdrops)) ] || die "$1: vm0 tx_frames $tx_frames, the link's frames $frames + $sdrops dropped"
	[ "$frames" -eq $((delivered - dup + rdrops)) ] || die "$1: the link's frames $frames, delivered - duplicated + $rdrops dropped off it"
	[ "$rx_frames" -eq "$delivered" ] || die "$1: vm1 rx_frames $rx_frames, delivered $delivered"
	[ "$got" -eq "$delivered" ] || die "$1: vm1's testpmd received $got, delivered $delivered"
}
# L ARGS...: `multivm link ARGS` on vm0->vm1, and waits until vm1's VMM,
# which applies it, says it did (the next line of its log about the link).
applied() { [ "$(grep -c 'link from vm0: ' "$STATE/vm1.vmm.log")" -gt "$1" ]; }
L() {
	n=$(grep -c 'link from vm0: ' "$STATE/vm1.vmm.log")
	"$MV" link "$@" >/dev/null || die "multivm link $* failed"
	wait_for 10 applied "$n" || die "vm1's VMM did not apply link $*: $(tail -3 "$STATE/vm1.vmm.log")"
}
within() {	# VALUE MEAN HALFWIDTH
	[ "$1" -ge $(($2 - $3)) ] && [ "$1" -le $(($2 + $3)) ]
}

# ---- loss ----
L 'vm0->vm1' set loss=10% seed=29
phase_begin
send "loss=10%" $N
lost=$(delta s.base s.end 'link vm0->vm1' drop_impaired)
[ "$drops" -eq "$lost" ] || die "loss: drops other than impaired: $why"
[ "$dup" -eq 0 ] || die "loss: duplicated $dup"
within "$delivered" 18000 $SIGMA3 || die "loss=10%: $delivered of $N delivered, not within 18000 +- $SIGMA3"
say "loss=10%: $delivered of $N delivered (18000 +- $SIGMA3), $lost lost, all counted as impaired"
L vm0-vm1 reset

# ---- duplication ----
L 'vm0->vm1' set duplicate=10% seed=29
phase_begin
send "duplicate=10%" $N
[ "$drops" -eq 0 ] || die "duplicate: drops: $why"
[ "$delivered" -eq $((N + dup)) ] || die "duplicate: delivered $delivered, not $N + $dup"
within "$dup" 2000 $SIGMA3 || die "duplicate=10%: $dup of $N duplicated, not within 2000 +- $SIGMA3"
say "duplicate=10%: $delivered delivered = $N sent + $dup duplicated (2000 +- $SIGMA3)"
L vm0-vm1 reset

# ---- jitter, in order ----
# cap NAME TARGET: a capture of NORD frames in the background, once it listens.
cap() {
	"$MV" capture "$2" -c $NORD -w "$STATE/$1.pcap" 2>"$STATE/$1.err" &
	last=$!
	wait_for 30 grep -q '^multivm: capture: listening on ' "$STATE/$1.err" ||
		die "capture $2 did not start: $(cat "$STATE/$1.err")"
}
L 'vm0->vm1' set delay=2ms jitter=2ms
phase_begin
cap vm1 vm1
cap1=$last
cap link 'vm0->vm1'
cap2=$last
send "delay=2ms jitter=2ms" $NORD
[ "$drops" -eq 0 ] || die "jitter: drops: $why"
[ "$dup" -eq 0 ] || die "jitter: duplicated $dup"
for c in "vm1 $cap1" "link $cap2"; do
	set -- $c
	wait_for 30 sh -c "! kill -0 $2" || die "capture $1 did not end after $NORD frames: $(cat "$STATE/$1.err")"
	wait "$2" || die "capture $1 failed: $(cat "$STATE/$1.err")"
	grep -q "^$NORD frames captured, 0 lost" "$STATE/$1.err" || die "capture $1: $(cat "$STATE/$1.err")"
done
cap1= cap2=
# Frame i of the link's capture (as vm0's VMM put it on the link) is frame
# i of vm1's (as vm1's VMM delivered it): the same counter, and the
# counter goes up by one (modulo 256) from each frame to the next.
out=$(python3 - "$STATE/link.pcap" "$STATE/vm1.pcap" <<'EOF'
import struct, sys

def frames(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack_from("<I", data)[0]
    assert magic == 0xa1b2c3d4, "not a little-endian microsecond pcap: %x" % magic
    off, out = 24, []
    while off < len(data):
        sec, usec, incl, _ = struct.unpack_from("<IIII", data, off)
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        assert pkt[12:14] == b"\x08\x00", "not IPv4"
        out.append((sec * 1000000 + usec, pkt[28]))	# IP source, third byte
    return out

sent, got = frames(sys.argv[1]), frames(sys.argv[2])
assert len(sent) == len(got), "%d frames put on the link, %d delivered" % (len(sent), len(got))
bad = [i for i in range(1, len(got)) if (got[i][1] - got[i - 1][1]) % 256 != 1]
if bad:
    i = bad[0]
    print("out of order: %d of %d steps are not +1; first at frame %d: %s" %
          (len(bad), len(got) - 1, i, [g[1] for g in got[max(0, i - 4):i + 4]]))
    sys.exit(1)
assert all(s[1] == g[1] for s, g in zip(sent, got)), "the link's capture and vm1's disagree"
d = sorted(g[0] - s[0] for s, g in zip(sent, got))
print("%d %d %d" % (d[0], d[len(d) // 2], d[-1]))
EOF
) || die "jitter: $out"
set -- $out
say "delay=2ms jitter=2ms: $NORD frames in order; delay min $1 us, median $2 us, max $3 us"
# Each frame draws 2 ms +- 2 ms and leaves no sooner than the one ahead,
# so the median is 2 ms or more (less some of the capture's own timing).
[ "$2" -ge 1500 ] || die "jitter: median delay $2 us, not about 2 ms or more"
[ "$3" -ge $(($1 + 1000)) ] || die "jitter: the delays do not vary (min $1 us, max $3 us)"
L vm0-vm1 reset

# ---- rate, sent well above it ----
RATE=10000000
L 'vm0->vm1' set rate=10mbit
phase_begin
echo "set fwd txonly" >&3
echo "set txpkts 1000" >&3
echo "start" >&3
# Measure once the link is full and the excess is being dropped.
dropping() { snap_to s.now; [ "$(delta s.base s.now 'link vm0->vm1' drop_queue_full)" -gt 0 ]; }
wait_for 30 dropping ||
	die "rate: no excess dropped"
# The interval runs from the middle of one `multivm stats` to the middle of
# the next: when each read the counters is not known closer than that (a
# busy machine, or ASan, can take a good part of a second to run one).
ta=$(date +%s%N)
snap_to r0
tb=$(date +%s%N)
sleep 4		# the measured interval
tc=$(date +%s%N)
snap_to r1
td=$(date +%s%N)
echo "stop" >&3
sent=$(($(tx_sent) - tx0))
balance "rate=10mbit"
qf=$(delta s.base s.end 'link vm0->vm1' drop_queue_full)
[ "$qf" -gt 0 ] || die "rate: nothing counted as queue_full"
[ "$drops" -eq "$qf" ] || die "rate: drops other than queue_full: $why"
b=$(delta r0 r1 'link vm0->vm1' delivered_bytes)
t=$(((tc + td - ta - tb) / 2))
ratio=$(awk -v b="$b" -v t="$t" -v r=$RATE 'BEGIN { printf "%.3f", b * 8 / (t / 1e9) / r }')
say "rate=10mbit: delivered $b bytes in $((t / 1000000)) ms (+- $(((tb - ta + td - tc) / 2000000)) ms), $ratio of the rate; $qf of $sent frames over it dropped as queue_full"
awk -v x="$ratio" 'BEGIN { exit !(x >= 0.8 && x <= 1.1) }' || die "rate=10mbit: delivered at $ratio of the rate"
L vm0-vm1 reset

# ---- a delay beyond the room, at run time ----
# pair.ini gives vm0-vm1 no delay, so it has link_queue_size entries (256:
# src/link/room.h). 500 ms of delay on it holds 256 frames: it delivers
# 256 per 500 ms while the sender's excess, once its frames have waited
# 100 ms in all, is dropped as queue_full.
ROOM=256
L 'vm0->vm1' set delay=500ms
phase_begin
echo "start" >&3	# txonly, 1000-byte frames, as above
wait_for 30 dropping || die "delay beyond the room: no excess dropped"
ta=$(date +%s%N)
snap_to r0
tb=$(date +%s%N)
sleep 4
tc=$(date +%s%N)
snap_to r1
td=$(date +%s%N)
echo "stop" >&3
d=$(delta r0 r1 'link vm0->vm1' delivered)
t=$(((tc + td - ta - tb) / 2))
L vm0-vm1 reset		# the held frames leave now
sent=$(($(tx_sent) - tx0))
balance "delay=500ms"
qf=$(delta s.base s.end 'link vm0->vm1' drop_queue_full)
[ "$qf" -gt 0 ] || die "delay beyond the room: nothing counted as queue_full"
[ "$drops" -eq "$qf" ] || die "delay beyond the room: drops other than queue_full: $why"
ratio=$(awk -v d="$d" -v t="$t" -v r=$ROOM 'BEGIN { printf "%.3f", d / (t / 1e9) / (r / 0.5) }')
say "delay=500ms beyond the room: delivered $d frames in $((t / 1000000)) ms, $ratio of $ROOM per 500 ms; $qf of $sent frames dropped as queue_full"
awk -v x="$ratio" 'BEGIN { exit !(x >= 0.6 && x <= 1.2) }' || die "delay=500ms: delivered at $ratio of room / delay"

testpmd_quit 3 "$STATE/tx" "$tx" || die "vm0's testpmd did not quit"
testpmd_quit 4 "$STATE/rx" "$rx" || die "vm1's testpmd did not quit"
tx= rx=
"$MV" stop --timeout 30 >/dev/null || die "stop failed"
say "PASS"
