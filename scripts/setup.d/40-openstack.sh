#!/usr/bin/env bash
# Installs real Keystone, Glance, Placement, Nova and Neutron (plus gunicorn, PyMySQL and the
# reference `openstack` CLI) into a Python 3.11 venv at $FLATCAR_KUBE_CACHE/openstack-venv, from the Python package registry.
# scripts/local-cloud.sh serves them on 127.0.0.1 for the provider's acceptance tests.
# Idempotent: a stamp file records the pinned versions; when it matches, this exits at once.
# Wheels are preferred (only simplegeneric, a pure-Python dependency of WSME, has none).
set -euo pipefail
cache=${FLATCAR_KUBE_CACHE:-$HOME/.cache/flatcar-kube}
venv="$cache/openstack-venv"
stamp="$venv/.flatcar-kube-stamp"
# Exact pins: the releases the local cloud was measured with (README "Local OpenStack for tests").
pins=(
  keystone==30.0.0
  glance==33.0.0
  openstack-placement==16.0.0
  nova==34.0.0
  neutron==29.0.0
  PyMySQL==1.1.2
  gunicorn==27.0.1
  python-openstackclient==10.5.0
  python-glanceclient==4.13.0
)
want="python3.11 ${pins[*]}"

if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "40-openstack: $want already in $venv" >&2
  exit 0
fi

python=$(command -v python3.11 || true)
if [ -z "$python" ]; then
  echo "40-openstack: python3.11 not found (the machine image provides it through pyenv)" >&2
  exit 1
fi

start=$SECONDS
# An existing Python 3.11 venv is extended in place (pip only adds the missing packages; the
# shared dependencies stay at their versions), so a cloud running from it keeps working.
# Anything else is rebuilt from scratch.
if ! [ -x "$venv/bin/python" ] ||
  ! "$venv/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
  rm -rf "$venv"
  mkdir -p "$cache"
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --prefer-binary "${pins[@]}"
# Fail here, not in the tests, when the install is unusable.
PYTHONWARNINGS=ignore "$venv/bin/python" - <<'PY'
import keystone.server.wsgi  # noqa: F401
import glance.common.wsgi_app  # noqa: F401
import gunicorn  # noqa: F401
import keystoneauth1  # noqa: F401
import placement.wsgi  # noqa: F401
import nova.api.openstack.wsgi_app  # noqa: F401
import neutron.server  # noqa: F401
import pymysql  # noqa: F401
PY
for tool in keystone-manage glance-manage gunicorn openstack glance placement-manage nova-manage \
  nova-conductor nova-scheduler nova-compute neutron-db-manage; do
  [ -x "$venv/bin/$tool" ] || { echo "40-openstack: $venv/bin/$tool missing after install" >&2; exit 1; }
done
printf '%s\n' "$want" >"$stamp"
echo "40-openstack: installed $want in $venv in $((SECONDS - start)) s" >&2
