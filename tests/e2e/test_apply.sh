#!/bin/sh
# multivm config and multivm apply (issue 30) on three booted guests in a
# mesh: the running configuration is the file run was given, byte for
# byte; apply of the same config changes nothing; --dry-run prints the plan
# (a VM and two links added) and changes nothing; an invalid
# config is refused as run refuses it, and a change not made at run
# time (mtu) as such; a delay applied to vm0-vm1 is in
# the guests' RTT, with every QEMU and VMM pid and vmm_starts unchanged and
# vm1-vm2 untouched; a step made to fail (vm2's control file held locked)
# undoes the step done before it and names itself; applying the old
# config takes the delay away; more memory than MemAvailable is refused
# before any step; a vm3 whose QEMU cannot boot is undone (vm3 gone, the
# links to it dropped by vm0's and vm1's running VMMs, no pid changed);
# then vm3 is added with links to vm0 and
# vm1, handed to their running VMMs (every VMM and QEMU pid and
# vmm_starts unchanged, a vm1 <-> vm2 ping stream across the whole apply
# loses nothing); then vm3 and the vm0-vm2 link are removed, the running
# VMMs told to drop theirs (pids unchanged), and vm0-vm2 put back (in
# vm2, before its link to vm1); vm2's memory changed reboots vm2 alone
# (a new QEMU, same VMM), and a reboot that fails is undone by a reboot
# with the old settings; vm1's cpuset moves its running QEMU and VMM
# threads (no pid changes) and back; vm2 given a disk, then another
# image: each a reboot of vm2 alone, the guest reads the new disk, the
# overlay before set aside; a failed image reboot undone (the old overlay
# back), back to the first image with the guest's write kept, a missing
# image refused with FILE:LINE; vm2's MAC: vm2 reboots, its VMM restarts,
# the running VMMs linked to it are handed the link again (no pid
# changes), vm2 reaches both; removing a VM from the middle is refused. A
# wire whose second NIC's plug QEMU refuses (its netdev id taken
# beforehand over QMP) has the first NIC unplugged by the undo.
TEST_NAME=apply
. "$(dirname "$0")/lib.sh"

cat >"$STATE/a.ini" <<'INI'
; three VMs, every pair linked
[vm vm0]
[vm vm1]
[vm vm2]
[links]
mesh = yes
INI
"$MV" run --detach --timeout 300 "$STATE/a.ini" || die "run --detach failed"
[ "$(grep -c 'state=up' "$STATE/status")" -eq 3 ] || die "not all VMs up: $(cat "$STATE/status")"

x() { "$MV" exec --timeout 90 "$@"; }
rtt_min() {	# VM ADDR: the smallest of 5 RTTs, in whole ms
	out=$(x "$1" -- "ping -c 5 -i 0.2 -W 5 $2") || die "$1 -> $2: $out"
	echo "$out" | sed -n 's/.* time=\([0-9.]*\) ms.*/\1/p' | sort -n | head -n 1 | cut -d. -f1
}
pids() {	# every VM's VMM and QEMU pid, and the VMMs' start counts
	for v in vm0 vm1 vm2; do
		printf '%s vmm=%s qemu=%s ' "$v" "$(pid_of "$v" vmm)" "$(pid_of "$v" qemu)"
	done
	snap
	for v in vm0 vm1 vm2; do printf 'starts=%s ' "$(stat_of "vm $v" vmm_starts)"; done
}
before=$(pids)
case $before in *vmm=0*|*qemu=0*|*vmm=\ *|*qemu=\ *|*starts=\ *) die "pids or counters missing: $before" ;; esac

# The running configuration is the file, byte for byte.
"$MV" config >"$STATE/running.ini" || die "config failed"
cmp "$STATE/running.ini" "$STATE/a.ini" || die "config printed $(cat "$STATE/running.ini")"
cmp "$STATE/run" "$STATE/a.ini" || die "$STATE/run is not the config"
out=$("$MV" apply "$STATE/running.ini") || die "apply of the running config: $out"
[ "$out" = "nothing to change" ] || die "apply of the running config said: $out"

# A VM added: the plan, by --dry-run, changing nothing.
cat >"$STATE/c.ini" <<'INI'
[vm vm0]
[vm vm1]
[vm vm2]
[vm vm3]
[links]
vm0 = vm1 vm2 vm3
vm1 = vm2 vm3
INI
out=$("$MV" apply --dry-run "$STATE/c.ini") || die "apply --dry-run failed: $out"
[ "$out" = "$(printf '+ vm vm3\n+ link vm0-vm3\n+ link vm1-vm3')" ] || die "dry-run plan: $out"
cmp "$STATE/run" "$STATE/a.ini" || die "--dry-run changed $STATE/run"
[ -e "$STATE/vm3.ctl" ] && die "--dry-run made vm3's files"
[ "$(pids)" = "$before" ] || die "--dry-run changed pids: $(pids)"
# What is not done at run time is refused whole, exit 1, nothing done.
printf '[vm vm0]\n[vm vm1]\nmtu = 9000\n[vm vm2]\nmtu = 9000\n[vm vm3]\n[links]\nvm1 = vm2\n' >"$STATE/d.ini"
"$MV" apply "$STATE/d.ini" >"$STATE/out" 2>"$STATE/err" && die "apply of an mtu change succeeded"
grep -q "nothing done: .*'~ vm vm1 mtu 1500 -> 9000 (stop and run)' and 1 more change need \`multivm stop\`" "$STATE/err" ||
	die "apply of an mtu change said: $(cat "$STATE/err")"
[ -e "$STATE/vm3.ctl" ] && die "a refused apply made vm3's files"
[ "$(pids)" = "$before" ] || die "a refused apply changed pids: $(pids)"

