#!/usr/bin/env bash
# Installs kubernetes-validate (PyPI; offline JSON-schema validation of Kubernetes manifests,
# with the schemas of every Kubernetes minor it knows bundled) into the venv of 20-ansible.sh.
# The generator's tests validate the reboot coordinator's manifest with it for the Kubernetes
# version Kubespray installs. Pinned, so the set of bundled schemas does not move under the
# tests. Idempotent: skips when that version is already installed.
set -euo pipefail
cache=${FLATCAR_KUBE_CACHE:-$HOME/.cache/flatcar-kube}
venv="$cache/ansible-venv"
version='1.37.0'

if [ ! -x "$venv/bin/python" ]; then
  echo "21-kubernetes-validate: $venv is missing; run scripts/setup.d/20-ansible.sh first" >&2
  exit 1
fi
if "$venv/bin/python" - "$version" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if version("kubernetes-validate") == sys.argv[1] else 1)
PY
then
  echo "21-kubernetes-validate: kubernetes-validate $version already in $venv" >&2
  exit 0
fi

"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "kubernetes-validate==$version"
# Fail here, not in the tests, when the install is unusable.
"$venv/bin/kubernetes-validate" --help >/dev/null
echo "21-kubernetes-validate: installed kubernetes-validate $version in $venv" >&2
