#!/usr/bin/env bash
# Installs every dependency of hepgnn from Debian 12 packages (plus the npm
# ONNX Runtime used only by the export tests). Idempotent: packages already
# present are skipped. Quiet on success, loud and non-zero on failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log="$(mktemp -t hepgnn-install.XXXXXX)"
trap 'rm -f "$log"' EXIT

fail() {
    echo "install-deps: $*" >&2
    echo "---- last lines of the install log ----" >&2
    tail -n 40 "$log" >&2 || true
    exit 1
}

packages=(
    build-essential cmake ccache pkg-config clang-format git
    clang libclang-rt-14-dev
    libtorch-dev libopenblas0-openmp
    libopenmpi-dev openmpi-bin
    libhdf5-dev libblosc-dev libyaml-cpp-dev
    googletest libgtest-dev libgmock-dev libbenchmark-dev
    libonnx-dev libprotobuf-dev protobuf-compiler
    libspdlog-dev libfmt-dev libcli11-dev nlohmann-json3-dev
    python3 python3-torch python3-h5py python3-matplotlib python3-numpy python3-onnx python3-jsonschema
    slurm-wlm slurmctld slurmd slurm-client munge libpmix2
    iproute2 util-linux
    nodejs
)
# nodesource's nodejs bundles npm and conflicts with Debian's npm package.
if ! command -v npm >/dev/null 2>&1; then packages+=(npm); fi

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi

if ((${#missing[@]})); then
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq >>"$log" 2>&1 || fail "apt-get update failed"
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$log" 2>&1 ||
        fail "apt-get install failed for: ${missing[*]}"
fi

# Debian's torch calls the system BLAS; make sure the OpenBLAS (OpenMP) variant
# is the selected alternative: the reference BLAS is ~20x slower (DESIGN §4).
arch_lib="/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)"
for alt in libblas.so.3 liblapack.so.3; do
    target="$arch_lib/openblas-openmp/$alt"
    name="$alt-$(basename "$arch_lib")"
    if [[ -e "$target" ]] && update-alternatives --query "$name" >/dev/null 2>&1; then
        current="$(update-alternatives --query "$name" | awk '/^Value:/{print $2}')"
        if [[ "$current" != "$target" ]]; then
            $SUDO update-alternatives --set "$name" "$target" >>"$log" 2>&1 ||
                fail "could not select OpenBLAS for $name"
        fi
    fi
done

# ONNX Runtime is not in Debian; the npm package runs models on CPU. Its install
# script tries to download GPU parts unless told to skip them.
ort_dir="$here/build/onnxruntime"
if command -v npm >/dev/null 2>&1 && [[ ! -d "$ort_dir/node_modules/onnxruntime-node" ]]; then
    mkdir -p "$ort_dir"
    (cd "$ort_dir" && ONNXRUNTIME_NODE_INSTALL=skip npm install --silent --no-audit --no-fund \
        onnxruntime-node@1 >>"$log" 2>&1) || fail "npm install onnxruntime-node failed"
fi
exit 0