# An invalid config: run's message (FILE:LINE: ...), exit 2.
printf '[vm vm0]\n[vm vm1]\nmemory = lots\n' >"$STATE/bad.ini"
"$MV" apply "$STATE/bad.ini" >/dev/null 2>"$STATE/err"
[ $? -eq 2 ] || die "apply of an invalid config did not exit 2"
grep -qx "multivm: $STATE/bad.ini:3: \[vm vm1\] memory: .*" "$STATE/err" || die "bad config: $(cat "$STATE/err")"
cmp "$STATE/run" "$STATE/a.ini" || die "a refused config changed $STATE/run"
[ "$(pids)" = "$before" ] || die "an invalid config changed pids: $(pids)"

# Link settings change at run time: in the guests' RTT, nothing restarted.
base=$(rtt_min vm0 192.168.1.2)
cp "$STATE/a.ini" "$STATE/b.ini"
printf '[link vm0-vm1]\ndelay = 20ms\n[link vm2->vm1]\nloss = 100%%\n' >>"$STATE/b.ini"
out=$("$MV" apply "$STATE/b.ini") || die "apply of link settings failed: $out"
[ "$out" = "$(printf '~ link vm0-vm1 delay=20ms (was: none)\n~ link vm2->vm1 loss=100%% (was: none)\napplied 2 changes')" ] ||
	die "apply said: $out"
cmp "$STATE/run" "$STATE/b.ini" || die "$STATE/run is not the applied config"
r=$(rtt_min vm0 192.168.1.2)
[ "$r" -ge 40 ] || die "delay=20ms each way applied: vm0 -> vm1 min RTT $r ms (before: $base)"
status_is 1 x vm1 -- "ping -c 3 -i 0.2 -W 1 192.168.1.3" || die "vm2->vm1 loss=100%: vm1 still pings vm2"
r2=$(rtt_min vm0 192.168.1.3)
[ "$r2" -lt 40 ] || die "vm0 -> vm2 (untouched) min RTT $r2 ms"
after=$(pids)
[ "$after" = "$before" ] || die "pids or vmm_starts changed: before $before, after $after"
say "delay applied: vm0 -> vm1 min RTT $base -> $r ms, vm0 -> vm2 $r2 ms; pids and vmm_starts unchanged"

# A step that fails (vm2's control file held by someone else beyond the
# 5 s a writer waits): the step before it (vm0-vm1) is undone.
flock "$STATE/vm2.ctl" sleep 8 &
locker=$!
wait_for 5 sh -c "! flock -n '$STATE/vm2.ctl' true" || die "could not hold vm2.ctl"
"$MV" apply "$STATE/a.ini" >"$STATE/out" 2>"$STATE/err" && die "apply with vm2.ctl held succeeded"
kill $locker 2>/dev/null
wait $locker 2>/dev/null
grep -q "^multivm: apply: step '~ link vm1-vm2' failed: .*vm2.ctl: another \`multivm link\` holds it" "$STATE/err" ||
	die "failed step: $(cat "$STATE/err")"
grep -q "steps done before it are undone" "$STATE/err" || die "failed step: $(cat "$STATE/err")"
"$MV" link vm0-vm1 >"$STATE/show" || die "link show failed"
grep -qx 'vm0->vm1 state=up delay=20ms' "$STATE/show" || die "not undone: $(cat "$STATE/show")"
cmp "$STATE/run" "$STATE/b.ini" || die "a failed apply changed $STATE/run"

# The old config back: the delay and loss gone.
out=$("$MV" apply "$STATE/a.ini") || die "apply back failed: $out"
r=$(rtt_min vm0 192.168.1.2)
[ "$r" -lt 40 ] || die "delay removed: min RTT $r ms"
x vm1 -- "ping -c 2 -W 5 192.168.1.3" >/dev/null || die "loss removed: vm1 does not reach vm2"
[ "$(pids)" = "$before" ] || die "pids or vmm_starts changed: before $before, after $(pids)"

# More memory than MemAvailable: refused before any step, nothing done.
avail=$(($(sed -n 's/^MemAvailable: *\([0-9]*\) kB$/\1/p' /proc/meminfo) / 1024))
[ $((avail + 512)) -le 65536 ] || die "MemAvailable $avail MiB: no VM size above it (64G at most)"
printf '[vm vm0]\n[vm vm1]\n[vm vm2]\n[vm vm3]\nmemory = %sM\n[links]\nmesh = yes\n' $((avail + 512)) >"$STATE/big.ini"
"$MV" apply "$STATE/big.ini" >"$STATE/out" 2>"$STATE/err" && die "apply of a VM of $((avail + 512)) MiB succeeded"
grep -q "^multivm: apply: nothing done: .*needs [0-9]* MiB .* but only [0-9]* MiB are available" "$STATE/err" ||
	die "apply of more than MemAvailable said: $(cat "$STATE/err")"
ls "$STATE" | grep -q '^vm3\.' && die "a refused apply made vm3's files: $(ls "$STATE" | grep '^vm3\.')"
cmp "$STATE/run" "$STATE/a.ini" || die "a refused apply changed $STATE/run"
[ "$(pids)" = "$before" ] || die "a refused apply changed pids: $(pids)"

# A step failing midway: vm3's "kernel" a text file, which QEMU refuses
# (no check before it reads one). vm0's and vm1's running VMMs were handed
# their links to vm3 first: both undone (the old config handed back:
# vm3 removed, the links dropped by the running VMMs), the step named.
printf '[vm vm0]\n[vm vm1]\n[vm vm2]\n[vm vm3]\nkernel = /etc/hostname\n[links]\nvm0 = vm1 vm2 vm3\nvm1 = vm2 vm3\n' \
	>"$STATE/g.ini"
