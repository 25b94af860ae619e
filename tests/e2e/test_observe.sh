#!/bin/sh
# Machine-readable state and the live view, on a guest-less pair: frames
# from a hostile frontend (some spoofed, some to nobody), then
# `status --json` and `stats --json` parse and carry exactly the values of
# the text output, `stats --prometheus` passes a strict exposition-format
# check with the same values, damaged stats files are survived, and `top`
# shows frames/s on the link while traffic flows (batch mode, and in a
# terminal: q quits, SIGTERM ends it, the terminal is restored both times).
TEST_NAME=observe
. "$(dirname "$0")/lib.sh"
HF=${HOSTILE:?HOSTILE must name build/tools/hostile_frontend}
command -v python3 >/dev/null || die "python3 missing (apt-get install python3)"
command -v tmux >/dev/null || die "tmux missing (apt-get install tmux)"
M0=$(mac_of 0)
M1=$(mac_of 1)
T=mvo$$
export TMUX_TMPDIR="$STATE"
traffic=
stop_all() {
	touch "$STATE/stop-traffic"
	[ -n "$traffic" ] && kill "$traffic" 2>/dev/null && wait "$traffic"
	tmux kill-server 2>/dev/null
	cleanup
}
trap stop_all EXIT

started=$(date +%s%N)
"$MV" run --detach --no-guests "$(dirname "$0")/configs/pair.ini" >/dev/null || die "run failed"

# 5 frames to vm1, 3 with a forged source MAC, 2 to a MAC nobody has.
"$HF" send "$STATE/vm0.vhost" $M0 $M1 5 || die "send failed"
"$HF" send "$STATE/vm0.vhost" 52:54:00:4d:56:09 $M1 3 || die "send failed"
"$HF" send "$STATE/vm0.vhost" $M0 52:54:00:4d:56:07 2 || die "send failed"
"$HF" send "$STATE/vm1.vhost" $M1 $M0 4 || die "send failed"
counted() {
	snap
	[ "$(stat_of "vm vm0" tx_frames)" -eq 10 ] && [ "$(stat_of "vm vm1" tx_frames)" -eq 4 ]
}
wait_for 30 counted || die "frames not counted: $(cat "$STATE/stats.out")"
[ "$(stat_of "vm vm0" drop_spoofed)" -eq 3 ] && [ "$(stat_of "vm vm0" drop_no_link)" -eq 2 ] ||
	die "drops not counted by reason: $(cat "$STATE/stats.out")"
# Where the VMMs' time went: some work, each wait for the frontend counted,
# and never more busy time than has passed.
snap
elapsed=$(( $(date +%s%N) - started ))
for v in vm0 vm1; do
	busy=$(stat_of "vm $v" vmm_busy_ns)
	[ "$busy" -gt 0 ] && [ "$busy" -lt "$elapsed" ] && [ "$(stat_of "vm $v" vmm_sleeps)" -ge 1 ] ||
		die "$v: vmm_busy_ns $busy (of $elapsed ns since run), vmm_sleeps $(stat_of "vm $v" vmm_sleeps)"
done
busy0=$(stat_of "vm vm0" vmm_busy_ns)

# Settings on each direction, shown by status and stats in every format.
"$MV" link 'vm0->vm1' set delay=3ms jitter=1ms distribution=normal loss=0.25% loss_correlation=10% \
	corrupt=1% duplicate=2% rate=10mbit seed=77 >/dev/null || die "link set failed"
"$MV" link 'vm1->vm0' down >/dev/null || die "link down failed"

# The system is quiet now: every output must show the same numbers.
"$MV" status >"$STATE/status.txt" || die "status failed"
"$MV" status --json >"$STATE/status.json" || die "status --json failed"
"$MV" stats >"$STATE/stats.txt" || die "stats failed"
"$MV" stats --json >"$STATE/stats.json" || die "stats --json failed"
"$MV" stats --prometheus >"$STATE/stats.prom" || die "stats --prometheus failed"
for f in status.json stats.json; do
	python3 -m json.tool "$STATE/$f" >/dev/null || die "$f is not JSON: $(cat "$STATE/$f")"
