#!/usr/bin/env bash
# Installs ansible-core in the range Kubespray (master) requires (>= 2.18, < 2.19) into a venv
# at $FLATCAR_KUBE_CACHE/ansible-venv, from PyPI. The generator's tests run its
# `ansible-inventory` against generated inventories. Idempotent: skips when already installed.
set -euo pipefail
cache=${FLATCAR_KUBE_CACHE:-$HOME/.cache/flatcar-kube}
venv="$cache/ansible-venv"
spec='ansible-core>=2.18,<2.19'

if [ -x "$venv/bin/python" ] && "$venv/bin/python" - <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
major, minor = (int(x) for x in version("ansible-core").split(".")[:2])
sys.exit(0 if (major, minor) == (2, 18) else 1)
PY
then
  echo "20-ansible: ansible-core $("$venv/bin/python" -c 'from importlib.metadata import version; print(version("ansible-core"))') already in $venv" >&2
  exit 0
fi

mkdir -p "$cache"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$spec"
# Fail here, not in the tests, when the install is unusable.
"$venv/bin/ansible-inventory" --version >/dev/null
echo "20-ansible: installed ansible-core $("$venv/bin/python" -c 'from importlib.metadata import version; print(version("ansible-core"))') in $venv" >&2
