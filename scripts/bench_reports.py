"""Reading `hepgnn bench --report` files: shared by scaling_report.py and scaling_model.py."""
import glob
import json
import os
import sys


def load_reports(paths, program, required=True):
    """Bench reports from files and folders of *.json (other JSON files are skipped);
    exits with one line naming `program` when a file cannot be read, or (required) none is found."""
    files = []
    for p in paths:
        files += sorted(glob.glob(os.path.join(p, "*.json"))) if os.path.isdir(p) else [p]
    reports = []
    for f in files:
        try:
            with open(f) as fh:
                r = json.load(fh)
        except (OSError, ValueError) as e:
            sys.exit(f"{program}: cannot read {f}: {e}")
        if isinstance(r, dict) and "wl-scores" in r and "wl-stats" in r:
            r["_file"] = f
            reports.append(r)
    if required and not reports:
        sys.exit(f"{program}: no bench reports (JSON with wl-scores and wl-stats) in " + " ".join(paths))
    return reports
