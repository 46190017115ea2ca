#!/usr/bin/python3
"""Plots of `hepgnn evaluate` results (DIR/evaluation.json).

Writes into --out (default: the JSON's folder):
  roc.png                      ROC curve of the edge classifier     (key "roc")
  edge_efficiency_vs_pt.png    edge efficiency per pT bin           (key "edge_efficiency_vs_pt")
  score_distribution.png       edge scores of true and fake edges   (key "score_histogram")
  edge_metrics_vs_inner_r.png  edge efficiency and purity by the    (key "edge_metrics_vs_inner_r", optional)
                               radius of the edge's inner hit
  track_efficiency_vs_pt.png   track efficiency per pT bin          (key "track_efficiency_vs_pt", optional)
  track_efficiency_vs_eta.png  track efficiency per eta bin         (key "track_efficiency_vs_eta", optional)

Error bars are binomial: sqrt(eff * (1 - eff) / n) with n entries in the bin.
Runs with Debian's python (/usr/bin/python3, package python3-matplotlib).
"""

import argparse
import json
import math
import os
import sys


class BadInput(Exception):
    """A problem with the JSON, reported as one line."""


def need(obj, key, where, kinds):
    if not isinstance(obj, dict) or key not in obj:
        raise BadInput(f"{where}: missing key '{key}'")
    value = obj[key]
    if not isinstance(value, kinds) or isinstance(value, bool):
        raise BadInput(f"{where}: '{key}' has the wrong type ({type(value).__name__})")
    return value


NUMBER = (int, float)


def number_list(obj, key, where):
    values = need(obj, key, where, list)
    for i, v in enumerate(values):
        if not isinstance(v, NUMBER) or isinstance(v, bool):
            raise BadInput(f"{where}: '{key}'[{i}] is not a number")
    return values


def entries(doc, key):
    rows = need(doc, key, "evaluation", list)
    if not rows:
        raise BadInput(f"evaluation: '{key}' is empty")
    return rows


def binomial_error(eff, n):
    return math.sqrt(max(eff * (1.0 - eff), 0.0) / n) if n > 0 else 0.0


def bin_label(low, high):
    return f"≥ {low:g}" if high is None else f"{low:g}–{high:g}"


def read_bins(doc, key, low_key, high_key, count_key, eff_key):
    """(low, high or None, count, efficiency) per bin, validated."""
    bins = []
    for i, row in enumerate(entries(doc, key)):
        where = f"'{key}'[{i}]"
        low = need(row, low_key, where, NUMBER)
        high = row.get(high_key) if isinstance(row, dict) else None
        if high is not None and (not isinstance(high, NUMBER) or high <= low):
            raise BadInput(f"{where}: '{high_key}' must be a number above '{low_key}' or null")
        if high is None and i + 1 != len(doc[key]):
            raise BadInput(f"{where}: only the last bin may be open ('{high_key}': null)")
        count = need(row, count_key, where, NUMBER)
        eff = need(row, eff_key, where, NUMBER) if row.get(eff_key) is not None else 0.0
        bins.append((low, high, count, eff))
    return bins


def read_roc(doc):
    cuts, fpr, tpr = [], [], []
    for i, p in enumerate(entries(doc, "roc")):
        where = f"'roc'[{i}]"
        cuts.append(need(p, "cut", where, NUMBER))
        fpr.append(need(p, "fpr", where, NUMBER))
        tpr.append(need(p, "tpr", where, NUMBER))
    return cuts, fpr, tpr


def plot_roc(plt, doc, roc, path):
    cuts, fpr, tpr = roc
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot(fpr, tpr, lw=2, label="edge classifier")
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="random")
    cut = doc.get("cut")
    if isinstance(cut, NUMBER):  # the working point
        k = min(range(len(cuts)), key=lambda j: abs(cuts[j] - cut))
        ax.plot([fpr[k]], [tpr[k]], "o", color="C3", label=f"cut {cuts[k]:g}")
    title = "Edge classifier ROC"
    if isinstance(doc.get("auc"), NUMBER):
        title += f" (AUC {doc['auc']:.4f})"
    ax.set(xlabel="false positive rate", ylabel="true positive rate (edge efficiency)",
           title=title, xlim=(0, 1), ylim=(0, 1.01))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    save(plt, fig, path)


