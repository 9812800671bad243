#!/usr/bin/env bash
# GPU check for a lent device machine (no Rust toolchain there): build here with
#   cargo build --release
# then run this script on the device with `target/release/ferrodose` and `.gl`
# (the Vulkan loader packages, see the device notes) carried. It checks GPU
# against CPU parity and times the ion and photon pencil-beam kernels, the
# TG-119 influence-matrix builds (ion_influence, photon_influence kernels) and the
# optimiser's sparse matrix–vector products (TG-119, 2-arc VMAT) on both, at a
# small and at a full spot count; the output names the adapter. Copy the
# figures, with the card, into docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -d .gl ] && ! ldconfig -p | grep -q libvulkan; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
export WGPU_BACKEND="${WGPU_BACKEND:-vulkan}"
bin=target/release/ferrodose
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || true
"$bin" bench --device all --spots 1000 --repeat 3
"$bin" bench --device all --spots 20000 --repeat 3 --grid-mm 3
