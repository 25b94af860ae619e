#!/bin/sh
# A libvirt domain as a member of a multivm system: vm0 is multivm's own
# guest, vm1 (guest = external) is configs/libvirt-vm1.xml started by
# libvirt under TCG on vm1's VMM socket. vm0 pings it, both directions of
# the link count the frames, and a restarted VMM gets the domain back.
# libvirt's QEMU runs as libvirt-qemu, reaching the socket as a member of
# group multivm (README.md, "libvirt guests"). vm2 (no domain) names
# libvirt-qemu as its frontend_user: only that uid gets in. Needs libvirt-daemon-system
# and libvirt-clients (scripts/deps.sh test); starts libvirtd itself when
# none is running (no systemd here), and stops all it started on exit.
TEST_NAME=libvirt
. "$(dirname "$0")/lib.sh"
URI=qemu:///system
DOM=mvt-libvirt-$$
LV=$(mktemp -d /tmp/mvl.XXXXXX)
lvd=
logd=
added_group=

virsh_() { virsh -q -c "$URI" "$@"; }
# A child of ours that has exited but is not reaped yet counts as gone.
gone() { ! kill -0 "$1" 2>/dev/null || grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null; }
stop_pid() {
	[ -n "$1" ] || return 0
	kill "$1" 2>/dev/null
	wait_for 20 gone "$1" || kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
lv_cleanup() {
	if [ "$1" -ne 0 ] && [ "$1" -ne 77 ]; then
		for f in "$LV"/*.log /var/log/libvirt/qemu/$DOM.log; do
			[ -f "$f" ] || continue
			echo "---- $f (last 30 lines)"
			tail -n 30 "$f"
			echo
		done
	fi
	virsh_ destroy "$DOM" >/dev/null 2>&1
	# libvirt's QEMU, should the daemon not answer any more.
	if [ -f "/run/libvirt/qemu/$DOM.pid" ]; then
		kill -9 "$(cat "/run/libvirt/qemu/$DOM.pid")" 2>/dev/null
	fi
	stop_pid "$lvd"
	stop_pid "$logd"
	[ -z "$added_group" ] || gpasswd -d libvirt-qemu "$grp" >/dev/null
	rm -f "/var/log/libvirt/qemu/$DOM.log"
	rm -rf "$LV"
	cleanup
}
trap 'lv_cleanup $?' EXIT

[ "$(id -u)" -eq 0 ] || skip "libvirt's system daemon (qemu:///system) needs root; this runs as uid $(id -u)"
for c in virsh libvirtd virtlogd gpasswd; do
	command -v $c >/dev/null || die "$c missing (scripts/deps.sh test installs libvirt-daemon-system and libvirt-clients)"
done
id libvirt-qemu >/dev/null 2>&1 || die "no user libvirt-qemu (package libvirt-daemon-system creates it)"
grp=$(id -gn multivm) || die "no user multivm (scripts/deps.sh creates it)"
bindir=$(dirname "$MV")
GUEST=${MULTIVM_GUEST_DIR:-$bindir/guest}
[ -f "$GUEST/initramfs.cpio.gz" ] || GUEST=$bindir/../guest
[ -f "$GUEST/initramfs.cpio.gz" ] && [ -f "$GUEST/vmlinuz" ] || die "no guest image in $GUEST"

# The documented set-up: libvirt's QEMU user in the group of multivm's run
# user (undone on exit if we did it).
if ! id -nG libvirt-qemu | tr ' ' '\n' | grep -qx "$grp"; then
	gpasswd -a libvirt-qemu "$grp" >/dev/null || die "cannot add libvirt-qemu to group $grp"
	added_group=1
fi

# libvirt: the running daemon, else our own (no systemd to start one).
if virsh_ version >/dev/null 2>&1; then
	say "using the libvirt daemon already running"
else
	virtlogd --pid-file "$LV/virtlogd.pid" >"$LV/virtlogd.log" 2>&1 &
	logd=$!
	# --timeout: should this test be killed outright, an idle daemon leaves.
	libvirtd --timeout 600 --pid-file "$LV/libvirtd.pid" >"$LV/libvirtd.log" 2>&1 &
	lvd=$!
	if ! wait_for 60 virsh_ version; then
		gone "$lvd" && skip "libvirtd cannot run here: $(grep -i error "$LV/libvirtd.log" | tail -n 1)"
		die "libvirtd did not answer in 60 s"
	fi
	say "started libvirtd (pid $lvd) and virtlogd (pid $logd)"
fi

start=$(date +%s)
"$MV" run --detach --timeout 300 "$(dirname "$0")/configs/external.ini" >/dev/null || die "run failed"
say "vm0 up, vm1's VMM serving in $(($(date +%s) - start)) s"
"$MV" status >"$STATE/status.out" || die "status failed"
grep -q '^vm1 state=up vmm=[1-9][0-9]* qemu=0 engine=tcg console=- log_bytes_dropped=0 guest=external$' \
	"$STATE/status.out" || die "vm1's status: $(cat "$STATE/status.out")"
grep -q '^vm0 state=up vmm=[1-9][0-9]* qemu=[1-9][0-9]* .*log_bytes_dropped=0 agent=up$' "$STATE/status.out" ||
	die "vm0's status: $(cat "$STATE/status.out")"
# Only the external VM's socket is open to the group; vm0's is its QEMU's.
[ "$(stat -c '%a %u %G' "$STATE/vm1.vhost")" = "660 $(id_of 1 qemu) $grp" ] ||
	die "vm1.vhost: $(stat -c '%a %u %G' "$STATE/vm1.vhost")"
[ "$(stat -c '%a %u' "$STATE/vm0.vhost")" = "700 $(id_of 0 qemu)" ] || die "vm0.vhost is $(stat -c '%a %u' "$STATE/vm0.vhost")"
# vm2 names its frontend (frontend_user = libvirt-qemu): its socket is that
# uid's alone, which gets in; a member of group multivm (whom vm1's socket
# lets in) does not, by the mode, and with the mode opened it is refused
# on accept (SO_PEERCRED), counted.
HF=${HOSTILE:?HOSTILE must name build/tools/hostile_frontend}
lq=$(id -u libvirt-qemu)
case $(stat -c '%a %u' "$STATE/vm2.vhost") in
[67]00" $lq") ;;
*) die "vm2.vhost is $(stat -c '%a %u' "$STATE/vm2.vhost"), not uid $lq's alone" ;;
esac
setpriv --reuid="$lq" --regid="$(id -g libvirt-qemu)" --init-groups "$HF" send "$STATE/vm2.vhost" "$(mac_of 2)" "$(mac_of 0)" 1 ||
	die "libvirt-qemu, vm2's frontend_user, cannot use vm2's socket"
as_mv() { setpriv --reuid=multivm --regid="$grp" --init-groups "$@"; }
out=$(as_mv /usr/bin/python3 -c '
import socket, sys
socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).connect(sys.argv[1])' "$STATE/vm2.vhost" 2>&1) &&
	die "user multivm connected to vm2's socket"
echo "$out" | grep -q PermissionError || die "user multivm connecting to vm2's socket: $out"
chmod 0666 "$STATE/vm2.vhost"
as_mv "$HF" send "$STATE/vm2.vhost" "$(mac_of 2)" "$(mac_of 0)" 1 >/dev/null 2>&1 && die "vm2's VMM accepted user multivm"
chmod 0600 "$STATE/vm2.vhost"
vm2_refused() { snap; [ "$(stat_of "vm vm2" vu_peer_refused)" = 1 ]; }
wait_for 10 vm2_refused || die "vm2's refusal not counted: $(grep '^vm vm2 ' "$STATE/stats.out")"
grep -q "refusing a frontend of uid $(id -u multivm): only uid $lq may connect" "$STATE/vm2.vmm.log" ||
	die "vm2's VMM did not log the refusal: $(tail -n 5 "$STATE/vm2.vmm.log")"
say "vm2 (frontend_user = libvirt-qemu): socket mode $(stat -c %a "$STATE/vm2.vhost") uid $lq, it gets in; user multivm (group $grp) refused by mode, and on accept (vu_peer_refused=1)"

out=$("$MV" exec vm1 -- true 2>&1)
[ $? -eq 255 ] && echo "$out" | grep -q 'external guest' || die "exec into the external vm1: $out"

# The shipped domain, with this test's paths and a name of its own. The
# guest image is copied: libvirt chowns a domain's kernel while it runs.
cp "$GUEST/vmlinuz" "$GUEST/initramfs.cpio.gz" "$LV/"
chmod 755 "$LV"
sed -e "s|<name>vm1</name>|<name>$DOM</name>|" \
	-e "s|/path/to/multivm/build/guest/|$LV/|" \
	-e "s|/run/multivm/vm1.vhost|$STATE/vm1.vhost|" \
	-e "s|/var/log/libvirt/qemu/vm1-console.log|$LV/console.log|" \
	"$(dirname "$0")/../../configs/libvirt-vm1.xml" >"$LV/domain.xml"
for want in "<name>$DOM<" "$LV/vmlinuz" "$LV/initramfs" "$STATE/vm1.vhost" "$LV/console.log" "name='vectors'"; do
	grep -q "$want" "$LV/domain.xml" || die "configs/libvirt-vm1.xml no longer has what the test edits ($want)"
done
start=$(date +%s)
out=$(timeout 120 virsh -c "$URI" create "$LV/domain.xml" 2>&1) || die "virsh create: $out"
qpid=$(cat "/run/libvirt/qemu/$DOM.pid") || die "no pid file for $DOM"
# libvirt's QEMU is not root: it is libvirt-qemu, in group multivm.
grep -q "^Uid:[[:space:]]*$(id -u libvirt-qemu)[[:space:]]" "/proc/$qpid/status" ||
	die "libvirt's QEMU runs as $(grep ^Uid: "/proc/$qpid/status")"
grep '^Groups:' "/proc/$qpid/status" | grep -qw "$(getent group "$grp" | cut -d: -f3)" ||
	die "libvirt's QEMU is not in group $grp: $(grep ^Groups: "/proc/$qpid/status")"
# The CPU model multivm gives its own TCG guests: no ERMS (qemu.c).
tr '\0' ' ' <"/proc/$qpid/cmdline" | grep -Eq -- '-cpu max,.*erms=(off|false)' ||
	die "libvirt's QEMU has not the CPU model without ERMS: $(tr '\0' ' ' <"/proc/$qpid/cmdline" | grep -o -- '-cpu [^ ]*')"
wait_for 180 grep -q 'multivm: vm1 ready' "$LV/console.log" || die "the libvirt guest did not boot in 180 s"
say "libvirt guest up in $(($(date +%s) - start)) s"

# The ping went both ways over the link, and nothing was dropped: the
# domain's MAC is vm1's, so nothing counts as spoofed.
ping_ok() {
	out=$("$MV" exec vm0 -- ping -c 2 -W 5 192.168.1.2) || die "vm0 -> vm1 ping failed: $out"
	echo "$out" | grep -q '2 packets received' || die "vm0 -> vm1 lost packets: $out"
}
# balanced MIN01 MIN10: each direction carried at least that many frames,
# and delivered all of them (once those in flight have landed).
balanced() {
	snap
	for d in "vm0->vm1 $1" "vm1->vm0 $2"; do
		sent=$(stat_of "link ${d% *}" frames)
		got=$(stat_of "link ${d% *}" delivered)
		[ "${sent:-0}" -ge "${d#* }" ] && [ "$sent" -eq "$got" ] || return 1
	done
}
ping_ok
say "vm0 -> 192.168.1.2 (libvirt): ok"
wait_for 20 balanced 3 3 || die "links do not balance: $(cat "$STATE/stats.out")"
for v in vm0 vm1; do
	for k in drop_queue_full drop_no_link drop_spoofed drop_malformed drop_link_down drop_disabled vq_errors vu_bad_messages; do
		[ "$(stat_of "vm $v" $k)" = 0 ] || die "$v: $k = $(stat_of "vm $v" $k)"
	done
done
[ "$(stat_of "vm vm1" vu_connected)" = 1 ] || die "vm1: libvirt's QEMU is not connected"
cat "$STATE/stats.out"

# vm1's VMM dies: the supervisor restarts it and libvirt's QEMU reconnects
# (<reconnect enabled='yes'/>), without libvirt doing anything.
vmm=$(pid_of vm1 vmm)
kill -9 "$vmm"
reconnected() {
	snap
	[ "$(stat_of "vm vm1" vmm_starts)" = 2 ] && [ "$(stat_of "vm vm1" vu_connected)" = 1 ]
}
wait_for 60 reconnected || die "libvirt's QEMU did not reconnect to the restarted VMM: $(cat "$STATE/stats.out")"
s01=$(stat_of "link vm0->vm1" frames)
s10=$(stat_of "link vm1->vm0" frames)
ping_ok
wait_for 20 balanced $((s01 + 2)) $((s10 + 2)) || die "links do not balance after the restart: $(cat "$STATE/stats.out")"
say "after a VMM restart, vm0 -> 192.168.1.2 (libvirt): ok"
say "PASS"
