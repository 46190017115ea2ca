#!/usr/bin/env bash
# Reproduces the model-step figures in README (issue #7): one training step of
# the interaction network (DESIGN §3.3 defaults, 2 threads) fast vs plain on
# 5k nodes / 30k edges and on 50k / 300k (linear growth), the two forms
# alternated in one process so that a noisy spell hits both, one Adam step on a
# 150k-node / 1.35M-edge graph with checkpointing (peak memory), HEP.TrkX's
# AGNN with sparse vs dense message passing (time and memory), and the
# kernels beside the torch ops they replace. Medians of REPEAT runs (default
# 5); memory figures come from separate processes. Run on an idle machine.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench="$here/build/bin/hepgnn_bench_models"
repeat="${REPEAT:-5}"
out="${OUT:-$here/out/bench_models}"
mkdir -p "$out"
run() {  # name filter [extra args]
    local name="$1" filter="$2"; shift 2
    "$bench" --benchmark_filter="$filter" --benchmark_format=json "$@" >"$out/$name.json" 2>/dev/null
}
run steps 'BM_ModelStepPair/' --benchmark_repetitions="$repeat"
run kernels 'BM_(SegmentSum|IndexAdd|GatherAdd|IndexSelectAdd|LayerNormRelu|TorchLayerNormRelu|RowBlockedMatmul|TorchMatmul)/' --benchmark_repetitions="$repeat"
run big 'BM_BigGraphStep'
for v in 0 1; do
    for n in 1000 5000; do run "agnn_${v}_$n" "BM_AgnnStep/dense:$v/nodes:$n/"; done
done
/usr/bin/python3 - "$out" <<'PY'
import glob, json, statistics, sys
out = sys.argv[1]
def rows(name):
    b = json.load(open(f"{out}/{name}.json"))["benchmarks"]
    by = {}
    for r in b:
        if r.get("run_type") == "aggregate": continue
        by.setdefault(r["run_name"], []).append(r)
    return by
def med(rs, key="real_time"): return statistics.median(r[key] for r in rs)
steps = rows("steps")
# Each run alternates fast and plain steps (BM_ModelStepPair); medians over the runs of its
# per-run medians and of its median per-round ratio.
print("| graph | threads | fast (ms) | plain (ms) | plain / fast |")
print("|---|---|---|---|---|")
fast = {}
for name, rs in sorted(steps.items(), key=lambda kv: (len(kv[0]), kv[0])):
    n, e, t = (name.split(f"{k}:")[1].split("/")[0] for k in ("nodes", "edges", "threads"))
    fast[(e, t)] = med(rs, "fast_ms")
    print(f"| {n} nodes / {e} edges | {t} | {med(rs, 'fast_ms'):.0f} | {med(rs, 'plain_ms'):.0f} | "
          f"{med(rs, 'plain_over_fast'):.2f}x |")
if ("300000", "2") in fast:
    print(f"\nfast step, 300k / 30k edges (2 threads): {fast[('300000', '2')] / fast[('30000', '2')]:.2f}x")
k = rows("kernels")
print("\n| kernel (200k edges x 64, threads) | ms | torch op it replaces | ms |")
# LayerNormRelu: bias + LayerNorm + ReLU forward and backward, fused vs torch's ops.
# RowBlockedMatmul: x W^T forward, dx and dW, panel kernel vs torch::matmul (OpenBLAS).
print("|---|---|---|---|")
for ours, theirs in (("BM_SegmentSum", "BM_IndexAdd"), ("BM_GatherAdd", "BM_IndexSelectAdd"),
                     ("BM_LayerNormRelu", "BM_TorchLayerNormRelu"),
                     ("BM_RowBlockedMatmul", "BM_TorchMatmul")):
    for t in (1, 2):
        a = med(k[f"{ours}/threads:{t}/real_time"]) / 1e6
        b = med(k[f"{theirs}/threads:{t}/real_time"]) / 1e6
        print(f"| {ours[3:]} ({t}) | {a:.1f} | {theirs[3:]} | {b:.1f} |")
big = list(rows("big").values())[0]
print(f"\n150k nodes / 1.35M edges, checkpointing, forward+backward+Adam: {med(big):.1f} s per step, "
      f"peak RSS {big[-1]['peak_rss_mb'] / 1024:.2f} GB")
print("\n| AGNN (H=64, 8 iterations, tanh) | sparse ms | sparse peak MB | dense ms | dense peak MB | dense / sparse |")
print("|---|---|---|---|---|---|")
for n, e in (("1000", "6000"), ("5000", "30000")):
    s = list(rows(f"agnn_0_{n}").values())[0]; d = list(rows(f"agnn_1_{n}").values())[0]
    print(f"| {n} nodes / {e} edges | {med(s):.0f} | {s[-1]['peak_rss_mb']:.0f} | {med(d):.0f} | "
          f"{d[-1]['peak_rss_mb']:.0f} | {med(d) / med(s):.1f}x |")
PY