done

python3 - "$STATE" <<'PY' || die "the outputs disagree"
import json, re, sys
d = sys.argv[1]
def num(v):
    return int(v) if re.fullmatch(r"[1-9][0-9]*|0", v) else v

# What was set on each direction (multivm link above).
WORDS = {"state", "distribution"}
SET = {"vm0->vm1": {"state": "up", "delay_us": 3000, "jitter_us": 1000, "distribution": "normal",
                    "loss_ppm": 2500, "loss_correlation_ppm": 100000, "corrupt_ppm": 10000,
                    "duplicate_ppm": 20000, "rate_bps": 10000000, "seed": 77},
       "vm1->vm0": {"state": "down", "delay_us": 0, "jitter_us": 0, "distribution": "uniform", "loss_ppm": 0,
                    "loss_correlation_ppm": 0, "corrupt_ppm": 0, "duplicate_ppm": 0, "rate_bps": 0,
                    "seed": 0}}

# status: every key=value of each VM's line, numbers as numbers; then a
# line per link direction with its settings, the same in the JSON.
sj = json.load(open(d + "/status.json"))
status, slinks = sj["vms"], sj["links"]
lines = open(d + "/status.txt").read().splitlines()
assert len(status) == 2 and len(slinks) == 2 and len(lines) == 4 and set(sj) == {"vms", "links"}, (sj, lines)
for line, vm in zip(lines, status):
    words = line.split()
    want = {"name": words[0], **{k: num(v) for k, v in (w.split("=", 1) for w in words[1:])}}
    assert vm == want, (vm, want)
    assert isinstance(vm["vmm"], int) and vm["vmm"] > 0 and vm["state"] == "up", vm
for line, obj in zip(lines[2:], slinks):
    kind, name, *pairs = line.split()
    a, b = name.split("->")
    got = {k: (v if k in WORDS else int(v)) for k, v in (p.split("=", 1) for p in pairs)}
    assert kind == "link" and got == SET[name], (line, SET[name])
    assert obj == {"from": a, "to": b, **got}, (obj, line)

# stats: the same counters, text vs JSON vs Prometheus.
js = json.load(open(d + "/stats.json"))
prom = {}
for line in open(d + "/stats.prom"):
    if not line.startswith("#"):
        series, value = line.rsplit(" ", 1)
        prom[series] = int(value)
metric = {"tx_frames": "tx_frames_total", "tx_bytes": "tx_bytes_total", "rx_frames": "rx_frames_total",
          "rx_bytes": "rx_bytes_total", "vq_errors": "vq_errors_total", "vu_bad_messages": "vu_bad_messages_total",
          "vu_accept_errors": "vu_accept_errors_total", "vu_peer_refused": "vu_peer_refused_total",
          "vu_connected": "vu_connected", "vmm_starts": "vmm_starts_total", "frames": "tx_frames_total",
          "bytes": "tx_bytes_total", "delivered": "delivered_frames_total",
          "delivered_bytes": "delivered_bytes_total", "kicks": "kicks_total", "errors": "errors_total", "up": "up",
          "held": "held_frames", "tx_wait_ms": "tx_wait_milliseconds_total", "duplicated": "duplicated_frames_total", "corrupted": "corrupted_frames_total",
          "vmm_busy_ns": "vmm_busy_nanoseconds_total",
          "delay_us": "delay_microseconds", "jitter_us": "jitter_microseconds", "loss_ppm": "loss_ppm",
          "loss_correlation_ppm": "loss_correlation_ppm", "corrupt_ppm": "corrupt_ppm",
          "duplicate_ppm": "duplicate_ppm", "rate_bps": "rate_bits_per_second", "seed": "seed",
          **{k: k + "_total" for k in ("tx_offload_frames", "tx_tso_frames", "rx_tso_frames", "seg_frames",
                                       "seg_segments", "csum_completed", "vmm_yields", "vmm_sleeps", "remote_down",
                                       "handoff_refused")}}
