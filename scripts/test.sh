#!/usr/bin/env bash
# One command for the whole suite: installs dependencies, builds (Release)
# and runs every test with ctest (unit tests, MPI tests under mpirun -np 2/4,
# integration tests of the hepgnn binary).
# Usage: scripts/test.sh [ctest args...], e.g. scripts/test.sh -L unit
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$here/scripts/install-deps.sh"
mkdir -p "$here/build"
"$here/scripts/build.sh"
cd "$here/build"
# Open MPI refuses to run as root unless told; CI runs as root.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
ctest --output-on-failure --timeout 1200 "$@"
