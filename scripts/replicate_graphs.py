#!/usr/bin/env python3
"""Writes a graph file holding every graph of IN repeated N times (event ids shifted so that
copies stay distinct events): a big training shard from a few simulated events, for memory
measurements (README, issue #17). Copies every dataset and root attribute of IN.

    replicate_graphs.py IN.h5 OUT.h5 N
"""
import sys

import h5py
import numpy as np

src_path, dst_path, copies = sys.argv[1], sys.argv[2], int(sys.argv[3])
src = h5py.File(src_path, "r")
n_graphs = len(src["node_offsets"]) - 1
event_span = int(src["event_id"][:].max()) + 1
with h5py.File(dst_path + ".tmp", "w") as dst:
    for key, value in src.attrs.items():
        dst.attrs[key] = value
    for name in src.keys():
        data = src[name][:]
        if name in ("node_offsets", "edge_offsets"):
            step = data[-1]
            out = np.concatenate([data[:-1] + k * step for k in range(copies)] + [data[-1:] * copies])
        elif name == "event_id":
            out = np.concatenate([data + k * event_span for k in range(copies)])
        else:
            out = np.concatenate([data] * copies)
        dst.create_dataset(name, data=out)
import os

os.replace(dst_path + ".tmp", dst_path)
print(f"{dst_path}: {n_graphs * copies} graphs ({copies} copies of {src_path})")
