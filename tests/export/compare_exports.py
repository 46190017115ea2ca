#!/usr/bin/python3
"""Checks that a model exported as ONNX computes what its TorchScript export computes.

    compare_exports.py MODEL.pt MODEL.onnx [--features F] [--tolerance T]

Both files come from `hepgnn export` of the same checkpoint (the TorchScript export checks
itself against hepgnn's C++ model). Runs both on random graphs of several sizes (receivers
crowding onto hubs, isolated nodes, one graph without edges): TorchScript in torch, the ONNX
file in ONNX Runtime through onnx_runner.js. Fails when max |onnx - torchscript| /
max(1, max |torchscript|) exceeds the tolerance (default 1e-4). Prints one line per graph.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def random_graph(rng, n, e, f, isolated=3):
    used = max(1, n - isolated)
    x = rng.standard_normal((n, f)).astype("<f4")
    senders = rng.integers(0, used, e)
    hubs = rng.integers(0, max(1, used // 20), e)
    receivers = np.where(rng.random(e) < 0.6, hubs, rng.integers(0, used, e))
    return x, np.stack([senders, receivers]).astype("<i8")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("torchscript")
    ap.add_argument("onnx")
    ap.add_argument("--features", type=int, default=3)
    ap.add_argument("--tolerance", type=float, default=1e-4)
    ap.add_argument("--node", default=os.environ.get("HEPGNN_NODE", "node"))
    args = ap.parse_args()

    module = torch.jit.load(args.torchscript)
    rng = np.random.default_rng(2024)
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for n, e in [(50, 2000), (3000, 20000), (7, 0)]:
            x, edge_index = random_graph(rng, n, e, args.features)
            paths = {k: os.path.join(tmp, k + ".bin") for k in ("x", "edge_index", "logits")}
            x.tofile(paths["x"])
            edge_index.tofile(paths["edge_index"])
            with torch.no_grad():
                want = module(torch.from_numpy(x), torch.from_numpy(edge_index)).numpy()
            run = subprocess.run(
                [args.node, os.path.join(HERE, "onnx_runner.js"), "--model", args.onnx,
                 "--x", paths["x"], "--features", str(args.features),
                 "--edge-index", paths["edge_index"], "--out", paths["logits"]],
                capture_output=True, text=True)
            if run.returncode != 0:
                sys.exit(f"compare_exports.py: {run.stderr.strip()}")
            got = np.fromfile(paths["logits"], dtype="<f4")
            if got.shape != want.shape:
                sys.exit(f"compare_exports.py: N={n}, E={e}: ONNX gives {got.shape[0]} logits, "
                         f"TorchScript {want.shape[0]}")
            diff = float(np.abs(got - want).max()) if e else 0.0
            largest = float(np.abs(want).max()) if e else 0.0
            worst = max(worst, diff / max(1.0, largest))
            print(f"N={n} E={e}: max |onnx - torchscript| = {diff:.3g} "
                  f"(max |logit| {largest:.3g})")
    if worst > args.tolerance:
        sys.exit(f"compare_exports.py: ONNX and TorchScript differ by {worst:.3g} (scaled), "
                 f"more than {args.tolerance}")


if __name__ == "__main__":
    main()
