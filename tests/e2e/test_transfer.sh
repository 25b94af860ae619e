#!/bin/sh
# Nothing lost or corrupted with offloads: files of random sizes (1 byte
# to 4 MiB) cross between two guests over TCP (busybox nc) in both
# directions, their sha256 sums compared, with offloads on, off and mixed
# (vm1 with offloads = no: its VMM segments vm0's TSO frames and completes
# their checksums). Also: TSO frames really cross the link when both
# sides take them, segments are counted when one does not, nothing is
# dropped, and iperf3 runs in the guests.
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

run_config() {
	name=$1 off0=$2 off1=$3
	cat >"$STATE/$name.ini" <<INI
[vm vm0]
address = 192.168.1.1/24
offloads = $off0
[vm vm1]
address = 192.168.1.2/24
offloads = $off1
[links]
vm0 = vm1
INI
	"$MV" run --detach --timeout 300 "$STATE/$name.ini" || die "$name: run failed"
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
	"$MV" stop --timeout 30 >/dev/null || die "$name: stop failed"
}

run_config on yes yes
# iperf3 in the guests, as documented; no retransmission on a lossless path.
run_config_iperf() {
	"$MV" run --detach --timeout 300 "$STATE/on.ini" || die "iperf3: run failed"
	"$MV" exec vm1 -- "iperf3 -s -D" || die "iperf3 -s failed"
	sleep 1
	out=$("$MV" exec --timeout 60 vm0 -- "iperf3 -c 192.168.1.2 -t 3 -J") || die "iperf3 -c failed: $out"
	echo "$out" | grep -q '"bits_per_second"' || die "iperf3 printed no result"
	"$MV" stop --timeout 30 >/dev/null
}
run_config_iperf
run_config off no no
run_config mixed yes no
say "PASS"
