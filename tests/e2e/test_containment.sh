#!/bin/sh
# What a hostile peer or a local user can no longer do (guest-less):
# - a peer VMM scribbles over the header page of a link it shares, then
#   this VM's VMM dies: it comes back with every link up and forwarding;
# - a VMM that cannot start shows as degraded in status, not as up, and
#   run --detach fails when a VMM never comes up;
# - under umask 000, the state directory is ours alone and every file and
#   socket in it is private; the VMM socket belongs to the run user;
# - an fd that `multivm run` inherited reaches no child;
# - a VMM's pid in supervisor.pid is not taken for a supervisor.
TEST_NAME=containment
. "$(dirname "$0")/lib.sh"
HF=${HOSTILE:?HOSTILE must name build/tools/hostile_frontend}

# vm0 in the middle of a star; a state directory someone made readable.
printf '[vm vm0]\n[vm vm1]\n[vm vm2]\n[links]\nvm0 = vm1 vm2\n' >"$STATE/star.ini"
chmod 0755 "$STATE"
leak="$STATE/inherited.txt"
(umask 000; exec 7>"$leak"; "$MV" run --detach --no-guests "$STATE/star.ini" >/dev/null) || die "run failed"

# ---- local users ----
if [ "$(id -u)" -eq 0 ]; then
	want_dir="drwx--x--- root multivm"
	[ "$(stat -c '%U' "$STATE/vm0.vhost")" = multivm ] || die "vm0.vhost is owned by $(stat -c %U "$STATE/vm0.vhost")"
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
say "PASS"
