#!/bin/sh
# What a hostile peer or a local user can no longer do (guest-less):
# - a peer VMM scribbles over the header page of a link it shares, then
#   this VM's VMM dies: it comes back with every link up and forwarding;
# - a VMM that cannot start shows as degraded in status, not as up, and
#   run --detach fails when a VMM never comes up;
# - under umask 000, the state directory is ours alone and every file and
#   socket in it is private; the VMM socket belongs to the run user;
# - an fd that `multivm run` inherited reaches no child;
# - a VMM's pid in supervisor.pid is not taken for a supervisor;
# - the supervisor killed by SIGKILL: every VMM and the tunnel end with it
#   (their lifeline hangs up), and the system runs again;
# - started by root, every VMM, QEMU and tunnel has an identity of its own:
#   a process as vm1's QEMU (a guest that escaped into it) cannot signal,
#   limit or read vm2's VMM or QEMU, vm1's own VMM or the tunnel, cannot
#   connect to vm2's socket (and one let through by a wrong mode is
#   refused on accept, SO_PEERCRED), cannot take vm1's place on its socket
#   while its VMM restarts (the issue's takeover), cannot bind the tunnel's
#   port, nor while the tunnel restarts (the supervisor holds its socket
#   for the system's life: ss lists it at every poll), and sees no other
#   VM's process from its PID namespace (each node is the init of one of
#   its own). The QEMUs are stand-ins under their identities (--no-guests): the
#   kernel judges by uid, not by program.
TEST_NAME=containment
. "$(dirname "$0")/lib.sh"
HF=${HOSTILE:?HOSTILE must name build/tools/hostile_frontend}

# vm0 in the middle of a star, and a tunnel (node 3) on vm0; a state
# directory someone made readable.
TPORT=47913
printf '[vm vm0]\n[vm vm1]\n[vm vm2]\n[tunnel tun]\nlocal = 127.0.0.1\nremote = 127.0.0.2\nvni = 9\nport = %s\n[links]\nvm0 = vm1 vm2 tun\n' \
	$TPORT >"$STATE/star.ini"
chmod 0755 "$STATE"
leak="$STATE/inherited.txt"
(umask 000; exec 7>"$leak"; "$MV" run --detach --no-guests "$STATE/star.ini" >/dev/null) || die "run failed"

# ---- local users ----
if [ "$(id -u)" -eq 0 ]; then
	want_dir="drwx--x--x root $(id -gn)"	# each VM's QEMU passes through to its own socket
	for i in 0 1 2; do
		case $(stat -c '%u:%g %a' "$STATE/vm$i.vhost") in
		"$(id_of $i qemu):$(id_of $i qemu) "[67]00) ;;
		*) false ;;
		esac ||
			die "vm$i.vhost is $(stat -c '%u:%g %a' "$STATE/vm$i.vhost"), not vm$i's QEMU's alone"
	done
else
	want_dir="drwx------ $(id -un) $(id -gn)"
