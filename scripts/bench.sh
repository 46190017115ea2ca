#!/usr/bin/env bash
# Reproduces the training-throughput, scaling and compression figures in
# README: hepgnn bench on 1 rank x 1 thread, 2 ranks x 1 thread and 1 rank x
# 2 threads, REPEAT times each (default 3), interleaved so machine noise hits
# all variants alike; prints medians. Run on an otherwise idle machine.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
hepgnn="$here/build/bin/hepgnn"
repeat="${REPEAT:-3}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
if [[ ! -f out/bench/graphs.h5 ]]; then
    "$hepgnn" simulate --out out/bench/events --events 12 --particles 7000 >/dev/null 2>&1
    "$hepgnn" prepare --input out/bench/events --out out/bench/graphs.h5 \
        --config configs/prepare_trackml_barrel.yaml >/dev/null 2>&1
fi
mkdir -p out/bench/reports
for i in $(seq 1 "$repeat"); do
    "$hepgnn" bench --config configs/bench.yaml --report "out/bench/reports/np1_t1_$i.json" >/dev/null 2>&1
    mpirun --oversubscribe --bind-to none -np 2 "$hepgnn" bench --config configs/bench.yaml \
        --report "out/bench/reports/np2_t1_$i.json" >/dev/null 2>&1
    "$hepgnn" bench --config configs/bench.yaml --set training.threads=2 \
        --report "out/bench/reports/np1_t2_$i.json" >/dev/null 2>&1
done
/usr/bin/python3 - out/bench/reports <<'PY'
import glob, json, statistics, sys
d = sys.argv[1]
def med(variant, key, section="wl-scores"):
    vals = [json.load(open(f))[section][key] for f in sorted(glob.glob(f"{d}/{variant}_*.json"))]
    return statistics.median(vals), len(vals)
base, n = med("np1_t1", "graphs_per_s")
print(f"median of {n} runs; throughput = graphs (edges) of all ranks / epoch time, epochs 2..N")
print(f"{'variant':<22}{'graphs/s':>10}{'edges/s':>12}{'epoch s':>10}{'speedup':>9}{'data wait':>11}")
for v, name in (("np1_t1", "1 rank x 1 thread"), ("np2_t1", "2 ranks x 1 thread"), ("np1_t2", "1 rank x 2 threads")):
    g, _ = med(v, "graphs_per_s"); e, _ = med(v, "edges_per_s"); t, _ = med(v, "mean_epoch_time_s")
    w, _ = med(v, "data_wait_fraction", "wl-stats")
    print(f"{name:<22}{g:>10.2f}{e:>12.0f}{t:>10.2f}{g / base:>8.2f}x{100 * w:>10.2f}%")
r = json.load(open(sorted(glob.glob(f"{d}/np1_t1_*.json"))[0]))["wl-stats"]["compression"]
print(f"store {r['codec']}: {r['raw_bytes'] / 1e6:.1f} MB raw -> {r['compressed_bytes'] / 1e6:.1f} MB (ratio {r['ratio']:.2f})")
PY
