#!/usr/bin/env python3
"""Which element should the module map use: a module or a layer?

For maps learned from the first N events of TRAIN (N = 1, 10, 50, 100, ...),
counts the element pairs that true segments connect and the share of true
segments of TEST events whose pair the map holds (a segment whose pair is
missing can never become an edge). True segments are consecutive trajectory
steps of one particle (Note [Trajectory steps] in data/trajectory.hpp).

Usage: scripts/module_map_study.py TRAIN_DIR TEST_DIR [--sizes 1,10,50,100] [--json OUT]
(uses /usr/bin/python3 with numpy)
"""
import argparse
import glob
import json
import os

import numpy as np


def load(prefix):
    hits = np.loadtxt(prefix + "-hits.csv", delimiter=",", skiprows=1)
    truth = np.loadtxt(prefix + "-truth.csv", delimiter=",", skiprows=1)
    parts = np.loadtxt(prefix + "-particles.csv", delimiter=",", skiprows=1, ndmin=2)
    return hits, truth, parts


def segments(prefix):
    """Arrays (layer_a, layer_b, module_a, module_b, pt) of true segments."""
    hits, truth, parts = load(prefix)
    pid = truth[:, 1].astype(np.int64)
    vertex = {int(p[0]): p[1:4] for p in parts}
    pt_of = {int(p[0]): float(np.hypot(p[4], p[5])) for p in parts}
    layer = (hits[:, 4].astype(np.int64) * 100 + hits[:, 5].astype(np.int64))
    module = layer * 100000 + hits[:, 6].astype(np.int64)
    signal = np.nonzero(pid != 0)[0]
    v = np.array([vertex.get(int(p), np.zeros(3)) for p in pid[signal]])
    dist = np.linalg.norm(truth[signal, 2:5] - v, axis=1)
    order = signal[np.lexsort((hits[signal, 0], dist, pid[signal]))]
    out = []
    start = 0
    while start < len(order):
        end = start
        while end < len(order) and pid[order[end]] == pid[order[start]]:
            end += 1
        steps = []  # runs of hits on one layer
        for i in order[start:end]:
            if steps and layer[steps[-1][0]] == layer[i]:
                steps[-1].append(i)
            else:
                steps.append([i])
        pt = pt_of.get(int(pid[order[start]]), 0.0)
        for k in range(len(steps) - 1):
            for a in steps[k]:
                for b in steps[k + 1]:
                    out.append((layer[a], layer[b], module[a], module[b], pt))
        start = end
    return np.array(out, dtype=np.float64).reshape(-1, 5)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("train")
    ap.add_argument("test")
    ap.add_argument("--sizes", default="1,10,50,100")
    ap.add_argument("--json")
    args = ap.parse_args()
    train = sorted(glob.glob(os.path.join(args.train, "event*-hits.csv")))
    test = sorted(glob.glob(os.path.join(args.test, "event*-hits.csv")))
    if not train or not test:
        raise SystemExit("module_map_study: no events in %s or %s" % (args.train, args.test))
    sizes = [n for n in map(int, args.sizes.split(",")) if n <= len(train)]
    test_segs = np.concatenate([segments(f[: -len("-hits.csv")]) for f in test])
    layer_seen, module_seen = set(), set()
    rows = []
    done = 0
    for n in sizes:
        for f in train[done:n]:
            s = segments(f[: -len("-hits.csv")])
            s = s[s[:, 4] > 0.5]
            layer_seen.update(zip(s[:, 0].astype(np.int64), s[:, 1].astype(np.int64)))
            module_seen.update(zip(s[:, 2].astype(np.int64), s[:, 3].astype(np.int64)))
        done = n
        row = {"events": n, "layer_pairs": len(layer_seen), "module_pairs": len(module_seen)}
        for cut in (0.5, 1.0):
            t = test_segs[test_segs[:, 4] > cut]
            lay = np.mean([(int(a), int(b)) in layer_seen for a, b in t[:, :2]])
            mod = np.mean([(int(a), int(b)) in module_seen for a, b in t[:, 2:4]])
            row["layer_coverage_pt%g" % cut] = float(lay)
            row["module_coverage_pt%g" % cut] = float(mod)
        rows.append(row)
    print("%7s %12s %13s %16s %17s %16s %17s" % ("events", "layer pairs", "module pairs",
          "layer cov pT>0.5", "module cov pT>0.5", "layer cov pT>1", "module cov pT>1"))
    for r in rows:
        print("%7d %12d %13d %16.4f %17.4f %16.4f %17.4f" % (
            r["events"], r["layer_pairs"], r["module_pairs"], r["layer_coverage_pt0.5"],
            r["module_coverage_pt0.5"], r["layer_coverage_pt1"], r["module_coverage_pt1"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
