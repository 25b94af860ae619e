#!/bin/sh
# The state directory is trusted only when it is ours alone, and a pid file
# left by a crashed supervisor never makes multivm act on another process.
TEST_NAME=cli
. "$(dirname "$0")/lib.sh"

# A world-writable state directory is refused before anything starts.
bad="$STATE/shared"
mkdir -m 0777 "$bad"
chmod 0777 "$bad"
out=$("$MV" -S "$bad" run --detach --no-guests 2>&1) && die "run used a world-writable state directory"
echo "$out" | grep -q "state directory $bad must be a directory owned by" || die "run said: $out"
[ -e "$bad/status" ] && die "run started something in $bad"

# A state directory too long for the paths it must hold (a VM named "a"
# makes the console log the longest) is refused up front, not half used.
long="$STATE/$(printf '%0*d' $((96 - ${#STATE})) 0)"
mkdir -m 0700 "$long"
printf '[vm a]\n[vm b]\n' >"$STATE/ab.ini"
out=$("$MV" -S "$long" run --detach --no-guests "$STATE/ab.ini" 2>&1) && die "run used a state directory too long"
echo "$out" | grep -q "state directory $long is too long" || die "run said: $out"

# QEMU runs as the unprivileged user and must pass through every directory
# above the state directory to reconnect after a VMM restart: a state
# directory below one it cannot enter is refused before anything starts.
if [ "$(id -u)" -eq 0 ]; then
	chmod 0700 "$STATE"
	out=$("$MV" -S "$STATE/nk" run --detach "$(dirname "$0")/configs/pair.ini" 2>&1) &&
		die "run used a state directory QEMU could not reach"
	echo "$out" | grep -q "which cannot pass through $STATE (mode 0700)" || die "run said: $out"
	[ -e "$STATE/nk" ] && die "run created $STATE/nk before refusing it"
	chmod 0711 "$STATE"
fi

# A guest that can never boot (the "kernel" is a text file): run --detach
# says so after three failed starts instead of waiting out its timeout,
# and leaves nothing running.
printf '[system]\nkernel = /etc/hostname\n[vm a]\n' >"$STATE/nokernel.ini"
out=$("$MV" -S "$STATE/nk" run --detach --timeout 600 "$STATE/nokernel.ini" 2>&1) && die "a guest without a kernel came up"
echo "$out" | grep -q 'a: QEMU exited with status 1, 3 times in a row before the guest was up' || die "run said: $out"
status_is 1 "$MV" -S "$STATE/nk" status || die "something still runs after the failed run"

# The benchmarks' bare QEMU guests (bench/boot.sh, tcp.sh): multivm's own
# QEMU command line, one argument a line, with only eth0's netdev, its
# vhost-user-only vectors=0, and the console replaced; agent-exec gives
# up on a socket nobody serves with exec's status for its own failure.
"$MV" -S "$STATE/q" qemu-argv --engine tcg "$STATE/ab.ini" a >"$STATE/a.argv" || die "qemu-argv failed"
"$MV" -S "$STATE/q" qemu-argv --engine tcg --netdev user --serial "$STATE/a.log" --nic-opts rx_queue_size=1024 \
	"$STATE/ab.ini" a >"$STATE/a.bare" || die "qemu-argv with a bare guest's options failed"
[ "$(head -n 1 "$STATE/a.argv")" = qemu-system-x86_64 ] && grep -qx "socket,id=agent,path=$STATE/q/a.agent,server=on,wait=off" "$STATE/a.bare" ||
	die "qemu-argv printed: $(cat "$STATE/a.argv")"
gone=$(grep -vxFf "$STATE/a.bare" "$STATE/a.argv" | sed 's/path=[^,]*/path=P/; s/^\(virtio-net-pci\),.*,vectors=0$/\1 vectors=0/' | tr '\n' ' ')
[ "$gone" = "socket,id=con,path=P,server=on,wait=off chardev:con socket,id=vu,path=P,reconnect=1 vhost-user,id=net0,chardev=vu virtio-net-pci vectors=0 " ] ||
	die "qemu-argv --netdev --serial --nic-opts took away: $gone"
new=$(grep -vxFf "$STATE/a.argv" "$STATE/a.bare" | sed 's/^\(virtio-net-pci\),.*,\(rx_queue_size=1024\)$/\1 \2/' | tr '\n' ' ')
[ "$new" = "file:$STATE/a.log user,id=net0 virtio-net-pci rx_queue_size=1024 " ] || die "qemu-argv --netdev --serial --nic-opts added: $new"
status_is 2 "$MV" qemu-argv "$STATE/ab.ini" nosuchvm || die "qemu-argv took a VM the config does not have"
status_is 255 "$MV" agent-exec --timeout 1 "$STATE/none.agent" -- true || die "agent-exec without an agent"

# A stale pid file naming an unrelated live process: not a running system.
sleep 300 &
other=$!
trap 'kill $other 2>/dev/null; cleanup' EXIT
echo "$other" >"$STATE/supervisor.pid"
status_is 1 "$MV" status || die "status took pid $other (sleep) for a supervisor"
"$MV" run --detach --no-guests "$(dirname "$0")/configs/pair.ini" >/dev/null || die "run refused over a stale pid file"
"$MV" status | grep -q '^vm0 state=' || die "no status after run"
"$MV" stop || die "stop failed"
kill -0 "$other" || die "stop signalled the unrelated process"
say "PASS"
