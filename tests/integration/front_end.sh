#!/usr/bin/env bash
# Note [Torch-free front end]: hepgnn links no torch, runs the data and scoring commands
# itself and hands every other command line to ../libexec/hepgnn-torch.
source "$(dirname "$0")/common.sh"

if ldd "$HEPGNN" | grep -q libtorch; then fail "hepgnn links libtorch: $(ldd "$HEPGNN" | grep libtorch)"; fi
ldd "$(dirname "$HEPGNN")/../libexec/hepgnn-torch" | grep -q libtorch || fail "hepgnn-torch does not link libtorch"

# The whole command list, from hepgnn-torch, under the name the user typed.
"$HEPGNN" --help >"$WORK/help.txt"
for command in simulate prepare inspect train evaluate bench export infer modulemap score; do
    grep -qE "^  $command " "$WORK/help.txt" || fail "'hepgnn --help' does not list $command"
done
grep -q "Usage: $HEPGNN " "$WORK/help.txt" || fail "help does not name $HEPGNN: $(grep Usage "$WORK/help.txt")"
"$HEPGNN" train --help | grep -q -- "--config" || fail "'hepgnn train --help' lacks --config"
"$HEPGNN" --version | grep -q "hepgnn 0.1.0" || fail "--version"
expect_error "config" "$HEPGNN" train --config "$WORK/missing.yaml"

# Alone, hepgnn still runs its own commands and says what is missing for the others.
mkdir -p "$WORK/bin"
cp "$HEPGNN" "$WORK/bin/hepgnn"
"$WORK/bin/hepgnn" simulate --out "$WORK/events" --events 1 --particles 50 >/dev/null ||
    fail "simulate needs hepgnn-torch"
[[ -f $WORK/events/event000001000-hits.csv ]] || fail "simulate wrote no event"
expect_error "hepgnn-torch" "$WORK/bin/hepgnn" train --help
echo "front_end: ok"