NDROPS = 12  # drop reasons, common/stats.h DROP__MAX
seen = {"vm": 0, "link": 0}
checked = 0
for line in open(d + "/stats.txt").read().splitlines():
    kind, name, *pairs = line.split()
    if kind == "vm":
        obj = js["vms"][seen["vm"]]
        assert obj["name"] == name and obj["valid"] is True, (obj, name)
        labels = 'vm="%s"' % name
    else:
        obj = js["links"][seen["link"]]
        a, b = name.split("->")
        assert (obj["from"], obj["to"]) == (a, b), (obj, name)
        labels = 'from="%s",to="%s"' % (a, b)
    seen[kind] += 1
    if kind == "link":
        settings = {k: v for k, v in (p.split("=", 1) for p in pairs) if k in SET[name]}
        assert {k: (v if k in WORDS else int(v)) for k, v in settings.items()} == SET[name], (name, settings)
    for k, v in (p.split("=", 1) for p in pairs):
        if kind == "link" and k in WORDS:
            # A word: the JSON's string; in Prometheus a series per word
            # it may take, 1 for this one.
            assert obj[k] == v, (name, k, obj[k], v)
            fam = "multivm_link_%s" % ("state" if k == "state" else "jitter_distribution")
            words = ("up", "down") if k == "state" else ("uniform", "normal")
            for w in words:
                series = '%s{%s,%s="%s"}' % (fam, labels, k, w)
                assert prom[series] == (w == v), (series, prom.get(series), v)
            checked += 1
            continue
        v = int(v)
        if k.startswith("drop_"):
            assert obj["drops"][k[5:]] == v, (name, k, obj["drops"], v)
            series = 'multivm_%s_drops_total{%s,reason="%s"}' % (kind, labels, k[5:])
        else:
            assert obj[k] == v, (name, k, obj[k], v)
            series = "multivm_%s_%s{%s}" % (kind, metric[k], labels)
        assert prom[series] == v, (series, prom.get(series), v)
        checked += 1
    ndrops = sum(1 for k in pairs if k.startswith("drop_"))
    assert len(obj) == len(pairs) - ndrops + 1 + 2, ("JSON has other fields", obj)
assert seen == {"vm": 2, "link": 2} and len(js["vms"]) == 2 and len(js["links"]) == 2, seen
assert checked == 2 * (21 + NDROPS) + 2 * (11 + NDROPS + 10), checked
# Prometheus has no series the text lacks.
assert len(prom) == 2 * (21 + NDROPS + 1) + 2 * (11 + NDROPS + 8 + 2 + 2), len(prom)
PY

# The exposition format, strictly (as node_exporter's textfile collector
# and promtool read it).
python3 - "$STATE/stats.prom" <<'PY' || die "stats --prometheus is not valid exposition format: $(cat "$STATE/stats.prom")"
import re, sys
NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(r"(%s)(?:\{(%s(?:,%s)*)?\})? (\S+)\n" % (NAME, LABEL, LABEL))
types, helps, done, series = {}, set(), set(), set()
current = None
text = open(sys.argv[1]).read()
assert text.endswith("\n") and text.strip(), "empty, or no final newline"
for n, line in enumerate(text.splitlines(True), 1):
    def bad(why):
        sys.exit("line %d: %s: %r" % (n, why, line))
    if line.startswith("#"):
        m = re.fullmatch(r"# (HELP|TYPE) (%s) (.*)\n" % NAME, line)
        if not m:
            bad("comment that is neither HELP nor TYPE")
        kind, name, rest = m.groups()
        if name in done or name == current:
            bad("metadata after the family's samples")
        if kind == "TYPE":
            if name in types:
                bad("second TYPE")
            if rest not in ("counter", "gauge"):
                bad("unexpected type")
            types[name] = rest
        else:
            if name in helps:
                bad("second HELP")
            if not rest or re.search(r"\\[^\\n]", rest):
                bad("empty or badly escaped HELP")
            helps.add(name)
        continue
    m = SAMPLE.fullmatch(line)
    if not m:
        bad("not a sample")
    name, labels, value = m.groups()
    if not name.startswith("multivm_"):
        bad("not a multivm metric")
    if name not in types or name not in helps:
        bad("sample before its HELP and TYPE")
    if name != current:
        if name in done:
            bad("family split in two")
        if current:
            done.add(current)
        current = name
    if types[name] == "counter" and not name.endswith("_total"):
        bad("counter not named *_total")
    if not re.fullmatch(r"[0-9]+", value):
        bad("value is not a non-negative integer")
    names = re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="', labels or "")
    if len(names) != len(set(names)) or not names:
        bad("missing or repeated label")
    key = (name, labels)
    if key in series:
        bad("repeated series")
    series.add(key)
