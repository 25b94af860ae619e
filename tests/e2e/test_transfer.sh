#!/bin/sh
# Nothing lost or corrupted with offloads: files of random sizes (1 byte
# to 4 MiB) cross between two guests over TCP (busybox nc) in both
# directions, their sha256 sums compared, with offloads on, off and mixed
# (vm1 with offloads = no: its VMM segments vm0's TSO frames and completes
# their checksums). Also: TSO frames really cross the link when both
# sides take them, the offload counters add up (segments cut only when a
# side does not take TSO), nothing is dropped, a sender that turns its TX
# offloads off with ethtool mid-stream loses nothing, and iperf3 runs in
# the guests. The mixed run pins each VM to a CPU (cpuset) and checks it.
TEST_NAME=transfer
. "$(dirname "$0")/lib.sh"

r=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
sizes="1 1448 65537 $((r % 4194304 + 1)) 4194304"
say "sizes: $sizes"

# xfer SRC DST DSTIP SIZE: one file from SRC to DST, sums compared.
xfer() {
	src=$1 dst=$2 ip=$3 size=$4
	sum=$("$MV" exec "$src" -- "head -c $size /dev/urandom >/tmp/f && sha256sum </tmp/f") ||
		die "$src: cannot make a file of $size bytes"
	# busybox nc ends when the other side shuts down its sending half: the
	# listener's stdin must stay open (a sleep), not be /dev/null.
	"$MV" exec "$dst" -- "rm -f /tmp/r; (sleep 150 | timeout 120 nc -l -p 5001 >/tmp/r 2>/dev/null &)" ||
		die "$dst: cannot listen"
	sleep 0.5
	"$MV" exec --timeout 150 "$src" -- "timeout 120 nc $ip 5001 </tmp/f" || die "$src -> $dst: nc failed ($size bytes)"
	got=
	for i in $(seq 1 60); do
		got=$("$MV" exec "$dst" -- "pidof nc >/dev/null || sha256sum </tmp/r") &&
			[ -n "$got" ] && break
		sleep 0.5
	done
	[ "$got" = "$sum" ] || die "$src -> $dst, $size bytes: sha256 $got, sent $sum ($("$MV" exec "$dst" -- 'wc -c </tmp/r') bytes arrived)"
}