t0=$(date +%s%N)
"$MV" apply "$STATE/g.ini" >"$STATE/out" 2>"$STATE/err" && die "apply of a vm3 that cannot boot succeeded"
t1=$(date +%s%N)
grep -q "^multivm: apply: step '+ vm vm3' failed: it exited before it was up" "$STATE/err" &&
	grep -q "steps done before it are undone; the system runs its old configuration" "$STATE/err" ||
	die "failed vm3: $(cat "$STATE/err")"
grep -q '^vm3 ' "$STATE/status" && die "vm3 still in status: $(cat "$STATE/status")"
ls "$STATE" | grep -q '^vm3\.' && die "vm3's files left: $(ls "$STATE" | grep '^vm3\.')"
cmp "$STATE/run" "$STATE/a.ini" || die "a failed apply changed $STATE/run"
[ "$(pids)" = "$before" ] || die "an undone apply changed pids: before $before, after $(pids)"
snap
grep -q 'vm3' "$STATE/stats.out" && die "vm3's links left: $(grep vm3 "$STATE/stats.out")"
[ "$(stat_of "vm vm0" handoff_refused)" = 0 ] && [ "$(stat_of "vm vm1" handoff_refused)" = 0 ] ||
	die "a handoff was refused: $(grep -h 'handoff' "$STATE"/vm*.vmm.log | tail -3)"
grep -q "vm0: its running VMM (pid [0-9]*) took 0 new links and dropped 1: no restart" "$STATE/supervisor.log" ||
	die "vm0's VMM did not drop its link to vm3: $(grep 'vm0' "$STATE/supervisor.log" | tail -5)"
x vm0 -- "ping -c 1 -W 5 192.168.1.3" >/dev/null || die "vm0 no longer reaches vm2 after the undo"
say "a failed step undone in $(((t1 - t0) / 1000000)) ms: vm3 and its links gone, every VMM and QEMU pid and vmm_starts unchanged; it said: $(cat "$STATE/err")"

# vm3 added, linked to vm0 and vm1, while vm1 pings vm2 every 50 ms: vm0's
# and vm1's running VMMs are handed their new links (common/handoff.h):
# no VMM restarts, no frame of the stream is lost.
snap
f0=$(stat_of "link vm1->vm2" frames)
x vm1 -- "ping -c 300 -i 0.05 -W 1 192.168.1.3" >"$STATE/stream" 2>&1 &
stream=$!
streaming() { snap; [ "$(stat_of "link vm1->vm2" frames)" -ge $((f0 + 20)) ]; }
wait_for 30 streaming || die "the vm1 -> vm2 stream did not start"
t0=$(date +%s%N)
out=$("$MV" apply "$STATE/c.ini") || die "apply adding vm3 failed: $out"
t1=$(date +%s%N)
[ "$out" = "$(printf '+ vm vm3\n+ link vm0-vm3\n+ link vm1-vm3\napplied 3 changes')" ] || die "apply said: $out"
wait $stream || die "the vm1 -> vm2 stream failed: $(tail -3 "$STATE/stream")"
lost=$(sed -n 's/.* \([0-9]*\) packets received.*/\1/p' "$STATE/stream")
[ -n "$lost" ] || die "no ping summary: $(tail -3 "$STATE/stream")"
lost=$((300 - lost))
cmp "$STATE/run" "$STATE/c.ini" || die "$STATE/run is not the applied config"
[ "$(state_of vm3)" = up ] || die "vm3 not up: $(cat "$STATE/status")"
x vm3 -- "ping -c 2 -W 5 192.168.1.1" >/dev/null || die "vm3 does not reach vm0"
x vm3 -- "ping -c 2 -W 5 192.168.1.2" >/dev/null || die "vm3 does not reach vm1"
status_is 1 x vm3 -- "ping -c 2 -W 1 192.168.1.3" || die "vm3 reaches vm2, with no link between them"
x vm0 -- "ping -c 2 -W 5 192.168.1.3" >/dev/null || die "vm0 no longer reaches vm2"
after=$(pids)
[ "$after" = "$before" ] || die "VMM or QEMU pids or vmm_starts changed: before $before, after $after"
grep -q "vm0: its running VMM (pid [0-9]*) took 1 new link and dropped 0: no restart" "$STATE/supervisor.log" ||
	die "vm0's VMM was not handed its link: $(grep -i 'vm0' "$STATE/supervisor.log" | tail -5)"
say "vm3 added: apply took $(((t1 - t0) / 1000000)) ms (to vm3 up); vm1 <-> vm2 stream lost $lost of 300 (50 ms apart); every VMM and QEMU pid and vmm_starts unchanged"
[ "$lost" -eq 0 ] || die "the vm1 <-> vm2 stream lost $lost of 300 while the links were handed over"

