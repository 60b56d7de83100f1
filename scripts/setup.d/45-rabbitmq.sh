#!/usr/bin/env bash
# RabbitMQ from Debian: the message bus of the local Nova (scripts/local-cloud.sh start --compute).
# local-cloud.sh runs its own broker node (own node name, data dir and port under its state
# directory), so the Debian service is stopped and disabled here: it would hold port 5672 and
# the default node name. Idempotent: does nothing when rabbitmq-server is installed and stopped.
set -euo pipefail
if ! dpkg-query -W -f='${Status}' rabbitmq-server 2>/dev/null | grep -q 'install ok installed'; then
  echo "45-rabbitmq: installing rabbitmq-server" >&2
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
  apt-get install -y -qq --no-install-recommends rabbitmq-server >/dev/null
  [ "$added_policy" = 1 ] && rm -f "$policy"
fi
# Stop and disable the Debian service should anything have started it.
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  systemctl disable --now rabbitmq-server >/dev/null 2>&1 || true
elif [ -x /etc/init.d/rabbitmq-server ] && /etc/init.d/rabbitmq-server status >/dev/null 2>&1; then
  /etc/init.d/rabbitmq-server stop >/dev/null 2>&1 || true
fi
for tool in rabbitmq-server rabbitmqctl; do
  command -v "$tool" >/dev/null || { echo "45-rabbitmq: $tool missing after install" >&2; exit 1; }
done
echo "45-rabbitmq: rabbitmq-server $(dpkg-query -W -f='${Version}' rabbitmq-server) installed, Debian service not running" >&2
