#!/usr/bin/env bash
# Export and inference (issue #5): TorchScript in Python torch and ONNX in ONNX
# Runtime give hepgnn's own logits (1e-5 / 1e-4) on real graphs and on a graph
# whose edges crowd onto few receivers; infer writes a submission; bad models,
# non-model files and events without edges get clear errors or empty results.
source "$(dirname "$0")/common.sh"
NODE="${NODE:-node}"
ORT_DIR="$HEPGNN_SOURCE_DIR/build/onnxruntime/node_modules/onnxruntime-node"
export ONNXRUNTIME_NODE_DIR="${ONNXRUNTIME_NODE_DIR:-$ORT_DIR}"

small_graphs "$WORK/train.h5" 21 3
# A hub graph in the file format of DESIGN §3.2: most edges share 5 receivers.
"$PYTHON" - "$WORK/hub.h5" "$WORK/train.h5" <<'PY'
import sys, h5py, numpy as np
rng = np.random.default_rng(1)
n, e = 300, 4000
s = rng.integers(0, n, e).astype("i4")
r = np.where(rng.random(e) < 0.8, rng.integers(0, 5, e), rng.integers(0, n, e)).astype("i4")
with h5py.File(sys.argv[1], "w") as f:
    f.attrs["format"] = "hepgnn-graphs"
    f.attrs["version"] = 1
    f.attrs["feature_names"] = np.array(["r", "phi", "z"], dtype=object)
    f.attrs["feature_scale"] = h5py.File(sys.argv[2]).attrs["feature_scale"]  # the model's
    f["node_offsets"] = np.array([0, n], "i8"); f["edge_offsets"] = np.array([0, e], "i8")
    f["event_id"] = np.array([1], "i8"); f["section_id"] = np.array([0], "i4")
    f["x"] = rng.standard_normal((n, 3)).astype("f4")
    f["senders"] = s; f["receivers"] = r; f["y"] = (rng.random(e) < 0.3).astype("u1")
    f["hit_id"] = np.arange(1, n + 1, dtype="i8"); f["particle_id"] = np.zeros(n, "i8")
    f["pt"] = np.zeros(n, "f4")
PY

