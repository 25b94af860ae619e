#!/bin/sh
# Interoperability with a frontend nobody here wrote: dpdk-testpmd with two
# net_virtio_user ports attached to two VMMs (no guests). Frames sent on
# one port come out of the other, both ways, and every counter agrees:
# once as testpmd comes by default (no offloads, mergeable RX buffers) and
# once with checksum and TSO offloads and LRO negotiated both ways.
TEST_NAME=dpdk
. "$(dirname "$0")/lib.sh"
N=128	# 4 bursts of 32 per port

command -v dpdk-testpmd >/dev/null || die "dpdk-testpmd missing (package dpdk-dev)"

# Last value of FIELD (RX-packets/TX-packets) printed for port P.
port_stat() {
	awk -v p="$1" -v f="$2:" '
		/NIC statistics for port/ { cur = $(NF - 1) }
		cur == p { for (i = 1; i < NF; i++) if ($i == f) v = $(i + 1) }
		END { print v + 0 }' "$STATE/testpmd.log"
}
both_received() {
	echo "show port stats all" >&3
	[ "$(port_stat 0 RX-packets)" -ge $N ] && [ "$(port_stat 1 RX-packets)" -ge $N ]
}

# testpmd_run LABEL FEATURES-PATTERN TESTPMD-OPTIONS...: FEATURES-PATTERN
# must match the VMM's log line of what testpmd negotiated.
testpmd_run() {
	label=$1 want=$2
	shift 2
	"$MV" run --detach --no-guests "$(dirname "$0")/configs/pair.ini" || die "run --no-guests failed"
	rm -f "$STATE/tp.in"
	mkfifo "$STATE/tp.in"
	dpdk-testpmd --no-huge -m 1024 --single-file-segments --no-pci --file-prefix="mvt$$" \
		--vdev="net_virtio_user0,path=$STATE/vm0.vhost,mac=52:54:00:4d:56:01,queues=1" \
		--vdev="net_virtio_user1,path=$STATE/vm1.vhost,mac=52:54:00:4d:56:02,queues=1" \
		-- -i --eth-peer=0,52:54:00:4d:56:02 --eth-peer=1,52:54:00:4d:56:01 "$@" \
		<"$STATE/tp.in" >"$STATE/testpmd.log" 2>&1 &
	tp=$!
	exec 3>"$STATE/tp.in"
	trap 'exec 3>&-; kill $tp 2>/dev/null; wait $tp 2>/dev/null; cleanup' EXIT

	wait_for 60 grep -q 'testpmd>' "$STATE/testpmd.log" || die "$label: testpmd did not start"
	echo "set fwd rxonly" >&3
	echo "start tx_first 4" >&3
	wait_for 60 both_received || die "$label: frames did not come through: $(tail -20 "$STATE/testpmd.log")"
	echo "stop" >&3
	# The final figures, then quit: testpmd's output to a file is buffered, so
	# it is complete only once testpmd has exited.
	echo "show port stats all" >&3
	echo "quit" >&3
	wait_for 60 grep -q 'Bye' "$STATE/testpmd.log" || die "$label: testpmd did not quit"
	exec 3>&-
	wait $tp 2>/dev/null
	trap cleanup EXIT
	snap
	for p in 0 1; do
		q=$((1 - p))
		tx=$(port_stat $p TX-packets)
		rx=$(port_stat $q RX-packets)
		say "$label: port $p sent $tx, port $q received $rx"
		[ "$tx" -eq $N ] || die "$label: port $p sent $tx, expected $N"
		[ "$rx" -eq $N ] || die "$label: port $q received $rx, expected $N"
		[ "$(stat_of "vm vm$p" tx_frames)" -eq "$tx" ] || die "$label: vm$p tx_frames disagrees with testpmd"
		[ "$(stat_of "link vm$p->vm$q" frames)" -eq "$tx" ] || die "$label: link vm$p->vm$q frames disagrees"
		[ "$(stat_of "link vm$p->vm$q" delivered)" -eq "$rx" ] || die "$label: link vm$p->vm$q delivered disagrees"
		[ "$(stat_of "vm vm$q" rx_frames)" -eq "$rx" ] || die "$label: vm$q rx_frames disagrees with testpmd"
	done
	cat "$STATE/stats.out"
	for v in vm0 vm1; do
		grep -q "frontend features.*$want" "$STATE/$v.vmm.log" ||
			die "$label: $v: not what testpmd should negotiate: $(grep features "$STATE/$v.vmm.log")"
	done
	grep "frontend features" "$STATE/vm0.vmm.log" | tail -n 1
	"$MV" stop --timeout 30 >/dev/null || die "$label: stop failed"
}

testpmd_run default 'sends plain, takes plain mrg_rxbuf'
# RX checksum and LRO (GUEST_CSUM, GUEST_TSO4/6): rx-offloads 0x1c is
# UDP_CKSUM | TCP_CKSUM | TCP_LRO (virtio has no IPV4_CKSUM, which
# --enable-rx-cksum would ask for); TX checksum and TSO (CSUM,
# HOST_TSO4/6): tx-offloads 0x2c is UDP_CKSUM | TCP_CKSUM | TCP_TSO.
testpmd_run offloads 'sends csum tso4 tso6.*takes csum tso4 tso6' --rx-offloads=0x1c --tx-offloads=0x2c
say "PASS"
