#!/usr/bin/env bash
# Only the Nova/Neutron suites (they are part of scripts/test.sh too): flatcar_instance against
# real Nova (fake virt driver) and Neutron, and the `flatcar-kube up` flow. Starts the local
# cloud with its compute stack, runs the nextest profile `compute`, stops the cloud.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
export FLATCAR_KUBE_CACHE=${FLATCAR_KUBE_CACHE:-$HOME/.cache/flatcar-kube}
export FLATCAR_KUBE_ACCEPTANCE=1
cargo build --workspace --locked --bins
trap 'bash scripts/local-cloud.sh stop >/dev/null 2>&1 || true' EXIT
bash scripts/local-cloud.sh start --compute
cargo nextest run --workspace --locked --no-fail-fast --profile compute
