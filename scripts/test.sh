#!/usr/bin/env bash
# The whole test suite: install what it needs, check format and lints, start the local cloud
# (real Keystone, Glance, Placement, Nova with the fake virt driver, Neutron on 127.0.0.1), run
# every test, stop the cloud.
# This is the README's test command; .ci/run runs exactly this.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
export FLATCAR_KUBE_CACHE=${FLATCAR_KUBE_CACHE:-$HOME/.cache/flatcar-kube}
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo build --workspace --locked --bins
# The OpenTofu conformance suite runs against the release build (what users install).
cargo build --release --locked -p terraform-provider-flatcar --bin terraform-provider-flatcar
export FLATCAR_KUBE_CONFORMANCE_PROVIDER=$PWD/target/release/terraform-provider-flatcar
if [ -n "${CARGO_TARGET_DIR:-}" ]; then
  FLATCAR_KUBE_CONFORMANCE_PROVIDER=$CARGO_TARGET_DIR/release/terraform-provider-flatcar
fi
# The cloud listens on fixed ports: `start` replaces a running one with fresh databases.
trap 'bash scripts/local-cloud.sh stop >/dev/null 2>&1 || true' EXIT
bash scripts/local-cloud.sh start --compute
cargo nextest run --workspace --locked --no-fail-fast
