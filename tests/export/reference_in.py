#!/usr/bin/python3
"""A plain PyTorch interaction network (DESIGN §3.3): the reference for the ONNX export tests.

    reference_in.py --config config.json --params params.json --x x.bin --edge-index ei.bin
                    --out logits.bin [--dtype float64|float32]

config.json: the model config (input_dim, hidden_dim, n_mlp_layers, n_graph_iters,
aggregation, activation, layer_norm, and optionally edge_features: "none" | "differences", which
feeds x_r - x_s of the raw node features to the edge encoder beside [x_s, x_r]). params.json: {"file": "params.bin", "tensors":
[{"name": ..., "shape": [...], "offset": ...}]}, offsets in float32 elements into the
little-endian float32 file (relative to params.json). x.bin float32 [N, F]; ei.bin int64
[2, E] (row 0 senders, row 1 receivers). Writes the logits [E] as raw little-endian values of
--dtype (default float64: the reference should not share float32 rounding with the tested
model). Written from the text of §3.3 only, independently of hepgnn's C++ model.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F


def expected_parameters(cfg):
    """name -> shape, from §3.3 and hepgnn's module names (Mlp: linear<i>, norm<i>)."""
    f, h, l = cfg["input_dim"], cfg["hidden_dim"], cfg["n_mlp_layers"]
    node_in = (5 if cfg["aggregation"] == "sum_max" else 3) * h
    c = f if cfg.get("edge_features", "none") == "differences" else 0
    mlps = {
        "node_encoder": (f, [h] * l, True),
        "edge_encoder": (2 * h + c, [h] * l, True),
        "edge_net": (3 * h, [h] * l, True),
        "node_net": (node_in, [h] * l, True),
        "edge_classifier": (3 * h, [h] * (l - 1) + [1], False),
    }
    shapes = {}
    for module, (width, sizes, output_activation) in mlps.items():
        for i, out in enumerate(sizes):
            shapes[f"{module}.linear{i}.weight"] = [out, width]
            shapes[f"{module}.linear{i}.bias"] = [out]
            if cfg["layer_norm"] and (i + 1 < len(sizes) or output_activation):
                shapes[f"{module}.norm{i}.weight"] = [out]
                shapes[f"{module}.norm{i}.bias"] = [out]
            width = out
    return mlps, shapes


def load_parameters(path, dtype):
    with open(path) as f:
        manifest = json.load(f)
    flat = np.fromfile(os.path.join(os.path.dirname(path), manifest["file"]), dtype="<f4")
    params = {}
    for t in manifest["tensors"]:
        n = int(np.prod(t["shape"], dtype=np.int64))
        values = flat[t["offset"]:t["offset"] + n].reshape(t["shape"])
        params[t["name"]] = torch.from_numpy(values.copy()).to(dtype)
    return params


def activation(name):
    return {"relu": torch.relu, "tanh": torch.tanh, "silu": F.silu}[name]


def mlp(params, module, spec, x, cfg):
    _, sizes, output_activation = spec
    act = activation(cfg["activation"])
    for i in range(len(sizes)):
        x = F.linear(x, params[f"{module}.linear{i}.weight"], params[f"{module}.linear{i}.bias"])
        if i + 1 == len(sizes) and not output_activation:
            break
        if cfg["layer_norm"]:
            x = F.layer_norm(x, (x.shape[-1],), params[f"{module}.norm{i}.weight"],
                             params[f"{module}.norm{i}.bias"], eps=1e-5)
        x = act(x)
    return x


def aggregate(kind, e, node, n):
    def total():
        return torch.zeros(n, e.shape[1], dtype=e.dtype).index_add_(0, node, e)

    def maximum():
        # Nodes without edges keep the 0 they start with (include_self=False).
        return torch.zeros(n, e.shape[1], dtype=e.dtype).scatter_reduce(
            0, node.unsqueeze(1).expand_as(e), e, "amax", include_self=False)

    if kind == "sum":
        return total()
    if kind == "mean":
        degree = torch.bincount(node, minlength=n).to(e.dtype)
        return total() / degree.clamp_min(1).unsqueeze(1)
    if kind == "max":
        return maximum()
    if kind == "sum_max":
        return torch.cat([total(), maximum()], 1)
    raise ValueError(f"unknown aggregation {kind}")


def forward(cfg, params, x, edge_index):
    mlps, _ = expected_parameters(cfg)
    s, r = edge_index[0], edge_index[1]
    n = x.shape[0]
    raw = x
    x = mlp(params, "node_encoder", mlps["node_encoder"], x, cfg)
    encoder_in = [x[s], x[r]]
    if cfg.get("edge_features", "none") == "differences":
        encoder_in.append(raw[r] - raw[s])
    e = mlp(params, "edge_encoder", mlps["edge_encoder"], torch.cat(encoder_in, 1), cfg)
    for _ in range(cfg["n_graph_iters"]):
        e = e + mlp(params, "edge_net", mlps["edge_net"], torch.cat([x[s], x[r], e], 1), cfg)
        a_in = aggregate(cfg["aggregation"], e, r, n)
        a_out = aggregate(cfg["aggregation"], e, s, n)
        x = x + mlp(params, "node_net", mlps["node_net"], torch.cat([x, a_in, a_out], 1), cfg)
    z = mlp(params, "edge_classifier", mlps["edge_classifier"], torch.cat([x[s], x[r], e], 1),
            cfg)
    return z.squeeze(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--params", required=True)
    ap.add_argument("--x", required=True)
    ap.add_argument("--edge-index", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    args = ap.parse_args()
    dtype = getattr(torch, args.dtype)

    with open(args.config) as f:
        cfg = json.load(f)
    params = load_parameters(args.params, dtype)
    _, shapes = expected_parameters(cfg)
    for name, shape in shapes.items():
        if name not in params:
            sys.exit(f"reference_in.py: parameter {name} is missing")
        if list(params[name].shape) != shape:
            sys.exit(f"reference_in.py: parameter {name} has shape {list(params[name].shape)}, "
                     f"expected {shape}")
    extra = sorted(set(params) - set(shapes))
    if extra:
        sys.exit(f"reference_in.py: unexpected parameters {extra}")

    x = torch.from_numpy(np.fromfile(args.x, dtype="<f4").reshape(-1, cfg["input_dim"]).copy())
    edge_index = torch.from_numpy(np.fromfile(args.edge_index, dtype="<i8").reshape(2, -1).copy())
    with torch.no_grad():
        logits = forward(cfg, params, x.to(dtype), edge_index)
    logits.numpy().astype("<f8" if args.dtype == "float64" else "<f4").tofile(args.out)


if __name__ == "__main__":
    main()
