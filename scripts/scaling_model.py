#!/usr/bin/python3
"""Projects hepgnn's strong and weak scaling to many ranks from single-node measurements.

Model of one training step on P ranks, each with E edges of graphs:

    t(P, E) = t0 + E / rate                               compute (forward, backward, optimizer)
            + (buckets + small) * L(P)                    latency
            + (1 - overlap) * B(P) * n                    bandwidth
    ring allreduce of n bytes (alpha-beta model):
        T(P, n) = 2 (P-1) alpha + 2 (P-1)/P * n * beta,   so L(P) = 2 (P-1) alpha, B(P) = 2 (P-1)/P beta
    --algorithm rabenseifner (what MPI libraries use for mid-size messages):
        L(P) = 2 log2(P) alpha, B(P) the same as the ring

n = 4 * n_parameters bytes of float32 gradients (wl-stats.n_parameters), sent in
`buckets` allreduces (hepgnn: a first bucket of <= 1 MB, then <= distributed.bucket_mb);
`small` = the latency-only collectives of every step (hepgnn: the stop-request
allreduce, the allgather of edge counts and the loss allreduce: 3).
Throughput X(P) edges/s; speedup S = X(P) / X(1); efficiency S / P.
  weak scaling:   every rank steps E edges: X(P) = P E / t(P, E); efficiency t(1, E) / t(P, E)
  strong scaling: a global step of G edges (the same optimisation at every P) split over
                  the ranks: E(P) = max(G / P, g) with g the mean edges of one graph (a step
                  does not split graphs: beyond P = G / g ranks sit idle);
                  X(P) = G / t(P, E(P)); efficiency t(1, G) / (P t(P, E(P)))
The dominant term at each P is the largest of compute, latency and bandwidth.

Inputs: t0 and rate from a least-squares fit of t(E) = t0 + E/rate to single-rank
bench reports (step time = mean_epoch_time_s / steps_per_epoch minus the allreduce
stage, E = dataset.edges / steps_per_epoch), best with several
training.batch_edges values; or --t0 / --rate. alpha and beta from --alpha /
--beta, or fitted to wl-stats.allreduce = {"bytes": [...], "seconds": [...]} in
multi-rank reports (per-call allreduce timings), when present.

Assumptions (also printed with the results):
  - compute per rank depends only on its edges (nodes scale with edges; threads per
    rank fixed; no memory-bandwidth contention between ranks of a node);
  - perfect load balance (hepgnn's measured step imbalance is ~1.01-1.03: multiply
    compute by it with --imbalance);
  - the allreduce is not hidden behind backward (--overlap 0: with one bucket it
    cannot be; with several, the first ones overlap);
  - flat network: every ring hop costs alpha + bytes*beta, also between nodes of
    different switches; intra-node hops are not cheaper;
  - data loading is hidden (bench reports data_wait ~0).
Defaults for alpha and beta describe a typical InfiniBand EDR/HDR100 cluster
(100 Gb/s links): alpha = 5 us per message step (MPI software + wire), beta =
1e-10 s/byte (10 GB/s achieved per link).
"""
import argparse
import json
import math
import os
import statistics
import sys

from bench_reports import load_reports

ASSUMPTIONS = [
    "compute per rank depends only on its edges (fixed threads per rank, no contention between ranks)",
    "perfect load balance unless --imbalance is given",
    "gradient allreduce not overlapped with backward unless --overlap is given",
    "flat network: every hop costs alpha + bytes*beta (no faster intra-node links)",
    "data loading hidden behind compute",
]


def step_point(r):
    """(edges of one rank's step, seconds of compute per step) from a bench report."""
    s = r["wl-stats"]
    steps = s.get("steps_per_epoch")
    if not steps:
        return None
    p = s["world_size"]
    epoch = r["wl-scores"]["mean_epoch_time_s"]
    allreduce = s.get("stage_times_s", {}).get("allreduce_s", 0.0)
    return s["dataset"]["edges"] / (steps * p), (epoch - allreduce) / steps, epoch / steps


