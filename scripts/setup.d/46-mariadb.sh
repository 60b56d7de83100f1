#!/usr/bin/env bash
# MariaDB from Debian: the database of every local OpenStack service
# (scripts/local-cloud.sh). Several Nova processes on one sqlite file hit
# "database is locked" and Neutron's migrations fail on sqlite (measured; README "Local OpenStack for tests").
# local-cloud.sh runs its own server (private data dir, socket and port under its state
# directory), so the Debian service is stopped and disabled here.
# Idempotent: does nothing when mariadb-server is installed and stopped.
set -euo pipefail
if ! dpkg-query -W -f='${Status}' mariadb-server 2>/dev/null | grep -q 'install ok installed'; then
  echo "46-mariadb: installing mariadb-server" >&2
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
  apt-get install -y -qq --no-install-recommends mariadb-server >/dev/null
  [ "$added_policy" = 1 ] && rm -f "$policy"
fi
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  systemctl disable --now mariadb >/dev/null 2>&1 || true
elif [ -x /etc/init.d/mariadb ] && /etc/init.d/mariadb status >/dev/null 2>&1; then
  /etc/init.d/mariadb stop >/dev/null 2>&1 || true
fi
for tool in mariadbd mariadb-install-db mariadb-admin; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] ||
    { echo "46-mariadb: $tool missing after install" >&2; exit 1; }
done
echo "46-mariadb: mariadb-server $(dpkg-query -W -f='${Version}' mariadb-server) installed, Debian service not running" >&2
