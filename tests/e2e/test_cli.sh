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