# A wire added at run time, vm0:eth1 = vm3:eth1, while vm1 pings vm2 and
# vm2 pings vm0 every 50 ms: vm0's and vm3's running VMMs are handed the
# new NICs with their sockets (common/handoff.h), each QEMU plugs its NIC
# (QMP, cli/hotplug.c), the built-in guests name and address it (agent);
# every QEMU and VMM pid and vmm_starts unchanged; neither stream loses a
# frame. Then the wire removed (the VMMs told to drop the NICs): gone from
# both guests, the same pids, both streams again lossless. Then the same
# wire with its second NIC's plug refused by QEMU: undone.
cat >"$STATE/w.ini" <<'INI'
[vm vm0]
eth1.address = 10.0.9.1/30
[vm vm1]
[vm vm2]
[vm vm3]
eth1.address = 10.0.9.2/30
[links]
vm0 = vm1 vm2 vm3
vm1 = vm2 vm3
vm0:eth1 = vm3:eth1
INI
qemus() { for v in vm0 vm1 vm2 vm3; do printf '%s %s ' "$(pid_of "$v" qemu)" "$(pid_of "$v" vmm)"; done; pids; }
stream_start() {
	snap
	f0=$(stat_of "link vm1->vm2" frames)
	x vm1 -- "ping -c 300 -i 0.05 -W 1 192.168.1.3" >"$STATE/stream" 2>&1 &
	stream=$!
	wait_for 30 streaming || die "the vm1 -> vm2 stream did not start"
}
stream_lost() {	# sets lost (not in a subshell: it waits for the stream)
	wait $stream || die "the vm1 -> vm2 stream failed: $(tail -3 "$STATE/stream")"
	n=$(sed -n 's/.* \([0-9]*\) packets received.*/\1/p' "$STATE/stream")
	[ -n "$n" ] || die "no ping summary: $(tail -3 "$STATE/stream")"
	lost=$((300 - n))
}
qb=$(qemus)
case $qb in *\ \ *|*=\ *|*=) die "pids missing: $qb" ;; esac
stream0_start() {	# vm2 -> vm0: vm0's own untouched links while it takes or drops a NIC
	x vm2 -- "ping -c 300 -i 0.05 -W 1 192.168.1.1" >"$STATE/stream0" 2>&1 &
	stream0=$!
}
stream0_lost() {
	wait $stream0 || die "the vm2 -> vm0 stream failed: $(tail -3 "$STATE/stream0")"
	n=$(sed -n 's/.* \([0-9]*\) packets received.*/\1/p' "$STATE/stream0")
	[ -n "$n" ] || die "no ping summary: $(tail -3 "$STATE/stream0")"
	lost0=$((300 - n))
}
stream_start
stream0_start
t0=$(date +%s%N)
out=$("$MV" apply "$STATE/w.ini") || die "apply adding a wire failed: $out"
t1=$(date +%s%N)
echo "$out" | head -n 1 | grep -qx '+ wire vm0:eth1 = vm3:eth1' || die "apply said: $out"
echo "$out" | tail -n 1 | grep -qx 'applied 1 change' || die "apply said: $out"
plug0=$(echo "$out" | sed -n 's/^vm0:eth1 plugged in \([0-9]*\) ms$/\1/p')
plug3=$(echo "$out" | sed -n 's/^vm3:eth1 plugged in \([0-9]*\) ms$/\1/p')
[ -n "$plug0" ] && [ -n "$plug3" ] || die "apply did not say the NICs were plugged: $out"
stream_lost
stream0_lost
for v in vm0 vm3; do
	grep -q "$v: its running VMM (pid [0-9]*) took 1 new link and dropped 0 (1 with a wire NIC): no restart" \
		"$STATE/supervisor.log" || die "$v's VMM was not handed its NIC: $(grep "$v" "$STATE/supervisor.log" | tail -5)"
done
x vm0 -- "ip -o link show dev eth1" | grep -q 'link/ether 52:54:00:4e:01:01 ' ||
	die "vm0 has no eth1 (52:54:00:4e:01:01): $(x vm0 -- 'ip -o link')"
x vm3 -- "ip -o link show dev eth1" | grep -q 'link/ether 52:54:00:4e:04:01 ' ||
	die "vm3 has no eth1 (52:54:00:4e:04:01): $(x vm3 -- 'ip -o link')"
x vm0 -- "ip -o -4 addr show dev eth1" | grep -q 'inet 10.0.9.1/30 ' || die "vm0's eth1 has not 10.0.9.1/30"
out=$(x vm0 -- "ping -c 3 -W 5 10.0.9.2") || die "vm0 -> vm3 over the plugged wire: $out"
echo "$out" | grep -q '3 packets received' || die "vm0 -> vm3 over the plugged wire lost pings: $out"
[ "$(qemus)" = "$qb" ] || die "QEMU or VMM pids or vmm_starts changed: before $qb, after $(qemus)"
say "wire plugged: apply to vm0:eth1 named in its guest $plug0 ms, vm3:eth1 $plug3 ms (apply returned in $(((t1 - t0) / 1000000)) ms); ping over it; every QEMU and VMM pid unchanged; vm1 <-> vm2 stream lost $lost of 300; vm2 -> vm0 lost $lost0 of 300"
[ "$lost" -eq 0 ] || die "the vm1 <-> vm2 stream lost $lost of 300 while the wire was plugged"
[ "$lost0" -eq 0 ] || die "the vm2 -> vm0 stream lost $lost0 of 300 while vm0's VMM took its NIC"
stream_start
stream0_start
t0=$(date +%s%N)
out=$("$MV" apply "$STATE/c.ini") || die "apply removing the wire failed: $out"
t1=$(date +%s%N)
[ "$out" = "$(printf '%s\n' '- wire vm0:eth1 = vm3:eth1' 'applied 1 change')" ] || die "apply said: $out"
stream_lost
stream0_lost
for v in vm0 vm3; do
	grep -q "$v: its running VMM (pid [0-9]*) took 0 new links and dropped 1 (1 with a wire NIC): no restart" \
		"$STATE/supervisor.log" || die "$v's VMM did not drop its NIC: $(grep "$v" "$STATE/supervisor.log" | tail -5)"
done
for v in vm0 vm3; do
	x $v -- "ip -o link" | grep -q ': eth1[:@]' && die "$v still has eth1: $(x $v -- 'ip -o link')"