# The CPUs this test may use ("0-1"): the first and the last of them.
allowed=$(awk '/^Cpus_allowed_list:/ { print $2 }' /proc/self/status)
cpu_first=${allowed%%[-,]*}
cpu_last=${allowed##*[-,]}

# Every thread of each VM's QEMU and VMM keeps to its cpuset.
check_cpusets() {
	"$MV" status >"$STATE/status.cpus" || die "status failed"
	for v in vm0 vm1; do
		[ $v = vm0 ] && want=$cpu_first || want=$cpu_last
		for pid in $(sed -n "s/^$v .*vmm=\([0-9]*\) qemu=\([0-9]*\).*/\1 \2/p" "$STATE/status.cpus"); do
			for t in /proc/$pid/task/*; do
				got=$(awk '/^Cpus_allowed_list:/ { print $2 }' "$t/status")
				[ "$got" = "$want" ] || die "$v: thread $t of process $pid may run on CPUs $got, not $want (cpuset)"
			done
		done
	done
	say "cpuset: vm0 on CPU $cpu_first, vm1 on CPU $cpu_last, every QEMU and VMM thread"
}

run_config() {
	name=$1 off0=$2 off1=$3 pin0= pin1=
	# The mixed run also pins the VMs (cpuset): they work as well there.
	[ "$name" = mixed ] && pin0="cpuset = $cpu_first" pin1="cpuset = $cpu_last"
	cat >"$STATE/$name.ini" <<INI
[vm vm0]
address = 192.168.1.1/24
offloads = $off0
$pin0
[vm vm1]
address = 192.168.1.2/24
offloads = $off1
$pin1
[links]
vm0 = vm1
INI
	"$MV" run --detach --timeout 300 "$STATE/$name.ini" || die "$name: run failed"
	[ "$name" = mixed ] && check_cpusets
	for s in $sizes; do
		xfer vm0 vm1 192.168.1.2 "$s"
		xfer vm1 vm0 192.168.1.1 "$s"
	done
	snap
	for v in vm0 vm1; do
		[ "$(stat_of "vm $v" drop_malformed)" -eq 0 ] || die "$name: $v dropped frames as malformed"
		[ "$(stat_of "vm $v" drop_queue_full)" -eq 0 ] || say "$name: $v queue_full $(stat_of "vm $v" drop_queue_full)"
	done
	frames=$(stat_of "link vm0->vm1" delivered)
	bytes=$(stat_of "link vm0->vm1" delivered_bytes)
	rx1=$(stat_of "vm vm1" rx_frames)
	say "$name: vm0->vm1 $frames frames, $bytes bytes on the link; vm1 received $rx1 frames"
	case $name in
	on) [ $((bytes / frames)) -gt 1518 ] || die "on: no TSO frames crossed the link" ;;
	off) [ $((bytes / frames)) -le 1518 ] || die "off: frames larger than the MTU crossed" ;;
	mixed) [ "$rx1" -gt "$frames" ] || die "mixed: vm1's VMM did not segment (link $frames, guest $rx1)"
		[ $((bytes / frames)) -gt 1518 ] || die "mixed: vm0 sent no TSO frames" ;;
	esac
	check_offload_counters "$name"
	[ "$name" = on ] && toggle_tx_offloads
	"$MV" stop --timeout 30 >/dev/null || die "$name: stop failed"
}

# ocount VM KEY...: each KEY of vm VM's offload counters, from the snapshot.
ocount() {
	v=$1
	shift
	for k in "$@"; do printf '%s ' "$(stat_of "vm $v" "$k")"; done
}

# The offload counters of the last snapshot, for config name (transfers
# all done: nothing is half-way on a link). Every TSO frame one VMM put on
# the link was passed whole or segmented by the other (nothing dropped).
check_offload_counters() {
	name=$1
	say "$name: vm0 tx_offload tx_tso rx_tso seg_frames seg_segments csum: $(ocount vm0 tx_offload_frames \
		tx_tso_frames rx_tso_frames seg_frames seg_segments csum_completed)"
	say "$name: vm1 tx_offload tx_tso rx_tso seg_frames seg_segments csum: $(ocount vm1 tx_offload_frames \
		tx_tso_frames rx_tso_frames seg_frames seg_segments csum_completed)"
	for a in 0 1; do
		b=$((1 - a))
		set -- $(ocount vm$a tx_tso_frames) $(ocount vm$b rx_tso_frames seg_frames)
		[ "$1" -eq $(($2 + $3)) ] || die "$name: vm$a put $1 TSO frames on the link, vm$b took $2 whole and segmented $3"
	done
	case $name in
	on) [ "$(ocount vm0 tx_tso_frames)" -gt 0 ] || die "on: no TSO frame counted"
		[ "$(ocount vm0 seg_segments csum_completed)" = "0 0 " ] &&
			[ "$(ocount vm1 seg_segments csum_completed)" = "0 0 " ] ||
			die "on: a VMM segmented or completed checksums for a guest that takes offloads" ;;
	off) for v in vm0 vm1; do
			[ "$(ocount $v tx_offload_frames tx_tso_frames rx_tso_frames seg_frames csum_completed)" = "0 0 0 0 0 " ] ||
				die "off: $v counted offload work"
		done ;;
	mixed) set -- $(ocount vm1 seg_frames seg_segments csum_completed rx_tso_frames tx_offload_frames)
		[ "$1" -gt 0 ] && [ "$2" -gt "$1" ] || die "mixed: vm1's VMM cut $1 TSO frames into $2 segments"
		[ "$3" -gt 0 ] || die "mixed: vm1's VMM completed no checksum of vm0's small frames"
		[ "$4" -eq 0 ] && [ "$5" -eq 0 ] || die "mixed: vm1 (offloads = no) took TSO frames or sent offloads"
		[ "$(ocount vm0 seg_segments csum_completed)" = "0 0 " ] || die "mixed: vm0's VMM did offload work" ;;
	esac
}

# Link bytes delivered vm0 -> vm1 of a new snapshot past $1.
delivered_past() {
	snap
	[ "$(stat_of "link vm0->vm1" delivered_bytes)" -gt "$1" ]
}

# ethtool in vm0 turns its TX offloads off in the middle of a stream (1
# MiB pieces until told to stop): every byte arrives, and from then on
# vm0's VMM sees no offload metadata and no frame longer than the MTU. vm1
# cannot switch its RX offloads (QEMU runs with ctrl_guest_offloads=off: a
# vhost-user backend is never told of the switch): ethtool says so.
toggle_tx_offloads() {
	"$MV" exec vm1 -- "ethtool -k eth0 | grep -qx 'rx-gro-hw: on .fixed.'" ||
		die "vm1: rx-gro-hw is not shown fixed: $("$MV" exec vm1 -- 'ethtool -k eth0' | grep gro-hw)"
	status_is 1 "$MV" exec vm1 -- "ethtool -K eth0 rx-gro-hw off" || die "vm1: ethtool switched rx-gro-hw"
	"$MV" exec vm0 -- "head -c 1048576 /dev/urandom >/tmp/m && rm -f /tmp/stop /tmp/n /tmp/sent" ||
		die "vm0: no stream"
	"$MV" exec vm1 -- "rm -f /tmp/s; (sleep 150 | timeout 120 nc -l -p 5002 | sha256sum >/tmp/s &)" ||
		die "vm1: cannot listen"
	snap
	start=$(stat_of "link vm0->vm1" delivered_bytes)
	before=$(ocount vm0 tx_offload_frames)
	# In the background: the guest's agent runs one command at a time.
	"$MV" exec vm0 -- "(n=0; while [ ! -e /tmp/stop ]; do cat /tmp/m; n=\$((n + 1)); echo \$n >/tmp/n; sleep 0.1
		done | timeout 120 nc 192.168.1.2 5002; echo \$? >/tmp/sent) >/dev/null 2>&1 &" || die "vm0: no sender"
	wait_for 60 delivered_past $((start + 8388608)) || die "toggle: the stream did not start"
	[ "$(ocount vm0 tx_offload_frames)" -gt "$before" ] || die "toggle: vm0 sent no offload metadata before"
	"$MV" exec vm0 -- "ethtool -K eth0 tx off tso off" || die "vm0: ethtool -K eth0 tx off tso off failed"
	snap
	wait_for 60 delivered_past $(($(stat_of "link vm0->vm1" delivered_bytes) + 2097152)) ||
		die "toggle: the stream stopped after the switch"
	set -- $(ocount vm0 tx_offload_frames tx_tso_frames) $(stat_of "link vm0->vm1" frames) \
		$(stat_of "link vm0->vm1" bytes)
	wait_for 60 delivered_past $(($4 + 4194304)) || die "toggle: the stream stopped after the switch"
	"$MV" exec vm0 -- "touch /tmp/stop" || die "vm0: cannot stop the stream"
	wait_for 60 "$MV" exec vm0 -- "test -e /tmp/sent" || die "toggle: vm0's nc did not end"
	[ "$("$MV" exec vm0 -- 'cat /tmp/sent')" = 0 ] || die "toggle: vm0's nc failed"
	sum=$("$MV" exec vm0 -- "n=\$(cat /tmp/n); for i in \$(seq \$n); do cat /tmp/m; done | sha256sum") ||
		die "vm0: cannot sum the stream"
	got=
	for i in $(seq 1 60); do
		got=$("$MV" exec vm1 -- "pidof nc >/dev/null || cat /tmp/s") && [ -n "$got" ] && break
		sleep 0.5
	done
	[ "$got" = "$sum" ] || die "toggle: vm1 got sha256 $got, vm0 sent $sum ($("$MV" exec vm0 -- 'cat /tmp/n') MiB)"
	snap
	frames=$(($(stat_of "link vm0->vm1" frames) - $3))
	bytes=$(($(stat_of "link vm0->vm1" bytes) - $4))
	say "toggle: after the switch $frames frames, $bytes bytes; vm0 offload frames $1 -> $(ocount vm0 tx_offload_frames)"
	[ "$(ocount vm0 tx_offload_frames tx_tso_frames)" = "$1 $2 " ] ||
		die "toggle: vm0 sent offload metadata after ethtool turned it off ($1 $2 -> $(ocount vm0 tx_offload_frames tx_tso_frames))"
	[ "$bytes" -gt 4194304 ] && [ $((bytes / frames)) -le 1518 ] ||
		die "toggle: $frames frames of $bytes bytes after the switch"
}

run_config on yes yes
# iperf3 in the guests, as documented; no retransmission on a lossless path.
run_config_iperf() {
	"$MV" run --detach --timeout 300 "$STATE/on.ini" || die "iperf3: run failed"
	# The image raises the TCP buffer maxima that a 256 MiB guest gets
	# (1.5 MB) to a big machine's 6 MiB receive and 4 MiB send.
	for v in vm0 vm1; do
		b=$("$MV" exec "$v" -- "cat /proc/sys/net/ipv4/tcp_rmem /proc/sys/net/ipv4/tcp_wmem") ||
			die "iperf3: cannot read $v's TCP buffer sizes"
		[ "$(echo $b | awk '{ print $3, $6 }')" = "6291456 4194304" ] ||
			die "iperf3: $v's TCP buffers are '$b', not raised to 6291456 and 4194304"
	done
	"$MV" exec vm1 -- "iperf3 -s -D" || die "iperf3 -s failed"
	# Listening on port 5201 (0x1451).
	wait_for 20 "$MV" exec vm1 -- "grep -q ':1451 [0-9A-F]*:0000 0A ' /proc/net/tcp6 /proc/net/tcp" ||
		die "iperf3 -s is not listening"
	out=$("$MV" exec --timeout 60 vm0 -- "iperf3 -c 192.168.1.2 -t 3 -J") || die "iperf3 -c failed: $out"
	echo "$out" | grep -q '"bits_per_second"' || die "iperf3 printed no result"
	say "iperf3: $(echo "$out" | python3 -c 'import json, sys; e = json.load(sys.stdin)["end"]; s = e["streams"][0]["sender"]
print("%.3f Gbit/s, %d retransmits, largest send window %d bytes" % (e["sum_received"]["bits_per_second"] / 1e9, e["sum_sent"].get("retransmits", 0), s.get("max_snd_wnd", 0)))')"
	"$MV" stop --timeout 30 >/dev/null
}
run_config_iperf
run_config off no no
run_config mixed yes no
say "PASS"