def fit_line(xs, ys):
    """Least squares y = a + b x."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return None
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    return my - b * mx, b


def fit_compute(reports, t0_flag, rate_flag):
    pts = [step_point(r) for r in reports if r["wl-stats"]["world_size"] == 1]
    pts = [p for p in pts if p]
    note = ""
    if rate_flag is not None:
        return (t0_flag or 0.0), rate_flag, pts, "given by --t0/--rate"
    if not pts:
        sys.exit("scaling_model: no single-rank bench report with steps_per_epoch; "
                 "give --rate (edges/s) and --t0 (s)")
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    distinct = len({round(x) for x in xs})
    if t0_flag is None and distinct >= 2:
        a, b = fit_line(xs, ys)
        if b > 0 and a >= 0:
            return a, 1.0 / b, pts, f"least-squares fit to {len(pts)} single-rank reports"
        note = f" (free fit gave t0={a:.3g} s, slope {b:.3g}: not physical; t0 fixed at 0)"
    t0 = t0_flag or 0.0
    # rate through the points with t0 fixed: minimise sum (y - t0 - x/rate)^2
    num = sum(x * x for x in xs)
    den = sum(x * (y - t0) for x, y in zip(xs, ys))
    if den <= 0:
        sys.exit("scaling_model: --t0 is larger than the measured step times")
    return t0, num / den, pts, f"rate fitted to {len(pts)} single-rank report(s) with t0 = {t0:g} s{note}"


def ring_terms(p, n_bytes, alpha, beta, algorithm):
    if p <= 1:
        return 0.0, 0.0
    lat = 2 * (p - 1) * alpha if algorithm == "ring" else 2 * math.log2(p) * alpha
    return lat, 2 * (p - 1) / p * n_bytes * beta


def fit_allreduce(reports):
    """alpha, beta from wl-stats.allreduce {"bytes": [...], "seconds": [...]} of P > 1 reports."""
    rows = []
    for r in reports:
        s = r["wl-stats"]
        a = s.get("allreduce")
        p = s["world_size"]
        if not isinstance(a, dict) or p < 2:
            continue
        for nb, sec in zip(a.get("bytes", []), a.get("seconds", [])):
            rows.append((2 * (p - 1), 2 * (p - 1) / p * nb, sec))
    if len(rows) < 2:
        return None
    # Relative errors: scale each row by 1/sec. The sizes span six orders of
    # magnitude, and absolute least squares lets the largest messages decide
    # alone (alpha came out 0 over TCP, where 8 B take 25 us).
    rows = [(u / y, v / y, 1.0) for u, v, y in rows if y > 0]
    if len(rows) < 2:
        return None
    # 2x2 normal equations for sec = alpha*u + beta*v
    suu = sum(u * u for u, v, y in rows)
    svv = sum(v * v for u, v, y in rows)
    suv = sum(u * v for u, v, y in rows)
    suy = sum(u * y for u, v, y in rows)
    svy = sum(v * y for u, v, y in rows)
    det = suu * svv - suv * suv
    if det > 0:
        alpha = (suy * svv - svy * suv) / det
        beta = (svy * suu - suy * suv) / det
        if alpha >= 0 and beta >= 0:
            return alpha, beta, len(rows)
    # one of them came out negative: fit the other alone
    alpha_only = max(0.0, suy / suu) if suu else 0.0
    beta_only = max(0.0, svy / svv) if svv else 0.0
    err_a = sum((y - alpha_only * u) ** 2 for u, v, y in rows)
    err_b = sum((y - beta_only * v) ** 2 for u, v, y in rows)
    return (alpha_only, 0.0, len(rows)) if err_a <= err_b else (0.0, beta_only, len(rows))


def n_buckets(n_bytes, bucket_mb, first_mb):
    first = first_mb * 1e6
    if n_bytes <= first:
        return 1
    return 1 + math.ceil((n_bytes - first) / (bucket_mb * 1e6))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("reports", nargs="*", help="bench report files or folders (single-rank ones with "
                    "several training.batch_edges for the compute fit; multi-rank ones to check the model)")
    ap.add_argument("--t0", type=float, help="fixed cost of a step, s [fitted; 0 with one batch size]")
    ap.add_argument("--rate", type=float, help="edges per second of one rank [fitted]")
    ap.add_argument("--alpha", type=float, help="latency per message step, s [measured, else 5e-6]")
    ap.add_argument("--beta", type=float, help="seconds per byte per link [measured, else 1e-10 = 10 GB/s]")
    ap.add_argument("--algorithm", choices=["ring", "rabenseifner"], default="ring",
                    help="allreduce latency model: ring 2(P-1)alpha, rabenseifner 2 log2(P) alpha [ring]")
    ap.add_argument("--params", type=int, help="model parameters [wl-stats.n_parameters, else 63425]")
    ap.add_argument("--bucket-mb", type=float, default=25.0, help="distributed.bucket_mb [25]")
    ap.add_argument("--first-bucket-mb", type=float, default=1.0, help="hepgnn's first bucket [1]")
    ap.add_argument("--small-collectives", type=int, default=3,
                    help="latency-only collectives per step [3]")
    ap.add_argument("--overlap", type=float, default=0.0, help="share of the gradient allreduce hidden "
                    "behind backward, 0..1 [0]")
    ap.add_argument("--imbalance", type=float, default=1.0, help="step imbalance (max/mean edges) that "
                    "multiplies compute [1]")
    ap.add_argument("--batch-edges", type=float, help="weak scaling: edges of one rank's step "
                    "[smallest measured single-rank step, else one graph]")
    ap.add_argument("--global-batch-edges", type=float, help="strong scaling: edges of one step over all "
                    "ranks [--strong-graphs graphs]")
    ap.add_argument("--strong-graphs", type=int, default=64,
                    help="strong scaling: default global step of this many graphs [64]")
    ap.add_argument("--graph-edges", type=float, help="edges of one graph, the smallest step of a rank "
                    "[dataset.edges / dataset.graphs of the reports, else 25000]")
    ap.add_argument("--max-ranks", type=int, default=1024, help="largest P (powers of 2) [1024]")
    ap.add_argument("--out", help="folder for scaling_model.json and scaling_model.png [no files]")
    args = ap.parse_args()

    reports = load_reports(args.reports, "scaling_model", required=False)
    t0, rate, pts, fit_note = fit_compute(reports, args.t0, args.rate)
    params = args.params or next((r["wl-stats"].get("n_parameters") for r in reports
                                  if r["wl-stats"].get("n_parameters")), 63425)
    n_bytes = 4 * params
    measured = fit_allreduce(reports)
    alpha_src = beta_src = "default (InfiniBand EDR/HDR100)"
    alpha, beta = 5e-6, 1e-10
    if measured:
        alpha, beta = measured[0], measured[1]
        alpha_src = beta_src = f"fitted to {measured[2]} measured allreduce calls (wl-stats.allreduce)"
    if args.alpha is not None:
        alpha, alpha_src = args.alpha, "--alpha"
    if args.beta is not None:
        beta, beta_src = args.beta, "--beta"
    buckets = n_buckets(n_bytes, args.bucket_mb, args.first_bucket_mb)
    graph_edges = args.graph_edges
    if graph_edges is None:
        ge = [r["wl-stats"]["dataset"]["edges"] / r["wl-stats"]["dataset"]["graphs"] for r in reports]
        graph_edges = statistics.median(ge) if ge else 25000.0
    weak_e = args.batch_edges or (min(p[0] for p in pts) if pts else graph_edges)
    global_e = args.global_batch_edges or graph_edges * args.strong_graphs

    def step(p, e):
        compute = t0 + args.imbalance * e / rate
        lat_one, bw = ring_terms(p, n_bytes, alpha, beta, args.algorithm)
        latency = (buckets + args.small_collectives) * lat_one
        bandwidth = (1 - args.overlap) * bw
        terms = {"compute": compute, "latency": latency, "bandwidth": bandwidth}
        return compute + latency + bandwidth, terms

    ranks = [2 ** k for k in range(int(math.log2(args.max_ranks)) + 1)]
    rows = []
    t1_weak = step(1, weak_e)[0]
    x1_strong = global_e / step(1, global_e)[0]
    for p in ranks:
        tw, terms_w = step(p, weak_e)
        es = max(global_e / p, graph_edges)
        ts, terms_s = step(p, es)
        xs = global_e / ts
        rows.append({
            "ranks": p,
            "weak": {"edges_per_rank": weak_e, "step_s": tw, "terms_s": terms_w,
                     "efficiency": t1_weak / tw, "dominant": max(terms_w, key=terms_w.get)},
            "strong": {"edges_per_rank": es, "step_s": ts, "terms_s": terms_s,
                       "speedup": xs / x1_strong, "efficiency": xs / x1_strong / p,
                       "dominant": max(terms_s, key=terms_s.get),
                       "graph_bound": global_e / p < graph_edges},
        })

    # Model check against measured multi-rank reports: per-rank step time.
    checks = []
    for r in reports:
        p = r["wl-stats"]["world_size"]
        sp = step_point(r)
        if p > 1 and sp:
            checks.append({"file": r["_file"], "ranks": p, "edges_per_rank": sp[0],
                           "measured_step_s": sp[2], "model_step_s": step(p, sp[0])[0],
                           "measured_allreduce_per_step_s":
                               r["wl-stats"].get("stage_times_s", {}).get("allreduce_s", 0.0)
                               / r["wl-stats"]["steps_per_epoch"]})

    lines = ["# hepgnn scaling model", "",
             f"compute: t(E) = {t0 * 1e3:.1f} ms + E / {rate:,.0f} edges/s  ({fit_note})"]
    for e, y, _ in pts:
        lines.append(f"  measured single rank: {e:,.0f} edges/step -> {y * 1e3:.1f} ms "
                     f"(model {(t0 + e / rate) * 1e3:.1f} ms)")
    lines += [f"allreduce: {args.algorithm}, alpha = {alpha * 1e6:.2f} us ({alpha_src}), "
              f"beta = {beta:.3g} s/B = {1 / beta / 1e9 if beta else float('inf'):.2f} GB/s ({beta_src})",
              f"gradients: {params:,} parameters = {n_bytes / 1e6:.3f} MB in {buckets} bucket(s), plus "
              f"{args.small_collectives} latency-only collectives per step; overlap {args.overlap:g}, "
              f"imbalance {args.imbalance:g}",
              f"weak: {weak_e:,.0f} edges per rank and step; strong: {global_e:,.0f} edges per global step "
              f"({global_e / graph_edges:.0f} graphs of {graph_edges:,.0f} edges; ranks beyond "
              f"{max(1, int(global_e // graph_edges))} get no graph)", "",
              "| ranks | weak step ms | weak eff | weak dominant | strong edges/rank | strong step ms "
              "| strong speedup | strong eff | strong dominant |",
              "|---:|---:|---:|---|---:|---:|---:|---:|---|"]
    for row in rows:
        w, s = row["weak"], row["strong"]
        lines.append(f"| {row['ranks']} | {w['step_s'] * 1e3:.1f} | {100 * w['efficiency']:.1f}% | "
                     f"{w['dominant']} | {s['edges_per_rank']:,.0f}{' (idle ranks)' if s['graph_bound'] else ''} | "
                     f"{s['step_s'] * 1e3:.1f} | {s['speedup']:.1f}x | {100 * s['efficiency']:.1f}% | "
                     f"{s['dominant']} |")
    for label in ("weak", "strong"):
        for cut in (0.8, 0.5):
            below = [row["ranks"] for row in rows if row[label]["efficiency"] < cut]
            lines.append(f"{label} efficiency below {int(cut * 100)}% from P = {below[0]}" if below
                         else f"{label} efficiency stays above {int(cut * 100)}% up to P = {ranks[-1]}")
    if checks:
        lines += ["", "model check (measured multi-rank reports; the allreduce stage also holds the wait "
                  "for the slowest rank):",
                  "| ranks | edges/rank | measured step ms | model step ms | measured allreduce ms/step | report |",
                  "|---:|---:|---:|---:|---:|---|"]
        for c in checks:
            lines.append(f"| {c['ranks']} | {c['edges_per_rank']:,.0f} | {c['measured_step_s'] * 1e3:.1f} | "
                         f"{c['model_step_s'] * 1e3:.1f} | {c['measured_allreduce_per_step_s'] * 1e3:.2f} | "
                         f"{os.path.basename(c['file'])} |")
    lines += ["", "assumptions:"] + [f"  - {a}" for a in ASSUMPTIONS]
    print("\n".join(lines))

    if args.out:
        os.makedirs(args.out, exist_ok=True)
        result = {"t0_s": t0, "rate_edges_per_s": rate, "fit": fit_note,
                  "fit_points": [{"edges": e, "compute_s": y} for e, y, _ in pts],
                  "alpha_s": alpha, "alpha_source": alpha_src, "beta_s_per_byte": beta, "beta_source": beta_src,
                  "algorithm": args.algorithm, "n_parameters": params, "gradient_bytes": n_bytes,
                  "buckets": buckets, "small_collectives": args.small_collectives, "overlap": args.overlap,
                  "imbalance": args.imbalance, "weak_edges_per_rank": weak_e, "strong_global_edges": global_e,
                  "graph_edges": graph_edges, "rows": rows, "checks": checks, "assumptions": ASSUMPTIONS}
        path = os.path.join(args.out, "scaling_model.json")
        with open(path + ".tmp", "w") as fh:
            json.dump(result, fh, indent=2)
        os.replace(path + ".tmp", path)
        png = os.path.join(args.out, "scaling_model.png")
        plot(rows, png, fit_note, alpha, beta, args.algorithm)
        print(f"\nwrote {path}, {png}")


def plot(rows, path, fit_note, alpha, beta, algorithm):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ps = [r["ranks"] for r in rows]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    ax1.plot(ps, [100 * r["weak"]["efficiency"] for r in rows], marker="o", label="weak")
    ax1.plot(ps, [100 * r["strong"]["efficiency"] for r in rows], marker="s", label="strong")
    ax1.set_ylim(0, 105)
    ax1.set_ylabel("parallel efficiency (%)")
    ax1.set_title(f"model: {algorithm} allreduce, alpha {alpha * 1e6:.1f} us, {1 / beta / 1e9 if beta else 0:.1f} GB/s",
                  fontsize=9)
    for label, style in (("weak", "-"), ("strong", "--")):
        for term, color in (("compute", "C0"), ("latency", "C3"), ("bandwidth", "C2")):
            pts = [(r["ranks"], 1e3 * r[label]["terms_s"][term]) for r in rows if r[label]["terms_s"][term] > 0]
            ax2.plot([p for p, _ in pts], [t for _, t in pts], style, color=color, label=f"{label}: {term}")
    ax2.set_yscale("log")
    ax2.set_ylabel("time per step (ms)")
    ax2.set_title("step time terms", fontsize=9)
    for ax in (ax1, ax2):
        ax.set_xscale("log", base=2)
        ax.set_xticks(ps)
        ax.set_xticklabels([str(p) for p in ps], fontsize=7)
        ax.set_xlabel("MPI ranks")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
