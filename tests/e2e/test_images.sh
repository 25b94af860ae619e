#!/bin/sh
# Your own guest (multivm.ini(5), YOUR OWN GUEST; issue 27), one boot per
# guest and one more of vm2: a system of vm0, the built-in guest, two
# Debian guests from scripts/mkimage.sh's image, shared, each under its
# own overlay, and vm3, a guest with no agent. The three ways a Debian
# guest boots, each once:
#  - vm1 boots the disk by its own bootloader through BIOS firmware
#    (SeaBIOS, GRUB in the BIOS boot partition) with multivm's cloud-init
#    seed and an ssh_key; vm2 the disk by its own bootloader through UEFI
#    firmware (OVMF with its own variables, GRUB at EFI/BOOT/BOOTX64.EFI),
#    persist = yes; vm3's image is one boot sector that halts (SeaBIOS
#    boots it; no agent will ever answer), and `multivm apply` adds it
#    to the running system: its overlay and cloud-init seed made as run
#    makes them;
#  - vm3 is up with agent=none and `exec` on it fails within its timeout
#    saying so; vm0, vm1 and vm2 reach agent=up; exec: hostname = the VM's
#    name, eth0 has its configured address, exit status, stdout and stderr
#    come back from the built-in guest and a Debian guest, the key is the
#    default user's; all six ordered pairs of vm0, vm1, vm2 ping; iperf3
#    from vm1 to vm2 (offloads on) runs and its figure is printed; vm2
#    writes a file;
#  - apply without vm3 removes it and its overlay and seed;
#  - after stop: the image's sha256 is unchanged, vm1's overlay and seeds
#    are gone, vm2's persist overlay and variables are kept;
#  - vm2 alone runs again on them, now by direct kernel + initrd + append
#    (still UEFI): its file is there;
#  - refused before anything starts: a missing image, a qcow2 with a
#    backing file of its own, a raw image too small.
# The image is cached outside the build (make image; MULTIVM_TEST_IMAGE).
TEST_NAME=images
. "$(dirname "$0")/lib.sh"

IMG=${MULTIVM_TEST_IMAGE:-/var/cache/multivm/debian12.qcow2}
[ -f "$IMG" ] && [ -f "$IMG.vmlinuz" ] && [ -f "$IMG.initrd" ] ||
	skip "no test image $IMG (make image builds it; make test does)"
command -v cloud-localds >/dev/null || die "cloud-localds missing (apt-get install cloud-image-utils)"

# Fixtures the run user must be able to reach: not in the 0700 state dir.
FIX=$(mktemp -d /tmp/mvimg.XXXXXX)
chmod 755 "$FIX"
trap 'rm -rf "$FIX"; cleanup' EXIT
ssh-keygen -q -t ed25519 -N '' -C mvtest -f "$FIX/key" || die "ssh-keygen failed"
chmod 644 "$FIX/key.pub"

# Refusals name file and line (every message: tests/unit/test_image.c).
qemu-img create -q -f qcow2 -F qcow2 -b "$IMG" "$FIX/top.qcow2" || die "qemu-img create failed"
truncate -s 4096 "$FIX/small.img"
refused "2: [vm vm1] image: $FIX/missing.qcow2: no such file" "[vm vm1]\nimage = $FIX/missing.qcow2\n"
refused "2: [vm vm1] image: $FIX/top.qcow2: names a backing file of its own ($IMG): refused, QEMU would read that host file too; set image_backing = yes if you trust it, or flatten it (qemu-img convert -O qcow2)" \
	"[vm vm1]\nimage = $FIX/top.qcow2\n"
refused "3: [vm vm1] image: $FIX/small.img: too small for a disk (4096 bytes; at least 1048576)" \
	"[vm vm1]\nmemory = 512M\nimage = $FIX/small.img\n"
[ ! -e "$STATE/supervisor.pid" ] || die "a refused config started something"

# vm3's disk: a boot sector of cli; hlt; jmp back, in the 1 MiB the
# image checks ask for.
printf '\372\364\353\375' >"$FIX/halt.img"
printf '\125\252' | dd of="$FIX/halt.img" bs=1 seek=510 conv=notrunc status=none
truncate -s 1M "$FIX/halt.img"

sum=$(sha256sum <"$IMG")
# Its MAC stated: cloud-init matched eth0 by it at the first boot, and
# vm2 alone would get another (by place) in the second run.
vm2="[vm vm2]
memory = 512M
address = 192.168.1.12/24
mac = 52:54:00:4d:56:0c
image = $IMG
firmware = uefi
persist = yes"
cat >"$FIX/images.ini" <<INI
[system]
engine = tcg
[vm vm0]
[vm vm1]
memory = 512M
image = $IMG
firmware = bios
ssh_key = $FIX/key.pub
$vm2
[links]
vm0 = vm1
vm0 = vm2
vm1 = vm2
INI
# vm3 comes by apply, after the others (the last [vm]), with its link.
sed '/^\[links\]/,$d' "$FIX/images.ini" >"$FIX/with3.ini"
printf '[vm vm3]\nmemory = 64M\nimage = %s\n[links]\nvm0 = vm1\nvm0 = vm2\nvm1 = vm2\nvm0 = vm3\n' \
	"$FIX/halt.img" >>"$FIX/with3.ini"
