#!/usr/bin/env bash
# Benchmarks; each writes its own section of BENCHMARKS.md (measured in one run, side by side
# with its baseline). Starts the local cloud for the image benchmark and the fault tests.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
export FLATCAR_KUBE_CACHE=${FLATCAR_KUBE_CACHE:-$HOME/.cache/flatcar-kube}
cargo bench -p terraform-provider-flatcar --bench provider_overhead
# Plan of 100 resources vs the no-op provider and terraform_data (no cloud needed). Set
# FLATCAR_KUBE_BEFORE_PROVIDER to an older provider binary to add its row.
cargo build --release -p tfplugin --example noop_provider
cargo bench -p terraform-provider-flatcar --bench plan_floor
trap 'bash scripts/local-cloud.sh stop >/dev/null 2>&1 || true' EXIT
bash scripts/local-cloud.sh start --compute
export FLATCAR_KUBE_RELIABILITY_OUT
FLATCAR_KUBE_RELIABILITY_OUT=$(mktemp)
cargo nextest run -p terraform-provider-flatcar --test suite -E 'test(/^image_faults::/) | test(/^instance::/)'
cargo bench -p terraform-provider-flatcar --bench image_pipeline
cargo bench -p terraform-provider-flatcar --bench instances
