#!/bin/sh
# Link policy: without a vm1-vm2 link, vm1 cannot reach vm2 at all, not
# even by broadcast (ARP); a guest that changes its MAC address cannot send.
TEST_NAME=policy
. "$(dirname "$0")/lib.sh"

"$MV" run --detach --timeout 300 "$(dirname "$0")/configs/chain.ini" >/dev/null || die "run failed"
"$MV" exec vm1 -- ping -c 2 -W 5 192.168.1.1 >/dev/null || die "vm1 -> vm0 (linked) failed"
status_is 1 "$MV" exec vm1 -- ping -c 2 -W 2 192.168.1.3 || die "vm1 reached vm2 without a link"
status_is 1 "$MV" exec vm1 -- arping -c 2 -w 3 -I eth0 192.168.1.3 || die "vm1's ARP reached vm2"
snap
[ "$(stat_of "vm vm2" rx_frames)" -eq 0 ] || die "vm2 received $(stat_of "vm vm2" rx_frames) frames"
grep -q 'link vm1->vm2\|link vm2->vm1' "$STATE/stats.out" && die "a vm1-vm2 link exists"
arp=$("$MV" exec vm2 -- cat /proc/net/arp) || die "exec in vm2"
echo "$arp" | grep -q 192.168.1.2 && die "vm2 learnt vm1's address"

# vm1 takes another MAC: from then on nothing it sends leaves its VMM.
"$MV" exec vm1 -- 'ip link set eth0 down; ip link set eth0 address 52:54:00:00:00:99; ip link set eth0 up; ip neigh flush dev eth0'
snap
before=$(stat_of "link vm1->vm0" frames)
spoofed=$(stat_of "vm vm1" drop_spoofed)
status_is 1 "$MV" exec vm1 -- ping -c 2 -W 2 192.168.1.1 || die "vm1 sent with a forged MAC"
snap
[ "$(stat_of "link vm1->vm0" frames)" = "$before" ] || die "frames with a forged MAC crossed the link"
[ "$(stat_of "vm vm1" drop_spoofed)" -ge $((spoofed + 2)) ] || die "spoofed frames not counted: $(cat "$STATE/stats.out")"
say "PASS"