def save(plt, fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_binned_efficiency(plt, bins, path, title, xlabel, ylabel, categorical):
    """Efficiency per bin with binomial errors; empty bins carry no point.

    pT bins are drawn as categories, so the open last bin ("≥ 10") and the
    narrow low-pT bins of the turn-on are all readable."""
    shown = [(k, lo, hi, n, e) for k, (lo, hi, n, e) in enumerate(bins) if n > 0]
    yerr = [binomial_error(e, n) for _, _, _, n, e in shown]
    effs = [e for _, _, _, _, e in shown]
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    if categorical:
        ax.errorbar([k for k, _, _, _, _ in shown], effs, yerr=yerr, fmt="o", capsize=3)
        ax.set_xticks(range(len(bins)))
        ax.set_xticklabels([bin_label(lo, hi) for lo, hi, _, _ in bins], rotation=30)
        ax.set_xlim(-0.5, len(bins) - 0.5)
    else:
        ax.errorbar([(lo + hi) / 2 for _, lo, hi, _, _ in shown], effs,
                    xerr=[(hi - lo) / 2 for _, lo, hi, _, _ in shown], yerr=yerr, fmt="o",
                    capsize=3)
        ax.set_xlim(bins[0][0], bins[-1][1])
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title, ylim=(0, 1.05))
    ax.grid(alpha=0.3)
    save(plt, fig, path)


def plot_efficiency_and_purity(plt, eff_bins, pur_bins, path):
    """Edge efficiency and purity per inner-hit radius bin (categorical: one bin per layer)."""
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for bins, label, shift in ((eff_bins, "efficiency", -0.1), (pur_bins, "purity", 0.1)):
        shown = [(k, n, e) for k, (_, _, n, e) in enumerate(bins) if n > 0]
        ax.errorbar([k + shift for k, _, _ in shown], [e for _, _, e in shown],
                    yerr=[binomial_error(e, n) for _, n, e in shown], fmt="o", capsize=3,
                    label=label)
    ax.set_xticks(range(len(eff_bins)))
    ax.set_xticklabels([bin_label(lo, hi) for lo, hi, _, _ in eff_bins], rotation=30)
    ax.set(xlabel="radius of the edge's inner hit [mm]", ylabel="at the score cut",
           title="Edge efficiency and purity by inner-hit radius", ylim=(0, 1.05))
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    save(plt, fig, path)


def read_scores(doc):
    hist = need(doc, "score_histogram", "evaluation", dict)
    n = need(hist, "bins", "'score_histogram'", int)
    true = number_list(hist, "true", "'score_histogram'")
    fake = number_list(hist, "fake", "'score_histogram'")
    if n < 1 or len(true) != n or len(fake) != n:
        raise BadInput(f"'score_histogram': {n} bins but {len(true)} true and {len(fake)} fake "
                       "counts; they must be equal")
    return n, true, fake


def plot_scores(plt, doc, scores, path):
    n, true, fake = scores
    edges = [k / n for k in range(n + 1)]
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    ax.stairs(fake, edges, label="fake edges", lw=1.5)
    ax.stairs(true, edges, label="true edges", lw=1.5)
    if isinstance(doc.get("cut"), NUMBER):
        ax.axvline(doc["cut"], color="grey", ls="--", lw=1, label=f"cut {doc['cut']:g}")
    ax.set_yscale("log")
    ax.set(xlabel="edge score", ylabel="edges", title="Edge score distribution", xlim=(0, 1))
    ax.legend()
    ax.grid(alpha=0.3)
    save(plt, fig, path)


