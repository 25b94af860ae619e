#!/bin/sh
# multivm@.service (issue 31 item 4), as `make install` ships it: the files
# land under DESTDIR with PREFIX's paths; systemd-analyze verify accepts the
# unit (with its binary and both man pages installed where it names them);
# and its ExecStart and ExecStop, with %i and %t as systemd expands them,
# start host a's part of a two-host file detached (its VMs guest =
# external: VMMs and tunnels, no QEMU), leave the PIDFile the unit names
# holding the supervisor's pid, and stop it again.
TEST_NAME=systemd
. "$(dirname "$0")/lib.sh"

command -v systemd-analyze >/dev/null || die "systemd-analyze missing (scripts/deps.sh installs systemd)"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=$(dirname "$MV")
[ -d "$B/guest" ] || B=$(dirname "$B")	# the asan binary's build: the image is the plain build's
T=$(mktemp -d /tmp/mvsd.XXXXXX)
trap '"$MV" -S "$T/run/multivm" stop --timeout 30 >/dev/null 2>&1; rm -rf "$T"; cleanup' EXIT

# DESTDIR: everything under it, PREFIX's paths inside.
make -s -C "$ROOT" install BUILD="$B" DESTDIR="$T/dest" PREFIX=/opt/mv >"$T/make.out" 2>&1 || die "make install: $(cat "$T/make.out")"
for f in bin/multivm lib/multivm/multivm lib/multivm/guest/initramfs.cpio.gz lib/multivm/guest/vmlinuz \
	share/man/man5/multivm.ini.5 share/man/man8/multivm.8 lib/systemd/system/multivm@.service; do
	[ -e "$T/dest/opt/mv/$f" ] || die "make install left no $f: $(find "$T/dest" | sort)"
done
U=$T/dest/opt/mv/lib/systemd/system/multivm@.service
grep -qx 'ExecStart=/opt/mv/bin/multivm -S %t/multivm run --detach --timeout 600 --host %i ${MULTIVM_CONFIG}' "$U" ||
	die "ExecStart: $(grep ExecStart "$U")"
for k in Type=forking RuntimeDirectory=multivm PIDFile=%t/multivm/supervisor.pid Restart=on-failure; do
	grep -qx "$k" "$U" || die "unit has no $k"
done

# Installed for real (PREFIX in a directory of ours): systemd-analyze
# verify checks the unit's syntax, its commands and its man pages.
make -s -C "$ROOT" install BUILD="$B" PREFIX="$T/usr" >"$T/make.out" 2>&1 || die "make install: $(cat "$T/make.out")"
U=$T/usr/lib/systemd/system/multivm@.service
cp "$U" "$T/multivm@a.service"
out=$(MANPATH=$T/usr/share/man systemd-analyze verify "$T/multivm@a.service" 2>&1) || die "systemd-analyze verify: $out"
[ -z "$out" ] || die "systemd-analyze verify warns: $out"
# ... and would say so of a unit that is wrong (a bad value is a warning)
sed 's/^Type=forking/Type=forked/' "$U" >"$T/multivm@b.service"
out=$(MANPATH=$T/usr/share/man systemd-analyze verify "$T/multivm@b.service" 2>&1)
case $out in *"Failed to parse service type"*) ;; *) die "verify said nothing of Type=forked: $out" ;; esac

# The unit's own commands, as systemd runs them for multivm@a: %i = a,
# %t = the runtime directory, RuntimeDirectory made 0700 beforehand.
cat >"$T/system.ini" <<EOF
[host a]
address = 10.231.32.1
[host b]
address = 10.231.32.2
[vm vm0]
host = a
guest = external
[vm vm1]
host = b
guest = external
[links]
vm0 = vm1
EOF
mkdir -p "$T/run" && mkdir -m 0700 "$T/run/multivm"
expand() { sed -n "s/^$1=//p" "$U" | sed "s|%t|$T/run|g; s|%i|a|g; s|\${MULTIVM_CONFIG}|$T/system.ini|g"; }
# The tunnel binds host a's address: in a namespace of its own that has it.
NS=mvsd$$
ip netns add $NS 2>/dev/null || skip "cannot create a network namespace here"
trap '"$MV" -S "$T/run/multivm" stop --timeout 30 >/dev/null 2>&1; ip netns del $NS 2>/dev/null; rm -rf "$T"; cleanup' EXIT
ip -n $NS link set lo up && ip -n $NS addr add 10.231.32.1/32 dev lo || die "namespace address"
# shellcheck disable=SC2046
ip netns exec $NS $(expand ExecStart) >"$T/start.out" 2>&1 || die "ExecStart failed: $(cat "$T/start.out")"
pidfile=$(expand PIDFile)
[ -s "$pidfile" ] || die "no PIDFile $pidfile"
pid=$(cat "$pidfile")
kill -0 "$pid" 2>/dev/null || die "PIDFile names $pid, not running"
grep -q '^vm0 state=up .*guest=external' "$T/run/multivm/status" || die "status: $(cat "$T/run/multivm/status")"
grep -q '^vx4096 state=up .*guest=tunnel' "$T/run/multivm/status" || die "status: $(cat "$T/run/multivm/status")"
# shellcheck disable=SC2046
$(expand ExecStop) >/dev/null 2>&1 || die "ExecStop failed"
wait_for 10 sh -c "! kill -0 $pid" || die "supervisor $pid still running after ExecStop"
say "make install, systemd-analyze verify, ExecStart/ExecStop of multivm@a: ok"
say "PASS"
