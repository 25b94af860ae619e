#!/bin/sh
# Your own guest (multivm.ini(5), YOUR OWN GUEST; issue 27), one boot per
# guest: two Debian guests from scripts/mkimage.sh's image, shared, each
# under its own overlay:
#  - vm1 boots by its firmware (bios) with multivm's cloud-init seed and an
#    ssh_key; vm2 by direct kernel + initrd + append through UEFI firmware
#    (OVMF, its own variables), persist = yes;
#  - both reach agent=up; exec: hostname = the VM's name, eth0 has its
#    configured address, exit status and stderr come back, the key is the
#    default user's; they ping each other over their link;
#  - after stop: the image's sha256 is unchanged, vm1's overlay and seeds
#    are gone, vm2's persist overlay and variables are kept;
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

sum=$(sha256sum <"$IMG")
cat >"$FIX/images.ini" <<EOF
[system]
engine = tcg
[vm vm1]
memory = 512M
image = $IMG
firmware = bios
ssh_key = $FIX/key.pub
[vm vm2]
memory = 512M
address = 192.168.1.12/24
image = $IMG
kernel = $IMG.vmlinuz
initrd = $IMG.initrd
append = root=LABEL=mvroot ro
firmware = uefi
persist = yes
[links]
vm1 = vm2
EOF
"$MV" check "$FIX/images.ini" || die "check refused the config"
start=$(date +%s)
"$MV" run --detach --timeout 120 "$FIX/images.ini" || die "run failed"
for f in vm1.overlay.qcow2 vm1.seed.img vm2.persist.qcow2 vm2.persist.vars.fd vm2.seed.img; do
	[ -f "$STATE/$f" ] || die "no $STATE/$f"
done
agents_up() { [ "$(grep -c ' agent=up' "$STATE/status")" -eq 2 ]; }
wait_for 600 agents_up || die "agents not up in 600 s: $(cat "$STATE/status")"
say "both agents up $(($(date +%s) - start)) s after run"

for vm in vm1 vm2; do
	[ "$("$MV" exec --timeout 60 $vm -- hostname)" = $vm ] || die "$vm: hostname is not $vm"
done
"$MV" exec vm1 -- ip -4 -o addr show dev eth0 | grep -q ' 192.168.1.1/24 ' ||
	die "vm1's eth0: $("$MV" exec vm1 -- ip -o addr)"
"$MV" exec vm2 -- ip -4 -o addr show dev eth0 | grep -q ' 192.168.1.12/24 ' ||
	die "vm2's eth0: $("$MV" exec vm2 -- ip -o addr)"
out=$("$MV" exec vm2 -- 'echo out; echo err >&2; exit 7' 2>"$FIX/err")
[ $? -eq 7 ] && [ "$out" = out ] && [ "$(cat "$FIX/err")" = err ] || die "exec did not round-trip: '$out' $(cat "$FIX/err")"
"$MV" exec vm1 -- cat /home/debian/.ssh/authorized_keys | grep -qF "$(cut -d' ' -f2 "$FIX/key.pub")" ||
	die "vm1: the ssh_key is not the default user's"
"$MV" exec vm2 -- test -d /sys/firmware/efi || die "vm2 did not boot through UEFI"
"$MV" exec vm1 -- test ! -d /sys/firmware/efi || die "vm1 booted through UEFI, not BIOS"
"$MV" exec vm1 -- ping -c 3 -W 5 192.168.1.12 >/dev/null || die "vm1 cannot ping vm2"
"$MV" exec vm2 -- ping -c 3 -W 5 192.168.1.1 >/dev/null || die "vm2 cannot ping vm1"

"$MV" stop --timeout 60 || die "stop failed"
[ "$(sha256sum <"$IMG")" = "$sum" ] || die "the image changed"
for f in vm1.overlay.qcow2 vm1.seed.img vm2.seed.img; do
	[ ! -e "$STATE/$f" ] || die "$STATE/$f left after stop"
done
[ -s "$STATE/vm2.persist.qcow2" ] && [ -s "$STATE/vm2.persist.vars.fd" ] || die "vm2's persist overlay or variables are gone"
[ "$(qemu-img info -U --output=json "$STATE/vm2.persist.qcow2" | grep -c '"backing-filename": "'"$IMG"'"')" -eq 1 ] ||
	die "the persist overlay does not lie over $IMG"
say "ok ($(($(date +%s) - start)) s from run to after stop)"
