# Shared by the benchmarks that drive a system from one dpdk-testpmd
# virtio-user frontend (vhost_fwd.sh, vxlan.sh). The caller sets W, its
# work directory, and fe= before use; the frontend reads commands on fd 3.

# wait_for SECONDS CMD...: polls CMD until it succeeds or time runs out.
wait_for() {
	end=$(($(date +%s) + $1))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.1
	done
}

# FIELD (e.g. Rx-pps, RX-packets) of port P in the Nth "show port stats"
# (read once testpmd has quit; its output is line-buffered through stdbuf,
# so our commands' echo never lands inside a line).
port_stat() {
	awk -v p="$1" -v f="$2:" -v n="$3" '
		/NIC statistics for port/ { cur = $(NF - 1); seen[cur]++; next }
		/statistics for port|statistics for all ports|######/ { cur = -1 }
		cur == p && seen[cur] == n { for (i = 1; i < NF; i++) if ($i == f) v = $(i + 1) }
		END { print v + 0 }' "$W/fe.log"
}

# fe_start PREFIX SOCK0 MAC0 SOCK1 MAC1 SIZE: testpmd on CPU 1, port 0 on
# SOCK0 sending to MAC1 and port 1 on SOCK1 sending to MAC0 (`fwd mac`,
# queue size 256, burst 32, 16 bursts in flight, frames of SIZE bytes, a
# pool of 8192 mbufs so that no page of it goes cold). After a 1 s warm-up
# it asks for the baseline stats. Sets $fe.
fe_start() {
	rm -f "$W/fe.in" "$W/fe.log"
	mkfifo "$W/fe.in"
	taskset -c 1 stdbuf -oL dpdk-testpmd --no-huge -m 1024 --single-file-segments --no-pci \
		--lcores '(0,1)@1' --file-prefix="$1$$" \
		--vdev="net_virtio_user0,path=$2,mac=$3,queues=1,queue_size=256" \
		--vdev="net_virtio_user1,path=$4,mac=$5,queues=1,queue_size=256" \
		-- -i --nb-cores=1 --burst=32 --txd=256 --rxd=256 --txpkts="$6" --total-num-mbufs=8192 \
		--eth-peer=0,"$5" --eth-peer=1,"$3" <"$W/fe.in" >"$W/fe.log" 2>&1 &
	fe=$!
	exec 3>"$W/fe.in"
	wait_for 60 grep -q 'testpmd>' "$W/fe.log" || { echo "frontend did not start"; tail -5 "$W/fe.log"; return 1; }
	echo "set fwd mac" >&3
	echo "start tx_first 16" >&3
	sleep 1				# warm-up; then a baseline for Rx-pps
	echo "show port stats all" >&3
}

# fe_stop: stops and quits the frontend (the caller has asked for the
# second stats); leaves the rate of both ports, frames/s, in $rate.
fe_stop() {
	echo "stop" >&3
	wait_for 30 grep -q 'Accumulated forward statistics' "$W/fe.log"
	echo "quit" >&3
	wait_for 30 grep -q 'Bye' "$W/fe.log"
	exec 3>&-
	wait "$fe" 2>/dev/null
	fe=
	rate=$(($(port_stat 0 Rx-pps 2) + $(port_stat 1 Rx-pps 2)))
}