check_exports() {  # $1: run name, rest: --set overrides of the model
    local name="$1"; shift
    cat >"$WORK/$name.yaml" <<YAML
output_dir: $WORK/$name
data: {train: $WORK/train.h5}
model: {hidden_dim: 24, n_graph_iters: 3}
training: {epochs: 1, threads: 2, batch_edges: 4000}
YAML
    "$HEPGNN" train --config "$WORK/$name.yaml" "$@" >/dev/null 2>&1 || fail "$name: train failed"
    local ckpt="$WORK/$name/checkpoints/last.ckpt"
    "$HEPGNN" export --checkpoint "$ckpt" --format torchscript --out "$WORK/$name.pt" >/dev/null
    "$HEPGNN" export --checkpoint "$ckpt" --format torchscript --portable --out "$WORK/${name}_portable.pt" >/dev/null
    "$HEPGNN" export --checkpoint "$ckpt" --format onnx --out "$WORK/$name.onnx" >/dev/null
    for data in train hub; do
        "$HEPGNN" evaluate --checkpoint "$ckpt" --data "$WORK/$data.h5" --out "$WORK/eval_$name" \
            --save-logits "$WORK/${name}_$data.logits" >/dev/null 2>&1 || fail "$name: evaluate failed"
        "$PYTHON" - "$WORK/$name" "$WORK/$data.h5" "$WORK/${name}_$data.logits" "$NODE" \
            "$HEPGNN_SOURCE_DIR/tests/export/onnx_runner.js" "$OPS_LIBRARY" "$CLIENT" <<'PY' || fail "$name on $data: exports differ"
import json, subprocess, sys, h5py, numpy as np, onnx, torch
base, data, logits_file, node, runner, ops_library, client = sys.argv[1:]
onnx.checker.check_model(onnx.load(base + ".onnx"), full_check=True)
want_all = np.fromfile(logits_file, dtype="<f4")
portable = torch.jit.load(base + "_portable.pt")  # plain torch ops: no library needed
torch.ops.load_library(ops_library)  # the default export calls hepgnn::interaction_network
module = torch.jit.load(base + ".pt")
f = h5py.File(data)
no, eo = f["node_offsets"][:], f["edge_offsets"][:]
worst_ts = worst_ort = worst_plain = worst_cpp = 0.0
for g in range(len(no) - 1):
    x = f["x"][no[g]:no[g + 1]]
    ei = np.stack([f["senders"][eo[g]:eo[g + 1]], f["receivers"][eo[g]:eo[g + 1]]]).astype("<i8")
    want = want_all[eo[g]:eo[g + 1]]
    with torch.no_grad():
        ts = module(torch.from_numpy(x), torch.from_numpy(ei)).numpy()
        plain = portable(torch.from_numpy(x), torch.from_numpy(ei)).numpy()
    x.astype("<f4").tofile(base + ".x"); ei.tofile(base + ".ei")
    # A plain libtorch C++ client (links libtorch only, dlopens the op library), as ACTS's.
    subprocess.run([client, "--model", base + ".pt", "--ops-library", ops_library, "--x", base + ".x",
                    "--features", "3", "--edge-index", base + ".ei", "--out", base + ".cpp"],
                   check=True, stdout=subprocess.DEVNULL)
    cpp = np.fromfile(base + ".cpp", dtype="<f4")
    worst_plain = max(worst_plain, float(np.abs(plain - want).max(initial=0)))
    worst_cpp = max(worst_cpp, float(np.abs(cpp - want).max(initial=0)))
    subprocess.run([node, runner, "--model", base + ".onnx", "--x", base + ".x", "--features", "3",
                    "--edge-index", base + ".ei", "--out", base + ".out"], check=True)
    ort = np.fromfile(base + ".out", dtype="<f4")
    assert ts.shape == want.shape == ort.shape, (ts.shape, want.shape, ort.shape)
    worst_ts = max(worst_ts, float(np.abs(ts - want).max(initial=0)))
    worst_ort = max(worst_ort, float(np.abs(ort - want).max(initial=0)))
# Both exports say how their inputs were scaled: as the training data.
scale = [float(v) for v in f.attrs["feature_scale"]]
extra = {"hepgnn.features": ""}
torch.jit.load(base + ".pt", _extra_files=extra)
meta = {p.key: p.value for p in onnx.load(base + ".onnx").metadata_props}
for text in (extra["hepgnn.features"], meta["hepgnn.features"]):
    feats = json.loads(text)
    assert feats["names"] == ["r", "phi", "z"] and np.allclose(feats["scale"], scale), (feats, scale)
print(f"{base}: {len(no) - 1} graphs, {len(want_all)} edges: torchscript {worst_ts:.2e} "
      f"(portable {worst_plain:.2e}, C++ client {worst_cpp:.2e}), onnxruntime {worst_ort:.2e}")
assert len(want_all) == eo[-1] and np.isfinite(want_all).all()
assert worst_ts <= 1e-5 and worst_cpp <= 1e-5 and worst_plain <= 1e-5, (worst_ts, worst_cpp, worst_plain)
assert worst_ort <= 1e-4, worst_ort
PY
    done
}
OPS_LIBRARY="${HEPGNN_OPS_LIBRARY:-$(dirname "$HEPGNN")/../lib/libhepgnn_ops.so}"
CLIENT="${HEPGNN_TORCHSCRIPT_CLIENT:-$(dirname "$HEPGNN")/hepgnn_torchscript_client}"
[[ -f $OPS_LIBRARY && -x $CLIENT ]] || fail "need the op library ($OPS_LIBRARY) and the client ($CLIENT); build them"
check_exports sum
# The default export needs the op library: without it, torch names the op it lacks.
x="$WORK/sum.x"; ei="$WORK/sum.ei"
if "$CLIENT" --model "$WORK/sum.pt" --x "$x" --features 3 --edge-index "$ei" >/dev/null 2>"$WORK/noops.txt"; then
    fail "the fused export ran without its op library"
fi
grep -q "hepgnn::interaction_network" "$WORK/noops.txt" || { cat "$WORK/noops.txt"; fail "no word of the missing op"; }
"$CLIENT" --model "$WORK/sum_portable.pt" --x "$x" --features 3 --edge-index "$ei" >/dev/null \
    || fail "the portable export needs no library"
check_exports mean --set model.aggregation=mean --set model.activation=tanh --set model.edge_features=differences
check_exports maxagg --set model.aggregation=sum_max --set model.activation=silu --set model.n_mlp_layers=3

# infer: from the checkpoint and from the TorchScript export, the same tracks.
"$HEPGNN" simulate --out "$WORK/ev_new" --events 1 --particles 1500 --first-event 9000 >/dev/null 2>&1
for m in "$WORK/sum/checkpoints/last.ckpt" "$WORK/sum.pt"; do
    out="$WORK/infer_$(basename "$m")"
    "$HEPGNN" infer --model "$m" --input "$WORK/ev_new" --out "$out" --set pt_min=0 >"$out.txt" 2>&1 \
        || { cat "$out.txt"; fail "infer with $m failed"; }
    for stage in read graph_building gnn track_building; do
        grep -q "^$stage " "$out.txt" || fail "infer timing lacks $stage"
    done