"$MV" check "$FIX/images.ini" || die "check refused the config"
"$MV" check "$FIX/with3.ini" || die "check refused the config with vm3"
start=$(date +%s)
"$MV" run --detach --timeout 120 "$FIX/images.ini" || die "run failed"
for f in vm1.overlay.qcow2 vm1.seed.img vm2.persist.qcow2 vm2.persist.vars.fd vm2.seed.img; do
	[ -f "$STATE/$f" ] || die "no $STATE/$f"
done
out=$("$MV" apply "$FIX/with3.ini" 2>&1) || die "apply adding vm3 failed: $out"
for f in vm3.overlay.qcow2 vm3.seed.img; do
	[ -f "$STATE/$f" ] || die "apply made no $STATE/$f"
done
[ "$(qemu-img info -U --output=json "$STATE/vm3.overlay.qcow2" | grep -c '"backing-filename": "'"$FIX/halt.img"'"')" -eq 1 ] ||
	die "vm3's overlay does not lie over its image"

# No agent: up, agent=none, and exec gives up in its time, saying so.
vm3_up() { grep -q '^vm3 state=up .* agent=none' "$STATE/status"; }
wait_for 60 vm3_up || die "vm3 not up with agent=none: $(grep ^vm3 "$STATE/status")"
t0=$(date +%s)
"$MV" exec --timeout 5 vm3 -- true 2>"$FIX/err" && die "exec on vm3 (no agent) succeeded"
t=$(($(date +%s) - t0))
[ "$(cat "$FIX/err")" = "multivm: exec: vm3: no guest agent answered on org.qemu.guest_agent.0 in 5 s; install qemu-guest-agent in the image" ] ||
	die "exec on vm3 said: $(cat "$FIX/err")"
[ $t -le 7 ] || die "exec on vm3 took $t s, its timeout 5 s"
grep -q '^vm3 state=up .* agent=none' "$STATE/status" || die "vm3: $(grep ^vm3 "$STATE/status")"
say "vm3 (no agent, added by apply): agent=none, exec refused in $t s"

# Exit status, stdout and stderr, from the built-in guest and a Debian one.
roundtrip() {
	out=$("$MV" exec --timeout 60 "$1" -- 'echo out; echo err >&2; exit 7' 2>"$FIX/err")
	[ $? -eq 7 ] && [ "$out" = out ] && [ "$(cat "$FIX/err")" = err ] ||
		die "exec on $1 did not round-trip: '$out' $(cat "$FIX/err")"
}
vm0_up() { grep -q '^vm0 state=up .* agent=up' "$STATE/status"; }
wait_for 120 vm0_up || die "vm0 not up: $(grep ^vm0 "$STATE/status")"
roundtrip vm0

agents_up() { [ "$(grep -c ' agent=up' "$STATE/status")" -eq 3 ]; }
wait_for 600 agents_up || die "agents not up in 600 s: $(cat "$STATE/status")"
say "all agents up $(($(date +%s) - start)) s after run"

for vm in vm1 vm2; do
	[ "$("$MV" exec --timeout 60 $vm -- hostname)" = $vm ] || die "$vm: hostname is not $vm"
done
"$MV" exec vm1 -- ip -4 -o addr show dev eth0 | grep -q ' 192.168.1.2/24 ' ||
	die "vm1's eth0: $("$MV" exec vm1 -- ip -o addr)"
"$MV" exec vm2 -- ip -4 -o addr show dev eth0 | grep -q ' 192.168.1.12/24 ' ||
	die "vm2's eth0: $("$MV" exec vm2 -- ip -o addr)"
roundtrip vm2
"$MV" exec vm1 -- cat /home/debian/.ssh/authorized_keys | grep -qF "$(cut -d' ' -f2 "$FIX/key.pub")" ||
	die "vm1: the ssh_key is not the default user's"
"$MV" exec vm2 -- test -d /sys/firmware/efi || die "vm2 did not boot through UEFI"
"$MV" exec vm1 -- test ! -d /sys/firmware/efi || die "vm1 booted through UEFI, not BIOS"
# The image starts its agent itself (not only cloud-init's bootcmd).
wanted=$("$MV" exec vm1 -- systemctl show -p WantedBy --value qemu-guest-agent)
case " $wanted " in
*" multi-user.target "*) ;;
*) die "vm1: qemu-guest-agent is wanted by '$wanted', not multi-user.target" ;;
esac
# GRUB names the kernel it loaded (BOOT_IMAGE=); a direct kernel boot has none.
for vm in vm1 vm2; do
	"$MV" exec $vm -- grep -q BOOT_IMAGE= /proc/cmdline || die "$vm did not boot by its bootloader: $("$MV" exec $vm -- cat /proc/cmdline)"
