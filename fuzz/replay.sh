#!/usr/bin/env bash
# ctest fuzz_replay: each fuzz target's code, built with a plain main(), over
# fresh seeds and over the findings kept in fuzz/regressions/<target>/ (inputs
# that once crashed or misbehaved; fixed since). Fails on any crash, sanitizer
# report or error message that breaks the one-line rule.
set -euo pipefail
: "${HEPGNN:?}" "${HEPGNN_SOURCE_DIR:?}" "${REPLAY_DIR:?}"
work="$(mktemp -d -t hepgnn-replay.XXXXXX)"
trap 'rm -rf "$work"' EXIT
bash "$HEPGNN_SOURCE_DIR/fuzz/make_seeds.sh" "$work/seeds" >/dev/null
# Every target fuzz/CMakeLists.txt builds (HEPGNN_FUZZ_TARGETS).
shopt -s nullglob
bins=("$REPLAY_DIR"/hepgnn_fuzz_replay_*)
((${#bins[@]})) || { echo "FAIL: no replay binaries in $REPLAY_DIR" >&2; exit 1; }
for bin in "${bins[@]}"; do
    target="${bin##*/hepgnn_fuzz_replay_}"
    [[ -d $work/seeds/$target ]] || { echo "FAIL: make_seeds.sh makes no seeds for $target" >&2; exit 1; }
    inputs=("$work/seeds/$target")
    [[ -d $HEPGNN_SOURCE_DIR/fuzz/regressions/$target ]] && inputs+=("$HEPGNN_SOURCE_DIR/fuzz/regressions/$target")
    "$bin" "${inputs[@]}" || { echo "FAIL: $target" >&2; exit 1; }
done