fi
[ "$(stat -c '%A %U %G' "$STATE")" = "$want_dir" ] || die "state directory is $(stat -c '%A %U %G' "$STATE"), want $want_dir"
for f in "$STATE"/*; do
	[ "$f" = "$leak" ] || [ "$f" = "$STATE/star.ini" ] && continue
	case $(stat -c '%A' "$f") in
	-rw-------|srw-------|srwx------) ;;
	*) die "$f is $(stat -c '%A' "$f") under umask 000" ;;
	esac
done

# ---- descriptors ----
for p in "$(pid_of vm0 vmm)" "$(pid_of vm1 vmm)" "$(pid_of vm2 vmm)"; do
	ls -l /proc/$p/fd | grep -q "$leak" && die "VMM $p inherited $leak"
done

# ---- one VM's QEMU against the others (root only: identities) ----
if [ "$(id -u)" -eq 0 ]; then
	# Debian's python3 (a PATH one may be in a home others cannot enter)
	Q1=$(id_of 1 qemu)
	as() { u=$1; shift; setpriv --reuid="$u" --regid="$u" --clear-groups --inh-caps=-all "$@"; }
	# Stand-ins for vm1's and vm2's QEMUs, under their identities.
	# (setpriv itself in the background: $! is then the process, not a subshell)
	setpriv --reuid="$(id_of 2 qemu)" --regid="$(id_of 2 qemu)" --clear-groups sleep 300 &
	q2=$!
	setpriv --reuid="$Q1" --regid="$Q1" --clear-groups sleep 300 &
	q1=$!
	wait_for 10 grep -q "^Uid:[[:space:]]*$(id_of 2 qemu)[[:space:]]" /proc/$q2/status || die "vm2's stand-in"
	wait_for 10 grep -q "^Uid:[[:space:]]*$Q1[[:space:]]" /proc/$q1/status || die "vm1's stand-in"
	vmm1=$(pid_of vm1 vmm) vmm2=$(pid_of vm2 vmm) tun=$(pid_of tun vmm)
	as "$Q1" kill -0 $q1 || die "the control failed: vm1's QEMU cannot signal itself"
	for t in "vm2's VMM:$vmm2" "vm2's QEMU:$q2" "vm1's own VMM:$vmm1" "the tunnel:$tun"; do
		p=${t##*:}
		for sig in -KILL -STOP -0; do
			out=$(as "$Q1" kill $sig $p 2>&1) && die "vm1's QEMU could send $sig to ${t%:*} ($p)"
			echo "$out" | grep -q 'not permitted' || die "kill $sig ${t%:*}: $out"
		done
		as "$Q1" prlimit --pid $p --nofile=3 2>/dev/null && die "vm1's QEMU could prlimit ${t%:*}"
		as "$Q1" ls /proc/$p/fd >/dev/null 2>&1 && die "vm1's QEMU could list ${t%:*}'s fds"
		as "$Q1" head -c 1 /proc/$p/mem >/dev/null 2>&1 && die "vm1's QEMU could read ${t%:*}'s memory"
		:
	done
	kill $q1 $q2
	say "vm1's QEMU id: SIGKILL, SIGSTOP, signal 0, prlimit, /proc fd and mem refused on vm2's VMM and QEMU, vm1's VMM, the tunnel"

	# Each node is the init of a PID namespace of its own: from vm1's
	# VMM's, no other VM's process is there to see (a /proc of that
	# namespace, mounted in a mount namespace of the probe's own).
	for p in $(pid_of vm0 vmm) $vmm1 $vmm2 $tun; do
		grep -q "^NSpid:[[:space:]]*$p[[:space:]]*1$" /proc/$p/status ||
			die "node $p is not its own PID namespace's init: $(grep ^NSpid: /proc/$p/status)"
		readlink /proc/$p/ns/pid
	done >"$STATE/pidns"
	[ "$(sort -u "$STATE/pidns" | grep -vc "^$(readlink /proc/self/ns/pid)$")" -eq 4 ] ||
		die "the 4 nodes are not in 4 PID namespaces of their own: $(sort "$STATE/pidns" | uniq -c)"
	nsenter -t "$vmm1" -p -- unshare -m --mount-proc sh -c \
		'for d in /proc/[0-9]*; do printf "%s %s\n" "${d#/proc/}" "$(tr "\0" " " <$d/cmdline)"; done' >"$STATE/ns1.txt" ||
		die "cannot look into vm1's VMM's PID namespace"
	grep -q "^1 multivm vmm --name vm1 " "$STATE/ns1.txt" || die "vm1's VMM is not pid 1 of its namespace: $(cat "$STATE/ns1.txt")"
	[ "$(grep -vc '^[0-9]* sh -c ' "$STATE/ns1.txt")" -eq 1 ] ||
		die "vm1's VMM's PID namespace holds more than it and the probe: $(cat "$STATE/ns1.txt")"
	# Its init takes SIGTERM (the signalfd), as the supervisor stops it.
	kill -TERM "$vmm1"
	termed1() { p=$(pid_of vm1 vmm); [ -n "$p" ] && [ "$p" != 0 ] && [ "$p" != "$vmm1" ] && [ "$(state_of vm1)" = up ]; }
	wait_for 10 termed1 || die "vm1's VMM did not end on SIGTERM"
	grep -q "vmm vm1: info: stopping" "$STATE/vm1.vmm.log" || die "vm1's VMM did not stop on SIGTERM: $(tail -n 3 "$STATE/vm1.vmm.log")"
	vmm1=$(pid_of vm1 vmm)
	say "each node the init of a PID namespace of its own (4 namespaces); vm1's shows vm1's VMM and the probe only; SIGTERM ends it"

	# A cgroup per VM where the host offers cgroup v2 with memory and
	# pids (its limits, vm1's VMM in it); else one notice why not.
	cgdir=$(sed -n 's/.*supervisor: info: a cgroup per VM in //p' "$STATE/supervisor.log")
	if [ -n "$cgdir" ]; then
		[ "$(cat "$cgdir/vm1/memory.max")" = $(((256 + 256 + 1024) << 20)) ] &&
			[ "$(cat "$cgdir/vm1/pids.max")" = 129 ] || die "vm1's cgroup limits: $(cat "$cgdir/vm1/memory.max" "$cgdir/vm1/pids.max")"
		grep -qx "$vmm1" "$cgdir/vm1/cgroup.procs" || die "vm1's VMM $vmm1 is not in $cgdir/vm1"
		say "vm1's cgroup $cgdir/vm1: memory.max, pids.max, its VMM in it"
	else
		[ "$(grep -c 'multivm: no cgroup per VM (no memory.max, pids.max): ' "$STATE/supervisor.log")" = 1 ] ||
			die "no cgroups and not one notice why: $(grep -i cgroup "$STATE/supervisor.log")"
		say "no cgroups here, one notice: $(sed -n 's/.*no cgroup per VM (no memory.max, pids.max): //p' "$STATE/supervisor.log")"
	fi

	# vm2's socket: the file is vm2's QEMU's, 0600.
	out=$(as "$Q1" /usr/bin/python3 -c '
import socket, sys
socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).connect(sys.argv[1])' "$STATE/vm2.vhost" 2>&1) &&
		die "vm1's QEMU connected to vm2's socket"
	echo "$out" | grep -q 'PermissionError' || die "connecting to vm2's socket: $out"
	# A wrong mode lets it reach accept: the VMM asks the kernel who it is.
	chmod 0666 "$STATE/vm2.vhost"
	as "$Q1" "$HF" send "$STATE/vm2.vhost" "$(mac_of 2)" "$(mac_of 0)" 1 >/dev/null 2>&1 &&
		die "vm2's VMM accepted vm1's QEMU"
	chmod 0600 "$STATE/vm2.vhost"
	refused_once() { snap; [ "$(stat_of "vm vm2" vu_peer_refused)" = 1 ] && [ "$(stat_of "vm vm2" vu_connected)" = 0 ]; }
	wait_for 10 refused_once || die "vm2's refusal not counted: $(grep '^vm vm2 ' "$STATE/stats.out")"
	grep -q "refusing a frontend of uid $Q1: only uid $(id_of 2 qemu) may connect" "$STATE/vm2.vmm.log" ||
		die "vm2's VMM did not log the refusal: $(tail -n 5 "$STATE/vm2.vmm.log")"
	say "vm1's QEMU id: vm2's socket refused by its mode, and on accept (SO_PEERCRED, vu_peer_refused=1)"

	# The takeover (issue 26): vm1's VMM dies (root kills it: vm2's QEMU
	# cannot), and vm2's QEMU polls connect() on vm1's socket meanwhile.
	Q2=$(id_of 2 qemu)
	as "$Q2" kill -9 "$vmm1" 2>/dev/null && die "vm2's QEMU killed vm1's VMM"
	setpriv --reuid="$Q2" --regid="$Q2" --clear-groups /usr/bin/python3 -c '
import socket, sys, time
n = ok = 0
end = time.time() + 4
print("polling", flush=True)
while time.time() < end:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(sys.argv[1]); ok += 1
    except OSError:
        pass
    s.close(); n += 1; time.sleep(0.005)
print(n, ok)' "$STATE/vm1.vhost" >"$STATE/poll.out" &
	poller=$!
	wait_for 10 grep -q polling "$STATE/poll.out" || die "the poller did not start"
	kill -9 "$vmm1"
	wait $poller	# it ends by itself after 4 s
	tries=$(tail -n 1 "$STATE/poll.out" | cut -d' ' -f1) won=$(tail -n 1 "$STATE/poll.out" | cut -d' ' -f2)
	[ "$won" = 0 ] && [ "$tries" -gt 100 ] || die "vm2's QEMU connected $won times of $tries to vm1's socket"
	restarted1() { p=$(pid_of vm1 vmm); [ -n "$p" ] && [ "$p" != 0 ] && [ "$p" != "$vmm1" ] && [ "$(state_of vm1)" = up ]; }
	wait_for 30 restarted1 || die "vm1's VMM did not come back"
	snap
	[ "$(stat_of "vm vm1" vu_connected)" = 0 ] || die "someone is vm1's frontend: $(grep '^vm vm1 ' "$STATE/stats.out")"
	# vm1's own QEMU still gets in.
	as "$Q1" "$HF" send "$STATE/vm1.vhost" "$(mac_of 1)" "$(mac_of 0)" 3 || die "vm1's QEMU id cannot reach vm1's VMM"
	say "takeover: $tries connects by vm2's QEMU on vm1's socket across vm1's VMM restart, $won accepted; vm1's QEMU id still served"

	# The tunnel's port: bound by the tunnel, not by vm1's QEMU, on its
	# address or any.
	for a in 127.0.0.1 0.0.0.0; do
		out=$(as "$Q1" /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
s.bind((sys.argv[1], int(sys.argv[2])))' $a $TPORT 2>&1) && die "vm1's QEMU bound the tunnel's port on $a"
		echo "$out" | grep -q 'Address already in use' || die "binding $a:$TPORT: $out"
	done
	say "vm1's QEMU id: the tunnel's UDP port taken (on its address and on any)"

	# ... and while the tunnel restarts (issue 26): the supervisor holds
	# its socket for the system's life, so the port is never free. vm1's
	# QEMU tries to bind it from before the kill to after the new tunnel
	# serves; every try refused, the port listed by ss throughout.
	old=$(pid_of tun vmm)
	as "$Q1" /usr/bin/python3 -c '
import socket, sys, time, os
tries = 0
end = time.monotonic() + float(sys.argv[3])
while time.monotonic() < end:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        s.bind((sys.argv[1], int(sys.argv[2])))
        print("bound after %d tries" % tries)
        sys.exit(1)
    except OSError as e:
        if e.errno != 98:
            print("try %d: %s" % (tries, e)); sys.exit(2)
    s.close()
    tries += 1
    if tries == 1:
        print("trying", flush=True)
    time.sleep(0.002)
print(tries)' 127.0.0.1 $TPORT 4 >"$STATE/binds.out" 2>&1 &
	binder=$!
	wait_for 10 grep -q trying "$STATE/binds.out" || die "the binder did not start: $(cat "$STATE/binds.out")"
	kill -9 "$old"
	unbound=0
	back() {
		ss -Huln "sport = :$TPORT" | grep -q . || unbound=$((unbound + 1))
		p=$(pid_of tun vmm); [ -n "$p" ] && [ "$p" != 0 ] && [ "$p" != "$old" ] && [ "$(state_of tun)" = up ]
	}
	wait_for 30 back || die "the tunnel did not come back: $(cat "$STATE/status")"
	wait "$binder" || die "vm1's QEMU bound the tunnel's port while it restarted: $(cat "$STATE/binds.out")"
	[ "$unbound" = 0 ] || die "the tunnel's port was unbound $unbound time(s) while it restarted"
	say "the tunnel restarted (pid $old -> $(pid_of tun vmm)): $(tail -n 1 "$STATE/binds.out") binds by vm1's QEMU id refused (EADDRINUSE) across it, the port listed by ss at every poll"
fi

# ---- a peer scribbles on the shared header, then vm0's VMM dies ----
vmm1=$(pid_of vm1 vmm)
fd=$(ls -l /proc/$vmm1/fd | sed -n 's/.* \([0-9][0-9]*\) -> \/memfd:multivm-link.*/\1/p')
[ -n "$fd" ] || die "no link memfd in vm1's VMM"
head -c 4096 /dev/urandom | dd of=/proc/$vmm1/fd/$fd bs=4096 count=1 conv=notrunc 2>/dev/null ||
	die "could not write vm1's link memory"
