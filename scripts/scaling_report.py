#!/usr/bin/python3
"""Scaling table and plots from `hepgnn bench --report` files.

Collects bench reports (files, or folders of *.json) such as those written by
scripts/slurm/strong_scaling.sh and weak_scaling.sh, groups them by rank count
(the median of repeated runs), and prints a markdown table of throughput,
speedup and parallel efficiency against the number of ranks P. Writes
OUT/scaling.json and OUT/{throughput,speedup,efficiency}.png.

Definitions (throughput X = graphs of all ranks per second of an epoch, the
bench's wl-scores.graphs_per_s, first epoch excluded; P0 = smallest P given):
  speedup     S(P) = X(P) / X(P0)
  efficiency  E(P) = S(P) * P0 / P
In strong scaling (same data and global step at every P) E = T(P0) P0 / (T(P) P)
with T the epoch time; in weak scaling (same data per rank) it is
T(P0) / T(P). Both reduce to the throughput ratio above, so one formula serves.
"""
import argparse
import json
import os
import statistics

from bench_reports import load_reports


def guess_mode(groups):
    """weak when the dataset grows with P, strong when it stays the same."""
    ps = sorted(groups)
    if len(ps) < 2:
        return "strong"
    g0 = groups[ps[0]][0]["wl-stats"]["dataset"]["graphs"]
    g1 = groups[ps[-1]][0]["wl-stats"]["dataset"]["graphs"]
    return "weak" if g1 > g0 else "strong"


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarise(reports, mode):
    groups = {}
    for r in reports:
        groups.setdefault(int(r["wl-stats"]["world_size"]), []).append(r)
    if mode == "auto":
        mode = guess_mode(groups)
    rows = []
    for p in sorted(groups):
        rs = groups[p]
        s = [r["wl-stats"] for r in rs]
        w = [r["wl-scores"] for r in rs]
        stages = {}
        for st in s:
            for k, v in st.get("stage_times_s", {}).items():
                stages.setdefault(k, []).append(v)
        stage_med = {k: med(v) for k, v in stages.items()}
        busy = sum(v for v in stage_med.values() if v is not None)
        rows.append({
            "ranks": p,
            "runs": len(rs),
            "threads_per_rank": med([st.get("threads_per_rank") for st in s]),
            "graphs": med([st["dataset"]["graphs"] for st in s]),
            "edges": med([st["dataset"]["edges"] for st in s]),
            "batch_edges": med([st.get("batch_edges") for st in s]),
            "steps_per_epoch": med([st.get("steps_per_epoch") for st in s]),
            "graphs_per_s": med([x["graphs_per_s"] for x in w]),
            "graphs_per_s_min": min(x["graphs_per_s"] for x in w),
            "graphs_per_s_max": max(x["graphs_per_s"] for x in w),
            "edges_per_s": med([x["edges_per_s"] for x in w]),
            "epoch_time_s": med([x["mean_epoch_time_s"] for x in w]),
            "stage_times_s": stage_med,
            "allreduce_fraction": (stage_med.get("allreduce_s") or 0) / busy if busy else None,
            "step_imbalance": med([st.get("step_imbalance") for st in s]),
            "peak_rss_mb_max": med([max(st.get("peak_rss_mb_per_rank") or [0]) for st in s]),
            "files": [r["_file"] for r in rs],
        })
    base = rows[0]
    for row in rows:
        row["speedup"] = row["graphs_per_s"] / base["graphs_per_s"]
        row["efficiency"] = row["speedup"] * base["ranks"] / row["ranks"]
    warnings = []
    threads = {row["threads_per_rank"] for row in rows}
    if len(threads) > 1:
        warnings.append(f"threads per rank differ between rank counts: {sorted(threads)}")
    if mode == "strong" and len({row["graphs"] for row in rows}) > 1:
        warnings.append("strong scaling, but the dataset size differs between rank counts")
    if mode == "strong" and len({row["steps_per_epoch"] for row in rows}) > 1:
        warnings.append("strong scaling, but steps per epoch differ (global step not constant: "
                        "a rank's step cannot be smaller than one graph)")
    if mode == "weak":
        per_rank = {round(row["graphs"] / row["ranks"], 3) for row in rows}
        if len(per_rank) > 1:
            warnings.append(f"weak scaling, but graphs per rank differ: {sorted(per_rank)}")
    return mode, rows, warnings