for family in ("multivm_vm_tx_frames_total", "multivm_vm_drops_total", "multivm_vm_vu_connected",
               "multivm_link_tx_frames_total", "multivm_link_drops_total", "multivm_link_up"):
    assert family in types, "no family " + family
assert types["multivm_link_up"] == "gauge" and types["multivm_vm_vu_connected"] == "gauge"
PY

# Damaged state files (short, wrong magic, a FIFO) in a copy of the state
# directory: the readers answer, with no counters for those VMs.
D="$STATE/damaged"
mkdir -m 0700 "$D"
cp "$STATE/supervisor.pid" "$D/"
printf 'vm0 state=up\nvm1 state=up\nvm2 state=up reason=a value with spaces\n' >"$D/status"
head -c 100 "$STATE/vm0.stats" >"$D/vm0.stats"
printf 'MMVMSTS9%01000d' 0 >"$D/vm1.stats"
mkfifo "$D/vm2.stats"
timeout 20 "$MV" -S "$D" stats >"$D/out" 2>"$D/err" || die "stats on damaged files failed: $(cat "$D/err")"
[ "$(grep -c 'no valid counters' "$D/err")" -eq 3 ] || die "damaged files not reported: $(cat "$D/err")"
timeout 20 "$MV" -S "$D" stats --json 2>/dev/null | python3 -m json.tool >/dev/null || die "stats --json on damaged files"
timeout 20 "$MV" -S "$D" status --json | python3 -c '
import json, sys
vm = json.load(sys.stdin)["vms"][2]
assert vm == {"name": "vm2", "state": "up", "reason": "a value with spaces"}, vm' || die "status --json: generic keys"
[ "$(timeout 20 "$MV" -S "$D" stats --prometheus 2>/dev/null | grep -c '^multivm_vm_counters_valid{.*} 0$')" -eq 3 ] ||
	die "stats --prometheus on damaged files"
timeout 20 "$MV" -S "$D" top -b -n 1 -d 0.2 >"$D/top" 2>&1 || die "top on damaged files: $(cat "$D/top")"
[ "$(grep -c '(no valid counters)' "$D/top")" -eq 3 ] || die "top on damaged files: $(cat "$D/top")"

"$MV" link vm0-vm1 reset >/dev/null && "$MV" link vm0-vm1 up >/dev/null || die "link reset failed"

# Traffic both ways, until told to stop (bounded): each vm1 session also
# takes what waits on the link for it, so the link never fills.
(
	i=0
	while [ $i -lt 200 ] && [ ! -e "$STATE/stop-traffic" ]; do
		"$HF" send "$STATE/vm0.vhost" $M0 $M1 20 || exit 1
		"$HF" send "$STATE/vm1.vhost" $M1 $M0 20 || exit 1
		i=$((i + 1))
	done
) &
traffic=$!

