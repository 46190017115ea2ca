#!/usr/bin/env python3
"""Bit-for-bit comparison of two hepgnn checkpoints, read independently of
hepgnn: the 24-byte header and its CRC-32 (Note [Checkpoint file] in
trainer/checkpoint.cpp), then every model parameter and the RNG state of the
torch archive behind it. Exit 1, naming the first difference, if they differ.

Usage: compare_checkpoints.py A.ckpt B.ckpt [--min-tensors N]
"""
import argparse
import io
import struct
import sys
import zlib

import torch


def tensors(path):
    data = open(path, "rb").read()
    magic, version, crc, size = struct.unpack("<8sIIQ", data[:24])
    assert magic == b"HEPGNNCK" and version == 2 and size == len(data) - 24, f"{path}: bad header"
    assert zlib.crc32(data[24:]) == crc, f"{path}: stored CRC-32 does not match"
    named = dict(torch.jit.load(io.BytesIO(data[24:])).named_parameters())
    return {k: v for k, v in named.items() if k.startswith("model.") or k == "rng"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--min-tensors", type=int, default=10)
    args = ap.parse_args()
    a, b = tensors(args.a), tensors(args.b)
    if len(a) < args.min_tensors or a.keys() != b.keys():
        sys.exit(f"compare_checkpoints: {len(a)} and {len(b)} tensors, want the same >= {args.min_tensors}")
    for k in a:
        if not torch.equal(a[k], b[k]):
            diff = float((a[k].float() - b[k].float()).abs().max())
            sys.exit(f"compare_checkpoints: {k} differs (max {diff:.3g})")
    print(f"{len(a)} tensors bit-identical")


if __name__ == "__main__":
    main()
