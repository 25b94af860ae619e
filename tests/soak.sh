#!/bin/sh
# Soak: every VM floods every other with pings for SOAK_SECONDS. Then the
# VMMs' resident memory must not have grown, and the counters must balance
# exactly: frames the guests sent = frames delivered + frames dropped. To
# make that exact, the flood is unicast only (static neighbours, no IPv6),
# and counters are compared as differences over the soak.
# Usage: soak.sh BUILD   (make soak; SOAK_SECONDS, default 180)
set -u
MV=$(realpath "$1/multivm")
secs=${SOAK_SECONDS:-180}
TEST_NAME=soak
. "$(dirname "$0")/e2e/lib.sh"

"$MV" run --detach --timeout 300 >/dev/null || die "run failed"
for a in 0 1 2; do
	cmd="sysctl -qw net.ipv6.conf.all.disable_ipv6=1"
	for b in 0 1 2; do
		[ $a = $b ] && continue
		cmd="$cmd; arp -i eth0 -s 192.168.1.$((b + 1)) 52:54:00:4d:56:0$((b + 1))"
	done
	"$MV" exec vm$a -- "$cmd" || die "setting up vm$a"
done
# The VMM's own memory (heap, stacks): RssAnon. VmRSS also counts the guest
# RAM pages it touched, which grows with the guest's buffers, not with us.
rss() { awk -v k="$2:" '$1 == k { print $2 }' /proc/"$1"/status; }
vmms=$(sed -n 's/.*vmm=\([0-9]*\).*/\1/p' "$STATE/status")
# Counters and memory once everything has settled.
quiet() {
	snap
	! awk '/^link / { split($3, f, "="); split($5, d, "="); if (f[2] != d[2]) bad = 1 } END { exit !bad }' \
		"$STATE/stats.out"
}
sum() { awk -v k="$1" -v p="$2" 'index($0, p) == 1 { for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] ~ k) s += kv[2] } } END { print s + 0 }' "$STATE/stats.out"; }
wait_for 30 quiet || die "links never settled"
tx0=$(sum '^tx_frames$' 'vm '); rx0=$(sum '^rx_frames$' 'vm '); drop0=$(sum '^drop_' 'vm ')
for p in $vmms; do eval "rss0_$p=$(rss "$p" RssAnon)"; done

say "flooding for $secs s"
for a in 0 1 2; do
	peers=
	for b in 0 1 2; do [ $a = $b ] || peers="$peers 192.168.1.$((b + 1))"; done
	"$MV" exec --timeout $((secs + 60)) vm$a -- \
		"for p in $peers; do ping -q -i 0.002 -s 1200 -w $secs \$p >/tmp/soak.\$p 2>&1 & done; wait; cat /tmp/soak.*" \
		>"$STATE/flood.vm$a" 2>&1 &
done
wait
wait_for 60 quiet || die "links never settled after the flood"
tx=$(($(sum '^tx_frames$' 'vm ') - tx0)); rx=$(($(sum '^rx_frames$' 'vm ') - rx0))
drop=$(($(sum '^drop_' 'vm ') - drop0))
cat "$STATE/stats.out"
say "guests sent $tx frames; delivered $rx; dropped $drop (by reason above)"
[ "$tx" -gt 1000 ] || die "the flood sent only $tx frames"
[ "$tx" -eq $((rx + drop)) ] || die "counters do not balance: $tx != $rx + $drop"
for p in $vmms; do
	eval "before=\$rss0_$p"
	after=$(rss "$p" RssAnon)
	say "VMM $p own memory (RssAnon): $before kB before, $after kB after; VmRSS with guest pages $(rss "$p" VmRSS) kB"
	[ "$after" -eq "$before" ] || die "VMM $p grew from $before to $after kB"
done
say "PASS"
