#!/usr/bin/env bash
# Installs everything the test suite needs beyond the machine image, idempotently.
# Each step lives in scripts/setup.d/NN-name.sh and is skipped when its stamp is current.
# Cached tools go under ${FLATCAR_KUBE_CACHE:-$HOME/.cache/flatcar-kube}.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export FLATCAR_KUBE_CACHE=${FLATCAR_KUBE_CACHE:-$HOME/.cache/flatcar-kube}
mkdir -p "$FLATCAR_KUBE_CACHE"
for step in "$here"/setup.d/*.sh; do
  [ -e "$step" ] || continue
  echo "setup: $(basename "$step")" >&2
  bash "$step"
done