done
[ "$(qemus)" = "$qb" ] || die "QEMU or VMM pids or vmm_starts changed: before $qb, after $(qemus)"
x vm0 -- "ping -c 2 -W 5 192.168.1.4" >/dev/null || die "vm0 no longer reaches vm3 on the segment"
say "wire unplugged in $(((t1 - t0) / 1000000)) ms: eth1 gone from vm0 and vm3, the same pids; vm1 <-> vm2 stream lost $lost of 300; vm2 -> vm0 lost $lost0 of 300"
[ "$lost" -eq 0 ] || die "the vm1 <-> vm2 stream lost $lost of 300 while the wire was unplugged"
[ "$lost0" -eq 0 ] || die "the vm2 -> vm0 stream lost $lost0 of 300 while vm0's VMM dropped its NIC"

# A second NIC's plug refused by QEMU: vm3's QEMU already holds a netdev
# w-eth1 (a hubport added here over vm3's QMP socket, as any QMP client
# could), so vm3:eth1's netdev_add fails after vm0:eth1 was plugged and
# named. The undo unplugs vm0:eth1, then hands the supervisor the old
# config (vm0's and vm3's running VMMs told to drop the NICs again); the
# step is named with QEMU's words; no NIC of the wire is left in either
# guest or QEMU, no socket file; every QEMU and VMM pid unchanged;
# `multivm config` the old text.
qmp() {	# VM COMMAND...: each command's answer, a line each
	python3 - "$STATE/$1.qmp" "$@" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(20)
s.connect(sys.argv[1])
f = s.makefile("rw")
f.readline()
for c in ['{"execute": "qmp_capabilities"}'] + sys.argv[3:]:
    f.write(c + "\n")
    f.flush()
    while True:
        m = json.loads(f.readline())
        if "event" not in m:
            break
    if c != '{"execute": "qmp_capabilities"}':
        print(json.dumps(m, sort_keys=True))
PY
}
out=$(qmp vm3 '{"execute": "netdev_add", "arguments": {"type": "hubport", "id": "w-eth1", "hubid": 9}}')
[ "$out" = '{"return": {}}' ] || die "vm3's QEMU did not take netdev w-eth1: $out"
t0=$(date +%s%N)
"$MV" apply "$STATE/w.ini" >"$STATE/out" 2>"$STATE/err" && die "apply with vm3's w-eth1 taken succeeded"
t1=$(date +%s%N)
out=$(qmp vm3 '{"execute": "netdev_del", "arguments": {"id": "w-eth1"}}')
[ "$out" = '{"return": {}}' ] || die "vm3's QEMU lost its netdev w-eth1: $out"
grep -qx 'vm0:eth1 plugged in [0-9]* ms' "$STATE/out" || die "vm0:eth1 not plugged first: $(cat "$STATE/out" "$STATE/err")"
grep -qx "multivm: apply: step 'plug vm3:eth1' failed: QMP: netdev_add: Duplicate ID 'w-eth1'.*" "$STATE/err" &&
	grep -q "steps done before it are undone; the system runs its old configuration" "$STATE/err" ||
	die "refused plug: $(cat "$STATE/err")"
for v in vm0 vm3; do
	x $v -- "ip -o link" | grep -q "52:54:00:4e:" && die "$v still has a wire NIC: $(x $v -- 'ip -o link')"
	[ "$(state_of $v)" = up ] || die "$v not up after the undo: $(cat "$STATE/status")"
	out=$(qmp $v '{"execute": "qom-list", "arguments": {"path": "/machine/peripheral"}}' \
		'{"execute": "query-chardev"}' '{"execute": "human-monitor-command", "arguments": {"command-line": "info network"}}')
	case $out in *'"nic-eth0"'*) ;; *) die "$v: no nic-eth0 in /machine/peripheral: $out" ;; esac
	case $out in *nic-eth1*|*vu-eth1*|*w-eth1*) die "$v's QEMU still holds the NIC: $out" ;; esac
done
ls "$STATE" | grep -q '\.eth1\.vhost$' && die "sockets left: $(ls "$STATE" | grep vhost)"
[ "$(qemus)" = "$qb" ] || die "QEMU or VMM pids or vmm_starts changed: before $qb, after $(qemus)"
"$MV" config | cmp -s - "$STATE/c.ini" || die "multivm config is not the old config: $("$MV" config)"
x vm0 -- "ping -c 2 -W 5 192.168.1.4" >/dev/null || die "vm0 no longer reaches vm3 after the undo"
say "a refused second plug undone in $(((t1 - t0) / 1000000)) ms: vm0:eth1 unplugged again, no NIC, netdev, chardev or socket of the wire left, the same QEMU and VMM pids; it said: $(cat "$STATE/err")"
before=$(pids)

# vm3 and the vm0-vm2 link removed: vm3's processes and files gone, vm0
# no longer reaches vm2; every guest's QEMU stays.
vm3_pids="$(pid_of vm3 vmm) $(pid_of vm3 qemu)"
cat >"$STATE/e.ini" <<'INI'
[vm vm0]
[vm vm1]
[vm vm2]
[links]
vm0 = vm1
vm1 = vm2
INI
out=$("$MV" apply "$STATE/e.ini") || die "apply removing vm3 failed: $out"
[ "$out" = "$(printf '%s\n' '- vm vm3' '- link vm0-vm2' '- link vm0-vm3' '- link vm1-vm3' 'applied 4 changes')" ] ||
	die "apply said: $out"
