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

both_received() {
	echo "show port stats all" >&3
	[ "$(port_stat "$STATE/tp.log" 0 RX-packets)" -ge $N ] && [ "$(port_stat "$STATE/tp.log" 1 RX-packets)" -ge $N ]
}

# testpmd_run LABEL FEATURES-PATTERN TESTPMD-OPTIONS...: FEATURES-PATTERN
# must match the VMM's log line of what testpmd negotiated.
testpmd_run() {
	label=$1 want=$2
	shift 2
	"$MV" run --detach --no-guests "$(dirname "$0")/configs/pair.ini" || die "run --no-guests failed"
	trap 'exec 3>&-; kill $testpmd 2>/dev/null; wait $testpmd 2>/dev/null; cleanup' EXIT
	testpmd_start 3 "$STATE/tp" - --vdev="net_virtio_user0,path=$STATE/vm0.vhost,mac=$(mac_of 0),queues=1" \
		--vdev="net_virtio_user1,path=$STATE/vm1.vhost,mac=$(mac_of 1),queues=1" \
		-- -i --eth-peer=0,"$(mac_of 1)" --eth-peer=1,"$(mac_of 0)" "$@" || die "$label: testpmd did not start"
	echo "set fwd rxonly" >&3
	echo "start tx_first 4" >&3
	wait_for 60 both_received || die "$label: frames did not come through: $(tail -20 "$STATE/tp.log")"
	echo "stop" >&3
	# The final figures, then quit: its output is complete once it has exited.
	echo "show port stats all" >&3
	testpmd_quit 3 "$STATE/tp" $testpmd || die "$label: testpmd did not quit"
	trap cleanup EXIT
	snap
	for p in 0 1; do
		q=$((1 - p))
		tx=$(port_stat "$STATE/tp.log" $p TX-packets)
		rx=$(port_stat "$STATE/tp.log" $q RX-packets)
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