old=$(pid_of vm0 vmm)
kill -9 "$old"
restarted() { p=$(pid_of vm0 vmm); [ -n "$p" ] && [ "$p" != 0 ] && [ "$p" != "$old" ] && [ "$(state_of vm0)" = up ]; }
wait_for 30 restarted || die "vm0's VMM did not come back: $(cat "$STATE/status")"
snap
[ "$(stat_of "link vm0->vm1" up)" = 1 ] && [ "$(stat_of "link vm0->vm2" up)" = 1 ] ||
	die "links after the restart: $(grep '^link' "$STATE/stats.out")"
"$HF" send "$STATE/vm0.vhost" "$(mac_of 0)" "$(mac_of 1)" 5 || die "sending to vm1 failed"
"$HF" send "$STATE/vm0.vhost" "$(mac_of 0)" "$(mac_of 2)" 5 || die "sending to vm2 failed"
crossed() { snap; [ "$(stat_of "link vm0->vm1" frames)" -eq 5 ] && [ "$(stat_of "link vm0->vm2" frames)" -eq 5 ]; }
wait_for 30 crossed || die "frames did not cross after the restart: $(cat "$STATE/stats.out")"

# ---- status that does not lie ----
sup=$(cat "$STATE/supervisor.pid")
kill -STOP "$sup"
kill -9 "$(pid_of vm1 vmm)"
rm -f "$STATE/vm1.vhost"
mkdir "$STATE/vm1.vhost" && touch "$STATE/vm1.vhost/x"	# nothing can listen there now
kill -CONT "$sup"
degraded() { [ "$(state_of vm1)" = degraded ] && grep -q '^vm1 .*reason=vmm_not_running' "$STATE/status"; }
wait_for 30 degraded || die "status while vm1's VMM cannot start: $(cat "$STATE/status")"
"$MV" status | grep -q '^vm1 state=degraded vmm=0 ' || die "multivm status says: $("$MV" status)"
rm -rf "$STATE/vm1.vhost"
back() { [ "$(state_of vm1)" = up ] && [ "$(pid_of vm1 vmm)" != 0 ]; }
wait_for 30 back || die "vm1 did not come back: $(cat "$STATE/status")"

