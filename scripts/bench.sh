#!/usr/bin/env bash
# Benchmarks; each writes its own section of BENCHMARKS.md (measured in one run, side by side
# with its baseline).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
cargo bench -p terraform-provider-flatcar --bench provider_overhead
