#!/usr/bin/env bash
# The whole test suite: install what it needs, check format and lints, run every test.
# This is the README's test command; .ci/run runs exactly this.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
export FLATCAR_KUBE_CACHE=${FLATCAR_KUBE_CACHE:-$HOME/.cache/flatcar-kube}
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo build --workspace --locked --bins
cargo nextest run --workspace --locked --no-fail-fast