# A VMM that can never come up: run --detach fails, leaving nothing running.
nv="$STATE/novmm"
mkdir -m 0700 "$nv" && mkdir "$nv/vm1.vhost" && touch "$nv/vm1.vhost/x"
out=$("$MV" -S "$nv" run --detach --no-guests "$(dirname "$0")/configs/pair.ini" 2>&1) &&
	die "run --detach succeeded though vm1's VMM cannot listen"
echo "$out" | grep -q 'could not start' || die "run said: $out"
status_is 1 "$MV" -S "$nv" status || die "something still runs in $nv"

# ---- a VMM's pid is not a supervisor's ----
pid_of vm0 vmm >"$STATE/supervisor.pid"
status_is 1 "$MV" status || die "status took VMM $(cat "$STATE/supervisor.pid") for the supervisor"
echo "$sup" >"$STATE/supervisor.pid"
"$MV" status >/dev/null || die "status after restoring the pid file"

# ---- the supervisor killed (SIGKILL): its VMMs and tunnel go with it ----
supervisor_death_ends_all 5
"$MV" run --detach --no-guests "$STATE/star.ini" >/dev/null || die "run again after the supervisor died failed"
"$MV" stop >/dev/null || die "stop of the system run again failed"
say "run again in the same state directory: up, stopped"
say "PASS"
