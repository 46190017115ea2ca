#!/usr/bin/env bash
# Graph-building benchmark (issue #14), on one core (taskset -c 0):
#   * hepgnn modulemap over 100 simulated 10,000-particle events;
#   * hepgnn prepare (detector: full) of one 10,000-particle event, and of one
#     20,000-particle event (the cost must grow about linearly: <= 3x);
#   * the module-vs-layer coverage study (scripts/module_map_study.py).
# Each timing is the median of RUNS runs of the whole command (reading CSV
# included), 10k and 20k alternating so that machine noise hits both alike.
# Env: OUT (default out/bench_graphs), RUNS (default 5), EVENTS (default 100).
# Writes $OUT/bench_graphs.json and prints a table.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
hepgnn="${HEPGNN:-$here/build/bin/hepgnn}"
out="${OUT:-$here/out/bench_graphs}"
runs="${RUNS:-5}"
events="${EVENTS:-100}"
one_core=(taskset -c 0)
mkdir -p "$out"

if [[ ! -f "$out/train/event$(printf %09d $((1000 + events - 1)))-hits.csv" ]]; then
    "$hepgnn" simulate --out "$out/train" --events "$events" --particles 10000 --first-event 1000
fi
for n in 10000 20000; do
    [[ -d "$out/one_$n" ]] || "$hepgnn" simulate --out "$out/one_$n" --events 1 --particles "$n" \
        --first-event 9000
done

# seconds COMMAND...: wall time of one run.
seconds() {
    local t0=$EPOCHREALTIME
    "$@" >/dev/null 2>&1 || { echo "bench_graphs: failed: $*" >&2; exit 1; }
    awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.4f\n", b - a}'
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

mm=()
for ((i = 0; i < runs; ++i)); do
    mm+=("$(seconds "${one_core[@]}" "$hepgnn" modulemap --input "$out/train" --out "$out/map.json" --set geometry=trackml_like)")
done
p10=() p20=()
for ((i = 0; i < runs; ++i)); do
    for n in 10000 20000; do
        t=$(seconds "${one_core[@]}" "$hepgnn" prepare --input "$out/one_$n" --out "$out/one_$n.h5" \
            --config "$here/configs/prepare_full.yaml" --set module_map="$out/map.json")
        if [[ $n == 10000 ]]; then p10+=("$t"); else p20+=("$t"); fi
    done
done
"$hepgnn" inspect "$out/one_10000.h5" --json >"$out/inspect_10000.json"
"$hepgnn" inspect "$out/one_20000.h5" --json >"$out/inspect_20000.json"
/usr/bin/python3 "$here/scripts/module_map_study.py" "$out/train" "$out/one_10000" \
    --sizes 1,10,50,"$events" --json "$out/module_map_study.json"

/usr/bin/python3 - "$out" "$(median "${mm[@]}")" "$(median "${p10[@]}")" "$(median "${p20[@]}")" \
    "$events" "$runs" <<'PY'
import json, sys
out, mm, p10, p20, events, runs = sys.argv[1], *map(float, sys.argv[2:5]), int(sys.argv[5]), int(sys.argv[6])
i10 = json.load(open(f"{out}/inspect_10000.json"))
i20 = json.load(open(f"{out}/inspect_20000.json"))
report = {
    "modulemap_s": mm, "modulemap_events": events,
    "prepare_10k_s": p10, "prepare_20k_s": p20, "ratio_20k_10k": p20 / p10,
    "hits_10k": i10["hits"], "edges_10k": i10["edges"]["total"],
    "edges_per_hit_10k": i10["edges_per_hit"], "true_edge_fraction_10k": i10["true_edge_fraction"],
    "hits_20k": i20["hits"], "edges_20k": i20["edges"]["total"],
    "edges_per_hit_20k": i20["edges_per_hit"], "runs": runs, "cores": 1,
}
json.dump(report, open(f"{out}/bench_graphs.json", "w"), indent=1)
print(f"modulemap, {events} events x 10k particles, 1 core: {mm:.1f} s (median of {runs}; target < 60 s)")
print(f"prepare, one 10k-particle event ({i10['hits']} hits -> {i10['edges']['total']} edges, "
      f"{i10['edges_per_hit']:.2f} per hit, true fraction {i10['true_edge_fraction']:.3f}): {p10:.2f} s (target < 1.5 s)")
print(f"prepare, one 20k-particle event ({i20['hits']} hits -> {i20['edges']['total']} edges, "
      f"{i20['edges_per_hit']:.2f} per hit): {p20:.2f} s; 20k / 10k = {p20 / p10:.2f} (target <= 3)")
PY
