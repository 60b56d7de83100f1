#!/usr/bin/env bash
# Benchmarks; each writes its own section of BENCHMARKS.md (measured in one run, side by side
# with its baseline). Starts the local cloud for the image benchmark and the fault tests.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
export FLATCAR_KUBE_CACHE=${FLATCAR_KUBE_CACHE:-$HOME/.cache/flatcar-kube}
# `bash scripts/bench.sh reliability`: only the fault tests and their table (a few minutes).
only_reliability=
[ "${1:-}" = reliability ] && only_reliability=1
if [ -z "$only_reliability" ]; then
cargo bench -p terraform-provider-flatcar --bench provider_overhead
# Plan of 100 resources vs the no-op provider and terraform_data (no cloud needed). Set
# FLATCAR_KUBE_BEFORE_PROVIDER to an older provider binary to add its row.
cargo build --release -p tfplugin --example noop_provider
cargo bench -p terraform-provider-flatcar --bench plan_floor
fi
trap 'bash scripts/local-cloud.sh stop >/dev/null 2>&1 || true' EXIT
bash scripts/local-cloud.sh start --compute
export FLATCAR_KUBE_RELIABILITY_OUT
FLATCAR_KUBE_RELIABILITY_OUT=$(mktemp)
FLATCAR_KUBE_ACCEPTANCE=1 cargo nextest run -p terraform-provider-flatcar --test acceptance -E 'test(/^glance::image_faults::/) | test(/^nova::instance::/) | test(/^glance::image::two_workspaces/)'
if [ -n "$only_reliability" ]; then
  FLATCAR_KUBE_BENCH_RELIABILITY_ONLY=1 cargo bench -p terraform-provider-flatcar --bench image_pipeline
  exit 0
fi
cargo bench -p terraform-provider-flatcar --bench image_pipeline
cargo bench -p terraform-provider-flatcar --bench instances
