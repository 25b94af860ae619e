#!/bin/sh
# Interoperability with a frontend nobody here wrote: dpdk-testpmd with two
# net_virtio_user ports attached to two VMMs (no guests). Frames sent on
# one port come out of the other, both ways, and every counter agrees.
TEST_NAME=dpdk
. "$(dirname "$0")/lib.sh"
N=128	# 4 bursts of 32 per port

command -v dpdk-testpmd >/dev/null || die "dpdk-testpmd missing (package dpdk-dev)"
"$MV" run --detach --no-guests "$(dirname "$0")/configs/pair.ini" || die "run --no-guests failed"

mkfifo "$STATE/tp.in"
dpdk-testpmd --no-huge -m 1024 --single-file-segments --no-pci --file-prefix="mvt$$" \
	--vdev="net_virtio_user0,path=$STATE/vm0.vhost,mac=52:54:00:4d:56:01,queues=1" \
	--vdev="net_virtio_user1,path=$STATE/vm1.vhost,mac=52:54:00:4d:56:02,queues=1" \
	-- -i --eth-peer=0,52:54:00:4d:56:02 --eth-peer=1,52:54:00:4d:56:01 \
	<"$STATE/tp.in" >"$STATE/testpmd.log" 2>&1 &
tp=$!
exec 3>"$STATE/tp.in"
trap 'exec 3>&-; kill $tp 2>/dev/null; wait $tp 2>/dev/null; cleanup' EXIT

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

wait_for 60 grep -q 'testpmd>' "$STATE/testpmd.log" || die "testpmd did not start"
echo "set fwd rxonly" >&3
echo "start tx_first 4" >&3
wait_for 60 both_received || die "frames did not come through: $(tail -20 "$STATE/testpmd.log")"
echo "stop" >&3
# The final figures, then quit: testpmd's output to a file is buffered, so
# it is complete only once testpmd has exited.
echo "show port stats all" >&3
echo "quit" >&3
wait_for 60 grep -q 'Bye' "$STATE/testpmd.log" || die "testpmd did not quit"
snap
for p in 0 1; do
	q=$((1 - p))
	tx=$(port_stat $p TX-packets)
	rx=$(port_stat $q RX-packets)
	say "port $p sent $tx, port $q received $rx"
	[ "$tx" -eq $N ] || die "port $p sent $tx, expected $N"
	[ "$rx" -eq $N ] || die "port $q received $rx, expected $N"
	[ "$(stat_of "vm vm$p" tx_frames)" -eq "$tx" ] || die "vm$p tx_frames disagrees with testpmd"
	[ "$(stat_of "link vm$p->vm$q" frames)" -eq "$tx" ] || die "link vm$p->vm$q frames disagrees"
	[ "$(stat_of "link vm$p->vm$q" delivered)" -eq "$rx" ] || die "link vm$p->vm$q delivered disagrees"
	[ "$(stat_of "vm vm$q" rx_frames)" -eq "$rx" ] || die "vm$q rx_frames disagrees with testpmd"
done
cat "$STATE/stats.out"
say "PASS"
