#!/usr/bin/env bash
# Installs real OpenStack Designate (DNS as a service) into the venv of 40-openstack.sh, from the
# Python package registry, and bind9 (named, rndc, dig) from Debian: its pool backend.
# scripts/local-cloud/designate.sh serves them on 127.0.0.1 (start --compute).
# designate 23.0.0 resolves with the pins of 40-openstack.sh (keystone 30, nova 34, neutron 29):
# pip adds only designate itself, so it shares that venv (no own venv as Swift needs).
# local-cloud.sh runs its own named (own configuration, pid file and port under its state
# directory), so the Debian service is stopped and disabled here.
# Idempotent: a stamp file records the pinned version; when it matches and the Debian packages
# are installed, this exits at once.
set -euo pipefail
cache=${FLATCAR_KUBE_CACHE:-$HOME/.cache/flatcar-kube}
venv="$cache/openstack-venv"
stamp="$venv/.flatcar-kube-designate-stamp"
pins=(designate==23.0.0)
# The pins of 40-openstack.sh, so pip keeps the shared dependencies where they are.
base_pins=(
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
debs=(bind9 bind9-utils bind9-dnsutils)

missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "42-designate: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # Keep the package scripts from starting the service (restored afterwards).
  policy=/usr/sbin/policy-rc.d
  added_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    added_policy=1
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
  [ "$added_policy" = 1 ] && rm -f "$policy"
fi
# Stop and disable the Debian service should anything have started it.
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  systemctl disable --now named >/dev/null 2>&1 || true
elif [ -x /etc/init.d/named ] && /etc/init.d/named status >/dev/null 2>&1; then
  /etc/init.d/named stop >/dev/null 2>&1 || true
fi
for tool in /usr/sbin/named /usr/sbin/rndc /usr/sbin/rndc-confgen /usr/bin/dig; do
  [ -x "$tool" ] || { echo "42-designate: $tool missing after install" >&2; exit 1; }
done

if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "42-designate: $want already in $venv; bind9 $(dpkg-query -W -f='${Version}' bind9)" >&2
  exit 0
fi
[ -x "$venv/bin/python" ] || { echo "42-designate: no venv at $venv (40-openstack.sh first)" >&2; exit 1; }
start=$SECONDS
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --prefer-binary \
  "${base_pins[@]}" "${pins[@]}"
# Fail here, not in the local cloud, when the install is unusable.
PYTHONWARNINGS=ignore "$venv/bin/python" - <<'PY'
import designate.api.wsgi  # noqa: F401
import designate.backend.impl_bind9  # noqa: F401
import designate.cmd.central  # noqa: F401
import designate.cmd.mdns  # noqa: F401
PY
for tool in designate-manage designate-central designate-worker designate-producer designate-mdns; do
  [ -x "$venv/bin/$tool" ] || { echo "42-designate: $venv/bin/$tool missing after install" >&2; exit 1; }
done
printf '%s\n' "$want" >"$stamp"
echo "42-designate: installed $want in $venv in $((SECONDS - start)) s; bind9 $(dpkg-query -W -f='${Version}' bind9)" >&2
