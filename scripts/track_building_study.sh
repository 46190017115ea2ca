#!/usr/bin/env bash
# Reproduces the comparison of track building methods (Note [Track building
# methods] in pipeline/track_building.cpp): simulated 10,000-particle events,
# a module map learned on other events, whole-detector graphs from prepare,
# then every method on perfect edge scores (the graphs' labels) and on seeded
# noisy ones, scored with the TrackML metric over all hits of each event.
# About a minute on 2 cores.
#
# Usage: scripts/track_building_study.sh
# Env: OUT (default out/track_building_study), SIM_SEED (11), MAP_EVENTS (20),
#   TEST_EVENTS (5), PARTICLES (10000), NOISE_SEED (1), BUILD_DIR (build).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
bin="${BUILD_DIR:-$here/build}/bin"
out="${OUT:-$here/out/track_building_study}"
seed="${SIM_SEED:-11}"
particles="${PARTICLES:-10000}"
for b in hepgnn hepgnn_track_building_study; do
    [[ -x $bin/$b ]] || { echo "track_building_study: build first (scripts/build.sh): $bin/$b" >&2; exit 1; }
done
mkdir -p "$out"
rm -rf "$out/map_events" "$out/test_events"
"$bin/hepgnn" simulate --out "$out/map_events" --events "${MAP_EVENTS:-20}" --particles "$particles" \
    --seed "$seed" --first-event 100 >/dev/null
"$bin/hepgnn" modulemap --input "$out/map_events" --out "$out/modulemap.json" >/dev/null
"$bin/hepgnn" simulate --out "$out/test_events" --events "${TEST_EVENTS:-5}" --particles "$particles" \
    --seed "$((seed + 1))" --first-event 5000 >/dev/null
"$bin/hepgnn" prepare --input "$out/test_events" --out "$out/test.h5" --config configs/prepare_full.yaml \
    --set module_map="$out/modulemap.json"
"$bin/hepgnn_track_building_study" --graphs "$out/test.h5" --events "$out/test_events" \
    --seed "${NOISE_SEED:-1}" --json "$out/study.json"
