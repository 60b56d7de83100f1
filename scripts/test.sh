#!/usr/bin/env bash
# The whole test suite: install what it needs, check format and lints, start the local cloud
# (real Keystone, Glance, Swift, Placement, Nova with the fake virt driver, Neutron, Designate
# on 127.0.0.1), run every test, offline and acceptance, stop the cloud.
# FLATCAR_KUBE_ACCEPTANCE=1 turns the acceptance tests on: with it, a test whose needs are
# missing fails instead of skipping, so nothing is skipped here.
# This is the README's test command; .ci/run runs exactly this.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
export FLATCAR_KUBE_CACHE=${FLATCAR_KUBE_CACHE:-$HOME/.cache/flatcar-kube}
export FLATCAR_KUBE_ACCEPTANCE=1
# The cloud listens on fixed ports: `start` replaces a running one with fresh databases. It
# starts in the background while the workspace compiles (most of its start is waiting on
# Python services), and the tests wait for it.
cloud_start=
trap '[ -z "$cloud_start" ] || kill "$cloud_start" 2>/dev/null || true; bash scripts/local-cloud.sh stop >/dev/null 2>&1 || true' EXIT
cloud_log=$FLATCAR_KUBE_CACHE/cloud-start.log
mkdir -p "$FLATCAR_KUBE_CACHE"
bash scripts/local-cloud.sh start --compute >"$cloud_log" 2>&1 &
cloud_start=$!
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo build --workspace --locked --bins
# The OpenTofu conformance suite runs against the release build (what users install).
cargo build --release --locked -p terraform-provider-flatcar --bin terraform-provider-flatcar
export FLATCAR_KUBE_CONFORMANCE_PROVIDER=$PWD/target/release/terraform-provider-flatcar
if [ -n "${CARGO_TARGET_DIR:-}" ]; then
  FLATCAR_KUBE_CONFORMANCE_PROVIDER=$CARGO_TARGET_DIR/release/terraform-provider-flatcar
fi
if ! wait "$cloud_start"; then
  cat "$cloud_log" >&2
  echo "test.sh: the local cloud did not start (log above: $cloud_log)" >&2
  exit 1
fi
cat "$cloud_log"
cargo nextest run --workspace --locked --no-fail-fast
