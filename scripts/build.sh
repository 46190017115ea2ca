#!/usr/bin/env bash
# Configures and builds hepgnn (Release by default) into build/ with at most
# 2 parallel jobs: one torch translation unit takes ~1.7 GB and 20-40 s.
# Usage: scripts/build.sh [extra cmake args...]   env: BUILD_DIR, BUILD_TYPE, JOBS
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${BUILD_DIR:-$here/build}"
mkdir -p "$build_dir"
cmake -S "$here" -B "$build_dir" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" "$@" >"$build_dir/configure.log" 2>&1 ||
    { cat "$build_dir/configure.log" >&2; echo "build: cmake configure failed" >&2; exit 1; }
cmake --build "$build_dir" -j "${JOBS:-2}"
