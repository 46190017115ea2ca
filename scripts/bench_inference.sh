#!/usr/bin/env bash
# Reproduces README's inference figures (issue #17), all on 1 rank x THREADS (default 2):
#  1. The GNN stage of `hepgnn infer` from a checkpoint (the fused inference forward) on one
#     whole-detector event, copied REPEAT times under new event ids and run in one process, as
#     infer runs a folder of events: the median over the copies, and the first copy's time
#     (which also maps the pages the later events reuse).
#  2. The same event's graph through hepgnn_torchscript_client, a plain libtorch client: the
#     default export (custom op, libhepgnn_ops.so loaded) and the --portable one (plain ops),
#     REPEAT runs each.
#  3. hepgnn_bench_models BM_InferencePair: fused against the differentiable forward under
#     no-grad (what inference ran before) and plain_forward, alternated in one process, on a
#     synthetic 100k-node / 1M-edge graph; and BM_InferenceBf16Pair: the fused forward in
#     float32 against the same with bfloat16 products (--bf16), alternated the same way.
# Medians throughout. Needs a trained checkpoint and whole-detector test events, as
# scripts/demo.sh leaves them: CKPT (out/demo/train/checkpoints/best.ckpt), EVENTS
# (out/demo/events/test), CONFIG (configs/prepare_full.yaml) with MAP (out/demo/modulemap.json)
# and PREPARE_SET (more config values, e.g. "triplet_filter=true"; the model must have been
# trained on such graphs), OUT (out/bench_inference).
# Run on an idle machine.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ ${1:-} == -h || ${1:-} == --help ]]; then sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
ckpt="${CKPT:-$here/out/demo/train/checkpoints/best.ckpt}"
events="${EVENTS:-$here/out/demo/events/test}"
config="${CONFIG:-$here/configs/prepare_full.yaml}"
map="${MAP:-$here/out/demo/modulemap.json}"
out="${OUT:-$here/out/bench_inference}"
repeat="${REPEAT:-5}"
threads="${THREADS:-2}"
prepare_set=()
for kv in ${PREPARE_SET:-}; do prepare_set+=(--set "$kv"); done
bin="$here/build/bin"
ops="$here/build/lib/libhepgnn_ops.so"
for f in "$ckpt" "$config" "$map" "$ops" "$bin/hepgnn" "$bin/hepgnn_torchscript_client" "$bin/hepgnn_bench_models"; do
    [[ -e $f ]] || { echo "bench_inference.sh: $f is missing (scripts/build.sh; scripts/demo.sh for the model and events)" >&2; exit 1; }
done
hits=$(find "$events" -name 'event*-hits.csv' | sort | head -n 1)
[[ -n $hits ]] || { echo "bench_inference.sh: no event*-hits.csv in $events" >&2; exit 1; }
rm -rf "$out" && mkdir -p "$out/event"
stem="${hits%-hits.csv}"
for r in $(seq "$repeat"); do
    for f in "$stem"-*.csv; do
        cp "$f" "$out/event/$(printf 'event%09d' "$r")-${f##*-}"
    done
done

"$bin/hepgnn" export --checkpoint "$ckpt" --format torchscript --out "$out/fused.pt" >/dev/null
"$bin/hepgnn" export --checkpoint "$ckpt" --format torchscript --portable --out "$out/portable.pt" >/dev/null
"$bin/hepgnn" infer --model "$ckpt" --input "$out/event" --out "$out/infer" --config "$config" \
    --set module_map="$map" ${prepare_set[@]+"${prepare_set[@]}"} --threads "$threads" \
    --save-graphs "$out/graphs.h5" >/dev/null
# The event's section graphs as one graph (sections stay disconnected, as infer batches them).
/usr/bin/python3 - "$out" <<'PY'
import sys, h5py, numpy as np
out = sys.argv[1]
f = h5py.File(f"{out}/graphs.h5")
# The first copy's graphs only (every copy is the same event).
ids = f["event_id"][:]
no = f["node_offsets"][:][: int((ids == ids[0]).sum()) + 1]
eo = f["edge_offsets"][:][: len(no)]
n_nodes, n_edges = no[-1], eo[-1]
s, r = f["senders"][:n_edges].astype("<i8"), f["receivers"][:n_edges].astype("<i8")
for g in range(len(no) - 1):
    s[eo[g]:eo[g + 1]] += no[g]
    r[eo[g]:eo[g + 1]] += no[g]
f["x"][:n_nodes].astype("<f4").tofile(f"{out}/x.f32")
np.stack([s, r]).tofile(f"{out}/ei.i64")
PY
for form in fused portable; do
    lib=()
    [[ $form == fused ]] && lib=(--ops-library "$ops")
    "$bin/hepgnn_torchscript_client" --model "$out/$form.pt" "${lib[@]}" --x "$out/x.f32" --features 3 \
        --edge-index "$out/ei.i64" --repeat "$repeat" --threads "$threads" >"$out/client_$form.txt"
done
"$bin/hepgnn_bench_models" --benchmark_filter='BM_Inference(Bf16)?Pair/' --benchmark_format=json \
    >"$out/pair.json" 2>/dev/null

/usr/bin/python3 - "$out" "$repeat" "$threads" <<'PY'
import json, statistics, sys
out, repeat, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
timing = json.load(open(f"{out}/infer/timing.json"))
gnn = timing["gnn_s_by_event"]
edges = timing["edges"] // timing["events"]
def client(form):
    words = open(f"{out}/client_{form}.txt").read().split()
    return float(words[words.index("median_ms") + 1]) / 1000
report = {"threads": threads, "runs": repeat, "event_edges": edges,
          "infer_checkpoint_gnn_s": statistics.median(gnn), "infer_checkpoint_first_event_gnn_s": gnn[0],
          "torchscript_fused_s": client("fused"), "torchscript_portable_s": client("portable")}
report["fused_over_checkpoint"] = report["torchscript_fused_s"] / report["infer_checkpoint_gnn_s"]
for b in json.load(open(f"{out}/pair.json"))["benchmarks"]:
    report[b["name"].split("/real_time")[0]] = {k: b[k] for k in
        ("fused_ms", "differentiable_ms", "plain_ms", "differentiable_over_fused", "plain_over_fused",
         "fp32_ms", "bf16_ms", "fp32_over_bf16", "max_logit_diff") if k in b}
json.dump(report, open(f"{out}/bench_inference.json", "w"), indent=2)
print(f"one whole-detector event, {edges} edges, {threads} threads, median of {repeat}:")
print(f"  infer from a checkpoint, GNN stage   {report['infer_checkpoint_gnn_s']:.3f} s  "
      f"(first event of the process {gnn[0]:.3f} s)")
print(f"  TorchScript, custom op (C++ client)  {report['torchscript_fused_s']:.3f} s  "
      f"({report['fused_over_checkpoint']:.2f}x the checkpoint)")
print(f"  TorchScript, --portable (C++ client) {report['torchscript_portable_s']:.3f} s")
for k, v in report.items():
    if k.startswith("BM_InferenceBf16"):
        print(f"  {k}: float32 {v['fp32_ms']/1000:.3f} s, bfloat16 products {v['bf16_ms']/1000:.3f} s "
              f"({v['fp32_over_bf16']:.2f}x faster), largest logit difference {v['max_logit_diff']:.4f}")
    elif k.startswith("BM_"):
        print(f"  {k}: fused {v['fused_ms']/1000:.3f} s, differentiable {v['differentiable_ms']/1000:.3f} s "
              f"({v['differentiable_over_fused']:.2f}x), plain {v['plain_ms']/1000:.3f} s ({v['plain_over_fused']:.2f}x)")
PY