grep -q '^vm3 ' "$STATE/status" && die "vm3 still in status: $(cat "$STATE/status")"
for p in $vm3_pids; do kill -0 "$p" 2>/dev/null && die "vm3's process $p still runs"; done
ls "$STATE" | grep -q '^vm3\.' && die "vm3's files left: $(ls "$STATE" | grep '^vm3\.')"
status_is 1 x vm0 -- "ping -c 2 -W 1 192.168.1.3" || die "vm0 still reaches vm2"
x vm0 -- "ping -c 2 -W 5 192.168.1.2" >/dev/null || die "vm0 no longer reaches vm1"
x vm1 -- "ping -c 2 -W 5 192.168.1.3" >/dev/null || die "vm1 no longer reaches vm2"
after=$(pids)
[ "$after" = "$before" ] || die "VMM or QEMU pids or vmm_starts changed: before $before, after $after"
snap
[ "$(stat_of "vm vm0" handoff_refused)" = 0 ] && [ "$(stat_of "vm vm2" handoff_refused)" = 0 ] ||
	die "a handoff was refused: $(grep -h 'handoff' "$STATE"/vm*.vmm.log | tail -3)"
cmp "$STATE/run" "$STATE/e.ini" || die "$STATE/run is not the applied config"
say "vm3 and vm0-vm2 removed: no vm3 process or file left, vm0 -/-> vm2, every VMM and QEMU pid unchanged"

# vm0-vm2 back: vm0 takes it at the end of its links, vm2 before its
# vm1-vm2 link (which moves up, carrying on); nothing restarts.
out=$("$MV" apply "$STATE/a.ini") || die "apply of vm0-vm2 back failed: $out"
[ "$out" = "$(printf '+ link vm0-vm2\napplied 1 change')" ] || die "apply said: $out"
x vm0 -- "ping -c 2 -W 5 192.168.1.3" >/dev/null || die "vm0 does not reach vm2 over the link handed back"
x vm1 -- "ping -c 2 -W 5 192.168.1.3" >/dev/null || die "vm1 no longer reaches vm2 (its link moved up in vm2)"
[ "$(pids)" = "$before" ] || die "VMM or QEMU pids or vmm_starts changed: before $before, after $(pids)"
say "vm0-vm2 back, before vm2's link to vm1: both carry frames, every VMM and QEMU pid unchanged"

# vm2's memory changed: only vm2 reboots (a new QEMU; its VMM stays),
# with the memory asked; no other pid changes; vm2 reaches vm1 again.
sed '/^\[vm vm2\]$/a memory = 320M' "$STATE/a.ini" >"$STATE/h.ini"
q2=$(pid_of vm2 qemu)
but_vm2() { pids | sed 's/vm2 vmm=\([0-9]*\) qemu=[0-9]*/vm2 vmm=\1 qemu=-/'; }
others=$(but_vm2)
t0=$(date +%s%N)
out=$("$MV" apply "$STATE/h.ini") || die "apply of vm2's memory failed: $out"
t1=$(date +%s%N)
[ "$out" = "$(printf '~ vm vm2 memory 256M -> 320M (restart)\napplied 1 change')" ] || die "apply said: $out"
[ "$(pid_of vm2 qemu)" != "$q2" ] || die "vm2's QEMU did not restart (pid $q2)"
[ "$(but_vm2)" = "$others" ] || die "pids other than vm2's QEMU changed: before $others, after $(but_vm2)"
memkb() { x "$1" -- "cat /proc/meminfo" | sed -n 's/^MemTotal: *\([0-9]*\) kB$/\1/p'; }
m2=$(memkb vm2)
[ "${m2:-0}" -gt 262144 ] && [ "$m2" -le 327680 ] || die "vm2's MemTotal $m2 kB, 320M asked"
x vm2 -- "ping -c 2 -W 5 192.168.1.2" >/dev/null || die "vm2 does not reach vm1 after its reboot"
cmp "$STATE/run" "$STATE/h.ini" || die "$STATE/run is not the applied config"
say "vm2 rebooted for memory 320M in $(((t1 - t0) / 1000000)) ms (MemTotal $m2 kB): its QEMU $q2 -> $(pid_of vm2 qemu), every other pid unchanged"

# A reboot that fails (vm2's "kernel" a text file): undone by a reboot
# with the settings it had (320M), the step named; vm2's VMM and the
# other VMs untouched.
sed '/^\[vm vm2\]$/a kernel = /etc/hostname' "$STATE/h.ini" >"$STATE/i.ini"
others=$(but_vm2)
t0=$(date +%s%N)
"$MV" apply "$STATE/i.ini" >"$STATE/out" 2>"$STATE/err" && die "apply of vm2 with a kernel QEMU refuses succeeded"
t1=$(date +%s%N)
grep -q "^multivm: apply: step '~ vm vm2 (restart)' failed: it exited before it was up" "$STATE/err" &&
	grep -q "steps done before it are undone; the system runs its old configuration" "$STATE/err" ||
	die "failed reboot: $(cat "$STATE/err")"
[ "$(state_of vm2)" = up ] || die "vm2 not up after the undo: $(cat "$STATE/status")"
[ "$(but_vm2)" = "$others" ] || die "pids other than vm2's QEMU changed: before $others, after $(but_vm2)"
cmp "$STATE/run" "$STATE/h.ini" || die "a failed apply changed $STATE/run"
m2=$(memkb vm2)
[ "${m2:-0}" -gt 262144 ] && [ "$m2" -le 327680 ] || die "vm2's MemTotal $m2 kB after the undo, 320M before"
x vm2 -- "ping -c 2 -W 5 192.168.1.2" >/dev/null || die "vm2 does not reach vm1 after the undo"
say "a failed reboot undone in $(((t1 - t0) / 1000000)) ms (vm2 up again with 320M, its VMM and every other pid unchanged)"