done
cmp "$WORK/infer_last.ckpt/event000009000-submission.csv" "$WORK/infer_sum.pt/event000009000-submission.csv" \
    || fail "checkpoint and TorchScript inference gave different tracks"
[[ $(wc -l <"$WORK/infer_sum.pt/event000009000-submission.csv") -eq \
   $(wc -l <"$WORK/ev_new/event000009000-hits.csv") ]] || fail "the submission does not list every hit"
# --bf16 (Note [bfloat16 products]): from a checkpoint on a CPU with AVX512-BF16,
# a whole submission and a timing report that says so; a clear error elsewhere.
if grep -qw avx512_bf16 /proc/cpuinfo; then
    "$HEPGNN" infer --model "$WORK/sum/checkpoints/last.ckpt" --input "$WORK/ev_new" --out "$WORK/infer_bf16" \
        --set pt_min=0 --bf16 >"$WORK/bf16.txt" 2>&1 || { cat "$WORK/bf16.txt"; fail "infer --bf16 failed"; }
    grep -q '"bfloat16_products": true' "$WORK/infer_bf16/timing.json" || fail "timing.json lacks bfloat16_products"
    [[ $(wc -l <"$WORK/infer_bf16/event000009000-submission.csv") -eq \
       $(wc -l <"$WORK/ev_new/event000009000-hits.csv") ]] || fail "the --bf16 submission does not list every hit"
else
    expect_error "this CPU has no AVX512-BF16" "$HEPGNN" infer --model "$WORK/sum/checkpoints/last.ckpt" \
        --input "$WORK/ev_new" --out "$WORK/bad" --bf16
fi
expect_error "--bf16 works with hepgnn checkpoints, not TorchScript exports" "$HEPGNN" infer --model "$WORK/sum.pt" \
    --input "$WORK/ev_new" --out "$WORK/bad" --bf16

# An event whose hits make no edge: an empty result, not a crash.
mkdir -p "$WORK/ev_empty"
printf 'hit_id,x,y,z,volume_id,layer_id,module_id\n1,32,0,0,8,2,1\n2,0,500,0,13,6,1\n3,-1020,0,900,17,4,1\n' \
    >"$WORK/ev_empty/event000000001-hits.csv"
"$HEPGNN" infer --model "$WORK/sum.pt" --input "$WORK/ev_empty" --out "$WORK/infer_empty" >"$WORK/empty.txt" 2>&1 \
    || { cat "$WORK/empty.txt"; fail "infer on an event without edges failed"; }
[[ $(grep -c ',0$' "$WORK/infer_empty/event000000001-submission.csv") -eq 3 ]] || fail "expected 3 unassigned hits"

# Bad input: one clear line and a non-zero status each.
echo "not a model" >"$WORK/notes.txt"
expect_error "not a hepgnn checkpoint" "$HEPGNN" export --checkpoint "$WORK/notes.txt" --format onnx --out "$WORK/x.onnx"
expect_error "neither a hepgnn checkpoint nor a TorchScript model" "$HEPGNN" infer --model "$WORK/notes.txt" --input "$WORK/ev_new" --out "$WORK/bad"
expect_error "was trained on features r/1000, phi/0.3926" "$HEPGNN" infer --model "$WORK/sum.pt" --input "$WORK/ev_new" \
    --out "$WORK/bad" --set "feature_scale=[1000, 0.03927, 100]"
expect_error "is an ONNX model" "$HEPGNN" infer --model "$WORK/sum.onnx" --input "$WORK/ev_new" --out "$WORK/bad"
cat >"$WORK/agnn.yaml" <<YAML
output_dir: $WORK/agnn
data: {train: $WORK/train.h5}
model: {name: agnn, hidden_dim: 8, n_graph_iters: 1}
training: {epochs: 1, threads: 2, batch_edges: 4000}
YAML
"$HEPGNN" train --config "$WORK/agnn.yaml" >/dev/null 2>&1 || fail "agnn train failed"
expect_error "cannot be exported" "$HEPGNN" export --checkpoint "$WORK/agnn/checkpoints/last.ckpt" --format torchscript --out "$WORK/a.pt"
grep -qw avx512_bf16 /proc/cpuinfo && expect_error "only interaction_network has bfloat16 inference" \
    "$HEPGNN" infer --model "$WORK/agnn/checkpoints/last.ckpt" --input "$WORK/ev_new" --out "$WORK/bad" --set pt_min=0 --bf16
[[ ! -e "$WORK/a.pt" ]] || fail "a failed export left a file behind"
echo "export_infer: OK"
