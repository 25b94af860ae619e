#!/bin/sh
# The console multiplexer as a user drives it, in a pseudo-terminal (tmux):
# switch with Return @ N (and @ # N Return), type in the shown VM, an @ mid-line reaches the
# guest, output printed while another VM was shown appears on switching,
# Return @ ? lists, `multivm console` attaches and detaches, and Return ~ .
# stops a foreground `multivm run`.
TEST_NAME=console
. "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || die "tmux missing (apt-get install tmux)"

T=mvt$$
export TMUX_TMPDIR="$STATE"
trap 'tmux kill-server 2>/dev/null; cleanup' EXIT
tmux new-session -d -s $T -n run -x 160 -y 50 "'$MV' run; echo RUN-EXITED-\$?; sleep 60"

screen() { tmux capture-pane -p -J -S - -t "$1"; }
# shows PANE TEXT: TEXT appears on the pane (whole-line match with -x).
shows() { screen "$1" | grep -q -- "$2"; }
shows_line() { screen "$1" | tr -d '\r' | grep -qx -- "$2"; }
keys() { tmux send-keys -t "$1" -l -- "$2"; }
enter() { tmux send-keys -t "$1" Enter; }
all_up() { [ "$("$MV" status | grep -c '^vm[0-9] state=up')" -eq 3 ]; }

wait_for 300 all_up || die "system did not come up: $(screen $T:run)"
wait_for 30 shows $T:run 'vm0:~#' || die "no vm0 prompt: $(screen $T:run)"

# vm2 prints while vm0 is shown: it must not be lost.
"$MV" exec vm2 -- 'echo MARK-WHILE-HIDDEN >/dev/console' || die "exec in vm2"
wait_for 20 grep -q MARK-WHILE-HIDDEN "$STATE/vm2.console.log" || die "vm2's output never reached its console log"

enter $T:run; keys $T:run '@1'
wait_for 20 shows $T:run 'showing vm1' || die "no switch to vm1: $(screen $T:run)"
enter $T:run; keys $T:run 'hostname'; enter $T:run
wait_for 20 shows_line $T:run 'vm1' || die "hostname in vm1 not shown: $(screen $T:run)"
keys $T:run 'echo a@b@1'; enter $T:run
wait_for 20 shows_line $T:run 'a@b@1' || die "@ mid-line did not reach the guest: $(screen $T:run)"

shows $T:run 'MARK-WHILE-HIDDEN' && die "vm2's output was shown while another VM was: $(screen $T:run)"
enter $T:run; keys $T:run '@2'
wait_for 20 shows $T:run 'showing vm2' || die "no switch to vm2"
wait_for 20 shows $T:run 'MARK-WHILE-HIDDEN' || die "vm2's output from while hidden is lost: $(screen $T:run)"
enter $T:run; keys $T:run '@?'
wait_for 20 shows $T:run '@1  vm1' || die "no VM list: $(screen $T:run)"
enter $T:run; keys $T:run '@0'
wait_for 20 shows $T:run 'showing vm0' || die "no switch back to vm0"

status_is 1 "$MV" console vm9 || die "console to a VM that does not exist did not fail"
# A second terminal attaches to vm2, then detaches: the system stays up.
tmux new-window -t $T -n c "'$MV' console vm2; echo CONSOLE-EXITED-\$?; sleep 60"
wait_for 20 shows $T:c 'showing vm2' || die "multivm console did not attach: $(screen $T:c)"
enter $T:c; keys $T:c 'hostname'; enter $T:c
wait_for 20 shows_line $T:c 'vm2' || die "typing through multivm console: $(screen $T:c)"
# Return @ # N Return: a decimal index (any VM of up to 64).
enter $T:c; keys $T:c '@#99'; enter $T:c
wait_for 20 shows $T:c 'no such VM' || die "@#99 was not refused: $(screen $T:c)"
enter $T:c; keys $T:c '@#1'; enter $T:c
wait_for 20 shows $T:c 'showing vm1' || die "no switch to vm1 with @#1: $(screen $T:c)"
enter $T:c; keys $T:c '~.'
wait_for 20 shows $T:c 'CONSOLE-EXITED-0' || die "console did not detach: $(screen $T:c)"
all_up || die "detaching a console changed the system: $("$MV" status)"

# Return ~ . in the foreground run stops the whole system.
enter $T:run; keys $T:run '~.'
wait_for 60 shows $T:run 'RUN-EXITED-0' || die "run did not stop: $(screen $T:run)"
"$MV" status >/dev/null 2>&1 && die "system still running after Return ~ ."
say "PASS"