done
for a in 0:192.168.1.1 1:192.168.1.2 2:192.168.1.12; do
	for b in 0:192.168.1.1 1:192.168.1.2 2:192.168.1.12; do
		[ "$a" = "$b" ] && continue
		"$MV" exec --timeout 30 "vm${a%%:*}" -- ping -c 2 -W 5 "${b#*:}" >/dev/null ||
			die "vm${a%%:*} cannot ping vm${b%%:*} (${b#*:})"
	done
done
say "all six ordered pairs of vm0, vm1, vm2 answer ping"

# Two Debian guests, offloads on (the default): iperf3 runs.
"$MV" exec vm2 -- iperf3 -s -D >/dev/null || die "vm2: iperf3 -s failed"
listening() { "$MV" exec vm2 -- 'ss -ltn | grep -q :5201'; }
wait_for 10 listening || die "vm2: iperf3 not listening"
"$MV" exec --timeout 60 vm1 -- iperf3 -c 192.168.1.12 -t 3 -f m >"$FIX/iperf" ||
	die "iperf3 vm1 -> vm2 failed: $(tail -3 "$FIX/iperf")"
rate=$(awk '/receiver/ { for (i = 1; i < NF; i++) if ($(i + 1) == "Mbits/sec") r = $i } END { print r }' "$FIX/iperf")
[ -n "$rate" ] || die "no receiver figure from iperf3: $(tail -3 "$FIX/iperf")"
say "iperf3 vm1 -> vm2 (Debian guests, offloads on, 3 s): $rate Mbit/s"

# apply without vm3: it goes, and its overlay and seed with it.
out=$("$MV" apply "$FIX/images.ini" 2>&1) || die "apply removing vm3 failed: $out"
grep -q '^vm3 ' "$STATE/status" && die "vm3 still in status after apply removed it"
for f in vm3.overlay.qcow2 vm3.seed.img; do
	[ ! -e "$STATE/$f" ] || die "$STATE/$f left after apply removed vm3"
done
say "apply removed vm3 and its overlay and seed"

token=$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')
"$MV" exec vm2 -- "echo $token >/var/tmp/mvpersist && sync" || die "vm2: cannot write its file"

"$MV" stop --timeout 60 || die "stop failed"
[ "$(sha256sum <"$IMG")" = "$sum" ] || die "the image changed"
for f in vm1.overlay.qcow2 vm1.seed.img vm2.seed.img vm3.overlay.qcow2; do
	[ ! -e "$STATE/$f" ] || die "$STATE/$f left after stop"
done
[ -s "$STATE/vm2.persist.qcow2" ] && [ -s "$STATE/vm2.persist.vars.fd" ] || die "vm2's persist overlay or variables are gone"
[ "$(qemu-img info -U --output=json "$STATE/vm2.persist.qcow2" | grep -c '"backing-filename": "'"$IMG"'"')" -eq 1 ] ||
	die "the persist overlay does not lie over $IMG"
say "first run: $(($(date +%s) - start)) s from run to after stop"

# persist = yes: vm2 alone, again, on its kept overlay and variables, by
# direct kernel boot.
printf '[system]\nengine = tcg\n%s\nkernel = %s\ninitrd = %s\nappend = root=LABEL=mvroot ro\n' \
	"$vm2" "$IMG.vmlinuz" "$IMG.initrd" >"$FIX/again.ini"
again=$(date +%s)
"$MV" run --detach --timeout 120 "$FIX/again.ini" || die "second run failed"
vm2_up() { grep -q '^vm2 state=up .* agent=up' "$STATE/status"; }
wait_for 600 vm2_up || die "vm2's agent not up again: $(cat "$STATE/status")"
[ "$("$MV" exec vm2 -- cat /var/tmp/mvpersist)" = "$token" ] || die "vm2's file did not persist across stop and run"
cmd=$("$MV" exec vm2 -- cat /proc/cmdline)
case "$cmd" in
*BOOT_IMAGE=*|'') die "vm2's second boot was not the direct kernel: '$cmd'" ;;
esac
"$MV" exec vm2 -- test -d /sys/firmware/efi || die "vm2's second boot is not UEFI"
"$MV" stop --timeout 60 || die "second stop failed"
[ -s "$STATE/vm2.persist.qcow2" ] || die "vm2's persist overlay is gone after the second stop"
say "vm2's file kept across stop and run (second run $(($(date +%s) - again)) s)"
say "ok ($(($(date +%s) - start)) s from run to after the second stop)"
