#!/usr/bin/env bash
# Reproduces README's `prepare` scaling figure (issue #17): whole-detector graphs of EVENTS
# (default 20) simulated events of PARTICLES (default 10000) particles, built by
# `mpirun -np 1 hepgnn prepare` and by `mpirun -np 2 hepgnn prepare` (Note [Parallel graph
# file]: no merge), ROUNDS (default 5) rounds, the two alternating which goes first. Prints
# the medians and their ratio, checks that both outputs hold the same datasets and attributes
# element by element, and writes OUT/prepare_scaling.json (OUT: out/bench_prepare).
# BASELINE=/path/to/binary also times that binary the same way in the same rounds (e.g.
# build/libexec/hepgnn-torch: the same prepare, with libtorch loaded at start-up).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ ${1:-} == -h || ${1:-} == --help ]]; then sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
out="${OUT:-$here/out/bench_prepare}"
events="${EVENTS:-20}"
particles="${PARTICLES:-10000}"
rounds="${ROUNDS:-5}"
hepgnn="$here/build/bin/hepgnn"
baseline="${BASELINE:-}"
[[ -x $hepgnn ]] || { echo "bench_prepare.sh: build first (scripts/build.sh)" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mkdir -p "$out"
if [[ ! -f $out/events/event$(printf %09d $((5000 + events - 1)))-hits.csv ]]; then
    rm -rf "$out/events"
    "$hepgnn" simulate --out "$out/events" --events "$events" --particles "$particles" \
        --first-event 5000 >/dev/null
fi
[[ -f $out/modulemap.json ]] ||
    "$hepgnn" modulemap --input "$out/events" --out "$out/modulemap.json" >/dev/null
prepare() {  # $1: ranks, $2: binary, $3: times file
    local start end
    start=$(date +%s.%N)
    mpirun --oversubscribe --bind-to none -np "$1" "$2" prepare --input "$out/events" \
        --out "$out/graphs_np$1.h5" --config "$here/configs/prepare_full.yaml" \
        --set module_map="$out/modulemap.json" >"$out/prepare_np$1.log" 2>&1 ||
        { tail -n 3 "$out/prepare_np$1.log" >&2; echo "bench_prepare.sh: prepare on $1 rank(s) failed" >&2; exit 1; }
    end=$(date +%s.%N)
    echo "$1 $(echo "$end - $start" | bc)" >>"$3"
}
rm -f "$out/times.txt" "$out/times_baseline.txt"
for ((round = 0; round < rounds; ++round)); do
    if [[ -n $baseline ]]; then
        prepare 1 "$baseline" "$out/times_baseline.txt"; prepare 2 "$baseline" "$out/times_baseline.txt"
    fi
    if ((round % 2 == 0)); then
        prepare 1 "$hepgnn" "$out/times.txt"; prepare 2 "$hepgnn" "$out/times.txt"
    else
        prepare 2 "$hepgnn" "$out/times.txt"; prepare 1 "$hepgnn" "$out/times.txt"
    fi
done
/usr/bin/python3 - "$out" "$events" "$particles" <<'PY'
import json, os, statistics, sys
import h5py, numpy as np
out, events, particles = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def read_times(path):  # {ranks: [seconds of each run]}
    times = {1: [], 2: []}
    for line in open(path):
        ranks, seconds = line.split()
        times[int(ranks)].append(float(seconds))
    return times
times = read_times(f"{out}/times.txt")
a, b = h5py.File(f"{out}/graphs_np1.h5"), h5py.File(f"{out}/graphs_np2.h5")
assert sorted(a.keys()) == sorted(b.keys()), (list(a.keys()), list(b.keys()))
for name in a.keys():
    assert a[name].dtype == b[name].dtype and a[name].shape == b[name].shape, name
    assert np.array_equal(a[name][()], b[name][()]), f"dataset {name} differs"
assert sorted(a.attrs.keys()) == sorted(b.attrs.keys())
for name in a.attrs.keys():
    assert np.array_equal(np.asarray(a.attrs[name]), np.asarray(b.attrs[name])), f"attribute {name} differs"
one, two = statistics.median(times[1]), statistics.median(times[2])
report = {"events": events, "particles": particles, "graphs": int(a["event_id"].shape[0]),
          "edges": int(a["senders"].shape[0]), "seconds_np1": times[1], "seconds_np2": times[2],
          "median_np1_s": one, "median_np2_s": two, "ratio_np2_over_np1": two / one,
          "identical_datasets": sorted(a.keys())}
if os.path.exists(f"{out}/times_baseline.txt"):
    base = read_times(f"{out}/times_baseline.txt")
    b1, b2 = statistics.median(base[1]), statistics.median(base[2])
    report.update({"baseline_seconds_np1": base[1], "baseline_seconds_np2": base[2],
                   "baseline_median_np1_s": b1, "baseline_median_np2_s": b2,
                   "baseline_ratio_np2_over_np1": b2 / b1})
    print(f"baseline: 1 rank {b1:.2f} s, 2 ranks {b2:.2f} s, ratio {b2 / b1:.3f}")
json.dump(report, open(f"{out}/prepare_scaling.json", "w"), indent=1)
print(f"prepare, {events} events of {particles} particles ({report['edges']} edges): "
      f"1 rank {one:.2f} s, 2 ranks {two:.2f} s (medians of {len(times[1])}), ratio {two / one:.3f}; "
      f"all {len(report['identical_datasets'])} datasets and the attributes identical")
PY