# Batch mode: plain text, and frames/s on vm0->vm1 in the second report
# (3 s windows each hold at least one burst of the ~2 s traffic cycle).
flowing() {
	"$MV" top -b -n 2 -d 3 >"$STATE/top.out" 2>&1 &&
		awk '/^multivm top/ { n++ } n == 2 && $1 == "vm0->vm1" && $3 ~ /^[0-9.]+$/ && $3 > 0 { ok++ }
		     n == 2 && $1 == "vm0" && $7 ~ /^[0-9]+\.[0-9]$/ && $7 <= 100 { ok++ }
		     END { exit ok != 2 }' "$STATE/top.out"
}
wait_for 120 flowing || die "top shows no frames/s on vm0->vm1: $(cat "$STATE/top.out")"
[ "$(grep -c '^multivm top' "$STATE/top.out")" -eq 2 ] || die "top -n 2 printed other than 2 reports"
grep -q "$(printf '\033')" "$STATE/top.out" && die "top -b wrote terminal control sequences"
say "$(sed -n '/^LINK/,$p' "$STATE/top.out" | tail -n 3)"

# In a terminal: q quits, SIGTERM ends it, the terminal is as it was.
screen() { tmux capture-pane -p -J -t "$1"; }
shows() { screen "$1" | grep -q -- "$2"; }
tmux new-session -d -s $T -x 150 -y 40 "stty -g >'$STATE/tty.before'; '$MV' top -d 0.5; echo \$? >'$STATE/rc.q';
	stty -g >'$STATE/tty.q'; sh -c 'echo \$\$ >\"$STATE/top.pid\"; exec \"$MV\" top'; echo \$? >'$STATE/rc.term';
	stty -g >'$STATE/tty.term'; sleep 60"
wait_for 30 shows $T 'vm0->vm1  *up  *[0-9]' || die "top in a terminal: $(screen $T)"
tmux send-keys -t $T q
wait_for 20 test -s "$STATE/rc.q" || die "q did not quit top: $(screen $T)"
[ "$(cat "$STATE/rc.q")" = 0 ] || die "top exited $(cat "$STATE/rc.q") after q"
# The shell writes the status first and the terminal's state just after.
wait_for 20 test -s "$STATE/tty.q" || die "no terminal state after q"
cmp -s "$STATE/tty.before" "$STATE/tty.q" ||
	die "terminal not restored after q: before $(cat "$STATE/tty.before"), after $(cat "$STATE/tty.q")"
wait_for 20 test -s "$STATE/top.pid" || die "second top did not start"
# tmux may still show the first top's screen: wait for the second top's own
# SIGTERM handler (bit 15 of SigCgt) as well as for its screen.
catches_term() {
	m=$(sed -n 's/^SigCgt:[[:space:]]*//p' "/proc/$(cat "$STATE/top.pid")/status" 2>/dev/null)
	[ -n "$m" ] && [ $(( 0x$m >> 14 & 1 )) -eq 1 ]
}
wait_for 20 catches_term || die "second top never caught SIGTERM"
wait_for 30 shows $T 'vm0->vm1  *up  *[0-9]' || die "second top in a terminal: $(screen $T)"
kill -TERM "$(cat "$STATE/top.pid")"
wait_for 20 test -s "$STATE/rc.term" || die "SIGTERM did not end top"
[ "$(cat "$STATE/rc.term")" = 143 ] || die "top exited $(cat "$STATE/rc.term") after SIGTERM"
wait_for 20 test -s "$STATE/tty.term" || die "no terminal state after SIGTERM"
cmp -s "$STATE/tty.before" "$STATE/tty.term" ||
	die "terminal not restored after SIGTERM: before $(cat "$STATE/tty.before"), after $(cat "$STATE/tty.term")"

# Read-only: nothing of the above disturbed the VMMs.
touch "$STATE/stop-traffic"
wait "$traffic" || die "the traffic loop failed"
traffic=
"$MV" stats | grep -q '^link vm0->vm1 .* up=1 ' || die "link went down"
snap
[ "$(stat_of "vm vm0" vmm_busy_ns)" -gt "$busy0" ] || die "vm0's vmm_busy_ns did not grow with the traffic"
grep -i -E 'error|malformed|closing' "$STATE"/vm*.vmm.log && die "a VMM logged a problem"
"$MV" stop || die "stop failed"
status_is 1 "$MV" top -b -n 1 || die "top without a running system did not fail"
say "PASS"