def markdown(mode, rows, warnings):
    base = rows[0]["ranks"]
    out = [f"{mode} scaling, {len(rows)} rank counts; speedup and efficiency relative to P={base}",
           "",
           "| ranks | runs | graphs | steps/epoch | graphs/s | edges/s | epoch s | speedup | efficiency "
           "| allreduce | imbalance | peak RSS MB |",
           "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        ar = "" if r["allreduce_fraction"] is None else f"{100 * r['allreduce_fraction']:.1f}%"
        imb = "" if r["step_imbalance"] is None else f"{r['step_imbalance']:.3f}"
        out.append(
            f"| {r['ranks']} | {r['runs']} | {r['graphs']:.0f} | {r['steps_per_epoch'] or 0:.0f} "
            f"| {r['graphs_per_s']:.2f} | {r['edges_per_s']:,.0f} | {r['epoch_time_s']:.2f} "
            f"| {r['speedup']:.2f}x | {100 * r['efficiency']:.1f}% | {ar} | {imb} | {r['peak_rss_mb_max']:.0f} |")
    out += ["",
            "graphs/s, edges/s: all ranks, per second of an epoch (epochs 2..N, median of runs); "
            "speedup = X(P)/X(P0); efficiency = speedup * P0/P; allreduce = share of rank 0's "
            "step time spent in the allreduce stage (includes waiting for slower ranks)."]
    out += [f"warning: {w}" for w in warnings]
    return "\n".join(out)


def plots(mode, rows, outdir):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ps = [r["ranks"] for r in rows]
    p0 = ps[0]
    files = []

    def finish(fig, ax, name, ylabel):
        ax.set_xscale("log", base=2)
        ax.set_xticks(ps)
        ax.set_xticklabels([str(p) for p in ps])
        ax.set_xlabel("MPI ranks")
        ax.set_ylabel(ylabel)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
        ax.set_title(f"hepgnn {mode} scaling")
        fig.tight_layout()
        path = os.path.join(outdir, name)
        fig.savefig(path, dpi=120)
        plt.close(fig)
        files.append(path)

    fig, ax = plt.subplots(figsize=(5, 4))
    x = [r["graphs_per_s"] for r in rows]
    err = [[r["graphs_per_s"] - r["graphs_per_s_min"] for r in rows],
           [r["graphs_per_s_max"] - r["graphs_per_s"] for r in rows]]
    ax.errorbar(ps, x, yerr=err, marker="o", capsize=3, label="measured (median, min-max)")
    ax.plot(ps, [x[0] * p / p0 for p in ps], "--", color="gray", label="ideal")
    ax.set_yscale("log")
    finish(fig, ax, "throughput.png", "graphs / s (all ranks)")

    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot(ps, [r["speedup"] for r in rows], marker="o", label="measured")
    ax.plot(ps, [p / p0 for p in ps], "--", color="gray", label="ideal")
    ax.set_yscale("log", base=2)
    finish(fig, ax, "speedup.png", f"speedup vs {p0} rank(s)")

    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot(ps, [100 * r["efficiency"] for r in rows], marker="o", label="measured")
    ax.axhline(100, ls="--", color="gray", label="ideal")
    ax.set_ylim(0, 110)
    finish(fig, ax, "efficiency.png", "parallel efficiency (%)")
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("reports", nargs="+", help="bench report files or folders of them")
    ap.add_argument("--mode", choices=["auto", "strong", "weak"], default="auto",
                    help="label of the study; auto: weak when the dataset grows with P [auto]")
    ap.add_argument("--out", help="folder for scaling.json and the PNG plots [no files]")
    ap.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    args = ap.parse_args()

    mode, rows, warnings = summarise(load_reports(args.reports, "scaling_report"), args.mode)
    print(markdown(mode, rows, warnings))
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        path = os.path.join(args.out, "scaling.json")
        with open(path + ".tmp", "w") as fh:
            json.dump({"mode": mode, "baseline_ranks": rows[0]["ranks"], "rows": rows,
                       "warnings": warnings}, fh, indent=2)
        os.replace(path + ".tmp", path)
        written = [path]
        if not args.no_plots:
            written += plots(mode, rows, args.out)
        print("\nwrote " + ", ".join(written))


if __name__ == "__main__":
    main()
