# shellcheck shell=bash
# RabbitMQ: the private broker node of the compute stack (127.0.0.1:5672, user nova; Debian
# package of setup.d/45-rabbitmq.sh, whose own service stays stopped) and its transport URL.
# shellcheck source-path=SCRIPTDIR source=settings.sh
[ -n "${local_cloud_settings:-}" ] || . "$(dirname -- "${BASH_SOURCE[0]}")/settings.sh"

# The oslo.messaging transport URL of Nova and Neutron.
rabbit_url() { echo "rabbit://nova:nova-secret@127.0.0.1:$rabbit_port/"; }

# Private RabbitMQ node: own node name, data dir, cookie (HOME) and ports; user nova.
start_rabbitmq() {
  local d="$state/rabbitmq" epmd_before
  [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || die "rabbitmq-server missing: run 'bash scripts/setup.sh' (setup.d/45-rabbitmq.sh)"
  mkdir -p "$d/mnesia" "$d/log"
  render rabbitmq.conf "$d/rabbitmq.conf" "RABBIT_PORT=$rabbit_port"
  echo '[].' >"$d/enabled_plugins"
  epmd_before=$(pgrep -x epmd || true)
  # The Debian wrapper in /usr/sbin switches to the rabbitmq user; the real script runs as us.
  start_daemon rabbitmq env HOME="$d" RABBITMQ_CONF_ENV_FILE=/dev/null \
    RABBITMQ_NODENAME="fk$rabbit_port@localhost" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT="$rabbit_port" RABBITMQ_DIST_PORT="$((rabbit_port + 20000))" \
    RABBITMQ_CONFIG_FILE="$d/rabbitmq.conf" RABBITMQ_ADVANCED_CONFIG_FILE="$d/advanced.config" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$d/enabled_plugins" RABBITMQ_MNESIA_BASE="$d/mnesia" \
    RABBITMQ_LOG_BASE="$d/log" RABBITMQ_LOGS=- RABBITMQ_PID_FILE="$d/rabbitmq.pid" \
    /usr/lib/rabbitmq/bin/rabbitmq-server
  # Remember an epmd the broker started, so `stop` ends it too.
  if [ -z "$epmd_before" ]; then
    (
      for _ in $(seq 50); do
        p=$(pgrep -x epmd || true)
        if [ -n "$p" ]; then
          echo "$p" >"$run/epmd.pid"
          break
        fi
        sleep 0.2
      done
    ) &
  fi
}
