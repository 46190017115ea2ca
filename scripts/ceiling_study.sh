#!/usr/bin/env bash
# How high can the TrackML score go on whole-detector graphs, and at what
# edge cost? For module maps learned with different pT thresholds and range-
# tuning budgets, the graphs' ceiling: `hepgnn evaluate --perfect-edges` (the
# truth labels as edge scores, through the default track building), with the
# edges per event. A few minutes on 2 cores.
# Env: OUT (default out/ceiling_study), SIM_SEED (21), MAP_EVENTS (12),
#   TEST_EVENTS (2), PARTICLES (10000), VARIANTS ("pt_min:max_segment_loss ...").
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
hepgnn="${HEPGNN:-$here/build/bin/hepgnn}"
out="${OUT:-$here/out/ceiling_study}"
seed="${SIM_SEED:-21}"
variants="${VARIANTS:-0.5:0.005 0.2:0.03 0.2:0.06 0.1:0.06 0.1:0.1}"
mkdir -p "$out"
[[ -d "$out/map_events" ]] || "$hepgnn" simulate --out "$out/map_events" --events "${MAP_EVENTS:-12}" \
    --particles "${PARTICLES:-10000}" --seed "$seed" --first-event 100 >/dev/null
[[ -d "$out/test_events" ]] || "$hepgnn" simulate --out "$out/test_events" --events "${TEST_EVENTS:-2}" \
    --particles "${PARTICLES:-10000}" --seed "$((seed + 1))" --first-event 5000 >/dev/null
rows=()
for v in $variants; do
    pt="${v%%:*}" loss="${v##*:}"
    map="$out/map_${pt}_${loss}.json"
    "$hepgnn" modulemap --input "$out/map_events" --out "$map" --set pt_min="$pt" \
        --set max_segment_loss="$loss" >/dev/null
    "$hepgnn" evaluate --perfect-edges --events "$out/test_events" --config configs/prepare_full.yaml \
        --set module_map="$map" --out "$out/eval_${pt}_${loss}" >/dev/null
    rows+=("$pt" "$loss" "$out/eval_${pt}_${loss}/evaluation.json")
done
/usr/bin/python3 - "${rows[@]}" <<'PY'
import json, sys
args = sys.argv[1:]
print("| modulemap pt_min (GeV) | max_segment_loss | edges per event | ceiling: TrackML score | track eff. pT > 1 | pT > 0.5 | duplicate rate |")
print("|---|---|---|---|---|---|---|")
for k in range(0, len(args), 3):
    pt, loss, path = args[k:k + 3]
    e = json.load(open(path))
    n = e["n_events"] if "n_events" in e else len(e["events"])
    print(f"| {pt} | {loss} | {e['n_edges'] / n / 1e6:.2f}M | {e['trackml_score']:.3f} | "
          f"{e['track_efficiency']:.3f} | {e['pt_0.5']['track_efficiency']:.3f} | {e['duplicate_rate']:.3f} |")
PY