def main(argv):
    parser = argparse.ArgumentParser(
        description="Plot edge and track metrics from hepgnn evaluate's evaluation.json.",
        epilog="Writes roc.png, edge_efficiency_vs_pt.png, score_distribution.png and, when "
               "the JSON has them, edge_metrics_vs_inner_r.png, track_efficiency_vs_pt.png and "
               "track_efficiency_vs_eta.png.")
    parser.add_argument("evaluation_json", metavar="EVALUATION_JSON",
                        help="evaluation.json written by 'hepgnn evaluate'")
    parser.add_argument("--out", metavar="DIR",
                        help="folder for the PNG files (default: the JSON's folder)")
    args = parser.parse_args(argv)
    prog = os.path.basename(sys.argv[0])
    try:
        with open(args.evaluation_json, encoding="utf-8") as f:
            doc = json.load(f)
    except OSError as e:
        print(f"{prog}: cannot read '{args.evaluation_json}': {e.strerror}", file=sys.stderr)
        return 1
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        print(f"{prog}: '{args.evaluation_json}' is not valid JSON ({e})", file=sys.stderr)
        return 1
    if not isinstance(doc, dict):
        print(f"{prog}: '{args.evaluation_json}' is not a JSON object", file=sys.stderr)
        return 1
    out = args.out or os.path.dirname(os.path.abspath(args.evaluation_json))

    # Read and check everything first: a malformed key leaves no partial set of plots.
    try:
        roc = read_roc(doc)
        edge_pt = read_bins(doc, "edge_efficiency_vs_pt", "pt_low", "pt_high", "true_edges",
                            "edge_efficiency")
        scores = read_scores(doc)
        track_pt = track_eta = r_eff = r_pur = None
        if "edge_metrics_vs_inner_r" in doc:
            r_eff = read_bins(doc, "edge_metrics_vs_inner_r", "r_low_mm", "r_high_mm",
                              "true_edges", "edge_efficiency")
            r_pur = read_bins(doc, "edge_metrics_vs_inner_r", "r_low_mm", "r_high_mm",
                              "passing_edges", "edge_purity")
        if "track_efficiency_vs_pt" in doc:
            track_pt = read_bins(doc, "track_efficiency_vs_pt", "low", "high",
                                 "reconstructable", "efficiency")
        if "track_efficiency_vs_eta" in doc:
            track_eta = read_bins(doc, "track_efficiency_vs_eta", "low", "high",
                                  "reconstructable", "efficiency")
            if track_eta[-1][1] is None:
                raise BadInput("'track_efficiency_vs_eta': the last bin must be closed")
    except BadInput as e:
        print(f"{prog}: '{args.evaluation_json}' is malformed: {e}", file=sys.stderr)
        return 1

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    jobs = [
        ("roc.png", lambda p: plot_roc(plt, doc, roc, p)),
        ("edge_efficiency_vs_pt.png", lambda p: plot_binned_efficiency(
            plt, edge_pt, p, "Edge efficiency vs particle pT", "particle pT [GeV]",
            "edge efficiency", categorical=True)),
        ("score_distribution.png", lambda p: plot_scores(plt, doc, scores, p)),
    ]
    if r_eff is not None:
        jobs.append(("edge_metrics_vs_inner_r.png",
                     lambda p: plot_efficiency_and_purity(plt, r_eff, r_pur, p)))
    if track_pt is not None:
        jobs.append(("track_efficiency_vs_pt.png", lambda p: plot_binned_efficiency(
            plt, track_pt, p, "Track efficiency vs particle pT (no pT cut)",
            "particle pT [GeV]", "track efficiency", categorical=True)))
    if track_eta is not None:
        jobs.append(("track_efficiency_vs_eta.png", lambda p: plot_binned_efficiency(
            plt, track_eta, p, "Track efficiency vs particle η", "particle η",
            "track efficiency", categorical=False)))
    try:
        os.makedirs(out, exist_ok=True)
        for name, draw in jobs:
            draw(os.path.join(out, name))
            print(f"wrote {os.path.join(out, name)}")
    except OSError as e:
        print(f"{prog}: cannot write plots to '{out}': {e.strerror or e}", file=sys.stderr)
        return 1
    return 0

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
