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
for target in trackml_csv graph_file config module_map checkpoint; do
    inputs=("$work/seeds/$target")
    [[ -d $HEPGNN_SOURCE_DIR/fuzz/regressions/$target ]] && inputs+=("$HEPGNN_SOURCE_DIR/fuzz/regressions/$target")
    "$REPLAY_DIR/hepgnn_fuzz_replay_$target" "${inputs[@]}" || { echo "FAIL: $target" >&2; exit 1; }
done
