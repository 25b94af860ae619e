#!/bin/sh
# vm0's eth1 through QEMU user-mode networking: `udhcpc -i eth1` gets a
# lease, configures route and DNS, and vm0 fetches a file from an HTTP
# server on the host's loopback through the user-mode gateway. vm1, which
# has no passthrough, has no eth1.
TEST_NAME=passthrough-user
. "$(dirname "$0")/lib.sh"

mkdir -p "$STATE/www"
echo "multivm passthrough $$ $(date +%s)" >"$STATE/www/file.txt"
port=$((20000 + $$ % 20000))
busybox httpd -f -p "127.0.0.1:$port" -h "$STATE/www" &
httpd=$!
trap 'kill $httpd 2>/dev/null; cleanup' EXIT

"$MV" run --detach --timeout 300 || die "run failed"
status_is 1 "$MV" exec vm1 -- test -e /sys/class/net/eth1 || die "vm1 has an eth1"
# As a user types it: udhcpc gets a lease, then stays in the background.
out=$("$MV" exec --timeout 90 vm0 -- udhcpc -i eth1) || die "no DHCP lease on eth1: $out"
out=$("$MV" exec vm0 -- ip addr show eth1) || die "ip addr"
echo "$out" | grep -q 'inet 10\.0\.2\.15/24' || die "eth1 not configured: $out"
"$MV" exec vm0 -- ip route | grep -q 'default via 10.0.2.2 dev eth1' || die "no default route via eth1"
"$MV" exec vm0 -- cat /etc/resolv.conf | grep -q 'nameserver 10.0.2.3' || die "no DNS server"
got=$("$MV" exec vm0 -- wget -q -O - "http://10.0.2.2:$port/file.txt") || die "wget failed: $got"
[ "$got" = "$(cat "$STATE/www/file.txt")" ] || die "fetched '$got'"
say "PASS"