# vm1's cpuset: its running QEMU and VMM moved, every thread, no pid
# changed; and back to none (where the supervisor runs).
allowed() {	# PID: the distinct Cpus_allowed_list of its threads
	for t in /proc/"$1"/task/*; do sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "$t/status"; done | sort -u | tr '\n' ' '
}
sed '/^\[vm vm1\]$/a cpuset = 0' "$STATE/h.ini" >"$STATE/j.ini"
others=$(pids)
everywhere=$(allowed "$(pid_of vm1 qemu)")
out=$("$MV" apply "$STATE/j.ini") || die "apply of vm1's cpuset failed: $out"
[ "$out" = "$(printf '~ vm vm1 cpuset none -> 0\napplied 1 change')" ] || die "apply said: $out"
[ "$(allowed "$(pid_of vm1 qemu)")" = "0 " ] && [ "$(allowed "$(pid_of vm1 vmm)")" = "0 " ] ||
	die "vm1's QEMU threads on $(allowed "$(pid_of vm1 qemu)"), VMM on $(allowed "$(pid_of vm1 vmm)"): cpuset 0 asked"
[ "$(pids)" = "$others" ] || die "a cpuset change changed pids: before $others, after $(pids)"
out=$("$MV" apply "$STATE/h.ini") || die "apply of vm1's cpuset back failed: $out"
[ "$(allowed "$(pid_of vm1 qemu)")" = "$everywhere" ] && [ "$(allowed "$(pid_of vm1 vmm)")" = "$everywhere" ] ||
	die "vm1's QEMU threads on $(allowed "$(pid_of vm1 qemu)") after cpuset none, $everywhere before"
[ "$(pids)" = "$others" ] || die "cpuset none changed pids: before $others, after $(pids)"
x vm1 -- "ping -c 1 -W 5 192.168.1.1" >/dev/null || die "vm1 does not reach vm0 after its cpuset changes"
say "vm1's cpuset 0 and back: its QEMU and VMM threads moved ($everywhere-> 0 -> $everywhere), no pid changed"

# vm2 given a disk (image, with the built-in kernel and initramfs: kernel
# =, initrd =, and what multivm puts on its command line in append =),
# then another image: each a reboot of vm2 alone with a new overlay over
# the new image (the one before set aside); the guest reads each disk;
# vm2's VMM and the others' pids unchanged. A missing image is refused
# as run refuses it, before any step.
tr '\0' '\n' <"/proc/$(pid_of vm0 qemu)/cmdline" >"$STATE/q0"
K=$(sed -n '/^-kernel$/{n;p;}' "$STATE/q0"); I=$(sed -n '/^-initrd$/{n;p;}' "$STATE/q0")
[ -n "$K" ] && [ -n "$I" ] || die "no -kernel/-initrd in vm0's QEMU command line"
printf 'multivm-disk-one' >"$STATE/d1.img" && truncate -s 1M "$STATE/d1.img"
printf 'multivm-disk-two' >"$STATE/d2.raw" && truncate -s 1M "$STATE/d2.raw"
qemu-img convert -O qcow2 "$STATE/d2.raw" "$STATE/d2.qcow2" || die "qemu-img convert failed"
chmod 644 "$STATE/d1.img" "$STATE/d2.qcow2"
disk() {	# IMAGE: h.ini with vm2 booting the built-in guest with IMAGE as its disk
	awk -v img="$1" -v k="$K" -v i="$I" '{ print } $0 == "[vm vm2]" {
		print "image = " img; print "kernel = " k; print "initrd = " i
		print "append = panic=-1 quiet multivm.name=vm2 multivm.addr=192.168.1.3/24"; print "cloud_init = no" }' "$STATE/h.ini"
}
head16() { x vm2 -- "head -c 16 /dev/vda"; }
disk "$STATE/d1.img" >"$STATE/k.ini"
but_vm2q() { pids | sed 's/vm2 vmm=\([0-9]*\) qemu=[0-9]*/vm2 vmm=\1 qemu=-/'; }
others=$(but_vm2q)
out=$("$MV" apply "$STATE/k.ini") || die "apply of vm2's first disk failed: $out"
echo "$out" | grep -qx "~ vm vm2 image none -> $STATE/d1.img (restart)" || die "apply said: $out"
[ "$(head16)" = multivm-disk-one ] || die "vm2 reads $(head16) on /dev/vda, d1.img's content expected"
[ "$(but_vm2q)" = "$others" ] || die "pids other than vm2's QEMU changed: before $others, after $(but_vm2q)"
x vm2 -- "printf written | dd of=/dev/vda bs=1 seek=4096 conv=notrunc 2>/dev/null && sync" || die "vm2 cannot write its disk"
disk "$STATE/d2.qcow2" >"$STATE/l.ini"
q2=$(pid_of vm2 qemu)
t0=$(date +%s%N)
out=$("$MV" apply "$STATE/l.ini") || die "apply of vm2's new image failed: $out"
t1=$(date +%s%N)
[ "$out" = "$(printf '~ vm vm2 image %s -> %s (restart)\napplied 1 change' "$STATE/d1.img" "$STATE/d2.qcow2")" ] ||
	die "apply said: $out"
[ "$(pid_of vm2 qemu)" != "$q2" ] || die "vm2's QEMU did not restart for its new image"
[ "$(head16)" = multivm-disk-two ] || die "vm2 reads $(head16) on /dev/vda after the new image, d2's expected"
t2=$(date +%s%N)
[ "$(but_vm2q)" = "$others" ] || die "pids other than vm2's QEMU changed: before $others, after $(but_vm2q)"
qemu-img info -U "$STATE/vm2.overlay.qcow2" | grep -q "backing file: $STATE/d2.qcow2" &&
	qemu-img info -U "$STATE/vm2.overlay.old.qcow2" | grep -q "backing file: $STATE/d1.img" ||
	die "vm2's overlays: $(qemu-img info -U "$STATE/vm2.overlay.qcow2" | grep backing)"
x vm2 -- "ping -c 2 -W 5 192.168.1.2" >/dev/null || die "vm2 does not reach vm1 after its new image"
say "vm2's image changed (d1.img -> d2.qcow2): apply returned in $(((t1 - t0) / 1000000)) ms (an image VM is up 2 s after its QEMU starts), the guest read the new disk at $(((t2 - t0) / 1000000)) ms; a new overlay, the old one set aside, vm2's VMM and every other pid unchanged"
# A new image QEMU cannot boot with (its kernel a text file): the reboot
# fails and is undone, the overlay over the old image (its writes) put
# back.
disk "$STATE/d1.img" | sed "s|^kernel = .*|kernel = /etc/hostname|" >"$STATE/m.ini"
"$MV" apply "$STATE/m.ini" >"$STATE/out" 2>"$STATE/err" && die "apply of vm2 with a kernel QEMU refuses succeeded"
grep -q "steps done before it are undone; the system runs its old configuration" "$STATE/err" ||
	die "failed image reboot: $(cat "$STATE/err")"
[ "$(head16)" = multivm-disk-two ] || die "vm2 reads $(head16) after the undo, d2's expected"
[ "$(but_vm2q)" = "$others" ] || die "pids other than vm2's QEMU changed in the undo: $(but_vm2q)"
cmp "$STATE/run" "$STATE/l.ini" || die "a failed apply changed $STATE/run"
# Back to d1.img: the overlay set aside comes back, with what vm2 wrote.
out=$("$MV" apply "$STATE/k.ini") || die "apply of vm2 back to d1.img failed: $out"
[ "$(head16)" = multivm-disk-one ] && [ "$(x vm2 -- "dd if=/dev/vda bs=1 skip=4096 count=7 2>/dev/null")" = written ] ||
	die "vm2 back on d1.img reads $(head16) / its write lost"
sed "s|image = $STATE/d1.img|image = $STATE/none.qcow2|" "$STATE/k.ini" >"$STATE/n.ini"
"$MV" apply "$STATE/n.ini" >/dev/null 2>"$STATE/err"
[ $? -eq 2 ] || die "apply of a missing image did not exit 2"
grep -q "^multivm: $STATE/n.ini:[0-9]*: \[vm vm2\] image: $STATE/none.qcow2: no such file" "$STATE/err" ||
	die "a missing image: $(cat "$STATE/err")"
say "a failed image reboot undone (d2 back), back to d1.img with vm2's write kept, a missing image refused with FILE:LINE"

# vm2's MAC: vm2 reboots and its VMM restarts (its source check); vm0's
# and vm1's running VMMs are handed their link to vm2 again with the new
# MAC: their pids and vmm_starts unchanged, vm2 reaches both.
sed '/^\[vm vm2\]$/a mac = 52:54:00:00:00:33' "$STATE/k.ini" >"$STATE/o.ini"
two() { snap; for v in vm0 vm1; do printf '%s %s %s %s ' "$v" "$(pid_of "$v" vmm)" "$(pid_of "$v" qemu)" "$(stat_of "vm $v" vmm_starts)"; done; }
others=$(two)
v2=$(pid_of vm2 vmm); q2=$(pid_of vm2 qemu)
out=$("$MV" apply "$STATE/o.ini") || die "apply of vm2's MAC failed: $out"
[ "$out" = "$(printf '~ vm vm2 mac 52:54:00:4d:56:03 -> 52:54:00:00:00:33 (restart)\napplied 1 change')" ] || die "apply said: $out"
[ "$(pid_of vm2 vmm)" != "$v2" ] && [ "$(pid_of vm2 qemu)" != "$q2" ] || die "vm2's VMM or QEMU not restarted for its MAC"
[ "$(two)" = "$others" ] || die "vm0's or vm1's pids or vmm_starts changed: before $others, after $(two)"
[ "$(x vm2 -- "cat /sys/class/net/eth0/address")" = 52:54:00:00:00:33 ] || die "vm2's eth0 is not 52:54:00:00:00:33"
x vm2 -- "ping -c 2 -W 5 192.168.1.1" >/dev/null && x vm2 -- "ping -c 2 -W 5 192.168.1.2" >/dev/null ||
	die "vm2 with its new MAC does not reach vm0 and vm1"
snap
[ "$(stat_of "vm vm0" handoff_refused)" = 0 ] && [ "$(stat_of "vm vm1" handoff_refused)" = 0 ] || die "a handoff was refused"
say "vm2's MAC changed: vm2 rebooted, its VMM restarted, vm0's and vm1's running VMMs handed the link again (pids, vmm_starts unchanged), vm2 reaches both"

# A VM from the middle is not removed at run time yet (the VMs after it
# would move, and with them the MAC and address their place gives them):
# refused, nothing done.
printf '[vm vm0]\n[vm vm2]\n[links]\nvm0 = vm2\n' >"$STATE/f.ini"
"$MV" apply "$STATE/f.ini" >"$STATE/out" 2>"$STATE/err" && die "apply removing vm1 succeeded"
grep -q "nothing done: vm1: only the last VMs (in \[vm\] order) are removed at run time yet" \
	"$STATE/err" || die "apply removing vm1 said: $(cat "$STATE/err")"
[ "$(state_of vm1)" = up ] || die "a refused apply touched vm1"

"$MV" stop || die "stop failed"
[ -e "$STATE/run" ] && die "$STATE/run left after stop"
ls "$STATE"/vm2.overlay* 2>/dev/null && die "vm2's overlays left after stop"
say "ok"
