#!/usr/bin/env bash
# Installs real OpenStack Swift (proxy with its S3 API, account/container/object servers,
# swift-ring-builder) and keystonemiddleware into their own Python 3.11 venv at
# $FLATCAR_KUBE_CACHE/swift-venv, from the Python package registry; boto3 only for the local
# cloud's self-test (S3 PUT/GET/LIST/DELETE). scripts/local-cloud/swift.sh serves it on 127.0.0.1.
# Own venv: Swift pins eventlet and friends differently from the other services' venv.
# Idempotent: a stamp file records the pinned versions; when it matches, this exits at once.
set -euo pipefail
cache=${FLATCAR_KUBE_CACHE:-$HOME/.cache/flatcar-kube}
venv="$cache/swift-venv"
stamp="$venv/.flatcar-kube-stamp"
# Exact pins (pyeclib, eventlet and lxml come as wheels with them).
pins=(
  swift==2.38.3
  keystonemiddleware==13.0.1
  boto3==1.44.8
)
want="python3.11 ${pins[*]}"

if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "41-swift: $want already in $venv" >&2
  exit 0
fi

python=$(command -v python3.11 || true)
if [ -z "$python" ]; then
  echo "41-swift: python3.11 not found (the machine image provides it through pyenv)" >&2
  exit 1
fi

start=$SECONDS
# An existing Python 3.11 venv is extended in place; anything else is rebuilt from scratch.
if ! [ -x "$venv/bin/python" ] ||
  ! "$venv/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
  rm -rf "$venv"
  mkdir -p "$cache"
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --prefer-binary "${pins[@]}"
# Fail here, not in the local cloud, when the install is unusable.
PYTHONWARNINGS=ignore "$venv/bin/python" - <<'PY'
import swift.proxy.server  # noqa: F401
import swift.common.middleware.s3api.s3api  # noqa: F401
import swift.common.middleware.s3api.s3token  # noqa: F401
import keystonemiddleware.auth_token  # noqa: F401
import pyeclib  # noqa: F401
import boto3  # noqa: F401
PY
for tool in swift-ring-builder swift-proxy-server swift-account-server swift-container-server \
  swift-object-server; do
  [ -x "$venv/bin/$tool" ] || { echo "41-swift: $venv/bin/$tool missing after install" >&2; exit 1; }
done
printf '%s\n' "$want" >"$stamp"
echo "41-swift: installed $want in $venv in $((SECONDS - start)) s" >&2
